/*
 * Many clients at once on every kind of route, while the gateway's list of
 * collections is refreshed, a collection is dropped and seeded again over
 * and over, and workers are killed and restarted — every answer checked for
 * being *right*, not only for its status:
 *
 *   context      POST /c/<name>/api/context and POST /api/context with an
 *                absolute path: the right collection and root, every chunk a
 *                file of that repository, and (while no shard is missing) the
 *                file that defines the function asked about;
 *   deadline     the same with "deadline_ms": 1: a well-formed 200 for the
 *                right collection, and the next client unharmed;
 *   collections  GET /api/collections lists both repositories with their roots;
 *   completion   a raw Qwen FIM completion on /c/shop/api/generate, the fake
 *                echoing the prompt it got: the context in it names the shop
 *                repository and only files of it;
 *   chat         a streamed OpenAI chat on /v1/chat/completions naming a file
 *                of the shop repository by its absolute path (ProxyAI's
 *                "File Path:"), the fake echoing the first message it got:
 *                the context system message the gateway put there names the
 *                shop repository and only files of it, and the stream is
 *                well-formed SSE ending in [DONE];
 *   churn        a third collection dropped and seeded again (--reset).
 *
 * Phase one runs with every worker up: every answer must be complete.  Phase
 * two kills a retriever, the embedder and the generator with SIGKILL and
 * restarts them, on a loop: answers may then be partial (shards missing, no
 * context, a 5xx in the API's error shape, a stream ended by an error event)
 * but never wrong, and every error is well-formed.  At the end the
 * gateway's resident memory must not have grown by more than a tenth since
 * the warm-up.  After each phase no process's log may hold a sanitizer's
 * report: `make test` runs this test against the ASan+UBSan build and again
 * against the ThreadSanitizer one (tests/tsan.supp).
 *
 * Nothing here waits by sleeping or asserts a speed: the retrieval deadlines
 * are far above what a loaded machine needs, a request has ANSWER_MS to be
 * answered at all, the heartbeat is the product's own (1 s), and the next
 * worker is killed once the broker lists exactly one of each again.
 *
 *   LCA_STRESS_CLIENTS  clients in all, spread over the route kinds (default
 *                       10, two per kind; `make soak`: 32)
 *   LCA_STRESS_MS       length of each phase (default 2500; `make soak`: 60000)
 *   LCA_STRESS_RSS      set: check the gateway's memory growth (`make soak`, whose
 *                       binaries have no sanitizer quarantine)
 */
#include "tests/stack.h"

#include <pthread.h>
#include <stdatomic.h>

#define KINDS 5
#define MAX_CLIENTS 64
#define CHAT_MARKER "stress-chat-7f3a" /* the fake's echo script for chats */
/* A request not answered in this long is wrong.  The retrieval deadlines of
 * completions and chats (setup()) stay well under it, and far above what a
 * loaded machine needs, so that phase one never loses context to a slow
 * core: a deadline missed is then a bug, not the machine's load. */
#define ANSWER_MS 30000
#define RETRIEVAL_MS "10000"

static test_stack_t stack;
static char shop_dir[512], other_dir[512], churn_dir[512];
static bool up, up_tried;

/* ---- what a right answer is ---- */

typedef struct {
    atomic_long answers, wrong, partial;
    atomic_long by_kind[KINDS];
    pthread_mutex_t lock;
    char first_wrong[1024];
} tally_t;

static tally_t tally = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void wrong(const char *kind, const http_reply_t *r, const char *why) {
    atomic_fetch_add(&tally.wrong, 1);
    pthread_mutex_lock(&tally.lock);
    if (!tally.first_wrong[0])
        snprintf(tally.first_wrong, sizeof tally.first_wrong, "%s: %s (status %ld): %.600s", kind,
                 why, r->status, r->body.data ? r->body.data : "");
    pthread_mutex_unlock(&tally.lock);
}

static bool file_under(const char *root, const char *rel) {
    if (!rel || !*rel || rel[0] == '/' || strstr(rel, ".."))
        return false;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* An error answer in the Ollama/lca shape {"error": "..."} with a 4xx/5xx. */
static bool well_formed_error(const http_reply_t *r) {
    cJSON *j = http_body_json(r);
    bool ok = r->status >= 400 && cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "error"));
    cJSON_Delete(j);
    return ok;
}

