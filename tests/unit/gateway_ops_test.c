/*
 * gateway/ops: /healthz and /metrics of a gateway inside this process
 * (tests/loopback.h) whose broker knows workers for generate, embed and
 * retrieve.0 but none for retrieve.1: ready only when every service the
 * gateway needs has a worker, the Prometheus page with the gateway's, the
 * broker's and the collections' numbers, and both when the broker does not
 * answer (a bridge to a broker that is not there).
 */
#include "gateway/ops.h"
#include "tests/loopback.h"
#include "tests/test.h"

#include <stdio.h>

/* Workers that have nothing to do here but be counted; retrieve.0 lists
 * one collection. */
static void idle(proto_job_t *job, void *arg) {
    (void)arg;
    const char *listing = "{\"collections\":[{\"name\":\"shop\",\"root\":\"/src/shop\","
                          "\"model\":\"builtin\",\"dim\":8,\"shards\":1,\"files\":2,"
                          "\"chunks\":12}]}";
    proto_job_final(job, "{}", listing, strlen(listing));
}

static bool setup(void) {
    static bool tried, ok;
    if (!tried) {
        tried = true;
        ok = loopback_start(2) && inproc_worker(&loopback.s, "generate", 1, idle, NULL) &&
             inproc_worker(&loopback.s, "embed", 1, idle, NULL) &&
             inproc_worker(&loopback.s, "retrieve.0", 1, idle, NULL);
    }
    return ok;
}

static loopback_req_t *get(const char *path) {
    loopback_req_t *r = loopback_request("GET", path, NULL);
    loopback_dispatch(r);
    CHECK(loopback_wait(r, 5000));
    return r;
}

/* The workers of service in a /healthz answer (-1: not listed). */
static int workers(const cJSON *health, const char *service) {
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(jpath(health, "services"), service);
    return s ? (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(s, "workers")) : -1;
}

/* /healthz until the three workers are counted (they join the broker from
 * threads of their own), at most 5 s; its last answer. */
static loopback_req_t *health_once_joined(void) {
    int64_t end = clock_ms() + 5000;
    for (;;) {
        loopback_req_t *r = get("/healthz");
        cJSON *j = loopback_json(r);
        bool joined = workers(j, "generate") == 1 && workers(j, "embed") == 1 &&
                      workers(j, "retrieve.0") == 1;
        cJSON_Delete(j);
        if (joined || clock_ms() > end)
            return r;
        loopback_free(r);
        inproc_run_for(&loopback.s, 10);
    }
}

TEST(healthz_is_ready_only_with_a_worker_for_every_service) {
    REQUIRE(setup());
    /* Two shards: retrieve.1 has no worker. */
    loopback_req_t *r = health_once_joined();
    CHECK_INT(r->req.res.status, ==, 503);
    CHECK_STR(loopback_response_header(r, "content-type"), "application/json");
    cJSON *j = loopback_json(r);
    CHECK_STR(jstr(j, "status"), "unavailable");
    CHECK_STR(jstr(j, "version"), "0.0.0-test");
    CHECK_INT(workers(j, "generate"), ==, 1);
    CHECK_INT(workers(j, "embed"), ==, 1);
    CHECK_INT(workers(j, "retrieve.0"), ==, 1);
    CHECK_INT(workers(j, "retrieve.1"), ==, 0);
    CHECK_INT(cJSON_GetArraySize(jpath(j, "services")), ==, 4);
    cJSON_Delete(j);
    loopback_free(r);
    /* One shard: everything it needs is there. */
    loopback.gateway.shards = 1;
    r = get("/healthz");
    CHECK_INT(r->req.res.status, ==, 200);
    j = loopback_json(r);
    CHECK_STR(jstr(j, "status"), "ok");
    CHECK_INT(workers(j, "retrieve.1"), ==, -1);
    CHECK_INT(cJSON_GetArraySize(jpath(j, "services")), ==, 3);
    cJSON_Delete(j);
    loopback_free(r);
    loopback.gateway.shards = 2;
}

/* The line of the page that starts with prefix, copied into out; false if none. */
static bool line_of(const char *page, const char *prefix, char *out, size_t cap) {
    for (const char *p = page; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (strncmp(p, prefix, strlen(prefix)) == 0) {
            snprintf(out, cap, "%.*s", (int)strcspn(p, "\n"), p);
            return true;
        }
    }
    return false;
}

static bool has_line(const char *page, const char *line) {
    char got[256];
    return line_of(page, line, got, sizeof got) && strcmp(got, line) == 0;
}

