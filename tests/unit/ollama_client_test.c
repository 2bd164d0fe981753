/*
 * Tests of proto/ollama/client: a bad OLLAMA_HOST refused, Ollama's error answers, and
 * calls against a tiny HTTP server run by the test in a thread of its own.
 * The server answers every GET with a fixed body (or, held, answers
 * nothing), and counts the connections it accepted and the ones its peer
 * closed, so connection reuse, cancellation from another thread and the
 * deadline can be checked.
 */
#include "proto/ollama/client.h"
#include "tests/test.h"
#include "proto/base/clock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- OLLAMA_HOST (how it is read: ollama_url_test) ---- */

TEST(bad_hosts_are_refused) {
    char err[256] = "";
    ollama_t *o = ollama_new("ftp://h", "lca-test", err, sizeof err);
    CHECK(o == NULL);
    CHECK(strstr(err, "bad Ollama address \"ftp://h\"") != NULL);
}

/* ---- a tiny HTTP server ---- */

typedef struct {
    int listen_fd, port, wake[2];
    bool hold; /* never answer */
    pthread_t thread;
    atomic_int accepted, closed;
    atomic_llong closed_at_ms; /* clock_ms() of the last close seen */
} server_t;

static const char answer[] = "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\n"
                             "Content-Length: 13\r\n\r\n{\"done\":true}";

static void *server_run(void *arg) {
    server_t *s = arg;
    struct pollfd fds[18];
    char pending[16][2048];
    size_t pending_len[16] = {0};
    int nconns = 0;
    int conn_fd[16];
    for (;;) {
        fds[0] = (struct pollfd){.fd = s->wake[0], .events = POLLIN};
        fds[1] = (struct pollfd){.fd = s->listen_fd, .events = POLLIN};
        for (int i = 0; i < nconns; i++)
            fds[2 + i] = (struct pollfd){.fd = conn_fd[i], .events = POLLIN};
        if (poll(fds, (nfds_t)(2 + nconns), -1) < 0)
            continue;
        if (fds[0].revents)
            break;
        if ((fds[1].revents & POLLIN) && nconns < 16) {
            int fd = accept(s->listen_fd, NULL, NULL);
            if (fd >= 0) {
                pending_len[nconns] = 0;
                conn_fd[nconns++] = fd;
                atomic_fetch_add(&s->accepted, 1);
            }
        }
        for (int i = 0; i < nconns; i++) {
            if (!fds[2 + i].revents)
                continue;
            ssize_t k =
                read(conn_fd[i], pending[i] + pending_len[i], sizeof pending[i] - pending_len[i]);
            if (k <= 0) {
                close(conn_fd[i]);
                atomic_store(&s->closed_at_ms, clock_ms());
                atomic_fetch_add(&s->closed, 1);
                conn_fd[i] = conn_fd[nconns - 1];
                pending_len[i] = pending_len[nconns - 1];
                memcpy(pending[i], pending[nconns - 1], pending_len[i]);
                nconns--;
                break; /* fds[] no longer matches; poll again */
            }
            pending_len[i] += (size_t)k;
            char *end = memmem(pending[i], pending_len[i], "\r\n\r\n", 4);
            if (end && !s->hold) {
                size_t used = (size_t)(end + 4 - pending[i]);
                memmove(pending[i], pending[i] + used, pending_len[i] - used);
                pending_len[i] -= used;
                if (write(conn_fd[i], answer, sizeof answer - 1) < 0)
                    break;
            }
        }
    }
    for (int i = 0; i < nconns; i++)
        close(conn_fd[i]);
    return NULL;
}

