/*
 * The gateway's Ollama and OpenAI routes over real processes:
 *
 *   libcurl (this test)  ->  lca-gateway  ->  lca-generator  ->  fake Ollama (node)
 *
 * The fake is scripted per test through its control API with a marker the
 * request carries ({"match": marker}), and its event log tells when tokens
 * left it and when its client (the generator) closed the connection.  The
 * checks: tokens are not buffered, a client that leaves (HTTP/1.1 and
 * HTTP/2, before or after the first byte) closes the upstream connection
 * within a second, a generator killed mid-stream gives a well-formed error,
 * every failure of Ollama gets the right status and shape in both API
 * families, bad input is a 4xx and never a crash, keep-alive, the
 * /c/<collection>/ prefix, the API key and the refusal to listen on a public
 * address without one.  The gateway must exit 0 on SIGTERM (with SAN=1 that
 * includes no leaks).
 *
 *   make build/bin/lca-gateway build/bin/lca-generator build/tests/integration/gateway_test
 *   build/tests/integration/gateway_test [test names]
 * Needs node (the fake: tests/fake-ollama/fake-ollama.mjs, or $LCA_FAKE_OLLAMA).
 */
#include "proto/base/buf.h"
#include "tests/stack.h"

#include <cJSON.h>
#include <curl/curl.h>

#define TIMEOUT_MS 2000 /* the gateway's --timeout: hangs end after it */
#define MAX_BODY 65536  /* the gateway's --max-body */

static test_stack_t stack; /* fake Ollama, gateway, generator */
static bool fixture_ok, fixture_tried;

/* ---- HTTP client ---- */

/* POST body to path on the gateway. */
static void post(const char *path, const char *body, http_reply_t *r) {
    http_request(&(http_request_t){.path = path, .body = body}, r);
}

/* The message of an error body: {"error": "m"} (Ollama) or {"error": {"message": "m"}}
 * (OpenAI); family tells which shape is required. */
static bool error_shape(const char *json_text, bool openai, char *message, size_t size) {
    cJSON *j = cJSON_Parse(json_text);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    bool ok = false;
    if (openai && cJSON_IsObject(e)) {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(e, "type");
        ok = cJSON_IsString(m) && cJSON_IsString(t);
        if (ok)
            snprintf(message, size, "%s", m->valuestring);
    } else if (!openai && cJSON_IsString(e)) {
        ok = true;
        snprintf(message, size, "%s", e->valuestring);
    }
    cJSON_Delete(j);
    return ok;
}

/* ---- the fake's control API ---- */

static bool fake_script(const char *script) {
    return fake_ollama_script(&stack.fake, script);
}

/* The time (epoch ms) of the first event of type for marker, or 0. */
static double fake_event_time(const char *marker, const char *type, int index) {
    cJSON *events = fake_ollama_records(&stack.fake, "events", marker);
    double t = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, events) {
        const cJSON *ty = cJSON_GetObjectItemCaseSensitive(e, "type");
        const cJSON *ix = cJSON_GetObjectItemCaseSensitive(e, "index");
        if (cJSON_IsString(ty) && strcmp(ty->valuestring, type) == 0 &&
            (index < 0 || (cJSON_IsNumber(ix) && ix->valueint == index))) {
            t = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(e, "t"));
            break;
        }
    }
    cJSON_Delete(events);
    return t;
}

typedef struct {
    const char *marker, *type;
} event_wait_t;

static bool event_seen(void *arg) {
    event_wait_t *w = arg;
    return fake_event_time(w->marker, w->type, -1) > 0;
}

/* Waits up to ms for the event; its time (epoch ms) or 0. */
static double wait_event(const char *marker, const char *type, int ms) {
    event_wait_t w = {marker, type};
    return proc_wait_for(event_seen, &w, ms) ? fake_event_time(marker, type, -1) : 0;
}

/* ---- the fixture ---- */

static bool generator_ready(void *arg) {
    (void)arg;
    return stack_workers(&stack, "generate") > 0;
}

static bool fixture_up(void) {
    if (fixture_tried)
        return fixture_ok;
    fixture_tried = true;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    static char timeout[16], max_body[16];
    snprintf(timeout, sizeof timeout, "%d", TIMEOUT_MS);
    snprintf(max_body, sizeof max_body, "%d", MAX_BODY);
    static const char *const gateway_args[] = {"--timeout", timeout, "--max-body", max_body, NULL};
    fixture_ok = stack_start(&stack, &(stack_options_t){.generator = true,
                                                        .no_embedder = true,
                                                        .no_retrievers = true,
                                                        .gateway_args = gateway_args,
                                                        .heartbeat_ms = 200});
    http_base = stack.url;
    if (fixture_ok) { /* warm every hop up, so that timings measure the steady state */
        http_reply_t r;
        post("/api/chat", "{\"model\":\"llama3.2\",\"messages\":[]}", &r);
        http_reply_free(&r);
    }
    return fixture_ok;
}

static void marker_new(char *out, size_t size, const char *label) {
    static int counter;
    snprintf(out, size, "m-%s-%d-%d", label, (int)getpid(), ++counter);
}

static void chat_body(char *out, size_t size, const char *model, const char *marker,
                      const char *extra) {
    snprintf(out, size,
             "{\"model\":\"%s\",\"messages\":[{\"role\":\"user\",\"content\":\"hi %s\"}]%s%s}",
             model, marker, extra ? "," : "", extra ? extra : "");
}

/* ---- streaming ---- */

