/*
 * subword: the identifier scanner and splitter (see subword.h for the rules).
 *
 * The scanner is one pass over the bytes with a 256-entry class table for
 * ASCII; a non-ASCII byte starts a UTF-8 decode that either yields a code
 * point (letter or not) or rejects the byte alone, so a decode never reads
 * past len and invalid input only costs the byte it sits on.  An identifier
 * is at most SUBWORD_IDENT_MAX bytes, which bounds the stack buffers the
 * tokens are built in: nothing is allocated per token.
 *
 * The keyword set is an open-addressing hash table filled once (pthread_once)
 * from a static list; it holds each keyword as written and its folded form
 * (lower case, `_` and `$` removed), so both original identifiers and tokens
 * can be tested with one probe sequence.
 */
#include "proto/code/subword.h"

#include "proto/code/ident.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Character classes of ASCII bytes, which ident.h's rule decides (letters,
 * digits, `_` and `$` are in identifiers), split further by the role each
 * plays in sub-words; non-ASCII bytes are decoded instead. */
enum {
    CLASS_OTHER = 0, /* ends an identifier, never in one */
    CLASS_LOWER,     /* a-z */
    CLASS_UPPER,     /* A-Z */
    CLASS_DIGIT,     /* 0-9: continues an identifier, starts a number */
    CLASS_SEP,       /* _ $: in identifiers, split parts, dropped from tokens */
    CLASS_HIGH,      /* byte >= 0x80 */
};

static const unsigned char char_class[256] = {
    ['a' ... 'z'] = CLASS_LOWER, ['A' ... 'Z'] = CLASS_UPPER, ['0' ... '9'] = CLASS_DIGIT,
    ['_'] = CLASS_SEP,           ['$'] = CLASS_SEP,           [0x80 ... 0xff] = CLASS_HIGH,
};

/* ---- splitting ---- */

/* Classes used for splitting: non-ASCII counts as lower case, any ASCII byte
 * that is not a letter or digit as a separator. */
enum { SPLIT_SEP = 0, SPLIT_LOWER, SPLIT_UPPER, SPLIT_DIGIT };

static const unsigned char split_class[256] = {
    ['a' ... 'z'] = SPLIT_LOWER,
    ['A' ... 'Z'] = SPLIT_UPPER,
    ['0' ... '9'] = SPLIT_DIGIT,
    [0x80 ... 0xff] = SPLIT_LOWER,
};

int subword_split(const char *ident, size_t len, size_t *offsets, size_t *lengths, size_t max) {
    if ((!ident && len) || !offsets || !lengths)
        return -EINVAL;
    if (max == 0)
        return 0;
    const unsigned char *s = (const unsigned char *)ident;
    size_t count = 0, start = 0, end = 0;
    bool in_part = false;
    int prev = SPLIT_SEP; /* class of s[k-1] */
    for (size_t k = 0; k < len; k++) {
        int cls = split_class[s[k]];
        if (cls == SPLIT_SEP) {
            /* a separator ends a part, except the last slot's, which absorbs the rest */
            if (in_part && count < max - 1) {
                offsets[count] = start, lengths[count] = k - start, count++;
                in_part = false;
            }
        } else if (!in_part) {
            start = k, in_part = true;
        } else if (count < max - 1) {
            bool boundary = false;
            if (prev == SPLIT_LOWER && cls == SPLIT_UPPER)
                boundary = true; /* camelCase */
            else if ((prev == SPLIT_DIGIT) != (cls == SPLIT_DIGIT))
                boundary = true; /* json2text, int64 */
            else if (prev == SPLIT_UPPER && cls == SPLIT_UPPER && k + 1 < len &&
                     split_class[s[k + 1]] == SPLIT_LOWER)
                boundary = true; /* HTTPServer: the S starts a new word */
            if (boundary) {
                offsets[count] = start, lengths[count] = k - start, count++;
                start = k;
            }
        }
        if (cls != SPLIT_SEP)
            end = k + 1;
        prev = cls;
    }
    if (in_part)
        offsets[count] = start, lengths[count] = end - start, count++;
    return (int)count;
}

