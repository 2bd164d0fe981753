/*
 * What retrieval costs a completion: time to the first token through the
 * gateway with retrieval-augmented prompts on and off, in the same run,
 * against a large collection.
 *
 *   fake Ollama (node, answers at once)  <-  lca-generator  <-  lca-gateway  <-  this (libcurl)
 *                                             lca-embedder, lca-retriever x2  <-'
 *
 * A synthetic Python repository (LCA_BENCH_CHUNKS, default 200000 chunks:
 * files of 21 definitions that call each other across files) is written to
 * a temporary directory and seeded once.  Then the same ProxyAI request —
 * a raw Qwen2.5 FIM prompt, streamed, the cursor in a new function right
 * after a call to a definition of another file — goes LCA_BENCH_N times
 * with retrieval (the default) and LCA_BENCH_N times with
 * "options":{"lca_rag":false}, alternating, over one keep-alive
 * connection.  Each request has its own cursor.  Time to first token is
 * libcurl's time to the first byte (the gateway sends its headers with the
 * first token).  Also printed: how often the context came within the
 * deadline, how often it held the called definition, and the retrieval's
 * own time as POST /api/context reports it.
 *
 *   make build/tests/bench/rag_bench && LCA_BIN=build/bin build/tests/bench/rag_bench
 * Needs node (tests/fake-ollama), run from the repository root.
 */
#include "proto/base/buf.h"
#include "tests/proc.h"
#include "proto/base/settings.h"

#include <cJSON.h>
#include <curl/curl.h>
#include <limits.h>

#define SHARDS 2
#define DEFS_PER_FILE 20 /* plus the module docstring/imports chunk */
#define FILES_PER_DIR 100

static char workdir[256], datadir[300], repo[300], broker_ep[300], gw_url[64];
static int gw_port;
static const char *env_worker[] = {"LCA_HEARTBEAT_MS=200", "LCA_LOG=warn", NULL};

static const char *const words[] = {
    "order", "price", "stock", "ledger", "account", "tax",   "cart",  "user",  "item",  "report",
    "cache", "index", "query", "token",  "range",   "batch", "queue", "event", "store", "entry"};
#define NWORDS (sizeof words / sizeof words[0])

static char *path_in(const char *name) {
    static char path[8][PATH_MAX];
    static int slot;
    char *p = path[slot++ % 8];
    snprintf(p, PATH_MAX, "%s/%s", workdir, name);
    return p;
}

/* The name of definition i of file f (deterministic: the cursor's callee
 * is known without reading the repository back). */
static void def_name(char *out, size_t size, long f, int i) {
    snprintf(out, size, "%s_%s_%05ld_%02d", words[(f * 7 + i) % NWORDS],
             words[(f * 3 + i * 5 + 1) % NWORDS], f, i);
}

static unsigned long long rng_state = 0x9e3779b97f4a7c15ULL;
static unsigned long rng(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (unsigned long)(rng_state >> 11);
}

static bool write_repo(long files) {
    snprintf(repo, sizeof repo, "%s/synth", workdir);
    for (long f = 0; f < files; f++) {
        char path[PATH_MAX];
        if (f % FILES_PER_DIR == 0) {
            snprintf(path, sizeof path, "%s/pkg_%03ld", repo, f / FILES_PER_DIR);
            if (mkdir(repo, 0755) != 0 && errno != EEXIST)
                return false;
            if (mkdir(path, 0755) != 0 && errno != EEXIST)
                return false;
        }
        snprintf(path, sizeof path, "%s/pkg_%03ld/mod_%05ld.py", repo, f / FILES_PER_DIR, f);
        FILE *out = fopen(path, "w");
        if (!out)
            return false;
        fprintf(out, "\"\"\"Module %ld of the synthetic shop.\"\"\"\n\nimport os\n\n", f);
        for (int i = 0; i < DEFS_PER_FILE; i++) {
            char name[96], callee[96];
            def_name(name, sizeof name, f, i);
            def_name(callee, sizeof callee, (long)(rng() % (unsigned long)files),
                     (int)(rng() % DEFS_PER_FILE));
            const char *arg = words[rng() % NWORDS];
            fprintf(out,
                    "\ndef %s(%s, limit=10):\n"
                    "    \"\"\"Computes the %s of every %s, at most limit.\"\"\"\n"
                    "    total = 0\n"
                    "    for %s_item in %s:\n"
                    "        total += %s(%s_item)\n"
                    "    return min(total, limit)\n\n",
                    name, arg, words[(f + i) % NWORDS], arg, arg, arg, callee, arg);
        }
        if (fclose(out) != 0)
            return false;
    }
    return true;
}

