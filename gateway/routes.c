/*
 * The gateway's route table: every endpoint, its method and its handler.
 * GET routes answer HEAD too.  The same table serves /c/<collection>/...
 */
#include "gateway/events.h"
#include "gateway/http.h"
#include "gateway/knowledge.h"
#include "gateway/ollama.h"
#include "gateway/openai.h"
#include "gateway/ops.h"
#include "gateway/ui.h"

const http_route_t http_routes[] = {
    {"GET", "/healthz", ops_handle_health},
    {"GET", "/metrics", ops_handle_metrics},
    /* lca's own: what the assistant knows */
    {"POST", "/api/context", knowledge_handle_context},
    {"GET", "/api/collections", knowledge_handle_collections},
    /* the status page (ui.h, events.h); GET / is Ollama's but for a browser */
    {"GET", "/ui", ui_handle_file},
    {"GET", "/ui/", ui_handle_file},
    {"GET", "/ui/app.js", ui_handle_file},
    {"GET", "/ui/style.css", ui_handle_file},
    {"GET", "/ui/api/state", ui_handle_state},
    {"GET", "/ui/api/chunk", ui_handle_chunk},
    {"GET", "/ui/events", events_handle},
    /* Ollama */
    {"GET", "/", ui_handle_root},
    {"POST", "/api/chat", ollama_handle_chat},
    {"POST", "/api/generate", ollama_handle_generate},
    {"POST", "/api/embed", ollama_handle_embed},
    {"POST", "/api/embeddings", ollama_handle_embeddings},
    {"POST", "/api/show", ollama_handle_show},
    {"GET", "/api/tags", ollama_handle_passthrough},
    {"GET", "/api/ps", ollama_handle_passthrough},
    {"GET", "/api/version", ollama_handle_passthrough},
    /* OpenAI */
    {"POST", "/v1/chat/completions", openai_handle_chat},
    {"POST", "/v1/completions", openai_handle_completions},
    {"GET", "/v1/models", openai_handle_models},
    {"POST", "/v1/embeddings", openai_handle_embeddings},
    {NULL, NULL, NULL},
};
