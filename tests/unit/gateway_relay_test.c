/*
 * gateway/relay: generation requests and plain exchanges carried to a
 * scripted generator and back, on requests whose connection is the test's
 * (tests/loopback.h).  What goes upstream (always a native stream, the
 * request id, the deadline), lines written the moment they arrive, the
 * status of an error before the first byte and the stream's own error form
 * after it, upstream cancelled when the client leaves (mid-stream, or by
 * hanging up before anything was written), SSE kept alive while the model
 * is quiet, relay_forward's answers, and the retrieval seam refusing a
 * collection that does not exist.
 */
#include "gateway/relay.h"
#include "tests/loopback.h"
#include "tests/test.h"

/* retrieve.0 lists one collection, "shop" (for the retrieval seam). */
static void shard(proto_job_t *job, void *arg) {
    (void)arg;
    const char *listing = "{\"collections\":[{\"name\":\"shop\",\"root\":\"/src/shop\","
                          "\"model\":\"builtin\",\"dim\":8,\"shards\":1,\"files\":1,"
                          "\"chunks\":1}]}";
    proto_job_final(job, "{}", listing, strlen(listing));
}

static bool setup(void) {
    static bool tried, ok;
    if (!tried) {
        tried = true;
        setenv("LCA_RAG", "off", 1);
        ok = loopback_start(1) &&
             inproc_worker(&loopback.s, "generate", 8, generate_worker, NULL) &&
             inproc_worker(&loopback.s, "retrieve.0", 2, shard, NULL);
    }
    return ok;
}

static const char *lines[] = {
    "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"Hel\"},\"done\":false}",
    "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"lo\"},\"done\":false}",
    "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done\":true,"
    "\"done_reason\":\"stop\",\"prompt_eval_count\":3,\"eval_count\":2}",
};

static loopback_req_t *r;
static http_ctx_t *ctx;

/* A parsed generation request of kind with body, to be answered as output. */
static api_request_t *generation(api_kind_t kind, api_output_t output, api_family_t family,
                                 const char *body) {
    r = loopback_request("POST", kind == API_CHAT ? "/api/chat" : "/api/generate", NULL);
    ctx = loopback_ctx(r, family);
    api_request_t *g = api_request_new(ctx, kind);
    cJSON_Delete(g->body);
    g->body = cJSON_Parse(body);
    g->output = output;
    g->model = jstr(g->body, "model");
    return g;
}

static const char *chat_body = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":"
                               "\"hi\"}]}";

typedef struct {
    loopback_req_t *r;
    const char *text;
} wanted_t;

static bool body_has(void *arg) {
    const wanted_t *w = arg;
    return strstr(loopback_body(w->r), w->text) != NULL;
}

/* Runs the loop until r's body holds text, at most ms. */
static bool until_body_has(loopback_req_t *req, const char *text, int ms) {
    wanted_t w = {req, text};
    return inproc_run_until(&loopback.s, body_has, &w, ms);
}

TEST(a_generation_goes_upstream_as_a_native_stream) {
    REQUIRE(setup());
    generate_script(&(generate_script_t){.lines = {lines[0], lines[1], lines[2]}});
    api_request_t *g = generation(API_GENERATE, API_OUT_OLLAMA_JSON, API_OLLAMA,
                                  "{\"model\":\"m\",\"prompt\":\"p\",\"stream\":false,"
                                  "\"options\":{\"num_predict\":3}}");
    CHECK_INT(relay_generate(ctx, g), ==, 0);
    CHECK(loopback_wait(r, 5000));
    cJSON *h = generate_header();
    CHECK_STR(jstr(h, "method"), "POST");
    CHECK_STR(jstr(h, "path"), "/api/generate");
    CHECK(cJSON_IsTrue(jpath(h, "stream")));
    CHECK_STR(jstr(h, "rid"), ctx->rid);
    CHECK_INT(jnum(h, "timeout_ms"), ==, loopback.gateway.request_timeout_ms);
    cJSON_Delete(h);
    char sent[256];
    generate_payload(sent, sizeof sent);
    CHECK_STR(sent, "{\"model\":\"m\",\"prompt\":\"p\",\"stream\":true,\"options\":{"
                    "\"num_predict\":3}}"); /* stream:false replaced in place */
    loopback_free(r);
    /* A body without "stream" gets one. */
    generate_script(&(generate_script_t){.lines = {lines[2]}});
    g = generation(API_CHAT, API_OUT_NDJSON, API_OLLAMA, chat_body);
    relay_generate(ctx, g);
    CHECK(loopback_wait(r, 5000));
    cJSON *up = generate_body();
    CHECK(cJSON_IsTrue(jpath(up, "stream")));
    CHECK_STR(jstr(up, "messages.0.content"), "hi");
    cJSON_Delete(up);
    h = generate_header();
    CHECK_STR(jstr(h, "path"), "/api/chat");
    cJSON_Delete(h);
    loopback_free(r);
}

