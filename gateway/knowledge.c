/*
 * lca's own routes (see knowledge.h).
 */
#include "gateway/knowledge.h"

#include "gateway/api.h"
#include "gateway/collections.h"
#include "gateway/context.h"
#include "gateway/gateway.h"
#include "proto/base/buf.h"

#include <cJSON.h>
#include <stdio.h>
#include <string.h>

/* A field of the body, NULL when it is missing or null: clients send null
 * for an option they leave unset, and it means the default, not an error. */
static const cJSON *optional_field(const cJSON *body, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, key);
    return cJSON_IsNull(v) ? NULL : v;
}

static const char *string_field(const cJSON *body, const char *key, size_t *len, bool *bad) {
    const cJSON *v = optional_field(body, key);
    if (!v)
        return NULL;
    if (!cJSON_IsString(v)) {
        *bad = true;
        return NULL;
    }
    if (len)
        *len = strlen(v->valuestring);
    return v->valuestring;
}

void knowledge_append_chunk(buf_t *out, const context_chunk_t *c, bool with_text) {
    const char *path = c->path ? c->path : "", *language = c->language ? c->language : "";
    const char *kind = c->kind ? c->kind : "";
    buf_append_str(out, "{\"path\":");
    buf_append_json_string(out, path, strlen(path));
    buf_printf(out, ",\"start_line\":%d,\"end_line\":%d,\"language\":", c->start_line, c->end_line);
    buf_append_json_string(out, language, strlen(language));
    buf_append_str(out, ",\"kind\":");
    buf_append_json_string(out, kind, strlen(kind));
    buf_printf(out, ",\"score\":%.4f,\"breakdown\":[", c->score);
    for (size_t t = 0; t < c->nterms && t < FUSION_TERMS_MAX; t++) {
        buf_append_str(out, t ? ",{\"signal\":" : "{\"signal\":");
        buf_append_json_string(out, c->terms[t].signal, strlen(c->terms[t].signal));
        buf_printf(out, ",\"value\":%.4f,\"weight\":%.4f}", c->terms[t].value, c->terms[t].weight);
    }
    buf_append_str(out, "]");
    if (with_text) {
        buf_append_str(out, ",\"text\":");
        buf_append_json_string(out, c->text ? c->text : "", c->text ? c->text_len : 0);
    }
    buf_append_str(out, "}");
}

static void on_context_done(http_ctx_t *ctx, const context_result_t *r, void *arg) {
    (void)arg;
    if (r->status != 200) {
        /* 204 is "no context": nothing indexed (404), or no list of the
         * collections yet within the request's deadline (504). */
        int status = r->status != 204 ? r->status : r->timed_out ? 504 : 404;
        http_error(ctx, status, NULL, r->message);
        return;
    }
    buf_t out = BUF_INIT;
    buf_append_str(&out, "{\"collection\":");
    buf_append_json_string(&out, r->collection, strlen(r->collection));
    buf_append_str(&out, ",\"root\":");
    buf_append_json_string(&out, r->root, strlen(r->root));
    buf_printf(&out, ",\"elapsed_ms\":%.3f,\"shards_missing\":%d,\"chunks\":[", r->elapsed_ms,
               r->shards_missing);
    for (size_t i = 0; i < r->count; i++) {
        if (i)
            buf_append_str(&out, ",");
        knowledge_append_chunk(&out, &r->chunks[i], true);
    }
    buf_append_str(&out, "]}");
    http_reply(ctx, 200, "application/json; charset=utf-8", out.data, out.len);
    buf_free(&out);
}

int knowledge_handle_context(http_ctx_t *ctx) {
    const cJSON *body = api_body_parse(ctx);
    if (!body)
        return 0;
    context_query_t q = {.deadline_ms = 2000};
    bool bad = false;
    q.query = string_field(body, "query", &q.query_len, &bad);
    q.prefix = string_field(body, "prefix", &q.prefix_len, &bad);
    q.suffix = string_field(body, "suffix", &q.suffix_len, &bad);
    q.path = string_field(body, "path", NULL, &bad);
    q.collection = string_field(body, "collection", NULL, &bad);
    const cJSON *k = optional_field(body, "k");
    if (k && !(cJSON_IsNumber(k) && k->valuedouble >= 1 && k->valuedouble <= 100))
        bad = true;
    q.k = k ? (int)k->valuedouble : 10;
    const cJSON *deadline = optional_field(body, "deadline_ms");
    if (cJSON_IsNumber(deadline) && deadline->valuedouble >= 1 && deadline->valuedouble <= 60000)
        q.deadline_ms = (int)deadline->valuedouble;
    const cJSON *signals = optional_field(body, "signals"), *sig;
    if (signals && !cJSON_IsArray(signals))
        bad = true;
    cJSON_ArrayForEach(sig, signals) {
        const char *name = cJSON_IsString(sig) ? sig->valuestring : "";
        unsigned bit = !strcmp(name, "dense")       ? SIGNAL_DENSE
                       : !strcmp(name, "bm25")      ? SIGNAL_BM25
                       : !strcmp(name, "structure") ? SIGNAL_STRUCTURE
                       : !strcmp(name, "symbol")    ? SIGNAL_SYMBOL
                       : !strcmp(name, "import")    ? SIGNAL_IMPORT
                       : !strcmp(name, "object")    ? SIGNAL_OBJECT
                       : !strcmp(name, "uses")      ? SIGNAL_USES
                                                    : 0;
        if (!bit) {
            http_error(ctx, 400, NULL,
                       "unknown signal (use dense, bm25, structure, symbol, import, object, uses)");
            return 0;
        }
        q.signals |= bit;
    }
    if (bad) {
        http_error(ctx, 400, NULL,
                   "query, prefix, suffix, path and collection must be strings, k a number from "
                   "1 to 100, signals an array of names");
        return 0;
    }
    if (!q.query_len && !q.prefix_len && !q.suffix_len) {
        http_error(ctx, 400, NULL, "send a query (chat) or a prefix/suffix (completion)");
        return 0;
    }
    context_retrieve(ctx, &q, on_context_done, NULL);
    return 0;
}

/* GET /api/collections waits for a refresh, so that a collection seeded a
 * moment ago is listed. */
typedef struct {
    http_ctx_t *ctx;
    collections_waiter_t waiter;
} list_t;

static void list_dispose(void *p) {
    collections_cancel_wait(&((list_t *)p)->waiter);
}

static void on_list_ready(collections_waiter_t *w, const collections_t *snapshot) {
    list_t *list = H2O_STRUCT_FROM_MEMBER(list_t, waiter, w);
    buf_t out = BUF_INIT;
    buf_append_str(&out, "{\"collections\":");
    collections_append_json(snapshot, &out);
    buf_printf(&out, ",\"shards_missing\":%d}", snapshot->shards_missing);
    http_reply(list->ctx, 200, "application/json; charset=utf-8", out.data, out.len);
    buf_free(&out);
}

int knowledge_handle_collections(http_ctx_t *ctx) {
    list_t *list = h2o_mem_alloc_shared(&ctx->req->pool, sizeof *list, list_dispose);
    memset(list, 0, sizeof *list);
    list->ctx = ctx;
    list->waiter.on_ready = on_list_ready;
    collections_wait(ctx->gateway->collections, &list->waiter);
    return 0;
}
