/*
 * Operational routes: GET /healthz.
 */
#ifndef LCA_GATEWAY_HEALTH_H
#define LCA_GATEWAY_HEALTH_H

#include "gateway/http.h"

/* GET /healthz: each service's live worker count from the broker; 200 when
 * every required service (generate, embed, retrieve.0 .. retrieve.N-1) has
 * a worker, else 503. */
int health_handle(http_ctx_t *ctx);

#endif
