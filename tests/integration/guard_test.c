/*
 * Who the gateway serves, over real HTTP (see gateway/guard.h): without an
 * API key only this machine's names and allowed origins; with a key, the key.
 *
 *   a web page after DNS rebinding (Host: attacker.example, Origin of the
 *   same site, text/plain so that no preflight is needed) gets 403 on every
 *   route, and nothing reaches the model;
 *   a page of another site on 127.0.0.1 gets 403; local apps and IDE
 *   webviews, the gateway's own pages and LCA_ORIGINS are served with CORS
 *   headers, preflights answered;
 *   with LCA_API_KEY the key decides: a stranger's Host with the key is
 *   served, any request without it is 401 but /healthz; a stranger's
 *   body larger than --max-body is refused from its headers, and one
 *   under it is never parsed.
 */
#include "tests/stack.h"

#include <poll.h>

static test_stack_t stack;
static bool up, up_tried;

static bool setup(void) {
    if (!up_tried) {
        up_tried = true;
        curl_global_init(CURL_GLOBAL_DEFAULT);
        up = stack_start(&stack, &(stack_options_t){.generator = true});
        http_base = stack.url;
    }
    return up;
}

/* How many inference requests the fake Ollama has seen. */
static int upstream_requests(void) {
    cJSON *all = fake_ollama_records(&stack.fake, "requests", NULL);
    int n = 0;
    const cJSON *q;
    cJSON_ArrayForEach(q, all) {
        const char *path = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(q, "path"));
        n += path && !strcmp(path, "/api/generate");
    }
    cJSON_Delete(all);
    return n;
}

static bool is_403_with_message(const http_reply_t *r, const char *words) {
    cJSON *j = http_body_json(r);
    const cJSON *error = cJSON_GetObjectItemCaseSensitive(j, "error");
    const char *e = cJSON_IsObject(error) /* OpenAI's shape */
                        ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(error, "message"))
                        : cJSON_GetStringValue(error);
    bool ok = r->status == 403 && e && strstr(e, words);
    if (!ok)
        fprintf(stderr, "  got %ld %s\n", r->status, r->body.data ? r->body.data : "");
    cJSON_Delete(j);
    return ok;
}

TEST(a_rebinding_page_gets_403_everywhere) {
    REQUIRE(setup());
    int before = upstream_requests();
    static const char *const routes[][2] = {
        {"/api/context", "{\"query\":\"password\"}"},
        {"/api/generate", "{\"model\":\"qwen2.5-coder:7b\",\"prompt\":\"x\",\"stream\":false}"},
        {"/api/chat", "{\"model\":\"qwen2.5-coder:7b\",\"messages\":[]}"},
        {"/v1/completions", "{\"model\":\"qwen2.5-coder:7b\",\"prompt\":\"x\"}"},
        {"/api/collections", NULL},
        {"/metrics", NULL},
        {"/api/tags", NULL},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        http_reply_t r;
        http_request(&(http_request_t){.path = routes[i][0],
                                       .body = routes[i][1],
                                       .headers = {"Host: attacker.example",
                                                   "Origin: http://attacker.example",
                                                   "Content-Type: text/plain"}},
                     &r);
        CHECK(is_403_with_message(&r, "Host 'attacker.example' is not one of this machine"));
        http_reply_free(&r);
    }
    CHECK_INT(upstream_requests(), ==, before);
}

TEST(pages_of_other_sites_get_403_on_loopback) {
    REQUIRE(setup());
    static const char *const origins[] = {"Origin: http://attacker.example", "Origin: null",
                                          "Origin: https://localhost.attacker.example"};
    for (size_t i = 0; i < 3; i++) {
        http_reply_t r;
        http_request(&(http_request_t){.path = "/api/context",
                                       .body = "{\"query\":\"password\"}",
                                       .headers = {origins[i], "Content-Type: text/plain"}},
                     &r);
        CHECK(is_403_with_message(&r, "LCA_ORIGINS"));
        http_reply_free(&r);
    }
}

/* A request from origin that must be served: 200 and the CORS header. */
static void check_served(const char *origin_header, const char *origin) {
    http_reply_t r;
    http_request(&(http_request_t){.path = "/api/version", .headers = {origin_header}}, &r);
    CHECK_INT(r.status, ==, 200);
    CHECK_STR(r.allow_origin, origin);
    http_reply_free(&r);
    /* A browser asks first before a JSON POST. */
    http_request(&(http_request_t){.method = "OPTIONS",
                                   .path = "/api/chat",
                                   .headers = {origin_header, "Access-Control-Request-Method: POST",
                                               "Access-Control-Request-Headers: content-type"}},
                 &r);
    CHECK_INT(r.status, ==, 204);
    CHECK(r.body.len == 0);
    CHECK_STR(r.allow_origin, origin);
    http_reply_free(&r);
}

TEST(local_apps_webviews_and_own_pages_are_served) {
    REQUIRE(setup());
    check_served("Origin: vscode-webview://4f3b2a", "vscode-webview://4f3b2a");
    check_served("Origin: http://localhost:3000", "http://localhost:3000");
    char own[128];
    snprintf(own, sizeof own, "Origin: %s", stack.url);
    check_served(own, stack.url);
    /* Clients that send no Origin, with the names IDEs use. */
    char host[64];
    snprintf(host, sizeof host, "Host: localhost:%d", stack.port);
    http_reply_t r;
    http_request(&(http_request_t){.path = "/api/version", .headers = {host}}, &r);
    CHECK_INT(r.status, ==, 200);
    http_reply_free(&r);
    snprintf(host, sizeof host, "Host: [::1]:%d", stack.port);
    http_request(&(http_request_t){.path = "/api/version", .headers = {host}}, &r);
    CHECK_INT(r.status, ==, 200);
    http_reply_free(&r);
}

