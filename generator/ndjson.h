/*
 * Splitting a byte stream into NDJSON lines as the bytes arrive.
 *
 * Ollama streams one JSON object per line, but TCP and HTTP chunking cut the
 * stream wherever they like: a read may hold half a line, several lines, or a
 * line's end and the next one's start.  The splitter hands each complete line
 * to a callback the moment its newline arrives; only an unfinished tail is
 * copied and kept, so the usual case (whole lines per read) copies nothing.
 *
 * Lines are passed without their "\n" (and without a "\r" before it); blank
 * lines are skipped.  A line longer than the limit given to ndjson_new() is
 * an error, so a peer that never sends a newline cannot make us grow without
 * bound.
 */
#ifndef LCA_GENERATOR_NDJSON_H
#define LCA_GENERATOR_NDJSON_H

#include <stddef.h>

typedef struct ndjson ndjson_t;

/* Called for each complete line (not NUL-terminated).  Returns 0 to go on, or
 * a negative value that stops the feed and is returned by it. */
typedef int (*ndjson_line_fn)(void *arg, const char *line, size_t len);

/* A splitter accepting lines of at most max_line bytes.  NULL: no memory. */
ndjson_t *ndjson_new(size_t max_line);

/* Feeds bytes: calls fn for every line they complete, in order.  Returns 0,
 * the first negative value fn returned (later lines in data are dropped), or
 * -E2BIG when a line grows past the limit, -ENOMEM when the tail cannot be kept. */
int ndjson_feed(ndjson_t *self, const char *data, size_t len, ndjson_line_fn fn, void *arg);

/* Ends the stream: a last line without a newline is passed to fn.  Returns 0
 * or fn's negative value.  The splitter is empty afterwards. */
int ndjson_finish(ndjson_t *self, ndjson_line_fn fn, void *arg);

/* Bytes of an unfinished line kept so far. */
size_t ndjson_pending(const ndjson_t *self);

/* Frees the splitter and nulls the pointer; accepts NULL. */
void ndjson_destroy(ndjson_t **self_p);

#endif
