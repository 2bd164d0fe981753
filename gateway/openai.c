/*
 * OpenAI's routes (see openai.h).
 *
 * Each handler checks the body, builds Ollama's native body field by field
 * (so nothing OpenAI-only leaks upstream) and hands it to the relay.  The
 * translation follows Ollama's openai layer where it has one: messages with
 * content parts become text plus base64 "images"; assistant tool calls get
 * their JSON-text arguments parsed; a "tool" message names its function
 * through the tool_call_id of the call it answers.
 */
#include "gateway/openai.h"

#include "gateway/api.h"
#include "gateway/relay.h"
#include "proto/base/buf.h"
#include "proto/base/map.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const api_field_t sampling_fields[] = {
    {"max_tokens", API_NUMBER},
    {"max_completion_tokens", API_NUMBER},
    {"temperature", API_NUMBER},
    {"top_p", API_NUMBER},
    {"seed", API_NUMBER},
    {"stop", API_STRING | API_ARRAY},
    {"frequency_penalty", API_NUMBER},
    {"presence_penalty", API_NUMBER},
    {"stream", API_BOOL},
    {"stream_options", API_OBJECT},
    {NULL, 0},
};

static const api_field_t chat_fields[] = {
    {"model", API_STRING},
    {"messages", API_ARRAY},
    {"response_format", API_OBJECT},
    {"tools", API_ARRAY},
    {NULL, 0},
};

static const api_field_t message_fields[] = {
    {"role", API_STRING},      {"content", API_STRING | API_ARRAY},
    {"tool_calls", API_ARRAY}, {"tool_call_id", API_STRING},
    {"name", API_STRING},      {NULL, 0},
};

static const api_field_t completion_fields[] = {
    {"model", API_STRING},
    {"prompt", API_STRING | API_ARRAY},
    {"suffix", API_STRING},
    {NULL, 0},
};

static void bad_request(http_ctx_t *ctx, const char *fmt, const char *arg) {
    char message[300];
    snprintf(message, sizeof message, fmt, arg);
    http_error(ctx, 400, "invalid_request_error", message);
}

/* options from the OpenAI sampling fields; false when the client was told
 * why not (a stop list that is not all strings). */
static bool options_build(http_ctx_t *ctx, const cJSON *in, cJSON *body) {
    static const struct {
        const char *from, *to;
    } numbers[] = {
        {"max_tokens", "num_predict"},
        {"max_completion_tokens", "num_predict"},
        {"temperature", "temperature"},
        {"top_p", "top_p"},
        {"seed", "seed"},
        {"frequency_penalty", "frequency_penalty"},
        {"presence_penalty", "presence_penalty"},
    };
    cJSON *options = cJSON_CreateObject();
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, numbers[i].from);
        if (cJSON_IsNumber(v) && !cJSON_GetObjectItemCaseSensitive(options, numbers[i].to))
            cJSON_AddNumberToObject(options, numbers[i].to, v->valuedouble);
    }
    const cJSON *stop = cJSON_GetObjectItemCaseSensitive(in, "stop");
    if (cJSON_IsString(stop)) {
        cJSON_AddItemToArray(cJSON_AddArrayToObject(options, "stop"),
                             cJSON_CreateString(stop->valuestring));
    } else if (cJSON_IsArray(stop)) {
        const cJSON *s;
        cJSON_ArrayForEach(s, stop) {
            if (!cJSON_IsString(s)) {
                cJSON_Delete(options);
                bad_request(ctx, "invalid type for \"stop\": expected strings, got %s",
                            api_type_name(s));
                return false;
            }
        }
        cJSON_AddItemToObject(options, "stop", cJSON_Duplicate(stop, true));
    }
    if (cJSON_GetArraySize(options) > 0)
        cJSON_AddItemToObject(body, "options", options);
    else
        cJSON_Delete(options);
    return true;
}

/* ---- chat ---- */

/* Maps every assistant tool call id of messages to its function name (one
 * pass: a lookup per tool message would be quadratic in hostile input). */
