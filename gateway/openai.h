/*
 * OpenAI's API on the gateway: /v1/chat/completions, /v1/completions,
 * /v1/models and /v1/embeddings, the way Ollama's own OpenAI layer serves
 * them, so that openai-node and ProxyAI's OpenAI providers work unchanged.
 *
 * Requests are translated into Ollama's native API (/api/chat,
 * /api/generate with "suffix" for fill-in-the-middle, /api/tags, /api/embed)
 * and take the same path upstream as Ollama's own routes: max_tokens and
 * max_completion_tokens become options.num_predict; stop, temperature,
 * top_p, seed, frequency_penalty and presence_penalty become options;
 * response_format becomes "format".  Answers are SSE (data: ..., then
 * data: [DONE]) when the request says "stream": true or the client accepts
 * only text/event-stream, else one JSON object; errors are
 * {"error": {"message", "type", "param", "code"}}.
 */
#ifndef LCA_GATEWAY_OPENAI_H
#define LCA_GATEWAY_OPENAI_H

#include "gateway/http.h"

/* POST /v1/chat/completions */
int openai_handle_chat(http_ctx_t *ctx);
/* POST /v1/completions */
int openai_handle_completions(http_ctx_t *ctx);
/* GET /v1/models */
int openai_handle_models(http_ctx_t *ctx);
/* POST /v1/embeddings (encoding_format "float" or "base64") */
int openai_handle_embeddings(http_ctx_t *ctx);

#endif
