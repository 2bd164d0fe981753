/*
 * Ollama's routes (see ollama.h).
 *
 * Field lists follow Ollama's request structs (api/types.go): a field of the
 * wrong type is a 400, as Go's decoder makes it; a field Ollama does not
 * know is passed on and ignored there.  A missing model is a 400 "model is
 * required" on every route (Ollama itself answers 404 "model '' not found"
 * on some; a client that forgot the model is better told so).
 */
#include "gateway/ollama.h"

#include "gateway/api.h"
#include "gateway/relay.h"

#include <stdio.h>
#include <string.h>

static const api_field_t chat_fields[] = {
    {"model", API_STRING},
    {"messages", API_ARRAY},
    {"stream", API_BOOL},
    {"format", API_STRING | API_OBJECT},
    {"options", API_OBJECT},
    {"keep_alive", API_STRING | API_NUMBER},
    {"tools", API_ARRAY},
    {"think", API_BOOL | API_STRING},
    {NULL, 0},
};

static const api_field_t message_fields[] = {
    {"role", API_STRING},
    {"content", API_STRING},
    {"images", API_ARRAY},
    {"tool_calls", API_ARRAY},
    {"thinking", API_STRING},
    {"tool_name", API_STRING},
    {NULL, 0},
};

static const api_field_t generate_fields[] = {
    {"model", API_STRING},
    {"prompt", API_STRING},
    {"suffix", API_STRING},
    {"system", API_STRING},
    {"template", API_STRING},
    {"context", API_ARRAY},
    {"raw", API_BOOL},
    {"stream", API_BOOL},
    {"format", API_STRING | API_OBJECT},
    {"images", API_ARRAY},
    {"options", API_OBJECT},
    {"keep_alive", API_STRING | API_NUMBER},
    {"think", API_BOOL | API_STRING},
    {NULL, 0},
};

static const api_field_t embed_fields[] = {
    {"model", API_STRING},
    {"input", API_STRING | API_ARRAY},
    {"truncate", API_BOOL},
    {"dimensions", API_NUMBER},
    {"options", API_OBJECT},
    {"keep_alive", API_STRING | API_NUMBER},
    {NULL, 0},
};

static const api_field_t embeddings_fields[] = {
    {"model", API_STRING},
    {"prompt", API_STRING},
    {"options", API_OBJECT},
    {"keep_alive", API_STRING | API_NUMBER},
    {NULL, 0},
};

void ollama_options_adopt(cJSON *body) {
    static const struct {
        const char *from, *to;
        unsigned types;
    } moves[] = {
        {"temperature", "temperature", API_NUMBER},
        {"top_p", "top_p", API_NUMBER},
        {"seed", "seed", API_NUMBER},
        {"stop", "stop", API_STRING | API_ARRAY},
        {"max_tokens", "num_predict", API_NUMBER},
        {"max_completion_tokens", "num_predict", API_NUMBER},
        {"frequency_penalty", "frequency_penalty", API_NUMBER},
        {"presence_penalty", "presence_penalty", API_NUMBER},
    };
    for (size_t i = 0; i < sizeof moves / sizeof moves[0]; i++) {
        cJSON *item = cJSON_GetObjectItemCaseSensitive(body, moves[i].from);
        bool fits = (cJSON_IsNumber(item) && (moves[i].types & API_NUMBER)) ||
                    (cJSON_IsString(item) && (moves[i].types & API_STRING)) ||
                    (cJSON_IsArray(item) && (moves[i].types & API_ARRAY));
        if (!fits)
            continue;
        cJSON *options = cJSON_GetObjectItemCaseSensitive(body, "options");
        if (!cJSON_IsObject(options)) {
            if (options)
                continue; /* null or odd: leave the body as the client wrote it */
            options = cJSON_AddObjectToObject(body, "options");
        }
        item = cJSON_DetachItemFromObjectCaseSensitive(body, moves[i].from);
        if (cJSON_GetObjectItemCaseSensitive(options, moves[i].to)) {
            cJSON_Delete(item);
            continue;
        }
        if (cJSON_IsString(item)) { /* "stop": "x" -> ["x"], as Ollama's options want */
            cJSON *list = cJSON_CreateArray();
            cJSON_AddItemToArray(list, item);
            item = list;
        }
        cJSON_AddItemToObject(options, moves[i].to, item);
    }
}

/* The parsed body with checked types and a model, duplicated into a new
 * generation request; NULL when the client was already answered. */
