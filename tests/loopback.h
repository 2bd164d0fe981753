/*
 * The gateway inside the test process, and HTTP requests to it that need
 * no network: the broker, workers and bridge of tests/inproc.h, an h2o
 * context on its loop with the gateway's settings, and h2o requests whose
 * connection is this file's own.  What the gateway answers (status and
 * headers on the request, every send h2o is asked to make, and how the
 * response ended) is kept in memory instead of written to a socket, so the
 * unit tests of routes and of the relay read answers as h2o hands them to
 * a connection (before HTTP/1.1's chunked framing).
 *
 *   REQUIRE(loopback_start(2));                  // two retriever shards
 *   inproc_worker(&loopback.s, "generate", 8, generate_worker, NULL);
 *   loopback_req_t *r = loopback_request("POST", "/api/chat", body);
 *   loopback_header_add(r, "accept", "text/event-stream");
 *   loopback_dispatch(r);                        // as h2o would: server.c
 *   CHECK(loopback_wait(r, 5000));               // the response ended
 *   ... r->req.res.status, r->body, loopback_json(r) ...
 *   loopback_free(r);                            // h2o disposes the request
 *
 * loopback_ctx() gives a request's context instead, to call a handler or
 * any function taking one directly.  h2o asks for more output (proceed)
 * after every send that is not the last: on the next loop turn, as it does
 * once a write completed, or, with r->manual set, only when the test calls
 * loopback_proceed().  Each request also has a socket (one end of a socket
 * pair, which http_peer_closed() peeks at); loopback_hang_up() closes the
 * other end: a client that left without h2o noticing.
 *
 * generate_worker() is a scripted "generate" service (the generator's side
 * of the relay): PARTIAL lines, then a FINAL or an ERROR, after a gate the
 * test opens or never (holding until cancelled).  It keeps what reached it,
 * so tests see the request that would have gone to Ollama.  shard_worker()
 * is a scripted retriever shard ("retrieve.<i>"): its list of collections
 * (at once, or when the test releases it), its search answer (or an error,
 * or holding until cancelled), and the search requests it got.
 *
 * A test stops it all with loopback_stop() in its last case; when only some
 * cases ran, an exit handler does.
 */
#ifndef LCA_TEST_LOOPBACK_H
#define LCA_TEST_LOOPBACK_H

#include "gateway/gateway.h"
#include "gateway/http.h"
#include "proto/base/buf.h"
#include "tests/inproc.h"

#include <cJSON.h>
#include <stdatomic.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

extern gateway_t *http_gateway; /* gateway/server.c: the one gateway of the process */

static struct {
    inproc_t s;
    h2o_globalconf_t config;
    h2o_pathconf_t *pathconf;
    h2o_context_t context;
    guard_t guard;
    gateway_t gateway;
    bool started, stopped;
} loopback;

static inline void loopback_stop(void);

/* At exit, when the test did not stop it (only some of its cases ran):
 * before czmq's own exit handler, which waits for every socket to close. */
static inline void loopback_at_exit(void) {
    if (loopback.started && !loopback.stopped)
        loopback_stop();
}

/* Starts the broker, the bridge and a gateway of shards retriever shards,
 * answering generations within 10 s and broker questions within 2 s. */
static inline bool loopback_start(int shards) {
    if (!inproc_start(&loopback.s))
        return false;
    loopback.started = true;
    atexit(loopback_at_exit); /* after czmq's (made with the broker): runs before it */
    h2o_config_init(&loopback.config);
    h2o_hostconf_t *host =
        h2o_config_register_host(&loopback.config, h2o_iovec_init(H2O_STRLIT(HTTP_NO_HOST)), 65535);
    loopback.pathconf = h2o_config_register_path(host, "/", 0);
    /* No output filters (h2o registers HTTP/1.1's chunked framing on every
     * path): what a request keeps is the body as the gateway wrote it. */
    loopback.pathconf->filters.size = 0;
    h2o_context_init(&loopback.context, loopback.s.loop, &loopback.config);
    guard_init(&loopback.guard, "127.0.0.1", NULL, NULL);
    loopback.gateway = (gateway_t){.context = &loopback.context,
                                   .guard = &loopback.guard,
                                   .max_body = 8 << 20,
                                   .max_json_values = GATEWAY_JSON_VALUES_DEFAULT,
                                   .shards = shards,
                                   .request_timeout_ms = 10000,
                                   .status_timeout_ms = 2000,
                                   .version = "0.0.0-test"};
    http_gateway = &loopback.gateway;
    loopback.gateway.bridge = inproc_bridge(&loopback.s);
    if (!loopback.gateway.bridge)
        return false;
    loopback.gateway.collections = collections_cache_new(loopback.gateway.bridge, shards, 2000);
    return loopback.gateway.collections != NULL;
}

