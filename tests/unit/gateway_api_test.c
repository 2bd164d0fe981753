/*
 * gateway/api: what every route that reads a JSON body shares, called on
 * requests of a gateway inside this process (tests/loopback.h): the body
 * read strictly (missing, not UTF-8, not one JSON object, too many values),
 * field types and their messages, the model a request must name, and the
 * replies, each refusal answered once in the caller's family's shape.
 */
#include "gateway/api.h"
#include "tests/loopback.h"
#include "tests/test.h"

static bool setup(void) {
    static bool tried, ok;
    if (!tried) {
        tried = true;
        ok = loopback_start(1);
    }
    return ok;
}

static http_ctx_t *ctx;

/* A request carrying body (NULL: none), and its context of family. */
static loopback_req_t *with_body(api_family_t family, const char *body) {
    loopback_req_t *r = loopback_request("POST", "/api/x", body);
    ctx = loopback_ctx(r, family);
    return r;
}

/* The request was refused once, with status and message (prefix). */
static void check_refused(loopback_req_t *r, int status, const char *message) {
    CHECK(r->ended);
    CHECK_INT(r->sends, ==, 1);
    CHECK_INT(r->req.res.status, ==, status);
    CHECK_STR(loopback_response_header(r, "content-type"), "application/json; charset=utf-8");
    cJSON *j = loopback_json(r);
    const char *got = loopback_error(j);
    CHECK(got && strncmp(got, message, strlen(message)) == 0);
    if (!got || strncmp(got, message, strlen(message)) != 0)
        fprintf(stderr, "  got \"%s\", want \"%s...\"\n", got ? got : "(none)", message);
    cJSON_Delete(j);
}

TEST(json_types_have_names_for_messages) {
    cJSON *v = cJSON_Parse("[\"s\",1,true,false,[],{},null]");
    const char *want[] = {"a string", "a number",  "a boolean", "a boolean",
                          "an array", "an object", "null"};
    for (int i = 0; i < 7; i++)
        CHECK_STR(api_type_name(cJSON_GetArrayItem(v, i)), want[i]);
    CHECK_STR(api_type_name(NULL), "null");
    cJSON_Delete(v);
}

TEST(a_body_is_one_json_object_in_utf8) {
    REQUIRE(setup());
    static const struct {
        const char *body; /* NULL: none */
        const char *message;
    } cases[] = {
        {NULL, "missing request body"},
        {"", "missing request body"},
        {"{\"prompt\":\"caf\xc3\"}", "request body is not valid UTF-8"},
        {"{\"prompt\":\"\xed\xa0\x80\"}", "request body is not valid UTF-8"}, /* a surrogate */
        {"[1,2]", "invalid JSON in the request body: "},
        {"{\"a\":1,}", "invalid JSON in the request body: "},
        {"{\"a\":1} {\"b\":2}", "invalid JSON in the request body: "},
        {"\"text\"", "invalid JSON in the request body: "},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        loopback_req_t *r = with_body(API_OLLAMA, cases[i].body);
        CHECK(api_body_parse(ctx) == NULL);
        check_refused(r, 400, cases[i].message);
        loopback_free(r);
    }
    /* A good one: parsed, owned by the request (freed with it), nothing sent. */
    loopback_req_t *r =
        with_body(API_OLLAMA, " {\"model\":\"m\",\"n\":[1,2,3],\"s\":\"\xc3\xa9\"} ");
    cJSON *body = api_body_parse(ctx);
    REQUIRE(body);
    CHECK_STR(jstr(body, "model"), "m");
    CHECK_INT(jnum(body, "n.2"), ==, 3);
    CHECK_STR(jstr(body, "s"), "\xc3\xa9");
    CHECK_INT(r->sends, ==, 0);
    CHECK(!r->ended);
    loopback_free(r);
}

TEST(too_many_values_is_413_before_any_is_built) {
    REQUIRE(setup());
    size_t saved = loopback.gateway.max_json_values;
    loopback.gateway.max_json_values = 16;
    /* An object, an array and 14 numbers: the limit exactly. */
    loopback_req_t *r = with_body(API_OLLAMA, "{\"a\":[1,2,3,4,5,6,7,8,9,10,11,12,13,14]}");
    CHECK(api_body_parse(ctx) != NULL);
    loopback_free(r);
    r = with_body(API_OPENAI, "{\"a\":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15]}");
    CHECK(api_body_parse(ctx) == NULL);
    check_refused(r, 413, "the request body has more than 16 JSON values (LCA_MAX_JSON_VALUES)");
    cJSON *j = loopback_json(r);
    CHECK_STR(jstr(j, "error.type"), "invalid_request_error");
    cJSON_Delete(j);
    loopback_free(r);
    loopback.gateway.max_json_values = saved;
}

