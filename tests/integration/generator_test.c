/*
 * lca-generator against a fake Ollama, through a real broker.
 *
 * The test runs the broker in-process on a Unix socket of its own, starts
 * the real lca-generator binary and the fake Ollama (Node) as child
 * processes, and talks to the "generate" service with a proto_client.  It
 * scripts the fake over its control API (/_fake/script, /_fake/events, ...)
 * to check the contract with the gateway: streamed lines in order and
 * unbuffered, whole bodies, passthrough GETs, Ollama's errors with their
 * status, cut and refused connections, the deadline, CANCEL closing the
 * upstream connection, and two generators sharing the load.  Every child is
 * stopped at the end; the generator must exit 0 on SIGTERM (under SAN=1 that
 * also means no leak).
 *
 * Run (from anywhere; the repository is found from the binary's path):
 *   make build/bin/lca-generator build/tests/integration/generator_test
 *   build/tests/integration/generator_test [test names...]
 * Sanitizer build:
 *   make SAN=1 build/san/bin/lca-generator build/san/tests/integration/generator_test
 *   LCA_BIN=build/san/bin build/san/tests/integration/generator_test
 * Needs node; LCA_BIN (default <repo>/build/bin) holds the binaries, LCA_FAKE_OLLAMA
 * overrides tests/fake-ollama/fake-ollama.mjs.
 */
#include "proto/base/clock.h"
#include "proto/broker.h"
#include "proto/client.h"
#include "proto/wire.h"
#include "tests/stack.h"

#include <cJSON.h>
#include <curl/curl.h>

#define MAX_PARTIALS 512

/* ---- child processes ---- */

static test_stack_t stack; /* its directory (the fakes' logs) and broker address */
static broker_t *broker;
static proto_client_t *client;
static fake_ollama_t fakes[2];
static pid_t generators[2];
static bool fixture_ok, fixture_tried;

/* A generator configured by its command line. */
static pid_t generator_start(const char *ollama_url) {
    const char *args[] = {"--broker",   stack.broker, "--ollama", ollama_url,
                          "--capacity", "8",          NULL};
    return proc_start_bin("lca-generator", args, NULL, NULL);
}

/* A generator configured by its environment only: OLLAMA_HOST as host:port
 * (no scheme, as people write it for Ollama), LCA_BROKER and
 * LCA_GENERATOR_CAPACITY. */
static pid_t generator_start_from_env(int ollama_port, int capacity) {
    char host[64], broker_var[320], capacity_var[64];
    snprintf(host, sizeof host, "OLLAMA_HOST=127.0.0.1:%d", ollama_port);
    snprintf(broker_var, sizeof broker_var, "LCA_BROKER=%s", stack.broker);
    snprintf(capacity_var, sizeof capacity_var, "LCA_GENERATOR_CAPACITY=%d", capacity);
    const char *env[] = {host, broker_var, capacity_var, NULL};
    return proc_start_bin("lca-generator", NULL, env, NULL);
}

/* ---- the fake's control API ---- */

/* A fresh script: the fake forgets the ones before and what it recorded. */
static bool fake_script(const fake_ollama_t *f, const char *script) {
    cJSON_Delete(fake_ollama_call(f, "/_fake/reset", "{}"));
    return fake_ollama_script(f, script);
}

static int count_type(const cJSON *events, const char *type) {
    int n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, events) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(e, "type");
        n += cJSON_IsString(t) && strcmp(t->valuestring, type) == 0;
    }
    return n;
}

/* Polls the fake's events until one of `type` shows up for marker; returns
 * the milliseconds waited, or -1 at the deadline. */
static int wait_event(const fake_ollama_t *f, const char *marker, const char *type, int ms) {
    int64_t start = clock_ms();
    while (clock_ms() - start < ms) {
        cJSON *events = fake_ollama_records(f, "events", marker);
        int n = count_type(events, type);
        cJSON_Delete(events);
        if (n > 0)
            return (int)(clock_ms() - start);
        proc_sleep_ms(5);
    }
    return -1;
}

static int count_requests(const fake_ollama_t *f, const char *marker) {
    cJSON *requests = fake_ollama_records(f, "requests", marker);
    int n = cJSON_GetArraySize(requests);
    cJSON_Delete(requests);
    return n;
}

