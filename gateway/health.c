/*
 * GET /healthz (see health.h).  The broker answers "broker.status" itself;
 * this route turns that into the readiness view a supervisor or a container
 * health check wants.
 */
#include "gateway/health.h"

#include "gateway/gateway.h"
#include "proto/shard.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    http_ctx_t *ctx;
    uint64_t call;
} health_t;

static void add_service(cJSON *out, const cJSON *services, const char *name, bool *ready) {
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(services, name);
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(s, "workers");
    int workers = cJSON_IsNumber(w) ? (int)w->valuedouble : 0;
    cJSON *o = cJSON_AddObjectToObject(out, name);
    cJSON_AddNumberToObject(o, "workers", workers);
    if (workers == 0)
        *ready = false;
}

static void on_final(void *arg, const proto_msg_t *msg) {
    health_t *h = arg;
    http_untrack(h->ctx, h->call);
    gateway_t *gw = h->ctx->gateway;
    cJSON *status = cJSON_ParseWithLength(msg->header, msg->header_len);
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
    http_reply(h->ctx, ready ? 200 : 503, "application/json", text, strlen(text));
    free(text);
    cJSON_Delete(root);
    cJSON_Delete(status);
}

static void on_error(void *arg, int status, const char *message) {
    health_t *h = arg;
    http_untrack(h->ctx, h->call);
    (void)status;
    http_error(h->ctx, 503, NULL, message);
}

int health_handle(http_ctx_t *ctx) {
    health_t *h = h2o_mem_alloc_pool(&ctx->req->pool, sizeof *h);
    h->ctx = ctx;
    static const bridge_callbacks_t callbacks = {NULL, on_final, on_error};
    h->call = http_call(ctx, "broker.status", NULL, NULL, 0, ctx->gateway->status_timeout_ms,
                        &callbacks, h);
    if (!h->call)
        http_error(ctx, 503, NULL, "the broker is not reachable");
    return 0;
}