static map_t *tool_names_map(const cJSON *messages) {
    map_t *names = map_new();
    const cJSON *m, *call;
    cJSON_ArrayForEach(m, messages) {
        cJSON_ArrayForEach(call, cJSON_GetObjectItemCaseSensitive(m, "tool_calls")) {
            const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(call, "id"));
            const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(call, "function"), "name"));
            if (names && id && name)
                map_put(names, id, strlen(id), (void *)name);
        }
    }
    return names;
}

/* Text parts joined into out_text, data: URL images into images. */
static bool content_parts(http_ctx_t *ctx, const cJSON *parts, buf_t *text, cJSON *images) {
    const cJSON *part;
    cJSON_ArrayForEach(part, parts) {
        const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(part, "type"));
        if (type && strcmp(type, "text") == 0) {
            const char *t = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(part, "text"));
            if (!t) {
                bad_request(ctx, "%s", "a text content part needs \"text\" (a string)");
                return false;
            }
            buf_append_str(text, t);
        } else if (type && strcmp(type, "image_url") == 0) {
            const cJSON *u = cJSON_GetObjectItemCaseSensitive(part, "image_url");
            const char *url =
                cJSON_IsString(u)
                    ? u->valuestring
                    : cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(u, "url"));
            const char *comma = url && strncmp(url, "data:", 5) == 0 ? strchr(url, ',') : NULL;
            if (!comma) {
                bad_request(ctx, "%s", "image_url must be a data: URL with base64 content");
                return false;
            }
            cJSON_AddItemToArray(images, cJSON_CreateString(comma + 1));
        } else {
            bad_request(ctx, "unsupported content part type \"%s\"", type ? type : "(none)");
            return false;
        }
    }
    return true;
}

/* One OpenAI message in Ollama's form, or NULL when the client was answered. */
static cJSON *message_convert(http_ctx_t *ctx, const map_t *tool_names, const cJSON *in,
                              int index) {
    char where[32];
    snprintf(where, sizeof where, "messages[%d]", index);
    if (!cJSON_IsObject(in)) {
        bad_request(ctx, "invalid type for \"%s\": expected an object", where);
        return NULL;
    }
    if (!api_fields_check(ctx, in, message_fields, where))
        return NULL;
    const char *role = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(in, "role"));
    if (!role) {
        bad_request(ctx, "%s.role is required", where);
        return NULL;
    }
    cJSON *out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "role", strcmp(role, "developer") == 0 ? "system" : role);
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(in, "content");
    if (cJSON_IsArray(content)) {
        buf_t text = BUF_INIT;
        cJSON *images = cJSON_CreateArray();
        if (!content_parts(ctx, content, &text, images)) {
            buf_free(&text);
            cJSON_Delete(images);
            cJSON_Delete(out);
            return NULL;
        }
        cJSON_AddStringToObject(out, "content", text.len ? text.data : "");
        buf_free(&text);
        if (cJSON_GetArraySize(images))
            cJSON_AddItemToObject(out, "images", images);
        else
            cJSON_Delete(images);
    } else {
        cJSON_AddStringToObject(out, "content",
                                cJSON_IsString(content) ? content->valuestring : "");
    }
    const cJSON *calls = cJSON_GetObjectItemCaseSensitive(in, "tool_calls"), *call;
    if (cJSON_GetArraySize(calls) > 0) {
        cJSON *list = cJSON_AddArrayToObject(out, "tool_calls");
        cJSON_ArrayForEach(call, calls) {
            const cJSON *fn = cJSON_GetObjectItemCaseSensitive(call, "function");
            const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(fn, "name"));
            const char *args =
                cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(fn, "arguments"));
            cJSON *parsed = args ? cJSON_Parse(args) : cJSON_CreateObject();
            if (!name || !cJSON_IsObject(parsed)) {
                cJSON_Delete(parsed);
                cJSON_Delete(out);
                bad_request(ctx, "%s.tool_calls: each needs function.name and JSON arguments",
                            where);
                return NULL;
            }
            cJSON *o = cJSON_CreateObject();
            cJSON *ofn = cJSON_AddObjectToObject(o, "function");
            cJSON_AddStringToObject(ofn, "name", name);
            cJSON_AddItemToObject(ofn, "arguments", parsed);
            cJSON_AddItemToArray(list, o);
        }
    }
    const char *call_id =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(in, "tool_call_id"));
    const char *tool_name =
        call_id && tool_names ? map_get(tool_names, call_id, strlen(call_id)) : NULL;
    if (tool_name)
        cJSON_AddStringToObject(out, "tool_name", tool_name);
    return out;
}

