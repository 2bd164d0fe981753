/*
 * The lca stack for an integration test, or any part of it, started from
 * the real binaries: lca-gateway (hosting the broker), lca-embedder, one
 * lca-retriever per shard over a temporary data directory, and on request
 * the fake Ollama with an lca-generator in front of it.  Every process logs
 * to <dir>/<name>.log; the test's processes die with it (tests/proc.h).
 *
 *   test_stack_t s;
 *   if (!stack_start(&s, &(stack_options_t){.generator = true})) ...
 *   http_base = s.url;
 *   stack_seed(&s, repo_dir, NULL);
 *
 * The parts alone: stack_init() gives a stack its directory, broker address
 * and port without starting anything; stack_gateway_start(),
 * stack_embedder_start(), stack_retriever_start() and
 * stack_generator_start() start one process each, as the options say
 * (extra arguments and environment, threads, heartbeat); stack_wait()
 * waits until the gateway listens and every started service has its
 * worker.  stack_gateway_up() is a gateway alone, on a broker of its own or
 * a given one.  fake_ollama_start() is the fake Ollama alone, and
 * fake_ollama_call() and the functions after it its control API.
 *
 * Workers beat every 100 ms, so a killed one is noticed in 300 ms.
 */
#ifndef LCA_TEST_STACK_H
#define LCA_TEST_STACK_H

#include "proto/client.h"
#include "tests/http.h"
#include "tests/proc.h"

#include <cJSON.h>

#define STACK_SHARDS_MAX 8
#define STACK_ENV_MAX 8
#define STACK_ARGS_MAX 48

typedef struct {
    int shards;                       /* retriever shards of the gateway and seeder; 0: 2 */
    int first_shard;                  /* the shard the first retriever serves, then the next */
    int retrievers;                   /* retrievers started; 0: one per shard from first_shard
                                         (at most STACK_SHARDS_MAX) */
    bool no_retrievers;               /* start no retriever */
    bool generator;                   /* the fake Ollama and lca-generator too */
    bool no_embedder;                 /* leave lca-embedder out */
    const char *broker;               /* the broker's address; NULL: ipc://<dir>/broker, the
                                         stack's own, closed to other users */
    const char *const *gateway_args;  /* more arguments of the gateway, NULL-terminated */
    const char *const *gateway_env;   /* more NAME=value for the gateway, NULL-terminated */
    const char *const *gateway_wrap;  /* a command the gateway runs under (valgrind ...) */
    const char *gateway_bin;          /* the gateway's binary; NULL: $LCA_BIN/lca-gateway */
    const char *const *retriever_env; /* likewise for every retriever */
    int retriever_threads;            /* --threads of every retriever; 0: 2 */
    int heartbeat_ms;                 /* LCA_HEARTBEAT_MS of every process; 0: 100 (a dead
                                         worker is noticed in 300 ms, but a process stalled
                                         that long by a loaded machine is taken for dead) */
    bool bare_env;                    /* neither LCA_HEARTBEAT_MS nor LCA_LOG: the product's
                                         defaults, only the *_env given */
} stack_options_t;

/* The fake Ollama (tests/fake-ollama/fake-ollama.mjs), on a port of its own. */
typedef struct {
    pid_t pid;
    int port;
    char url[64]; /* http://127.0.0.1:port */
} fake_ollama_t;

typedef struct {
    stack_options_t options;
    char dir[256];    /* logs, data, anything the test puts there */
    char data[300];   /* the retrievers' --data */
    char broker[300]; /* options.broker, or ipc://<dir>/broker */
    char url[64];     /* the gateway: http://127.0.0.1:port */
    int port;
    pid_t gateway, embedder, generator;
    fake_ollama_t fake;                /* when started */
    pid_t retriever[STACK_SHARDS_MAX]; /* the one serving shard first_shard + i */
    char heartbeat[32];                /* "LCA_HEARTBEAT_MS=..." */
} test_stack_t;

/* ---- command lines ---- */

typedef struct {
    char *v[STACK_ARGS_MAX + 1];
    int n;
} stack_argv_t;