static bool server_start(server_t *s, bool hold) {
    memset(s, 0, sizeof *s);
    s->hold = hold;
    s->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (s->listen_fd < 0 || bind(s->listen_fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(s->listen_fd, 16) != 0 ||
        getsockname(s->listen_fd, (struct sockaddr *)&a, &len) != 0 || pipe(s->wake) != 0)
        return false;
    s->port = ntohs(a.sin_port);
    return pthread_create(&s->thread, NULL, server_run, s) == 0;
}

static void server_stop(server_t *s) {
    if (write(s->wake[1], "x", 1) != 1)
        return;
    pthread_join(s->thread, NULL);
    close(s->wake[0]);
    close(s->wake[1]);
    close(s->listen_fd);
}

/* ---- calls ---- */

typedef struct {
    char body[256];
    size_t len;
} collected_t;

static int collect(void *arg, const char *data, size_t len) {
    collected_t *c = arg;
    size_t room = sizeof c->body - 1 - c->len;
    size_t n = len < room ? len : room;
    memcpy(c->body + c->len, data, n);
    c->len += n;
    c->body[c->len] = '\0';
    return 0;
}

static ollama_t *client_for(int port) {
    char host[64], err[256];
    snprintf(host, sizeof host, "127.0.0.1:%d", port);
    ollama_t *o = ollama_new(host, "lca-test", err, sizeof err);
    if (!o)
        fprintf(stderr, "  %s\n", err);
    return o;
}

TEST(calls_reuse_the_threads_connection) {
    server_t s;
    REQUIRE(server_start(&s, false));
    ollama_t *o = client_for(s.port);
    REQUIRE(o);
    for (int i = 0; i < 3; i++) {
        collected_t c = {0};
        ollama_call_t *call = ollama_call_new(o, &(ollama_request_t){.method = "GET",
                                                                     .path = "/api/ps",
                                                                     .timeout_ms = 5000,
                                                                     .on_body = collect,
                                                                     .arg = &c});
        REQUIRE(call);
        CHECK_INT(ollama_call_run(call), ==, 0);
        CHECK_INT(ollama_call_status(call), ==, 200);
        CHECK_STR(ollama_call_content_type(call), "application/x-ndjson");
        CHECK_STR(c.body, "{\"done\":true}");
        CHECK_INT(ollama_call_first_byte_ms(call), >=, 0);
        ollama_call_destroy(&call);
        CHECK(call == NULL);
    }
    CHECK_INT(atomic_load(&s.accepted), ==, 1);
    ollama_destroy(&o);
    server_stop(&s);
}

typedef struct {
    ollama_call_t *call;
    int after_ms;
} canceller_t;

static void *cancel_later(void *arg) {
    canceller_t *c = arg;
    struct timespec ts = {0, (long)c->after_ms * 1000000L};
    nanosleep(&ts, NULL);
    ollama_call_cancel(c->call);
    ollama_call_cancel(c->call); /* twice is harmless */
    return NULL;
}

TEST(cancel_from_another_thread_closes_the_connection_at_once) {
    server_t s;
    REQUIRE(server_start(&s, true));
    ollama_t *o = client_for(s.port);
    REQUIRE(o);
    ollama_call_t *call = ollama_call_new(
        o, &(ollama_request_t){.method = "GET", .path = "/api/chat", .timeout_ms = 10000});
    REQUIRE(call);
    canceller_t c = {call, 50};
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, cancel_later, &c) == 0);
    int64_t start = clock_ms();
    CHECK_INT(ollama_call_run(call), ==, -ECANCELED);
    int64_t took = clock_ms() - start;
    pthread_join(t, NULL);
    CHECK_INT(took, <, 300); /* not libcurl's 1 s tick */
    /* The server sees the connection closed. */
    int64_t until = clock_ms() + 1000;
    while (atomic_load(&s.closed) == 0 && clock_ms() < until)
        poll(NULL, 0, 2);
    CHECK_INT(atomic_load(&s.closed), ==, 1);
    printf("# cancel returned after %lld ms, connection closed %lld ms after start\n",
           (long long)took, (long long)(atomic_load(&s.closed_at_ms) - start));
    ollama_call_destroy(&call);
    ollama_destroy(&o);
    server_stop(&s);
}