TEST(lines_go_out_the_moment_they_arrive) {
    REQUIRE(setup());
    /* Two tokens, then the model thinks until the test lets it finish. */
    generate_script(&(generate_script_t){.lines = {lines[0], lines[1]}, .gate = true});
    api_request_t *g = generation(API_CHAT, API_OUT_NDJSON, API_OLLAMA, chat_body);
    relay_generate(ctx, g);
    CHECK(r->sends == 0 && r->req.res.status == 0); /* nothing before the first token */
    CHECK(until_body_has(r, "\"lo\"", 5000));
    CHECK(!r->ended);
    CHECK_INT(r->req.res.status, ==, 200);
    CHECK_STR(loopback_response_header(r, "content-type"), "application/x-ndjson");
    char want[512];
    snprintf(want, sizeof want, "%s\n%s\n", lines[0], lines[1]);
    CHECK_STR(loopback_body(r), want);
    generate_open_gate();
    CHECK(loopback_wait(r, 5000));
    CHECK(!r->failed);
    CHECK_STR(loopback_body(r), want); /* the FINAL adds nothing to NDJSON */
    loopback_free(r);
}

TEST(an_error_before_the_first_token_keeps_its_status) {
    REQUIRE(setup());
    static const struct {
        int upstream, status;
        api_family_t family;
    } cases[] = {{404, 404, API_OLLAMA},
                 {504, 504, API_OPENAI},
                 {302, 502, API_OLLAMA},
                 {399, 502, API_OPENAI}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        generate_script(
            &(generate_script_t){.status = cases[i].upstream, .message = "model 'm' not found"});
        api_request_t *g = generation(API_CHAT, API_OUT_SSE_CHAT, cases[i].family, chat_body);
        relay_generate(ctx, g);
        CHECK(loopback_wait(r, 5000));
        CHECK_INT(r->req.res.status, ==, cases[i].status);
        cJSON *j = loopback_json(r);
        CHECK_STR(loopback_error(j), "model 'm' not found");
        CHECK(cases[i].family == API_OPENAI ? cJSON_IsObject(jpath(j, "error"))
                                            : cJSON_IsString(jpath(j, "error")));
        cJSON_Delete(j);
        loopback_free(r);
    }
}

TEST(an_error_after_the_first_token_ends_the_stream_in_its_form) {
    REQUIRE(setup());
    generate_script(
        &(generate_script_t){.lines = {lines[0]}, .status = 500, .message = "Ollama failed"});
    api_request_t *g = generation(API_CHAT, API_OUT_NDJSON, API_OLLAMA, chat_body);
    relay_generate(ctx, g);
    CHECK(loopback_wait(r, 5000));
    CHECK_INT(r->req.res.status, ==, 200); /* it had started */
    char want[512];
    snprintf(want, sizeof want, "%s\n{\"error\":\"Ollama failed\"}\n", lines[0]);
    CHECK_STR(loopback_body(r), want);
    loopback_free(r);
    /* SSE: an error event, in OpenAI's shape. */
    generate_script(
        &(generate_script_t){.lines = {lines[0]}, .status = 502, .message = "Ollama went away"});
    g = generation(API_CHAT, API_OUT_SSE_CHAT, API_OPENAI, chat_body);
    relay_generate(ctx, g);
    CHECK(loopback_wait(r, 5000));
    CHECK_INT(r->req.res.status, ==, 200);
    CHECK(strstr(loopback_body(r), "data: {\"error\":{\"message\":\"Ollama went away\"") != NULL);
    CHECK(strstr(loopback_body(r), "[DONE]") == NULL);
    loopback_free(r);
}

