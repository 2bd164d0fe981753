/*
 * GET /metrics in Prometheus's text format: requests by route and status,
 * time to first token and retrieval latency histograms, tokens streamed,
 * and — asked of the broker when scraped — workers and queue depth per
 * service, plus chunks per collection.  Counters live on the loop thread;
 * no locking.
 */
#ifndef LCA_GATEWAY_METRICS_H
#define LCA_GATEWAY_METRICS_H

#include "gateway/http.h"

/* A response with this status started for ctx's route. */
void metrics_response(const http_ctx_t *ctx, int status);

/* A generation ended: time to its first token (ms; < 0 when none came) and
 * how many lines (tokens) it streamed. */
void metrics_generation(double first_token_ms, size_t tokens);

/* A retrieval finished in ms. */
void metrics_retrieval(double ms);

/* GET /metrics */
int metrics_handle(http_ctx_t *ctx);

#endif