TEST(a_call_cancelled_before_it_runs_does_not_connect) {
    server_t s;
    REQUIRE(server_start(&s, false));
    ollama_t *o = client_for(s.port);
    REQUIRE(o);
    ollama_call_t *call =
        ollama_call_new(o, &(ollama_request_t){.method = "GET", .path = "/", .timeout_ms = 1000});
    REQUIRE(call);
    ollama_call_cancel(call);
    CHECK_INT(ollama_call_run(call), ==, -ECANCELED);
    CHECK_INT(atomic_load(&s.accepted), ==, 0);
    ollama_call_destroy(&call);
    ollama_destroy(&o);
    server_stop(&s);
}

TEST(the_deadline_ends_a_silent_call) {
    server_t s;
    REQUIRE(server_start(&s, true));
    ollama_t *o = client_for(s.port);
    REQUIRE(o);
    ollama_call_t *call = ollama_call_new(o, &(ollama_request_t){.method = "POST",
                                                                 .path = "/api/generate",
                                                                 .body = "{}",
                                                                 .body_len = 2,
                                                                 .timeout_ms = 200});
    REQUIRE(call);
    int64_t start = clock_ms();
    CHECK_INT(ollama_call_run(call), ==, -ETIMEDOUT);
    int64_t took = clock_ms() - start;
    CHECK_INT(took, >=, 190);
    CHECK_INT(took, <, 600);
    /* Ollama got the request and said nothing: a retry would wait as long. */
    CHECK(ollama_call_timed_out(call));
    CHECK(ollama_call_sent(call));
    ollama_call_destroy(&call);
    ollama_destroy(&o);
    server_stop(&s);
}

TEST(a_closed_port_is_not_reachable) {
    server_t s;
    REQUIRE(server_start(&s, false));
    int port = s.port;
    server_stop(&s); /* nothing listens there now */
    ollama_t *o = client_for(port);
    REQUIRE(o);
    ollama_call_t *call =
        ollama_call_new(o, &(ollama_request_t){.method = "GET", .path = "/", .timeout_ms = 2000});
    REQUIRE(call);
    CHECK_INT(ollama_call_run(call), ==, -ECONNREFUSED);
    CHECK_INT(ollama_call_status(call), ==, 0);
    CHECK(ollama_call_error(call)[0] != '\0');
    CHECK(!ollama_call_sent(call));
    CHECK(!ollama_call_timed_out(call));
    ollama_call_destroy(&call);
    CHECK(ollama_call_new(o, &(ollama_request_t){.method = "PUT", .path = "/"}) == NULL);
    ollama_destroy(&o);
    ollama_destroy(&o); /* accepts NULL */
}

TEST(error_answers_say_what_ollama_said) {
    char out[64];
    CHECK(ollama_error_text("{\"error\":\"model 'x' not found\"}", 32, out, sizeof out));
    CHECK_STR(out, "model 'x' not found");
    const char *openai = "{\"error\":{\"message\":\"bad request\",\"type\":\"x\"}}";
    CHECK(ollama_error_text(openai, strlen(openai), out, sizeof out));
    CHECK_STR(out, "bad request");
    const char *html = "\n  <html>502 Bad Gateway\t</html>\r\nmore";
    CHECK(ollama_error_text(html, strlen(html), out, sizeof out));
    CHECK_STR(out, "<html>502 Bad Gateway </html>");
    CHECK(!ollama_error_text("{\"status\":\"x\"}", 14, out, sizeof out));
    CHECK_STR(out, "");
    CHECK(!ollama_error_text("", 0, out, sizeof out));
    CHECK(!ollama_error_text(NULL, 0, out, sizeof out));
    char tiny[4];
    CHECK(ollama_error_text("{\"error\":\"abcdef\"}", 18, tiny, sizeof tiny));
    CHECK_STR(tiny, "abc");
}

TEST_MAIN(TEST_CASE(bad_hosts_are_refused), TEST_CASE(calls_reuse_the_threads_connection),
          TEST_CASE(cancel_from_another_thread_closes_the_connection_at_once),
          TEST_CASE(a_call_cancelled_before_it_runs_does_not_connect),
          TEST_CASE(the_deadline_ends_a_silent_call), TEST_CASE(a_closed_port_is_not_reachable),
          TEST_CASE(error_answers_say_what_ollama_said))