/* Forgets the list of collections: the next request that needs it asks
 * the shards again. */
static inline void loopback_collections_reset(void) {
    collections_cache_destroy(&loopback.gateway.collections);
    loopback.gateway.collections =
        collections_cache_new(loopback.gateway.bridge, loopback.gateway.shards, 2000);
}

/* Stops everything loopback_start started (once, at the end). */
static inline void loopback_stop(void) {
    loopback.stopped = true;
    collections_cache_destroy(&loopback.gateway.collections);
    bridge_destroy(&loopback.gateway.bridge);
    inproc_stop(&loopback.s);
}

/* ---- requests ---- */

typedef struct {
    h2o_conn_t conn;
    h2o_ostream_t out;
    h2o_timeout_entry_t proceed; /* the next proceed, when not manual */
    bool manual;                 /* proceed only on loopback_proceed() */
    bool owed;                   /* a send is in progress: h2o owes a proceed */
    int sends;                   /* sends h2o was asked to make */
    bool ended;                  /* the last send came (final or error) */
    bool failed;                 /* ... and it was an error */
    buf_t body;                  /* every byte sent, in order */
    int peer[2];                 /* [0] the request's socket, [1] the client's end */
    h2o_socket_t *sock;
    h2o_req_t req; /* last: it ends in its (large) pool */
} loopback_req_t;

static inline void loopback_proceed(loopback_req_t *r) {
    if (!r->owed)
        return;
    r->owed = false;
    h2o_proceed_response(&r->req);
}

static inline void loopback_on_proceed(h2o_timeout_entry_t *entry) {
    loopback_proceed(H2O_STRUCT_FROM_MEMBER(loopback_req_t, proceed, entry));
}

static inline void loopback_on_send(h2o_ostream_t *self, h2o_req_t *req, h2o_iovec_t *bufs,
                                    size_t n, h2o_send_state_t state) {
    (void)req;
    loopback_req_t *r = H2O_STRUCT_FROM_MEMBER(loopback_req_t, out, self);
    r->sends++;
    for (size_t i = 0; i < n; i++)
        buf_append(&r->body, bufs[i].base, bufs[i].len);
    if (h2o_send_state_is_in_progress(state)) {
        r->owed = true;
        if (!r->manual)
            h2o_timeout_link(loopback.s.loop, &loopback.context.zero_timeout, &r->proceed);
    } else {
        r->ended = true;
        r->failed = state == H2O_SEND_STATE_ERROR;
    }
}

static inline h2o_socket_t *loopback_socket(h2o_conn_t *conn) {
    return H2O_STRUCT_FROM_MEMBER(loopback_req_t, conn, conn)->sock;
}

static inline socklen_t loopback_address(h2o_conn_t *conn, struct sockaddr *sa) {
    (void)conn;
    struct sockaddr_in *in = (struct sockaddr_in *)sa;
    memset(in, 0, sizeof *in);
    in->sin_family = AF_INET;
    in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return sizeof *in;
}

/* A request of an HTTP/1.1 client to 127.0.0.1:11435, as h2o hands one to
 * its handler; body NULL: none. */
