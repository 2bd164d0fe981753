/*
 * The status page's routes and the JSON it reads (see ui.h).
 */
#include "gateway/ui.h"

#include "gateway/gateway.h"
#include "gateway/guard.h"
#include "gateway/knowledge.h"
#include "gateway/ollama.h"
#include "gateway/ops.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char ui_csp[] = "default-src 'self'; script-src 'self'; style-src 'self'; "
                      "img-src 'self' data:; connect-src 'self'; object-src 'none'; "
                      "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/* ---- files ---- */

const ui_asset_t *ui_asset_find(const char *name, size_t len) {
    for (const ui_asset_t *a = ui_assets; a->name; a++)
        if (strlen(a->name) == len && memcmp(a->name, name, len) == 0)
            return a;
    return NULL;
}

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

const char *ui_content_type(const char *name) {
    if (ends_with(name, ".html"))
        return "text/html; charset=utf-8";
    if (ends_with(name, ".js"))
        return "text/javascript; charset=utf-8";
    if (ends_with(name, ".css"))
        return "text/css; charset=utf-8";
    return "application/octet-stream";
}

void ui_security_headers(h2o_req_t *req, bool stream) {
    static const struct {
        const char *name, *value;
    } headers[] = {
        {"content-security-policy", ui_csp}, {"x-content-type-options", "nosniff"},
        {"referrer-policy", "no-referrer"},  {"x-frame-options", "DENY"},
        {"cache-control", "no-cache"}, /* last: a stream sets its own */
    };
    size_t n = sizeof headers / sizeof headers[0] - (stream ? 1 : 0);
    for (size_t i = 0; i < n; i++)
        h2o_add_header_by_str(&req->pool, &req->res.headers, headers[i].name,
                              strlen(headers[i].name), 0, NULL, headers[i].value,
                              strlen(headers[i].value));
}

/* ---- who may call ---- */

static bool iov_is(h2o_iovec_t v, const char *s) {
    return v.len == strlen(s) && strncasecmp(v.base, s, v.len) == 0;
}

const char *ui_refusal(const ui_caller_t *c) {
    if (c->origin.len &&
        !guard_origin_is_own(c->origin.base, c->origin.len, c->host.base, c->host.len))
        return "the status page answers its own origin only";
    /* Fetch metadata: what a browser says about who asks.  A page of
     * another site may link to the page (a navigation), nothing more. */
    if (c->fetch_site.len && !iov_is(c->fetch_site, "same-origin") &&
        !iov_is(c->fetch_site, "none") && !(c->page && iov_is(c->fetch_mode, "navigate")))
        return "the status page answers its own origin only (Sec-Fetch-Site)";
    return NULL;
}

bool ui_browser_navigation(h2o_iovec_t accept, h2o_iovec_t fetch_dest, bool upgrade_insecure) {
    if (!accept.len || h2o_strstr(accept.base, accept.len, H2O_STRLIT("text/html")) == SIZE_MAX)
        return false;
    return iov_is(fetch_dest, "document") || upgrade_insecure;
}

bool ui_path(const char *path, size_t len) {
    return (len == 3 && memcmp(path, "/ui", 3) == 0) || (len >= 4 && memcmp(path, "/ui/", 4) == 0);
}

static bool wants_page(const http_ctx_t *ctx) {
    return ui_browser_navigation(http_header(ctx->req, "accept"),
                                 http_header(ctx->req, "sec-fetch-dest"),
                                 http_header(ctx->req, "upgrade-insecure-requests").len > 0);
}

static bool is_root(const http_ctx_t *ctx) {
    return ctx->path.len == 1 && ctx->path.base[0] == '/';
}

bool ui_owns(const http_ctx_t *ctx) {
    return ui_path(ctx->path.base, ctx->path.len) || (is_root(ctx) && wants_page(ctx));
}

static bool is_page_path(const char *path, size_t len) {
    return (len == 3 && !memcmp(path, "/ui", 3)) || (len == 4 && !memcmp(path, "/ui/", 4));
}

/* The page's own files: the page at /ui and /ui/, and its script and style. */
static const ui_asset_t *file_of(const char *path, size_t len) {
    if (is_page_path(path, len))
        return ui_asset_find(H2O_STRLIT("index.html"));
    if (len > 4 && !memcmp(path, "/ui/", 4))
        return ui_asset_find(path + 4, len - 4);
    return NULL;
}

static bool is_get(const h2o_req_t *req) {
    return h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")) ||
           h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"));
}

bool ui_is_public(const http_ctx_t *ctx) {
    if (!is_get(ctx->req))
        return false;
    return (is_root(ctx) && wants_page(ctx)) || file_of(ctx->path.base, ctx->path.len) != NULL;
}

