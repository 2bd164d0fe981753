/*
 * Tests of embedder/ollama against a small HTTP/1.1 server the test runs in
 * a thread of its own: it answers POST /api/embed with generated vectors or
 * with the failure a test asks for (error statuses, dropped connections,
 * silence, malformed JSON, a dimension that changes), and counts requests
 * and connections so batching, retries and connection reuse can be checked.
 */
#include "embedder/backend.h"
#include "embedder/ollama.h"
#include "tests/test.h"

#include <arpa/inet.h>
#include <cJSON.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CONNS 16
#define REQUEST_MAX (1 << 20)

/* ---- the fake server ---- */

typedef struct {
    int fd;     /* -1 = free */
    char *buf;  /* bytes received and not yet handled */
    size_t len; /* bytes in buf */
    bool held;  /* a request on it is never answered */
} conn_t;

typedef struct {
    /* behaviour, set before fake_start */
    int dim;                   /* length of generated vectors */
    int dim_later;             /* from request number switch_at on, this length (0 = no) */
    int switch_at;             /* see dim_later */
    int fail_first;            /* the first fail_first requests fail with fail_status */
    int fail_status;           /* HTTP status of those, 0 = close without answering */
    const char *fail_body;     /* body of those */
    int fixed_status;          /* if non-zero, every request gets this status ... */
    const char *fixed_body;    /* ... and this body */
    bool hold;                 /* never answer */
    ollama_embedder_t *cancel; /* cancel this embedder when a request arrives, and hold */
    /* state */
    int listen_fd, port, wake[2];
    pthread_t thread;
    conn_t conns[MAX_CONNS];
    atomic_int requests;    /* complete requests received */
    atomic_int connections; /* connections accepted */
    char last_body[8192];   /* start of the last request body */
    char first_input[256];  /* input[0] of the last request, decoded */
    char path[128];         /* request line of the last request */
} fake_t;

static void write_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k <= 0)
            return;
        p += k, n -= (size_t)k;
    }
}

static void reply(int fd, int status, const char *body) {
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n",
                     status, strlen(body));
    write_all(fd, head, (size_t)n);
    write_all(fd, body, strlen(body));
}

/* Answers one request with generated vectors: row i = [bytes of input i,
 * request number, 0.5, 0.5, ...]. */
static void reply_vectors(fake_t *f, int fd, const char *body, size_t len, int number) {
    cJSON *root = cJSON_ParseWithLength(body, len);
    const cJSON *input = cJSON_GetObjectItemCaseSensitive(root, "input");
    int dim = f->dim_later && number >= f->switch_at ? f->dim_later : f->dim;
    cJSON *out = cJSON_CreateObject();
    cJSON *rows = cJSON_AddArrayToObject(out, "embeddings");
    cJSON_AddStringToObject(out, "model", "fake");
    const cJSON *item;
    bool first = true;
    cJSON_ArrayForEach(item, input) {
        if (first && cJSON_IsString(item))
            snprintf(f->first_input, sizeof f->first_input, "%s", item->valuestring);
        first = false;
        cJSON *row = cJSON_CreateArray();
        for (int d = 0; d < dim; d++) {
            double v = d == 0   ? (double)(cJSON_IsString(item) ? strlen(item->valuestring) : 0)
                       : d == 1 ? number
                                : 0.5;
            cJSON_AddItemToArray(row, cJSON_CreateNumber(v));
        }
        cJSON_AddItemToArray(rows, row);
    }
    char *text = cJSON_PrintUnformatted(out);
    reply(fd, input ? 200 : 400, input ? text : "{\"error\":\"no input\"}");
    free(text);
    cJSON_Delete(out);
    cJSON_Delete(root);
}

