/*
 * What the unit tests of the `lca` subcommands (deploy/) share: a gateway
 * that answers one connection with a scripted response, run by the test on
 * a thread, and a way to run a subcommand in this process with what it
 * writes on stdout and stderr caught.
 *
 *   fake_gateway_t g;
 *   REQUIRE(fake_gateway_start(&g, "HTTP/1.1 200 OK\r\n...\r\n\r\n{...}"));
 *   output_t out;
 *   int rc = command_run(command_health, (const char *[]){"health", NULL}, &out);
 *   fake_gateway_stop(&g);      ... g.request is what the command sent
 *   ... out.out, out.err ...
 *   output_free(&out);
 *
 * fake_gateway_start points the subcommands at the fake (LCA_PORT, with
 * LCA_URL unset).  A response may come in two parts: the second is written
 * once a condition holds (what the command printed so far, say), so a test
 * can see what a command does between the pieces of a stream.
 */
#ifndef LCA_TEST_COMMAND_H
#define LCA_TEST_COMMAND_H

#include "tests/capture.h"
#include "tests/test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

/* ---- a one-connection gateway ---- */

typedef struct {
    int listen_fd, port;
    const char *response; /* written once the request is in; NULL: nothing until the client goes */
    /* Written after the response once then_when(then_arg) holds (checked
     * every 5 ms for up to 10 s); NULL: none. */
    const char *then;
    bool (*then_when)(void *arg);
    void *then_arg;
    bool then_waited;   /* then_when held before the deadline */
    char request[8192]; /* what arrived, NUL-terminated */
    pthread_t thread;
} fake_gateway_t;

static inline void fake_gateway_write(int fd, const char *text) {
    size_t len = strlen(text), done = 0;
    while (done < len) {
        ssize_t n = write(fd, text + done, len - done);
        if (n <= 0)
            return;
        done += (size_t)n;
    }
}

static inline void *fake_gateway_serve(void *arg) {
    fake_gateway_t *g = arg;
    int fd = accept(g->listen_fd, NULL, NULL);
    size_t len = 0;
    while (fd >= 0 && len + 1 < sizeof g->request) {
        ssize_t n = read(fd, g->request + len, sizeof g->request - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        g->request[len] = '\0';
        const char *end = strstr(g->request, "\r\n\r\n");
        const char *length = strstr(g->request, "Content-Length: ");
        size_t body = length ? (size_t)atol(length + 16) : 0;
        if (end && len >= (size_t)(end + 4 - g->request) + body)
            break;
    }
    if (fd >= 0 && g->response)
        fake_gateway_write(fd, g->response);
    if (fd >= 0 && g->response && g->then) {
        struct timespec nap = {0, 5000000L};
        for (int i = 0; i < 2000 && !g->then_waited; i++) {
            g->then_waited = !g->then_when || g->then_when(g->then_arg);
            if (!g->then_waited)
                nanosleep(&nap, NULL);
        }
        fake_gateway_write(fd, g->then);
    }
    char sink[256];
    while (fd >= 0 && !g->response && read(fd, sink, sizeof sink) > 0)
        ; /* held: wait for the client to give up */
    if (fd >= 0)
        close(fd);
    return NULL;
}

/* Listens on a free loopback port, serves one connection on a thread and
 * points LCA_PORT at it.  Set g->then (and then_when) after this call, or
 * use fake_gateway_start_parts. */
static inline bool fake_gateway_start_parts(fake_gateway_t *g, const char *response,
                                            const char *then, bool (*then_when)(void *),
                                            void *then_arg) {
    memset(g, 0, sizeof *g);
    g->response = response;
    g->then = then;
    g->then_when = then_when;
    g->then_arg = then_arg;
    g->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    if (g->listen_fd < 0 || bind(g->listen_fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(g->listen_fd, 1) != 0 || getsockname(g->listen_fd, (struct sockaddr *)&a, &alen))
        return false;
    g->port = ntohs(a.sin_port);
    char port[16];
    snprintf(port, sizeof port, "%d", g->port);
    setenv("LCA_PORT", port, 1);
    unsetenv("LCA_URL");
    return pthread_create(&g->thread, NULL, fake_gateway_serve, g) == 0;
}

static inline bool fake_gateway_start(fake_gateway_t *g, const char *response) {
    return fake_gateway_start_parts(g, response, NULL, NULL, NULL);
}

/* Waits for the connection to end (the command must have made it). */
static inline void fake_gateway_stop(fake_gateway_t *g) {
    pthread_join(g->thread, NULL);
    close(g->listen_fd);
}

/* Points LCA_PORT at a loopback port nobody listens on (bound once, closed
 * again). */
static inline bool fake_gateway_absent(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    bool ok = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
              getsockname(fd, (struct sockaddr *)&a, &alen) == 0;
    if (fd >= 0)
        close(fd);
    char port[16];
    snprintf(port, sizeof port, "%d", ntohs(a.sin_port));
    setenv("LCA_PORT", port, 1);
    unsetenv("LCA_URL");
    return ok;
}

/* The body of the request g received ("" when none). */
static inline const char *fake_gateway_body(const fake_gateway_t *g) {
    const char *end = strstr(g->request, "\r\n\r\n");
    return end ? end + 4 : "";
}

/* ---- a subcommand's output, caught ---- */

typedef struct {
    capture_t fd[2]; /* fds 1 and 2, meanwhile */
    char *out, *err; /* after output_end: what was written, NUL-terminated */
} output_t;

static inline void output_begin(output_t *o) {
    memset(o, 0, sizeof *o);
    for (int i = 0; i < 2; i++)
        capture_begin(&o->fd[i], i + 1);
}

/* A caught text, or "" when nothing could be caught. */
static inline char *output_text(char *text) {
    return text ? text : strdup("");
}

/* What went to fd (1 or 2) so far, NUL-terminated (the caller frees); it
 * may be read while the command runs (from another thread too).  Only what
 * the command flushed is there. */
static inline char *output_peek(const output_t *o, int fd) {
    return output_text(capture_text(&o->fd[fd - 1]));
}

static inline void output_end(output_t *o) {
    o->out = output_text(capture_end(&o->fd[0]));
    o->err = output_text(capture_end(&o->fd[1]));
}

static inline void output_free(output_t *o) {
    free(o->out);
    free(o->err);
    o->out = o->err = NULL;
}

/* Runs a subcommand (command_ask, ...) on a copy of args (NULL-terminated,
 * the subcommand's name first) with its output caught in *o; returns its
 * exit status. */
static inline int command_run(int (*command)(int, char **), const char *const *args, output_t *o) {
    char *argv[64];
    int argc = 0;
    for (; argc < 63 && args[argc]; argc++)
        argv[argc] = (char *)args[argc];
    argv[argc] = NULL;
    output_begin(o);
    int rc = command(argc, argv);
    output_end(o);
    return rc;
}

/* True when text begins with prefix. */
static inline bool starts_with(const char *text, const char *prefix) {
    return text && strncmp(text, prefix, strlen(prefix)) == 0;
}

/* How many times needle occurs in text. */
static inline int count_of(const char *text, const char *needle) {
    int n = 0;
    for (const char *p = text; p && (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

#endif
