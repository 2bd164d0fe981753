/*
 * Request parsing shared by the API adapters (see api.h).
 *
 * Everything allocated here belongs to the request's pool: a parsed body is
 * registered with a dispose callback, so a handler may stop at any point
 * (an error already answered) without freeing anything.
 */
#include "gateway/api.h"

#include "gateway/gateway.h"
#include "proto/base/json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void json_dispose(void *p) {
    cJSON **json = p;
    cJSON_Delete(*json);
}

/* Makes the pool own json; returns json. */
static cJSON *pool_own(http_ctx_t *ctx, cJSON *json) {
    cJSON **slot = h2o_mem_alloc_shared(&ctx->req->pool, sizeof *slot, json_dispose);
    *slot = json;
    return json;
}

static void request_dispose(void *p) {
    api_request_t *r = p;
    cJSON_Delete(r->body);
}

api_request_t *api_request_new(http_ctx_t *ctx, api_kind_t kind) {
    api_request_t *r = h2o_mem_alloc_shared(&ctx->req->pool, sizeof *r, request_dispose);
    *r = (api_request_t){.kind = kind, .body = cJSON_CreateObject(), .collection = ctx->collection};
    return r;
}

cJSON *api_body_parse(http_ctx_t *ctx) {
    h2o_iovec_t body = ctx->req->entity;
    char why[160], message[200];
    if (!body.base || body.len == 0) {
        http_error(ctx, 400, "invalid_request_error", "missing request body");
        return NULL;
    }
    if (!utf8_valid(body.base, body.len)) {
        http_error(ctx, 400, "invalid_request_error", "request body is not valid UTF-8");
        return NULL;
    }
    size_t max_values = ctx->gateway->max_json_values;
    int rc = json_check_bounded(body.base, body.len, true, max_values, why, sizeof why);
    if (rc == -E2BIG) {
        snprintf(message, sizeof message,
                 "the request body has more than %zu JSON values (LCA_MAX_JSON_VALUES)",
                 max_values);
        http_error(ctx, 413, "invalid_request_error", message);
        return NULL;
    }
    if (rc != 0) {
        snprintf(message, sizeof message, "invalid JSON in the request body: %s", why);
        http_error(ctx, 400, "invalid_request_error", message);
        return NULL;
    }
    cJSON *json = cJSON_ParseWithLength(body.base, body.len);
    if (!json) { /* checked above; only memory can fail here */
        http_error(ctx, 500, NULL, "out of memory");
        return NULL;
    }
    return pool_own(ctx, json);
}

const char *api_type_name(const cJSON *item) {
    if (cJSON_IsString(item))
        return "a string";
    if (cJSON_IsNumber(item))
        return "a number";
    if (cJSON_IsBool(item))
        return "a boolean";
    if (cJSON_IsArray(item))
        return "an array";
    if (cJSON_IsObject(item))
        return "an object";
    return "null";
}

static bool type_matches(const cJSON *item, unsigned types) {
    return cJSON_IsNull(item) || ((types & API_STRING) && cJSON_IsString(item)) ||
           ((types & API_NUMBER) && cJSON_IsNumber(item)) ||
           ((types & API_BOOL) && cJSON_IsBool(item)) ||
           ((types & API_OBJECT) && cJSON_IsObject(item)) ||
           ((types & API_ARRAY) && cJSON_IsArray(item));
}

static void types_describe(unsigned types, char *out, size_t size) {
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {{API_STRING, "a string"},
                 {API_NUMBER, "a number"},
                 {API_BOOL, "a boolean"},
                 {API_OBJECT, "an object"},
                 {API_ARRAY, "an array"}};
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (types & names[i].bit)
            n += (size_t)snprintf(out + n, n < size ? size - n : 0, "%s%s", n ? " or " : "",
                                  names[i].name);
}

bool api_fields_check(http_ctx_t *ctx, const cJSON *obj, const api_field_t *fields,
                      const char *where) {
    for (const api_field_t *f = fields; f->name; f++) {
        const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, f->name);
        if (!item || type_matches(item, f->types))
            continue;
        char want[96], message[300];
        types_describe(f->types, want, sizeof want);
        snprintf(message, sizeof message, "invalid type for \"%s%s%s\": expected %s, got %s",
                 where ? where : "", where ? "." : "", f->name, want, api_type_name(item));
        http_error(ctx, 400, "invalid_request_error", message);
        return false;
    }
    return true;
}

const char *api_model_require(http_ctx_t *ctx, const cJSON *body, const char *alt) {
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(body, "model");
    if ((!cJSON_IsString(model) || !model->valuestring[0]) && alt)
        model = cJSON_GetObjectItemCaseSensitive(body, alt);
    if (cJSON_IsString(model) && model->valuestring[0])
        return model->valuestring;
    if (model && !cJSON_IsNull(model) && !cJSON_IsString(model)) {
        char message[120];
        snprintf(message, sizeof message, "invalid type for \"model\": expected a string, got %s",
                 api_type_name(model));
        http_error(ctx, 400, "invalid_request_error", message);
        return NULL;
    }
    http_error(ctx, 400, "invalid_request_error",
               ctx->family == API_OPENAI ? "you must provide a model parameter"
                                         : "model is required");
    return NULL;
}

void api_reply_json(http_ctx_t *ctx, int status, const char *content_type, const cJSON *value) {
    char *text = cJSON_PrintUnformatted(value);
    if (!text) {
        http_error(ctx, 500, NULL, "out of memory");
        return;
    }
    http_reply(ctx, status, content_type, text, strlen(text));
    free(text);
}
