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
 * git; elsewhere it is an ordinary `*`.  Matching is polynomial (a table over
 * components, a greedy match within one), so no hostile pattern can stall a
 * walk.
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

/* Matches the one pattern element at p[*pi] (`?`, a bracket expression, an
 * escaped or plain character) against c and advances *pi past it. */
static bool ignore_match_one(const char *p, size_t pn, size_t *pi, char c) {
    size_t i = *pi;
    if (p[i] == '?') {
        *pi = i + 1;
        return true;
    }
    if (p[i] == '[') {
        size_t j = i + 1;
        bool negate = j < pn && (p[j] == '!' || p[j] == '^');
        if (negate)
            j++;
        bool matched = false, first = true;
        while (j < pn && (p[j] != ']' || first)) {
            char lo = p[j];
            if (lo == '\\' && j + 1 < pn)
                lo = p[++j];
            char hi = lo;
            if (j + 2 < pn && p[j + 1] == '-' && p[j + 2] != ']') {
                hi = p[j + 2];
                j += 2;
            }
            if (c >= lo && c <= hi)
                matched = true;
            j++;
            first = false;
        }
        if (j < pn) { /* closed: a real bracket expression */
            *pi = j + 1;
            return matched != negate;
        }
        /* unclosed: `[` is an ordinary character */
    }
    if (p[i] == '\\' && i + 1 < pn)
        i++;
    *pi = i + 1;
    return p[i] == c;
}

/* One path component against one pattern component, `*` never crossing a
 * component (there is none inside).  The classic greedy match that returns
 * to the last `*` on a mismatch: O(len(p) * len(s)) at worst. */
static bool ignore_match_component(const char *p, size_t pn, const char *s, size_t sn) {
    size_t pi = 0, si = 0, star_p = (size_t)-1, star_s = 0;
    while (si < sn) {
        if (pi < pn && p[pi] == '*') {
            while (pi < pn && p[pi] == '*')
                pi++;
            star_p = pi;
            star_s = si;
            continue;
        }
        size_t next = pi;
        if (pi < pn && ignore_match_one(p, pn, &next, s[si])) {
            pi = next;
            si++;
            continue;
        }
        if (star_p == (size_t)-1)
            return false;
        pi = star_p;
        si = ++star_s;
    }
    while (pi < pn && p[pi] == '*')
        pi++;
    return pi == pn;
}

#define IGNORE_MAX_COMPONENTS 64

typedef struct {
    const char *at;
    size_t len;
} ignore_span_t;

/* Splits s at `/` into at most IGNORE_MAX_COMPONENTS spans; -1 if more. */
static int ignore_split(const char *s, ignore_span_t *out) {
    int n = 0;
    for (const char *c = s;;) {
        const char *slash = strchr(c, '/');
        size_t len = slash ? (size_t)(slash - c) : strlen(c);
        if (n == IGNORE_MAX_COMPONENTS)
            return -1;
        out[n++] = (ignore_span_t){c, len};
        if (!slash)
            return n;
        c = slash + 1;
    }
}

/* Matches a whole glob against a whole path, component by component, with
 * `**` components standing for any number of path components (at least one
 * when the `**` ends the pattern, as a trailing `**` matches what is inside the directory).
 * A table over (pattern component, path component) keeps this polynomial. */
static bool ignore_glob(const char *glob, const char *path) {
    ignore_span_t pc[IGNORE_MAX_COMPONENTS], sc[IGNORE_MAX_COMPONENTS];
    int np = ignore_split(glob, pc), ns = ignore_split(path, sc);
    if (np < 0 || ns < 0)
        return false;
    /* next[j]: whether pattern components i+1.. match path components j.. */
    bool next[IGNORE_MAX_COMPONENTS + 1], cur[IGNORE_MAX_COMPONENTS + 1];
    for (int j = 0; j <= ns; j++)
        next[j] = j == ns;
    for (int i = np - 1; i >= 0; i--) {
        bool double_star = pc[i].len == 2 && pc[i].at[0] == '*' && pc[i].at[1] == '*';
        cur[ns] = double_star ? (i < np - 1 && next[ns]) : false;
        for (int j = ns - 1; j >= 0; j--) {
            if (double_star)
                cur[j] = (i < np - 1 && next[j]) || next[j + 1] || cur[j + 1];
            else
                cur[j] =
                    next[j + 1] && ignore_match_component(pc[i].at, pc[i].len, sc[j].at, sc[j].len);
        }
        memcpy(next, cur, sizeof next);
    }
    return next[0];
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
        if (ignore_glob(p->glob, subject))
            return p->negated ? IGNORE_INCLUDED : IGNORE_EXCLUDED;
    }
    return IGNORE_NO_MATCH;
}