/* Handles the request at the head of c->buf if complete; false = close c. */
static bool handle(fake_t *f, conn_t *c) {
    for (;;) {
        char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
        if (!end)
            return true;
        size_t head = (size_t)(end - c->buf) + 4, body_len = 0;
        for (char *line = c->buf; line < end; line = strstr(line, "\r\n") + 2) {
            if (strncasecmp(line, "Content-Length:", 15) == 0)
                body_len = strtoul(line + 15, NULL, 10);
        }
        if (c->len < head + body_len)
            return true;
        int number = atomic_fetch_add(&f->requests, 1) + 1;
        const char *body = c->buf + head;
        snprintf(f->path, sizeof f->path, "%.*s", (int)strcspn(c->buf, "\r"), c->buf);
        snprintf(f->last_body, sizeof f->last_body, "%.*s", (int)body_len, body);
        if (f->cancel) {
            ollama_embedder_cancel(f->cancel);
            c->held = true;
        } else if (f->hold) {
            c->held = true;
        } else if (number <= f->fail_first) {
            if (f->fail_status == 0)
                return false;
            reply(c->fd, f->fail_status, f->fail_body ? f->fail_body : "");
        } else if (f->fixed_status) {
            reply(c->fd, f->fixed_status, f->fixed_body);
        } else {
            reply_vectors(f, c->fd, body, body_len, number);
        }
        memmove(c->buf, c->buf + head + body_len, c->len - head - body_len);
        c->len -= head + body_len;
    }
}

static void conn_close(conn_t *c) {
    close(c->fd);
    free(c->buf);
    *c = (conn_t){.fd = -1};
}

static void *fake_run(void *arg) {
    fake_t *f = arg;
    for (;;) {
        struct pollfd pfd[MAX_CONNS + 2];
        int map[MAX_CONNS + 2], n = 0;
        pfd[n] = (struct pollfd){.fd = f->wake[0], .events = POLLIN}, map[n++] = -2;
        pfd[n] = (struct pollfd){.fd = f->listen_fd, .events = POLLIN}, map[n++] = -1;
        for (int i = 0; i < MAX_CONNS; i++)
            if (f->conns[i].fd >= 0)
                pfd[n] = (struct pollfd){.fd = f->conns[i].fd, .events = POLLIN}, map[n++] = i;
        if (poll(pfd, (nfds_t)n, -1) < 0)
            continue;
        if (pfd[0].revents)
            break;
        if (pfd[1].revents & POLLIN) {
            int fd = accept(f->listen_fd, NULL, NULL);
            int slot = -1;
            for (int i = 0; i < MAX_CONNS && fd >= 0 && slot < 0; i++)
                if (f->conns[i].fd < 0)
                    slot = i;
            if (slot < 0) {
                if (fd >= 0)
                    close(fd);
            } else {
                f->conns[slot] = (conn_t){.fd = fd, .buf = malloc(REQUEST_MAX)};
                atomic_fetch_add(&f->connections, 1);
            }
        }
        for (int k = 2; k < n; k++) {
            if (!pfd[k].revents)
                continue;
            conn_t *c = &f->conns[map[k]];
            ssize_t got =
                c->len < REQUEST_MAX ? read(c->fd, c->buf + c->len, REQUEST_MAX - c->len) : 0;
            if (got <= 0) {
                conn_close(c);
                continue;
            }
            c->len += (size_t)got;
            if (!c->held && !handle(f, c))
                conn_close(c);
        }
    }
    for (int i = 0; i < MAX_CONNS; i++)
        if (f->conns[i].fd >= 0)
            conn_close(&f->conns[i]);
    return NULL;
}

/* Starts f (behaviour fields already set) on a free port of 127.0.0.1. */
static bool fake_start(fake_t *f) {
    for (int i = 0; i < MAX_CONNS; i++)
        f->conns[i].fd = -1;
    f->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof addr;
    if (f->listen_fd < 0 || bind(f->listen_fd, (struct sockaddr *)&addr, sizeof addr) != 0 ||
        listen(f->listen_fd, 16) != 0 ||
        getsockname(f->listen_fd, (struct sockaddr *)&addr, &alen) != 0 || pipe(f->wake) != 0)
        return false;
    f->port = ntohs(addr.sin_port);
    return pthread_create(&f->thread, NULL, fake_run, f) == 0;
}