/* ---- the fixture ---- */

/* Waits until the broker knows n generate workers. */
static bool wait_workers(int n, int ms) {
    return stack_wait_broker_workers(client, "generate", n, ms);
}

static void fixture_down(void) {
    proc_kill_all();
    proto_client_destroy(&client);
    broker_destroy(&broker);
    curl_global_cleanup();
}

/* Broker, fake 0 and generator 0, started once for all tests. */
static bool fixture_up(void) {
    if (fixture_tried)
        return fixture_ok;
    fixture_tried = true;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    /* The children go at exit, before the broker (fixture_down); then this
     * process exits as usual, its own leaks checked under SAN=1. */
    proc_setup();
    test_before_exit = NULL;
    char err[256];
    if (!stack_init(&stack, NULL))
        return false;
    broker = broker_new(&(broker_config_t){.endpoint = stack.broker}, err, sizeof err);
    if (!broker) {
        fprintf(stderr, "  broker: %s\n", err);
        return false;
    }
    /* Registered after czmq's own exit handler (set up with the first
     * socket), so it runs first: czmq's would wait for our open sockets. */
    atexit(fixture_down);
    client = proto_client_new(broker_local_endpoint(broker), NULL, err, sizeof err);
    if (!client || !fake_ollama_start(&fakes[0], stack.dir, "fake0"))
        return false;
    generators[0] = generator_start(fakes[0].url);
    fixture_ok = generators[0] > 0 && wait_workers(1, 10000);
    return fixture_ok;
}

/* ---- requests ---- */

typedef struct {
    uint64_t id;
    int npartials;
    char *partials[MAX_PARTIALS];     /* payloads, NUL-terminated */
    int64_t partial_ms[MAX_PARTIALS]; /* arrival, clock_ms() */
    bool ended;
    bool final;        /* FINAL (else ERROR) */
    int status;        /* ERROR status, or FINAL header's "status" */
    char message[512]; /* ERROR message */
    cJSON *final_header;
    char *final_payload; /* NULL: no payload frame */
    size_t final_len;
    int64_t sent_ms, ended_ms;
} reply_t;

static void reply_free(reply_t *r) {
    for (int i = 0; i < r->npartials; i++)
        free(r->partials[i]);
    cJSON_Delete(r->final_header);
    free(r->final_payload);
    memset(r, 0, sizeof *r);
}