/* ---- HTTP ---- */

typedef struct {
    buf_t body;
    char context[512];
} answer_t;

static size_t on_body(char *p, size_t size, size_t n, void *arg) {
    buf_append(&((answer_t *)arg)->body, p, size * n);
    return size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg) {
    answer_t *a = arg;
    size_t len = size * n;
    if (len > 14 && strncasecmp(p, "x-lca-context:", 14) == 0) {
        size_t vlen = len - 14;
        const char *v = p + 14;
        while (vlen && *v == ' ')
            v++, vlen--;
        while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n'))
            vlen--;
        snprintf(a->context, sizeof a->context, "%.*s", (int)vlen, v);
    }
    return len;
}

/* POSTs body (GET when NULL) on the keep-alive handle; returns the status;
 * *ttfb_us the time to the first byte. */
static long http(CURL *c, const char *path, const char *body, answer_t *a, long *ttfb_us) {
    char url[256];
    snprintf(url, sizeof url, "%s%s", gw_url, path);
    buf_reset(&a->body);
    a->context[0] = '\0';
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 20000L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, a);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, a);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    } else {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    }
    long status = 0;
    curl_off_t t = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(c, CURLINFO_STARTTRANSFER_TIME_T, &t);
    if (ttfb_us)
        *ttfb_us = (long)t;
    curl_slist_free_all(headers);
    return status;
}

static bool workers_ready(void *arg) {
    CURL *c = arg;
    answer_t a = {.body = BUF_INIT};
    bool ok = http(c, "/healthz", NULL, &a, NULL) == 200 && a.body.data &&
              !strstr(a.body.data, "\"workers\":0") && strstr(a.body.data, "retrieve.1");
    buf_free(&a.body);
    return ok;
}

static bool fake_listening(void *arg) {
    char text[256] = "";
    FILE *f = fopen(path_in("fake.out"), "r");
    if (f) {
        size_t n = fread(text, 1, sizeof text - 1, f);
        text[n] = '\0';
        fclose(f);
    }
    const char *colon = strstr(text, "listening ") ? strrchr(text, ':') : NULL;
    *(int *)arg = colon ? atoi(colon + 1) : 0;
    return *(int *)arg > 0;
}

/* ---- measuring ---- */

static int by_value(const void *a, const void *b) {
    long x = *(const long *)a, y = *(const long *)b;
    return x < y ? -1 : x > y;
}

static double pct(long *v, int n, double p) {
    qsort(v, (size_t)n, sizeof *v, by_value);
    int i = (int)(p * (n - 1) + 0.5);
    return v[i] / 1000.0;
}

/* The ProxyAI completion body for a cursor right after a call of callee. */
static char *completion(long f, const char *callee, bool rag) {
    char prompt[1024];
    snprintf(prompt, sizeof prompt,
             "<|fim_prefix|> \"\"\"Module %ld, edited.\"\"\"\n\nimport os\n\n\n"
             "def summarise(entries, limit=10):\n"
             "    total = 0\n"
             "    for entry in entries:\n"
             "        total += %s( <|fim_suffix|>)\n"
             "    return total\n <|fim_middle|>",
             f, callee);
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "model", "qwen2.5-coder:7b");
    cJSON_AddStringToObject(b, "prompt", prompt);
    cJSON *options = cJSON_AddObjectToObject(b, "options");
    cJSON *stop = cJSON_AddArrayToObject(options, "stop");
    cJSON_AddItemToArray(stop, cJSON_CreateString("\n\n"));
    cJSON_AddItemToArray(stop, cJSON_CreateString("<|endoftext|>"));
    cJSON_AddNumberToObject(options, "num_predict", 128);
    cJSON_AddNumberToObject(options, "temperature", 0.4);
    if (!rag)
        cJSON_AddFalseToObject(options, "lca_rag");
    cJSON_AddTrueToObject(b, "stream");
    cJSON_AddTrueToObject(b, "raw");
    char *text = cJSON_PrintUnformatted(b);
    cJSON_Delete(b);
    return text;
}