TEST(tokens_reach_the_client_unbuffered) {
    REQUIRE(fixture_up());
    static const char *tokens[] = {"one", " two", " three", " four", " five", " six"};
    struct {
        const char *path, *body_fmt;
        bool http2;
    } cases[] = {
        {"/api/generate", "{\"model\":\"qwen2.5-coder:7b\",\"prompt\":\"%s\"}", false},
        {"/v1/chat/completions",
         "{\"model\":\"llama3.2\",\"stream\":true,\"messages\":[{\"role\":\"user\","
         "\"content\":\"%s\"}]}",
         true},
    };
    /* Buffering shows as every token late by about the pace, every time; a
     * busy machine can delay one run, so the worst of three runs is not held
     * against the gateway: the best run must have every token within 10 ms. */
    for (size_t k = 0; k < 2; k++) {
        double best = 1e9;
        for (int attempt = 0; attempt < 3 && best >= 10.0; attempt++) {
            char m[64], script[256], body[256];
            marker_new(m, sizeof m, "pace");
            snprintf(script, sizeof script,
                     "{\"match\":\"%s\",\"tokens\":[\"one\",\" two\",\" three\",\" four\","
                     "\" five\",\" six\"],\"pace_ms\":50}",
                     m);
            REQUIRE(fake_script(script));
            snprintf(body, sizeof body, cases[k].body_fmt, m);
            http_reply_t r;
            http_request(
                &(http_request_t){.path = cases[k].path, .body = body, .http2 = cases[k].http2},
                &r);
            CHECK_INT(r.status, ==, 200);
            int got = 0;
            double worst = 0;
            for (int i = 0; i < r.nlines && got < 6; i++) {
                char *t = http_line_text(r.lines[i]);
                if (t && t[0]) {
                    CHECK_STR(t, tokens[got]);
                    double sent = fake_event_time(m, "token", got);
                    CHECK(sent > 0);
                    double late = r.line_ms[i] - sent;
                    worst = late > worst ? late : worst;
                    got++;
                }
                free(t);
            }
            CHECK_INT(got, ==, 6);
            best = worst < best ? worst : best;
            printf("# %s%s: each token at most %.2f ms after the fake wrote it\n", cases[k].path,
                   cases[k].http2 ? " (HTTP/2)" : "", worst);
            http_reply_free(&r);
        }
        CHECK(best < 10.0);
    }
}

TEST(ndjson_json_and_sse_answers) {
    REQUIRE(fixture_up());
    char m[64], script[200], body[400], text[256];
    marker_new(m, sizeof m, "shape");
    snprintf(script, sizeof script, "{\"match\":\"%s\",\"tokens\":[\"Hi\",\" there\"]}", m);
    REQUIRE(fake_script(script));

    /* NDJSON: exactly Ollama's content type, every line a JSON object, done last. */
    http_reply_t r;
    chat_body(body, sizeof body, "llama3.2", m, NULL);
    post("/api/chat", body, &r);
    CHECK_INT(r.status, ==, 200);
    CHECK_STR(r.content_type, "application/x-ndjson");
    CHECK_INT(r.nlines, ==, 3);
    CHECK(r.body.len > 0 && r.body.data[r.body.len - 1] == '\n');
    http_joined_text(&r, text, sizeof text);
    CHECK_STR(text, "Hi there");
    CHECK(r.nlines > 0 && strstr(r.lines[r.nlines - 1], "\"done\":true"));
    http_reply_free(&r);

    /* stream:false: one object with the whole text. */
    chat_body(body, sizeof body, "llama3.2", m, "\"stream\":false");
    post("/api/chat", body, &r);
    CHECK_INT(r.status, ==, 200);
    CHECK_STR(r.content_type, "application/json; charset=utf-8");
    cJSON *j = http_body_json(&r);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
                  cJSON_GetObjectItemCaseSensitive(j, "message"), "content")),
              "Hi there");
    CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "done")));
    cJSON_Delete(j);
    http_reply_free(&r);

    /* Accept: text/event-stream on /api/chat, even with stream:false: OpenAI chunks. */
    http_request(
        &(http_request_t){.path = "/api/chat", .body = body, .accept = "text/event-stream"}, &r);
    CHECK_INT(r.status, ==, 200);
    CHECK(strncmp(r.content_type, "text/event-stream", 17) == 0);
    http_joined_text(&r, text, sizeof text);
    CHECK_STR(text, "Hi there");
    CHECK(r.nlines > 0 && strstr(r.lines[0], "\"object\":\"chat.completion.chunk\""));
    CHECK(r.nlines > 0 && strcmp(r.lines[r.nlines - 1], "data: [DONE]") == 0);
    http_reply_free(&r);

    /* ... and on /api/generate, events carry both "response" and choices[0].text. */
    char gen[300];
    snprintf(gen, sizeof gen,
             "{\"model\":\"qwen2.5-coder:7b\",\"prompt\":\"%s\",\"stream\":false,"
             "\"suffix\":\"}\",\"temperature\":0.2,\"max_tokens\":24}",
             m);
    http_request(
        &(http_request_t){.path = "/api/generate", .body = gen, .accept = "text/event-stream"}, &r);
    CHECK_INT(r.status, ==, 200);
    CHECK(r.nlines > 0 && strstr(r.lines[0], "\"response\":\"Hi\"") &&
          strstr(r.lines[0], "\"text\":\"Hi\""));
    http_reply_free(&r);

    /* The top-level OpenAI-style fields reached Ollama as options. */
    cJSON *reqs = fake_ollama_records(&stack.fake, "requests", m);
    const cJSON *last = cJSON_GetArrayItem(reqs, cJSON_GetArraySize(reqs) - 1);
    const cJSON *opts =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(last, "body"), "options");
    CHECK_INT(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(opts, "num_predict")), ==, 24);
    CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(last, "body"), "stream")));
    cJSON_Delete(reqs);

    /* OpenAI, not streamed. */
    chat_body(body, sizeof body, "llama3.2", m, NULL);
    post("/v1/chat/completions", body, &r);
    CHECK_INT(r.status, ==, 200);
    j = http_body_json(&r);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "object")),
              "chat.completion");
    const cJSON *choice = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "choices"), 0);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
                  cJSON_GetObjectItemCaseSensitive(choice, "message"), "content")),
              "Hi there");
    cJSON_Delete(j);
    http_reply_free(&r);
}

TEST(sse_sends_comments_while_waiting) {
    REQUIRE(fixture_up());
    char m[64], script[200], body[300];
    marker_new(m, sizeof m, "wait");
    snprintf(script, sizeof script,
             "{\"match\":\"%s\",\"tokens\":[\"late\"],\"first_token_delay_ms\":1300}", m);
    REQUIRE(fake_script(script));
    chat_body(body, sizeof body, "llama3.2", m, "\"stream\":true");
    http_reply_t r;
    post("/v1/chat/completions", body, &r);
    CHECK_INT(r.status, ==, 200);
    CHECK(r.nlines > 0 && strcmp(r.lines[0], ": ok") == 0);
    char text[64];
    http_joined_text(&r, text, sizeof text);
    CHECK_STR(text, "late");
    http_reply_free(&r);
}

/* A stream the client abandons after two tokens: the fake must see its
 * upstream connection closed within a second, and the gateway go on. */