static void fake_stop(fake_t *f) {
    write_all(f->wake[1], "x", 1);
    pthread_join(f->thread, NULL);
    close(f->listen_fd);
    close(f->wake[0]);
    close(f->wake[1]);
}

/* An embedder for the fake at f->port with fast retries. */
static ollama_embedder_t *embedder_for(const fake_t *f, size_t batch, unsigned attempts, char *err,
                                       size_t errlen) {
    char host[64];
    snprintf(host, sizeof host, "127.0.0.1:%d", f->port);
    ollama_embedder_config_t config = {
        .model = "m", .host = host, .batch = batch, .attempts = attempts, .backoff_ms = 1};
    return ollama_embedder_new(&config, err, errlen);
}

/* ---- tests ---- */

TEST(batches_reuse_one_connection) {
    fake_t f = {.dim = 4};
    REQUIRE(fake_start(&f));
    char err[512] = "";
    ollama_embedder_t *o = embedder_for(&f, 3, 1, err, sizeof err);
    REQUIRE(o);
    size_t dim = 0;
    CHECK_INT(ollama_embedder_dim(o, &dim, err, sizeof err), ==, 0);
    CHECK_INT(dim, ==, 4);
    CHECK_INT(atomic_load(&f.requests), ==, 1);
    /* asking again costs nothing */
    CHECK_INT(ollama_embedder_dim(o, &dim, err, sizeof err), ==, 0);
    CHECK_INT(atomic_load(&f.requests), ==, 1);

    const char *texts[] = {"a", "bb", "", "dddd", "eeeee", "ffffff", "ggggggg"};
    size_t lens[] = {1, 2, 0, 4, 5, 6, 7};
    float out[7 * 4];
    memset(out, 0xff, sizeof out);
    CHECK_INT(ollama_embedder_embed(o, OLLAMA_DOCUMENT, texts, lens, 7, out, err, sizeof err), ==,
              0);
    /* 6 non-empty texts in batches of 3: two requests after the probe */
    CHECK_INT(atomic_load(&f.requests), ==, 3);
    CHECK_INT(atomic_load(&f.connections), ==, 1);
    for (int i = 0; i < 7; i++) {
        CHECK(out[i * 4] == (float)lens[i]);
        if (i != 2)
            CHECK(out[i * 4 + 2] == 0.5f);
    }
    CHECK(out[0 * 4 + 1] == 2.0f && out[3 * 4 + 1] == 2.0f); /* second request */
    CHECK(out[4 * 4 + 1] == 3.0f && out[6 * 4 + 1] == 3.0f); /* third request */
    for (int d = 0; d < 4; d++)
        CHECK(out[2 * 4 + d] == 0.0f); /* the empty text: zero row, not sent */
    CHECK_STR(f.path, "POST /api/embed HTTP/1.1");
    CHECK(strstr(f.last_body, "\"model\":\"m\"") != NULL);
    CHECK(strstr(f.last_body, "\"truncate\":true") != NULL);
    CHECK(strstr(f.last_body, "\"input\":[\"eeeee\",\"ffffff\",\"ggggggg\"]") != NULL);

    /* nothing to do: no request */
    CHECK_INT(ollama_embedder_embed(o, OLLAMA_DOCUMENT, texts, lens, 0, out, err, sizeof err), ==,
              0);
    CHECK_INT(
        ollama_embedder_embed(o, OLLAMA_DOCUMENT, texts + 2, lens + 2, 1, out, err, sizeof err), ==,
        0);
    CHECK_INT(atomic_load(&f.requests), ==, 3);
    CHECK_INT(ollama_embedder_embed(o, OLLAMA_DOCUMENT, texts, NULL, 1, out, err, sizeof err), ==,
              -EINVAL);
    ollama_embedder_destroy(&o);
    CHECK(o == NULL);
    fake_stop(&f);
}

