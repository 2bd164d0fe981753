/*
 * gateway/openai: OpenAI's routes as openai-node and ProxyAI's OpenAI
 * providers call them, against a gateway and a scripted generator inside
 * this process (tests/loopback.h).  The request Ollama would get is read
 * field by field (messages with content parts, tool calls and tool
 * results; sampling fields in options; response_format as format; nothing
 * OpenAI-only left over), every refusal is checked for its message and
 * OpenAI's error shape, and the answers are read as those clients read them
 * (chat.completion, text_completion, SSE, the model list, embeddings as
 * floats or base64).  Retrieval is off (LCA_RAG=off).
 */
#include "gateway/openai.h"
#include "tests/loopback.h"
#include "tests/test.h"

#include <time.h>

static const char *chat_lines[] = {
    "{\"model\":\"llama3.2\",\"created_at\":\"t\",\"message\":{\"role\":\"assistant\",\"content\":"
    "\"Hel\"},\"done\":false}",
    "{\"model\":\"llama3.2\",\"created_at\":\"t\",\"message\":{\"role\":\"assistant\",\"content\":"
    "\"lo\"},\"done\":false}",
    "{\"model\":\"llama3.2\",\"created_at\":\"t\",\"message\":{\"role\":\"assistant\",\"content\":"
    "\"\"},\"done\":true,\"done_reason\":\"stop\",\"prompt_eval_count\":7,\"eval_count\":2}",
};

static const char *generate_lines[] = {
    "{\"model\":\"qwen2.5-coder\",\"response\":\"a\",\"done\":false}",
    "{\"model\":\"qwen2.5-coder\",\"response\":\"b\",\"done\":false}",
    "{\"model\":\"qwen2.5-coder\",\"response\":\"\",\"done\":true,\"done_reason\":\"stop\","
    "\"prompt_eval_count\":3,\"eval_count\":2}",
};

static bool setup(void) {
    static bool tried, ok;
    if (!tried) {
        tried = true;
        setenv("LCA_RAG", "off", 1);
        ok = loopback_start(1) && inproc_worker(&loopback.s, "generate", 8, generate_worker, NULL);
    }
    return ok;
}

static void script_lines(const char *const *lines, int n) {
    generate_script_t s = {0};
    for (int i = 0; i < n; i++)
        s.lines[i] = lines[i];
    generate_script(&s);
}

static loopback_req_t *call(const char *method, const char *path, const char *body,
                            const char *accept) {
    loopback_req_t *r = loopback_request(method, path, body);
    loopback_header_add(r, "content-type", "application/json");
    if (accept)
        loopback_header_add(r, "accept", accept);
    loopback_dispatch(r);
    CHECK(loopback_wait(r, 5000));
    return r;
}

/* The top-level names of obj, comma-separated, in order. */
static void keys(const cJSON *obj, char *out, size_t cap) {
    size_t n = 0;
    out[0] = '\0';
    for (const cJSON *c = obj ? obj->child : NULL; c; c = c->next)
        n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, "%s%s", n ? "," : "", c->string);
}

/* Every case is a 400 in OpenAI's shape with its message, and nothing goes upstream. */
typedef struct {
    const char *body, *message;
} refusal_t;

static void check_refusals(const char *path, const refusal_t *cases, size_t n) {
    int jobs = atomic_load(&generate.jobs);
    for (size_t i = 0; i < n; i++) {
        loopback_req_t *r = call("POST", path, cases[i].body, NULL);
        CHECK_INT(r->req.res.status, ==, 400);
        cJSON *j = loopback_json(r);
        if (!jstr(j, "error.message") || strcmp(jstr(j, "error.message"), cases[i].message))
            fprintf(stderr, "  case %zu: %s\n", i, cases[i].body);
        CHECK_STR(jstr(j, "error.message"), cases[i].message);
        CHECK_STR(jstr(j, "error.type"), "invalid_request_error");
        CHECK(cJSON_IsNull(jpath(j, "error.param")) && cJSON_IsNull(jpath(j, "error.code")));
        cJSON_Delete(j);
        loopback_free(r);
    }
    inproc_run_for(&loopback.s, 20);
    CHECK_INT(atomic_load(&generate.jobs), ==, jobs);
}

