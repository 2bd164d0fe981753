/*
 * What a test's own process writes to stdout or stderr, caught: the fd goes
 * to a temporary file until capture_end() puts it back.  The file is read
 * with pread only, which leaves the offset its writers share alone, so the
 * text can be read while writers (other threads) go on.
 *
 *   capture_t c;
 *   capture_begin(&c, 2);
 *   ... code that logs ...
 *   char *text = capture_end(&c);   (the caller frees)
 */
#ifndef LCA_TEST_CAPTURE_H
#define LCA_TEST_CAPTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    int fd;     /* 1 or 2 */
    int saved;  /* the fd's own file meanwhile, or -1 */
    FILE *file; /* where the fd goes meanwhile, or NULL */
} capture_t;

static inline FILE *capture_stream(int fd) {
    return fd == 1 ? stdout : stderr;
}

/* Points fd (1 or 2) at a new temporary file. */
static inline void capture_begin(capture_t *c, int fd) {
    fflush(capture_stream(fd));
    c->fd = fd;
    c->file = tmpfile();
    c->saved = dup(fd);
    if (c->file)
        dup2(fileno(c->file), fd);
}

/* What was written so far, NUL-terminated (the caller frees); only what the
 * writers flushed is there.  NULL when nothing could be caught. */
static inline char *capture_text(const capture_t *c) {
    struct stat st;
    if (!c->file || fstat(fileno(c->file), &st) != 0)
        return NULL;
    char *text = calloc(1, (size_t)st.st_size + 1);
    if (text && st.st_size && pread(fileno(c->file), text, (size_t)st.st_size, 0) < 0)
        text[0] = '\0';
    return text;
}

/* Puts fd back and returns all that was written to it (as capture_text). */
static inline char *capture_end(capture_t *c) {
    fflush(capture_stream(c->fd));
    char *text = capture_text(c);
    if (c->saved >= 0) {
        dup2(c->saved, c->fd);
        close(c->saved);
    }
    if (c->file)
        fclose(c->file);
    c->file = NULL;
    c->saved = -1;
    return text;
}

#endif