TEST(a_client_that_leaves_mid_stream_cancels_upstream) {
    REQUIRE(setup());
    generate_script(&(generate_script_t){.lines = {lines[0]}, .hold = true});
    int want = atomic_load(&generate.cancelled) + 1;
    api_request_t *g = generation(API_CHAT, API_OUT_NDJSON, API_OLLAMA, chat_body);
    relay_generate(ctx, g);
    CHECK(until_body_has(r, "\"Hel\"", 5000));
    loopback_free(r); /* h2o stops the stream: the client is gone */
    CHECK(inproc_run_until(&loopback.s, generate_cancelled_at_least, &want, 5000));
}

TEST(a_client_that_hangs_up_before_the_first_token_is_noticed) {
    REQUIRE(setup());
    /* stream:false and a model loading: nothing is written for a long
     * while, and h2o does not read the socket meanwhile. */
    generate_script(&(generate_script_t){.hold = true});
    int want = atomic_load(&generate.cancelled) + 1, jobs = atomic_load(&generate.jobs) + 1;
    api_request_t *g = generation(API_CHAT, API_OUT_OLLAMA_JSON, API_OLLAMA, chat_body);
    relay_generate(ctx, g);
    CHECK(inproc_run_until(&loopback.s, generate_jobs_at_least, &jobs, 5000));
    CHECK(!r->ended);
    loopback_hang_up(r);
    int64_t left = clock_ms();
    CHECK(loopback_wait(r, 5000));   /* finished, so that h2o closes the connection */
    CHECK(clock_ms() - left < 2000); /* peeked at every 100 ms */
    CHECK_INT(r->req.res.status, ==, 499);
    CHECK(inproc_run_until(&loopback.s, generate_cancelled_at_least, &want, 5000));
    loopback_free(r);
}

TEST(sse_keeps_a_quiet_stream_alive) {
    REQUIRE(setup());
    generate_script(&(generate_script_t){.hold = true});
    int want = atomic_load(&generate.cancelled) + 1;
    api_request_t *g = generation(API_CHAT, API_OUT_SSE_CHAT, API_OPENAI, chat_body);
    relay_generate(ctx, g);
    /* A comment after a second without bytes: headers go, the client waits. */
    CHECK(until_body_has(r, ": ok\n\n", 5000));
    CHECK_INT(r->req.res.status, ==, 200);
    const char *type = loopback_response_header(r, "content-type");
    CHECK(type && strncmp(type, "text/event-stream", 17) == 0);
    CHECK(strncmp(loopback_body(r), ": ok\n\n", 6) == 0);
    CHECK(!r->ended);
    loopback_free(r);
    CHECK(inproc_run_until(&loopback.s, generate_cancelled_at_least, &want, 5000));
}

/* ---- relay_forward ---- */

static int answered;
static char answer_body[256];

static void on_answer(http_ctx_t *c, const char *body, size_t len, void *arg) {
    answered++;
    snprintf(answer_body, sizeof answer_body, "%.*s", (int)len, body);
    http_reply(c, 200, "text/plain", arg, strlen(arg));
}