static inline loopback_req_t *loopback_request(const char *method, const char *path,
                                               const char *body) {
    static const h2o_conn_callbacks_t callbacks = {.get_sockname = loopback_address,
                                                   .get_peername = loopback_address,
                                                   .get_socket = loopback_socket};
    static uint64_t ids;
    loopback_req_t *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->conn.ctx = &loopback.context;
    r->conn.hosts = loopback.config.hosts;
    r->conn.callbacks = &callbacks;
    r->conn.id = ++ids;
    r->out.do_send = loopback_on_send;
    r->proceed.cb = loopback_on_proceed;
    h2o_init_request(&r->req, &r->conn, NULL);
    h2o_req_t *req = &r->req;
    req->_ostr_top = &r->out;
    req->hostconf = loopback.config.hosts[0];
    req->pathconf = loopback.pathconf;
    req->version = 0x101;
    req->input.method = req->method = h2o_strdup(&req->pool, method, SIZE_MAX);
    req->input.path = req->path = req->path_normalized = h2o_strdup(&req->pool, path, SIZE_MAX);
    req->input.query_at = req->query_at = SIZE_MAX;
    req->input.authority = req->authority = h2o_iovec_init(H2O_STRLIT("127.0.0.1:11435"));
    req->input.scheme = req->scheme = &H2O_URL_SCHEME_HTTP;
    if (body)
        req->entity = h2o_strdup(&req->pool, body, SIZE_MAX);
    r->peer[0] = r->peer[1] = -1;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, r->peer) == 0)
        r->sock = h2o_evloop_socket_create(loopback.s.loop, r->peer[0], H2O_SOCKET_FLAG_DONT_READ);
    return r;
}

/* Adds a request header (name in lower case, as h2o keeps them). */
static inline void loopback_header_add(loopback_req_t *r, const char *name, const char *value) {
    h2o_add_header_by_str(&r->req.pool, &r->req.headers, name, strlen(name), 1, NULL, value,
                          strlen(value));
}

/* Hands the request to the gateway as h2o does (gateway/server.c). */
static inline int loopback_dispatch(loopback_req_t *r) {
    return http_on_request(NULL, &r->req);
}

/* A context for the request, as the server makes one, of API family. */
static inline http_ctx_t *loopback_ctx(loopback_req_t *r, api_family_t family) {
    http_ctx_t *ctx = http_ctx_new(&r->req, &loopback.gateway);
    ctx->family = family;
    snprintf(ctx->rid, sizeof ctx->rid, "t-%llu", (unsigned long long)r->conn.id);
    return ctx;
}

static inline bool loopback_ended(void *r) {
    return ((loopback_req_t *)r)->ended;
}

/* Runs the loop until the response ended, at most timeout_ms. */
static inline bool loopback_wait(loopback_req_t *r, int timeout_ms) {
    return inproc_run_until(&loopback.s, loopback_ended, r, timeout_ms);
}

/* The response header name (any case) as a string in the request's pool,
 * or NULL. */
static inline const char *loopback_response_header(loopback_req_t *r, const char *name) {
    for (size_t i = 0; i < r->req.res.headers.size; i++) {
        const h2o_header_t *h = &r->req.res.headers.entries[i];
        if (h->name->len == strlen(name) && strncasecmp(h->name->base, name, h->name->len) == 0)
            return h2o_strdup(&r->req.pool, h->value.base, h->value.len).base;
    }
    return NULL;
}

/* The body as JSON (caller deletes), NULL when it is not. */
static inline cJSON *loopback_json(const loopback_req_t *r) {
    return r->body.len ? cJSON_ParseWithLength(r->body.data, r->body.len) : NULL;
}

/* The body, "" when empty. */
static inline const char *loopback_body(const loopback_req_t *r) {
    return r->body.len ? r->body.data : "";
}

/* The member of json at a dotted path of names and array indices
 * ("choices.0.delta.content"), or NULL. */
static inline const cJSON *jpath(const cJSON *json, const char *path) {
    char name[128];
    while (json && *path) {
        size_t n = strcspn(path, ".");
        snprintf(name, sizeof name, "%.*s", (int)n, path);
        char *end;
        long index = strtol(name, &end, 10);
        if (cJSON_IsArray(json) && *name && !*end)
            json = cJSON_GetArrayItem(json, (int)index);
        else
            json = cJSON_GetObjectItemCaseSensitive(json, name);
        path += n + (path[n] == '.');
    }
    return json;
}

/* The string at path, or NULL. */
static inline const char *jstr(const cJSON *json, const char *path) {
    return cJSON_GetStringValue(jpath(json, path));
}

/* The number at path, or -12345 (no test expects it). */
static inline double jnum(const cJSON *json, const char *path) {
    const cJSON *v = jpath(json, path);
    return cJSON_IsNumber(v) ? v->valuedouble : -12345;
}

/* The message of an error answer in either family's shape, or NULL. */
static inline const char *loopback_error(const cJSON *json) {
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(json, "error");
    if (cJSON_IsObject(e))
        e = cJSON_GetObjectItemCaseSensitive(e, "message");
    return cJSON_GetStringValue(e);
}

