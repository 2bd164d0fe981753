/*
 * The gateway's metrics registry: requests by route and status, time to
 * first token and retrieval latency histograms, tokens streamed, rendered
 * in Prometheus's text format.  A leaf: it takes plain values and knows
 * nothing of HTTP (the GET /metrics route is in ops.h).  Counters live on
 * the loop thread; no locking.
 */
#ifndef LCA_GATEWAY_METRICS_H
#define LCA_GATEWAY_METRICS_H

#include "proto/base/buf.h"

#include <cJSON.h>
#include <stdbool.h>
#include <stddef.h>

/* A response with this status started for route: a route table path, or
 * "other" (a string that lives as long as the process; there is room for
 * 256 route and status pairs, later ones are not counted). */
void metrics_response(const char *route, int status);

/* A generation ended: time to its first token (ms; < 0 when none came) and
 * how many lines (tokens) it streamed. */
void metrics_generation(double first_token_ms, size_t tokens);

/* A retrieval finished in ms; timed_out when its deadline came before
 * every shard had answered (it then went on with what had arrived). */
void metrics_retrieval(double ms, bool timed_out);

/* Appends every counter and histogram to out, then the live workers, queue
 * depth and requests in flight of each service in broker_status (the
 * broker's "broker.status" answer: {"services":{name:{"workers","queued",
 * "inflight"}}}; NULL: no services). */
void metrics_render(const cJSON *broker_status, buf_t *out);

/* Appends s as a Prometheus label value: quotes, backslashes and newlines
 * escaped (the one escaping rule of every label lca writes). */
void metrics_label(buf_t *out, const char *s);

#endif