static void abandon_stream(bool http2, const char *path, const char *extra, int abort_after,
                           int timeout_ms) {
    char m[64], script[256], body[300];
    marker_new(m, sizeof m, http2 ? "gone2" : "gone1");
    snprintf(script, sizeof script,
             "{\"match\":\"%s\",\"tokens\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\","
             "\"j\",\"k\",\"l\",\"m\",\"n\",\"o\"],\"pace_ms\":100}",
             m);
    REQUIRE(fake_script(script));
    chat_body(body, sizeof body, "llama3.2", m, extra);
    http_reply_t r;
    double start = http_now_real_ms();
    http_request(&(http_request_t){.path = path,
                                   .body = body,
                                   .http2 = http2,
                                   .abort_after = abort_after,
                                   .timeout_ms = timeout_ms},
                 &r);
    double left = r.aborted_ms ? r.aborted_ms : http_now_real_ms();
    CHECK(r.rc != CURLE_OK);
    if (http2 && r.status)
        CHECK_INT(r.version, ==, CURL_HTTP_VERSION_2_0);
    double closed = wait_event(m, "client_closed", 2000);
    CHECK(closed > 0);
    CHECK(closed - left < 1000);
    printf("# %s %s %s: upstream closed %.0f ms after the client left (%.0f ms in)\n",
           http2 ? "HTTP/2" : "HTTP/1.1", path, extra ? extra : "", closed - left, left - start);
    http_reply_free(&r);
    /* The gateway goes on serving. */
    chat_body(body, sizeof body, "llama3.2", "after", "\"stream\":false");
    post("/api/chat", body, &r);
    CHECK_INT(r.status, ==, 200);
    http_reply_free(&r);
}

TEST(client_gone_http1_cancels_upstream) {
    REQUIRE(fixture_up());
    abandon_stream(false, "/api/chat", NULL, 2, 0);
    abandon_stream(false, "/v1/chat/completions", "\"stream\":true", 2, 0);
}

TEST(client_gone_http2_cancels_upstream) {
    REQUIRE(fixture_up());
    abandon_stream(true, "/api/chat", NULL, 2, 0);
    abandon_stream(true, "/v1/chat/completions", "\"stream\":true", 2, 0);
}

TEST(client_gone_before_any_byte_cancels_upstream) {
    REQUIRE(fixture_up());
    /* stream:false writes nothing until the end: the client gives up first. */
    abandon_stream(false, "/api/chat", "\"stream\":false", 0, 400);
    abandon_stream(true, "/v1/chat/completions", "\"stream\":false", 0, 400);
}

/* ---- failures ---- */

typedef struct {
    const char *label;
    const char *script; /* %s: the marker; NULL: the fake's default */
    const char *model;
    int status;          /* expected status */
    bool midstream;      /* error after output: 200 and an error line / event */
    const char *message; /* part of the message */
} failure_t;

static void check_failure(const failure_t *f, bool openai) {
    char m[64], script[300], body[300], message[512] = "";
    marker_new(m, sizeof m, f->label);
    if (f->script) {
        snprintf(script, sizeof script, f->script, m);
        REQUIRE(fake_script(script));
    }
    chat_body(body, sizeof body, f->model, m, openai ? "\"stream\":true" : NULL);
    http_reply_t r;
    post(openai ? "/v1/chat/completions" : "/api/chat", body, &r);
    if (f->midstream || (openai && f->status == 504)) {
        /* Output had started (tokens, or SSE comments while waiting). */
        CHECK_INT(r.status, ==, 200);
        REQUIRE(r.nlines > 0);
        const char *last = r.lines[r.nlines - 1];
        if (openai)
            CHECK(strncmp(last, "data: ", 6) == 0 &&
                  error_shape(last + 6, true, message, sizeof message));
        else
            CHECK(error_shape(last, false, message, sizeof message));
    } else {
        CHECK_INT(r.status, ==, f->status);
        CHECK(strncmp(r.content_type, "application/json", 16) == 0);
        CHECK(r.body.data && error_shape(r.body.data, openai, message, sizeof message));
    }
    CHECK(strstr(message, f->message) != NULL);
    if (!strstr(message, f->message))
        fprintf(stderr, "  %s %s: status %ld, message \"%s\"\n", f->label,
                openai ? "openai" : "ollama", r.status, message);
    http_reply_free(&r);
}

TEST(ollama_failures_have_the_right_status_and_shape) {
    REQUIRE(fixture_up());
    static const failure_t failures[] = {
        {"500", "{\"match\":\"%s\",\"fail\":\"500\",\"error_message\":\"runner crashed\"}",
         "llama3.2", 500, false, "runner crashed"},
        {"404", "{\"match\":\"%s\"}", "no-such-model", 404, false,
         "model 'no-such-model' not found"},
        {"503", "{\"match\":\"%s\",\"fail\":\"503\",\"error_message\":\"busy\"}", "llama3.2", 503,
         false, "busy"},
        {"cut",
         "{\"match\":\"%s\",\"tokens\":[\"a\",\"b\",\"c\"],\"fail\":\"cut\",\"cut_after\":2}",
         "llama3.2", 502, true, "closed the stream"},
        {"errmid",
         "{\"match\":\"%s\",\"tokens\":[\"a\",\"b\",\"c\"],\"fail\":\"error_mid\",\"cut_after\":2,"
         "\"error_message\":\"out of memory\"}",
         "llama3.2", 500, true, "out of memory"},
        {"hang", "{\"match\":\"%s\",\"fail\":\"hang\"}", "llama3.2", 504, false, "within"},
        /* A stream stuck after its first token: the deadline ends it with an error line. */
        {"stall", "{\"match\":\"%s\",\"tokens\":[\"a\",\"b\"],\"pace_ms\":4000}", "llama3.2", 504,
         true, "within"},
    };
    for (size_t i = 0; i < sizeof failures / sizeof failures[0]; i++) {
        check_failure(&failures[i], false);
        check_failure(&failures[i], true);
    }
}

TEST(ollama_refusing_connections_is_502) {
    REQUIRE(fixture_up());
    cJSON *answer = fake_ollama_call(&stack.fake, "/_fake/refuse", "{\"reopen_after_ms\":1200}");
    REQUIRE(answer);
    cJSON_Delete(answer);
    /* The fake's control API is refused too: its default script applies.  The
     * first request may meet the generator's pooled connection, which the fake
     * has just dropped ("Ollama closed the connection ..."): a 502 either way. */
    static const failure_t refused = {"refused", NULL, "llama3.2", 502, false, "Ollama "};
    check_failure(&refused, false);
    check_failure(&refused, true);
    /* Back once the fake listens again. */
    CHECK(proc_wait_port(stack.fake.port, 5000));
}

