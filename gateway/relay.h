/*
 * The streaming glue between a client's request and the generator.
 *
 * relay_generate() takes a parsed generation request (api.h), sends it to
 * the "generate" service always as a native Ollama stream, and writes each
 * line to the client in the format it asked for (format.h) the moment it
 * arrives: headers and the first token leave together, nothing is buffered.
 *
 * The rules it keeps:
 * - Status before bytes.  Until the first token, nothing is sent, so an
 *   upstream error (404 unknown model, 502 Ollama down, ...) reaches the
 *   client with its own status in the family's error shape.  After that an
 *   error becomes a last {"error": ...} line (NDJSON) or SSE error event.
 * - A client that leaves cancels the upstream call at once.  HTTP/2 streams
 *   learn it from h2o (stop).  h2o does not read an HTTP/1.1 socket while it
 *   answers, and notices a closed one only when a write fails (two writes
 *   later), so the relay peeks at the socket every 100 ms: a client gone
 *   before the first byte (stream:false, a model loading) or between slow
 *   tokens is seen within 100 ms.  SSE answers also send a comment
 *   (": ok") after a second without bytes, which keeps proxies and clients
 *   from timing out while a model loads.
 * - The deadline (gateway->request_timeout_ms) is the generator's and the
 *   broker client's: a stuck stream ends with 504 or an error line.
 *
 * Retrieval-augmented generation joins at one seam: relay_prepare() in
 * relay.c sees every chat and completion request, parsed and in Ollama's
 * native shape, before it goes upstream (see there).
 */
#ifndef LCA_GATEWAY_RELAY_H
#define LCA_GATEWAY_RELAY_H

#include "gateway/api.h"

#include <cJSON.h>

typedef struct relay relay_t;

/* Runs request (owned by ctx's pool) to the end: answers the client in
 * request->output's format, or with an error.  Always returns 0. */
int relay_generate(http_ctx_t *ctx, api_request_t *request);

/* Called with a successful non-streamed answer of Ollama's (body is not
 * NUL-terminated); must answer the client. */
typedef void (*relay_answer_t)(http_ctx_t *ctx, const char *body, size_t len, void *arg);

/* One non-streamed exchange with Ollama through the generator (GET
 * /api/tags, POST /api/show, /api/embed, ...), body NULL for a GET.  On
 * success answer(ctx, ...) runs, or, when answer is NULL, Ollama's status,
 * content type and body go to the client as they are.  An error answers
 * with its status in the family's shape.  Always returns 0. */
int relay_forward(http_ctx_t *ctx, const char *method, const char *path, const char *body,
                  size_t body_len, relay_answer_t answer, void *arg);

#endif