/* Checks a /api/context answer: status 200, the collection and root
 * expected, every chunk a file of root, and `expect` among them when no
 * shard was missing and complete is asked for. */
static void check_context(const char *kind, const http_reply_t *r, const char *collection,
                          const char *root, const char *expect, bool complete, bool restarting) {
    if (r->status != 200) {
        if (!restarting || !well_formed_error(r))
            wrong(kind, r, "not 200");
        else
            atomic_fetch_add(&tally.partial, 1);
        return;
    }
    cJSON *j = http_body_json(r);
    const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "collection"));
    const char *got_root = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "root"));
    const cJSON *missing = cJSON_GetObjectItemCaseSensitive(j, "shards_missing");
    const cJSON *chunks = cJSON_GetObjectItemCaseSensitive(j, "chunks");
    if (!name || strcmp(name, collection) != 0)
        wrong(kind, r, "wrong collection");
    else if (!got_root || strcmp(got_root, root) != 0)
        wrong(kind, r, "wrong root");
    else if (!cJSON_IsNumber(missing) || !cJSON_IsArray(chunks))
        wrong(kind, r, "malformed answer");
    else {
        bool found = false, foreign = false;
        const cJSON *c;
        cJSON_ArrayForEach(c, chunks) {
            const char *path = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "path"));
            foreign |= !file_under(root, path);
            found |= path && expect && !strcmp(path, expect);
        }
        if (foreign)
            wrong(kind, r, "a chunk that is not a file of the repository");
        else if (complete && missing->valueint == 0 && expect && !found)
            wrong(kind, r, "the defining file is not among the chunks");
        else if (missing->valueint > 0 || !found)
            atomic_fetch_add(&tally.partial, 1);
    }
    cJSON_Delete(j);
}

/* The context of an echoed Qwen prompt: "<|repo_name|>shop" and file
 * sections "<|file_sep|>path" of files under shop_dir only. */
static void check_completion(const http_reply_t *r, bool restarting) {
    if (r->status != 200) {
        if (!restarting || !well_formed_error(r))
            wrong("completion", r, "not 200");
        else
            atomic_fetch_add(&tally.partial, 1);
        return;
    }
    cJSON *j = http_body_json(r);
    const char *text = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "response"));
    if (!text) {
        wrong("completion", r, "no response");
    } else if (!strstr(text, "<|fim_prefix|>") || !strstr(text, "apply_loy")) {
        wrong("completion", r, "the client's prompt did not reach the model whole");
    } else if (!strstr(text, "<|repo_name|>")) {
        if (!restarting)
            wrong("completion", r, "no context");
        else
            atomic_fetch_add(&tally.partial, 1);
    } else if (strncmp(strstr(text, "<|repo_name|>") + 13, "shop\n", 5) != 0) {
        wrong("completion", r, "context of another repository");
    } else {
        bool foreign = false, found = false;
        for (const char *p = strstr(text, "<|file_sep|>"); p; p = strstr(p + 1, "<|file_sep|>")) {
            char rel[512];
            size_t n = strcspn(p + 12, "\n");
            snprintf(rel, sizeof rel, "%.*s", (int)(n < sizeof rel ? n : sizeof rel - 1), p + 12);
            if (strcmp(rel, "untitled") != 0) /* the file being edited closes the list */
                foreign |= !file_under(shop_dir, rel);
            found |= !strcmp(rel, "py/shop/pricing/discounts.py");
        }
        if (foreign)
            wrong("completion", r, "a context file that is not in the repository");
        else if (!found && !restarting)
            wrong("completion", r, "the defining file is not in the context");
    }
    cJSON_Delete(j);
}

/* A chat's stream: SSE chunks whose contents join into the first message
 * the model got; that is the gateway's context message ("Code from the
 * repository shop ...", sections "\n<path>:<first>-<last>\n```") of files
 * under shop_dir only, or (restarting: no context came in time) the user's
 * own message.  The stream ends with [DONE], or, restarting, with an error
 * event in OpenAI's shape. */
