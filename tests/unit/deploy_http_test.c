/*
 * Tests of deploy/http, the `lca` subcommands' client of the gateway,
 * against a one-request HTTP server run by the test on a thread
 * (tests/command.h): the URL from LCA_URL or LCA_PORT, the headers a
 * request carries, a body collected or streamed piece by piece with its
 * status, header lines, a gateway that is not there and one that does not
 * answer in time.
 */
#include "deploy/http.h"
#include "tests/command.h"

#include <cJSON.h>

TEST(a_get_collects_the_body_and_its_status) {
    fake_gateway_t s;
    REQUIRE(fake_gateway_start(&s, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 21\r\n"
                                   "Connection: close\r\n\r\n{\"status\":\"starting\"}"));
    unsetenv("LCA_API_KEY");
    buf_t answer = BUF_INIT;
    command_http_result_t r;
    command_http(
        &(command_http_request_t){.path = "/healthz", .timeout_ms = 5000, .answer = &answer}, &r);
    fake_gateway_stop(&s);
    CHECK(r.complete);
    CHECK_INT(r.status, ==, 503);
    CHECK_INT(answer.len, ==, 21);
    CHECK(answer.data && strcmp(answer.data, "{\"status\":\"starting\"}") == 0);
    CHECK(strncmp(s.request, "GET /healthz HTTP/1.1\r\n", 23) == 0);
    CHECK(strstr(s.request, "Authorization") == NULL);
    CHECK(strstr(s.request, "Content-Type") == NULL);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/healthz", s.port);
    CHECK_STR(r.url, url);
    buf_free(&answer);
}

typedef struct {
    int pieces;
    long status;
    buf_t body;
    bool saw_context;
} stream_t;

static bool on_body(void *arg, long status, const char *data, size_t len) {
    stream_t *st = arg;
    st->pieces++;
    st->status = status;
    buf_append(&st->body, data, len);
    return true;
}

static void on_header(void *arg, const char *line, size_t len) {
    stream_t *st = arg;
    st->saw_context |= len > 14 && strncmp(line, "X-LCA-Context:", 14) == 0;
}

TEST(a_post_carries_its_headers_and_streams_the_answer) {
    fake_gateway_t s;
    REQUIRE(fake_gateway_start(&s, "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\n"
                                   "X-LCA-Context: 1 chunks: a.py:1-2\r\nConnection: close\r\n\r\n"
                                   "{\"message\":{\"content\":\"hi\"}}\n"));
    /* LCA_URL wins over LCA_PORT. */
    char base[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%d", s.port);
    setenv("LCA_URL", base, 1);
    setenv("LCA_PORT", "1", 1);
    setenv("LCA_API_KEY", "sesame", 1);
    stream_t st = {.body = BUF_INIT};
    command_http_result_t r;
    command_http(&(command_http_request_t){.path = "/api/chat",
                                           .body = "{\"stream\":true}",
                                           .accept = "application/x-ndjson",
                                           .collection = "shop",
                                           .on_body = on_body,
                                           .on_header = on_header,
                                           .arg = &st},
                 &r);
    fake_gateway_stop(&s);
    unsetenv("LCA_API_KEY");
    unsetenv("LCA_URL");
    CHECK(r.complete);
    CHECK_INT(r.status, ==, 200);
    CHECK_INT(st.status, ==, 200);
    CHECK(st.pieces >= 1);
    CHECK(st.body.data && strcmp(st.body.data, "{\"message\":{\"content\":\"hi\"}}\n") == 0);
    CHECK(st.saw_context);
    CHECK(strncmp(s.request, "POST /api/chat HTTP/1.1\r\n", 25) == 0);
    CHECK(strstr(s.request, "\r\nContent-Type: application/json\r\n") != NULL);
    CHECK(strstr(s.request, "\r\nAccept: application/x-ndjson\r\n") != NULL);
    CHECK(strstr(s.request, "\r\nAuthorization: Bearer sesame\r\n") != NULL);
    CHECK(strstr(s.request, "\r\nX-LCA-Collection: shop\r\n") != NULL);
    CHECK(strstr(s.request, "\r\n\r\n{\"stream\":true}") != NULL);
    buf_free(&st.body);
}

TEST(no_gateway_and_a_silent_gateway_are_incomplete) {
    REQUIRE(fake_gateway_absent());
    command_http_result_t r;
    command_http(&(command_http_request_t){.path = "/healthz", .timeout_ms = 2000}, &r);
    CHECK(!r.complete);
    CHECK_INT(r.status, ==, 0);
    CHECK(r.error[0] != '\0');

    fake_gateway_t s;
    REQUIRE(fake_gateway_start(&s, NULL));
    command_http(&(command_http_request_t){.path = "/healthz", .timeout_ms = 200}, &r);
    CHECK(!r.complete);
    CHECK_INT(r.status, ==, 0);
    CHECK(strstr(r.error, "imeout") != NULL || strstr(r.error, "timed out") != NULL);
    fake_gateway_stop(&s);
}

TEST(error_messages_in_either_api_shape) {
    cJSON *ollama = cJSON_Parse("{\"error\":\"model 'x' not found\"}");
    cJSON *openai = cJSON_Parse("{\"error\":{\"message\":\"bad key\",\"type\":\"x\"}}");
    cJSON *other = cJSON_Parse("{\"status\":\"ok\"}");
    CHECK_STR(command_http_error(ollama), "model 'x' not found");
    CHECK_STR(command_http_error(openai), "bad key");
    CHECK(command_http_error(other) == NULL);
    CHECK(command_http_error(NULL) == NULL);
    cJSON_Delete(ollama);
    cJSON_Delete(openai);
    cJSON_Delete(other);
}

TEST_MAIN(TEST_CASE(a_get_collects_the_body_and_its_status),
          TEST_CASE(a_post_carries_its_headers_and_streams_the_answer),
          TEST_CASE(no_gateway_and_a_silent_gateway_are_incomplete),
          TEST_CASE(error_messages_in_either_api_shape))