TEST(generator_killed_mid_stream) {
    REQUIRE(fixture_up());
    char m[64], script[256], body[300];
    marker_new(m, sizeof m, "kill");
    snprintf(script, sizeof script,
             "{\"match\":\"%s\",\"tokens\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\"],"
             "\"pace_ms\":100}",
             m);
    REQUIRE(fake_script(script));
    for (int openai = 0; openai < 2; openai++) {
        chat_body(body, sizeof body, "llama3.2", m, openai ? "\"stream\":true" : NULL);
        http_reply_t r;
        http_request(&(http_request_t){.path = openai ? "/v1/chat/completions" : "/api/chat",
                                       .body = body,
                                       .kill_after_pid = stack.generator,
                                       .kill_after = 2},
                     &r);
        CHECK_INT(r.status, ==, 200);
        CHECK(r.rc == CURLE_OK); /* a well-formed end of the response */
        REQUIRE(r.nlines > 0);
        char message[512] = "";
        const char *last = r.lines[r.nlines - 1];
        CHECK(error_shape(openai ? last + (strncmp(last, "data: ", 6) == 0 ? 6 : 0) : last, openai,
                          message, sizeof message));
        printf("# generator killed: the client read \"%s\"\n", message);
        http_reply_free(&r);
        proc_stop(stack.generator, SIGKILL, 1000);
        CHECK(proc_alive(stack.gateway));
        stack_generator_start(&stack);
        REQUIRE(proc_wait_for(generator_ready, NULL, 10000));
    }
    chat_body(body, sizeof body, "llama3.2", "after-kill", "\"stream\":false");
    http_reply_t r;
    post("/api/chat", body, &r);
    CHECK_INT(r.status, ==, 200);
    http_reply_free(&r);
}

/* ---- bad input ---- */

TEST(bad_input_is_4xx_in_the_family_shape) {
    REQUIRE(fixture_up());
    static const struct {
        const char *path, *body;
        int status;
    } cases[] = {
        {"/api/chat", "{\"model\":\"llama3.2\",\"messages\":[", 400},
        {"/api/chat", "{\"model\":\"llama3.2\",\"messages\":\"hi\"}", 400},
        {"/api/chat", "{\"model\":\"llama3.2\",\"messages\":[{\"role\":1}]}", 400},
        {"/api/chat", "{\"messages\":[]}", 400},
        {"/api/chat", "[]", 400},
        {"/api/chat", "", 400},
        {"/api/generate", "{\"model\":\"qwen2.5-coder:7b\",\"prompt\":3}", 400},
        {"/api/generate", "{\"model\":\"qwen2.5-coder:7b\",\"stream\":\"yes\"}", 400},
        {"/api/generate", "{\"prompt\":\"x\"}", 400},
        {"/api/generate", "{\"model\":\"qwen2.5-coder:7b\",\"options\":[]}", 400},
        {"/api/embed", "{\"input\":\"x\"}", 400},
        {"/api/embed", "{\"model\":\"nomic-embed-text\",\"input\":7}", 400},
        {"/api/show", "{}", 400},
        {"/v1/chat/completions", "{\"model\":\"llama3.2\",\"messages\":[]}", 400},
        {"/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", 400},
        {"/v1/chat/completions", "{\"model\":\"llama3.2\",\"max_tokens\":\"9\",\"messages\":[]}",
         400},
        {"/v1/completions", "{\"model\":\"qwen2.5-coder:7b\",\"prompt\":[1,2]}", 400},
        {"/v1/completions", "{\"model\":\"qwen2.5-coder:7b\",\"stop\":[1]}", 400},
        {"/v1/embeddings", "{\"model\":\"nomic-embed-text\",\"input\":[]}", 400},
        {"/v1/embeddings",
         "{\"model\":\"nomic-embed-text\",\"input\":\"x\",\"encoding_format\":"
         "\"hex\"}",
         400},
        {"/api/chat", "{\"model\":\"llama3.2\",\"messages\":[],\"unknown\":{\"x\":[1]}}", 200},
        {"/v1/completions", "{\"model\":\"qwen2.5-coder:7b\",\"prompt\":\"x\",\"zzz\":true}", 200},
        {"/api/tags", "", 405},
        {"/api/nope", "{}", 404},
        {"/v1/nope", "{}", 404},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        http_reply_t r;
        bool openai = strncmp(cases[i].path, "/v1/", 4) == 0;
        http_request(
            &(http_request_t){.path = cases[i].path,
                              .body = cases[i].body,
                              .method = strcmp(cases[i].path, "/api/tags") == 0 ? "POST" : NULL},
            &r);
        CHECK_INT(r.status, ==, cases[i].status);
        char message[256];
        if (cases[i].status >= 400)
            CHECK(r.body.data && error_shape(r.body.data, openai, message, sizeof message));
        if (r.status != cases[i].status)
            fprintf(stderr, "  %s %s -> %ld %s\n", cases[i].path, cases[i].body, r.status,
                    r.body.data ? r.body.data : "");
        http_reply_free(&r);
    }
    /* Invalid UTF-8, in a string and as a raw byte. */
    const char *bad_utf8[] = {"{\"model\":\"llama3.2\xff\",\"messages\":[]}",
                              "{\"model\":\"ll\xc3\x28\",\"prompt\":\"x\"}"};
    for (int i = 0; i < 2; i++) {
        http_reply_t r;
        post(i ? "/v1/completions" : "/api/chat", bad_utf8[i], &r);
        CHECK_INT(r.status, ==, 400);
        CHECK(r.body.data && strstr(r.body.data, "UTF-8"));
        http_reply_free(&r);
    }
    /* A body over --max-body is 413 in both shapes. */
    size_t big_len = MAX_BODY + 100;
    char *big = malloc(big_len + 1);
    REQUIRE(big);
    memset(big, ' ', big_len);
    memcpy(big, "{\"model\":\"llama3.2\",\"prompt\":\"", 30);
    big[big_len - 2] = '"';
    big[big_len - 1] = '}';
    big[big_len] = '\0';
    for (int openai = 0; openai < 2; openai++) {
        http_reply_t r;
        post(openai ? "/v1/completions" : "/api/generate", big, &r);
        CHECK_INT(r.status, ==, 413);
        char message[256];
        CHECK(r.body.data && error_shape(r.body.data, openai, message, sizeof message));
        http_reply_free(&r);
    }
    free(big);
    /* Every truncation of a valid body is a 400, never a crash (one connection). */
    const char *valid = "{\"model\":\"llama3.2\",\"messages\":[{\"role\":\"user\",\"content\":"
                        "\"h\\u00e9\"}],\"options\":{\"temperature\":0.5},\"stream\":false}";
    CURL *c = curl_easy_init();
    int wrong = 0;
    for (size_t n = 1; n < strlen(valid); n++) {
        http_reply_t r;
        http_request(&(http_request_t){.path = n % 2 ? "/api/chat" : "/v1/chat/completions",
                                       .body = valid,
                                       .body_len = n,
                                       .handle = c},
                     &r);
        wrong += r.status != 400;
        http_reply_free(&r);
    }
    CHECK_INT(wrong, ==, 0);
    /* Random byte changes to valid bodies on every route: any answer but a 5xx or a crash. */
    static const struct {
        const char *path, *body;
    } seeds[] = {
        {"/api/chat", "{\"model\":\"llama3.2\",\"messages\":[{\"role\":\"user\",\"content\":"
                      "\"hi\"}],\"stream\":false,\"options\":{\"num_predict\":2}}"},
        {"/api/generate", "{\"model\":\"qwen2.5-coder:7b\",\"prompt\":\"a\",\"suffix\":\"b\","
                          "\"raw\":false,\"stream\":true}"},
        {"/v1/chat/completions", "{\"model\":\"llama3.2\",\"messages\":[{\"role\":\"user\","
                                 "\"content\":[{\"type\":\"text\",\"text\":\"hi\"}]}],"
                                 "\"max_tokens\":2,\"stop\":[\"x\"]}"},
        {"/v1/completions", "{\"model\":\"qwen2.5-coder:7b\",\"prompt\":\"a\",\"stream\":true,"
                            "\"stream_options\":{\"include_usage\":true}}"},
        {"/v1/embeddings", "{\"model\":\"nomic-embed-text\",\"input\":[\"a\",\"b\"]}"},
    };
    static const char alphabet[] = "{}[]\",:\\ 0aZ\xff\xc3\x80tfn-.e";
    unsigned seed = 12345;
    int server_errors = 0, requests = 0;
    for (int round = 0; round < 60; round++) {
        for (size_t k = 0; k < sizeof seeds / sizeof seeds[0]; k++) {
            char body[400];
            size_t len = strlen(seeds[k].body);
            memcpy(body, seeds[k].body, len + 1);
            for (int flips = 1 + round % 3; flips > 0; flips--) {
                seed = seed * 1103515245u + 12345u;
                size_t at = (seed >> 8) % len;
                seed = seed * 1103515245u + 12345u;
                body[at] = alphabet[(seed >> 8) % (sizeof alphabet - 1)];
            }
            http_reply_t r;
            http_request(
                &(http_request_t){
                    .path = seeds[k].path, .body = body, .body_len = len, .handle = c},
                &r);
            requests++;
            if (r.status < 200 || r.status >= 500) {
                server_errors++;
                fprintf(stderr, "  %s %.*s -> %ld\n", seeds[k].path, (int)len, body, r.status);
            }
            http_reply_free(&r);
        }
    }
    curl_easy_cleanup(c);
    printf("# %d mutated bodies, %d answered with a 5xx or nothing\n", requests, server_errors);
    CHECK_INT(server_errors, ==, 0);
    CHECK(proc_alive(stack.gateway));
}