static char *copy_bytes(const void *p, size_t n) {
    char *s = malloc(n + 1);
    if (s) {
        if (n)
            memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

static void reply_take(reply_t *r, proto_msg_t *msg) {
    if (msg->cmd == PROTO_PARTIAL) {
        if (r->npartials < MAX_PARTIALS) {
            r->partial_ms[r->npartials] = clock_ms();
            r->partials[r->npartials++] = copy_bytes(msg->payload, msg->payload_len);
        }
        return;
    }
    r->ended = true;
    r->ended_ms = clock_ms();
    if (msg->cmd == PROTO_ERROR) {
        proto_error_parse(msg, &r->status, r->message, sizeof r->message);
        return;
    }
    r->final = true;
    r->final_header =
        cJSON_ParseWithLength(msg->header ? msg->header : "{}", msg->header ? msg->header_len : 2);
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(r->final_header, "status");
    r->status = cJSON_IsNumber(s) ? s->valueint : -1;
    if (msg->payload) {
        r->final_payload = copy_bytes(msg->payload, msg->payload_len);
        r->final_len = msg->payload_len;
    }
}

/* Sends n requests at once and collects every reply (or gives up after
 * timeout_ms + 3 s).  Returns true when all ended. */
static bool exchange_many(int n, const char *const headers[], const char *const payloads[],
                          int timeout_ms, reply_t replies[]) {
    for (int i = 0; i < n; i++) {
        memset(&replies[i], 0, sizeof replies[i]);
        replies[i].sent_ms = clock_ms();
        const char *p = payloads[i];
        if (proto_client_send(client, "generate", headers[i], p, p ? strlen(p) : 0, timeout_ms,
                              &replies[i].id) != 0)
            return false;
    }
    int open = n;
    int64_t until = clock_ms() + timeout_ms + 3000;
    while (open > 0 && clock_ms() < until) {
        proto_msg_t msg;
        if (proto_client_recv(client, &msg, (int)(until - clock_ms())) != 0)
            break;
        for (int i = 0; i < n; i++) {
            if (replies[i].id == msg.id && !replies[i].ended) {
                reply_take(&replies[i], &msg);
                open -= replies[i].ended;
            }
        }
        proto_msg_close(&msg);
    }
    return open == 0;
}

static bool exchange(const char *header, const char *payload, int timeout_ms, reply_t *r) {
    return exchange_many(1, &header, &payload, timeout_ms, r);
}

/* As the gateway writes it; the client puts its own deadline first, and
 * that first "timeout_ms" is the one read. */
static const char *chat_stream_header = "{\"method\":\"POST\",\"path\":\"/api/chat\","
                                        "\"stream\":true,\"rid\":\"t-chat\",\"timeout_ms\":10000}";

static void chat_body(char *out, size_t size, const char *model, const char *marker, bool stream) {
    snprintf(out, size,
             "{\"model\":\"%s\",\"messages\":[{\"role\":\"user\",\"content\":\"say hi %s\"}],"
             "\"stream\":%s}",
             model, marker, stream ? "true" : "false");
}

/* The "message.content" (chat) or "response" (generate) of a stream line. */
static char *line_text(const char *line) {
    cJSON *j = cJSON_Parse(line);
    const cJSON *t =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "message"), "content");
    if (!t)
        t = cJSON_GetObjectItemCaseSensitive(j, "response");
    char *s = cJSON_IsString(t) ? strdup(t->valuestring) : NULL;
    cJSON_Delete(j);
    return s;
}

static bool line_done(const char *line) {
    cJSON *j = cJSON_Parse(line);
    bool done = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "done"));
    cJSON_Delete(j);
    return done;
}

/* ---- tests ---- */

TEST(stream_chat_returns_each_token_at_once) {
    REQUIRE(fixture_up());
    REQUIRE(fake_script(&fakes[0], "{\"tokens\":[\"Hel\",\"lo\",\" wor\",\"ld\",\"!\"],"
                                   "\"pace_ms\":50}"));
    char body[256];
    chat_body(body, sizeof body, "qwen2.5-coder:7b", "m-stream", true);
    reply_t r;
    REQUIRE(exchange(chat_stream_header, body, 10000, &r));
    CHECK(r.final);
    CHECK_INT(r.status, ==, 200);
    static const char *tokens[] = {"Hel", "lo", " wor", "ld", "!"};
    CHECK_INT(r.npartials, ==, 6);
    for (int i = 0; i < r.npartials && i < 5; i++) {
        char *text = line_text(r.partials[i]);
        CHECK_STR(text, tokens[i]);
        CHECK(!line_done(r.partials[i]));
        CHECK(!strchr(r.partials[i], '\n'));
        free(text);
    }
    if (r.npartials == 6)
        CHECK(line_done(r.partials[5]));
    /* Unbuffered: lines paced 50 ms apart upstream arrive apart here too
     * (one late wake-up of a loaded machine may bunch a pair). */
    int apart = 0;
    for (int i = 1; i < r.npartials && i < 5; i++)
        apart += r.partial_ms[i] - r.partial_ms[i - 1] >= 20;
    CHECK_INT(apart, >=, 3);
    if (r.npartials >= 5)
        CHECK_INT(r.partial_ms[4] - r.partial_ms[0], >=, 100);
    printf("# first line after %lld ms, stream of %d lines in %lld ms\n",
           (long long)(r.npartials ? r.partial_ms[0] - r.sent_ms : -1), r.npartials,
           (long long)(r.ended_ms - r.sent_ms));
    /* The body reached Ollama byte for byte, as JSON. */
    cJSON *requests = fake_ollama_call(&fakes[0], "/_fake/requests?match=m-stream", NULL);
    REQUIRE(cJSON_GetArraySize(requests) == 1);
    const cJSON *req = cJSON_GetArrayItem(requests, 0);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(req, "method")), "POST");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(req, "path")), "/api/chat");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(req, "body_text")), body);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(req, "headers"), "content-type");
    CHECK_STR(cJSON_GetStringValue(type), "application/json");
    cJSON_Delete(requests);
    reply_free(&r);
}