/* ---- /v1/chat/completions ---- */

TEST(a_chat_is_translated_into_ollamas_native_body) {
    REQUIRE(setup());
    script_lines(chat_lines, 3);
    const char *body =
        "{\"model\":\"llama3.2\",\"messages\":["
        "{\"role\":\"developer\",\"content\":\"be brief\"},"
        "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"what is \"},"
        "{\"type\":\"text\",\"text\":\"this?\"},{\"type\":\"image_url\",\"image_url\":"
        "{\"url\":\"data:image/png;base64,iVBOR\"}}]},"
        "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"call_1\",\"type\":"
        "\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":"
        "\"{\\\"city\\\":\\\"Oslo\\\"}\"}}]},"
        "{\"role\":\"tool\",\"tool_call_id\":\"call_1\",\"content\":\"sunny\"}],"
        "\"max_tokens\":100,\"temperature\":0.5,\"stop\":\"END\",\"seed\":1,"
        "\"response_format\":{\"type\":\"json_object\"},\"tools\":[{\"type\":\"function\","
        "\"function\":{\"name\":\"get_weather\",\"parameters\":{}}}],\"user\":\"u1\",\"n\":1,"
        "\"stream_options\":{\"include_usage\":true},\"logprobs\":false}";
    loopback_req_t *r = call("POST", "/v1/chat/completions", body, NULL);
    CHECK_INT(r->req.res.status, ==, 200);
    cJSON *up = generate_body(), *h = generate_header();
    CHECK_STR(jstr(h, "path"), "/api/chat");
    char names[256];
    keys(up, names, sizeof names);
    CHECK_STR(names, "model,messages,options,format,tools,stream"); /* nothing OpenAI-only */
    CHECK_STR(jstr(up, "model"), "llama3.2");
    CHECK_STR(jstr(up, "messages.0.role"), "system"); /* developer is system to Ollama */
    CHECK_STR(jstr(up, "messages.0.content"), "be brief");
    CHECK_STR(jstr(up, "messages.1.content"), "what is this?");
    CHECK_STR(jstr(up, "messages.1.images.0"), "iVBOR");
    CHECK_STR(jstr(up, "messages.2.content"), "");
    CHECK_STR(jstr(up, "messages.2.tool_calls.0.function.name"), "get_weather");
    CHECK_STR(jstr(up, "messages.2.tool_calls.0.function.arguments.city"), "Oslo");
    CHECK_STR(jstr(up, "messages.3.role"), "tool");
    CHECK_STR(jstr(up, "messages.3.tool_name"), "get_weather"); /* from call_1 */
    char options[256];
    keys(jpath(up, "options"), options, sizeof options);
    CHECK_STR(options, "num_predict,temperature,seed,stop");
    CHECK_INT(jnum(up, "options.num_predict"), ==, 100);
    CHECK_STR(jstr(up, "options.stop.0"), "END");
    CHECK_STR(jstr(up, "format"), "json");
    CHECK_STR(jstr(up, "tools.0.function.name"), "get_weather");
    cJSON_Delete(up);
    cJSON_Delete(h);
    /* Not streamed: one chat.completion. */
    cJSON *j = loopback_json(r);
    CHECK_STR(jstr(j, "object"), "chat.completion");
    CHECK_STR(jstr(j, "choices.0.message.content"), "Hello");
    CHECK_STR(jstr(j, "choices.0.finish_reason"), "stop");
    CHECK_INT(jnum(j, "usage.total_tokens"), ==, 9);
    cJSON_Delete(j);
    loopback_free(r);
}

