/*
 * The generator's HTTP client for Ollama: one request at a time per thread,
 * streamed, cancellable at once, with a hard deadline.
 *
 * An ollama_t holds what every request shares: Ollama's base URL (read the
 * way Ollama reads OLLAMA_HOST) and the fixed request headers.  An
 * ollama_call_t is one exchange.  It runs on the calling thread with a libcurl
 * multi handle of that thread's own, so ollama_call_cancel() can wake it from
 * any other thread with curl_multi_wakeup(): a cancelled call closes its
 * connection within a few milliseconds, not at libcurl's one-second progress
 * tick.  The thread keeps its handles between calls, so its connection to
 * Ollama stays open and the next request on that thread skips the TCP (and
 * TLS) handshake; a connection whose transfer was cut short is closed, never
 * reused.
 *
 * Body bytes go to the caller's callback as they arrive, unbuffered; the
 * caller decides what a piece means (lines of a stream, a whole body).
 */
#ifndef LCA_GENERATOR_OLLAMA_H
#define LCA_GENERATOR_OLLAMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/ollama_url.h"

#define OLLAMA_DEFAULT_HOST "http://127.0.0.1:11434"

typedef struct ollama ollama_t;
typedef struct ollama_call ollama_call_t;

/* A client for the Ollama at host (a setting as above; NULL: OLLAMA_HOST or
 * the default).  NULL with a message in err when the setting is bad or
 * libcurl cannot start. */
ollama_t *ollama_new(const char *host, char *err, size_t err_len);

/* The base URL requests go to, e.g. "http://127.0.0.1:11434". */
const char *ollama_url(const ollama_t *self);

/* Frees the client and the calling thread's handles; other threads' handles
 * are freed when those threads exit, so destroy the client after them.
 * Accepts NULL. */
void ollama_destroy(ollama_t **self_p);

typedef struct {
    const char *method; /* "GET", "HEAD" or "POST" */
    const char *path;   /* appended to the base URL, e.g. "/api/chat" */
    const void *body;   /* POST body, borrowed until the call ends; NULL: empty */
    size_t body_len;
    int timeout_ms; /* the whole exchange must end within this (> 0) */
    /* Each piece of the answer's body as it arrives, in order; the status is
     * known by then (ollama_call_status).  Return 0 to go on, negative to
     * stop the transfer (the call then returns -ECONNABORTED). */
    int (*on_body)(void *arg, const char *data, size_t len);
    void *arg;
} ollama_request_t;

/* Prepares one exchange for the calling thread (which must also run it; one
 * call at a time per thread).  The request's strings are borrowed until the
 * call is destroyed.  NULL: no memory, or a method other than GET, HEAD, POST. */
ollama_call_t *ollama_call_new(ollama_t *self, const ollama_request_t *request);

/* Runs the exchange to its end.  Returns
 *   0              the whole answer arrived (any HTTP status);
 *   -ECANCELED     ollama_call_cancel() was called (before or during);
 *   -ETIMEDOUT     the deadline passed;
 *   -ECONNREFUSED  Ollama cannot be reached (refused, unknown host,
 *                  unreachable, connect timeout);
 *   -EPIPE         the connection ended before the answer did;
 *   -ECONNABORTED  on_body asked to stop;
 *   -EIO           anything else (ollama_call_error says what). */
int ollama_call_run(ollama_call_t *call);

/* Stops the call as soon as possible; callable from any thread, at any time
 * until the call is destroyed, any number of times. */
void ollama_call_cancel(ollama_call_t *call);

/* The answer's HTTP status; 0 before it arrives. */
long ollama_call_status(const ollama_call_t *call);

/* The answer's Content-Type; "" when none (yet). */
const char *ollama_call_content_type(const ollama_call_t *call);

/* libcurl's description of a failure; "" when there was none. */
const char *ollama_call_error(const ollama_call_t *call);

/* Milliseconds from the start of the run to the first body byte; -1: none. */
int64_t ollama_call_first_byte_ms(const ollama_call_t *call);

/* Frees the call and nulls the pointer; accepts NULL.  No cancel may be in
 * progress or follow. */
void ollama_call_destroy(ollama_call_t **call_p);

#endif
