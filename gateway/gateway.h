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

/* The most values a JSON request body may hold, unless LCA_MAX_JSON_VALUES
 * says otherwise.  The largest legitimate bodies: /api/generate's "context"
 * carries one number per token of the previous exchange (131072 for a
 * 128k window); OpenAI's /v1/embeddings takes at most 2048 inputs; a chat
 * costs about four values a message.  Twice the largest keeps cJSON's nodes
 * of one body under about 21 MB (a 4-million-element array, 8 MB of text,
 * would take half a gigabyte). */
#define GATEWAY_JSON_VALUES_DEFAULT 262144

struct gateway {
    bridge_t *bridge;
    collections_cache_t *collections; /* what the shards hold; refreshed on its own schedule */
    h2o_context_t *context;
    const char *api_key;    /* NULL: no authentication, and guard decides who may call */
    const guard_t *guard;   /* Host and Origin rules when there is no key */
    size_t max_body;        /* bytes; larger bodies get 413 */
    size_t max_json_values; /* values in a JSON body (api_body_parse); more get 413 */
    int shards;             /* retriever shards: services retrieve.0 .. retrieve.N-1 */
    int request_timeout_ms; /* end of a generation stream, at the latest */
    int status_timeout_ms;  /* /healthz and other broker questions */
    const char *version;
};

#endif