static void check_chat(const http_reply_t *r, bool restarting) {
    if (r->status != 200) {
        cJSON *j = http_body_json(r);
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
        bool formed = r->status >= 400 &&
                      cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "message")) &&
                      cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "type"));
        cJSON_Delete(j);
        if (!restarting || !formed)
            wrong("chat", r, "not 200, or an error not in OpenAI's shape");
        else
            atomic_fetch_add(&tally.partial, 1);
        return;
    }
    buf_t content = BUF_INIT;
    bool done = false, failed = false, malformed = false;
    const char *p = r->body.data ? r->body.data : "";
    while (*p && !malformed) {
        size_t n = strcspn(p, "\n");
        if (n > 6 && !strncmp(p, "data: ", 6)) {
            if (done) /* nothing may follow [DONE] */
                malformed = true;
            else if (n == 12 && !strncmp(p + 6, "[DONE]", 6))
                done = true;
            else {
                cJSON *j = cJSON_ParseWithLength(p + 6, n - 6);
                const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
                const cJSON *delta = cJSON_GetObjectItemCaseSensitive(
                    cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "choices"), 0), "delta");
                const char *text =
                    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(delta, "content"));
                if (e && cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "message")))
                    failed = true;
                else if (!cJSON_IsObject(delta) || failed)
                    malformed = true;
                else if (text)
                    buf_append_str(&content, text);
                cJSON_Delete(j);
            }
        }
        p += n + (p[n] == '\n');
    }
    const char *text = content.data ? content.data : "";
    static const char head[] = "Code from the repository shop that may help";
    if (malformed || (!done && !failed)) {
        wrong("chat", r, "a malformed stream, or one without [DONE] or an error");
    } else if (failed) {
        if (!restarting)
            wrong("chat", r, "an error event while every worker was up");
        else
            atomic_fetch_add(&tally.partial, 1);
    } else if (strncmp(text, head, sizeof head - 1) != 0) {
        if (!strstr(text, CHAT_MARKER))
            wrong("chat", r, "the model got neither context of shop nor the user's message");
        else if (!restarting)
            wrong("chat", r, "no context");
        else
            atomic_fetch_add(&tally.partial, 1);
    } else {
        bool foreign = false, found = false;
        for (const char *q = strstr(text, "\n```"); q; q = strstr(q + 4, "\n```")) {
            /* the section's header line, "<path>:<first>-<last>", ends here */
            const char *line = q;
            while (line > text && line[-1] != '\n')
                line--;
            const char *colon = memchr(line, ':', (size_t)(q - line));
            if (!colon || !strchr("0123456789", colon[1]))
                continue; /* the closing fence of a section */
            char rel[512];
            snprintf(rel, sizeof rel, "%.*s", (int)(colon - line), line);
            foreign |= !file_under(shop_dir, rel);
            found |= !strcmp(rel, "py/shop/pricing/discounts.py");
        }
        if (foreign)
            wrong("chat", r, "a context file that is not in the repository");
        else if (!found && !restarting)
            wrong("chat", r, "the defining file is not in the context");
    }
    buf_free(&content);
}

/* ---- clients ---- */

typedef struct {
    int kind, index;
    atomic_bool *stop;
    atomic_bool *restarting;
} client_t;

