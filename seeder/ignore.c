/*
 * ignore: gitignore patterns, compiled to a flat list and matched by a small
 * recursive glob matcher.
 *
 * Each pattern keeps its text with the `!` and the trailing `/` removed and
 * three flags.  Matching walks the list backwards, so the first pattern that
 * matches is the last in the file, the one git lets win.
 *
 * The glob matcher treats `*` and `?` as never crossing `/`; `**` counts as
 * "any number of directories" only when it is a whole path component, as in
 * git; elsewhere it is an ordinary `*`.  Backtracking is bounded by a depth
 * limit so that a hostile pattern cannot take the walk down.
 */
#include "seeder/ignore.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *glob;    /* pattern text without `!`, leading `/` and trailing `/` */
    bool negated;  /* started with `!`: a match re-includes */
    bool dir_only; /* ended with `/`: matches directories only */
    bool anchored; /* had a `/` before its end: matched against the whole path */
} ignore_pattern_t;

struct ignore {
    ignore_pattern_t *patterns; /* in file order */
    size_t count;
    size_t capacity;
};

ignore_t *ignore_new(void) {
    return calloc(1, sizeof(ignore_t));
}

void ignore_destroy(ignore_t **self_p) {
    if (!self_p || !*self_p)
        return;
    ignore_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++)
        free(self->patterns[i].glob);
    free(self->patterns);
    free(self);
    *self_p = NULL;
}

size_t ignore_count(const ignore_t *self) {
    return self ? self->count : 0;
}

/* Adds one line (without its line end).  Returns 0 or -ENOMEM. */
static int ignore_add_line(ignore_t *self, const char *line, size_t len) {
    if (len > 0 && line[len - 1] == '\r')
        len--;
    /* Trailing spaces are trimmed unless escaped with a backslash. */
    while (len > 0 && line[len - 1] == ' ' && !(len >= 2 && line[len - 2] == '\\'))
        len--;
    if (len == 0 || line[0] == '#')
        return 0;
    ignore_pattern_t p = {0};
    if (line[0] == '!') {
        p.negated = true;
        line++;
        len--;
    } else if (line[0] == '\\' && len > 1 && (line[1] == '#' || line[1] == '!')) {
        line++;
        len--;
    }
    if (len > 0 && line[len - 1] == '/') {
        p.dir_only = true;
        len--;
    }
    if (len == 0)
        return 0;
    if (memchr(line, '/', len))
        p.anchored = true;
    if (line[0] == '/') {
        line++;
        len--;
    }
    if (len == 0)
        return 0;
    if (self->count == self->capacity) {
        size_t capacity = self->capacity ? self->capacity * 2 : 16;
        ignore_pattern_t *grown = realloc(self->patterns, capacity * sizeof *grown);
        if (!grown)
            return -ENOMEM;
        self->patterns = grown;
        self->capacity = capacity;
    }
    p.glob = strndup(line, len);
    if (!p.glob)
        return -ENOMEM;
    self->patterns[self->count++] = p;
    return 0;
}

int ignore_add_text(ignore_t *self, const char *text, size_t len) {
    size_t start = 0;
    while (start < len) {
        const char *nl = memchr(text + start, '\n', len - start);
        size_t end = nl ? (size_t)(nl - text) : len;
        int rc = ignore_add_line(self, text + start, end - start);
        if (rc < 0)
            return rc;
        start = end + 1;
    }
    return 0;
}

/* Matches a bracket expression at *pp against c; advances *pp past the `]`.
 * Returns 1 on match, 0 on no match, -1 if the bracket is not closed (then
 * the `[` is an ordinary character). */
static int ignore_match_class(const char **pp, char c) {
    const char *p = *pp + 1;
    bool negate = false;
    if (*p == '!' || *p == '^') {
        negate = true;
        p++;
    }
    bool matched = false;
    bool first = true;
    while (*p && (*p != ']' || first)) {
        char lo = *p;
        if (lo == '\\' && p[1])
            lo = *++p;
        char hi = lo;
        if (p[1] == '-' && p[2] && p[2] != ']') {
            hi = p[2];
            if (hi == '\\' && p[3])
                hi = p[3], p++;
            p += 2;
        }
        if (c >= lo && c <= hi)
            matched = true;
        p++;
        first = false;
    }
    if (*p != ']')
        return -1;
    *pp = p + 1;
    return (matched != negate) && c != '/';
}

static bool ignore_glob(const char *start, const char *p, const char *s, int depth) {
    if (depth > 64)
        return false;
    while (*p) {
        if (p[0] == '*' && p[1] == '*' && (p == start || p[-1] == '/') &&
            (p[2] == '/' || p[2] == '\0')) {
            if (p[2] == '\0')
                return true; /* trailing `**`: everything below */
            /* A `**` component followed by a slash: zero or more whole directories. */
            const char *rest = p + 3;
            for (const char *t = s;;) {
                if (ignore_glob(start, rest, t, depth + 1))
                    return true;
                t = strchr(t, '/');
                if (!t)
                    return false;
                t++;
            }
        }
        if (*p == '*') {
            while (*p == '*')
                p++;
            for (const char *t = s;; t++) {
                if (ignore_glob(start, p, t, depth + 1))
                    return true;
                if (*t == '\0' || *t == '/')
                    return false;
            }
        }
        if (*s == '\0')
            return false;
        if (*p == '?') {
            if (*s == '/')
                return false;
            p++, s++;
            continue;
        }
        if (*p == '[') {
            const char *q = p;
            int m = ignore_match_class(&q, *s);
            if (m >= 0) {
                if (!m)
                    return false;
                p = q, s++;
                continue;
            }
        }
        if (*p == '\\' && p[1])
            p++;
        if (*p != *s)
            return false;
        p++, s++;
    }
    return *s == '\0';
}

ignore_match_t ignore_match_path(const ignore_t *self, const char *rel_path, bool is_dir) {
    if (!self || !rel_path)
        return IGNORE_NO_MATCH;
    const char *base = strrchr(rel_path, '/');
    base = base ? base + 1 : rel_path;
    for (size_t i = self->count; i-- > 0;) {
        const ignore_pattern_t *p = &self->patterns[i];
        if (p->dir_only && !is_dir)
            continue;
        const char *subject = p->anchored ? rel_path : base;
        if (ignore_glob(p->glob, p->glob, subject, 0))
            return p->negated ? IGNORE_INCLUDED : IGNORE_EXCLUDED;
    }
    return IGNORE_NO_MATCH;
}
