/*
 * Retrieval-augmented prompts: the right code in the right place of every
 * chat and completion request, before it goes to the model — and a prompt
 * the model reads as little of as it can, inside its window.
 *
 * Chat: retrieve for the latest user turn (its text, code and the file paths
 * it names) and add one system message listing the chunks (path, lines,
 * fenced code), after the client's own system messages, which stay as they
 * are.  Completion: take prefix and suffix from prompt + suffix, or from a
 * raw FIM prompt of any family ProxyAI builds (fim.h; the model's name
 * decides between families that share markers); query with the code
 * around the cursor (ProxyAI's git-diff comment left out of the query, kept
 * in the prompt); put the chunks into the prompt in that family's
 * repository layout.
 *
 * What the model pays for: Ollama reads again only what follows
 * the longest prefix a prompt shares with the last one.  So a completion
 * goes through its editing session (session.h): the context block stays
 * byte for byte the same while the cursor stays in one scope and changes
 * only at its end (LCA_RAG_HOLD, "lca_hold"); the text that fell off the
 * head of the client's window is put back, so the head stays where it was
 * (LCA_RAG_RESTORE_TOKENS, default 1024, at most; "lca_restore"); chunks of
 * the file being edited are left out; and the suffix, read again at every
 * keystroke, keeps whole lines up to LCA_RAG_SUFFIX_TOKENS (128; 0 keeps it
 * whole; "lca_suffix").
 *
 * Budgets are in tokens (tokens.h's conservative estimate), inside the
 * model's window (window.h; LCA_RAG_WINDOW: "auto", a number, or "off";
 * "lca_window"): the client's text and the reply's num_predict (else 256
 * tokens; a chat keeps a quarter of the window, at most 1024) come first,
 * then the context, then the text put back; the client's own text is never
 * cut to fit (only the suffix, as above).  A chat's context message never
 * pushes the conversation out of the window.  LCA_RAG_COMPLETION_BUDGET
 * (4000) and LCA_RAG_CHAT_BUDGET (6000) still bound the context in
 * characters.
 *
 * Completion retrieval has a hard deadline (LCA_RAG_COMPLETION_MS, default
 * 40 ms); past it the request goes on with the context its session holds,
 * or none.  Chat may take longer (LCA_RAG_CHAT_MS, default 300 ms).
 * LCA_RAG=off, or "options": {"lca_rag": false} in a request, turns all of
 * it off; LCA_RAG_FIM_BY_NAME=off ("lca_fim_by_name": false) lets spacing
 * alone choose the family.  "lca_*" options never go upstream.  The
 * response header X-LCA-Context says how many chunks were used and from
 * which files: "3 chunks: a.py:1-20, b.py:5-9, c.py:40-61", at most 2 KB,
 * ending in ", +N more" when the list does not fit.
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