TEST(stream_reassembles_a_line_split_across_reads) {
    REQUIRE(fixture_up());
    /* A 300 kB token cannot arrive in one read: the line is put together. */
    size_t big_len = 300000;
    char *big = malloc(big_len + 1);
    REQUIRE(big);
    for (size_t i = 0; i < big_len; i++)
        big[i] = (char)('a' + i % 26);
    big[big_len] = '\0';
    size_t script_len = big_len + 64;
    char *script = malloc(script_len);
    snprintf(script, script_len, "{\"tokens\":[\"x\",\"%s\",\"y\"]}", big);
    REQUIRE(fake_script(&fakes[0], script));
    free(script);
    const char *header = "{\"method\":\"POST\",\"path\":\"/api/generate\",\"stream\":true}";
    const char *body = "{\"model\":\"qwen2.5-coder:7b\",\"prompt\":\"m-split\",\"raw\":true}";
    reply_t r;
    REQUIRE(exchange(header, body, 10000, &r));
    CHECK(r.final);
    CHECK_INT(r.npartials, ==, 4);
    if (r.npartials == 4) {
        char *a = line_text(r.partials[0]), *b = line_text(r.partials[1]),
             *c = line_text(r.partials[2]);
        CHECK_STR(a, "x");
        CHECK(b && strcmp(b, big) == 0);
        CHECK_STR(c, "y");
        CHECK(line_done(r.partials[3]));
        free(a), free(b), free(c);
    }
    free(big);
    reply_free(&r);
}

TEST(a_long_stream_keeps_every_line_in_order) {
    REQUIRE(fixture_up());
    enum { TOKENS = 2000 };
    size_t cap = TOKENS * 8 + 64, len = 0;
    char *script = malloc(cap);
    REQUIRE(script);
    len += (size_t)snprintf(script + len, cap - len, "{\"tokens\":[");
    for (int i = 0; i < TOKENS; i++)
        len += (size_t)snprintf(script + len, cap - len, "%s\"%d\"", i ? "," : "", i);
    snprintf(script + len, cap - len, "]}");
    REQUIRE(fake_script(&fakes[0], script));
    free(script);
    char body[256];
    chat_body(body, sizeof body, "llama3.2", "m-long", true);
    uint64_t id;
    int64_t start = clock_ms();
    REQUIRE(proto_client_send(client, "generate", chat_stream_header, body, strlen(body), 20000,
                              &id) == 0);
    int next = 0, done_lines = 0, ends = 0, status = 0;
    bool in_order = true;
    while (ends == 0) {
        proto_msg_t msg;
        if (proto_client_recv(client, &msg, 20000) != 0)
            break;
        if (msg.id == id && msg.cmd == PROTO_PARTIAL) {
            char *line = copy_bytes(msg.payload, msg.payload_len);
            char *text = line_text(line);
            if (line_done(line))
                done_lines++;
            else if (!text || atoi(text) != next++)
                in_order = false;
            free(text);
            free(line);
        } else if (msg.id == id) {
            ends++;
            status = msg.cmd == PROTO_FINAL ? 200 : -1;
        }
        proto_msg_close(&msg);
    }
    int64_t took = clock_ms() - start;
    CHECK(in_order);
    CHECK_INT(next, ==, TOKENS);
    CHECK_INT(done_lines, ==, 1);
    CHECK_INT(status, ==, 200);
    printf("# %d lines in %lld ms (%.0f lines/s, bound by the fake)\n", TOKENS + 1, (long long)took,
           took > 0 ? (TOKENS + 1) * 1000.0 / (double)took : 0.0);
}