/* The client leaves without a word: its end of the connection closes. */
static inline void loopback_hang_up(loopback_req_t *r) {
    if (r->peer[1] >= 0)
        close(r->peer[1]);
    r->peer[1] = -1;
}

/* The request is over for h2o (it ended, or the client went away):
 * disposes of it as h2o does, then frees it. */
static inline void loopback_free(loopback_req_t *r) {
    if (!r)
        return;
    if (h2o_timeout_is_linked(&r->proceed))
        h2o_timeout_unlink(&r->proceed);
    h2o_dispose_request(&r->req);
    if (r->sock)
        h2o_socket_close(r->sock);
    else if (r->peer[0] >= 0)
        close(r->peer[0]);
    loopback_hang_up(r);
    buf_free(&r->body);
    free(r);
}

/* ---- a scripted "generate" service ---- */

#define GENERATE_LINES_MAX 16

typedef struct {
    const char *lines[GENERATE_LINES_MAX + 1]; /* PARTIAL payloads in order, NULL-terminated */
    bool gate;           /* after the lines, wait for generate_open_gate() (or a cancel) */
    bool hold;           /* after the lines, hold until cancelled */
    int status;          /* then ERROR status with message; 0: FINAL */
    const char *message; /* (the strings must outlive the job: literals) */
    const char *header;  /* the FINAL's header (NULL: {"status":200}) */
    const char *payload; /* the FINAL's payload (NULL: none) */
} generate_script_t;

static struct {
    pthread_mutex_t lock;
    generate_script_t script;
    char *header, *payload; /* of the last job (malloc'd) */
    size_t payload_len;
    atomic_int jobs, generations, cancelled, gate_open; /* generations: "stream": true */
} generate = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* The script of the jobs that come next. */
static inline void generate_script(const generate_script_t *script) {
    pthread_mutex_lock(&generate.lock);
    generate.script = *script;
    atomic_store(&generate.gate_open, 0);
    pthread_mutex_unlock(&generate.lock);
}

static inline void generate_open_gate(void) {
    atomic_store(&generate.gate_open, 1);
}

static inline void generate_nap(void) {
    nanosleep(&(struct timespec){0, 1000000}, NULL);
}

static inline void generate_worker(proto_job_t *job, void *arg) {
    (void)arg;
    size_t hlen = 0, plen = 0;
    const char *header = proto_job_header(job, &hlen);
    const void *payload = proto_job_payload(job, &plen);
    pthread_mutex_lock(&generate.lock);
    generate_script_t script = generate.script;
    free(generate.header);
    free(generate.payload);
    generate.header = strndup(header ? header : "", hlen);
    generate.payload = malloc(plen + 1);
    if (generate.payload) {
        if (plen)
            memcpy(generate.payload, payload, plen);
        generate.payload[plen] = '\0';
    }
    generate.payload_len = plen;
    pthread_mutex_unlock(&generate.lock);
    atomic_fetch_add(&generate.jobs, 1);
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(proto_job_json(job), "stream")))
        atomic_fetch_add(&generate.generations, 1);
    for (int i = 0; script.lines[i]; i++)
        proto_job_partial(job, NULL, script.lines[i], strlen(script.lines[i]));
    while ((script.hold || (script.gate && !atomic_load(&generate.gate_open))) &&
           !proto_job_cancelled(job))
        generate_nap();
    if (proto_job_cancelled(job)) {
        atomic_fetch_add(&generate.cancelled, 1);
        return;
    }
    if (script.status)
        proto_job_error(job, script.status, script.message ? script.message : "scripted");
    else
        proto_job_final(job, script.header ? script.header : "{\"status\":200}", script.payload,
                        script.payload ? strlen(script.payload) : 0);
}

/* The last job's header, or its payload, as JSON (caller deletes). */
static inline cJSON *generate_header(void) {
    pthread_mutex_lock(&generate.lock);
    cJSON *j = generate.header ? cJSON_Parse(generate.header) : NULL;
    pthread_mutex_unlock(&generate.lock);
    return j;
}

static inline cJSON *generate_body(void) {
    pthread_mutex_lock(&generate.lock);
    cJSON *j =
        generate.payload ? cJSON_ParseWithLength(generate.payload, generate.payload_len) : NULL;
    pthread_mutex_unlock(&generate.lock);
    return j;
}

