/*
 * gateway/ollama: Ollama's routes as Ollama's clients call them (ollama-js,
 * ProxyAI's Ollama and Custom OpenAI providers; the bodies are shaped as in
 * tests/clients), against a gateway and a scripted generator inside this
 * process (tests/loopback.h): what is refused with which 400, what goes
 * upstream (the body, its path, the sampling fields moved into options),
 * and how the answer is written (NDJSON lines unchanged, one object for
 * "stream": false, SSE for a client that accepts only that).  Retrieval is
 * off (LCA_RAG=off): it has its own tests.
 */
#include "gateway/ollama.h"
#include "tests/loopback.h"
#include "tests/test.h"

static const char *chat_lines[] = {
    "{\"model\":\"llama3.2\",\"created_at\":\"2025-01-01T00:00:00.1Z\",\"message\":{\"role\":"
    "\"assistant\",\"content\":\"Hel\"},\"done\":false}",
    "{\"model\":\"llama3.2\",\"created_at\":\"2025-01-01T00:00:00.2Z\",\"message\":{\"role\":"
    "\"assistant\",\"content\":\"lo\"},\"done\":false}",
    "{\"model\":\"llama3.2\",\"created_at\":\"2025-01-01T00:00:00.3Z\",\"message\":{\"role\":"
    "\"assistant\",\"content\":\"\"},\"done\":true,\"done_reason\":\"stop\","
    "\"prompt_eval_count\":7,\"eval_count\":2}",
};

