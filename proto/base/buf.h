/*
 * A growable byte buffer, and the packed-texts format the services use to
 * send many strings in one binary payload:
 *
 *   texts := ( u32-le length, bytes )*
 *
 * Buffers own their memory; buf_free() releases it.  Appends either grow the
 * buffer or leave it unchanged and return -ENOMEM.
 */
#ifndef LCA_BASE_BUF_H
#define LCA_BASE_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *data; /* NUL-terminated when len > 0 (a spare byte is kept) */
    size_t len;
    size_t cap;
} buf_t;

#define BUF_INIT                                                                                   \
    { NULL, 0, 0 }

int buf_reserve(buf_t *b, size_t extra);
int buf_append(buf_t *b, const void *data, size_t len);
int buf_append_str(buf_t *b, const char *s);
int buf_printf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A NUL-terminated copy of len bytes of s (which may hold NULs), or NULL
 * when out of memory. */
char *bytes_dup(const void *s, size_t len);
/* Formats into a caller's fixed-size error buffer, truncating; does nothing
 * when err is NULL or err_len is 0 (the caller does not want the message). */
void err_printf(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int buf_append_u32(buf_t *b, uint32_t v);
/* Appends s as a JSON string literal (quotes and escapes). */
int buf_append_json_string(buf_t *b, const char *s, size_t len);
void buf_reset(buf_t *b);
void buf_free(buf_t *b);

/* Appends one text to a packed-texts payload. */
int texts_append(buf_t *b, const char *text, size_t len);

/* Walks a packed-texts payload: on each call stores the next text and
 * returns 1, returns 0 at the clean end, -EINVAL when the payload is
 * malformed.  *pos starts at 0. */
int texts_next(const void *payload, size_t len, size_t *pos, const char **text, size_t *text_len);

/* Counts the texts of a payload, or -EINVAL when it is malformed. */
long texts_count(const void *payload, size_t len);

#endif