static api_request_t *generation_parse(http_ctx_t *ctx, api_kind_t kind,
                                       const api_field_t *fields) {
    cJSON *in = api_body_parse(ctx);
    if (!in || !api_fields_check(ctx, in, fields, NULL))
        return NULL;
    const char *model = api_model_require(ctx, in, NULL);
    if (!model)
        return NULL;
    if (kind == API_CHAT) {
        const cJSON *message;
        int i = 0;
        cJSON_ArrayForEach(message, cJSON_GetObjectItemCaseSensitive(in, "messages")) {
            char where[32];
            snprintf(where, sizeof where, "messages[%d]", i++);
            if (!cJSON_IsObject(message)) {
                char text[96];
                snprintf(text, sizeof text, "invalid type for \"%s\": expected an object, got %s",
                         where, api_type_name(message));
                http_error(ctx, 400, "invalid_request_error", text);
                return NULL;
            }
            if (!api_fields_check(ctx, message, message_fields, where))
                return NULL;
        }
    }
    api_request_t *r = api_request_new(ctx, kind);
    cJSON_Delete(r->body);
    r->body = cJSON_Duplicate(in, true);
    if (!r->body) {
        http_error(ctx, 500, NULL, "out of memory");
        return NULL;
    }
    r->model = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r->body, "model"));
    ollama_options_adopt(r->body);
    return r;
}

/* Ollama streams unless told "stream": false. */
static bool wants_stream(const cJSON *body) {
    return !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(body, "stream"));
}

int ollama_handle_chat(http_ctx_t *ctx) {
    api_request_t *r = generation_parse(ctx, API_CHAT, chat_fields);
    if (!r)
        return 0;
    if (http_wants_sse(ctx->req)) {
        /* An OpenAI-style reader on Ollama's URL: answer, and fail, in its terms. */
        r->output = API_OUT_SSE_CHAT;
        ctx->family = API_OPENAI;
    } else {
        r->output = wants_stream(r->body) ? API_OUT_NDJSON : API_OUT_OLLAMA_JSON;
    }
    return relay_generate(ctx, r);
}

int ollama_handle_generate(http_ctx_t *ctx) {
    api_request_t *r = generation_parse(ctx, API_GENERATE, generate_fields);
    if (!r)
        return 0;
    if (http_wants_sse(ctx->req)) {
        r->output = API_OUT_SSE_TEXT;
        r->ollama_fields = true;
        ctx->family = API_OPENAI;
    } else {
        r->output = wants_stream(r->body) ? API_OUT_NDJSON : API_OUT_OLLAMA_JSON;
        r->openai_fields = true; /* ProxyAI's Custom OpenAI reads choices[0].text here */
    }
    return relay_generate(ctx, r);
}

/* Checks a body and passes its bytes on unchanged. */
/* Checks a body and passes its bytes on to path unchanged. */
static int forward_checked(http_ctx_t *ctx, const char *path, const api_field_t *fields,
                           const char *alt_model) {
    cJSON *in = api_body_parse(ctx);
    if (!in || !api_fields_check(ctx, in, fields, NULL) || !api_model_require(ctx, in, alt_model))
        return 0;
    return relay_forward(ctx, "POST", path, ctx->req->entity.base, ctx->req->entity.len, NULL,
                         NULL);
}

int ollama_handle_embed(http_ctx_t *ctx) {
    return forward_checked(ctx, "/api/embed", embed_fields, NULL);
}

int ollama_handle_embeddings(http_ctx_t *ctx) {
    return forward_checked(ctx, "/api/embeddings", embeddings_fields, NULL);
}

int ollama_handle_show(http_ctx_t *ctx) {
    static const api_field_t fields[] = {
        {"model", API_STRING}, {"name", API_STRING}, {"verbose", API_BOOL}, {NULL, 0}};
    return forward_checked(ctx, "/api/show", fields, "name");
}

int ollama_handle_passthrough(http_ctx_t *ctx) {
    char path[32];
    snprintf(path, sizeof path, "%.*s", (int)(ctx->path.len < 31 ? ctx->path.len : 31),
             ctx->path.base);
    return relay_forward(ctx, "GET", path, NULL, 0, NULL, NULL);
}

int ollama_handle_root(http_ctx_t *ctx) {
    http_reply(ctx, 200, "text/plain; charset=utf-8", "Ollama is running", 17);
    return 0;
}