TEST(embed_probes_dimension_when_not_asked) {
    fake_t f = {.dim = 8};
    REQUIRE(fake_start(&f));
    char err[512];
    ollama_embedder_t *o = embedder_for(&f, 0, 1, err, sizeof err);
    REQUIRE(o);
    const char *text = "hello";
    size_t len = 5;
    float out[8];
    CHECK_INT(ollama_embedder_embed(o, OLLAMA_DOCUMENT, &text, &len, 1, out, err, sizeof err), ==,
              0);
    CHECK_INT(atomic_load(&f.requests), ==, 2);
    CHECK(out[0] == 5.0f);
    ollama_embedder_destroy(&o);
    fake_stop(&f);
}

TEST(server_errors_are_retried) {
    fake_t f = {.dim = 4, .fail_first = 2, .fail_status = 503, .fail_body = "{\"error\":\"busy\"}"};
    REQUIRE(fake_start(&f));
    char err[512] = "";
    ollama_embedder_t *o = embedder_for(&f, 0, 3, err, sizeof err);
    REQUIRE(o);
    size_t dim = 0;
    CHECK_INT(ollama_embedder_dim(o, &dim, err, sizeof err), ==, 0);
    CHECK_INT(dim, ==, 4);
    CHECK_INT(atomic_load(&f.requests), ==, 3);
    ollama_embedder_destroy(&o);

    /* more failures than attempts: the last one is reported */
    atomic_store(&f.requests, 0);
    f.fail_first = 10;
    o = embedder_for(&f, 0, 2, err, sizeof err);
    REQUIRE(o);
    CHECK_INT(ollama_embedder_dim(o, &dim, err, sizeof err), ==, -EIO);
    CHECK_INT(dim, ==, 0);
    CHECK_INT(atomic_load(&f.requests), ==, 2);
    CHECK(strstr(err, "HTTP 503") != NULL);
    CHECK(strstr(err, "busy") != NULL);
    ollama_embedder_destroy(&o);
    fake_stop(&f);
}

TEST(dropped_connections_are_retried) {
    fake_t f = {.dim = 4, .fail_first = 2, .fail_status = 0};
    REQUIRE(fake_start(&f));
    char err[512] = "";
    ollama_embedder_t *o = embedder_for(&f, 0, 3, err, sizeof err);
    REQUIRE(o);
    size_t dim = 0;
    CHECK_INT(ollama_embedder_dim(o, &dim, err, sizeof err), ==, 0);
    if (dim != 4)
        fprintf(stderr, "  err: %s\n", err);
    CHECK_INT(dim, ==, 4);
    CHECK_INT(atomic_load(&f.requests), ==, 3);
    CHECK_INT(atomic_load(&f.connections), ==, 3);
    ollama_embedder_destroy(&o);
    fake_stop(&f);
}

TEST(model_not_found) {
    fake_t f = {.fixed_status = 404,
                .fixed_body = "{\"error\":\"model \\\"nope\\\" not found, try pulling it first\"}"};
    REQUIRE(fake_start(&f));
    char err[512] = "";
    ollama_embedder_t *o = embedder_for(&f, 0, 4, err, sizeof err);
    REQUIRE(o);
    size_t dim = 0;
    CHECK_INT(ollama_embedder_dim(o, &dim, err, sizeof err), ==, -ENOENT);
    CHECK(strstr(err, "model \"nope\" not found, try pulling it first") != NULL);
    CHECK(strstr(err, "ollama pull m") != NULL);
    CHECK_INT(atomic_load(&f.requests), ==, 1); /* not retried */
    ollama_embedder_destroy(&o);
    fake_stop(&f);
}