TEST(stream_ends_with_a_last_line_without_newline) {
    REQUIRE(fixture_up());
    REQUIRE(fake_script(&fakes[0], "{}"));
    /* No messages: Ollama loads the model and answers one JSON object with
     * no trailing newline, even to a streaming request. */
    const char *body = "{\"model\":\"llama3.2\",\"messages\":[],\"stream\":true}";
    reply_t r;
    REQUIRE(exchange(chat_stream_header, body, 10000, &r));
    CHECK(r.final);
    CHECK_INT(r.npartials, ==, 1);
    if (r.npartials == 1) {
        CHECK(line_done(r.partials[0]));
        CHECK(strstr(r.partials[0], "\"done_reason\":\"load\"") != NULL);
    }
    reply_free(&r);
}

TEST(no_stream_returns_the_whole_body) {
    REQUIRE(fixture_up());
    REQUIRE(fake_script(&fakes[0], "{\"tokens\":[\"Whole\",\" answer\"]}"));
    char body[256];
    chat_body(body, sizeof body, "llama3.2", "m-whole", false);
    reply_t r;
    REQUIRE(
        exchange("{\"method\":\"POST\",\"path\":\"/api/chat\",\"stream\":false}", body, 10000, &r));
    CHECK(r.final);
    CHECK_INT(r.status, ==, 200);
    CHECK_INT(r.npartials, ==, 0);
    const char *type =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r.final_header, "content_type"));
    CHECK(type && strncmp(type, "application/json", 16) == 0);
    REQUIRE(r.final_payload);
    char *text = line_text(r.final_payload);
    CHECK_STR(text, "Whole answer");
    free(text);
    CHECK(line_done(r.final_payload));
    reply_free(&r);
}

TEST(get_and_head_pass_through) {
    REQUIRE(fixture_up());
    REQUIRE(fake_script(&fakes[0], "{}"));
    reply_t r;
    REQUIRE(
        exchange("{\"method\":\"GET\",\"path\":\"/api/tags\",\"stream\":false}", NULL, 10000, &r));
    CHECK(r.final);
    CHECK_INT(r.status, ==, 200);
    cJSON *tags = r.final_payload ? cJSON_Parse(r.final_payload) : NULL;
    const cJSON *models = cJSON_GetObjectItemCaseSensitive(tags, "models");
    CHECK_INT(cJSON_GetArraySize(models), ==, 4);
    const cJSON *first = cJSON_GetArrayItem(models, 0);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(first, "name")),
              "qwen2.5-coder:1.5b-base");
    cJSON_Delete(tags);
    reply_free(&r);

    REQUIRE(exchange("{\"method\":\"HEAD\",\"path\":\"/api/version\"}", NULL, 10000, &r));
    CHECK(r.final);
    CHECK_INT(r.status, ==, 200);
    CHECK(r.final_payload == NULL);
    reply_free(&r);

    REQUIRE(exchange("{\"method\":\"GET\",\"path\":\"/api/version\"}", NULL, 10000, &r));
    CHECK(r.final);
    CHECK(r.final_payload && strstr(r.final_payload, "\"version\":\"0.12.6\""));
    reply_free(&r);
}

TEST(unknown_model_is_ollamas_404) {
    REQUIRE(fixture_up());
    REQUIRE(fake_script(&fakes[0], "{}"));
    for (int stream = 0; stream < 2; stream++) {
        char body[256], header[128];
        chat_body(body, sizeof body, "nope", "m-404", stream);
        snprintf(header, sizeof header, "{\"path\":\"/api/chat\",\"stream\":%s}",
                 stream ? "true" : "false");
        reply_t r;
        REQUIRE(exchange(header, body, 10000, &r));
        CHECK(!r.final);
        CHECK_INT(r.status, ==, 404);
        CHECK_STR(r.message, "model 'nope' not found");
        CHECK_INT(r.npartials, ==, 0);
        reply_free(&r);
    }
}

TEST(upstream_500_passes_through) {
    REQUIRE(fixture_up());
    REQUIRE(fake_script(&fakes[0], "{\"fail\":\"500\"}"));
    char body[256];
    chat_body(body, sizeof body, "llama3.2", "m-500", true);
    reply_t r;
    REQUIRE(exchange(chat_stream_header, body, 10000, &r));
    CHECK(!r.final);
    CHECK_INT(r.status, ==, 500);
    CHECK_STR(r.message, "llama runner process has terminated: exit status 2");
    CHECK_INT(r.npartials, ==, 0);
    reply_free(&r);
}

