/*
 * lexeme: tokens of source text, and the names written in a slot
 * (lexeme.h).
 */
#include "proto/code/lexeme.h"

#include "proto/code/ident.h"

#include <string.h>

static bool blank(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

size_t lexeme_next(const char *s, size_t len, size_t *at, size_t *start) {
    size_t i = *at;
    while (i < len && blank(s[i]))
        i++;
    *start = i;
    if (i >= len) {
        *at = len;
        return 0;
    }
    size_t n = ident_len(s + i, len - i);
    char c = s[i];
    if (n == 0 && c >= '0' && c <= '9') {
        n = 1;
        while (i + n < len && (s[i + n] == '.' || ident_char_len(s + i + n, len - i - n)))
            n += s[i + n] == '.' ? 1 : ident_char_len(s + i + n, len - i - n);
    } else if (n == 0 && (c == '"' || c == '\'')) {
        n = 1;
        while (i + n < len && s[i + n] != '\n') {
            if (s[i + n] == '\\' && i + n + 1 < len && s[i + n + 1] != '\n') {
                n += 2;
                continue;
            }
            if (s[i + n++] == c)
                break;
        }
    } else if (n == 0) {
        char d = i + 1 < len ? s[i + 1] : '\0';
        n = (c == ':' && d == ':') || (c == '-' && d == '>') || (c == '=' && d == '>') ? 2 : 1;
    }
    *at = i + n;
    return n;
}

bool lexeme_is_name(const char *s, size_t n) {
    return n > 0 && ident_len(s, n) == n;
}

static void keep(char out[LEXEME_MAX], const char *s, size_t n) {
    if (n == 0 || n >= LEXEME_MAX) {
        out[0] = '\0'; /* unknown */
        return;
    }
    memcpy(out, s, n);
    out[n] = '\0';
}

static void anchor_add(lexeme_slot_t *out, const char *s, size_t n) {
    if (out->anchor_count < LEXEME_ANCHORS && lexeme_is_name(s, n)) {
        keep(out->anchors[out->anchor_count], s, n);
        out->anchor_count += out->anchors[out->anchor_count][0] != '\0';
    }
}

/* How far back the prefix is read for its last tokens: a string or a
 * number cut at the window's start is a token unknown, not a wrong one. */
#define SLOT_WINDOW 512

bool lexeme_slot_read(const char *prefix, size_t prefix_len, const char *suffix, size_t suffix_len,
                      lexeme_slot_t *out) {
    memset(out, 0, sizeof *out);
    size_t end = prefix_len;
    while (end > 0 && ident_char_len_before(prefix, end))
        end -= ident_char_len_before(prefix, end);
    size_t from = end > SLOT_WINDOW ? end - SLOT_WINDOW : 0;
    /* start the window on a line: a token is not cut in two there */
    while (from > 0 && from < end && prefix[from - 1] != '\n')
        from++;
    /* the last LEXEME_ANCHOR_READ tokens, the nearest last */
    enum { READ = LEXEME_ANCHOR_READ };
    size_t at = from, start, n;
    size_t starts[READ] = {0}, lens[READ] = {0}, count = 0;
    while ((n = lexeme_next(prefix, end, &at, &start)) > 0) {
        memmove(starts, starts + 1, sizeof starts - sizeof *starts);
        memmove(lens, lens + 1, sizeof lens - sizeof *lens);
        starts[READ - 1] = start;
        lens[READ - 1] = n;
        count++;
    }
    size_t known = count < READ ? count : READ;
    for (size_t k = 0; k < LEXEME_BEFORE && k < known; k++) {
        size_t from_end = LEXEME_BEFORE - 1 - k; /* 0: the token right before */
        keep(out->before[from_end], prefix + starts[READ - 1 - k], lens[READ - 1 - k]);
    }
    for (size_t k = 0; k < known && out->anchor_count < LEXEME_ANCHORS_BEFORE; k++)
        anchor_add(out, prefix + starts[READ - 1 - k], lens[READ - 1 - k]);
    size_t rest = suffix ? ident_len(suffix, suffix_len) : 0;
    /* past the rest of the name: the tokens after it, and the names among
     * them on its line */
    at = rest;
    bool same_line = true;
    for (int k = 0; suffix && k < LEXEME_ANCHOR_READ_AFTER; k++) {
        size_t was = at;
        n = lexeme_next(suffix, suffix_len, &at, &start);
        if (!n)
            break;
        same_line = same_line && !memchr(suffix + was, '\n', start - was);
        if (k < LEXEME_AFTER)
            keep(out->after[k], suffix + start, n);
        if (same_line)
            anchor_add(out, suffix + start, n);
    }
    return out->before[LEXEME_BEFORE - 1][0] != '\0';
}

typedef struct {
    const char *s;
    size_t n;
} tok_t;

static bool same(const tok_t *t, const char *want) {
    return want[0] && t->n == strlen(want) && !memcmp(t->s, want, t->n);
}

double lexeme_slot_scan(const lexeme_slot_t *slot, const char *text, size_t len,
                        lexeme_found_fn found, void *arg) {
    const char *b1 = slot->before[2], *b2 = slot->before[1], *b3 = slot->before[0];
    const char *a1 = slot->after[0], *a2 = slot->after[1];
    if (!b1[0])
        return 0;
    /* the last six tokens read: w[3] is the name in question, w[4] and
     * w[5] what comes after it */
    tok_t w[6] = {{0}};
    size_t at = 0, start;
    double total = 0;
    for (int tail = 3; tail > 0;) {
        size_t n = lexeme_next(text, len, &at, &start);
        memmove(w, w + 1, 5 * sizeof *w);
        w[5] = (tok_t){text + start, n};
        tail -= n == 0; /* past the end: until the last token is w[3] */
        const tok_t *name = &w[3];
        if (!name->n || !lexeme_is_name(name->s, name->n) || !same(&w[2], b1))
            continue;
        bool two = same(&w[1], b2), after = same(&w[4], a1), after2 = after && same(&w[5], a2);
        double weight = (two && same(&w[0], b3) ? 1.0 : 0) + (two && after ? 1.0 : 0) +
                        (two && after2 ? 2.0 : 0) + (after2 ? 0.5 : 0) + (two ? 0.5 : 0) +
                        (after ? 0.5 : 0);
        if (weight > 0) {
            total += weight;
            found(name->s, name->n, weight, arg);
        }
    }
    return total;
}

/* The end of the line holding i (its '\n' included). */
static size_t line_end(const char *text, size_t len, size_t i) {
    const char *nl = i < len ? memchr(text + i, '\n', len - i) : NULL;
    return nl ? (size_t)(nl - text) + 1 : len;
}

double lexeme_slot_scan_near(const lexeme_slot_t *slot, const char *anchor, const char *text,
                             size_t len, lexeme_found_fn found, void *arg) {
    size_t n = strlen(anchor);
    double total = 0;
    size_t from = 0, to = 0; /* the region to scan next: lines [from, to) */
    for (size_t i = 0; n && i + n <= len;) {
        const char *hit = memmem(text + i, len - i, anchor, n);
        if (!hit)
            break;
        size_t at = (size_t)(hit - text), ls = at;
        while (ls > 0 && text[ls - 1] != '\n')
            ls--;
        if (ls > to) { /* apart from the region: scan that first */
            if (to > from)
                total += lexeme_slot_scan(slot, text + from, to - from, found, arg);
            from = ls;
        }
        to = line_end(text, len, line_end(text, len, at));
        i = at + n;
    }
    if (to > from)
        total += lexeme_slot_scan(slot, text + from, to - from, found, arg);
    return total;
}
