/*
 * client: lca's one HTTP client for Ollama, used by the generator (streamed
 * chat and generate) and the embedder's Ollama backend (/api/embed).  One
 * request at a time per thread, streamed, cancellable at once, with a hard
 * deadline; what a request and its answer mean is each service's business.
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
#ifndef LCA_OLLAMA_CLIENT_H
#define LCA_OLLAMA_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/ollama/url.h"

typedef struct ollama ollama_t;
typedef struct ollama_call ollama_call_t;

/* A client for the Ollama at host (an OLLAMA_HOST-style setting, url.h;
 * NULL: OLLAMA_HOST or the default) that names itself `agent` (the
 * User-Agent, e.g. "lca-generator").  NULL with a message in err when the
 * setting is bad or libcurl cannot start. */
ollama_t *ollama_new(const char *host, const char *agent, char *err, size_t err_len);

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
    int timeout_ms;         /* the whole exchange must end within this (> 0) */
    int connect_timeout_ms; /* connecting must end within this; 0: 10 s (never past timeout_ms) */
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

/* After a run: the request went out whole (so Ollama may be working on it). */
bool ollama_call_sent(const ollama_call_t *call);

/* After a run: it ended because time ran out, while connecting or after. */
bool ollama_call_timed_out(const ollama_call_t *call);

/* Ollama's words in an error answer's body: the message of {"error": "..."}
 * or {"error": {"message": "..."}}, else the body's first line when it is
 * not JSON, as one printable line in out (at most size-1 bytes).  Returns
 * false, out empty, when the body says nothing. */
bool ollama_error_text(const char *body, size_t len, char *out, size_t size);

/* Milliseconds from the start of the run to the first body byte; -1: none. */
int64_t ollama_call_first_byte_ms(const ollama_call_t *call);

/* Frees the call and nulls the pointer; accepts NULL.  No cancel may be in
 * progress or follow. */
void ollama_call_destroy(ollama_call_t **call_p);

#endif