/* response_format -> Ollama's "format". */
static bool format_build(http_ctx_t *ctx, const cJSON *in, cJSON *body) {
    const cJSON *rf = cJSON_GetObjectItemCaseSensitive(in, "response_format");
    if (!cJSON_IsObject(rf))
        return true;
    const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rf, "type"));
    if (!type || strcmp(type, "text") == 0)
        return true;
    if (strcmp(type, "json_object") == 0) {
        cJSON_AddStringToObject(body, "format", "json");
        return true;
    }
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(rf, "json_schema"), "schema");
    if (strcmp(type, "json_schema") == 0 && cJSON_IsObject(schema)) {
        cJSON_AddItemToObject(body, "format", cJSON_Duplicate(schema, true));
        return true;
    }
    bad_request(ctx, "unsupported response_format type \"%s\"", type);
    return false;
}

static bool common_parse(http_ctx_t *ctx, const cJSON *in, const api_field_t *fields) {
    return api_fields_check(ctx, in, fields, NULL) &&
           api_fields_check(ctx, in, sampling_fields, NULL);
}

/* Stream or not, usage or not, from the body and the Accept header. */
static void output_choose(http_ctx_t *ctx, const cJSON *in, api_request_t *r, bool chat) {
    bool stream = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(in, "stream"));
    if (stream || http_wants_sse(ctx->req))
        r->output = chat ? API_OUT_SSE_CHAT : API_OUT_SSE_TEXT;
    else
        r->output = chat ? API_OUT_OPENAI_CHAT : API_OUT_OPENAI_TEXT;
    r->include_usage = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(in, "stream_options"), "include_usage"));
}

int openai_handle_chat(http_ctx_t *ctx) {
    cJSON *in = api_body_parse(ctx);
    if (!in || !common_parse(ctx, in, chat_fields))
        return 0;
    const char *model = api_model_require(ctx, in, NULL);
    if (!model)
        return 0;
    const cJSON *messages = cJSON_GetObjectItemCaseSensitive(in, "messages");
    if (cJSON_GetArraySize(messages) == 0) {
        http_error(ctx, 400, "invalid_request_error", "[] is too short - 'messages'");
        return 0;
    }
    api_request_t *r = api_request_new(ctx, API_CHAT);
    cJSON_AddStringToObject(r->body, "model", model);
    cJSON *list = cJSON_AddArrayToObject(r->body, "messages");
    map_t *tool_names = tool_names_map(messages);
    const cJSON *m;
    int i = 0;
    cJSON_ArrayForEach(m, messages) {
        cJSON *converted = message_convert(ctx, tool_names, m, i++);
        if (!converted) {
            map_destroy(&tool_names);
            return 0;
        }
        cJSON_AddItemToArray(list, converted);
    }
    map_destroy(&tool_names);
    if (!options_build(ctx, in, r->body) || !format_build(ctx, in, r->body))
        return 0;
    const cJSON *tools = cJSON_GetObjectItemCaseSensitive(in, "tools");
    if (cJSON_GetArraySize(tools) > 0)
        cJSON_AddItemToObject(r->body, "tools", cJSON_Duplicate(tools, true));
    r->model = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r->body, "model"));
    output_choose(ctx, in, r, true);
    return relay_generate(ctx, r);
}

