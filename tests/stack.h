/*
 * The whole lca stack for an integration test, started from the real
 * binaries: lca-gateway (hosting the broker), lca-embedder, one
 * lca-retriever per shard over a temporary data directory, and on request
 * the fake Ollama with an lca-generator in front of it.  Every process logs
 * to <dir>/<name>.log; the test's processes die with it (tests/proc.h).
 *
 *   test_stack_t s;
 *   if (!stack_start(&s, &(stack_options_t){.generator = true})) ...
 *   http_base = s.url;
 *   stack_seed(&s, repo_dir, NULL);
 *
 * Workers beat every 100 ms, so a killed one is noticed in 300 ms.
 */
#ifndef LCA_TEST_STACK_H
#define LCA_TEST_STACK_H

#include "tests/http.h"
#include "tests/proc.h"

#include <cJSON.h>

#define STACK_SHARDS_MAX 8
#define STACK_ENV_MAX 8

typedef struct {
    int shards;                       /* retriever shards of the gateway and seeder; 0: 2 */
    int first_shard;                  /* the shard the first retriever serves, then the next */
    int retrievers;                   /* retrievers started; 0: one per shard from first_shard
                                         (at most STACK_SHARDS_MAX) */
    bool generator;                   /* the fake Ollama and lca-generator too */
    bool no_embedder;                 /* leave lca-embedder out */
    const char *const *gateway_env;   /* more NAME=value for the gateway, NULL-terminated */
    const char *const *retriever_env; /* likewise for every retriever */
    int heartbeat_ms;                 /* LCA_HEARTBEAT_MS of every process; 0: 100 (a dead
                                         worker is noticed in 300 ms, but a process stalled
                                         that long by a loaded machine is taken for dead) */
} stack_options_t;

typedef struct {
    stack_options_t options;
    char dir[256];     /* logs, data, anything the test puts there */
    char data[300];    /* the retrievers' --data */
    char broker[300];  /* ipc://<dir>/broker: the stack's own, closed to other users */
    char url[64];      /* the gateway: http://127.0.0.1:port */
    char fake_url[64]; /* the fake Ollama, when started */
    int port;
    pid_t gateway, embedder, generator, fake;
    pid_t retriever[STACK_SHARDS_MAX]; /* the one serving shard first_shard + i */
    char heartbeat[32];                /* "LCA_HEARTBEAT_MS=..." */
} test_stack_t;

/* <dir>/name, in one of proc_path's rotating buffers. */
static inline char *stack_path(const test_stack_t *s, const char *name) {
    return proc_path(s->dir, name, "");
}

/* env: what every process of s gets (the heartbeat, info logs), then extra
 * (NULL-terminated, may be NULL). */
static inline void stack_env(const test_stack_t *s, const char **env, const char *const *extra) {
    int n = 0;
    env[n++] = s->heartbeat;
    env[n++] = "LCA_LOG=info";
    for (int i = 0; extra && extra[i] && n < STACK_ENV_MAX; i++)
        env[n++] = extra[i];
    env[n] = NULL;
}

static inline void stack_gateway_start(test_stack_t *s) {
    const char *env[STACK_ENV_MAX + 4];
    stack_env(s, env, s->options.gateway_env);
    char port[16], shards[16];
    snprintf(port, sizeof port, "%d", s->port);
    snprintf(shards, sizeof shards, "%d", s->options.shards);
    char *argv[] = {(char *)proc_bin("lca-gateway"),
                    "--port",
                    port,
                    "--broker",
                    s->broker,
                    "--shards",
                    shards,
                    NULL};
    s->gateway = proc_start(argv, env, stack_path(s, "gateway.log"));
}

static inline void stack_retriever_start(test_stack_t *s, int shard) {
    const char *env[STACK_ENV_MAX + 4];
    stack_env(s, env, s->options.retriever_env);
    char spec[32];
    snprintf(spec, sizeof spec, "%d/%d", shard, s->options.shards);
    char *argv[] = {(char *)proc_bin("lca-retriever"),
                    "--shard",
                    spec,
                    "--data",
                    s->data,
                    "--broker",
                    s->broker,
                    "--threads",
                    "2",
                    NULL};
    s->retriever[shard - s->options.first_shard] =
        proc_start(argv, env, stack_path(s, "retriever.log"));
}

static inline void stack_embedder_start(test_stack_t *s) {
    const char *env[STACK_ENV_MAX + 4];
    stack_env(s, env, NULL);
    char *argv[] = {
        (char *)proc_bin("lca-embedder"), "--broker", s->broker, "--threads", "2", NULL};
    s->embedder = proc_start(argv, env, stack_path(s, "embedder.log"));
}

