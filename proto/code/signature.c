/*
 * signature (see signature.h): a definition's line and its parameters.
 */
#include "proto/code/signature.h"

#include "proto/code/ident.h"
#include "proto/code/subword.h"

#include <stdbool.h>
#include <string.h>

/* True when the line (without its newline) is a comment or a doc string's
 * line: it starts with `//`, a block comment's opening or `*`, `--`, `"""`, `'''`, or `#` and a
 * space (`#define` and `#[attr]` are code). */
static bool comment_line(const char *p, size_t n) {
    size_t i = 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t'))
        i++;
    p += i, n -= i;
    if (n == 0)
        return false;
    if (p[0] == '*' || (n >= 2 && p[0] == '/' && (p[1] == '/' || p[1] == '*')) ||
        (n >= 2 && p[0] == '-' && p[1] == '-'))
        return true;
    if (n >= 3 && (!memcmp(p, "\"\"\"", 3) || !memcmp(p, "'''", 3)))
        return true;
    return p[0] == '#' && (n == 1 || p[1] == ' ' || p[1] == '\t' || p[1] == '!');
}

/* Where name is a whole word in line p[0..n), or -1. */
static long word_at(const char *p, size_t n, const char *name, size_t len) {
    for (size_t i = 0; i + len <= n; i++) {
        const char *hit = memchr(p + i, name[0], n - len - i + 1);
        if (!hit)
            return -1;
        i = (size_t)(hit - p);
        if (!memcmp(hit, name, len) && ident_is_whole_word(p, n, i, len))
            return (long)i;
    }
    return -1;
}

/* The depth of parentheses after line p[0..n), from depth. */
static int paren_depth(const char *p, size_t n, int depth) {
    for (size_t i = 0; i < n; i++)
        depth += p[i] == '(' ? 1 : p[i] == ')' ? -1 : 0;
    return depth;
}

bool signature_find(const char *text, size_t text_len, const char *name, size_t len,
                    signature_t *out) {
    if (!text || !name || len == 0)
        return false;
    int line = 0;
    for (size_t at = 0; at < text_len; line++) {
        const char *nl = memchr(text + at, '\n', text_len - at);
        size_t end = nl ? (size_t)(nl - text) : text_len;
        const char *p = text + at;
        size_t n = end - at;
        if (!comment_line(p, n) && word_at(p, n, name, len) >= 0) {
            *out = (signature_t){.at = at, .len = n, .line = line, .lines = 1};
            int depth = paren_depth(p, n, 0);
            size_t next = end + 1;
            while (depth > 0 && next < text_len && out->lines < SIGNATURE_LINES_MAX) {
                const char *q = text + next;
                const char *qnl = memchr(q, '\n', text_len - next);
                size_t qend = qnl ? (size_t)(qnl - text) : text_len;
                depth = paren_depth(q, qend - next, depth);
                out->len = qend - out->at;
                out->lines++;
                next = qend + 1;
            }
            while (out->len &&
                   (text[out->at + out->len - 1] == '\r' || text[out->at + out->len - 1] == ' '))
                out->len--;
            return true;
        }
        at = end + 1;
    }
    return false;
}

signature_reach_t signature_rust_reach(const char *line, size_t len) {
    size_t i = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    const char *p = line + i;
    size_t n = len - i;
    if (n >= 12 && !memcmp(p, "macro_rules!", 12))
        return SIGNATURE_PUBLIC;
    if (n < 3 || memcmp(p, "pub", 3) != 0)
        return SIGNATURE_PRIVATE;
    if (n == 3 || p[3] == ' ' || p[3] == '\t')
        return SIGNATURE_PUBLIC;
    if (p[3] != '(')
        return SIGNATURE_PRIVATE; /* `publish_x()`: a name, not the word */
    /* pub(self) is the module's own: private */
    size_t k = 4;
    while (k < n && p[k] == ' ')
        k++;
    return n - k >= 4 && !memcmp(p + k, "self", 4) ? SIGNATURE_PRIVATE : SIGNATURE_CRATE;
}

size_t signature_params(const char *sig, size_t len, const char *name, size_t name_len, char *out,
                        size_t cap) {
    if (!cap)
        return 0;
    out[0] = '\0';
    long at = word_at(sig, len, name, name_len);
    if (at < 0)
        return 0;
    size_t i = (size_t)at + name_len, n = 0;
    while (i < len && sig[i] != '(' && sig[i] != '{' && sig[i] != ';' && sig[i] != '=')
        i++; /* generic parameters (`<T>`) and spaces before the list */
    if (i >= len || sig[i] != '(')
        return 0;
    for (int depth = 0; i < len; i++) {
        depth += sig[i] == '(' ? 1 : sig[i] == ')' ? -1 : 0;
        if (depth == 0)
            break;
        if (!ident_ascii_start((unsigned char)sig[i]) ||
            ident_ascii_char((unsigned char)sig[i - 1]))
            continue;
        size_t end = i;
        while (end < len && ident_ascii_char((unsigned char)sig[end]))
            end++;
        size_t w = end - i;
        bool every = (w == 4 && (!memcmp(sig + i, "self", 4) || !memcmp(sig + i, "this", 4))) ||
                     (w == 3 && !memcmp(sig + i, "cls", 3));
        if (!every && n + (n > 0) + w < cap) {
            if (n)
                out[n++] = '_';
            memcpy(out + n, sig + i, w);
            n += w;
        }
        i = end - 1;
    }
    out[n] = '\0';
    return n;
}

double signature_params_share(const char *text, size_t len, const char *name,
                              const char *const *words, size_t count) {
    signature_t sig;
    char params[512];
    size_t n = name ? strlen(name) : 0;
    if (!text || !count || !signature_find(text, len, name, n, &sig) ||
        !signature_params(text + sig.at, sig.len, name, n, params, sizeof params))
        return 0;
    return subword_share(words, count, true, params);
}
