/*
 * A request's context (see http.h): replies, errors in the caller's API
 * family's shape, and the bridge calls made on its behalf.  Routes call
 * this file; it calls none of them (the server, server.c, dispatches).
 */
#include "gateway/http.h"

#include "gateway/gateway.h"
#include "gateway/metrics.h"
#include "proto/base/log.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- the context ---- */

/* Runs before the pool's memory is freed (h2o releases shared entries
 * first), so the calls array is still there. */
static void on_ctx_dispose(void *p) {
    http_ctx_t *ctx = p;
    for (size_t i = 0; i < ctx->calls_cap; i++)
        if (ctx->calls[i])
            bridge_cancel(ctx->gateway->bridge, ctx->calls[i]);
}

http_ctx_t *http_ctx_new(h2o_req_t *req, gateway_t *gateway) {
    http_ctx_t *ctx = h2o_mem_alloc_shared(&req->pool, sizeof *ctx, on_ctx_dispose);
    memset(ctx, 0, sizeof *ctx);
    ctx->req = req;
    ctx->gateway = gateway;
    ctx->path = req->path_normalized;
    return ctx;
}

const char *http_route_name(const http_ctx_t *ctx) {
    return ctx->route ? ctx->route->path : "other";
}

h2o_iovec_t http_header(const h2o_req_t *req, const char *name) {
    size_t n = strlen(name);
    for (size_t i = 0; i != req->headers.size; i++) {
        const h2o_header_t *h = req->headers.entries + i;
        if (h->name->len == n && strncasecmp(h->name->base, name, n) == 0)
            return h->value;
    }
    return h2o_iovec_init(NULL, 0);
}

bool http_wants_sse(const h2o_req_t *req) {
    h2o_iovec_t accept = http_header(req, "accept");
    return accept.len &&
           h2o_strstr(accept.base, accept.len, H2O_STRLIT("text/event-stream")) != SIZE_MAX;
}

/* ---- replies ---- */

void http_reply(http_ctx_t *ctx, int status, const char *content_type, const char *body,
                size_t len) {
    h2o_req_t *req = ctx->req;
    metrics_response(http_route_name(ctx), status);
    req->res.status = status;
    req->res.reason = status < 400 ? "OK" : "Error";
    /* h2o keeps the value's pointer, not a copy, and the caller's string may
     * not outlive this call (relay.c passes Ollama's, from a parsed header
     * it frees next): the request's pool holds the header as long as the
     * request. */
    if (content_type) {
        h2o_iovec_t type = h2o_strdup(&req->pool, content_type, SIZE_MAX);
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, type.base,
                       type.len);
    }
    h2o_send_inline(req, body, len);
}

static const char *openai_type(int status) {
    switch (status) {
    case 401:
        return "invalid_request_error";
    case 403:
        return "permission_error";
    case 404:
        return "not_found_error";
    case 400:
    case 405:
    case 413:
    case 422:
        return "invalid_request_error";
    default:
        return "api_error";
    }
}

void http_error(http_ctx_t *ctx, int status, const char *type, const char *message) {
    cJSON *root = cJSON_CreateObject();
    if (ctx->family == API_OPENAI) {
        cJSON *e = cJSON_AddObjectToObject(root, "error");
        cJSON_AddStringToObject(e, "message", message);
        cJSON_AddStringToObject(e, "type", type ? type : openai_type(status));
        cJSON_AddNullToObject(e, "param");
        cJSON_AddNullToObject(e, "code");
    } else {
        cJSON_AddStringToObject(root, "error", message);
    }
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (status >= 500)
        log_warn("req=%s %d %s", ctx->rid, status, message);
    else
        log_debug("req=%s %d %s", ctx->rid, status, message);
    http_reply(ctx, status, "application/json; charset=utf-8", text ? text : "{}",
               text ? strlen(text) : 2);
    free(text);
}

/* ---- calls on behalf of a request ---- */

/* The index of a free slot in ctx->calls, growing the array (in the pool;
 * the old one stays there until the request ends) when every slot is taken. */
static size_t call_slot(http_ctx_t *ctx) {
    for (size_t i = 0; i < ctx->calls_cap; i++)
        if (!ctx->calls[i])
            return i;
    size_t cap = ctx->calls_cap ? ctx->calls_cap * 2 : 8;
    uint64_t *calls = h2o_mem_alloc_pool(&ctx->req->pool, sizeof *calls * cap);
    memset(calls, 0, sizeof *calls * cap);
    if (ctx->calls_cap)
        memcpy(calls, ctx->calls, sizeof *calls * ctx->calls_cap);
    size_t slot = ctx->calls_cap;
    ctx->calls = calls;
    ctx->calls_cap = cap;
    return slot;
}

uint64_t http_call(http_ctx_t *ctx, const char *service, const char *header, const void *payload,
                   size_t payload_len, int timeout_ms, const bridge_callbacks_t *callbacks,
                   void *cb_ctx) {
    size_t slot = call_slot(ctx);
    uint64_t id = bridge_call(ctx->gateway->bridge, service, header, payload, payload_len,
                              timeout_ms, callbacks, cb_ctx);
    ctx->calls[slot] = id;
    return id;
}

void http_untrack(http_ctx_t *ctx, uint64_t call_id) {
    for (size_t i = 0; call_id && i < ctx->calls_cap; i++)
        if (ctx->calls[i] == call_id)
            ctx->calls[i] = 0;
}

void http_cancel(http_ctx_t *ctx, uint64_t call_id) {
    if (!call_id)
        return;
    http_untrack(ctx, call_id);
    bridge_cancel(ctx->gateway->bridge, call_id);
}
