/*
 * NDJSON line splitter (see ndjson.h).
 *
 * Invariant: `tail` holds the bytes of the current unfinished line, and never
 * a newline.  When it is empty, lines wholly inside a fed buffer go to the
 * callback straight from that buffer.
 */
#include "generator/ndjson.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct ndjson {
    char *tail;      /* the unfinished line so far */
    size_t tail_len; /* bytes in tail */
    size_t tail_cap; /* bytes allocated for tail */
    size_t max_line; /* longest line accepted */
};

ndjson_t *ndjson_new(size_t max_line) {
    ndjson_t *self = calloc(1, sizeof *self);
    if (self)
        self->max_line = max_line ? max_line : 1;
    return self;
}

void ndjson_destroy(ndjson_t **self_p) {
    if (!*self_p)
        return;
    free((*self_p)->tail);
    free(*self_p);
    *self_p = NULL;
}

size_t ndjson_pending(const ndjson_t *self) {
    return self->tail_len;
}

static bool is_blank(const char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
            return false;
    return true;
}

/* Passes one line (a trailing '\r' removed, blank lines skipped). */
static int emit(const char *line, size_t len, ndjson_line_fn fn, void *arg) {
    if (len && line[len - 1] == '\r')
        len--;
    if (is_blank(line, len))
        return 0;
    return fn(arg, line, len);
}

static int tail_append(ndjson_t *self, const char *data, size_t len) {
    if (self->tail_len + len > self->max_line)
        return -E2BIG;
    if (self->tail_len + len > self->tail_cap) {
        size_t cap = self->tail_cap ? self->tail_cap : 1024;
        while (cap < self->tail_len + len)
            cap *= 2;
        char *bigger = realloc(self->tail, cap);
        if (!bigger)
            return -ENOMEM;
        self->tail = bigger;
        self->tail_cap = cap;
    }
    memcpy(self->tail + self->tail_len, data, len);
    self->tail_len += len;
    return 0;
}

int ndjson_feed(ndjson_t *self, const char *data, size_t len, ndjson_line_fn fn, void *arg) {
    while (len > 0) {
        const char *newline = memchr(data, '\n', len);
        if (!newline)
            return tail_append(self, data, len);
        size_t part = (size_t)(newline - data);
        int rc;
        if (self->tail_len == 0) {
            if (part > self->max_line)
                return -E2BIG;
            rc = emit(data, part, fn, arg);
        } else {
            rc = tail_append(self, data, part);
            if (rc == 0)
                rc = emit(self->tail, self->tail_len, fn, arg);
            self->tail_len = 0;
        }
        if (rc < 0)
            return rc;
        data = newline + 1;
        len -= part + 1;
    }
    return 0;
}

int ndjson_finish(ndjson_t *self, ndjson_line_fn fn, void *arg) {
    if (self->tail_len == 0)
        return 0;
    size_t n = self->tail_len;
    self->tail_len = 0;
    return emit(self->tail, n, fn, arg);
}