/* What the fake received for marker (the last request), as parsed JSON. */
static cJSON *fake_last_body(const char *marker) {
    cJSON *list = fake_ollama_records(&stack.fake, "requests", marker);
    cJSON *body = cJSON_DetachItemFromObjectCaseSensitive(
        cJSON_GetArrayItem(list, cJSON_GetArraySize(list) - 1), "body");
    cJSON_Delete(list);
    return body;
}

static const char *json_path(const cJSON *j, const char *a, const char *b) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(j, a);
    if (b)
        x = cJSON_GetObjectItemCaseSensitive(x, b);
    static char text[256];
    char *printed = x ? cJSON_PrintUnformatted(x) : NULL;
    snprintf(text, sizeof text, "%s", printed ? printed : "(none)");
    free(printed);
    return text;
}

TEST(openai_requests_reach_ollama_translated) {
    REQUIRE(fixture_up());
    char m[64], body[1200];
    marker_new(m, sizeof m, "tr");
    snprintf(body, sizeof body,
             "{\"model\":\"llama3.2\",\"messages\":[{\"role\":\"developer\",\"content\":\"be "
             "brief\"},{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"%s \"},"
             "{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/png;base64,AAAA\"}}]},"
             "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"c1\",\"type\":"
             "\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"a\\\":1}\"}}]},"
             "{\"role\":\"tool\",\"tool_call_id\":\"c1\",\"content\":\"42\"}],"
             "\"max_completion_tokens\":50,\"stop\":\"END\",\"temperature\":0.5,\"top_p\":0.9,"
             "\"seed\":3,\"frequency_penalty\":0.1,\"presence_penalty\":0.6,"
             "\"response_format\":{\"type\":\"json_object\"},\"user\":\"ignored\"}",
             m);
    http_reply_t r;
    post("/v1/chat/completions", body, &r);
    CHECK_INT(r.status, ==, 200);
    http_reply_free(&r);
    cJSON *seen = fake_last_body(m);
    REQUIRE(seen);
    CHECK_STR(json_path(seen, "options", NULL),
              "{\"num_predict\":50,\"temperature\":0.5,\"top_p\":0.9,\"seed\":3,"
              "\"frequency_penalty\":0.1,\"presence_penalty\":0.6,\"stop\":[\"END\"]}");
    CHECK_STR(json_path(seen, "format", NULL), "\"json\"");
    CHECK_STR(json_path(seen, "stream", NULL), "true");
    CHECK_STR(json_path(seen, "user", NULL), "(none)");
    const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(seen, "messages");
    CHECK_STR(json_path(cJSON_GetArrayItem(msgs, 0), "role", NULL), "\"system\"");
    CHECK_STR(json_path(cJSON_GetArrayItem(msgs, 1), "images", NULL), "[\"AAAA\"]");
    CHECK_STR(json_path(cJSON_GetArrayItem(msgs, 2), "tool_calls", NULL),
              "[{\"function\":{\"name\":\"f\",\"arguments\":{\"a\":1}}}]");
    CHECK_STR(json_path(cJSON_GetArrayItem(msgs, 3), "tool_name", NULL), "\"f\"");
    cJSON_Delete(seen);

    /* /v1/completions: suffix for fill-in-the-middle on /api/generate. */
    marker_new(m, sizeof m, "tr");
    snprintf(body, sizeof body,
             "{\"model\":\"qwen2.5-coder:7b\",\"prompt\":[\"def %s():\"],\"suffix\":\"\\nx()\","
             "\"max_tokens\":16,\"stop\":[\"\\n\\n\"]}",
             m);
    post("/v1/completions", body, &r);
    CHECK_INT(r.status, ==, 200);
    http_reply_free(&r);
    seen = fake_last_body(m);
    REQUIRE(seen);
    CHECK_STR(json_path(seen, "suffix", NULL), "\"\\nx()\"");
    CHECK_STR(json_path(seen, "options", NULL), "{\"num_predict\":16,\"stop\":[\"\\n\\n\"]}");
    CHECK(strstr(json_path(seen, "prompt", NULL), m) != NULL);
    cJSON_Delete(seen);
}