/* Appends the arguments (up to a NULL) to a; what does not fit is left out. */
static inline void stack_argv_add(stack_argv_t *a, const char *const *args) {
    for (int i = 0; args && args[i] && a->n < STACK_ARGS_MAX; i++)
        a->v[a->n++] = (char *)args[i];
    a->v[a->n] = NULL;
}

#define STACK_ARGV_ADD(a, ...) stack_argv_add((a), (const char *const[]){__VA_ARGS__, NULL})

/* <dir>/name, in one of proc_path's rotating buffers. */
static inline char *stack_path(const test_stack_t *s, const char *name) {
    return proc_path(s->dir, name, "");
}

/* env: what every process of s gets (the heartbeat, info logs; nothing with
 * options.bare_env), then extra (NULL-terminated, may be NULL). */
static inline void stack_env(const test_stack_t *s, const char **env, const char *const *extra) {
    int n = 0;
    if (!s->options.bare_env) {
        env[n++] = s->heartbeat;
        env[n++] = "LCA_LOG=info";
    }
    for (int i = 0; extra && extra[i] && n < STACK_ENV_MAX; i++)
        env[n++] = extra[i];
    env[n] = NULL;
}

/* ---- the fake Ollama ---- */

typedef struct {
    fake_ollama_t *fake;
    const char *out;
} fake_ollama_wait_t;

/* The fake's port, from the "listening host:port" line it prints. */
static inline bool fake_ollama_listening(void *arg) {
    fake_ollama_wait_t *w = arg;
    char text[256];
    fixture_read_text(w->out, text, sizeof text);
    const char *line = strstr(text, "listening ");
    const char *colon = line ? strrchr(line, ':') : NULL;
    if (!colon || atoi(colon + 1) <= 0)
        return false;
    w->fake->port = atoi(colon + 1);
    snprintf(w->fake->url, sizeof w->fake->url, "http://127.0.0.1:%d", w->fake->port);
    return true;
}

/* Starts the fake Ollama ($LCA_FAKE_OLLAMA, else the repository's) on a free
 * port, its stdout (the "listening" line) in <dir>/<name>.out and its log
 * in <dir>/<name>.log, and waits until it listens.  False (said on stderr,
 * the fake stopped) when it does not within 15 s. */
static inline bool fake_ollama_start(fake_ollama_t *f, const char *dir, const char *name) {
    memset(f, 0, sizeof *f);
    char script[PATH_MAX + 64];
    const char *given = getenv("LCA_FAKE_OLLAMA");
    if (given && *given)
        snprintf(script, sizeof script, "%s", given);
    else
        snprintf(script, sizeof script, "%stests/fake-ollama/fake-ollama.mjs", fixture_root());
    char out[PATH_MAX], log[PATH_MAX];
    snprintf(out, sizeof out, "%s", proc_path(dir, name, ".out"));
    snprintf(log, sizeof log, "%s", proc_path(dir, name, ".log"));
    char *argv[] = {"node", script, "--port", "0", "--quiet", NULL};
    f->pid = proc_start_split(argv, NULL, out, log);
    fake_ollama_wait_t w = {f, out};
    if (f->pid > 0 && proc_wait_for(fake_ollama_listening, &w, 15000))
        return true;
    fprintf(stderr, "  the fake Ollama did not start; see %s\n", log);
    proc_stop(f->pid, SIGKILL, 1000);
    f->pid = 0;
    return false;
}

/* Its control API: GET (body NULL) or POST path; the JSON answer (the caller
 * deletes it), or NULL, said on stderr, unless it is a 200. */
static inline cJSON *fake_ollama_call(const fake_ollama_t *f, const char *path, const char *body) {
    http_reply_t r;
    http_request(&(http_request_t){.base = f->url, .path = path, .body = body}, &r);
    cJSON *json = r.status == 200 ? http_body_json(&r) : NULL;
    if (!json)
        fprintf(stderr, "  fake %s%s: HTTP %ld %s\n", f->url, path, r.status,
                r.body.data ? r.body.data : "");
    http_reply_free(&r);
    return json;
}

/* Adds a script (a JSON object: "match", "tokens", "fail", ...); true when
 * the fake took it. */
static inline bool fake_ollama_script(const fake_ollama_t *f, const char *script) {
    cJSON *answer = fake_ollama_call(f, "/_fake/script", script);
    cJSON_Delete(answer);
    return answer != NULL;
}

