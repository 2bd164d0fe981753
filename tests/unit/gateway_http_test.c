/*
 * gateway/http: what a request's context answers without a server — its
 * route's name and its headers.  Replies and errors are tested over HTTP in
 * tests/integration/gateway_test.c.
 */
#include "gateway/http.h"
#include "tests/test.h"

#include <stdarg.h>

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
    request(&req, "x-lca-collection", "shop", "Content-Type", "text/plain", NULL);
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
    request(&req, "accept", "application/json, text/event-stream;q=0.9", NULL);
    CHECK(http_wants_sse(&req));
    h2o_mem_clear_pool(&req.pool);
    request(&req, "accept", "application/json", NULL);
    CHECK(!http_wants_sse(&req));
    h2o_mem_clear_pool(&req.pool);
    request(&req, NULL);
    CHECK(!http_wants_sse(&req));
    h2o_mem_clear_pool(&req.pool);
}

TEST_MAIN(TEST_CASE(a_route_name_is_its_path_or_other),
          TEST_CASE(headers_are_found_by_name_in_any_case),
          TEST_CASE(sse_is_wanted_when_accept_names_it))