static void one_request(CURL *handle, int kind, int round, bool restarting) {
    http_reply_t r;
    char body[1024];
    switch (kind) {
    case 0: { /* context, by each way of naming the repository */
        int way = round % 3;
        if (way == 0) {
            http_request(&(http_request_t){.handle = handle,
                                           .timeout_ms = ANSWER_MS,
                                           .path = "/c/shop/api/context",
                                           .body = "{\"query\":\"apply_loyalty_discount total "
                                                   "years\"}"},
                         &r);
            check_context("context /c/shop", &r, "shop", shop_dir, "py/shop/pricing/discounts.py",
                          true, restarting);
        } else if (way == 1) {
            http_request(&(http_request_t){.handle = handle,
                                           .timeout_ms = ANSWER_MS,
                                           .path = "/api/context",
                                           .body = "{\"collection\":\"other\",\"query\":"
                                                   "\"greet_visitor welcome\"}"},
                         &r);
            check_context("context other", &r, "other", other_dir, "lib/greet.py", true,
                          restarting);
        } else {
            snprintf(body, sizeof body,
                     "{\"query\":\"apply_loyalty_discount\",\"path\":\"%s/py/shop/cart.py\"}",
                     shop_dir);
            http_request(&(http_request_t){.handle = handle,
                                           .timeout_ms = ANSWER_MS,
                                           .path = "/api/context",
                                           .body = body},
                         &r);
            check_context("context by path", &r, "shop", shop_dir, "py/shop/pricing/discounts.py",
                          true, restarting);
        }
        break;
    }
    case 1: /* a deadline no retrieval can meet, then an ordinary request */
        http_request(&(http_request_t){.handle = handle,
                                       .timeout_ms = ANSWER_MS,
                                       .path = "/c/other/api/context",
                                       .body = "{\"query\":\"greet_visitor\",\"deadline_ms\":1}"},
                     &r);
        check_context("deadline 1 ms", &r, "other", other_dir, NULL, false, restarting);
        http_reply_free(&r);
        http_request(&(http_request_t){.handle = handle,
                                       .timeout_ms = ANSWER_MS,
                                       .path = "/c/other/api/context",
                                       .body = "{\"query\":\"greet_visitor welcome\"}"},
                     &r);
        check_context("after a short deadline", &r, "other", other_dir, "lib/greet.py", true,
                      restarting);
        break;
    case 2: { /* the list */
        http_request(&(http_request_t){.handle = handle,
                                       .timeout_ms = ANSWER_MS,
                                       .path = "/api/collections"},
                     &r);
        cJSON *j = http_body_json(&r);
        int seen = 0;
        const cJSON *c;
        cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(j, "collections")) {
            const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "name"));
            const char *root = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "root"));
            if (name && root && !strcmp(name, "shop") && !strcmp(root, shop_dir))
                seen |= 1;
            if (name && root && !strcmp(name, "other") && !strcmp(root, other_dir))
                seen |= 2;
        }
        if (r.status != 200 || seen != 3)
            wrong("collections", &r, "both repositories should be listed with their roots");
        cJSON_Delete(j);
        break;
    }
    case 4: /* chat, the repository named by a path in the message */
        snprintf(body, sizeof body,
                 "{\"model\":\"qwen2.5-coder:7b\",\"stream\":true,\"messages\":[{\"role\":"
                 "\"user\",\"content\":\"" CHAT_MARKER " File Path: %s/py/shop/cart.py\\n"
                 "How does apply_loyalty_discount compute the rate?\"}]}",
                 shop_dir);
        http_request(&(http_request_t){.handle = handle,
                                       .timeout_ms = ANSWER_MS,
                                       .path = "/v1/chat/completions",
                                       .body = body,
                                       .accept = "text/event-stream"},
                     &r);
        check_chat(&r, restarting);
        break;
    default: { /* completion */
        snprintf(body, sizeof body,
                 "{\"model\":\"qwen2.5-coder:1.5b-base\",\"raw\":true,\"stream\":false,"
                 "\"prompt\":\"<|fim_prefix|> from shop.pricing.discounts import "
                 "apply_loyalty_discount\\n\\n\\ndef checkout(total, years):\\n    return "
                 "apply_loy <|fim_suffix|>\\n <|fim_middle|>\"}");
        http_request(&(http_request_t){.handle = handle,
                                       .timeout_ms = ANSWER_MS,
                                       .path = "/c/shop/api/generate",
                                       .body = body},
                     &r);
        check_completion(&r, restarting);
        break;
    }
    }
    http_reply_free(&r);
    atomic_fetch_add(&tally.answers, 1);
    atomic_fetch_add(&tally.by_kind[kind], 1);
}

static void *client_main(void *arg) {
    client_t *c = arg;
    CURL *handle = curl_easy_init();
    for (int round = c->index; !atomic_load(c->stop); round++)
        one_request(handle, c->kind, round, atomic_load(c->restarting));
    curl_easy_cleanup(handle);
    return NULL;
}

/* ---- the stack ---- */