TEST(response_format_json_schema_and_text) {
    REQUIRE(setup());
    script_lines(chat_lines, 3);
    loopback_req_t *r =
        call("POST", "/v1/chat/completions",
             "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
             "\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{"
             "\"name\":\"a\",\"schema\":{\"type\":\"object\"}}}}",
             NULL);
    CHECK_INT(r->req.res.status, ==, 200);
    cJSON *up = generate_body();
    CHECK_STR(jstr(up, "format.type"), "object");
    CHECK(jpath(up, "options") == NULL); /* no sampling field: no options */
    cJSON_Delete(up);
    loopback_free(r);
    r = call("POST", "/v1/chat/completions",
             "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
             "\"response_format\":{\"type\":\"text\"}}",
             NULL);
    CHECK_INT(r->req.res.status, ==, 200);
    up = generate_body();
    CHECK(jpath(up, "format") == NULL);
    cJSON_Delete(up);
    loopback_free(r);
}

TEST(a_streamed_chat_is_sse_with_usage_when_asked) {
    REQUIRE(setup());
    script_lines(chat_lines, 3);
    /* openai-node: stream: true, stream_options.include_usage */
    loopback_req_t *r =
        call("POST", "/v1/chat/completions",
             "{\"model\":\"llama3.2\",\"messages\":[{\"role\":\"user\",\"content\":"
             "\"hi\"}],\"stream\":true,\"stream_options\":{\"include_usage\":true}}",
             NULL);
    CHECK_INT(r->req.res.status, ==, 200);
    const char *type = loopback_response_header(r, "content-type");
    CHECK(type && strncmp(type, "text/event-stream", 17) == 0);
    const char *body = loopback_body(r);
    CHECK(strstr(body, "\"delta\":{\"role\":\"assistant\",\"content\":\"Hel\"}") != NULL);
    CHECK(strstr(body, "\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":2,"
                       "\"total_tokens\":9}") != NULL);
    size_t len = strlen(body);
    CHECK(len > 14 && strcmp(body + len - 14, "data: [DONE]\n\n") == 0);
    loopback_free(r);
    /* A client accepting only SSE gets it without "stream" (ProxyAI's okhttp-sse). */
    script_lines(chat_lines, 3);
    r = call("POST", "/v1/chat/completions",
             "{\n  \"model\" : \"llama3.2\",\n  \"messages\" : [ {\n    \"role\" : \"user\",\n"
             "    \"content\" : \"hi\"\n  } ],\n  \"temperature\" : 0.1\n}",
             "text/event-stream");
    CHECK_INT(r->req.res.status, ==, 200);
    CHECK(strstr(loopback_body(r), "chat.completion.chunk") != NULL);
    CHECK(strstr(loopback_body(r), "\"usage\"") == NULL); /* not asked for */
    loopback_free(r);
}

TEST(chat_refusals_in_openais_shape) {
    REQUIRE(setup());
    static const refusal_t cases[] = {
        {"{\"model\":\"m\",\"messages\":[]}", "[] is too short - 'messages'"},
        {"{\"model\":\"m\"}", "[] is too short - 'messages'"},
        {"{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
         "you must provide a model parameter"},
        {"{\"model\":\"m\",\"messages\":[{\"content\":\"x\"}]}", "messages[0].role is required"},
        {"{\"model\":\"m\",\"messages\":[\"x\"]}",
         "invalid type for \"messages[0]\": expected an object"},
        {"{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":5}]}",
         "invalid type for \"messages[0].content\": expected a string or an array, got a number"},
        {"{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_audio\","
         "\"input_audio\":{}}]}]}",
         "unsupported content part type \"input_audio\""},
        {"{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\","
         "\"image_url\":{\"url\":\"https://example.com/cat.png\"}}]}]}",
         "image_url must be a data: URL with base64 content"},
        {"{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\"}]}]}",
         "a text content part needs \"text\" (a string)"},
        {"{\"model\":\"m\",\"messages\":[{\"role\":\"assistant\",\"tool_calls\":[{\"function\":"
         "{\"name\":\"f\",\"arguments\":\"not json\"}}]}]}",
         "messages[0].tool_calls: each needs function.name and JSON arguments"},
        {"{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stop\":[\"a\",1]"
         "}",
         "invalid type for \"stop\": expected strings, got a number"},
        {"{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
         "\"response_format\":{\"type\":\"grammar\"}}",
         "unsupported response_format type \"grammar\""},
        {"{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
         "\"temperature\":\"hot\"}",
         "invalid type for \"temperature\": expected a number, got a string"},
        {"{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stream\":1}",
         "invalid type for \"stream\": expected a boolean, got a number"},
    };
    check_refusals("/v1/chat/completions", cases, sizeof cases / sizeof cases[0]);
}

