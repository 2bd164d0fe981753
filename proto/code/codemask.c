/*
 * The code mask (see codemask.h): one forward pass.
 */
#include "proto/code/codemask.h"

#include "proto/code/ident.h"

#include <stdbool.h>
#include <string.h>

typedef struct {
    const char *s;
    size_t n;
    uint8_t *code;
} text_t;

static bool python_like(lang_id_t lang) {
    return lang == LANG_PYTHON || lang == LANG_RUBY || lang == LANG_SHELL || lang == LANG_PERL ||
           lang == LANG_R || lang == LANG_ELIXIR;
}

/* Where the Rust character literal that starts at s[i] == '\'' ends (the
 * offset after its closing quote), or 0 when the quote starts a lifetime or
 * a label ('a, 'static, 'outer:), which is code.  A literal is one
 * character, or an escape (\n, \', \x7f, \u{10FFFF}), then a quote: a
 * lifetime never has one right after its first character. */
static size_t rust_char_end(const text_t *t, size_t i) {
    if (i + 2 >= t->n || t->s[i + 1] == '\n' || t->s[i + 1] == '\'')
        return 0;
    if (t->s[i + 1] == '\\') {
        /* the longest escape is \u{10FFFF}: 10 bytes after the quote */
        for (size_t j = i + 3; j < t->n && j <= i + 11 && t->s[j] != '\n'; j++)
            if (t->s[j] == '\'')
                return j + 1;
        return 0;
    }
    unsigned char lead = (unsigned char)t->s[i + 1];
    size_t len = lead < 0xc0 ? 1 : lead < 0xe0 ? 2 : lead < 0xf0 ? 3 : 4;
    size_t close = i + 1 + len;
    return close < t->n && t->s[close] == '\'' ? close + 1 : 0;
}

/* Where the Rust raw string that starts at s[i] ends (r"..", r#".."#,
 * br##".."##, cr#".."#: no escapes, closed by a quote and as many #), the
 * end of the text when it is not closed; 0 when s[i] starts no raw string
 * (an identifier such as `bar`, a raw identifier r#type). */
static size_t rust_raw_end(const text_t *t, size_t i) {
    if (i > 0 && (ident_ascii_char((unsigned char)t->s[i - 1]) || (t->s[i - 1] & 0x80)))
        return 0; /* inside an identifier */
    size_t j = i;
    if (j < t->n && (t->s[j] == 'b' || t->s[j] == 'c'))
        j++;
    if (j >= t->n || t->s[j] != 'r')
        return 0;
    size_t hashes = 0;
    for (j++; j < t->n && t->s[j] == '#'; j++)
        hashes++;
    if (j >= t->n || t->s[j] != '"')
        return 0;
    for (j++; j < t->n; j++) {
        if (t->s[j] != '"')
            continue;
        size_t k = 0;
        while (k < hashes && j + 1 + k < t->n && t->s[j + 1 + k] == '#')
            k++;
        if (k == hashes)
            return j + 1 + hashes;
    }
    return t->n;
}

void codemask_build(lang_id_t lang, const char *text, size_t len, uint8_t *mask) {
    text_t view = {.s = text, .n = len, .code = mask}, *t = &view;
    bool hash = python_like(lang);
    bool slash = !hash;
    bool rust = lang == LANG_RUST;
    bool single_quote = !rust;
    size_t i = 0;
    while (i < t->n) {
        char c = t->s[i];
        if (rust && (c == '\'' || c == 'r' || c == 'b' || c == 'c')) {
            /* a character literal ('{', '"') or a raw string (r#"{"#) would
             * otherwise leave a brace or a quote in the code */
            size_t end = c == '\'' ? rust_char_end(t, i) : rust_raw_end(t, i);
            if (end) {
                memset(t->code + i, 0, end - i);
                i = end;
                continue;
            }
        }
        if ((hash && c == '#') || (slash && c == '/' && i + 1 < t->n && t->s[i + 1] == '/')) {
            while (i < t->n && t->s[i] != '\n')
                t->code[i++] = 0;
            continue;
        }
        if (slash && c == '/' && i + 1 < t->n && t->s[i + 1] == '*') {
            size_t start = i;
            /* Rust's block comments nest: each opener inside needs its own
             * closer before the comment ends */
            int open = 1;
            i += 2;
            while (i + 1 < t->n) {
                if (t->s[i] == '*' && t->s[i + 1] == '/') {
                    i += 2;
                    if (--open == 0)
                        break;
                } else if (rust && t->s[i] == '/' && t->s[i + 1] == '*') {
                    i += 2;
                    open++;
                } else {
                    i++;
                }
            }
            if (open > 0 || i > t->n)
                i = t->n;
            memset(t->code + start, 0, i - start);
            continue;
        }
        if (c == '"' || c == '`' || (c == '\'' && single_quote)) {
            size_t start = i;
            bool triple = hash && i + 2 < t->n && t->s[i + 1] == c && t->s[i + 2] == c;
            i += triple ? 3 : 1;
            while (i < t->n) {
                if (t->s[i] == '\\') {
                    i += 2;
                    continue;
                }
                /* an unterminated string ends with its line, but Rust's
                 * strings span lines (and its quotes come in pairs) */
                if (!triple && t->s[i] == '\n' && c != '`' && !rust)
                    break;
                if (t->s[i] == c &&
                    (!triple || (i + 2 < t->n && t->s[i + 1] == c && t->s[i + 2] == c))) {
                    i += triple ? 3 : 1;
                    break;
                }
                i++;
            }
            if (i > t->n)
                i = t->n;
            memset(t->code + start, 0, i - start);
            continue;
        }
        t->code[i++] = 1;
    }
}