int openai_handle_completions(http_ctx_t *ctx) {
    cJSON *in = api_body_parse(ctx);
    if (!in || !common_parse(ctx, in, completion_fields))
        return 0;
    const char *model = api_model_require(ctx, in, NULL);
    if (!model)
        return 0;
    const cJSON *prompt = cJSON_GetObjectItemCaseSensitive(in, "prompt");
    if (cJSON_IsArray(prompt)) {
        if (cJSON_GetArraySize(prompt) != 1 || !cJSON_IsString(cJSON_GetArrayItem(prompt, 0))) {
            bad_request(ctx, "%s", "\"prompt\" must be a string or a list of one string");
            return 0;
        }
        prompt = cJSON_GetArrayItem(prompt, 0);
    }
    api_request_t *r = api_request_new(ctx, API_GENERATE);
    cJSON_AddStringToObject(r->body, "model", model);
    cJSON_AddStringToObject(r->body, "prompt", cJSON_IsString(prompt) ? prompt->valuestring : "");
    const cJSON *suffix = cJSON_GetObjectItemCaseSensitive(in, "suffix");
    if (cJSON_IsString(suffix) && suffix->valuestring[0])
        cJSON_AddStringToObject(r->body, "suffix", suffix->valuestring);
    if (!options_build(ctx, in, r->body))
        return 0;
    r->model = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r->body, "model"));
    output_choose(ctx, in, r, false);
    return relay_generate(ctx, r);
}

/* ---- models ---- */

/* Unix seconds of an RFC 3339 time ("2024-05-01T12:34:56.123-07:00"), or now. */
static long long time_parse(const char *s) {
    struct tm tm = {0};
    int n = 0;
    if (!s || sscanf(s, "%d-%d-%dT%d:%d:%d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                     &tm.tm_min, &tm.tm_sec, &n) != 6)
        return (long long)time(NULL);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    long long t = (long long)timegm(&tm);
    const char *zone = s + n;
    while (*zone == '.' || (*zone >= '0' && *zone <= '9'))
        zone++;
    int hours, minutes;
    if ((*zone == '+' || *zone == '-') && sscanf(zone + 1, "%d:%d", &hours, &minutes) == 2)
        t -= (*zone == '+' ? 1 : -1) * (hours * 3600LL + minutes * 60LL);
    return t;
}

/* The namespace of a model name as Ollama reports it ("library" by default). */
static void owner_of(const char *name, char *out, size_t size) {
    const char *parts[3] = {0};
    int n = 0;
    parts[n++] = name;
    for (const char *p = name; *p && n < 3; p++)
        if (*p == '/')
            parts[n++] = p + 1;
    const char *ns = n == 3 ? parts[1] : n == 2 ? parts[0] : NULL;
    if (!ns) {
        snprintf(out, size, "library");
        return;
    }
    const char *end = strchr(ns, '/');
    snprintf(out, size, "%.*s", (int)(end - ns), ns);
}

static void models_answer(http_ctx_t *ctx, const char *body, size_t len, void *arg) {
    (void)arg;
    cJSON *tags = cJSON_ParseWithLength(body, len);
    cJSON *out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "object", "list");
    cJSON *data = cJSON_AddArrayToObject(out, "data");
    const cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(tags, "models")) {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "name"));
        if (!name)
            name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "model"));
        if (!name)
            continue;
        char owner[128];
        owner_of(name, owner, sizeof owner);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", name);
        cJSON_AddStringToObject(o, "object", "model");
        cJSON_AddNumberToObject(o, "created",
                                (double)time_parse(cJSON_GetStringValue(
                                    cJSON_GetObjectItemCaseSensitive(m, "modified_at"))));
        cJSON_AddStringToObject(o, "owned_by", owner);
        cJSON_AddItemToArray(data, o);
    }
    api_reply_json(ctx, 200, "application/json", out);
    cJSON_Delete(out);
    cJSON_Delete(tags);
}

int openai_handle_models(http_ctx_t *ctx) {
    return relay_forward(ctx, "GET", "/api/tags", NULL, 0, models_answer, NULL);
}

/* ---- embeddings ---- */

typedef struct {
    bool base64;
    const char *model; /* in the request's parsed body */
} embed_request_t;

