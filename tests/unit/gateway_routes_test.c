/*
 * gateway/routes: the route table itself — every endpoint wired to its
 * handler, and each route reached through the server (tests/loopback.h,
 * no network) answering in its API family's shape, under /c/<name>/ too.
 * How a method and a path find a route is gateway_server_test.c's.
 */
#include "gateway/events.h"
#include "gateway/knowledge.h"
#include "gateway/ollama.h"
#include "gateway/openai.h"
#include "gateway/ops.h"
#include "gateway/ui.h"
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

TEST(the_table_wires_each_endpoint_to_its_handler) {
    static const http_route_t want[] = {
        {"GET", "/healthz", ops_handle_health},
        {"GET", "/metrics", ops_handle_metrics},
        {"POST", "/api/context", knowledge_handle_context},
        {"GET", "/api/collections", knowledge_handle_collections},
        {"GET", "/ui", ui_handle_file},
        {"GET", "/ui/", ui_handle_file},
        {"GET", "/ui/app.js", ui_handle_file},
        {"GET", "/ui/style.css", ui_handle_file},
        {"GET", "/ui/api/state", ui_handle_state},
        {"GET", "/ui/api/chunk", ui_handle_chunk},
        {"GET", "/ui/events", events_handle},
        {"GET", "/", ui_handle_root},
        {"POST", "/api/chat", ollama_handle_chat},
        {"POST", "/api/generate", ollama_handle_generate},
        {"POST", "/api/embed", ollama_handle_embed},
        {"POST", "/api/embeddings", ollama_handle_embeddings},
        {"POST", "/api/show", ollama_handle_show},
        {"GET", "/api/tags", ollama_handle_passthrough},
        {"GET", "/api/ps", ollama_handle_passthrough},
        {"GET", "/api/version", ollama_handle_passthrough},
        {"POST", "/v1/chat/completions", openai_handle_chat},
        {"POST", "/v1/completions", openai_handle_completions},
        {"GET", "/v1/models", openai_handle_models},
        {"POST", "/v1/embeddings", openai_handle_embeddings},
    };
    size_t n = sizeof want / sizeof want[0], count = 0;
    for (const http_route_t *r = http_routes; r->path; r++)
        count++;
    CHECK_INT(count, ==, n);
    CHECK(http_routes[count].method == NULL && http_routes[count].handler == NULL);
    for (size_t i = 0; i < n; i++) {
        bool known = false;
        const http_route_t *r = http_route_find(want[i].method, strlen(want[i].method),
                                                want[i].path, strlen(want[i].path), &known);
        if (!r || r->handler != want[i].handler)
            fprintf(stderr, "  %s %s\n", want[i].method, want[i].path);
        CHECK(r != NULL && r->handler == want[i].handler);
    }
    /* Only GET and POST, and every path absolute. */
    for (const http_route_t *r = http_routes; r->path; r++) {
        CHECK(!strcmp(r->method, "GET") || !strcmp(r->method, "POST"));
        CHECK(r->path[0] == '/');
    }
}

/* A POST without a body, through the server, at path. */
static loopback_req_t *post_nothing(const char *path) {
    loopback_req_t *r = loopback_request("POST", path, NULL);
    loopback_dispatch(r);
    CHECK(loopback_wait(r, 2000));
    return r;
}

TEST(every_post_route_reads_its_body_and_answers_in_its_family) {
    REQUIRE(setup());
    int posts = 0;
    for (const http_route_t *route = http_routes; route->path; route++) {
        if (strcmp(route->method, "POST") != 0)
            continue;
        posts++;
        for (int prefixed = 0; prefixed < 2; prefixed++) {
            char path[128];
            snprintf(path, sizeof path, "%s%s", prefixed ? "/c/shop" : "", route->path);
            loopback_req_t *r = post_nothing(path);
            CHECK_INT(r->req.res.status, ==, 400);
            cJSON *j = loopback_json(r);
            bool openai = strncmp(route->path, "/v1/", 4) == 0;
            /* OpenAI: {"error": {"message", ...}}; Ollama and lca: {"error": "..."} */
            CHECK(openai ? cJSON_IsObject(jpath(j, "error")) : cJSON_IsString(jpath(j, "error")));
            CHECK_STR(loopback_error(j), "missing request body");
            if (!loopback_error(j) || strcmp(loopback_error(j), "missing request body"))
                fprintf(stderr, "  POST %s\n", path);
            cJSON_Delete(j);
            loopback_free(r);
        }
    }
    CHECK_INT(posts, ==, 9);
}

TEST(a_route_with_the_wrong_method_or_none_is_refused_in_its_family) {
    REQUIRE(setup());
    static const struct {
        const char *method, *path;
        int status;
        bool openai;
        const char *message;
    } cases[] = {
        {"GET", "/v1/chat/completions", 405, true,
         "method GET is not allowed on /v1/chat/completions"},
        {"DELETE", "/api/tags", 405, false, "method DELETE is not allowed on /api/tags"},
        {"POST", "/c/shop/api/tags", 405, false, "method POST is not allowed on /api/tags"},
        {"POST", "/api/pull", 404, false, "no such endpoint: POST /api/pull"},
        {"GET", "/v1/assistants", 404, true, "no such endpoint: GET /v1/assistants"},
        {"GET", "/nope", 404, false, "no such endpoint: GET /nope"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        loopback_req_t *r = loopback_request(cases[i].method, cases[i].path, NULL);
        loopback_dispatch(r);
        CHECK(r->ended);
        CHECK_INT(r->req.res.status, ==, cases[i].status);
        cJSON *j = loopback_json(r);
        CHECK(cases[i].openai ? cJSON_IsObject(jpath(j, "error"))
                              : cJSON_IsString(jpath(j, "error")));
        CHECK_STR(loopback_error(j), cases[i].message);
        cJSON_Delete(j);
        loopback_free(r);
    }
    /* A GET route answers HEAD: the status page's style sheet, without its bytes. */
    loopback_req_t *r = loopback_request("HEAD", "/ui/style.css", NULL);
    loopback_dispatch(r);
    CHECK(r->ended);
    CHECK_INT(r->req.res.status, ==, 200);
    CHECK_STR(loopback_response_header(r, "content-type"), "text/css; charset=utf-8");
    CHECK_STR(loopback_body(r), "");
    loopback_free(r);
}

TEST(everything_stops_clean) {
    REQUIRE(setup());
    loopback_stop();
    CHECK(loopback.s.broker == NULL);
}

TEST_MAIN(TEST_CASE(the_table_wires_each_endpoint_to_its_handler),
          TEST_CASE(every_post_route_reads_its_body_and_answers_in_its_family),
          TEST_CASE(a_route_with_the_wrong_method_or_none_is_refused_in_its_family),
          TEST_CASE(everything_stops_clean))