/* ---- keywords ---- */

static const char *const keyword_list[] = {
    /* C, C++, preprocessor */
    "auto",
    "break",
    "case",
    "char",
    "const",
    "continue",
    "default",
    "do",
    "double",
    "else",
    "enum",
    "extern",
    "float",
    "for",
    "goto",
    "if",
    "inline",
    "int",
    "long",
    "register",
    "restrict",
    "return",
    "short",
    "signed",
    "sizeof",
    "static",
    "struct",
    "switch",
    "typedef",
    "union",
    "unsigned",
    "void",
    "volatile",
    "while",
    "_Bool",
    "_Complex",
    "_Alignas",
    "_Alignof",
    "_Atomic",
    "_Generic",
    "_Noreturn",
    "_Static_assert",
    "_Thread_local",
    "bool",
    "true",
    "false",
    "TRUE",
    "FALSE",
    "NULL",
    "nullptr",
    "class",
    "namespace",
    "template",
    "typename",
    "public",
    "private",
    "protected",
    "virtual",
    "override",
    "new",
    "delete",
    "operator",
    "friend",
    "using",
    "this",
    "throw",
    "try",
    "catch",
    "constexpr",
    "noexcept",
    "explicit",
    "mutable",
    "static_cast",
    "dynamic_cast",
    "reinterpret_cast",
    "const_cast",
    "decltype",
    "include",
    "define",
    "ifdef",
    "ifndef",
    "endif",
    "undef",
    "pragma",
    "elif",
    "size_t",
    "int8_t",
    "int16_t",
    "int32_t",
    "int64_t",
    "uint8_t",
    "uint16_t",
    "uint32_t",
    "uint64_t",
    "std",
    /* Python */
    "False",
    "None",
    "True",
    "and",
    "as",
    "assert",
    "async",
    "await",
    "def",
    "del",
    "except",
    "finally",
    "from",
    "global",
    "import",
    "in",
    "is",
    "lambda",
    "nonlocal",
    "not",
    "or",
    "pass",
    "raise",
    "with",
    "yield",
    "self",
    "cls",
    "match",
    /* JavaScript, TypeScript */
    "debugger",
    "export",
    "extends",
    "function",
    "instanceof",
    "let",
    "super",
    "typeof",
    "var",
    "of",
    "null",
    "undefined",
    "interface",
    "type",
    "implements",
    "package",
    "readonly",
    "declare",
    "abstract",
    "any",
    "boolean",
    "number",
    "string",
    "never",
    "unknown",
    "keyof",
    "require",
    /* Go */
    "chan",
    "defer",
    "fallthrough",
    "func",
    "go",
    "map",
    "range",
    "select",
    "nil",
    "iota",
    "make",
    "len",
    "cap",
    "append",
    "byte",
    "rune",
    "uint",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "uintptr",
    "float32",
    "float64",
    "err",
    /* Java */
    "final",
    "native",
    "strictfp",
    "synchronized",
    "throws",
    "transient",
    "record",
    "String",
    "Object",
    /* Rust */
    "crate",
    "dyn",
    "fn",
    "impl",
    "loop",
    "mod",
    "move",
    "mut",
    "pub",
    "ref",
    "Self",
    "trait",
    "unsafe",
    "use",
    "where",
    "Some",
    "Ok",
    "Err",
    "i8",
    "i16",
    "i32",
    "i64",
    "i128",
    "u8",
    "u16",
    "u32",
    "u64",
    "u128",
    "isize",
    "usize",
    "f32",
    "f64",
    "str",
};

#define KEYWORD_SLOTS 1024 /* power of two, > 2 * (originals + folded forms) */
#define KEYWORD_MAX 24     /* longer words are never keywords */

static const char *keyword_slot[KEYWORD_SLOTS];
static unsigned char keyword_slot_len[KEYWORD_SLOTS];
static char keyword_folded[4096]; /* storage of the folded forms */
static pthread_once_t keyword_once = PTHREAD_ONCE_INIT;
static uint64_t keyword_filter[64]; /* bit per (first byte, last byte, length) class of keywords */