TEST(listed_origins_and_hosts_are_served) {
    REQUIRE(setup());
    static const char *const env[] = {"LCA_ORIGINS=https://*.ide.example", "LCA_HOSTS=devbox.lan",
                                      NULL};
    REQUIRE(stack_gateway_restart(&stack, env, NULL));
    check_served("Origin: https://web.ide.example", "https://web.ide.example");
    http_reply_t r;
    http_request(&(http_request_t){.path = "/api/version", .headers = {"Host: devbox.lan"}}, &r);
    CHECK_INT(r.status, ==, 200);
    http_reply_free(&r);
    http_request(&(http_request_t){.path = "/api/version",
                                   .headers = {"Origin: https://ide.example.attacker.example"}},
                 &r);
    CHECK_INT(r.status, ==, 403);
    http_reply_free(&r);
    REQUIRE(stack_gateway_restart(&stack, NULL, NULL));
}

TEST(with_a_key_the_key_decides) {
    REQUIRE(setup());
    static const char *const env[] = {"LCA_API_KEY=s3cret-key", NULL};
    REQUIRE(stack_gateway_restart(&stack, env, NULL));
    http_reply_t r;
    http_request(&(http_request_t){.path = "/api/version",
                                   .auth = "Bearer s3cret-key",
                                   .headers = {"Host: gateway.example"}},
                 &r);
    CHECK_INT(r.status, ==, 200);
    http_reply_free(&r);
    http_request(&(http_request_t){.path = "/api/version", .headers = {"Host: gateway.example"}},
                 &r);
    CHECK_INT(r.status, ==, 401);
    http_reply_free(&r);
    http_request(&(http_request_t){.path = "/healthz", .headers = {"Host: gateway.example"}}, &r);
    CHECK_INT(r.status, ==, 200);
    http_reply_free(&r);
    REQUIRE(stack_gateway_restart(&stack, NULL, NULL));
}

/* Sends request (headers only, no body) on a fresh connection to the
 * gateway and reads until the response's headers are in, the connection
 * closes or timeout_ms pass.  The status, or 0 when none came. */
static int status_of_headers_only(const char *request, int timeout_ms) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)stack.port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        write(fd, request, strlen(request)) != (ssize_t)strlen(request)) {
        if (fd >= 0)
            close(fd);
        return 0;
    }
    char reply[1024];
    size_t got = 0;
    int64_t until = proc_now_ms() + timeout_ms;
    while (got < sizeof reply - 1 && proc_now_ms() < until) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, (int)(until - proc_now_ms())) <= 0)
            break;
        ssize_t n = read(fd, reply + got, sizeof reply - 1 - got);
        if (n <= 0)
            break;
        got += (size_t)n;
        reply[got] = '\0';
        if (strstr(reply, "\r\n\r\n"))
            break;
    }
    close(fd);
    reply[got] = '\0';
    int status = 0;
    return sscanf(reply, "HTTP/1.%*d %d", &status) == 1 ? status : 0;
}

TEST(with_a_key_a_stranger_cannot_make_the_gateway_hold_much) {
    REQUIRE(setup());
    static const char *const env[] = {"LCA_API_KEY=s3cret-key", NULL};
    REQUIRE(stack_gateway_restart(&stack, env, NULL));
    /* h2o reads a body whole before the key can be checked; what bounds it
     * is --max-body (8 MiB here), and a larger Content-Length is refused
     * from the headers alone, before a byte of the body is sent. */
    long over = (8L << 20) + (1L << 20);
    char request[256];
    snprintf(request, sizeof request,
             "POST /api/chat HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
             "Content-Length: %ld\r\n\r\n",
             over);
    CHECK_INT(status_of_headers_only(request, 5000), ==, 413);
    /* A body under it without the key is 401, and never parsed: four
     * million values, which parsed would be half a gigabyte, leave the
     * gateway's peak memory near the body's own size. */
    size_t count = 4000000, len = 2 * count + 1;
    char *body = malloc(len + 1);
    REQUIRE(body);
    body[0] = '[';
    for (size_t i = 0; i < count; i++) {
        body[1 + 2 * i] = '0';
        body[2 + 2 * i] = i + 1 < count ? ',' : ']';
    }
    body[len] = '\0';
    long before = proc_status_kib(stack.gateway, "VmHWM");
    http_reply_t r;
    http_request(&(http_request_t){.path = "/api/chat", .body = body}, &r);
    CHECK_INT(r.status, ==, 401);
    CHECK_INT(proc_status_kib(stack.gateway, "VmHWM") - before, <, 100 * 1024);
    http_reply_free(&r);
    free(body);
    REQUIRE(stack_gateway_restart(&stack, NULL, NULL));
}

TEST_MAIN(TEST_CASE(a_rebinding_page_gets_403_everywhere),
          TEST_CASE(pages_of_other_sites_get_403_on_loopback),
          TEST_CASE(local_apps_webviews_and_own_pages_are_served),
          TEST_CASE(listed_origins_and_hosts_are_served), TEST_CASE(with_a_key_the_key_decides),
          TEST_CASE(with_a_key_a_stranger_cannot_make_the_gateway_hold_much))