TEST(other_refusals_pass_through) {
    fake_t f = {.fixed_status = 400,
                .fixed_body = "{\"error\":\"this model does not support "
                              "embeddings\"}"};
    REQUIRE(fake_start(&f));
    char err[512] = "";
    ollama_embedder_t *o = embedder_for(&f, 0, 4, err, sizeof err);
    REQUIRE(o);
    size_t dim = 0;
    CHECK_INT(ollama_embedder_dim(o, &dim, err, sizeof err), ==, -EINVAL);
    CHECK(strstr(err, "HTTP 400: this model does not support embeddings") != NULL);
    CHECK_INT(atomic_load(&f.requests), ==, 1);
    ollama_embedder_destroy(&o);

    /* a server without /api/embed (old Ollama, or not Ollama) */
    f.fixed_status = 404, f.fixed_body = "404 page not found";
    o = embedder_for(&f, 0, 4, err, sizeof err);
    REQUIRE(o);
    CHECK_INT(ollama_embedder_dim(o, &dim, err, sizeof err), ==, -EINVAL);
    CHECK(strstr(err, "no /api/embed") != NULL);
    ollama_embedder_destroy(&o);
    fake_stop(&f);
}

TEST(not_reachable) {
    /* a port nobody listens on: bind, note it, close */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof addr;
    REQUIRE(fd >= 0 && bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0 &&
            getsockname(fd, (struct sockaddr *)&addr, &alen) == 0);
    fake_t f = {.port = ntohs(addr.sin_port)};
    close(fd);
    char err[512] = "", expect[128];
    ollama_embedder_t *o = embedder_for(&f, 0, 2, err, sizeof err);
    REQUIRE(o);
    size_t dim = 7;
    CHECK_INT(ollama_embedder_dim(o, &dim, err, sizeof err), ==, -ECONNREFUSED);
    CHECK_INT(dim, ==, 0);
    snprintf(expect, sizeof expect, "Ollama not reachable at http://127.0.0.1:%d", f.port);
    CHECK(strstr(err, expect) != NULL);
    CHECK(strstr(err, "ollama serve") != NULL);
    CHECK(strstr(err, "OLLAMA_HOST") != NULL);
    const char *text = "x";
    size_t len = 1;
    float out[4];
    CHECK_INT(ollama_embedder_embed(o, OLLAMA_DOCUMENT, &text, &len, 1, out, err, sizeof err), ==,
              -ECONNREFUSED);
    ollama_embedder_destroy(&o);
}

TEST(dimension_change_is_an_error) {
    fake_t f = {.dim = 4, .dim_later = 5, .switch_at = 3};
    REQUIRE(fake_start(&f));
    char err[512] = "";
    ollama_embedder_t *o = embedder_for(&f, 1, 1, err, sizeof err);
    REQUIRE(o);
    const char *texts[] = {"one", "two"};
    size_t lens[] = {3, 3};
    float out[2 * 4];
    /* probe (4), first text (4), second text (5) */
    CHECK_INT(ollama_embedder_embed(o, OLLAMA_DOCUMENT, texts, lens, 2, out, err, sizeof err), ==,
              -ERANGE);
    CHECK(strstr(err, "changed from 4 to 5") != NULL);
    size_t dim = 0;
    CHECK_INT(ollama_embedder_dim(o, &dim, err, sizeof err), ==, 0);
    CHECK_INT(dim, ==, 4); /* the first dimension stays the reference */
    ollama_embedder_destroy(&o);
    fake_stop(&f);
}