static bool setup(void) {
    if (up_tried)
        return up;
    up_tried = true;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    /* Deadlines no loaded machine misses while every worker is up: phase one
     * wants every answer complete. */
    static const char *const gateway_env[] = {"LCA_RAG_COMPLETION_MS=" RETRIEVAL_MS,
                                              "LCA_RAG_CHAT_MS=" RETRIEVAL_MS,
                                              "LCA_RAG_CHAT_BUDGET=1500", NULL};
    /* The product's heartbeat: with the tests' usual 100 ms, a process that
     * a loaded machine leaves without a core for 300 ms is taken for dead,
     * and phase one then sees answers cut short for no fault of the code. */
    if (!stack_start(&stack, &(stack_options_t){.generator = true,
                                                .gateway_env = gateway_env,
                                                .heartbeat_ms = 1000}))
        return false;
    http_base = stack.url;
    snprintf(shop_dir, sizeof shop_dir, "%s/shop", stack.dir);
    snprintf(other_dir, sizeof other_dir, "%s/other", stack.dir);
    snprintf(churn_dir, sizeof churn_dir, "%s/churn", stack.dir);
    bool ok = fixture_copy_repo(shop_dir) == 0 &&
              fixture_write_tree(shop_dir, fixture_pricing_files()) == 0 &&
              fixture_write_tree(other_dir, fixture_other_files()) == 0 &&
              fixture_write_text(churn_dir, "churn.py", "def churn_again():\n    return 1\n") == 0;
    if (!ok || !stack_seed(&stack, shop_dir, NULL) || !stack_seed(&stack, other_dir, NULL)) {
        fprintf(stderr, "  seeding failed; logs in %s\n", stack.dir);
        return false;
    }
    /* The fake answers every completion with the prompt it got, and every
     * chat with the first message it got. */
    ok = fake_ollama_script(&stack.fake, "{\"echo_prompt\":true}") &&
         fake_ollama_script(&stack.fake, "{\"match\":\"" CHAT_MARKER
                                         "\",\"echo_field\":\"messages.0.content\"}");
    /* The gateway's first list of collections; from here on no request may
     * find it unknown. */
    http_reply_t r;
    http_request(&(http_request_t){.path = "/api/collections"}, &r);
    ok = ok && r.status == 200 && strstr(r.body.data, "\"other\"");
    http_reply_free(&r);
    up = ok;
    return up;
}

/* A positive number from the environment, at least min (every route kind
 * has a client) and at most max, else fallback. */
static long env_number(const char *name, long fallback, long min, long max) {
    const char *v = getenv(name);
    long n = v ? atol(v) : 0;
    return n > 0 && n <= max ? (n < min ? min : n) : fallback;
}

typedef struct {
    pthread_t threads[MAX_CLIENTS];
    client_t clients[MAX_CLIENTS];
    int n;
    atomic_bool stop, restarting;
} run_t;

/* Starts clients threads, the route kinds in turn. */
static void run_start(run_t *run, int clients) {
    atomic_store(&run->stop, false);
    run->n = 0;
    for (int i = 0; i < clients; i++) {
        client_t *c = &run->clients[run->n];
        *c = (client_t){.kind = i % KINDS,
                        .index = i / KINDS,
                        .stop = &run->stop,
                        .restarting = &run->restarting};
        pthread_create(&run->threads[run->n++], NULL, client_main, c);
    }
}

static void run_stop(run_t *run) {
    atomic_store(&run->stop, true);
    for (int i = 0; i < run->n; i++)
        pthread_join(run->threads[i], NULL);
}

static void report(const char *phase) {
    fprintf(stderr,
            "  %s: %ld answers (context %ld, deadline %ld, collections %ld, completion %ld, "
            "chat %ld), %ld partial, %ld wrong\n",
            phase, atomic_load(&tally.answers), atomic_load(&tally.by_kind[0]),
            atomic_load(&tally.by_kind[1]), atomic_load(&tally.by_kind[2]),
            atomic_load(&tally.by_kind[3]), atomic_load(&tally.by_kind[4]),
            atomic_load(&tally.partial), atomic_load(&tally.wrong));
    if (tally.first_wrong[0])
        fprintf(stderr, "  first wrong answer: %s\n", tally.first_wrong);
}

/* True when no process of the stack wrote a sanitizer's report into its
 * log.  A worker that died of one is restarted in phase two and its
 * requests count as partial there, and a ThreadSanitizer report stops
 * nothing: the logs are where either shows. */
static bool sanitizer_clean(void) {
    static const char *const logs[] = {"gateway.log", "retriever.log", "embedder.log",
                                       "generator.log", "seeder.log"};
    static const char *const marks[] = {"WARNING: ThreadSanitizer", "ERROR: AddressSanitizer",
                                        "ERROR: LeakSanitizer", "runtime error:"};
    bool clean = true;
    for (size_t i = 0; i < sizeof logs / sizeof logs[0]; i++) {
        FILE *f = fopen(stack_path(&stack, logs[i]), "r");
        char line[4096];
        while (f && fgets(line, sizeof line, f))
            for (size_t k = 0; k < sizeof marks / sizeof marks[0]; k++)
                if (strstr(line, marks[k])) {
                    fprintf(stderr, "  %s/%s: %s", stack.dir, logs[i], line);
                    clean = false;
                }
        if (f)
            fclose(f);
    }
    return clean;
}

