/*
 * The gateway's HTTP side: a request's context and the small helpers every
 * route uses (JSON replies, errors in the caller's API family's shape, bridge
 * calls tied to the request), in http.c; listening and routing, in server.c,
 * which calls the routes (routes.c) that call http.c.
 *
 * Routing: a request's path may start with /c/<collection>/, which selects a
 * repository; the prefix is stripped and kept in the context, and the rest
 * is routed as if the prefix were not there.  Every route belongs to an API
 * family (Ollama for /api/... and /, OpenAI for /v1/..., lca's own for the rest)
 * and every error a route sends has that family's shape:
 *   Ollama:  {"error": "message"}
 *   OpenAI:  {"error": {"message", "type", "param": null, "code": null}}
 */
#ifndef LCA_GATEWAY_HTTP_H
#define LCA_GATEWAY_HTTP_H

#define H2O_USE_LIBUV 0
#include <h2o.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/bridge.h"

typedef struct gateway gateway_t;

/* Bytes past --max-body that h2o still reads, so that our own 413 answers
 * a body a little too large (gateway/main.c). */
#define HTTP_BODY_SLACK (64 * 1024)

/* The name of the gateway's one h2o host.  h2o gives a request without a
 * Host header this name as its authority; a .invalid name never resolves,
 * so no browser sends it (RFC 6761), and it means "no Host". */
#define HTTP_NO_HOST "lca.no-host.invalid"

typedef enum { API_OLLAMA, API_OPENAI, API_LCA } api_family_t;

/* What a route handler gets; lives in the request's pool. */
typedef struct {
    h2o_req_t *req;
    gateway_t *gateway;
    api_family_t family;
    h2o_iovec_t path;               /* without the /c/<name> prefix and the query */
    const struct http_route *route; /* the route of path and method; NULL: none */
    h2o_iovec_t collection;         /* from the /c/<name>/ prefix; len 0 when none */
    char rid[24];                   /* request id, in logs and X-Request-Id */
    uint64_t *calls;     /* bridge calls in flight for this request (0: free slot); in the pool */
    size_t calls_cap;    /* slots in calls; grows as the request starts more calls at once */
    uint64_t history_id; /* its entry in the recent requests (history.h); 0: not recorded */
} http_ctx_t;

/* Returns 0 once a response is started (or will be, asynchronously). */
typedef int (*http_handler_t)(http_ctx_t *ctx);

typedef struct http_route {
    const char *method; /* "GET", "POST", ...; GET routes also answer HEAD */
    const char *path;   /* exact path */
    http_handler_t handler;
} http_route_t;

/* ---- serving (server.c) ---- */

/* The route table (gateway/routes.c), terminated by a NULL path. */
extern const http_route_t http_routes[];

/* Finds the route for path and method.  Returns the route, or NULL with
 * *path_known telling 405 (path exists, other method) from 404. */
const http_route_t *http_route_find(const char *method, size_t method_len, const char *path,
                                    size_t path_len, bool *path_known);

/* Starts listening on host:port in the loop; *listener is the listening
 * socket (close it with h2o_socket_close).  Returns 0, or -errno with a
 * message in err. */
int http_listen(h2o_context_t *ctx, h2o_accept_ctx_t *accept_ctx, const char *host, int port,
                h2o_socket_t **listener, char *err, size_t err_len);

/* Entry point h2o calls for every request (registered by the gateway). */
int http_on_request(h2o_handler_t *self, h2o_req_t *req);

/* ---- a request's context (http.c) ---- */

/* A new context for req, owned by its pool: when the pool is freed, bridge
 * calls still tracked for it are cancelled. */
http_ctx_t *http_ctx_new(h2o_req_t *req, gateway_t *gateway);

/* The path of ctx's route, or "other" when none matched (so that unknown
 * paths cannot grow a label set). */
const char *http_route_name(const http_ctx_t *ctx);

/* Sends a complete response with a body (copied into the request pool). */
void http_reply(http_ctx_t *ctx, int status, const char *content_type, const char *body,
                size_t len);

/* Sends an error in the shape of ctx->family; type is OpenAI's error type
 * (NULL: derived from the status). */
void http_error(http_ctx_t *ctx, int status, const char *type, const char *message);

/* Starts a bridge call on behalf of the request and tracks it: if the
 * request is freed (the client went away) while the call is in flight, the
 * call is cancelled, so no callback ever sees a freed request.  Callbacks
 * must call http_untrack(ctx, id) first thing when the call ends.  A request
 * may have any number of calls in flight (a retrieval has one per shard).
 * Returns the call id, or 0 (then no callback runs). */
uint64_t http_call(http_ctx_t *ctx, const char *service, const char *header, const void *payload,
                   size_t payload_len, int timeout_ms, const bridge_callbacks_t *callbacks,
                   void *cb_ctx);
void http_untrack(http_ctx_t *ctx, uint64_t call_id);
/* Cancels one tracked call (0 is ignored). */
void http_cancel(http_ctx_t *ctx, uint64_t call_id);

/* The value of request header name (case-insensitive), or len 0. */
h2o_iovec_t http_header(const h2o_req_t *req, const char *name);

/* True when the request's Accept header asks for text/event-stream. */
bool http_wants_sse(const h2o_req_t *req);

#endif