/* A null for an optional field is what many clients send for an option
 * they leave unset: it means the default on every route, never a 400
 * ("k": null on /api/context was one). */
TEST(null_options_mean_the_defaults) {
    REQUIRE(fixture_up());
    /* /api/context: no retriever runs here, so the answer is whatever the
     * same query without the fields gets (the deadline's end); a field of
     * the wrong type is still a 400. */
    static const char *const context[] = {
        "{\"query\":\"x\",\"deadline_ms\":50}",
        "{\"query\":\"x\",\"deadline_ms\":50,\"k\":null,\"signals\":null,\"prefix\":null,"
        "\"suffix\":null,\"path\":null,\"collection\":null}",
        "{\"query\":\"x\",\"deadline_ms\":50,\"k\":0}",
        /* the default deadline (2 s) is long enough to learn that nothing
         * is indexed (404): with 50 ms the answer is the deadline's (504) */
        "{\"prefix\":\"x\",\"deadline_ms\":2000}",
        "{\"prefix\":\"x\",\"query\":null,\"k\":null,\"deadline_ms\":null}",
    };
    long statuses[5];
    for (int i = 0; i < 5; i++) {
        http_reply_t r;
        post("/api/context", context[i], &r);
        statuses[i] = r.status;
        if (r.status == 400 && i != 2)
            fprintf(stderr, "  /api/context %s -> 400 %s\n", context[i],
                    r.body.data ? r.body.data : "");
        http_reply_free(&r);
    }
    CHECK(statuses[0] != 400);
    CHECK_INT(statuses[1], ==, statuses[0]);
    CHECK_INT(statuses[2], ==, 400);
    CHECK(statuses[3] != 400);
    CHECK_INT(statuses[4], ==, statuses[3]);

    /* OpenAI: every optional field null reaches Ollama as no option at all. */
    char m[64], body[1200];
    marker_new(m, sizeof m, "null");
    snprintf(body, sizeof body,
             "{\"model\":\"llama3.2\",\"messages\":[{\"role\":\"user\",\"content\":\"%s\","
             "\"name\":null}],\"max_tokens\":null,\"max_completion_tokens\":null,"
             "\"temperature\":null,\"top_p\":null,\"seed\":null,\"stop\":null,"
             "\"frequency_penalty\":null,\"presence_penalty\":null,\"stream\":null,"
             "\"stream_options\":null,\"response_format\":null,\"tools\":null,"
             "\"tool_choice\":null,\"user\":null,\"n\":null}",
             m);
    http_reply_t r;
    post("/v1/chat/completions", body, &r);
    CHECK_INT(r.status, ==, 200);
    CHECK(strncmp(r.content_type, "application/json", 16) == 0); /* stream: null is false */
    http_reply_free(&r);
    cJSON *seen = fake_last_body(m);
    REQUIRE(seen);
    CHECK_STR(json_path(seen, "options", NULL), "(none)");
    CHECK_STR(json_path(seen, "format", NULL), "(none)");
    cJSON_Delete(seen);
    marker_new(m, sizeof m, "null");
    snprintf(body, sizeof body,
             "{\"model\":\"qwen2.5-coder:7b\",\"prompt\":\"%s\",\"suffix\":null,"
             "\"max_tokens\":null,\"stop\":null,\"stream\":null}",
             m);
    post("/v1/completions", body, &r);
    CHECK_INT(r.status, ==, 200);
    http_reply_free(&r);

    /* Ollama: the same, and stream: null streams, as Ollama does. */
    marker_new(m, sizeof m, "null");
    snprintf(body, sizeof body,
             "{\"model\":\"llama3.2\",\"messages\":[{\"role\":\"user\",\"content\":\"%s\","
             "\"images\":null}],\"stream\":null,\"format\":null,\"options\":null,"
             "\"keep_alive\":null,\"tools\":null,\"think\":null}",
             m);
    post("/api/chat", body, &r);
    CHECK_INT(r.status, ==, 200);
    CHECK_STR(r.content_type, "application/x-ndjson");
    http_reply_free(&r);
    marker_new(m, sizeof m, "null");
    snprintf(body, sizeof body,
             "{\"model\":\"qwen2.5-coder:7b\",\"prompt\":\"%s\",\"suffix\":null,"
             "\"system\":null,\"template\":null,\"context\":null,\"raw\":null,"
             "\"images\":null,\"stream\":false,\"options\":{\"num_predict\":null,"
             "\"lca_rag\":null},\"temperature\":null}",
             m);
    post("/api/generate", body, &r);
    CHECK_INT(r.status, ==, 200);
    http_reply_free(&r);
    seen = fake_last_body(m);
    REQUIRE(seen);
    CHECK_STR(json_path(seen, "options", NULL), "{\"num_predict\":null}");
    cJSON_Delete(seen);
}

/* ---- the routes passed through to Ollama ---- */

