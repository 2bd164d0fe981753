/*
 * Ollama's API on the gateway: /api/chat, /api/generate, /api/embed,
 * /api/embeddings, /api/tags, /api/show, /api/ps, /api/version and /.
 *
 * Chat and generate are checked (JSON, types, model), sent upstream as a
 * stream through the relay and answered the way the client reads them:
 * NDJSON lines exactly as Ollama writes them, one JSON object for
 * "stream": false (Ollama's default is to stream), or SSE when the client
 * sends Accept: text/event-stream (ProxyAI's OpenAI-style readers, replayed
 * in tests/clients/proxyai.test.mjs).  Unknown fields pass through to
 * Ollama, which ignores them; OpenAI-style top-level sampling fields
 * (temperature, max_tokens, stop, ...) that such clients put on these routes
 * move into "options" where Ollama honours them.  The other routes pass
 * through to Ollama unchanged.
 */
#ifndef LCA_GATEWAY_OLLAMA_H
#define LCA_GATEWAY_OLLAMA_H

#include "gateway/http.h"

#include <cJSON.h>

/* POST /api/chat */
int ollama_handle_chat(http_ctx_t *ctx);
/* POST /api/generate */
int ollama_handle_generate(http_ctx_t *ctx);
/* POST /api/embed */
int ollama_handle_embed(http_ctx_t *ctx);
/* POST /api/embeddings (the legacy single-prompt form) */
int ollama_handle_embeddings(http_ctx_t *ctx);
/* POST /api/show */
int ollama_handle_show(http_ctx_t *ctx);
/* GET /api/tags, /api/ps, /api/version: passed through as they are. */
int ollama_handle_passthrough(http_ctx_t *ctx);
/* GET / (and HEAD): "Ollama is running", as Ollama says it. */
int ollama_handle_root(http_ctx_t *ctx);

/* Moves OpenAI-style top-level sampling fields of body (temperature, top_p,
 * seed, stop, max_tokens, max_completion_tokens, frequency_penalty,
 * presence_penalty) into body.options, where options does not set them
 * already.  Fields of the wrong type are left where they are. */
void ollama_options_adopt(cJSON *body);

#endif
