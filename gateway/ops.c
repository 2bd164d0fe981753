/*
 * Operational routes (see ops.h).  The broker answers "broker.status"
 * itself; /healthz turns that into the readiness view a supervisor or a
 * container health check wants, /metrics into Prometheus gauges.
 */
#include "gateway/ops.h"

#include "proto/shard.h"

#include "gateway/collections.h"
#include "gateway/gateway.h"
#include "gateway/metrics.h"
#include "proto/base/buf.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- asking the broker ---- */

typedef struct {
    http_ctx_t *ctx;
    uint64_t call;
    ops_status_fn done;
} status_call_t;

static void on_status(void *arg, const proto_msg_t *msg) {
    status_call_t *sc = arg;
    http_untrack(sc->ctx, sc->call);
    cJSON *status = msg->header ? cJSON_ParseWithLength(msg->header, msg->header_len) : NULL;
    sc->done(sc->ctx, status, NULL);
    cJSON_Delete(status);
}

static void on_status_error(void *arg, int code, const char *message) {
    (void)code;
    status_call_t *sc = arg;
    http_untrack(sc->ctx, sc->call);
    sc->done(sc->ctx, NULL, message);
}

void ops_status_ask(http_ctx_t *ctx, ops_status_fn done) {
    static const bridge_callbacks_t callbacks = {NULL, on_status, on_status_error};
    status_call_t *sc = h2o_mem_alloc_pool(&ctx->req->pool, sizeof *sc);
    *sc = (status_call_t){.ctx = ctx, .done = done};
    sc->call = http_call(ctx, "broker.status", NULL, NULL, 0, ctx->gateway->status_timeout_ms,
                         &callbacks, sc);
    if (!sc->call)
        done(ctx, NULL, "the broker is not reachable");
}

/* ---- GET /healthz ---- */

static void add_service(cJSON *out, const cJSON *services, const char *name, bool *ready) {
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(services, name);
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(s, "workers");
    int workers = cJSON_IsNumber(w) ? (int)w->valuedouble : 0;
    cJSON *o = cJSON_AddObjectToObject(out, name);
    cJSON_AddNumberToObject(o, "workers", workers);
    if (workers == 0)
        *ready = false;
}

static void on_health(http_ctx_t *ctx, const cJSON *status, const char *error) {
    if (error) {
        http_error(ctx, 503, NULL, error);
        return;
    }
    gateway_t *gw = ctx->gateway;
    const cJSON *services = cJSON_GetObjectItemCaseSensitive(status, "services");
    cJSON *root = cJSON_CreateObject();
    cJSON *out = cJSON_CreateObject();
    bool ready = true;
    add_service(out, services, "generate", &ready);
    add_service(out, services, "embed", &ready);
    for (int i = 0; i < gw->shards; i++) {
        char name[SHARD_SERVICE_MAX];
        add_service(out, services, shard_service(i, name), &ready);
    }
    cJSON_AddStringToObject(root, "status", ready ? "ok" : "unavailable");
    cJSON_AddItemToObject(root, "services", out);
    cJSON_AddStringToObject(root, "version", gw->version);
    char *text = cJSON_PrintUnformatted(root);
    http_reply(ctx, ready ? 200 : 503, "application/json", text, strlen(text));
    free(text);
    cJSON_Delete(root);
}

int ops_handle_health(http_ctx_t *ctx) {
    ops_status_ask(ctx, on_health);
    return 0;
}

/* ---- GET /metrics ---- */

/* Without the broker's status the page still has the gateway's own. */
static void on_metrics(http_ctx_t *ctx, const cJSON *status, const char *error) {
    (void)error;
    buf_t out = BUF_INIT;
    metrics_render(status, &out);
    collections_t *snapshot = collections_current(ctx->gateway->collections);
    collections_append_metrics(snapshot, &out);
    collections_release(&snapshot);
    http_reply(ctx, 200, "text/plain; version=0.0.4; charset=utf-8", out.data, out.len);
    buf_free(&out);
}

int ops_handle_metrics(http_ctx_t *ctx) {
    ops_status_ask(ctx, on_metrics);
    return 0;
}