TEST(error_line_mid_stream_is_error_500) {
    REQUIRE(fixture_up());
    REQUIRE(fake_script(&fakes[0], "{\"tokens\":[\"a\",\"b\",\"c\",\"d\"],\"fail\":\"error_mid\","
                                   "\"cut_after\":2,\"error_message\":\"out of memory, sorry\"}"));
    char body[256];
    chat_body(body, sizeof body, "llama3.2", "m-errmid", true);
    reply_t r;
    REQUIRE(exchange(chat_stream_header, body, 10000, &r));
    CHECK(!r.final);
    CHECK_INT(r.npartials, ==, 2);
    CHECK_INT(r.status, ==, 500);
    CHECK_STR(r.message, "out of memory, sorry");
    reply_free(&r);
}

TEST(cut_mid_stream_is_502) {
    REQUIRE(fixture_up());
    REQUIRE(fake_script(&fakes[0], "{\"tokens\":[\"a\",\"b\",\"c\",\"d\",\"e\"],\"fail\":\"cut\","
                                   "\"cut_after\":3}"));
    char body[256];
    chat_body(body, sizeof body, "llama3.2", "m-cut", true);
    reply_t r;
    REQUIRE(exchange(chat_stream_header, body, 10000, &r));
    CHECK(!r.final);
    CHECK_INT(r.npartials, ==, 3);
    CHECK_INT(r.status, ==, 502);
    CHECK_STR(r.message, "Ollama closed the stream before it finished");
    reply_free(&r);

    /* Not streamed: the connection closes before any answer. */
    chat_body(body, sizeof body, "llama3.2", "m-cut2", false);
    REQUIRE(exchange("{\"path\":\"/api/chat\"}", body, 10000, &r));
    CHECK(!r.final);
    CHECK_INT(r.status, ==, 502);
    CHECK(strstr(r.message, "Ollama closed the connection") != NULL);
    reply_free(&r);
}

TEST(refused_connection_is_502_with_a_hint) {
    REQUIRE(fixture_up());
    REQUIRE(fake_script(&fakes[0], "{}"));
    /* The fake stops listening (its control API too) and closes idle
     * connections, so the generator's kept-alive connection cannot hide it. */
    cJSON_Delete(fake_ollama_call(&fakes[0], "/_fake/refuse", "{\"reopen_after_ms\":1500}"));
    REQUIRE(proc_wait_port_state(fakes[0].port, false, 1000));
    char body[256];
    chat_body(body, sizeof body, "llama3.2", "m-refused", true);
    reply_t r;
    REQUIRE(exchange(chat_stream_header, body, 10000, &r));
    CHECK(!r.final);
    CHECK_INT(r.status, ==, 502);
    char want[256];
    snprintf(want, sizeof want,
             "Ollama is not reachable at %s: start it with `ollama serve` or set OLLAMA_HOST",
             fakes[0].url);
    CHECK_STR(r.message, want);
    CHECK_INT(r.ended_ms - r.sent_ms, <, 500);
    reply_free(&r);
    /* Once Ollama is back, the next request works. */
    REQUIRE(proc_wait_port_state(fakes[0].port, true, 5000));
    chat_body(body, sizeof body, "llama3.2", "m-back", true);
    REQUIRE(exchange(chat_stream_header, body, 10000, &r));
    CHECK(r.final);
    reply_free(&r);
}

TEST(hang_past_the_deadline_is_504) {
    REQUIRE(fixture_up());
    REQUIRE(fake_script(&fakes[0], "{\"fail\":\"hang\"}"));
    char body[256];
    chat_body(body, sizeof body, "llama3.2", "m-hang", true);
    reply_t r;
    REQUIRE(exchange(chat_stream_header, body, 1500, &r));
    CHECK(!r.final);
    CHECK_INT(r.status, ==, 504);
    /* The generator's message (the client's own says "generate did not answer"). */
    CHECK(strstr(r.message, "did not finish within") != NULL);
    int64_t took = r.ended_ms - r.sent_ms;
    CHECK_INT(took, >=, 1200);
    CHECK_INT(took, <, 2500);
    /* ... and the connection to Ollama was closed. */
    CHECK(wait_event(&fakes[0], "m-hang", "client_closed", 1000) >= 0);
    reply_free(&r);
}

