/*
 * lca's own routes: what the assistant knows.
 *
 *   POST /api/context      the chunks a retrieval finds (context.h), as JSON:
 *                          {"query"?, "prefix"?, "suffix"?, "path"?,
 *                          "collection"?, "k"?, "signals"?, "deadline_ms"?}
 *   GET /api/collections   the collections the shards hold (collections.h),
 *                          after a refresh, so that one seeded a moment ago
 *                          is listed
 */
#ifndef LCA_GATEWAY_KNOWLEDGE_H
#define LCA_GATEWAY_KNOWLEDGE_H

#include "gateway/http.h"

/* POST /api/context */
int knowledge_handle_context(http_ctx_t *ctx);

/* GET /api/collections */
int knowledge_handle_collections(http_ctx_t *ctx);

#endif