TEST(field_types_are_checked_with_where_they_are) {
    REQUIRE(setup());
    static const api_field_t fields[] = {
        {"name", API_STRING},
        {"count", API_NUMBER},
        {"any", API_NUMBER | API_BOOL | API_OBJECT | API_ARRAY},
        {NULL, 0},
    };
    loopback_req_t *r = with_body(API_OLLAMA, NULL);
    /* Missing fields, null ones and unknown ones pass. */
    cJSON *ok = cJSON_Parse("{\"name\":null,\"any\":[],\"other\":\"x\"}");
    CHECK(api_fields_check(ctx, ok, fields, NULL));
    CHECK_INT(r->sends, ==, 0);
    cJSON_Delete(ok);
    /* The first mismatch is answered; where names the object. */
    cJSON *bad = cJSON_Parse("{\"name\":\"n\",\"count\":\"3\",\"any\":\"x\"}");
    CHECK(!api_fields_check(ctx, bad, fields, "messages[2]"));
    check_refused(r, 400,
                  "invalid type for \"messages[2].count\": expected a number, got a string");
    loopback_free(r);
    r = with_body(API_OPENAI, NULL);
    cJSON_DeleteItemFromObject(bad, "count");
    CHECK(!api_fields_check(ctx, bad, fields, NULL));
    check_refused(r, 400,
                  "invalid type for \"any\": expected a number or a boolean or an object or an "
                  "array, got a string");
    cJSON *j = loopback_json(r);
    CHECK_STR(jstr(j, "error.type"), "invalid_request_error");
    CHECK(cJSON_IsNull(jpath(j, "error.param")));
    cJSON_Delete(j);
    cJSON_Delete(bad);
    loopback_free(r);
}

TEST(a_request_names_its_model) {
    REQUIRE(setup());
    static const struct {
        const char *body, *alt, *model; /* model NULL: refused with message */
        api_family_t family;
        const char *message;
    } cases[] = {
        {"{\"model\":\"llama3.2\",\"name\":\"other\"}", "name", "llama3.2", API_OLLAMA, NULL},
        {"{\"name\":\"llama3.2\"}", "name", "llama3.2", API_OLLAMA, NULL},
        {"{\"model\":\"\",\"name\":\"llama3.2\"}", "name", "llama3.2", API_OLLAMA, NULL},
        {"{\"name\":\"llama3.2\"}", NULL, NULL, API_OLLAMA, "model is required"},
        {"{\"model\":\"\"}", NULL, NULL, API_OLLAMA, "model is required"},
        {"{\"model\":null}", "name", NULL, API_OLLAMA, "model is required"},
        {"{}", NULL, NULL, API_OPENAI, "you must provide a model parameter"},
        {"{\"model\":[\"a\"]}", NULL, NULL, API_OPENAI,
         "invalid type for \"model\": expected a string, got an array"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        loopback_req_t *r = with_body(cases[i].family, NULL);
        cJSON *body = cJSON_Parse(cases[i].body);
        const char *model = api_model_require(ctx, body, cases[i].alt);
        if (cases[i].model) {
            CHECK_STR(model, cases[i].model);
            CHECK_INT(r->sends, ==, 0);
        } else {
            CHECK(model == NULL);
            check_refused(r, 400, cases[i].message);
        }
        cJSON_Delete(body);
        loopback_free(r);
    }
}

TEST(a_generation_request_starts_empty_with_the_collection) {
    REQUIRE(setup());
    loopback_req_t *r = with_body(API_OLLAMA, NULL);
    ctx->collection = h2o_iovec_init(H2O_STRLIT("shop"));
    api_request_t *g = api_request_new(ctx, API_GENERATE);
    REQUIRE(g);
    CHECK(g->kind == API_GENERATE);
    CHECK(g->output == API_OUT_NDJSON);
    CHECK(cJSON_IsObject(g->body) && g->body->child == NULL);
    CHECK(g->collection.len == 4 && memcmp(g->collection.base, "shop", 4) == 0);
    CHECK(g->model == NULL && !g->include_usage && !g->ollama_fields && !g->openai_fields);
    cJSON_AddStringToObject(g->body, "prompt", "the body goes with the request");
    loopback_free(r);
}

TEST(a_json_reply_is_compact_with_its_status_and_type) {
    REQUIRE(setup());
    loopback_req_t *r = with_body(API_LCA, NULL);
    cJSON *v = cJSON_Parse("{ \"a\" : [ 1, \"\\u00e9\" ],\n \"b\": null }");
    api_reply_json(ctx, 201, "application/json", v);
    CHECK(r->ended);
    CHECK_INT(r->req.res.status, ==, 201);
    CHECK_STR(loopback_response_header(r, "content-type"), "application/json");
    CHECK_STR(loopback_body(r), "{\"a\":[1,\"\xc3\xa9\"],\"b\":null}");
    CHECK(cJSON_IsArray(jpath(v, "a"))); /* not consumed */
    cJSON_Delete(v);
    loopback_free(r);
}

TEST(everything_stops_clean) {
    REQUIRE(setup());
    loopback_stop();
    CHECK(loopback.s.broker == NULL);
}

TEST_MAIN(TEST_CASE(json_types_have_names_for_messages),
          TEST_CASE(a_body_is_one_json_object_in_utf8),
          TEST_CASE(too_many_values_is_413_before_any_is_built),
          TEST_CASE(field_types_are_checked_with_where_they_are),
          TEST_CASE(a_request_names_its_model),
          TEST_CASE(a_generation_request_starts_empty_with_the_collection),
          TEST_CASE(a_json_reply_is_compact_with_its_status_and_type),
          TEST_CASE(everything_stops_clean))