TEST(metrics_has_the_gateways_the_brokers_and_the_collections_numbers) {
    REQUIRE(setup());
    loopback.gateway.shards = 1; /* the list of collections comes from retrieve.0 alone */
    loopback_collections_reset();
    loopback_req_t *r = health_once_joined();
    char counted[128];
    snprintf(counted, sizeof counted, "lca_http_requests_total{route=\"/healthz\",status=\"%d\"} ",
             r->req.res.status);
    loopback_free(r);
    r = get("/metrics");
    CHECK_INT(r->req.res.status, ==, 200);
    CHECK_STR(loopback_response_header(r, "content-type"),
              "text/plain; version=0.0.4; charset=utf-8");
    const char *page = loopback_body(r);
    /* Requests by route and status: the /healthz just asked, at least. */
    char line[256];
    CHECK(line_of(page, counted, line, sizeof line));
    CHECK(atoi(line + strlen(counted)) >= 1);
    CHECK(has_line(page, "# TYPE lca_time_to_first_token_seconds histogram"));
    CHECK(has_line(page, "lca_workers{service=\"generate\"} 1"));
    CHECK(has_line(page, "lca_workers{service=\"retrieve.0\"} 1"));
    CHECK(line_of(page, "lca_queue_depth{service=\"embed\"} ", line, sizeof line));
    loopback_free(r);
    /* That request started the first refresh of the collections; once it
     * is in, the page has their chunks. */
    int64_t end = clock_ms() + 5000;
    bool listed = false;
    while (!listed && clock_ms() < end) {
        inproc_run_for(&loopback.s, 10);
        r = get("/metrics");
        listed = has_line(loopback_body(r), "lca_collection_chunks{collection=\"shop\"} 12");
        loopback_free(r);
    }
    CHECK(listed);
    loopback.gateway.shards = 2;
}

/* ---- without a broker ---- */

static char nobody_dir[64];

/* A bridge to a broker socket nobody listens on, in a directory of our own. */
static bridge_t *dead_bridge(void) {
    char endpoint[128], err[256];
    snprintf(nobody_dir, sizeof nobody_dir, "/tmp/lca-ops-test-XXXXXX");
    if (!mkdtemp(nobody_dir))
        return NULL;
    snprintf(endpoint, sizeof endpoint, "ipc://%s/nobody.sock", nobody_dir);
    bridge_t *b = bridge_new(loopback.s.loop, endpoint, err, sizeof err);
    if (!b)
        fprintf(stderr, "  bridge: %s\n", err);
    return b;
}

typedef struct {
    int calls;
    bool had_status, had_services;
    char error[200];
} asked_t;

static asked_t asked;

static void on_status(http_ctx_t *ctx, const cJSON *status, const char *error) {
    (void)ctx;
    asked.calls++;
    asked.had_status = status != NULL;
    asked.had_services = cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(status, "services"));
    snprintf(asked.error, sizeof asked.error, "%s", error ? error : "");
}

static bool status_came(void *arg) {
    (void)arg;
    return asked.calls > 0;
}

TEST(the_brokers_status_is_handed_over_once) {
    REQUIRE(setup());
    asked = (asked_t){0};
    loopback_req_t *r = loopback_request("GET", "/healthz", NULL);
    ops_status_ask(loopback_ctx(r, API_LCA), on_status);
    CHECK_INT(asked.calls, ==, 0); /* later, on the loop */
    CHECK(inproc_run_until(&loopback.s, status_came, NULL, 5000));
    inproc_run_for(&loopback.s, 20);
    CHECK_INT(asked.calls, ==, 1);
    CHECK(asked.had_status && asked.had_services);
    CHECK_STR(asked.error, "");
    CHECK_INT(r->sends, ==, 0); /* answering is the caller's */
    loopback_free(r);
}

TEST(without_the_broker_healthz_says_why_and_metrics_still_answers) {
    REQUIRE(setup());
    bridge_t *live = loopback.gateway.bridge, *dead = dead_bridge();
    REQUIRE(dead);
    loopback.gateway.bridge = dead;
    loopback.gateway.status_timeout_ms = 300;
    asked = (asked_t){0};
    loopback_req_t *r = loopback_request("GET", "/healthz", NULL);
    ops_status_ask(loopback_ctx(r, API_LCA), on_status);
    CHECK(inproc_run_until(&loopback.s, status_came, NULL, 5000));
    CHECK(!asked.had_status);
    CHECK(asked.error[0] != '\0');
    loopback_free(r);

    r = get("/healthz");
    CHECK_INT(r->req.res.status, ==, 503);
    cJSON *j = loopback_json(r);
    CHECK(cJSON_IsString(jpath(j, "error")) && jstr(j, "error")[0]); /* lca's shape, a reason */
    CHECK(jpath(j, "services") == NULL);
    cJSON_Delete(j);
    loopback_free(r);

    r = get("/metrics");
    CHECK_INT(r->req.res.status, ==, 200);
    CHECK(strstr(loopback_body(r), "lca_http_requests_total{route=\"/healthz\"") != NULL);
    CHECK(strstr(loopback_body(r), "lca_workers{") == NULL); /* no broker, no services */
    CHECK(has_line(loopback_body(r), "# TYPE lca_workers gauge"));
    loopback_free(r);

    loopback.gateway.bridge = live;
    loopback.gateway.status_timeout_ms = 2000;
    bridge_destroy(&dead);
    rmdir(nobody_dir);
}

TEST(everything_stops_clean) {
    REQUIRE(setup());
    loopback_stop();
    CHECK(loopback.s.broker == NULL);
}

TEST_MAIN(TEST_CASE(healthz_is_ready_only_with_a_worker_for_every_service),
          TEST_CASE(metrics_has_the_gateways_the_brokers_and_the_collections_numbers),
          TEST_CASE(the_brokers_status_is_handed_over_once),
          TEST_CASE(without_the_broker_healthz_says_why_and_metrics_still_answers),
          TEST_CASE(everything_stops_clean))