int main(void) {
    proc_setup();
    long chunks = settings_env_long("LCA_BENCH_CHUNKS", 200000, 42, 10000000);
    long n = settings_env_long("LCA_BENCH_N", 300, 10, 100000);
    long files = chunks / (DEFS_PER_FILE + 1);
    if (files < 2 || n < 10) {
        fprintf(stderr, "LCA_BENCH_CHUNKS >= 42 and LCA_BENCH_N >= 10, please\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    snprintf(workdir, sizeof workdir, "%s", proc_tmpdir());
    snprintf(datadir, sizeof datadir, "%s/data", workdir);
    int64_t t0 = proc_now_ms();
    if (!write_repo(files)) {
        fprintf(stderr, "cannot write the repository in %s\n", workdir);
        return 1;
    }
    int64_t written_ms = proc_now_ms() - t0;

    gw_port = proc_free_port();
    snprintf(broker_ep, sizeof broker_ep, "ipc://%s/broker", workdir); /* 0700 (mkdtemp) */
    snprintf(gw_url, sizeof gw_url, "http://127.0.0.1:%d", gw_port);
    char *fake_argv[] = {"/usr/bin/env", "node", "tests/fake-ollama/fake-ollama.mjs", "--port", "0",
                         "--quiet",      NULL};
    pid_t fake = fork();
    if (fake == 0) {
        setpgid(0, 0);
        int out = open(path_in("fake.out"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(out, 1);
        execv(fake_argv[0], fake_argv);
        _exit(127);
    }
    setpgid(fake, fake);
    for (int i = 0; i < PROC_MAX; i++)
        if (proc_children[i] == 0) {
            proc_children[i] = fake;
            break;
        }
    int fake_port = 0;
    if (!proc_wait_for(fake_listening, &fake_port, 15000)) {
        fprintf(stderr, "the fake Ollama did not start (node?)\n");
        return 1;
    }
    char port[16], ollama_env[80];
    snprintf(port, sizeof port, "%d", gw_port);
    snprintf(ollama_env, sizeof ollama_env, "OLLAMA_HOST=http://127.0.0.1:%d", fake_port);
    char *gateway[] = {
        (char *)proc_bin("lca-gateway"), "--port", port, "--broker", broker_ep, NULL};
    proc_start(gateway, env_worker, path_in("gateway.log"));
    char *embedder[] = {(char *)proc_bin("lca-embedder"), "--broker", broker_ep, NULL};
    proc_start(embedder, env_worker, path_in("embedder.log"));
    for (int s = 0; s < SHARDS; s++) {
        char spec[16];
        snprintf(spec, sizeof spec, "%d/%d", s, SHARDS);
        char *retriever[] = {(char *)proc_bin("lca-retriever"),
                             "--shard",
                             spec,
                             "--data",
                             datadir,
                             "--broker",
                             broker_ep,
                             NULL};
        proc_start(retriever, env_worker, path_in("retriever.log"));
    }
    const char *gen_env[] = {env_worker[0], env_worker[1], ollama_env, NULL};
    char *generator[] = {(char *)proc_bin("lca-generator"), "--broker", broker_ep, NULL};
    proc_start(generator, gen_env, path_in("generator.log"));
    CURL *c = curl_easy_init();
    if (!proc_wait_port(gw_port, 10000) || !proc_wait_for(workers_ready, c, 20000)) {
        fprintf(stderr, "the stack did not start; logs in %s\n", workdir);
        return 1;
    }

    t0 = proc_now_ms();
    char *seeder[] = {(char *)proc_bin("lca-seeder"), repo, "--broker", broker_ep, NULL};
    pid_t seed = proc_start(seeder, env_worker, path_in("seeder.log"));
    int status = -1;
    waitpid(seed, &status, 0);
    proc_forget(seed);
    int64_t seed_ms = proc_now_ms() - t0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "seeding failed; see %s\n", path_in("seeder.log"));
        return 1;
    }
    answer_t a = {.body = BUF_INIT};
    http(c, "/api/collections", NULL, &a, NULL);
    cJSON *list = cJSON_ParseWithLength(a.body.data, a.body.len);
    const cJSON *col = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(list, "collections"), 0);
    long indexed = (long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(col, "chunks"));
    cJSON_Delete(list);

    /* Warm up every hop (and every worker thread's caches). */
    for (int i = 0; i < 40; i++) {
        char callee[96];
        def_name(callee, sizeof callee, (long)(rng() % (unsigned long)files), i % DEFS_PER_FILE);
        char *body = completion(i, callee, i % 2);
        http(c, "/api/generate", body, &a, NULL);
        free(body);
    }

    long *on = calloc((size_t)n, sizeof *on), *off = calloc((size_t)n, sizeof *off);
    long *ctx_us = calloc((size_t)n, sizeof *ctx_us);
    int with_context = 0, with_callee = 0, errors = 0, ctx_n = 0;
    for (long i = 0; i < n; i++) {
        long f = (long)(rng() % (unsigned long)files);
        int d = (int)(rng() % DEFS_PER_FILE);
        char callee[96];
        def_name(callee, sizeof callee, f, d);
        long here = (long)(rng() % (unsigned long)files);
        for (int rag = 0; rag < 2; rag++) {
            /* alternate which goes first, so that neither always follows the other */
            bool with = (rag + i) % 2 == 0;
            char *body = completion(here, callee, with);
            long us = 0;
            if (http(c, "/api/generate", body, &a, &us) != 200)
                errors++;
            free(body);
            if (!with) {
                off[i] = us;
                continue;
            }
            on[i] = us;
            with_context += strtol(a.context, NULL, 10) > 0;
            char file[64];
            snprintf(file, sizeof file, "pkg_%03ld/mod_%05ld.py:", f / FILES_PER_DIR, f);
            with_callee += strstr(a.context, file) != NULL;
        }
        /* The retrieval alone, as the gateway measures it. */
        char query[512];
        snprintf(query, sizeof query,
                 "{\"prefix\":\"def summarise(entries, limit=10):\\n    total = 0\\n    for "
                 "entry in entries:\\n        total += %s(\",\"suffix\":\")\\n    return "
                 "total\\n\",\"k\":8}",
                 callee);
        if (http(c, "/api/context", query, &a, NULL) == 200) {
            cJSON *j = cJSON_ParseWithLength(a.body.data, a.body.len);
            ctx_us[ctx_n++] =
                (long)(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(j, "elapsed_ms")) *
                       1000);
            cJSON_Delete(j);
        }
    }
    double on50 = pct(on, (int)n, 0.5), on95 = pct(on, (int)n, 0.95);
    double off50 = pct(off, (int)n, 0.5), off95 = pct(off, (int)n, 0.95);
    printf("%ld chunks in %ld files (%d shards), seeded in %.1f s (files written in %.1f s); "
           "%ld completions each way, one keep-alive connection, fake Ollama answering at once; "
           "LCA_RAG_COMPLETION_MS %s\n\n",
           indexed, files, SHARDS, seed_ms / 1000.0, written_ms / 1000.0, n,
           getenv("LCA_RAG_COMPLETION_MS") ? getenv("LCA_RAG_COMPLETION_MS") : "40 (default)");
    printf("| time to first token | p50 ms | p95 ms | with context | called definition in it |\n");
    printf("|---|---:|---:|---:|---:|\n");
    printf("| RAG off (`lca_rag: false`) | %.2f | %.2f | - | - |\n", off50, off95);
    printf("| RAG on | %.2f | %.2f | %.0f %% | %.0f %% |\n", on50, on95,
           100.0 * with_context / (double)n, 100.0 * with_callee / (double)n);
    printf("| **added by RAG** | **%.2f** | %.2f | | |\n", on50 - off50, on95 - off95);
    if (ctx_n > 0)
        printf("| retrieval alone (`/api/context` elapsed_ms) | %.2f | %.2f | | |\n",
               pct(ctx_us, ctx_n, 0.5), pct(ctx_us, ctx_n, 0.95));
    printf("\nadded at p50: %.2f ms (target < 15 ms): %s%s\n", on50 - off50,
           on50 - off50 < 15 ? "met" : "NOT met",
           errors ? " -- some requests failed, see the logs" : "");
    free(on);
    free(off);
    free(ctx_us);
    buf_free(&a.body);
    curl_easy_cleanup(c);
    proc_kill_all();
    if (!getenv("LCA_BENCH_KEEP")) {
        char command[PATH_MAX + 16];
        snprintf(command, sizeof command, "rm -rf '%s'", workdir);
        if (system(command) != 0)
            fprintf(stderr, "could not remove %s\n", workdir);
    }
    return errors ? 1 : 0;
}