TEST(forward_passes_ollamas_answer_on_or_hands_it_over) {
    REQUIRE(setup());
    static const struct {
        const char *header, *payload;
        int status;
        const char *type;
    } cases[] = {
        {"{\"status\":201,\"content_type\":\"application/x-custom\"}", "made", 201,
         "application/x-custom"},
        {"{\"status\":404}", "404 page not found", 404, "application/json; charset=utf-8"},
        {"{\"status\":700,\"content_type\":\"\"}", "{}", 200, "application/json; charset=utf-8"},
        {"{\"content_type\":7}", "{}", 200, "application/json; charset=utf-8"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        generate_script(
            &(generate_script_t){.header = cases[i].header, .payload = cases[i].payload});
        r = loopback_request("POST", "/api/show", NULL);
        ctx = loopback_ctx(r, API_OLLAMA);
        CHECK_INT(relay_forward(ctx, "POST", "/api/show", "{\"model\":\"m\"}x", 13, NULL, NULL), ==,
                  0);
        CHECK(loopback_wait(r, 5000));
        CHECK_INT(r->req.res.status, ==, cases[i].status);
        CHECK_STR(loopback_response_header(r, "content-type"), cases[i].type);
        CHECK_STR(loopback_body(r), cases[i].payload);
        char sent[64];
        generate_payload(sent, sizeof sent);
        CHECK_STR(sent, "{\"model\":\"m\"}"); /* body_len bytes, no more */
        cJSON *h = generate_header();
        CHECK_STR(jstr(h, "method"), "POST");
        CHECK_STR(jstr(h, "path"), "/api/show");
        CHECK(cJSON_IsFalse(jpath(h, "stream")));
        CHECK_STR(jstr(h, "rid"), ctx->rid);
        cJSON_Delete(h);
        loopback_free(r);
    }
    /* With an answer function: a 2xx body goes to it, anything else to the client. */
    answered = 0;
    generate_script(&(generate_script_t){.header = "{\"status\":200}", .payload = "{\"a\":1}"});
    r = loopback_request("GET", "/v1/models", NULL);
    ctx = loopback_ctx(r, API_OPENAI);
    relay_forward(ctx, "GET", "/api/tags", NULL, 0, on_answer, "translated");
    CHECK(loopback_wait(r, 5000));
    CHECK_INT(answered, ==, 1);
    CHECK_STR(answer_body, "{\"a\":1}");
    CHECK_STR(loopback_body(r), "translated");
    loopback_free(r);
    generate_script(&(generate_script_t){.header = "{\"status\":404}", .payload = "gone"});
    r = loopback_request("GET", "/v1/models", NULL);
    ctx = loopback_ctx(r, API_OPENAI);
    relay_forward(ctx, "GET", "/api/tags", NULL, 0, on_answer, "translated");
    CHECK(loopback_wait(r, 5000));
    CHECK_INT(answered, ==, 1);
    CHECK_INT(r->req.res.status, ==, 404);
    CHECK_STR(loopback_body(r), "gone");
    loopback_free(r);
    /* An error: its status in the family's shape. */
    generate_script(&(generate_script_t){.status = 503, .message = "no Ollama"});
    r = loopback_request("GET", "/v1/models", NULL);
    ctx = loopback_ctx(r, API_OPENAI);
    relay_forward(ctx, "GET", "/api/tags", NULL, 0, on_answer, "translated");
    CHECK(loopback_wait(r, 5000));
    CHECK_INT(r->req.res.status, ==, 503);
    cJSON *j = loopback_json(r);
    CHECK_STR(jstr(j, "error.message"), "no Ollama");
    cJSON_Delete(j);
    CHECK_INT(answered, ==, 1);
    loopback_free(r);
}

TEST(retrieval_refuses_a_collection_that_does_not_exist) {
    REQUIRE(setup());
    unsetenv("LCA_RAG");
    int generations = atomic_load(&generate.generations);
    api_request_t *g = generation(API_CHAT, API_OUT_NDJSON, API_OLLAMA, chat_body);
    ctx->collection = g->collection = h2o_iovec_init(H2O_STRLIT("nope"));
    relay_generate(ctx, g);
    CHECK(loopback_wait(r, 5000));
    CHECK_INT(r->req.res.status, ==, 404);
    cJSON *j = loopback_json(r);
    const char *message = loopback_error(j);
    CHECK(message && strstr(message, "no collection named 'nope'") != NULL);
    cJSON_Delete(j);
    loopback_free(r);
    inproc_run_for(&loopback.s, 20);
    CHECK_INT(atomic_load(&generate.generations), ==, generations); /* none went upstream */
    setenv("LCA_RAG", "off", 1);
}

TEST(everything_stops_clean) {
    REQUIRE(setup());
    loopback_stop();
    CHECK(loopback.s.broker == NULL);
}

TEST_MAIN(TEST_CASE(a_generation_goes_upstream_as_a_native_stream),
          TEST_CASE(lines_go_out_the_moment_they_arrive),
          TEST_CASE(an_error_before_the_first_token_keeps_its_status),
          TEST_CASE(an_error_after_the_first_token_ends_the_stream_in_its_form),
          TEST_CASE(a_client_that_leaves_mid_stream_cancels_upstream),
          TEST_CASE(a_client_that_hangs_up_before_the_first_token_is_noticed),
          TEST_CASE(sse_keeps_a_quiet_stream_alive),
          TEST_CASE(forward_passes_ollamas_answer_on_or_hands_it_over),
          TEST_CASE(retrieval_refuses_a_collection_that_does_not_exist),
          TEST_CASE(everything_stops_clean))