/* Cheap class of a word for keyword_filter: most identifiers that are not
 * keywords fall into a class no keyword has and skip the hash probe. */
static inline unsigned keyword_filter_bit(const unsigned char *s, size_t n) {
    return ((unsigned)s[0] * 31u + (unsigned)s[n - 1] * 131u + (unsigned)n * 7u) & 4095u;
}

static uint32_t keyword_hash(const char *s, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t k = 0; k < n; k++)
        h = (h ^ (unsigned char)s[k]) * 16777619u;
    return h;
}

static bool keyword_find(const char *s, size_t n) {
    for (uint32_t i = keyword_hash(s, n) & (KEYWORD_SLOTS - 1);;
         i = (i + 1) & (KEYWORD_SLOTS - 1)) {
        if (!keyword_slot[i])
            return false;
        if (keyword_slot_len[i] == n && memcmp(keyword_slot[i], s, n) == 0)
            return true;
    }
}

static void keyword_add(const char *s, size_t n) {
    if (n == 0 || n > KEYWORD_MAX || keyword_find(s, n))
        return;
    uint32_t i = keyword_hash(s, n) & (KEYWORD_SLOTS - 1);
    while (keyword_slot[i])
        i = (i + 1) & (KEYWORD_SLOTS - 1);
    keyword_slot[i] = s;
    keyword_slot_len[i] = (unsigned char)n;
    unsigned bit = keyword_filter_bit((const unsigned char *)s, n);
    keyword_filter[bit / 64] |= 1ull << (bit % 64);
}

static void keyword_init(void) {
    size_t used = 0;
    for (size_t w = 0; w < sizeof keyword_list / sizeof keyword_list[0]; w++) {
        const char *word = keyword_list[w];
        size_t n = strlen(word);
        keyword_add(word, n);
        char *folded = keyword_folded + used;
        size_t m = 0;
        for (size_t k = 0; k < n && used + m < sizeof keyword_folded; k++) {
            unsigned char c = (unsigned char)word[k];
            if (char_class[c] == CLASS_SEP)
                continue;
            folded[m++] = (char)(char_class[c] == CLASS_UPPER ? c + 32 : c);
        }
        if (used + m >= sizeof keyword_folded)
            continue; /* cannot happen with this list; never overflow if it grows */
        if (!keyword_find(folded, m)) {
            keyword_add(folded, m);
            used += m;
        }
    }
}

bool subword_is_keyword(const char *word, size_t len) {
    if (!word || len < 2 || len > KEYWORD_MAX)
        return false;
    pthread_once(&keyword_once, keyword_init);
    unsigned bit = keyword_filter_bit((const unsigned char *)word, len);
    if (!(keyword_filter[bit / 64] >> (bit % 64) & 1))
        return false;
    return keyword_find(word, len);
}

/* ---- scanning ---- */

/* Lower-cases ASCII and drops separators from s[0..n) into out; returns the length. */
static size_t fold_into(char *out, const unsigned char *s, size_t n) {
    size_t m = 0;
    for (size_t k = 0; k < n; k++) {
        unsigned char c = s[k];
        int cls = char_class[c];
        if (cls == CLASS_SEP || cls == CLASS_OTHER)
            continue;
        out[m++] = (char)(cls == CLASS_UPPER ? c + 32 : c);
    }
    out[m] = '\0';
    return m;
}

