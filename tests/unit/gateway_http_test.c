/*
 * gateway/http: what a request's context answers without a server — its
 * route's name, its headers, and the bridge calls made on its behalf
 * (against a broker and a worker inside this process, tests/inproc.h).
 * Replies and errors are tested over HTTP in tests/integration/gateway_test.c.
 */
#include "gateway/gateway.h"
#include "gateway/http.h"
#include "tests/inproc.h"
#include "tests/test.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <time.h>

/* A request with the headers given (name, value, ..., NULL), in its own pool. */
static void request(h2o_req_t *req, ...) {
    memset(req, 0, sizeof *req);
    h2o_mem_init_pool(&req->pool);
    va_list ap;
    va_start(ap, req);
    for (const char *name; (name = va_arg(ap, const char *));) {
        const char *value = va_arg(ap, const char *);
        h2o_add_header_by_str(&req->pool, &req->headers, name, strlen(name), 0, NULL, value,
                              strlen(value));
    }
    va_end(ap);
}

TEST(a_route_name_is_its_path_or_other) {
    bool known;
    http_ctx_t ctx = {.route = http_route_find("POST", 4, "/api/context", 12, &known)};
    REQUIRE(ctx.route);
    CHECK_STR(http_route_name(&ctx), "/api/context");
    ctx.route = NULL;
    CHECK_STR(http_route_name(&ctx), "other");
}

TEST(headers_are_found_by_name_in_any_case) {
    h2o_req_t req;
    request(&req, "x-lca-collection", "shop", "Content-Type", "text/plain", (const char *)NULL);
    h2o_iovec_t v = http_header(&req, "X-LCA-Collection");
    CHECK(v.len == 4 && memcmp(v.base, "shop", 4) == 0);
    v = http_header(&req, "content-type");
    CHECK(v.len == 10 && memcmp(v.base, "text/plain", 10) == 0);
    CHECK_INT(http_header(&req, "authorization").len, ==, 0);
    CHECK_INT(http_header(&req, "x-lca").len, ==, 0); /* whole names only */
    h2o_mem_clear_pool(&req.pool);
}

TEST(sse_is_wanted_when_accept_names_it) {
    h2o_req_t req;
    request(&req, "accept", "application/json, text/event-stream;q=0.9", (const char *)NULL);
    CHECK(http_wants_sse(&req));
    h2o_mem_clear_pool(&req.pool);
    request(&req, "accept", "application/json", (const char *)NULL);
    CHECK(!http_wants_sse(&req));
    h2o_mem_clear_pool(&req.pool);
    request(&req, (const char *)NULL);
    CHECK(!http_wants_sse(&req));
    h2o_mem_clear_pool(&req.pool);
}

/* ---- calls on behalf of a request ---- */

static inproc_t s;
static gateway_t gateway;
static atomic_int running, cancelled; /* jobs of the "hold" worker */

/* Holds every job until it is cancelled. */
static void hold(proto_job_t *job, void *arg) {
    (void)arg;
    atomic_fetch_add(&running, 1);
    while (!proto_job_cancelled(job))
        nanosleep(&(struct timespec){0, 2000000}, NULL);
    atomic_fetch_add(&cancelled, 1);
}

static bool setup(void) {
    static bool tried, ok;
    if (!tried) {
        tried = true;
        ok = inproc_start(&s) && inproc_worker(&s, "hold", 64, hold, NULL) &&
             (gateway.bridge = inproc_bridge(&s)) != NULL;
    }
    return ok;
}

static void never(void *arg, const proto_msg_t *msg) {
    (void)msg;
    (*(int *)arg)++;
}

static void never_error(void *arg, int status, const char *message) {
    (void)status, (void)message;
    (*(int *)arg)++;
}

static bool at_least(void *arg) {
    const int *want = arg;
    return atomic_load(&running) >= want[0] && atomic_load(&cancelled) >= want[1];
}

/* A retrieval makes one call per shard at once: a gateway of 40 shards
 * (more than the 32 a request could once track) has them all tracked, and
 * all cancelled when the request goes away. */
TEST(every_call_a_request_starts_is_tracked_and_ends_with_it) {
    REQUIRE(setup());
    h2o_req_t req;
    request(&req, (const char *)NULL);
    http_ctx_t *ctx = http_ctx_new(&req, &gateway);
    static const bridge_callbacks_t callbacks = {never, never, never_error};
    int callbacks_run = 0;
    enum { CALLS = 40 };
    uint64_t ids[CALLS];
    for (int i = 0; i < CALLS; i++) {
        ids[i] = http_call(ctx, "hold", NULL, NULL, 0, 10000, &callbacks, &callbacks_run);
        CHECK(ids[i] != 0);
    }
    size_t tracked = 0;
    for (size_t i = 0; i < ctx->calls_cap; i++)
        tracked += ctx->calls[i] != 0;
    CHECK_INT(tracked, ==, CALLS);
    /* A slot freed is used again before the array grows. */
    size_t cap = ctx->calls_cap;
    http_untrack(ctx, ids[3]);
    uint64_t again = http_call(ctx, "hold", NULL, NULL, 0, 10000, &callbacks, &callbacks_run);
    CHECK(again != 0);
    CHECK_INT(ctx->calls_cap, ==, cap);
    CHECK(ctx->calls[3] == again);
    /* One cancelled by hand, then the rest with the request. */
    int want[2] = {CALLS + 1, 0};
    CHECK(inproc_run_until(&s, at_least, want, 5000));
    http_cancel(ctx, ids[0]);
    bridge_cancel(gateway.bridge, ids[3]); /* untracked above: ours to cancel */
    h2o_mem_clear_pool(&req.pool);
    want[1] = CALLS + 1;
    CHECK(inproc_run_until(&s, at_least, want, 5000));
    CHECK_INT(atomic_load(&cancelled), ==, CALLS + 1);
    CHECK_INT(callbacks_run, ==, 0);
}

TEST(everything_stops_clean) {
    REQUIRE(setup());
    bridge_destroy(&gateway.bridge);
    inproc_stop(&s);
    CHECK(s.broker == NULL);
}

TEST_MAIN(TEST_CASE(a_route_name_is_its_path_or_other),
          TEST_CASE(headers_are_found_by_name_in_any_case),
          TEST_CASE(sse_is_wanted_when_accept_names_it),
          TEST_CASE(every_call_a_request_starts_is_tracked_and_ends_with_it),
          TEST_CASE(everything_stops_clean))