/* The last job's payload as bytes, copied into out (NUL-terminated). */
static inline size_t generate_payload(char *out, size_t cap) {
    pthread_mutex_lock(&generate.lock);
    size_t n = generate.payload_len < cap - 1 ? generate.payload_len : cap - 1;
    if (n)
        memcpy(out, generate.payload, n);
    out[n] = '\0';
    pthread_mutex_unlock(&generate.lock);
    return n;
}

static inline bool generate_jobs_at_least(void *n) {
    return atomic_load(&generate.jobs) >= *(int *)n;
}

static inline bool generate_cancelled_at_least(void *n) {
    return atomic_load(&generate.cancelled) >= *(int *)n;
}

/* ---- scripted retriever shards ---- */

#define SHARDS_MAX 4

typedef struct {
    const char *collections; /* the "collections" answer (NULL: {"collections":[]}) */
    bool hold_collections;   /* ... given only after shards_release() */
    const char *chunks;      /* the "search" answer (NULL: {"chunks":[]}) */
    int status;              /* search: ERROR status with message instead */
    const char *message;
    bool hold; /* search: hold until cancelled */
} shard_script_t;

static struct {
    pthread_mutex_t lock;
    shard_script_t script[SHARDS_MAX];
    char *search[SHARDS_MAX]; /* the last search header (malloc'd) */
    size_t vector_bytes[SHARDS_MAX];
    atomic_int searches, cancelled, released;
} shards = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* The script of shard i's jobs from now on. */
static inline void shard_script(int i, const shard_script_t *script) {
    pthread_mutex_lock(&shards.lock);
    shards.script[i] = *script;
    pthread_mutex_unlock(&shards.lock);
}

/* Serves retrieve.<arg> (arg: the shard's index, cast). */
static inline void shard_worker(proto_job_t *job, void *arg) {
    int i = (int)(intptr_t)arg;
    const char *op =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(proto_job_json(job), "op"));
    pthread_mutex_lock(&shards.lock);
    shard_script_t script = shards.script[i];
    bool search = op && strcmp(op, "search") == 0;
    if (search) {
        size_t hlen = 0, plen = 0;
        const char *header = proto_job_header(job, &hlen);
        proto_job_payload(job, &plen);
        free(shards.search[i]);
        shards.search[i] = strndup(header ? header : "", hlen);
        shards.vector_bytes[i] = plen;
    }
    pthread_mutex_unlock(&shards.lock);
    if (!search) {
        int released = atomic_load(&shards.released);
        while (script.hold_collections && atomic_load(&shards.released) == released &&
               !proto_job_cancelled(job))
            generate_nap();
        const char *list = script.collections ? script.collections : "{\"collections\":[]}";
        if (!proto_job_cancelled(job))
            proto_job_final(job, "{}", list, strlen(list));
        return;
    }
    atomic_fetch_add(&shards.searches, 1);
    while (script.hold && !proto_job_cancelled(job))
        generate_nap();
    if (proto_job_cancelled(job)) {
        atomic_fetch_add(&shards.cancelled, 1);
        return;
    }
    if (script.status) {
        proto_job_error(job, script.status, script.message ? script.message : "scripted");
        return;
    }
    const char *chunks = script.chunks ? script.chunks : "{\"chunks\":[]}";
    proto_job_final(job, "{\"us\":1}", chunks, strlen(chunks));
}

/* Lets the lists of collections held so far go. */
static inline void shards_release(void) {
    atomic_fetch_add(&shards.released, 1);
}

/* Shard i's last search request as JSON (caller deletes), and its vector's bytes. */
static inline cJSON *shard_search(int i, size_t *vector_bytes) {
    pthread_mutex_lock(&shards.lock);
    cJSON *j = shards.search[i] ? cJSON_Parse(shards.search[i]) : NULL;
    if (vector_bytes)
        *vector_bytes = shards.vector_bytes[i];
    pthread_mutex_unlock(&shards.lock);
    return j;
}

static inline bool shards_cancelled_at_least(void *n) {
    return atomic_load(&shards.cancelled) >= *(int *)n;
}

static inline bool shards_searches_at_least(void *n) {
    return atomic_load(&shards.searches) >= *(int *)n;
}

#endif