/* Emits the tokens of one identifier s[0..n); returns the callback's stop value or 0. */
static int scan_identifier(const unsigned char *s, size_t n, unsigned flags, subword_fn fn,
                           void *arg) {
    char whole[SUBWORD_IDENT_MAX + 1], part[SUBWORD_IDENT_MAX + 1];
    size_t offsets[SUBWORD_PARTS_MAX], lengths[SUBWORD_PARTS_MAX];
    if (n > SUBWORD_IDENT_MAX)
        return 0;
    int parts = subword_split((const char *)s, n, offsets, lengths, SUBWORD_PARTS_MAX);
    if (parts <= 0)
        return 0; /* only separators */
    /* the whole token is the folded parts end to end; remember where each lands */
    size_t len = 0;
    for (int p = 0; p < parts; p++) {
        size_t folded = fold_into(whole + len, s + offsets[p], lengths[p]);
        offsets[p] = len, lengths[p] = folded;
        len += folded;
    }
    subword_token_t token = {.ident = (const char *)s, .ident_len = n, .len = len};
    token.keyword = subword_is_keyword((const char *)s, n);
    if (token.keyword && (flags & SUBWORD_SKIP_KEYWORDS))
        return 0;
    token.parts = (unsigned)parts;
    bool skip_single = flags & SUBWORD_SKIP_SINGLE;
    if ((flags & SUBWORD_WHOLE) && !(skip_single && token.len == 1)) {
        token.text = whole;
        token.kind = SUBWORD_KIND_WHOLE;
        token.part = 0;
        int rc = fn(&token, arg);
        if (rc)
            return rc;
    }
    if (!(flags & SUBWORD_PARTS) || parts < 2)
        return 0;
    token.kind = SUBWORD_KIND_PART;
    token.text = part;
    for (int p = 0; p < parts; p++) {
        token.len = lengths[p];
        if (token.len == 0 || (skip_single && token.len == 1))
            continue;
        memcpy(part, whole + offsets[p], token.len);
        part[token.len] = '\0';
        token.part = (unsigned)p;
        int rc = fn(&token, arg);
        if (rc)
            return rc;
    }
    return 0;
}

static int scan_text(const unsigned char *s, size_t len, unsigned flags, subword_fn fn, void *arg) {
    size_t i = 0;
    while (i < len) {
        int cls = char_class[s[i]];
        if (cls == CLASS_OTHER) {
            i++;
            continue;
        }
        if (cls == CLASS_DIGIT) {
            /* a number with its suffix or radix letters: 0x1F, 1e9, 64u */
            while (i < len && char_class[s[i]] != CLASS_OTHER && char_class[s[i]] != CLASS_HIGH)
                i++;
            continue;
        }
        if (cls == CLASS_HIGH) {
            size_t k = ident_char_len((const char *)s + i, len - i);
            if (k == 0) {
                i++; /* invalid byte or a symbol's first byte; the rest is skipped in turn */
                continue;
            }
        }
        size_t start = i;
        while (i < len) {
            int c = char_class[s[i]];
            if (c == CLASS_OTHER)
                break;
            if (c == CLASS_HIGH) {
                size_t k = ident_char_len((const char *)s + i, len - i);
                if (k == 0)
                    break;
                i += k;
            } else {
                i++;
            }
        }
        int rc = scan_identifier(s + start, i - start, flags, fn, arg);
        if (rc)
            return rc;
    }
    return 0;
}

/* ---- unique tokens ---- */

/* A set of token hashes (open addressing, at most half full) in front of the
 * caller's callback; allocated once per scan, grown by doubling. */
typedef struct {
    uint64_t *slots; /* 0 = empty */
    size_t capacity; /* power of two */
    size_t count;    /* occupied slots */
    subword_fn fn;   /* the caller's callback and argument */
    void *arg;
} unique_t;

static uint64_t token_hash(const char *s, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t k = 0; k < n; k++)
        h = (h ^ (unsigned char)s[k]) * 0x100000001b3ull;
    h ^= h >> 32;
    return h ? h : 1;
}

static bool unique_insert(uint64_t *slots, size_t capacity, uint64_t h) {
    size_t i = (size_t)(h * 0x9e3779b97f4a7c15ull >> 32) & (capacity - 1);
    for (; slots[i]; i = (i + 1) & (capacity - 1))
        if (slots[i] == h)
            return false;
    slots[i] = h;
    return true;
}

