/*
 * Token estimates (tokens.h): one pass over the bytes, pieces priced in
 * hundredths of a token, the sum scaled and rounded up.
 *
 * The prices were fitted against the real Qwen2.5 and Llama 2 tokenizers on
 * C, C++, Python, JavaScript/TypeScript, Go, Java, Rust, shell and Markdown
 * files so that the estimate of every file stays at or above its real count
 * while the typical file is over by as little as that allows; the fit and
 * its figures are in tests/tokens/.
 */
#include "gateway/tokens.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

/* Prices in hundredths of a token; *_div in hundredths of a character. */
typedef struct {
    uint32_t lead_underscore; /* '_' before a word ("_name"): often its own token */
    uint32_t lead_other;      /* '(' '.' '/' ... before a word: usually its own token */
    uint32_t upper_div;       /* an upper-case run: one token per this many letters */
    uint32_t word_div;        /* a lower-case (or capitalised) word: one per this many */
    uint32_t word_off;        /* ... less this, but never below one token */
    uint32_t consonant;       /* each consonant past the third in a row: a rare word */
    uint32_t punct_div;       /* a run of punctuation: one per this many characters */
    uint32_t punct_newline;   /* punctuation that ends a line */
    uint32_t space_div;       /* a run of spaces: one per this many */
    uint32_t newline_div;     /* a run of newlines: one per this many (1: no merges) */
    bool space_first;         /* SentencePiece puts a space before the text: a token of its
                                 own unless a word follows */
    uint32_t cjk;             /* a CJK ideograph, kana, hangul, a full-width form */
    uint32_t symbol;          /* general punctuation, arrows, mathematical, box drawing */
    uint32_t scale;           /* the sum times scale/100 */
} prices_t;

static const prices_t QWEN = {
    .lead_underscore = 0,
    .lead_other = 100,
    .upper_div = 250,
    .word_div = 450,
    .word_off = 60,
    .consonant = 100,
    .punct_div = 150,
    .punct_newline = 0,
    .space_div = 6400,
    .newline_div = 1600,
    .space_first = false,
    .cjk = 100,
    .symbol = 100,
    .scale = 100,
};

static const prices_t LLAMA = {
    .lead_underscore = 50,
    .lead_other = 100,
    .upper_div = 250,
    .word_div = 450,
    .word_off = 0,
    .consonant = 100,
    .punct_div = 150,
    .punct_newline = 100,
    .space_div = 1600,
    .newline_div = 100,
    .space_first = true,
    .cjk = 150,
    .symbol = 300,
    .scale = 104,
};

static bool is_upper(unsigned char c) {
    return c >= 'A' && c <= 'Z';
}
static bool is_ascii_letter(unsigned char c) {
    return is_upper(c) || (c >= 'a' && c <= 'z');
}
static bool is_digit(unsigned char c) {
    return c >= '0' && c <= '9';
}
static bool is_blank(unsigned char c) {
    return c == ' ' || c == '\t' || c == '\v' || c == '\f';
}
static bool is_newline(unsigned char c) {
    return c == '\n' || c == '\r';
}

static bool is_vowel(unsigned char c) {
    c |= 0x20;
    return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u' || c == 'y';
}

/* The length of a valid UTF-8 character of two to four bytes at s[i], or 0. */
static size_t multibyte_at(const unsigned char *s, size_t i, size_t n) {
    size_t len = s[i] >= 0xc2 && s[i] <= 0xdf   ? 2
                 : s[i] >= 0xe0 && s[i] <= 0xef ? 3
                 : s[i] >= 0xf0 && s[i] <= 0xf4 ? 4
                                                : 0;
    if (len == 0 || i + len > n)
        return 0;
    for (size_t k = 1; k < len; k++)
        if ((s[i + k] & 0xc0) != 0x80)
            return 0;
    return len;
}

/* A two-byte character of the Latin, Greek and Cyrillic blocks (U+0080 to
 * U+02FF, U+0370 to U+04FF) belongs to words like a letter: those scripts
 * merge into words too.  Combining marks and the scripts after Cyrillic are
 * rare in these vocabularies and priced by their bytes. */