TEST(malformed_answers) {
    const char *bodies[] = {"not json",
                            "{}",
                            "{\"embeddings\":3}",
                            "{\"embeddings\":[]}",
                            "{\"embeddings\":[[]]}",
                            "{\"embeddings\":[[1,\"x\"]]}",
                            "{\"embeddings\":[[1,2],[3,4]]}",
                            "{\"embeddings\":[7]}"};
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        fake_t f = {.fixed_status = 200, .fixed_body = bodies[i]};
        REQUIRE(fake_start(&f));
        char err[512] = "";
        ollama_embedder_t *o = embedder_for(&f, 0, 3, err, sizeof err);
        REQUIRE(o);
        size_t dim = 0;
        int rc = ollama_embedder_dim(o, &dim, err, sizeof err);
        CHECK_INT(rc, ==, -EBADMSG);
        CHECK(strstr(err, "malformed answer") != NULL);
        CHECK_INT(atomic_load(&f.requests), ==, 1);
        ollama_embedder_destroy(&o);
        fake_stop(&f);
    }
    /* right dimension, wrong number of rows */
    fake_t f = {.fixed_status = 200, .fixed_body = "{\"embeddings\":[[1,2]]}"};
    REQUIRE(fake_start(&f));
    char err[512] = "";
    ollama_embedder_t *o = embedder_for(&f, 0, 1, err, sizeof err);
    REQUIRE(o);
    const char *texts[] = {"one", "two"};
    size_t lens[] = {3, 3};
    float out[2 * 2];
    CHECK_INT(ollama_embedder_embed(o, OLLAMA_DOCUMENT, texts, lens, 2, out, err, sizeof err), ==,
              -EBADMSG);
    CHECK(strstr(err, "with 2 rows") != NULL);
    ollama_embedder_destroy(&o);
    fake_stop(&f);
}

TEST(timeout) {
    fake_t f = {.hold = true};
    REQUIRE(fake_start(&f));
    char host[64], err[512] = "";
    snprintf(host, sizeof host, "http://127.0.0.1:%d", f.port);
    ollama_embedder_config_t config = {
        .model = "m", .host = host, .attempts = 3, .backoff_ms = 1, .timeout_ms = 200};
    ollama_embedder_t *o = ollama_embedder_new(&config, err, sizeof err);
    REQUIRE(o);
    size_t dim;
    CHECK_INT(ollama_embedder_dim(o, &dim, err, sizeof err), ==, -ETIMEDOUT);
    CHECK(strstr(err, "did not answer within 200 ms") != NULL);
    /* a request Ollama received but is slow to answer is not sent again */
    CHECK_INT(atomic_load(&f.requests), ==, 1);
    ollama_embedder_destroy(&o);
    fake_stop(&f);
}

TEST(cancel) {
    fake_t f = {.dim = 4};
    char err[512] = "";
    REQUIRE(fake_start(&f));
    ollama_embedder_t *o = embedder_for(&f, 0, 3, err, sizeof err);
    REQUIRE(o);
    /* the server cancels the call when the request reaches it, then stays silent */
    f.cancel = o;
    size_t dim = 0;
    CHECK_INT(ollama_embedder_dim(o, &dim, err, sizeof err), ==, -ECANCELED);
    CHECK_INT(atomic_load(&f.requests), ==, 1); /* no retry after a cancel */
    /* the next call is not cancelled */
    f.cancel = NULL;
    CHECK_INT(ollama_embedder_dim(o, &dim, err, sizeof err), ==, 0);
    CHECK_INT(dim, ==, 4);
    ollama_embedder_destroy(&o);
    fake_stop(&f);
}

TEST(texts_are_sent_as_valid_utf8) {
    fake_t f = {.dim = 2};
    REQUIRE(fake_start(&f));
    char err[512] = "";
    ollama_embedder_t *o = embedder_for(&f, 0, 1, err, sizeof err);
    REQUIRE(o);
    const char *texts[] = {"a\xff"
                           "b\0c\"q\"\n"};
    size_t lens[] = {9};
    float out[2];
    size_t dim;
    REQUIRE(ollama_embedder_dim(o, &dim, err, sizeof err) == 0);
    CHECK_INT(ollama_embedder_embed(o, OLLAMA_DOCUMENT, texts, lens, 1, out, err, sizeof err), ==,
              0);
    CHECK_STR(f.first_input, "a\xef\xbf\xbd"
                             "b c\"q\"\n");
    ollama_embedder_destroy(&o);
    fake_stop(&f);
}

/* The URL an embedder for host ends up with. */
static const char *url_of(const char *host) {
    static char url[256];
    char err[256];
    ollama_embedder_config_t config = {.model = "m", .host = host};
    ollama_embedder_t *o = ollama_embedder_new(&config, err, sizeof err);
    snprintf(url, sizeof url, "%s", o ? ollama_embedder_url(o) : "(error)");
    ollama_embedder_destroy(&o);
    return url;
}

