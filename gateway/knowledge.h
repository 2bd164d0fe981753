/*
 * lca's own routes: what the assistant knows.
 *
 *   POST /api/context      the chunks a retrieval finds (context.h), as JSON:
 *                          {"query"?, "prefix"?, "suffix"?, "path"?,
 *                          "collection"?, "k"?, "signals"?, "deadline_ms"?}
 *   GET /api/collections   the collections the shards hold (collections.h),
 *                          after a refresh, so that one seeded a moment ago
 *                          is listed
 *
 * Each chunk of /api/context carries "breakdown": why it ranked, one
 * {"signal", "value", "weight"} per signal that added to its score (the
 * score is the sum of value * weight; see fusion_term_t).
 */
#ifndef LCA_GATEWAY_KNOWLEDGE_H
#define LCA_GATEWAY_KNOWLEDGE_H

#include "gateway/context.h"
#include "gateway/http.h"
#include "proto/base/buf.h"

#include <stdbool.h>

/* POST /api/context */
int knowledge_handle_context(http_ctx_t *ctx);

/* GET /api/collections */
int knowledge_handle_collections(http_ctx_t *ctx);

/* Appends chunk c as the JSON object /api/context answers with: {"path",
 * "start_line", "end_line", "language", "score", "breakdown", "text"}; the
 * text only when with_text.  The one writer of a chunk, so that every
 * reader (clients, the status page) sees the same shape. */
void knowledge_append_chunk(buf_t *out, const context_chunk_t *c, bool with_text);

#endif