static size_t letter_at(const unsigned char *s, size_t i, size_t n) {
    if (is_ascii_letter(s[i]))
        return 1;
    if (((s[i] >= 0xc2 && s[i] <= 0xcb) || (s[i] >= 0xce && s[i] <= 0xd3)) &&
        multibyte_at(s, i, n) == 2)
        return 2;
    return 0;
}

/* The price of a character of two bytes that is not a letter, or of three or
 * four: what the vocabularies know well (CJK, kana, hangul, common symbols)
 * costs its family's price, anything else a token a byte. */
static uint64_t multibyte_price(const prices_t *p, const unsigned char *s, size_t len) {
    if (len != 3)
        return 100 * len;
    uint32_t cp = (uint32_t)(s[0] & 0x0f) << 12 | (uint32_t)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
    if ((cp >= 0x3000 && cp <= 0x30ff) || (cp >= 0x3400 && cp <= 0x4dbf) ||
        (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0xac00 && cp <= 0xd7af) ||
        (cp >= 0xff00 && cp <= 0xffef))
        return p->cjk;
    if ((cp >= 0x2000 && cp <= 0x206f) || (cp >= 0x2190 && cp <= 0x22ff) ||
        (cp >= 0x2500 && cp <= 0x257f))
        return p->symbol;
    return 300;
}

static uint64_t at_least_one(uint64_t hundredths) {
    return hundredths < 100 ? 100 : hundredths;
}

/* The price of the word s[from, to): its upper-case runs and its lower-case
 * (or capitalised) parts, split where the case changes ("parseHTTPHeader" is
 * parse, HTTP, Header). */
static uint64_t word_price(const prices_t *p, const unsigned char *s, size_t from, size_t to) {
    uint64_t total = 0;
    size_t i = from;
    while (i < to) {
        size_t start = i, letters = 0;
        if (is_upper(s[i]) && i + 1 < to && is_upper(s[i + 1])) {
            /* an upper-case run, less its last letter when that starts a word */
            while (i < to && is_upper(s[i]) && !(i + 1 < to && !is_upper(s[i + 1])))
                i++, letters++;
            total += at_least_one(letters * 10000 / p->upper_div);
            continue;
        }
        uint64_t consonants = 0, extra = 0;
        while (i < to && (i == start || !is_upper(s[i]))) {
            size_t w = letter_at(s, i, to);
            if (w != 1) { /* a two-byte letter: counted by its bytes, no vowel rule */
                w = 2;
                consonants = 0;
                /* Latin letters with diacritics (U+00C0-U+017F) break the
                 * merges of the words around them */
                if (s[i] >= 0xc3 && s[i] <= 0xc5)
                    extra++;
            } else if (is_vowel(s[i])) {
                consonants = 0;
            } else if (++consonants > 3) {
                extra++;
            }
            i += w;
            letters += w;
        }
        uint64_t base = letters * 10000 / p->word_div;
        base = base > p->word_off ? base - p->word_off : 0;
        total += at_least_one(base) + extra * p->consonant;
    }
    return total;
}