TEST(passthrough_routes) {
    REQUIRE(fixture_up());
    static const struct {
        const char *path, *body, *field; /* field: a key the answer must have */
        int status;
    } cases[] = {
        {"/api/tags", NULL, "models", 200},
        {"/api/ps", NULL, "models", 200},
        {"/api/version", NULL, "version", 200},
        {"/api/show", "{\"model\":\"qwen2.5-coder:7b\"}", "capabilities", 200},
        {"/api/show", "{\"name\":\"qwen2.5-coder:7b\"}", "template", 200},
        {"/api/show", "{\"model\":\"nope\"}", "error", 404},
        {"/api/embed", "{\"model\":\"nomic-embed-text\",\"input\":[\"a\",\"b\"]}", "embeddings",
         200},
        {"/api/embeddings", "{\"model\":\"nomic-embed-text\",\"prompt\":\"a\"}", "embedding", 200},
        {"/v1/models", NULL, "data", 200},
        {"/v1/embeddings", "{\"model\":\"nomic-embed-text\",\"input\":\"a\"}", "data", 200},
        {"/v1/embeddings", "{\"model\":\"nope\",\"input\":\"a\"}", "error", 404},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        http_reply_t r;
        http_request(&(http_request_t){.path = cases[i].path, .body = cases[i].body}, &r);
        CHECK_INT(r.status, ==, cases[i].status);
        cJSON *j = http_body_json(&r);
        CHECK(cJSON_GetObjectItemCaseSensitive(j, cases[i].field) != NULL);
        if (cases[i].status == 404) {
            char message[200];
            CHECK(error_shape(r.body.data, strncmp(cases[i].path, "/v1/", 4) == 0, message,
                              sizeof message));
        }
        cJSON_Delete(j);
        http_reply_free(&r);
    }
    /* base64 embeddings are float32: 4 bytes a dimension, as the float form has. */
    const char *body = "{\"model\":\"nomic-embed-text\",\"input\":\"x\",\"encoding_format\":";
    char b64[120], flt[120];
    snprintf(b64, sizeof b64, "%s\"base64\"}", body);
    snprintf(flt, sizeof flt, "%s\"float\"}", body);
    http_reply_t a, b;
    post("/v1/embeddings", b64, &a);
    post("/v1/embeddings", flt, &b);
    cJSON *ja = http_body_json(&a), *jb = http_body_json(&b);
    const char *text = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(ja, "data"), 0), "embedding"));
    int dims = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(jb, "data"), 0), "embedding"));
    CHECK(text != NULL);
    CHECK(dims > 0);
    CHECK_INT(text ? strlen(text) : 0, ==, (size_t)(4 * ((dims * 4 + 2) / 3)));
    cJSON_Delete(ja);
    cJSON_Delete(jb);
    http_reply_free(&a);
    http_reply_free(&b);
    /* HEAD answers like GET, without a body. */
    http_request(&(http_request_t){.path = "/api/tags", .method = "HEAD"}, &a);
    CHECK_INT(a.status, ==, 200);
    CHECK_INT(a.body.len, ==, 0);
    http_reply_free(&a);
}

/* ---- operational routes ---- */

TEST(healthz_and_metrics_ask_the_broker) {
    REQUIRE(fixture_up());
    http_reply_t r;
    http_request(&(http_request_t){.path = "/healthz"}, &r);
    long health = r.status;
    CHECK(health == 200 || health == 503); /* ready or not, it says which */
    cJSON *j = http_body_json(&r);
    const cJSON *generate = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(j, "services"), "generate");
    CHECK_INT(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(generate, "workers")), ==, 1);
    cJSON_Delete(j);
    http_reply_free(&r);

    http_request(&(http_request_t){.path = "/metrics"}, &r);
    CHECK_INT(r.status, ==, 200);
    CHECK(strncmp(r.content_type, "text/plain; version=0.0.4", 25) == 0);
    char line[128];
    snprintf(line, sizeof line, "\nlca_http_requests_total{route=\"/healthz\",status=\"%ld\"} ",
             health);
    const char *page = r.body.data ? r.body.data : "";
    CHECK(strstr(page, line) != NULL);
    CHECK(strstr(page, "\nlca_workers{service=\"generate\"} 1\n") != NULL);
    CHECK(strstr(page, "\n# TYPE lca_retrieval_seconds histogram\n") != NULL);
    CHECK(strstr(page, "\n# TYPE lca_queue_depth gauge\n") != NULL);
    http_reply_free(&r);
}

/* ---- connections, prefix, key, host ---- */

TEST(keep_alive_serves_two_requests_on_one_connection) {
    REQUIRE(fixture_up());
    CURL *c = curl_easy_init();
    char body[300];
    http_reply_t r;
    chat_body(body, sizeof body, "llama3.2", "ka", NULL);
    http_request(&(http_request_t){.path = "/api/chat", .body = body, .handle = c}, &r);
    CHECK_INT(r.status, ==, 200);
    CHECK_INT(r.connects, ==, 1);
    http_reply_free(&r);
    http_request(&(http_request_t){.path = "/v1/chat/completions", .body = body, .handle = c}, &r);
    CHECK_INT(r.status, ==, 200);
    CHECK_INT(r.connects, ==, 0); /* reused */
    http_reply_free(&r);
    http_request(&(http_request_t){.path = "/", .handle = c, .method = "HEAD"}, &r);
    CHECK_INT(r.status, ==, 200);
    CHECK_INT(r.connects, ==, 0);
    http_reply_free(&r);
    curl_easy_cleanup(c);
}

TEST(collection_prefix_routes_the_same) {
    REQUIRE(fixture_up());
    char body[300], text[64];
    chat_body(body, sizeof body, "llama3.2", "prefix", NULL);
    http_reply_t r;
    post("/c/my-repo/api/chat", body, &r);
    CHECK_INT(r.status, ==, 200);
    http_joined_text(&r, text, sizeof text);
    CHECK(text[0] != '\0');
    http_reply_free(&r);
    post("/c/my-repo/v1/chat/completions", body, &r);
    CHECK_INT(r.status, ==, 200);
    http_reply_free(&r);
    post("/c/bad%20name/api/chat", body, &r);
    CHECK_INT(r.status, ==, 400);
    http_reply_free(&r);
}