TEST(host_forms) {
    CHECK_STR(url_of(""), "http://127.0.0.1:11434");
    CHECK_STR(url_of("localhost"), "http://localhost:11434");
    CHECK_STR(url_of("0.0.0.0:8080"), "http://127.0.0.1:8080"); /* a bind address means this host */
    CHECK_STR(url_of("gpu-box:11434/"), "http://gpu-box:11434");
    CHECK_STR(url_of("http://gpu-box"), "http://gpu-box:80");
    CHECK_STR(url_of("https://gpu-box/ollama/"), "https://gpu-box:443/ollama");
    CHECK_STR(url_of("http://10.0.0.5:11434"), "http://10.0.0.5:11434");
    CHECK_STR(url_of("[::1]:5000"), "http://[::1]:5000");
    CHECK_STR(url_of("::1"), "http://[::1]:11434");
    CHECK_STR(url_of(" http://h:1 "), "http://h:1");
    CHECK_STR(url_of("ftp://h"), "(error)");
    char err[256] = "";
    ollama_embedder_config_t config = {.model = "m", .host = "ftp://h"};
    CHECK(ollama_embedder_new(&config, err, sizeof err) == NULL);
    CHECK(strstr(err, "ftp://h") != NULL);
    config.model = NULL;
    CHECK(ollama_embedder_new(&config, err, sizeof err) == NULL);
    CHECK(strstr(err, "no model") != NULL);

    /* no host given: OLLAMA_HOST decides */
    const char *saved = getenv("OLLAMA_HOST");
    char *copy = saved ? strdup(saved) : NULL;
    setenv("OLLAMA_HOST", "example:1234", 1);
    CHECK_STR(url_of(NULL), "http://example:1234");
    unsetenv("OLLAMA_HOST");
    CHECK_STR(url_of(NULL), OLLAMA_EMBEDDER_DEFAULT_HOST);
    if (copy)
        setenv("OLLAMA_HOST", copy, 1);
    free(copy);
}

TEST(loopback_bypasses_proxy) {
    /* an http_proxy that does not exist must not stand between us and a local Ollama */
    fake_t f = {.dim = 4};
    REQUIRE(fake_start(&f));
    const char *names[] = {"http_proxy", "HTTP_PROXY", "no_proxy", "NO_PROXY"};
    char *saved[4];
    for (int i = 0; i < 4; i++) {
        saved[i] = getenv(names[i]) ? strdup(getenv(names[i])) : NULL;
        unsetenv(names[i]);
    }
    setenv("http_proxy", "http://127.0.0.1:9", 1);
    setenv("no_proxy", "example.org", 1);
    char err[512] = "";
    ollama_embedder_t *o = embedder_for(&f, 0, 1, err, sizeof err);
    REQUIRE(o);
    size_t dim = 0;
    CHECK_INT(ollama_embedder_dim(o, &dim, err, sizeof err), ==, 0);
    CHECK_INT(dim, ==, 4);
    ollama_embedder_destroy(&o);
    for (int i = 0; i < 4; i++) {
        if (saved[i])
            setenv(names[i], saved[i], 1);
        else
            unsetenv(names[i]);
        free(saved[i]);
    }
    fake_stop(&f);
}