bool ui_caller_allowed(http_ctx_t *ctx) {
    h2o_iovec_t host = ctx->req->input.authority;
    if (h2o_memis(host.base, host.len, H2O_STRLIT(HTTP_NO_HOST)))
        host = h2o_iovec_init(NULL, 0);
    ui_caller_t c = {.origin = http_header(ctx->req, "origin"),
                     .host = host,
                     .fetch_site = http_header(ctx->req, "sec-fetch-site"),
                     .fetch_mode = http_header(ctx->req, "sec-fetch-mode"),
                     .page = is_root(ctx) || is_page_path(ctx->path.base, ctx->path.len)};
    const char *why = ui_refusal(&c);
    if (!why)
        return true;
    ui_security_headers(ctx->req, false);
    http_error(ctx, 403, "permission_error", why);
    return false;
}

/* ---- serving files ---- */

static void reply_asset(http_ctx_t *ctx, const ui_asset_t *a) {
    ui_security_headers(ctx->req, false);
    http_reply(ctx, 200, ui_content_type(a->name), (const char *)a->data, a->len);
}

int ui_handle_root(http_ctx_t *ctx) {
    h2o_req_t *req = ctx->req;
    /* The same URL answers browsers and Ollama's clients differently. */
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_VARY, NULL,
                   H2O_STRLIT("Accept, Sec-Fetch-Dest, Upgrade-Insecure-Requests"));
    const ui_asset_t *page = ui_asset_find(H2O_STRLIT("index.html"));
    if (!wants_page(ctx) || !page)
        return ollama_handle_root(ctx);
    reply_asset(ctx, page);
    return 0;
}

int ui_handle_file(http_ctx_t *ctx) {
    const ui_asset_t *a = file_of(ctx->path.base, ctx->path.len);
    if (!a) {
        http_error(ctx, 404, NULL, "no such file");
        return 0;
    }
    reply_asset(ctx, a);
    return 0;
}

/* ---- JSON ---- */

static void append_count(buf_t *out, const char *key, double value) {
    if (value < 0)
        buf_printf(out, ",\"%s\":null", key);
    else
        buf_printf(out, ",\"%s\":%.1f", key, value);
}

static void append_long(buf_t *out, const char *key, long value) {
    if (value < 0)
        buf_printf(out, ",\"%s\":null", key);
    else
        buf_printf(out, ",\"%s\":%ld", key, value);
}

static void append_string(buf_t *out, const char *key, const char *value) {
    buf_printf(out, ",\"%s\":", key);
    buf_append_json_string(out, value, strlen(value));
}

void ui_append_request(buf_t *out, const history_entry_t *e) {
    buf_printf(out, "{\"id\":%llu,\"version\":%u", (unsigned long long)e->id, e->version);
    append_string(out, "rid", e->rid);
    append_string(out, "route", e->route);
    append_string(out, "model", e->model);
    buf_printf(out, ",\"started_at\":%lld,\"status\":%d", (long long)e->started_ms, e->status);
    append_count(out, "first_token_ms", e->first_token_ms);
    append_count(out, "duration_ms", e->duration_ms);
    append_long(out, "tokens", e->tokens);
    append_long(out, "prompt_tokens", e->prompt_tokens);
    append_long(out, "reread_tokens", e->reread_tokens);
    if (!e->has_context) {
        buf_append_str(out, ",\"context\":null}");
        return;
    }
    buf_append_str(out, ",\"context\":{\"collection\":");
    buf_append_json_string(out, e->collection, strlen(e->collection));
    buf_printf(out, ",\"elapsed_ms\":%.3f,\"dropped\":%zu,\"chunks\":[", e->retrieval_ms,
               e->chunks_dropped);
    for (size_t i = 0; i < e->nchunks; i++) {
        if (i)
            buf_append_str(out, ",");
        knowledge_append_chunk(out, &e->chunks[i].chunk, false);
    }
    buf_append_str(out, "],\"used\":[");
    for (size_t i = 0; i < e->nchunks; i++)
        buf_append_str(out, i ? (e->chunks[i].used ? ",true" : ",false")
                              : (e->chunks[i].used ? "true" : "false"));
    buf_append_str(out, "]}}");
}

void ui_append_collections(buf_t *out, const collections_t *snapshot) {
    if (snapshot)
        buf_printf(out, "{\"known\":%s,\"shards_missing\":%d,\"list\":",
                   snapshot->known ? "true" : "false", snapshot->shards_missing);
    else
        buf_append_str(out, "{\"known\":false,\"shards_missing\":null,\"list\":");
    collections_append_json(snapshot, out);
    buf_append_str(out, "}");
}