static inline void stack_generator_start(test_stack_t *s) {
    char ollama[96];
    snprintf(ollama, sizeof ollama, "OLLAMA_HOST=%s", s->fake_url);
    const char *extra[] = {ollama, NULL};
    const char *env[STACK_ENV_MAX + 4];
    stack_env(s, env, extra);
    char *argv[] = {(char *)proc_bin("lca-generator"), "--broker", s->broker, NULL};
    s->generator = proc_start(argv, env, stack_path(s, "generator.log"));
}

/* The fake's port, from the "listening host:port" line it prints. */
static inline bool stack_fake_listening(void *arg) {
    test_stack_t *s = arg;
    char text[256] = "";
    FILE *f = fopen(stack_path(s, "fake.out"), "r");
    if (f) {
        size_t n = fread(text, 1, sizeof text - 1, f);
        text[n] = '\0';
        fclose(f);
    }
    const char *line = strstr(text, "listening ");
    const char *colon = line ? strrchr(line, ':') : NULL;
    if (!colon || atoi(colon + 1) <= 0)
        return false;
    snprintf(s->fake_url, sizeof s->fake_url, "http://127.0.0.1:%d", atoi(colon + 1));
    return true;
}

/* Starts the fake Ollama with its stdout (the "listening" line) apart from
 * its log. */
static inline bool stack_fake_start(test_stack_t *s) {
    char script[PATH_MAX + 64];
    snprintf(script, sizeof script, "%stests/fake-ollama/fake-ollama.mjs", proc_repo_root());
    proc_setup();
    pid_t pid = fork();
    if (pid < 0)
        return false;
    if (pid == 0) {
        setpgid(0, 0);
        int out = open(stack_path(s, "fake.out"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int err = open(stack_path(s, "fake.log"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(out, 1);
        dup2(err, 2);
        execlp("node", "node", script, "--port", "0", "--quiet", (char *)NULL);
        _exit(127);
    }
    setpgid(pid, pid);
    for (int i = 0; i < PROC_MAX; i++)
        if (proc_children[i] == 0) {
            proc_children[i] = pid;
            break;
        }
    s->fake = pid;
    return proc_wait_for(stack_fake_listening, s, 15000);
}

/* The live workers of service, from /healthz (-1 when it does not answer). */
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

/* Starts everything and waits until every service has its worker.  On
 * failure says where the logs are. */
static inline bool stack_start(test_stack_t *s, const stack_options_t *options) {
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
    const char *dir = proc_tmpdir();
    if (!dir)
        return false;
    snprintf(s->dir, sizeof s->dir, "%s", dir);
    snprintf(s->data, sizeof s->data, "%s/data", s->dir);
    s->port = proc_free_port();
    snprintf(s->broker, sizeof s->broker, "ipc://%s/broker", s->dir);
    snprintf(s->url, sizeof s->url, "http://127.0.0.1:%d", s->port);
    stack_gateway_start(s);
    if (!s->options.no_embedder)
        stack_embedder_start(s);
    for (int i = 0; i < s->options.retrievers; i++)
        stack_retriever_start(s, s->options.first_shard + i);
    if (s->options.generator) {
        if (!stack_fake_start(s)) {
            fprintf(stderr, "  the fake Ollama did not start; logs in %s\n", s->dir);
            return false;
        }
        stack_generator_start(s);
    }
    bool ok = proc_wait_port(s->port, 10000) && stack_ready(s, 20000);
    if (!ok)
        fprintf(stderr, "  the stack did not start; logs in %s\n", s->dir);
    return ok;
}

/* Runs lca-seeder DIR --broker ... with extra arguments (NULL-terminated,
 * may be NULL) and waits for it; true when it exited 0.  Its output goes to
 * <dir>/seeder.log. */
static inline bool stack_seed(const test_stack_t *s, const char *repo, const char *const *extra) {
    char *argv[16];
    char shards[16];
    snprintf(shards, sizeof shards, "%d", s->options.shards);
    int n = 0;
    argv[n++] = (char *)proc_bin("lca-seeder");
    argv[n++] = (char *)repo;
    argv[n++] = "--broker";
    argv[n++] = (char *)s->broker;
    argv[n++] = "--shards";
    argv[n++] = shards;
    for (int i = 0; extra && extra[i] && n < 15; i++)
        argv[n++] = (char *)extra[i];
    argv[n] = NULL;
    const char *env[STACK_ENV_MAX + 4];
    stack_env(s, env, NULL);
    pid_t pid = proc_start(argv, env, stack_path(s, "seeder.log"));
    int status = proc_wait_exit(pid, 60000);
    return status == 0;
}

/* Stops the gateway (SIGTERM) and starts it again with extra environment
 * (NULL-terminated, may be NULL; it replaces options.gateway_env), then
 * waits until every worker has joined it again. */
static inline bool stack_gateway_restart(test_stack_t *s, const char *const *env) {
    proc_stop(s->gateway, SIGTERM, 10000);
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

#endif
