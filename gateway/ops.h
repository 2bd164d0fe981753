/*
 * Operational routes, for supervisors and monitoring rather than clients:
 *
 *   GET /healthz   each service's live worker count from the broker; 200
 *                  when every required service (generate, embed,
 *                  retrieve.0 .. retrieve.N-1) has a worker, else 503
 *   GET /metrics   the gateway's metrics (metrics.h), the broker's workers
 *                  and queues per service, and the chunks per collection,
 *                  in Prometheus's text format
 *
 * Both ask the broker its "broker.status" when called.
 */
#ifndef LCA_GATEWAY_OPS_H
#define LCA_GATEWAY_OPS_H

#include "gateway/http.h"

#include <cJSON.h>

/* GET /healthz */
int ops_handle_health(http_ctx_t *ctx);

/* GET /metrics */
int ops_handle_metrics(http_ctx_t *ctx);

/* Gets the broker's status (parsed; NULL when its header is not JSON), or,
 * when the broker did not answer, NULL and the error's message. */
typedef void (*ops_status_fn)(http_ctx_t *ctx, const cJSON *status, const char *error);

/* Asks the broker its "broker.status" on behalf of ctx; done runs once
 * (before this returns when the call cannot even start). */
void ops_status_ask(http_ctx_t *ctx, ops_status_fn done);

#endif