/* ---- /v1/completions ---- */

TEST(a_fim_completion_keeps_its_prompt_and_suffix) {
    REQUIRE(setup());
    script_lines(generate_lines, 3);
    loopback_req_t *r = call("POST", "/v1/completions",
                             "{\"model\":\"qwen2.5-coder\",\"prompt\":[\"def f():\"],\"suffix\":"
                             "\"\\n\",\"max_tokens\":24,\"temperature\":0.2,\"stop\":[\"\\n\\n\"],"
                             "\"echo\":false,\"stream\":false}",
                             NULL);
    CHECK_INT(r->req.res.status, ==, 200);
    cJSON *up = generate_body(), *h = generate_header();
    CHECK_STR(jstr(h, "path"), "/api/generate");
    char names[128];
    keys(up, names, sizeof names);
    CHECK_STR(names, "model,prompt,suffix,options,stream");
    CHECK_STR(jstr(up, "prompt"), "def f():"); /* a list of one string is that string */
    CHECK_STR(jstr(up, "suffix"), "\n");
    CHECK_INT(jnum(up, "options.num_predict"), ==, 24);
    CHECK_STR(jstr(up, "options.stop.0"), "\n\n");
    cJSON_Delete(up);
    cJSON_Delete(h);
    cJSON *j = loopback_json(r);
    CHECK_STR(jstr(j, "object"), "text_completion");
    CHECK_STR(jstr(j, "choices.0.text"), "ab");
    CHECK(jpath(j, "response") == NULL); /* Ollama's fields only on /api/generate */
    cJSON_Delete(j);
    loopback_free(r);
    /* An empty suffix is no suffix; no prompt is an empty one. */
    script_lines(generate_lines, 3);
    r = call("POST", "/v1/completions", "{\"model\":\"m\",\"suffix\":\"\"}", NULL);
    CHECK_INT(r->req.res.status, ==, 200);
    up = generate_body();
    keys(up, names, sizeof names);
    CHECK_STR(names, "model,prompt,stream");
    CHECK_STR(jstr(up, "prompt"), "");
    cJSON_Delete(up);
    loopback_free(r);
}

TEST(a_streamed_completion_is_sse_text) {
    REQUIRE(setup());
    script_lines(generate_lines, 3);
    /* ProxyAI's Custom OpenAI provider (<= 3.7.4): FIM prompt, stream:true, Accept SSE */
    loopback_req_t *r = call("POST", "/v1/completions",
                             "{\n  \"stream\" : true,\n  \"prompt\" : \"<|fim_prefix|> a "
                             "<|fim_suffix|>b <|fim_middle|>\",\n  \"model\" : \"qwen2.5-coder\","
                             "\n  \"temperature\" : 0.2,\n  \"max_tokens\" : 24\n}",
                             "text/event-stream");
    CHECK_INT(r->req.res.status, ==, 200);
    const char *body = loopback_body(r);
    CHECK(strncmp(body, "data: {", 7) == 0);
    CHECK(strstr(body, "\"object\":\"text_completion\"") != NULL);
    CHECK(strstr(body, "\"response\"") == NULL);
    CHECK(strstr(body, "data: [DONE]\n\n") != NULL);
    loopback_free(r);
}