static void tally_reset(void) {
    atomic_store(&tally.answers, 0);
    atomic_store(&tally.wrong, 0);
    atomic_store(&tally.partial, 0);
    for (int k = 0; k < KINDS; k++)
        atomic_store(&tally.by_kind[k], 0);
    tally.first_wrong[0] = '\0';
}

static bool answered_enough(void *want) {
    return atomic_load(&tally.answers) >= (long)(intptr_t)want;
}

/* ---- tests ---- */

TEST(every_answer_is_right_while_collections_churn) {
    REQUIRE(setup());
    int clients = (int)env_number("LCA_STRESS_CLIENTS", 2 * KINDS, KINDS, MAX_CLIENTS);
    long phase_ms = env_number("LCA_STRESS_MS", 2500, 1, 3600000);
    static run_t run;
    tally_reset();
    run_start(&run, clients);
    int64_t until = proc_now_ms() + phase_ms;
    int reseeds = 0;
    const char *const reset[] = {"--reset", NULL};
    while (proc_now_ms() < until) {
        CHECK(stack_seed(&stack, churn_dir, reset));
        reseeds++;
    }
    run_stop(&run);
    report("all workers up");
    fprintf(stderr, "  the churn collection was dropped and seeded %d times\n", reseeds);
    CHECK_INT(atomic_load(&tally.wrong), ==, 0);
    for (int k = 0; k < KINDS; k++)
        CHECK_INT(atomic_load(&tally.by_kind[k]), >, 0);
    CHECK(sanitizer_clean());
}

TEST(answers_stay_right_while_workers_die) {
    REQUIRE(setup());
    int clients = (int)env_number("LCA_STRESS_CLIENTS", 2 * KINDS, KINDS, MAX_CLIENTS);
    long phase_ms = env_number("LCA_STRESS_MS", 2500, 1, 3600000);
    static run_t run;
    /* Warm up, then measure where memory starts from. */
    tally_reset();
    atomic_store(&run.restarting, false);
    run_start(&run, clients);
    CHECK(proc_wait_for(answered_enough, (void *)(intptr_t)(20 * clients), 30000));
    run_stop(&run);
    long rss_before = proc_status_kib(stack.gateway, "VmRSS");
    tally_reset();
    atomic_store(&run.restarting, true);
    run_start(&run, clients);
    int64_t until = proc_now_ms() + phase_ms;
    int kills = 0;
    while (proc_now_ms() < until) {
        switch (kills++ % 3) {
        case 0:
            stack_retriever_kill(&stack, 0);
            stack_retriever_start(&stack, 0);
            break;
        case 1:
            proc_stop(stack.embedder, SIGKILL, 5000);
            stack_embedder_start(&stack);
            break;
        default:
            proc_stop(stack.generator, SIGKILL, 5000);
            stack_generator_start(&stack);
            break;
        }
        /* Once the broker has let the dead one go (three heartbeats) and
         * the new one has joined. */
        CHECK(stack_ready(&stack, 30000));
    }
    run_stop(&run);
    report("workers killed and restarted");
    fprintf(stderr, "  %d workers killed with SIGKILL and restarted\n", kills);
    CHECK_INT(atomic_load(&tally.wrong), ==, 0);
    CHECK(proc_alive(stack.gateway));
    CHECK(sanitizer_clean());
    long rss_after = proc_status_kib(stack.gateway, "VmRSS");
    fprintf(stderr, "  gateway resident memory: %ld KiB after the warm-up, %ld KiB at the end\n",
            rss_before, rss_after);
    /* Only without the sanitizers: ASan's quarantine holds freed memory on
     * purpose, so resident memory grows whatever the code does. */
    if (getenv("LCA_STRESS_RSS"))
        CHECK_INT(rss_after * 10, <=, rss_before * 11);
}

int main(int argc, char **argv) {
    static const test_case_t cases[] = {
        TEST_CASE(every_answer_is_right_while_collections_churn),
        TEST_CASE(answers_stay_right_while_workers_die),
    };
    int rc = test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
    proc_kill_all();
    return rc;
}