static uint64_t estimate_with(const prices_t *p, const unsigned char *s, size_t n) {
    uint64_t total = p->space_first && !is_ascii_letter(s[0]) && s[0] != ' ' ? 100 : 0;
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        size_t wide;
        if (is_digit(c)) { /* every digit is a token in these vocabularies */
            total += 100;
            i++;
        } else if (letter_at(s, i, n) ||
                   ((c == ' ' || (c < 0x80 && !is_blank(c) && !is_newline(c))) && i + 1 < n &&
                    letter_at(s, i + 1, n))) {
            /* a word, with the one space or punctuation character before it */
            size_t from = i;
            if (!letter_at(s, i, n)) {
                total += c == ' ' ? 0 : c == '_' ? p->lead_underscore : p->lead_other;
                from = ++i;
            }
            size_t w;
            while (i < n && (w = letter_at(s, i, n)) > 0)
                i += w;
            total += word_price(p, s, from, i);
        } else if ((wide = multibyte_at(s, i, n)) > 0) {
            total += multibyte_price(p, s + i, wide);
            i += wide;
        } else if (is_blank(c) || is_newline(c)) {
            size_t end = i, newlines = 0;
            while (end < n && (is_blank(s[end]) || is_newline(s[end]))) {
                newlines += is_newline(s[end]);
                end++;
            }
            /* the last space goes with the word or punctuation after it */
            bool punct_next = end < n && s[end] < 0x80 && !is_ascii_letter(s[end]) &&
                              !is_digit(s[end]) && !is_blank(s[end]) && !is_newline(s[end]);
            if (end < n && s[end - 1] == ' ' && (end - 1 > i || punct_next))
                end--;
            if (end == i) { /* a lone space before punctuation: part of it */
                i++;
                continue;
            }
            if (newlines)
                total += 100 * ((newlines * 100 + p->newline_div - 1) / p->newline_div);
            /* every stretch of blanks in the run: before, between and after
             * the newlines (trailing spaces, blank lines' indentation) */
            for (size_t at = i; at < end;) {
                size_t blanks = 0;
                while (at < end && is_blank(s[at]))
                    at++, blanks++;
                if (blanks)
                    total += 100 * ((blanks * 100 + p->space_div - 1) / p->space_div);
                while (at < end && is_newline(s[at]))
                    at++;
            }
            i = end;
        } else if (c >= 0x80) { /* a byte of no valid character: a byte token */
            total += 100;
            i++;
        } else {
            /* punctuation, less its last character when a word follows */
            size_t end = i + 1;
            while (end < n && s[end] < 0x80 && !is_ascii_letter(s[end]) && !is_digit(s[end]) &&
                   !is_blank(s[end]) && !is_newline(s[end]))
                end++;
            if (end < n && letter_at(s, end, n) && end - 1 > i)
                end--;
            total += at_least_one((end - i) * 10000 / p->punct_div);
            if (end < n && is_newline(s[end]))
                total += p->punct_newline;
            i = end;
        }
    }
    /* the scale adds whole tokens only, so that a short text is not rounded up */
    if (p->scale > 100)
        total += total * (p->scale - 100) / 10000 * 100;
    else
        total = total * p->scale / 100;
    uint64_t tokens = (total + 99) / 100;
    /* no tokenizer of these makes more than a token a byte (and the space
     * SentencePiece puts before the text) */
    uint64_t most = n + (p->space_first ? 1 : 0);
    return tokens > most ? most : tokens;
}

size_t tokens_estimate(tokens_family_t family, const char *text, size_t len) {
    if (len == 0 || text == NULL)
        return 0;
    const unsigned char *s = (const unsigned char *)text;
    if (family == TOKENS_QWEN)
        return (size_t)estimate_with(&QWEN, s, len);
    if (family == TOKENS_LLAMA)
        return (size_t)estimate_with(&LLAMA, s, len);
    uint64_t qwen = estimate_with(&QWEN, s, len), llama = estimate_with(&LLAMA, s, len);
    return (size_t)(qwen > llama ? qwen : llama);
}

static bool contains_word(const char *haystack, const char *needle) {
    size_t n = strlen(needle);
    for (const char *p = haystack; *p; p++)
        if (strncasecmp(p, needle, n) == 0)
            return true;
    return false;
}

tokens_family_t tokens_family_for_model(const char *model) {
    if (model == NULL)
        return TOKENS_ANY;
    /* the name's last path component, without the tag */
    const char *base = strrchr(model, '/');
    base = base ? base + 1 : model;
    char name[128];
    size_t n = strcspn(base, ":");
    if (n >= sizeof name)
        n = sizeof name - 1;
    memcpy(name, base, n);
    name[n] = '\0';
    if (contains_word(name, "codeqwen"))
        return TOKENS_ANY; /* CodeQwen1.5 has a tokenizer of its own */
    if (contains_word(name, "qwen"))
        return TOKENS_QWEN;
    if (contains_word(name, "codellama") || contains_word(name, "code-llama"))
        return TOKENS_LLAMA;
    return TOKENS_ANY;
}