TEST(api_key_is_required_but_not_for_healthz) {
    REQUIRE(fixture_up());
    static const char *const env[] = {"LCA_API_KEY=s3cret", NULL};
    test_stack_t keyed; /* a gateway of its own */
    REQUIRE(stack_gateway_up(&keyed, &(stack_options_t){.gateway_env = env, .heartbeat_ms = 200},
                             10000));
    const char *base = keyed.url;
    char message[256];
    http_reply_t r;
    http_request(&(http_request_t){.base = base, .path = "/api/tags"}, &r);
    CHECK_INT(r.status, ==, 401);
    CHECK(r.body.data && error_shape(r.body.data, false, message, sizeof message));
    http_reply_free(&r);
    http_request(&(http_request_t){.base = base, .path = "/v1/models", .auth = "Bearer wrong"}, &r);
    CHECK_INT(r.status, ==, 401);
    CHECK(r.body.data && error_shape(r.body.data, true, message, sizeof message));
    http_reply_free(&r);
    http_request(&(http_request_t){.base = base, .path = "/healthz"}, &r);
    CHECK(r.status == 200 || r.status == 503);
    http_reply_free(&r);
    http_request(&(http_request_t){.base = base, .path = "/", .auth = "Bearer s3cret"}, &r);
    CHECK_INT(r.status, ==, 200);
    CHECK(r.body.data && strcmp(r.body.data, "Ollama is running") == 0);
    http_reply_free(&r);
    int status = proc_stop(keyed.gateway, SIGTERM, 5000);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* {"query":"x","deadline_ms":50,"pad":[0,0,...]} of n zeros: n + 4 JSON values. */
static char *padded_body(size_t n) {
    static const char head[] = "{\"query\":\"x\",\"deadline_ms\":50,\"pad\":[";
    size_t len = sizeof head - 1 + 2 * n + 2;
    char *body = malloc(len + 1);
    if (!body)
        return NULL;
    memcpy(body, head, sizeof head - 1);
    char *p = body + sizeof head - 1;
    for (size_t i = 0; i < n; i++) {
        *p++ = '0';
        *p++ = ',';
    }
    if (n)
        p--;
    *p++ = ']';
    *p++ = '}';
    *p = '\0';
    return body;
}

TEST(a_body_of_too_many_values_is_refused_before_it_is_parsed) {
    REQUIRE(fixture_up());
    /* A gateway of its own: the default --max-body (8 MiB) holds the 8 MB array below. */
    for (int mode = 0; mode < 2; mode++) {
        long limit = mode == 0 ? 262144 : 1000; /* the default; --max-json-values */
        static const char *const values[] = {"--max-json-values", "1000", NULL};
        test_stack_t own; /* its broker a Unix socket of its own: TCP would need CURVE */
        REQUIRE(stack_gateway_up(
            &own, &(stack_options_t){.gateway_args = mode == 1 ? values : NULL, .bare_env = true},
            10000));
        const char *base = own.url;
        pid_t pid = own.gateway;
        /* At the limit the body is read (and the retrieval, with no shard
         * to ask, ends at its deadline); one value more is a 413. */
        for (long extra = 0; extra < 2; extra++) {
            char *body = padded_body((size_t)(limit - 4 + extra));
            REQUIRE(body);
            http_reply_t r;
            http_request(&(http_request_t){.base = base, .path = "/api/context", .body = body}, &r);
            char message[256] = "";
            if (extra) {
                CHECK_INT(r.status, ==, 413);
                CHECK(r.body.data && error_shape(r.body.data, false, message, sizeof message));
                CHECK(strstr(message, "JSON values") != NULL);
            } else {
                CHECK(r.status != 413 && r.status != 400);
            }
            http_reply_free(&r);
            free(body);
        }
        if (mode == 1) {
            /* In OpenAI's shape too: /v1/embeddings with 1000 inputs. */
            buf_t b = BUF_INIT;
            buf_append_str(&b, "{\"model\":\"nomic-embed-text\",\"input\":[\"a\"");
            for (int i = 1; i < 1000; i++)
                buf_append_str(&b, ",\"a\"");
            buf_append_str(&b, "]}");
            http_reply_t r;
            http_request(&(http_request_t){.base = base, .path = "/v1/embeddings", .body = b.data},
                         &r);
            CHECK_INT(r.status, ==, 413);
            char message[256];
            CHECK(r.body.data && error_shape(r.body.data, true, message, sizeof message));
            http_reply_free(&r);
            buf_free(&b);
        } else {
            /* Four million zeros, 8 MB of text that cJSON would make half a
             * gigabyte of: refused, and the gateway's peak memory stays
             * near the body's own size. */
            char *body = padded_body(4000000);
            REQUIRE(body);
            long before = proc_status_kib(pid, "VmHWM");
            http_reply_t r;
            http_request(&(http_request_t){.base = base, .path = "/api/context", .body = body}, &r);
            CHECK_INT(r.status, ==, 413);
            long grown = proc_status_kib(pid, "VmHWM") - before;
            fprintf(stderr, "  a 4-million-value body: 413, peak memory +%ld KiB\n", grown);
            CHECK(before > 0);
            CHECK_INT(grown, <, 100 * 1024);
            http_reply_free(&r);
            free(body);
        }
        int status = proc_stop(pid, SIGTERM, 5000);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
}

TEST(public_host_needs_a_key_or_insecure) {
    REQUIRE(fixture_up());
    for (int mode = 0; mode < 3; mode++) {
        const char *env[] = {mode == 2 ? "LCA_API_KEY=k" : "LCA_API_KEY=", NULL};
        const char *args[] = {"--host", "0.0.0.0", mode == 1 ? "--insecure" : NULL, NULL};
        test_stack_t own;
        REQUIRE(stack_init(
            &own, &(stack_options_t){.gateway_args = args, .gateway_env = env, .bare_env = true}));
        pid_t pid = stack_gateway_start(&own);
        if (mode == 0) {
            int status;
            int64_t until = proc_now_ms() + 5000;
            while (waitpid(pid, &status, WNOHANG) == 0 && proc_now_ms() < until)
                proc_sleep_ms(5);
            proc_forget(pid);
            CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 2);
        } else {
            CHECK(proc_wait_port(own.port, 10000));
            int status = proc_stop(pid, SIGTERM, 5000);
            CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        }
    }
}

TEST(gateway_exits_clean_on_sigterm) {
    REQUIRE(fixture_up());
    int status = proc_stop(stack.generator, SIGTERM, 5000);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    status = stack_gateway_stop(&stack);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0))
        fprintf(stderr, "  gateway log: %s\n", stack_path(&stack, "gateway.log"));
}

TEST_MAIN(TEST_CASE(tokens_reach_the_client_unbuffered), TEST_CASE(ndjson_json_and_sse_answers),
          TEST_CASE(sse_sends_comments_while_waiting),
          TEST_CASE(client_gone_http1_cancels_upstream),
          TEST_CASE(client_gone_http2_cancels_upstream),
          TEST_CASE(client_gone_before_any_byte_cancels_upstream),
          TEST_CASE(ollama_failures_have_the_right_status_and_shape),
          TEST_CASE(ollama_refusing_connections_is_502), TEST_CASE(generator_killed_mid_stream),
          TEST_CASE(bad_input_is_4xx_in_the_family_shape), TEST_CASE(passthrough_routes),
          TEST_CASE(healthz_and_metrics_ask_the_broker),
          TEST_CASE(openai_requests_reach_ollama_translated),
          TEST_CASE(null_options_mean_the_defaults),
          TEST_CASE(keep_alive_serves_two_requests_on_one_connection),
          TEST_CASE(collection_prefix_routes_the_same),
          TEST_CASE(api_key_is_required_but_not_for_healthz),
          TEST_CASE(a_body_of_too_many_values_is_refused_before_it_is_parsed),
          TEST_CASE(public_host_needs_a_key_or_insecure), TEST_CASE(gateway_exits_clean_on_sigterm))