/* What the fake recorded (what: "events" or "requests") for the requests
 * whose body holds marker (NULL: all): a JSON array, or NULL. */
static inline cJSON *fake_ollama_records(const fake_ollama_t *f, const char *what,
                                         const char *marker) {
    char path[256];
    snprintf(path, sizeof path, "/_fake/%s%s%s", what, marker ? "?match=" : "",
             marker ? marker : "");
    return fake_ollama_call(f, path, NULL);
}

/* ---- the processes ---- */

/* Gives s its directory, data directory, broker address and port, and
 * starts nothing.  False when no directory could be made. */
static inline bool stack_init(test_stack_t *s, const stack_options_t *options) {
    memset(s, 0, sizeof *s);
    s->options = options ? *options : (stack_options_t){0};
    snprintf(s->heartbeat, sizeof s->heartbeat, "LCA_HEARTBEAT_MS=%d",
             s->options.heartbeat_ms > 0 ? s->options.heartbeat_ms : 100);
    if (s->options.shards <= 0)
        s->options.shards = 2;
    if (s->options.first_shard < 0 || s->options.first_shard >= s->options.shards)
        s->options.first_shard = 0;
    if (s->options.retrievers <= 0 ||
        s->options.retrievers > s->options.shards - s->options.first_shard)
        s->options.retrievers = s->options.shards - s->options.first_shard;
    if (s->options.retrievers > STACK_SHARDS_MAX)
        s->options.retrievers = STACK_SHARDS_MAX;
    if (s->options.no_retrievers)
        s->options.retrievers = 0;
    if (s->options.retriever_threads <= 0)
        s->options.retriever_threads = 2;
    const char *dir = proc_tmpdir();
    if (!dir)
        return false;
    snprintf(s->dir, sizeof s->dir, "%s", dir);
    snprintf(s->data, sizeof s->data, "%s/data", s->dir);
    s->port = proc_free_port();
    if (s->options.broker)
        snprintf(s->broker, sizeof s->broker, "%s", s->options.broker);
    else
        snprintf(s->broker, sizeof s->broker, "ipc://%s/broker", s->dir);
    snprintf(s->url, sizeof s->url, "http://127.0.0.1:%d", s->port);
    return true;
}

static inline pid_t stack_gateway_start(test_stack_t *s) {
    const char *env[STACK_ENV_MAX + 4];
    stack_env(s, env, s->options.gateway_env);
    char port[16], shards[16];
    snprintf(port, sizeof port, "%d", s->port);
    snprintf(shards, sizeof shards, "%d", s->options.shards);
    stack_argv_t a = {.n = 0};
    stack_argv_add(&a, s->options.gateway_wrap);
    const char *bin = s->options.gateway_bin ? s->options.gateway_bin : proc_bin("lca-gateway");
    STACK_ARGV_ADD(&a, bin, "--port", port, "--broker", s->broker, "--shards", shards);
    stack_argv_add(&a, s->options.gateway_args);
    s->gateway = proc_start(a.v, env, stack_path(s, "gateway.log"));
    return s->gateway;
}

static inline void stack_retriever_start(test_stack_t *s, int shard) {
    const char *env[STACK_ENV_MAX + 4];
    stack_env(s, env, s->options.retriever_env);
    char spec[32], threads[16];
    snprintf(spec, sizeof spec, "%d/%d", shard, s->options.shards);
    snprintf(threads, sizeof threads, "%d", s->options.retriever_threads);
    const char *args[] = {"--shard", spec,        "--data", s->data, "--broker",
                          s->broker, "--threads", threads,  NULL};
    s->retriever[shard - s->options.first_shard] =
        proc_start_bin("lca-retriever", args, env, stack_path(s, "retriever.log"));
}

static inline void stack_embedder_start(test_stack_t *s) {
    const char *env[STACK_ENV_MAX + 4];
    stack_env(s, env, NULL);
    const char *args[] = {"--broker", s->broker, "--threads", "2", NULL};
    s->embedder = proc_start_bin("lca-embedder", args, env, stack_path(s, "embedder.log"));
}

