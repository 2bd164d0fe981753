/*
 * Tests of deploy/http, the `lca` subcommands' client of the gateway,
 * against a one-request HTTP server run by the test on a thread: the URL
 * from LCA_URL or LCA_PORT, the headers a request carries, a body collected
 * or streamed piece by piece with its status, header lines, a gateway that
 * is not there and one that does not answer in time.
 */
#include "deploy/http.h"
#include "tests/test.h"

#include <arpa/inet.h>
#include <cJSON.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>

/* Serves one connection: reads the request, writes `response` (NULL: says
 * nothing until the client goes). */
typedef struct {
    int listen_fd, port;
    const char *response;
    char request[4096]; /* what arrived, NUL-terminated */
    pthread_t thread;
} server_t;

static void *serve(void *arg) {
    server_t *s = arg;
    int fd = accept(s->listen_fd, NULL, NULL);
    size_t len = 0;
    while (fd >= 0 && len + 1 < sizeof s->request) {
        ssize_t n = read(fd, s->request + len, sizeof s->request - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        s->request[len] = '\0';
        const char *end = strstr(s->request, "\r\n\r\n");
        const char *length = strstr(s->request, "Content-Length: ");
        size_t body = length ? (size_t)atol(length + 16) : 0;
        if (end && len >= (size_t)(end + 4 - s->request) + body)
            break;
    }
    if (fd >= 0 && s->response && write(fd, s->response, strlen(s->response)) < 0)
        perror("write");
    char sink[256];
    while (fd >= 0 && !s->response && read(fd, sink, sizeof sink) > 0)
        ; /* held: wait for the client to give up */
    if (fd >= 0)
        close(fd);
    return NULL;
}

static bool server_start(server_t *s, const char *response) {
    memset(s, 0, sizeof *s);
    s->response = response;
    s->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    if (s->listen_fd < 0 || bind(s->listen_fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(s->listen_fd, 1) != 0 || getsockname(s->listen_fd, (struct sockaddr *)&a, &alen))
        return false;
    s->port = ntohs(a.sin_port);
    char port[16];
    snprintf(port, sizeof port, "%d", s->port);
    setenv("LCA_PORT", port, 1);
    unsetenv("LCA_URL");
    return pthread_create(&s->thread, NULL, serve, s) == 0;
}

static void server_stop(server_t *s) {
    pthread_join(s->thread, NULL);
    close(s->listen_fd);
}

TEST(a_get_collects_the_body_and_its_status) {
    server_t s;
    REQUIRE(server_start(&s, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 21\r\n"
                             "Connection: close\r\n\r\n{\"status\":\"starting\"}"));
    unsetenv("LCA_API_KEY");
    buf_t answer = BUF_INIT;
    command_http_result_t r;
    command_http(
        &(command_http_request_t){.path = "/healthz", .timeout_ms = 5000, .answer = &answer}, &r);
    server_stop(&s);
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
    server_t s;
    REQUIRE(server_start(&s, "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\n"
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
    server_stop(&s);
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
    /* A port nobody listens on: bound once, closed again. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    REQUIRE(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
            getsockname(fd, (struct sockaddr *)&a, &alen) == 0);
    char port[16];
    snprintf(port, sizeof port, "%d", ntohs(a.sin_port));
    close(fd);
    setenv("LCA_PORT", port, 1);
    unsetenv("LCA_URL");
    command_http_result_t r;
    command_http(&(command_http_request_t){.path = "/healthz", .timeout_ms = 2000}, &r);
    CHECK(!r.complete);
    CHECK_INT(r.status, ==, 0);
    CHECK(r.error[0] != '\0');

    server_t s;
    REQUIRE(server_start(&s, NULL));
    command_http(&(command_http_request_t){.path = "/healthz", .timeout_ms = 200}, &r);
    CHECK(!r.complete);
    CHECK_INT(r.status, ==, 0);
    CHECK(strstr(r.error, "imeout") != NULL || strstr(r.error, "timed out") != NULL);
    server_stop(&s);
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
