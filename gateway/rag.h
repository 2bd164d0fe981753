/*
 * Retrieval-augmented prompts: the right code in the right place of every
 * chat and completion request, before it goes to the model.
 *
 * Chat: retrieve for the latest user turn (its text, code and the file paths
 * it names) and add one system message listing the chunks (path, lines,
 * fenced code), after the client's own system messages, which stay as they
 * are.  Completion: take prefix and suffix from prompt + suffix, or from a
 * raw FIM prompt of any family ProxyAI builds (fim.h); query with the code
 * around the cursor (ProxyAI's git-diff comment left out of the query, kept
 * in the prompt); put the chunks into the prompt in that family's
 * repository layout, within a character budget that leaves the prefix and
 * suffix whole.
 *
 * Completion retrieval has a hard deadline (LCA_RAG_COMPLETION_MS, default
 * 40 ms); past it the request goes on without context.  Chat may take longer
 * (LCA_RAG_CHAT_MS, default 300 ms).  LCA_RAG=off, or "options":
 * {"lca_rag": false} in a request, turns retrieval off.  The response header
 * X-LCA-Context says how many chunks were used and from which files:
 * "3 chunks: a.py:1-20, b.py:5-9, c.py:40-61", at most 2 KB, ending in
 * ", +N more" when the list does not fit.
 */
#ifndef LCA_GATEWAY_RAG_H
#define LCA_GATEWAY_RAG_H

#include "gateway/api.h"
#include "gateway/context.h"

#include <stdbool.h>
#include <stddef.h>

typedef void (*rag_go_t)(void *arg);
typedef void (*rag_fail_t)(void *arg, int status, const char *message);

/* Adds retrieved context to request->body, then calls go(arg) — or, for a
 * request naming a collection that does not exist, fail(arg, 404, ...).
 * Exactly one of them runs, possibly before this returns. */
void rag_prepare(http_ctx_t *ctx, api_request_t *request, rag_go_t go, rag_fail_t fail, void *arg);

/* Writes the X-LCA-Context value for the chunks of r that used[] marks (all
 * when used is NULL) into out (cap bytes, at least 32): whole items only,
 * printable ASCII, a comma in a path shown as '?'.  Returns its length. */
size_t rag_context_header(char *out, size_t cap, const context_result_t *r, const bool *used);

#endif