/* An lca-generator for the stack's fake Ollama (OLLAMA_HOST). */
static inline void stack_generator_start(test_stack_t *s) {
    char ollama[96];
    snprintf(ollama, sizeof ollama, "OLLAMA_HOST=%s", s->fake.url);
    const char *extra[] = {ollama, NULL};
    const char *env[STACK_ENV_MAX + 4];
    stack_env(s, env, extra);
    const char *args[] = {"--broker", s->broker, NULL};
    s->generator = proc_start_bin("lca-generator", args, env, stack_path(s, "generator.log"));
}

/* The fake Ollama of the stack (fake.out, fake.log). */
static inline bool stack_fake_start(test_stack_t *s) {
    return fake_ollama_start(&s->fake, s->dir, "fake");
}

/* ---- asking the broker ---- */

/* A client of the stack's broker; NULL (said on stderr) when it cannot
 * connect. */
static inline proto_client_t *stack_client(const test_stack_t *s) {
    char err[256];
    proto_client_t *c = proto_client_new(s->broker, NULL, err, sizeof err);
    if (!c)
        fprintf(stderr, "  client: %s\n", err);
    return c;
}

/* The broker's broker.status header as JSON (the caller deletes it), or
 * NULL when it does not answer within timeout_ms. */
static inline cJSON *stack_broker_status(proto_client_t *c, int timeout_ms) {
    proto_msg_t final;
    int status = 0;
    char err[256];
    if (proto_client_call(c, "broker.status", NULL, NULL, 0, timeout_ms, NULL, NULL, &final,
                          &status, err, sizeof err) != 0)
        return NULL;
    cJSON *j = cJSON_ParseWithLength(final.header, final.header_len);
    proto_msg_close(&final);
    return j;
}

/* The live workers of service as the broker counts them (0 when it names
 * none; -1 when it does not answer). */
static inline int stack_broker_workers(proto_client_t *c, const char *service) {
    cJSON *j = stack_broker_status(c, 2000);
    if (!j)
        return -1;
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "services"), service),
        "workers");
    int n = cJSON_IsNumber(w) ? (int)w->valuedouble : 0;
    cJSON_Delete(j);
    return n;
}

typedef struct {
    proto_client_t *c;
    const char *service;
    int n;
} stack_workers_wait_t;

static inline bool stack_broker_workers_are(void *arg) {
    const stack_workers_wait_t *w = arg;
    return stack_broker_workers(w->c, w->service) == w->n;
}

/* Waits (up to timeout_ms) until the broker counts n live workers of
 * service. */
static inline bool stack_wait_broker_workers(proto_client_t *c, const char *service, int n,
                                             int timeout_ms) {
    stack_workers_wait_t w = {c, service, n};
    return proc_wait_for(stack_broker_workers_are, &w, timeout_ms);
}

/* The live workers of service, from the gateway's /healthz (-1 when it
 * does not answer). */
static inline int stack_workers(const test_stack_t *s, const char *service) {
    http_reply_t r;
    http_request(&(http_request_t){.base = s->url, .path = "/healthz", .timeout_ms = 1000}, &r);
    cJSON *j = http_body_json(&r);
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "services"), service),
        "workers");
    int n = cJSON_IsNumber(w) ? w->valueint : -1;
    cJSON_Delete(j);
    http_reply_free(&r);
    return n;
}

/* Every started service has exactly one worker. */
static inline bool stack_all_ready(void *arg) {
    const test_stack_t *s = arg;
    if (!s->options.no_embedder && stack_workers(s, "embed") != 1)
        return false;
    if (s->options.generator && stack_workers(s, "generate") != 1)
        return false;
    for (int i = 0; i < s->options.retrievers; i++) {
        char service[32];
        snprintf(service, sizeof service, "retrieve.%d", s->options.first_shard + i);
        if (stack_workers(s, service) != 1)
            return false;
    }
    return true;
}

/* Waits until every service has its worker again (after a restart). */
static inline bool stack_ready(test_stack_t *s, int timeout_ms) {
    return proc_wait_for(stack_all_ready, s, timeout_ms);
}

/* Waits until the gateway listens and every started service has its
 * worker.  On failure says where the logs are. */
static inline bool stack_wait(test_stack_t *s) {
    bool ok = proc_wait_port(s->port, 10000) && stack_ready(s, 20000);
    if (!ok)
        fprintf(stderr, "  the stack did not start; logs in %s\n", s->dir);
    return ok;
}