TEST(cancel_closes_the_upstream_connection) {
    REQUIRE(fixture_up());
    REQUIRE(fake_script(&fakes[0], "{\"tokens\":[\"0\",\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\","
                                   "\"8\",\"9\",\"10\",\"11\",\"12\",\"13\",\"14\",\"15\"],"
                                   "\"pace_ms\":100}"));
    char body[256];
    chat_body(body, sizeof body, "llama3.2", "m-cancel", true);
    uint64_t id;
    REQUIRE(proto_client_send(client, "generate", chat_stream_header, body, strlen(body), 10000,
                              &id) == 0);
    int partials = 0;
    int64_t until = clock_ms() + 5000;
    while (partials < 2 && clock_ms() < until) {
        proto_msg_t msg;
        if (proto_client_recv(client, &msg, (int)(until - clock_ms())) != 0)
            break;
        partials += msg.id == id && msg.cmd == PROTO_PARTIAL;
        proto_msg_close(&msg);
    }
    REQUIRE(partials == 2);
    CHECK_INT(proto_client_cancel(client, id), ==, 0);
    int waited = wait_event(&fakes[0], "m-cancel", "client_closed", 1000);
    CHECK(waited >= 0);
    printf("# upstream connection closed %d ms after CANCEL\n", waited);
    cJSON *events = fake_ollama_records(&fakes[0], "events", "m-cancel");
    CHECK_INT(count_type(events, "token"), <, 6);
    cJSON_Delete(events);

    /* Cancelled while Ollama is still loading the model: no line yet. */
    REQUIRE(fake_script(&fakes[0], "{\"first_token_delay_ms\":3000}"));
    chat_body(body, sizeof body, "llama3.2", "m-early", true);
    REQUIRE(proto_client_send(client, "generate", chat_stream_header, body, strlen(body), 10000,
                              &id) == 0);
    REQUIRE(wait_event(&fakes[0], "m-early", "response_start", 2000) >= 0);
    CHECK_INT(proto_client_cancel(client, id), ==, 0);
    waited = wait_event(&fakes[0], "m-early", "client_closed", 1000);
    CHECK(waited >= 0);
    printf("# before the first line: closed %d ms after CANCEL\n", waited);
}

TEST(bad_requests_are_400) {
    REQUIRE(fixture_up());
    static const char *headers[] = {
        "{\"method\":\"POST\",\"path\":\"api/chat\"}",
        "{\"method\":\"DELETE\",\"path\":\"/api/delete\"}",
        "{\"method\":\"GET\"}",
        "{\"method\":\"GET\",\"path\":\"/api/tags\",\"stream\":\"yes\"}",
    };
    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
        reply_t r;
        REQUIRE(exchange(headers[i], "{}", 5000, &r));
        CHECK(!r.final);
        CHECK_INT(r.status, ==, 400);
        reply_free(&r);
    }
}

