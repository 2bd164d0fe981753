/*
 * What the API adapters share: reading a request body strictly, checking
 * field types, and the parsed form of a generation request that every route
 * hands to the relay.
 *
 * Whatever API a client speaks (Ollama's /api/chat and /api/generate,
 * OpenAI's /v1/chat/completions and /v1/completions), its request is turned
 * into one api_request_t: the body Ollama's native API wants (body), which
 * native endpoint gets it (kind), and how the answer must be written back
 * (output).  So every generation takes one path upstream, and retrieval has
 * one place to change a prompt (see relay.h).
 *
 * Bodies from the network are checked before cJSON sees them: valid UTF-8,
 * one JSON object, not too many values (proto/base/json.h).  Every refusal
 * is a 4xx in the caller's family's shape, answered here, so a handler only
 * has to stop.
 */
#ifndef LCA_GATEWAY_API_H
#define LCA_GATEWAY_API_H

#include "gateway/http.h"

#include <cJSON.h>
#include <stdbool.h>

/* The native Ollama endpoint a generation goes to. */
typedef enum { API_CHAT, API_GENERATE } api_kind_t;

/* How the answer is written to the client. */
typedef enum {
    API_OUT_NDJSON,      /* Ollama streaming: the upstream lines, unchanged */
    API_OUT_OLLAMA_JSON, /* Ollama stream:false: one object aggregated from the lines */
    API_OUT_SSE_CHAT,    /* SSE chat.completion.chunk events, then [DONE] */
    API_OUT_SSE_TEXT,    /* SSE text_completion events, then [DONE] */
    API_OUT_OPENAI_CHAT, /* one chat.completion object */
    API_OUT_OPENAI_TEXT, /* one text_completion object */
} api_output_t;

/* A generation request, parsed and translated; lives in the request's pool. */
typedef struct {
    api_kind_t kind;
    api_output_t output;
    cJSON *body;            /* Ollama's native body ("stream" is set by the relay); owned */
    const char *model;      /* the model the client asked for (inside body) */
    bool include_usage;     /* OpenAI stream_options.include_usage: a usage chunk at the end */
    bool ollama_fields;     /* completion answers also carry Ollama's "response"/"done" (on
                               /api/generate, so that either kind of reader finds its field) */
    bool openai_fields;     /* an Ollama JSON answer also carries OpenAI's "choices" */
    h2o_iovec_t collection; /* from /c/<name>/ (len 0: none) */
} api_request_t;

/* Field types for api_fields_check (a bit set). null always passes, as
 * Go's decoder treats it as absent. */
enum {
    API_STRING = 1,
    API_NUMBER = 2,
    API_BOOL = 4,
    API_OBJECT = 8,
    API_ARRAY = 16,
};

typedef struct {
    const char *name;
    unsigned types; /* API_STRING | ... */
} api_field_t;

/* A new generation request of kind with an empty body object, owned by the
 * request's pool (the body is freed with it). */
api_request_t *api_request_new(http_ctx_t *ctx, api_kind_t kind);

/* Parses the request body as one JSON object in valid UTF-8, of at most
 * the gateway's max_json_values values (LCA_MAX_JSON_VALUES), counted
 * before cJSON builds anything.  Every route that reads a JSON body reads
 * it here.  The result is owned by the request's pool.  On failure answers
 * 400 ("missing request body", "request body is not valid UTF-8", "invalid
 * JSON: ...") or 413 (too many values) and returns NULL. */
cJSON *api_body_parse(http_ctx_t *ctx);

/* Checks every field of the NULL-terminated list that obj has against its
 * types; where names the object in messages (NULL: the body).  On a
 * mismatch answers 400 and returns false. */
bool api_fields_check(http_ctx_t *ctx, const cJSON *obj, const api_field_t *fields,
                      const char *where);

/* The body's "model" (or, when alt is not NULL, that field instead) as a
 * non-empty string; otherwise answers 400 "model is required" and returns
 * NULL. */
const char *api_model_require(http_ctx_t *ctx, const cJSON *body, const char *alt);

/* A JSON type's name for messages ("a string", "an array", ...). */
const char *api_type_name(const cJSON *item);

/* Replies with a cJSON value printed compactly (value is not consumed). */
void api_reply_json(http_ctx_t *ctx, int status, const char *content_type, const cJSON *value);

#endif