TEST(completion_refusals_in_openais_shape) {
    REQUIRE(setup());
    static const refusal_t cases[] = {
        {"{\"model\":\"m\",\"prompt\":[\"a\",\"b\"]}",
         "\"prompt\" must be a string or a list of one string"},
        {"{\"model\":\"m\",\"prompt\":[1]}", "\"prompt\" must be a string or a list of one string"},
        {"{\"model\":\"m\",\"prompt\":5}",
         "invalid type for \"prompt\": expected a string or an array, got a number"},
        {"{\"model\":\"m\",\"prompt\":\"a\",\"suffix\":[\"b\"]}",
         "invalid type for \"suffix\": expected a string, got an array"},
        {"{\"prompt\":\"a\"}", "you must provide a model parameter"},
        {"{\"model\":\"m\",\"prompt\":\"a\",\"max_tokens\":\"24\"}",
         "invalid type for \"max_tokens\": expected a number, got a string"},
    };
    check_refusals("/v1/completions", cases, sizeof cases / sizeof cases[0]);
}

/* ---- /v1/models ---- */

TEST(models_lists_ollamas_tags_the_openai_way) {
    REQUIRE(setup());
    generate_script(&(generate_script_t){
        .payload = "{\"models\":[{\"name\":\"llama3.2:latest\",\"modified_at\":"
                   "\"2024-05-01T12:34:56.123-07:00\"},{\"name\":\"user/coder:7b\","
                   "\"modified_at\":\"2024-05-01T19:34:56Z\"},{\"name\":"
                   "\"registry.example.com/team/model:1\",\"modified_at\":\"yesterday\"},"
                   "{\"model\":\"only-model\"},{\"size\":1}]}"});
    long long before = (long long)time(NULL);
    loopback_req_t *r = call("GET", "/v1/models", NULL, NULL);
    CHECK_INT(r->req.res.status, ==, 200);
    cJSON *h = generate_header();
    CHECK_STR(jstr(h, "method"), "GET");
    CHECK_STR(jstr(h, "path"), "/api/tags");
    cJSON_Delete(h);
    cJSON *j = loopback_json(r);
    CHECK_STR(jstr(j, "object"), "list");
    CHECK_INT(cJSON_GetArraySize(jpath(j, "data")), ==, 4); /* one without a name is left out */
    static const char *ids[] = {"llama3.2:latest", "user/coder:7b",
                                "registry.example.com/team/model:1", "only-model"};
    static const char *owners[] = {"library", "user", "team", "library"};
    for (int i = 0; i < 4; i++) {
        char path[32];
        snprintf(path, sizeof path, "data.%d.id", i);
        CHECK_STR(jstr(j, path), ids[i]);
        snprintf(path, sizeof path, "data.%d.owned_by", i);
        CHECK_STR(jstr(j, path), owners[i]);
        snprintf(path, sizeof path, "data.%d.object", i);
        CHECK_STR(jstr(j, path), "model");
    }
    /* RFC 3339 times with their offsets; an unreadable one is "now". */
    CHECK_INT(jnum(j, "data.0.created"), ==, 1714592096);
    CHECK_INT(jnum(j, "data.1.created"), ==, 1714592096);
    CHECK_INT(jnum(j, "data.2.created"), >=, before);
    cJSON_Delete(j);
    loopback_free(r);
    /* Ollama down: the generator's 502, in OpenAI's shape. */
    generate_script(&(generate_script_t){.status = 502, .message = "Ollama is not reachable"});
    r = call("GET", "/v1/models", NULL, NULL);
    CHECK_INT(r->req.res.status, ==, 502);
    j = loopback_json(r);
    CHECK_STR(jstr(j, "error.message"), "Ollama is not reachable");
    CHECK_STR(jstr(j, "error.type"), "api_error");
    cJSON_Delete(j);
    loopback_free(r);
}