static const char *generate_lines[] = {
    "{\"model\":\"qwen2.5-coder\",\"created_at\":\"t\",\"response\":\"a\",\"done\":false}",
    "{\"model\":\"qwen2.5-coder\",\"created_at\":\"t\",\"response\":\"b\",\"done\":false}",
    "{\"model\":\"qwen2.5-coder\",\"created_at\":\"t\",\"response\":\"\",\"done\":true,"
    "\"done_reason\":\"stop\",\"prompt_eval_count\":3,\"eval_count\":2}",
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

/* The scripted generator streams lines, then ends well. */
static void script_lines(const char *const *lines, int n) {
    generate_script_t s = {0};
    for (int i = 0; i < n; i++)
        s.lines[i] = lines[i];
    generate_script(&s);
}

/* A request through the server, answered (or not) within 5 s. */
static loopback_req_t *call(const char *method, const char *path, const char *body,
                            const char *accept) {
    loopback_req_t *r = loopback_request(method, path, body);
    if (accept)
        loopback_header_add(r, "accept", accept);
    loopback_dispatch(r);
    CHECK(loopback_wait(r, 5000));
    return r;
}

/* ---- sampling fields ---- */

TEST(openai_style_sampling_fields_move_into_options) {
    cJSON *body = cJSON_Parse("{\"model\":\"m\",\"prompt\":\"x\",\"temperature\":0.2,\"top_p\":0.9,"
                              "\"seed\":7,\"stop\":\"\\n\\n\",\"max_tokens\":24,"
                              "\"frequency_penalty\":0,\"presence_penalty\":0.6}");
    REQUIRE(body);
    ollama_options_adopt(body);
    char *text = cJSON_PrintUnformatted(body);
    CHECK_STR(text, "{\"model\":\"m\",\"prompt\":\"x\",\"options\":{\"temperature\":0.2,\"top_p\":"
                    "0.9,\"seed\":7,\"stop\":[\"\\n\\n\"],\"num_predict\":24,"
                    "\"frequency_penalty\":0,\"presence_penalty\":0.6}}");
    free(text);
    cJSON_Delete(body);
}

TEST(options_the_client_set_win_and_odd_fields_stay_put) {
    /* ProxyAI's Ollama provider sets options itself; a top-level duplicate
     * is dropped, not moved over it.  max_completion_tokens is another name
     * for num_predict. */
    cJSON *body = cJSON_Parse("{\"options\":{\"temperature\":0.4,\"num_predict\":128},"
                              "\"temperature\":0.1,\"max_tokens\":1000,"
                              "\"max_completion_tokens\":5,\"top_p\":\"high\",\"seed\":null}");
    REQUIRE(body);
    ollama_options_adopt(body);
    char *text = cJSON_PrintUnformatted(body);
    CHECK_STR(text, "{\"options\":{\"temperature\":0.4,\"num_predict\":128},\"top_p\":\"high\","
                    "\"seed\":null}");
    free(text);
    cJSON_Delete(body);
    body = cJSON_Parse("{\"max_completion_tokens\":5,\"max_tokens\":9}");
    ollama_options_adopt(body);
    CHECK_INT(jnum(body, "options.num_predict"), ==, 9); /* max_tokens comes first */
    CHECK(jpath(body, "max_completion_tokens") == NULL);
    cJSON_Delete(body);
    /* options that are not an object: the body is left as the client wrote it */
    const char *odd[] = {"{\"options\":null,\"temperature\":1}",
                         "{\"options\":\"fast\",\"temperature\":1}"};
    for (int i = 0; i < 2; i++) {
        body = cJSON_Parse(odd[i]);
        ollama_options_adopt(body);
        text = cJSON_PrintUnformatted(body);
        CHECK_STR(text, odd[i]);
        free(text);
        cJSON_Delete(body);
    }
}

/* ---- /api/chat ---- */

TEST(a_chat_streams_ollamas_lines_unchanged) {
    REQUIRE(setup());
    script_lines(chat_lines, 3);
    /* ollama-js: ollama.chat({model, messages, stream: true, options}) */
    const char *body = "{\"model\":\"llama3.2\",\"messages\":[{\"role\":\"user\",\"content\":"
                       "\"hi\"}],\"stream\":true,\"options\":{\"temperature\":0},"
                       "\"keep_alive\":\"5m\"}";
    loopback_req_t *r = call("POST", "/api/chat", body, NULL);
    CHECK_INT(r->req.res.status, ==, 200);
    CHECK_STR(loopback_response_header(r, "content-type"), "application/x-ndjson");
    char want[1024];
    snprintf(want, sizeof want, "%s\n%s\n%s\n", chat_lines[0], chat_lines[1], chat_lines[2]);
    CHECK_STR(loopback_body(r), want);
    CHECK(!r->failed);
    /* Upstream: the native endpoint, as a stream, the body as the client sent it. */
    cJSON *h = generate_header(), *up = generate_body();
    CHECK_STR(jstr(h, "method"), "POST");
    CHECK_STR(jstr(h, "path"), "/api/chat");
    CHECK(cJSON_IsTrue(jpath(h, "stream")));
    CHECK_STR(jstr(up, "messages.0.content"), "hi");
    CHECK_STR(jstr(up, "keep_alive"), "5m");
    CHECK_INT(jnum(up, "options.temperature"), ==, 0);
    CHECK(cJSON_IsTrue(jpath(up, "stream")));
    cJSON_Delete(h);
    cJSON_Delete(up);
    loopback_free(r);
}

TEST(stream_false_is_one_object_but_upstream_still_streams) {
    REQUIRE(setup());
    script_lines(chat_lines, 3);
    loopback_req_t *r = call("POST", "/api/chat",
                             "{\"model\":\"llama3.2\",\"messages\":[{\"role\":\"user\",\"content\":"
                             "\"hi\",\"images\":null}],\"stream\":false,\"temperature\":0.3}",
                             NULL);
    CHECK_INT(r->req.res.status, ==, 200);
    cJSON *j = loopback_json(r);
    CHECK_STR(jstr(j, "message.content"), "Hello");
    CHECK(cJSON_IsTrue(jpath(j, "done")));
    CHECK_INT(jnum(j, "eval_count"), ==, 2);
    CHECK(jpath(j, "choices") == NULL); /* only /api/generate adds OpenAI's fields */
    cJSON_Delete(j);
    cJSON *up = generate_body();
    CHECK(cJSON_IsTrue(jpath(up, "stream"))); /* the relay sees the first token */
    CHECK_INT(jnum(up, "options.temperature") * 10, ==, 3);
    CHECK(jpath(up, "temperature") == NULL);
    cJSON_Delete(up);
    loopback_free(r);
}

TEST(an_sse_reader_on_api_chat_gets_chunks_and_openai_errors) {
    REQUIRE(setup());
    /* ProxyAI's Custom OpenAI provider pointed at /api/chat. */
    const char *body = "{\"stream\":true,\"model\":\"llama3.2\",\"messages\":[{\"role\":\"user\","
                       "\"content\":\"hi\"}],\"temperature\":0.1}";
    script_lines(chat_lines, 3);
    loopback_req_t *r = call("POST", "/api/chat", body, "text/event-stream");
    CHECK_INT(r->req.res.status, ==, 200);
    const char *type = loopback_response_header(r, "content-type");
    CHECK(type && strncmp(type, "text/event-stream", 17) == 0);
    CHECK(strncmp(loopback_body(r), "data: {", 7) == 0);
    CHECK(strstr(loopback_body(r), "\"chat.completion.chunk\"") != NULL);
    CHECK(strstr(loopback_body(r), "data: [DONE]\n\n") != NULL);
    loopback_free(r);
    /* An upstream error before any byte: its status, in OpenAI's shape. */
    generate_script(&(generate_script_t){.status = 404, .message = "model 'x' not found"});
    r = call("POST", "/api/chat", body, "text/event-stream");
    CHECK_INT(r->req.res.status, ==, 404);
    cJSON *j = loopback_json(r);
    CHECK_STR(jstr(j, "error.message"), "model 'x' not found");
    CHECK_STR(jstr(j, "error.type"), "not_found_error");
    cJSON_Delete(j);
    loopback_free(r);
    /* The same error to an Ollama reader: Ollama's shape. */
    r = call("POST", "/api/chat", body, NULL);
    CHECK_INT(r->req.res.status, ==, 404);
    j = loopback_json(r);
    CHECK_STR(jstr(j, "error"), "model 'x' not found");
    cJSON_Delete(j);
    loopback_free(r);
}

TEST(chat_bodies_are_checked_field_by_field) {
    REQUIRE(setup());
    static const struct {
        const char *body, *message;
    } cases[] = {
        {"{\"model\":\"m\",\"messages\":\"hi\"}",
         "invalid type for \"messages\": expected an array, got a string"},
        {"{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"a\"},7]}",
         "invalid type for \"messages[1]\": expected an object, got a number"},
        {"{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":{\"text\":\"a\"}}]}",
         "invalid type for \"messages[0].content\": expected a string, got an object"},
        {"{\"model\":\"m\",\"messages\":[{\"role\":true}]}",
         "invalid type for \"messages[0].role\": expected a string, got a boolean"},
        {"{\"model\":\"m\",\"messages\":[],\"stream\":\"yes\"}",
         "invalid type for \"stream\": expected a boolean, got a string"},
        {"{\"model\":\"m\",\"messages\":[],\"think\":1}",
         "invalid type for \"think\": expected a string or a boolean, got a number"},
        {"{\"model\":\"m\",\"messages\":[],\"format\":[]}",
         "invalid type for \"format\": expected a string or an object, got an array"},
        {"{\"messages\":[]}", "model is required"},
        {"{\"model\":\"\",\"messages\":[]}", "model is required"},
        {"{\"model\":null,\"messages\":[]}", "model is required"},
        {"{\"model\":3,\"messages\":[]}",
         "invalid type for \"model\": expected a string, got a number"},
    };
    int jobs = atomic_load(&generate.jobs);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        loopback_req_t *r = call("POST", "/api/chat", cases[i].body, NULL);
        CHECK_INT(r->req.res.status, ==, 400);
        cJSON *j = loopback_json(r);
        CHECK(cJSON_IsString(jpath(j, "error"))); /* Ollama's shape */
        CHECK_STR(loopback_error(j), cases[i].message);
        cJSON_Delete(j);
        loopback_free(r);
    }
    inproc_run_for(&loopback.s, 20);
    CHECK_INT(atomic_load(&generate.jobs), ==, jobs); /* nothing went upstream */
}

/* ---- /api/generate ---- */

TEST(a_proxyai_completion_gets_ollamas_and_openais_fields) {
    REQUIRE(setup());
    script_lines(generate_lines, 3);
    /* ProxyAI's Custom OpenAI provider, completion URL /api/generate, stream:false */
    const char *body =
        "{\n  \"suffix\" : \"\\n}\",\n  \"stream\" : false,\n  \"model\" : \"qwen2.5-coder\",\n"
        "  \"temperature\" : 0.2,\n  \"prompt\" : \"# m\\ndef f():\",\n  \"max_tokens\" : 24\n}";
    loopback_req_t *r = call("POST", "/api/generate", body, NULL);
    CHECK_INT(r->req.res.status, ==, 200);
    cJSON *j = loopback_json(r);
    CHECK_STR(jstr(j, "response"), "ab");
    CHECK(cJSON_IsTrue(jpath(j, "done")));
    CHECK_STR(jstr(j, "choices.0.text"), "ab");
    cJSON_Delete(j);
    cJSON *h = generate_header(), *up = generate_body();
    CHECK_STR(jstr(h, "path"), "/api/generate");
    CHECK_STR(jstr(up, "prompt"), "# m\ndef f():");
    CHECK_STR(jstr(up, "suffix"), "\n}");
    CHECK_INT(jnum(up, "options.num_predict"), ==, 24);
    CHECK_INT(jnum(up, "options.temperature") * 10, ==, 2);
    CHECK(jpath(up, "max_tokens") == NULL && jpath(up, "temperature") == NULL);
    cJSON_Delete(h);
    cJSON_Delete(up);
    loopback_free(r);
}

TEST(a_completion_accepting_sse_streams_text_events) {
    REQUIRE(setup());
    script_lines(generate_lines, 3);
    /* ProxyAI's Ollama provider (<= 3.7.4): options set, Accept SSE */
    loopback_req_t *r =
        call("POST", "/api/generate",
             "{\"model\":\"qwen2.5-coder\",\"prompt\":\"<|fim_prefix|> a <|fim_suffix|>b "
             "<|fim_middle|>\",\"stream\":true,\"options\":{\"stop\":[\"\\n\\n\"],"
             "\"num_predict\":128,\"temperature\":0.4}}",
             "text/event-stream");
    CHECK_INT(r->req.res.status, ==, 200);
    const char *body = loopback_body(r);
    /* Every event carries both readers' fields. */
    const char *first = strstr(body, "data: {");
    REQUIRE(first);
    const char *end = strstr(first, "\n\n");
    REQUIRE(end);
    cJSON *e = cJSON_ParseWithLength(first + 6, (size_t)(end - first - 6));
    CHECK_STR(jstr(e, "object"), "text_completion");
    CHECK_STR(jstr(e, "choices.0.text"), "a");
    CHECK_STR(jstr(e, "response"), "a");
    cJSON_Delete(e);
    CHECK(strstr(body, "data: [DONE]\n\n") != NULL);
    cJSON *up = generate_body();
    CHECK_STR(jstr(up, "options.stop.0"), "\n\n");
    CHECK_INT(jnum(up, "options.num_predict"), ==, 128);
    cJSON_Delete(up);
    loopback_free(r);
}

TEST(generate_bodies_are_checked_too) {
    REQUIRE(setup());
    static const struct {
        const char *body, *message;
    } cases[] = {
        {"{\"model\":\"m\",\"prompt\":1}",
         "invalid type for \"prompt\": expected a string, got a number"},
        {"{\"model\":\"m\",\"context\":\"1,2\"}",
         "invalid type for \"context\": expected an array, got a string"},
        {"{\"model\":\"m\",\"raw\":\"true\"}",
         "invalid type for \"raw\": expected a boolean, got a string"},
        {"{\"model\":\"m\",\"keep_alive\":true}",
         "invalid type for \"keep_alive\": expected a string or a number, got a boolean"},
        {"{\"prompt\":\"x\"}", "model is required"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        loopback_req_t *r = call("POST", "/api/generate", cases[i].body, NULL);
        CHECK_INT(r->req.res.status, ==, 400);
        cJSON *j = loopback_json(r);
        CHECK_STR(loopback_error(j), cases[i].message);
        cJSON_Delete(j);
        loopback_free(r);
    }
}

/* ---- the routes passed on unchanged ---- */

TEST(embed_and_show_pass_the_clients_bytes_on) {
    REQUIRE(setup());
    generate_script(&(generate_script_t){
        .header = "{\"status\":200,\"content_type\":\"application/json; charset=utf-8\"}",
        .payload = "{\"model\":\"nomic\",\"embeddings\":[[0.5,-1]]}"});
    static const struct {
        const char *path, *body;
    } cases[] = {
        {"/api/embed", "{ \"model\": \"nomic\", \"input\": [\"a\", \"b\"], \"truncate\": true }"},
        {"/api/embeddings", "{\"prompt\":\"a\",\"model\":\"nomic\",\"extra\":{\"kept\":1}}"},
        {"/api/show", "{\"name\":\"llama3.2\"}"}, /* the old name of "model" */
        {"/api/show", "{\"model\":\"llama3.2\",\"verbose\":true}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        loopback_req_t *r = call("POST", cases[i].path, cases[i].body, NULL);
        CHECK_INT(r->req.res.status, ==, 200);
        CHECK_STR(loopback_body(r), "{\"model\":\"nomic\",\"embeddings\":[[0.5,-1]]}");
        CHECK_STR(loopback_response_header(r, "content-type"), "application/json; charset=utf-8");
        char sent[256];
        generate_payload(sent, sizeof sent);
        CHECK_STR(sent, cases[i].body);
        cJSON *h = generate_header();
        CHECK_STR(jstr(h, "method"), "POST");
        CHECK_STR(jstr(h, "path"), cases[i].path);
        CHECK(cJSON_IsFalse(jpath(h, "stream")));
        cJSON_Delete(h);
        loopback_free(r);
    }
}

TEST(embed_and_show_refuse_what_ollama_would) {
    REQUIRE(setup());
    static const struct {
        const char *path, *body, *message;
    } cases[] = {
        {"/api/embed", "{\"model\":\"m\",\"input\":5}",
         "invalid type for \"input\": expected a string or an array, got a number"},
        {"/api/embed", "{\"input\":\"a\"}", "model is required"},
        {"/api/embeddings", "{\"model\":\"m\",\"prompt\":[\"a\"]}",
         "invalid type for \"prompt\": expected a string, got an array"},
        {"/api/show", "{\"verbose\":true}", "model is required"},
        {"/api/show", "{\"name\":\"m\",\"verbose\":\"yes\"}",
         "invalid type for \"verbose\": expected a boolean, got a string"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        loopback_req_t *r = call("POST", cases[i].path, cases[i].body, NULL);
        CHECK_INT(r->req.res.status, ==, 400);
        cJSON *j = loopback_json(r);
        CHECK_STR(loopback_error(j), cases[i].message);
        cJSON_Delete(j);
        loopback_free(r);
    }
    /* Ollama's own refusal keeps its status. */
    generate_script(&(generate_script_t){.status = 404, .message = "model 'm' not found"});
    loopback_req_t *r = call("POST", "/api/show", "{\"model\":\"m\"}", NULL);
    CHECK_INT(r->req.res.status, ==, 404);
    cJSON *j = loopback_json(r);
    CHECK_STR(loopback_error(j), "model 'm' not found");
    cJSON_Delete(j);
    loopback_free(r);
}

TEST(tags_ps_and_version_pass_through_with_ollamas_status) {
    REQUIRE(setup());
    generate_script(&(generate_script_t){.header = "{\"status\":200}",
                                         .payload = "{\"models\":[{\"name\":\"llama3.2\"}]}"});
    const char *paths[] = {"/api/tags", "/api/ps", "/api/version", "/c/shop/api/tags"};
    for (size_t i = 0; i < 4; i++) {
        loopback_req_t *r = call("GET", paths[i], NULL, NULL);
        CHECK_INT(r->req.res.status, ==, 200);
        CHECK_STR(loopback_body(r), "{\"models\":[{\"name\":\"llama3.2\"}]}");
        cJSON *h = generate_header();
        CHECK_STR(jstr(h, "method"), "GET");
        CHECK_STR(jstr(h, "path"), i == 3 ? "/api/tags" : paths[i]); /* no /c/<name>/ upstream */
        cJSON_Delete(h);
        char sent[16];
        CHECK_INT(generate_payload(sent, sizeof sent), ==, 0);
        loopback_free(r);
    }
    /* An old Ollama without /api/ps: its 404, its text. */
    generate_script(&(generate_script_t){
        .header = "{\"status\":404,\"content_type\":\"text/plain; charset=utf-8\"}",
        .payload = "404 page not found"});
    loopback_req_t *r = call("GET", "/api/ps", NULL, NULL);
    CHECK_INT(r->req.res.status, ==, 404);
    CHECK_STR(loopback_response_header(r, "content-type"), "text/plain; charset=utf-8");
    CHECK_STR(loopback_body(r), "404 page not found");
    loopback_free(r);
}

TEST(slash_says_ollama_is_running) {
    REQUIRE(setup());
    loopback_req_t *r = call("GET", "/", NULL, "*/*");
    CHECK_INT(r->req.res.status, ==, 200);
    CHECK_STR(loopback_body(r), "Ollama is running");
    CHECK_STR(loopback_response_header(r, "content-type"), "text/plain; charset=utf-8");
    loopback_free(r);
    r = call("HEAD", "/", NULL, NULL);
    CHECK_INT(r->req.res.status, ==, 200);
    CHECK_STR(loopback_body(r), "");
    loopback_free(r);
    /* Called directly, too. */
    r = loopback_request("GET", "/", NULL);
    CHECK_INT(ollama_handle_root(loopback_ctx(r, API_OLLAMA)), ==, 0);
    CHECK(r->ended);
    CHECK_STR(loopback_body(r), "Ollama is running");
    loopback_free(r);
}

TEST(everything_stops_clean) {
    REQUIRE(setup());
    loopback_stop();
    CHECK(loopback.s.broker == NULL);
}

TEST_MAIN(TEST_CASE(openai_style_sampling_fields_move_into_options),
          TEST_CASE(options_the_client_set_win_and_odd_fields_stay_put),
          TEST_CASE(a_chat_streams_ollamas_lines_unchanged),
          TEST_CASE(stream_false_is_one_object_but_upstream_still_streams),
          TEST_CASE(an_sse_reader_on_api_chat_gets_chunks_and_openai_errors),
          TEST_CASE(chat_bodies_are_checked_field_by_field),
          TEST_CASE(a_proxyai_completion_gets_ollamas_and_openais_fields),
          TEST_CASE(a_completion_accepting_sse_streams_text_events),
          TEST_CASE(generate_bodies_are_checked_too),
          TEST_CASE(embed_and_show_pass_the_clients_bytes_on),
          TEST_CASE(embed_and_show_refuse_what_ollama_would),
          TEST_CASE(tags_ps_and_version_pass_through_with_ollamas_status),
          TEST_CASE(slash_says_ollama_is_running), TEST_CASE(everything_stops_clean))