static int unique_token(const subword_token_t *token, void *arg) {
    unique_t *u = arg;
    if (u->count + 1 > u->capacity / 2) {
        size_t capacity = u->capacity * 2;
        uint64_t *slots = calloc(capacity, sizeof *slots);
        if (!slots)
            return -ENOMEM;
        for (size_t i = 0; i < u->capacity; i++)
            if (u->slots[i])
                unique_insert(slots, capacity, u->slots[i]);
        free(u->slots);
        u->slots = slots, u->capacity = capacity;
    }
    if (!unique_insert(u->slots, u->capacity, token_hash(token->text, token->len)))
        return 0;
    u->count++;
    return u->fn(token, u->arg);
}

int subword_scan(const char *text, size_t len, unsigned flags, subword_fn fn, void *arg) {
    if (!fn || (!text && len))
        return -EINVAL;
    if ((flags & (SUBWORD_WHOLE | SUBWORD_PARTS)) == 0)
        flags |= SUBWORD_DEFAULT;
    if (!(flags & SUBWORD_UNIQUE))
        return scan_text((const unsigned char *)text, len, flags, fn, arg);
    unique_t u = {.capacity = 256, .fn = fn, .arg = arg};
    u.slots = calloc(u.capacity, sizeof *u.slots);
    if (!u.slots)
        return -ENOMEM;
    int rc = scan_text((const unsigned char *)text, len, flags, unique_token, &u);
    free(u.slots);
    return rc;
}

/* ---- rendering ---- */

typedef struct {
    char *out;     /* destination; NUL-terminated at all times */
    size_t cap;    /* bytes available at out */
    size_t used;   /* bytes written, excluding the NUL */
    bool grow;     /* out is a heap buffer we may realloc */
    bool overflow; /* a token did not fit (fixed buffer) or realloc failed */
} render_state_t;

static int render_token(const subword_token_t *token, void *arg) {
    render_state_t *st = arg;
    size_t need = st->used + (st->used ? 1 : 0) + token->len + 1;
    if (need > st->cap) {
        if (!st->grow) {
            st->overflow = true;
            return 1;
        }
        size_t cap = st->cap * 2 > need ? st->cap * 2 : need;
        char *bigger = realloc(st->out, cap);
        if (!bigger) {
            st->overflow = true;
            return 1;
        }
        st->out = bigger, st->cap = cap;
    }
    if (st->used)
        st->out[st->used++] = ' ';
    memcpy(st->out + st->used, token->text, token->len);
    st->used += token->len;
    st->out[st->used] = '\0';
    return 0;
}

int subword_render(const char *text, size_t len, unsigned flags, char *out, size_t cap,
                   size_t *out_len) {
    if (!out || cap == 0 || (!text && len))
        return -EINVAL;
    render_state_t st = {.out = out, .cap = cap};
    out[0] = '\0';
    int rc = subword_scan(text, len, flags, render_token, &st);
    if (out_len)
        *out_len = st.used;
    if (rc < 0)
        return rc;
    return st.overflow ? -ENOSPC : 0;
}

char *subword_render_new(const char *text, size_t len, unsigned flags, size_t *out_len) {
    if (!text && len)
        return NULL;
    render_state_t st = {.cap = len / 2 + 64, .grow = true};
    st.out = malloc(st.cap);
    if (!st.out)
        return NULL;
    st.out[0] = '\0';
    int rc = subword_scan(text, len, flags, render_token, &st);
    if (st.overflow || rc < 0) {
        free(st.out);
        return NULL;
    }
    if (out_len)
        *out_len = st.used;
    return st.out;
}

/* ---- shares ---- */

double subword_share(const char *const *words, size_t count, bool near, const char *name) {
    size_t offsets[SUBWORD_PARTS_MAX], lengths[SUBWORD_PARTS_MAX];
    int n = subword_split(name, strlen(name), offsets, lengths, SUBWORD_PARTS_MAX);
    int counted = 0, found = 0;
    for (int i = 0; i < n; i++) {
        size_t len = lengths[i] < SUBWORD_IDENT_MAX ? lengths[i] : SUBWORD_IDENT_MAX;
        if (len < 3)
            continue;
        counted++;
        char part[SUBWORD_IDENT_MAX + 1];
        for (size_t k = 0; k < len; k++) {
            char c = name[offsets[i] + k];
            part[k] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
        }
        for (size_t w = 0; w < count; w++) {
            size_t wl = strlen(words[w]), common = 0;
            while (common < wl && common < len && words[w][common] == part[common])
                common++;
            if ((common == wl && common == len) ||
                (near && common >= 4 && (common == wl || common == len))) {
                found++;
                break;
            }
        }
    }
    return counted ? (double)found / counted : 0;
}