/* ---- /v1/embeddings ---- */

TEST(embeddings_as_floats_or_base64) {
    REQUIRE(setup());
    generate_script(
        &(generate_script_t){.payload = "{\"model\":\"nomic\",\"embeddings\":[[0.5,-1],[0.25,2]],"
                                        "\"prompt_eval_count\":4}"});
    loopback_req_t *r = call("POST", "/v1/embeddings",
                             "{\"model\":\"nomic\",\"input\":[\"a\",\"b\"],\"user\":\"u\","
                             "\"dimensions\":2}",
                             NULL);
    CHECK_INT(r->req.res.status, ==, 200);
    char sent[256];
    generate_payload(sent, sizeof sent);
    CHECK_STR(sent, "{\"model\":\"nomic\",\"input\":[\"a\",\"b\"],\"dimensions\":2}");
    cJSON *h = generate_header();
    CHECK_STR(jstr(h, "path"), "/api/embed");
    cJSON_Delete(h);
    CHECK_STR(loopback_body(r), "{\"object\":\"list\",\"data\":[{\"object\":\"embedding\","
                                "\"embedding\":[0.5,-1],\"index\":0},{\"object\":\"embedding\","
                                "\"embedding\":[0.25,2],\"index\":1}],\"model\":\"nomic\","
                                "\"usage\":{\"prompt_tokens\":4,\"total_tokens\":4}}");
    loopback_free(r);
    /* base64: little-endian float32, as openai-node decodes it by default */
    r = call("POST", "/v1/embeddings",
             "{\"model\":\"nomic\",\"input\":\"a\",\"encoding_format\":\"base64\"}", NULL);
    CHECK_INT(r->req.res.status, ==, 200);
    cJSON *j = loopback_json(r);
    CHECK_STR(jstr(j, "data.0.embedding"), "AAAAPwAAgL8=");
    CHECK_STR(jstr(j, "data.1.embedding"), "AACAPgAAAEA=");
    cJSON_Delete(j);
    loopback_free(r);
}

TEST(embedding_refusals_in_openais_shape) {
    REQUIRE(setup());
    static const refusal_t cases[] = {
        {"{\"model\":\"m\",\"input\":[]}",
         "\"input\" must be a string or a non-empty list of strings"},
        {"{\"model\":\"m\",\"input\":[\"a\",[1,2]]}",
         "\"input\" must be a string or a non-empty list of strings"},
        {"{\"model\":\"m\"}", "\"input\" must be a string or a non-empty list of strings"},
        {"{\"model\":\"m\",\"input\":\"a\",\"encoding_format\":\"hex\"}",
         "encoding_format must be \"float\" or \"base64\", not \"hex\""},
        {"{\"input\":\"a\"}", "you must provide a model parameter"},
        {"{\"model\":\"m\",\"input\":\"a\",\"dimensions\":\"2\"}",
         "invalid type for \"dimensions\": expected a number, got a string"},
    };
    check_refusals("/v1/embeddings", cases, sizeof cases / sizeof cases[0]);
}

TEST(everything_stops_clean) {
    REQUIRE(setup());
    loopback_stop();
    CHECK(loopback.s.broker == NULL);
}

TEST_MAIN(TEST_CASE(a_chat_is_translated_into_ollamas_native_body),
          TEST_CASE(response_format_json_schema_and_text),
          TEST_CASE(a_streamed_chat_is_sse_with_usage_when_asked),
          TEST_CASE(chat_refusals_in_openais_shape),
          TEST_CASE(a_fim_completion_keeps_its_prompt_and_suffix),
          TEST_CASE(a_streamed_completion_is_sse_text),
          TEST_CASE(completion_refusals_in_openais_shape),
          TEST_CASE(models_lists_ollamas_tags_the_openai_way),
          TEST_CASE(embeddings_as_floats_or_base64), TEST_CASE(embedding_refusals_in_openais_shape),
          TEST_CASE(everything_stops_clean))