static cJSON *vector_base64(const cJSON *vector) {
    int n = cJSON_GetArraySize(vector);
    float *floats = malloc(((size_t)n + 1) * sizeof *floats);
    char *text = malloc(h2o_base64_encode_capacity((size_t)n * sizeof *floats) + 1);
    cJSON *out = NULL;
    if (floats && text) {
        int i = 0;
        const cJSON *x;
        cJSON_ArrayForEach(x, vector) {
            floats[i++] = cJSON_IsNumber(x) ? (float)x->valuedouble : 0;
        }
        /* little-endian float32, as the clients decode it (x86 and arm64 are) */
        h2o_base64_encode(text, floats, (size_t)n * sizeof *floats, 0);
        out = cJSON_CreateString(text);
    }
    free(floats);
    free(text);
    return out;
}

static void embeddings_answer(http_ctx_t *ctx, const char *body, size_t len, void *arg) {
    embed_request_t *e = arg;
    cJSON *in = cJSON_ParseWithLength(body, len);
    cJSON *out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "object", "list");
    cJSON *data = cJSON_AddArrayToObject(out, "data");
    const cJSON *vector;
    int i = 0;
    cJSON_ArrayForEach(vector, cJSON_GetObjectItemCaseSensitive(in, "embeddings")) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "object", "embedding");
        cJSON_AddItemToObject(o, "embedding",
                              e->base64 ? vector_base64(vector) : cJSON_Duplicate(vector, true));
        cJSON_AddNumberToObject(o, "index", i++);
        cJSON_AddItemToArray(data, o);
    }
    cJSON_AddStringToObject(out, "model", e->model);
    const cJSON *count = cJSON_GetObjectItemCaseSensitive(in, "prompt_eval_count");
    double tokens = cJSON_IsNumber(count) ? count->valuedouble : 0;
    cJSON *usage = cJSON_AddObjectToObject(out, "usage");
    cJSON_AddNumberToObject(usage, "prompt_tokens", tokens);
    cJSON_AddNumberToObject(usage, "total_tokens", tokens);
    api_reply_json(ctx, 200, "application/json", out);
    cJSON_Delete(out);
    cJSON_Delete(in);
}

int openai_handle_embeddings(http_ctx_t *ctx) {
    static const api_field_t fields[] = {
        {"model", API_STRING},      {"input", API_STRING | API_ARRAY},
        {"dimensions", API_NUMBER}, {"encoding_format", API_STRING},
        {"user", API_STRING},       {NULL, 0},
    };
    cJSON *in = api_body_parse(ctx);
    if (!in || !api_fields_check(ctx, in, fields, NULL))
        return 0;
    const char *model = api_model_require(ctx, in, NULL);
    if (!model)
        return 0;
    const cJSON *input = cJSON_GetObjectItemCaseSensitive(in, "input"), *item;
    bool valid = cJSON_IsString(input) || (cJSON_IsArray(input) && cJSON_GetArraySize(input) > 0);
    if (cJSON_IsArray(input))
        cJSON_ArrayForEach(item, input) {
            valid &= cJSON_IsString(item);
        }
    if (!valid) {
        bad_request(ctx, "%s", "\"input\" must be a string or a non-empty list of strings");
        return 0;
    }
    const char *encoding =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(in, "encoding_format"));
    if (encoding && strcmp(encoding, "float") != 0 && strcmp(encoding, "base64") != 0) {
        bad_request(ctx, "encoding_format must be \"float\" or \"base64\", not \"%s\"", encoding);
        return 0;
    }
    embed_request_t *e = h2o_mem_alloc_pool(&ctx->req->pool, sizeof *e);
    e->base64 = encoding && strcmp(encoding, "base64") == 0;
    e->model = model;
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "model", model);
    cJSON_AddItemToObject(body, "input", cJSON_Duplicate(input, true));
    const cJSON *dimensions = cJSON_GetObjectItemCaseSensitive(in, "dimensions");
    if (cJSON_IsNumber(dimensions))
        cJSON_AddNumberToObject(body, "dimensions", dimensions->valuedouble);
    char *text = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    if (!text) {
        http_error(ctx, 500, NULL, "out of memory");
        return 0;
    }
    relay_forward(ctx, "POST", "/api/embed", text, strlen(text), embeddings_answer, e);
    free(text);
    return 0;
}