TEST(through_the_backend_interface) {
    fake_t f = {.dim = 6};
    REQUIRE(fake_start(&f));
    char spec[128], err[512] = "";
    snprintf(spec, sizeof spec, "ollama:nomic-embed-text@127.0.0.1:%d", f.port);
    embed_backend_t *b = embed_backend_new(spec, err, sizeof err);
    REQUIRE(b);
    CHECK_STR(embed_backend_model(b), "ollama:nomic-embed-text");
    CHECK_INT(embed_backend_dim(b, err, sizeof err), ==, 6);
    const char *texts[] = {"abc", "de"};
    size_t lens[] = {3, 2};
    float out[2 * 6];
    /* nomic-embed-text gets its task prefixes: documents ... */
    CHECK_INT(embed_backend_embed(b, texts, lens, 2, out, err, sizeof err), ==, 0);
    CHECK_STR(f.first_input, "search_document: abc");
    CHECK(out[0] == 20.0f && out[6] == 19.0f);
    CHECK(strstr(f.last_body, "\"model\":\"nomic-embed-text\"") != NULL);
    /* ... and queries */
    CHECK_INT(embed_backend_embed_kind(b, EMBED_QUERY, texts, lens, 1, out, err, sizeof err), ==,
              0);
    CHECK_STR(f.first_input, "search_query: abc");
    CHECK_INT(embed_backend_embed_kind(b, (embed_kind_t)7, texts, lens, 1, out, err, sizeof err),
              ==, -EINVAL);
    embed_backend_destroy(&b);
    fake_stop(&f);
}

TEST(task_prefixes) {
    fake_t f = {.dim = 2};
    REQUIRE(fake_start(&f));
    char host[64], err[512] = "";
    snprintf(host, sizeof host, "127.0.0.1:%d", f.port);
    const char *text = "abc";
    size_t len = 3;
    float out[2];
    /* an unknown model: texts as they are */
    ollama_embedder_config_t config = {.model = "all-minilm", .host = host};
    ollama_embedder_t *o = ollama_embedder_new(&config, err, sizeof err);
    REQUIRE(o);
    CHECK_INT(ollama_embedder_embed(o, OLLAMA_QUERY, &text, &len, 1, out, err, sizeof err), ==, 0);
    CHECK_STR(f.first_input, "abc");
    ollama_embedder_destroy(&o);
    /* namespace and tag do not hide a known model */
    config.model = "library/mxbai-embed-large:335m";
    o = ollama_embedder_new(&config, err, sizeof err);
    REQUIRE(o);
    CHECK_INT(ollama_embedder_embed(o, OLLAMA_QUERY, &text, &len, 1, out, err, sizeof err), ==, 0);
    CHECK_STR(f.first_input, "Represent this sentence for searching relevant passages: abc");
    CHECK_INT(ollama_embedder_embed(o, OLLAMA_DOCUMENT, &text, &len, 1, out, err, sizeof err), ==,
              0);
    CHECK_STR(f.first_input, "abc");
    ollama_embedder_destroy(&o);
    /* the config overrides, and "" clears */
    config.model = "nomic-embed-text:latest";
    config.query_prefix = "q> ";
    config.document_prefix = "";
    o = ollama_embedder_new(&config, err, sizeof err);
    REQUIRE(o);
    CHECK_INT(ollama_embedder_embed(o, OLLAMA_QUERY, &text, &len, 1, out, err, sizeof err), ==, 0);
    CHECK_STR(f.first_input, "q> abc");
    CHECK_INT(ollama_embedder_embed(o, OLLAMA_DOCUMENT, &text, &len, 1, out, err, sizeof err), ==,
              0);
    CHECK_STR(f.first_input, "abc");
    ollama_embedder_destroy(&o);
    fake_stop(&f);
}

TEST_MAIN(TEST_CASE(batches_reuse_one_connection), TEST_CASE(embed_probes_dimension_when_not_asked),
          TEST_CASE(server_errors_are_retried), TEST_CASE(dropped_connections_are_retried),
          TEST_CASE(model_not_found), TEST_CASE(other_refusals_pass_through),
          TEST_CASE(not_reachable), TEST_CASE(dimension_change_is_an_error),
          TEST_CASE(malformed_answers), TEST_CASE(timeout), TEST_CASE(cancel),
          TEST_CASE(texts_are_sent_as_valid_utf8), TEST_CASE(host_forms),
          TEST_CASE(loopback_bypasses_proxy), TEST_CASE(through_the_backend_interface),
          TEST_CASE(task_prefixes))