/* Starts everything the options ask for and waits until every service has
 * its worker.  On failure says where the logs are. */
static inline bool stack_start(test_stack_t *s, const stack_options_t *options) {
    if (!stack_init(s, options))
        return false;
    stack_gateway_start(s);
    if (!s->options.no_embedder)
        stack_embedder_start(s);
    for (int i = 0; i < s->options.retrievers; i++)
        stack_retriever_start(s, s->options.first_shard + i);
    if (s->options.generator) {
        if (!stack_fake_start(s))
            return false;
        stack_generator_start(s);
    }
    return stack_wait(s);
}

/* A gateway alone (no worker), on a broker of its own unless
 * options->broker names one; true once it listens (within timeout_ms). */
static inline bool stack_gateway_up(test_stack_t *s, const stack_options_t *options,
                                    int timeout_ms) {
    if (!stack_init(s, options))
        return false;
    stack_gateway_start(s);
    bool ok = proc_wait_port(s->port, timeout_ms);
    if (!ok)
        fprintf(stderr, "  the gateway did not start; see %s\n", stack_path(s, "gateway.log"));
    return ok;
}

/* ---- stopping, restarting ---- */

/* Stops the gateway with SIGTERM; its wait status (see proc_stop). */
static inline int stack_gateway_stop(test_stack_t *s) {
    int status = proc_stop(s->gateway, SIGTERM, 10000);
    s->gateway = 0;
    return status;
}

/* Stops the gateway (SIGTERM; its wait status in *status when not NULL) and
 * starts it again with extra environment (NULL-terminated, may be NULL; it
 * replaces options.gateway_env), then waits until every worker has joined
 * it again. */
static inline bool stack_gateway_restart(test_stack_t *s, const char *const *env, int *status) {
    int stopped = stack_gateway_stop(s);
    if (status)
        *status = stopped;
    s->options.gateway_env = env;
    stack_gateway_start(s);
    return proc_wait_port(s->port, 10000) && stack_ready(s, 20000);
}

/* Kills a retriever with SIGKILL and waits for it to be gone. */
static inline void stack_retriever_kill(test_stack_t *s, int shard) {
    pid_t *pid = &s->retriever[shard - s->options.first_shard];
    proc_stop(*pid, SIGKILL, 5000);
    *pid = 0;
}

/* ---- the seeder ---- */

static inline void stack_seeder_argv(const test_stack_t *s, stack_argv_t *a, char *shards,
                                     const char *repo, const char *const *extra) {
    STACK_ARGV_ADD(a, proc_bin("lca-seeder"), repo, "--broker", s->broker, "--shards", shards);
    stack_argv_add(a, extra);
}

/* Starts lca-seeder REPO --broker ... --shards ... with extra arguments and
 * environment (both NULL-terminated, may be NULL; env is all it gets
 * added), stdout in out_path and stderr in err_path. */
static inline pid_t stack_seeder_start(const test_stack_t *s, const char *repo,
                                       const char *const *extra, const char *const *env,
                                       const char *out_path, const char *err_path) {
    char shards[16];
    snprintf(shards, sizeof shards, "%d", s->options.shards);
    stack_argv_t a = {.n = 0};
    stack_seeder_argv(s, &a, shards, repo, extra);
    return proc_start_split(a.v, env, out_path, err_path);
}

/* Runs lca-seeder REPO --broker ... with extra arguments (NULL-terminated,
 * may be NULL) and the stack's environment, and waits for it; true when it
 * exited 0.  Its output goes to <dir>/seeder.log. */
static inline bool stack_seed(const test_stack_t *s, const char *repo, const char *const *extra) {
    char shards[16];
    snprintf(shards, sizeof shards, "%d", s->options.shards);
    stack_argv_t a = {.n = 0};
    stack_seeder_argv(s, &a, shards, repo, extra);
    const char *env[STACK_ENV_MAX + 4];
    stack_env(s, env, NULL);
    pid_t pid = proc_start(a.v, env, stack_path(s, "seeder.log"));
    int status = proc_wait_exit(pid, 60000);
    return status == 0;
}

#endif