TEST(two_generators_share_the_requests) {
    REQUIRE(fixture_up());
    REQUIRE(fake_ollama_start(&fakes[1], stack.dir, "fake1"));
    generators[1] = generator_start_from_env(fakes[1].port, 5);
    REQUIRE(wait_workers(2, 10000));
    /* Each declared the capacity it was given (flag 8, environment 5). */
    cJSON *status_json = stack_broker_status(client, 2000);
    int capacities = 0;
    const cJSON *w;
    cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(status_json, "workers")) {
        const cJSON *pid = cJSON_GetObjectItemCaseSensitive(w, "pid");
        const cJSON *cap = cJSON_GetObjectItemCaseSensitive(w, "capacity");
        if (cJSON_IsNumber(pid) && cJSON_IsNumber(cap))
            capacities += (pid->valueint == generators[0] && cap->valueint == 8) +
                          (pid->valueint == generators[1] && cap->valueint == 5);
    }
    cJSON_Delete(status_json);
    CHECK_INT(capacities, ==, 2);
    const char *script = "{\"tokens\":[\"a\",\"b\",\"c\",\"d\",\"e\"],\"pace_ms\":30}";
    REQUIRE(fake_script(&fakes[0], script));
    REQUIRE(fake_script(&fakes[1], script));
    enum { N = 12 };
    char bodies[N][256];
    const char *headers[N], *payloads[N];
    for (int i = 0; i < N; i++) {
        chat_body(bodies[i], sizeof bodies[i], "llama3.2", "m-share", true);
        headers[i] = chat_stream_header;
        payloads[i] = bodies[i];
    }
    reply_t *replies = calloc(N, sizeof *replies);
    REQUIRE(replies);
    CHECK(exchange_many(N, headers, payloads, 10000, replies));
    int finals = 0;
    for (int i = 0; i < N; i++) {
        finals += replies[i].final && replies[i].npartials == 6;
        reply_free(&replies[i]);
    }
    free(replies);
    CHECK_INT(finals, ==, N);
    int a = count_requests(&fakes[0], "m-share"), b = count_requests(&fakes[1], "m-share");
    printf("# %d requests: %d to the first generator, %d to the second\n", N, a, b);
    CHECK_INT(a + b, ==, N);
    CHECK_INT(a, >=, 1);
    CHECK_INT(b, >=, 1);
    int status = proc_stop(generators[1], SIGTERM, 5000);
    generators[1] = 0;
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    proc_stop(fakes[1].pid, SIGTERM, 5000);
    fakes[1].pid = 0;
    CHECK(wait_workers(1, 5000));
}

TEST(generator_exits_clean_on_sigterm_mid_stream) {
    REQUIRE(fixture_up());
    REQUIRE(fake_script(&fakes[0], "{\"tokens\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\"],"
                                   "\"pace_ms\":1000}"));
    char body[256];
    chat_body(body, sizeof body, "llama3.2", "m-term", true);
    uint64_t id;
    REQUIRE(proto_client_send(client, "generate", chat_stream_header, body, strlen(body), 10000,
                              &id) == 0);
    proto_msg_t msg;
    bool partial = false;
    while (!partial && proto_client_recv(client, &msg, 5000) == 0) {
        partial = msg.id == id && msg.cmd == PROTO_PARTIAL;
        proto_msg_close(&msg);
    }
    REQUIRE(partial);
    /* A stream in progress neither delays the exit nor outlives it. */
    int64_t start = clock_ms();
    int status = proc_stop(generators[0], SIGTERM, 5000);
    generators[0] = 0;
    printf("# exited %lld ms after SIGTERM, mid-stream\n", (long long)(clock_ms() - start));
    CHECK(status != -1);
    CHECK(WIFEXITED(status));
    CHECK_INT(WEXITSTATUS(status), ==, 0);
    CHECK_INT(clock_ms() - start, <, 2000);
    CHECK(wait_event(&fakes[0], "m-term", "client_closed", 1000) >= 0);
    /* The client hears of it: the broker fails the request. */
    bool ended = false;
    while (!ended && proto_client_recv(client, &msg, 5000) == 0) {
        ended = msg.id == id && msg.cmd == PROTO_ERROR;
        proto_msg_close(&msg);
    }
    CHECK(ended);
}

TEST_MAIN(TEST_CASE(stream_chat_returns_each_token_at_once),
          TEST_CASE(stream_reassembles_a_line_split_across_reads),
          TEST_CASE(a_long_stream_keeps_every_line_in_order),
          TEST_CASE(stream_ends_with_a_last_line_without_newline),
          TEST_CASE(no_stream_returns_the_whole_body), TEST_CASE(get_and_head_pass_through),
          TEST_CASE(unknown_model_is_ollamas_404), TEST_CASE(upstream_500_passes_through),
          TEST_CASE(error_line_mid_stream_is_error_500), TEST_CASE(cut_mid_stream_is_502),
          TEST_CASE(refused_connection_is_502_with_a_hint),
          TEST_CASE(hang_past_the_deadline_is_504),
          TEST_CASE(cancel_closes_the_upstream_connection), TEST_CASE(bad_requests_are_400),
          TEST_CASE(two_generators_share_the_requests),
          TEST_CASE(generator_exits_clean_on_sigterm_mid_stream))