void ui_append_state(buf_t *out, const gateway_t *gw, const char *broker_json,
                     const char *broker_error, const collections_t *snapshot) {
    buf_append_str(out, "{\"version\":");
    buf_append_json_string(out, gw->version, strlen(gw->version));
    buf_printf(out, ",\"shards\":%d,\"auth\":%s,\"history_max\":%d,\"broker\":", gw->shards,
               gw->api_key ? "true" : "false", HISTORY_MAX);
    buf_append_str(out, broker_json ? broker_json : "null");
    buf_append_str(out, ",\"broker_error\":");
    if (broker_error)
        buf_append_json_string(out, broker_error, strlen(broker_error));
    else
        buf_append_str(out, "null");
    buf_append_str(out, ",\"collections\":");
    ui_append_collections(out, snapshot);
    buf_append_str(out, ",\"requests\":[");
    uint64_t last = history_last_id();
    bool first = true;
    for (uint64_t id = last; id > 0 && last - id < HISTORY_MAX; id--) {
        const history_entry_t *e = history_find(id);
        if (!e)
            break;
        if (!first)
            buf_append_str(out, ",");
        first = false;
        ui_append_request(out, e);
    }
    buf_append_str(out, "]}");
}

/* ---- GET /ui/api/state ---- */

typedef struct {
    http_ctx_t *ctx;
    char *broker_json; /* in the pool; NULL: none */
    const char *broker_error;
    collections_waiter_t waiter;
} state_t;

static void state_dispose(void *p) {
    collections_cancel_wait(&((state_t *)p)->waiter);
}

static void state_reply(state_t *st, const collections_t *snapshot) {
    buf_t out = BUF_INIT;
    ui_append_state(&out, st->ctx->gateway, st->broker_json, st->broker_error, snapshot);
    ui_security_headers(st->ctx->req, false);
    http_reply(st->ctx, 200, "application/json; charset=utf-8", out.data, out.len);
    buf_free(&out);
}

static void on_state_collections(collections_waiter_t *w, const collections_t *snapshot) {
    state_reply(H2O_STRUCT_FROM_MEMBER(state_t, waiter, w), snapshot);
}

static void on_state_status(http_ctx_t *ctx, const cJSON *status, const char *error) {
    state_t *st = h2o_mem_alloc_shared(&ctx->req->pool, sizeof *st, state_dispose);
    memset(st, 0, sizeof *st);
    st->ctx = ctx;
    if (status) {
        char *text = cJSON_PrintUnformatted(status);
        if (text) {
            st->broker_json = h2o_strdup(&ctx->req->pool, text, strlen(text)).base;
            free(text);
        }
    }
    if (error)
        st->broker_error = h2o_strdup(&ctx->req->pool, error, strlen(error)).base;
    else if (!status)
        st->broker_error = "the broker's answer was not JSON";
    collections_t *snapshot = collections_current(ctx->gateway->collections);
    if (snapshot) {
        state_reply(st, snapshot);
        collections_release(&snapshot);
        return;
    }
    st->waiter.on_ready = on_state_collections; /* none yet: the first refresh */
    collections_wait(ctx->gateway->collections, &st->waiter);
}

int ui_handle_state(http_ctx_t *ctx) {
    ops_status_ask(ctx, on_state_status);
    return 0;
}

/* ---- GET /ui/api/chunk ---- */

/* The value of name=digits in the query string, or -1. */
static long long query_number(const h2o_req_t *req, const char *name) {
    if (req->query_at == SIZE_MAX)
        return -1;
    const char *q = req->path.base + req->query_at + 1, *end = req->path.base + req->path.len;
    size_t n = strlen(name);
    while (q < end) {
        const char *amp = memchr(q, '&', (size_t)(end - q));
        const char *item_end = amp ? amp : end;
        if ((size_t)(item_end - q) > n + 1 && !memcmp(q, name, n) && q[n] == '=') {
            long long v = 0;
            const char *d = q + n + 1;
            if (item_end - d > 15)
                return -1;
            for (; d < item_end; d++) {
                if (*d < '0' || *d > '9')
                    return -1;
                v = v * 10 + (*d - '0');
            }
            return v;
        }
        q = item_end + 1;
    }
    return -1;
}

int ui_handle_chunk(http_ctx_t *ctx) {
    long long id = query_number(ctx->req, "request"), index = query_number(ctx->req, "index");
    ui_security_headers(ctx->req, false);
    if (id < 1 || index < 0) {
        http_error(ctx, 400, NULL, "ask for ?request=ID&index=I");
        return 0;
    }
    const history_entry_t *e = history_find((uint64_t)id);
    if (!e || (size_t)index >= e->nchunks) {
        http_error(ctx, 404, NULL, "that request is no longer kept, or has no such chunk");
        return 0;
    }
    const history_chunk_t *h = &e->chunks[index];
    buf_t out = BUF_INIT;
    buf_printf(&out, "{\"request\":%lld,\"index\":%lld,\"used\":%s,\"truncated\":%s,\"chunk\":", id,
               index, h->used ? "true" : "false", h->truncated ? "true" : "false");
    knowledge_append_chunk(&out, &h->chunk, true);
    buf_append_str(&out, "}");
    http_reply(ctx, 200, "application/json; charset=utf-8", out.data, out.len);
    buf_free(&out);
    return 0;
}
