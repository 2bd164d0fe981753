/*
 * gateway/server: how a method and a path find their route in the table
 * (routes.c), without a server.  What the server checks before a handler
 * runs (key, size, /c/<name>/ prefix) is tested over HTTP in
 * tests/integration/gateway_test.c.
 */
#include "gateway/http.h"
#include "tests/test.h"

static const http_route_t *find(const char *method, const char *path, bool *known) {
    return http_route_find(method, strlen(method), path, strlen(path), known);
}

TEST(every_route_is_found_by_its_method_and_path) {
    int n = 0;
    for (const http_route_t *r = http_routes; r->path; r++, n++) {
        bool known = false;
        CHECK(find(r->method, r->path, &known) == r);
        CHECK(known);
        CHECK(r->handler != NULL);
        /* One route per method and path. */
        for (const http_route_t *s = r + 1; s->path; s++)
            CHECK(strcmp(r->path, s->path) != 0 || strcmp(r->method, s->method) != 0);
    }
    CHECK(n >= 17);
}

TEST(get_routes_answer_head_too) {
    bool known = false;
    const http_route_t *r = find("HEAD", "/api/tags", &known);
    REQUIRE(r);
    CHECK_STR(r->method, "GET");
    CHECK_STR(r->path, "/api/tags");
    /* Not a POST route. */
    CHECK(find("HEAD", "/api/chat", &known) == NULL);
    CHECK(known);
}

TEST(a_known_path_with_another_method_is_405_else_404) {
    bool known = false;
    CHECK(find("GET", "/api/chat", &known) == NULL);
    CHECK(known);
    CHECK(find("DELETE", "/healthz", &known) == NULL);
    CHECK(known);
    CHECK(find("GET", "/nope", &known) == NULL);
    CHECK(!known);
    /* Paths match whole, bytes exactly. */
    CHECK(find("POST", "/api/cha", &known) == NULL);
    CHECK(!known);
    CHECK(find("POST", "/api/chatx", &known) == NULL);
    CHECK(!known);
    CHECK(find("POST", "/API/CHAT", &known) == NULL);
    CHECK(!known);
    CHECK(find("post", "/api/chat", &known) == NULL);
    CHECK(known);
    CHECK(find("GET", "", &known) == NULL);
    CHECK(!known);
}

TEST_MAIN(TEST_CASE(every_route_is_found_by_its_method_and_path),
          TEST_CASE(get_routes_answer_head_too),
          TEST_CASE(a_known_path_with_another_method_is_405_else_404))