const char *subword_after_test(const char *ident) {
    size_t offsets[2], lengths[2];
    if (!ident || subword_split(ident, strlen(ident), offsets, lengths, 2) != 2 || lengths[0] != 4)
        return NULL;
    for (size_t i = 0; i < 4; i++)
        if ((ident[offsets[0] + i] | 0x20) != "test"[i])
            return NULL;
    return ident + offsets[1];
}

double subword_spelled(const char *whole, const char *name) {
    size_t wl = whole ? strlen(whole) : 0, nl = name ? strlen(name) : 0;
    if (!wl || !nl || wl > SUBWORD_IDENT_MAX || nl > SUBWORD_IDENT_MAX)
        return 0;
    char want[SUBWORD_IDENT_MAX + 1], text[SUBWORD_IDENT_MAX + 1];
    size_t w = fold_into(want, (const unsigned char *)name, nl);
    if (w < 4)
        return 0;
    size_t offsets[SUBWORD_PARTS_MAX], lengths[SUBWORD_PARTS_MAX];
    int n = subword_split(whole, wl, offsets, lengths, SUBWORD_PARTS_MAX);
    size_t starts[SUBWORD_PARTS_MAX + 1], t = 0;
    for (int i = 0; i < n; i++) {
        starts[i] = t;
        t += fold_into(text + t, (const unsigned char *)whole + offsets[i], lengths[i]);
    }
    starts[n > 0 ? n : 0] = t;
    size_t lead = subword_after_test(whole) ? 4 : 0;
    for (int i = 0; i < n; i++) {
        if (starts[i] + w > t || memcmp(text + starts[i], want, w) != 0)
            continue;
        for (int j = i + 1; j <= n; j++)
            if (starts[j] == starts[i] + w)
                return (double)w / (double)(t - (starts[i] >= lead ? lead : 0));
    }
    return 0;
}

/* ---- stems ---- */

static bool ends_with(const char *w, size_t n, const char *tail) {
    size_t t = strlen(tail);
    return n >= t && !memcmp(w + n - t, tail, t);
}

size_t subword_stem(const char *word, size_t len, char out[SUBWORD_IDENT_MAX + 1]) {
    if (len > SUBWORD_IDENT_MAX)
        return 0;
    memcpy(out, word, len);
    size_t n = len;
    if (n > 4 && ends_with(out, n, "ies")) {
        n -= 2;
        out[n - 1] = 'y'; /* copies */
    } else if (n > 4 && (ends_with(out, n, "sses") || ends_with(out, n, "shes") ||
                         ends_with(out, n, "ches") || ends_with(out, n, "xes") ||
                         ends_with(out, n, "zes"))) {
        n -= 2; /* matches, boxes */
    } else if (n > 3 && out[n - 1] == 's' && !ends_with(out, n, "ss") && !ends_with(out, n, "us") &&
               !ends_with(out, n, "is")) {
        n -= 1; /* reads */
    } else if (n > 5 && ends_with(out, n, "ing")) {
        n -= 3; /* returning */
    } else if (n > 4 && ends_with(out, n, "ed")) {
        n -= 2; /* created */
    } else {
        out[n] = '\0';
        return n;
    }
    /* stopp(ed), runn(ing): one of a doubled consonant goes, but not the
     * l, s or z that English doubles in the stem too (fill, pass, buzz) */
    char last = out[n - 1];
    if (len - n >= 2 && n > 3 && last == out[n - 2] && !strchr("aeioulsz", last))
        n--;
    out[n] = '\0';
    return n;
}
