/*
 * The gateway process: h2o serving the HTTP APIs, the broker, and the bridge
 * between them.  One instance per process; routes reach it via http_ctx_t.
 */
#ifndef LCA_GATEWAY_GATEWAY_H
#define LCA_GATEWAY_GATEWAY_H

#include "gateway/bridge.h"
#include "gateway/collections.h"
#include "gateway/guard.h"

#include <stddef.h>

struct gateway {
    bridge_t *bridge;
    collections_cache_t *collections; /* what the shards hold; refreshed on its own schedule */
    h2o_context_t *context;
    const char *api_key;    /* NULL: no authentication, and guard decides who may call */
    const guard_t *guard;   /* Host and Origin rules when there is no key */
    size_t max_body;        /* bytes; larger bodies get 413 */
    int shards;             /* retriever shards: services retrieve.0 .. retrieve.N-1 */
    int request_timeout_ms; /* end of a generation stream, at the latest */
    int status_timeout_ms;  /* /healthz and other broker questions */
    const char *version;
};

#endif
