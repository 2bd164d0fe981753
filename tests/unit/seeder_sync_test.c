/*
 * Tests of seeder/sync against scripted services: a broker inside the test
 * process, an "embed" worker that answers with constant vectors, and two
 * "retrieve.<i>" workers that keep nothing but what the tests look at (the
 * chunk texts they were sent, the imports.put they took) and refuse what a
 * test tells them to.  Every shard says it holds no file, so every run
 * indexes every file again.
 *
 * Covered: a tree changed between the walk and the read (a directory and a
 * file swapped for symlinks out of the root) is not read; an imports.put a
 * shard fails once is sent again and lands; one that keeps failing is
 * reported with what it leaves wrong; a refusal (400) is not repeated.
 */
#define _XOPEN_SOURCE 700
#include "seeder/sync.h"

#include "proto/base/buf.h"
#include "proto/base/signals.h"
#include "proto/broker.h"
#include "proto/client.h"
#include "proto/shard.h"
#include "proto/worker.h"

#include <cJSON.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/fixture.h"
#include "tests/test.h"

/* The bytes the program has allocated and not freed: the sanitizer's count
 * under ASan (its quarantine keeps freed memory, so RSS says nothing),
 * glibc's otherwise. */
#if defined(__SANITIZE_ADDRESS__)
#define HEAP_FROM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HEAP_FROM_ASAN 1
#endif
#endif
#ifdef HEAP_FROM_ASAN
size_t __sanitizer_get_current_allocated_bytes(void);
static size_t heap_in_use(void) {
    return __sanitizer_get_current_allocated_bytes();
}
#else
#include <malloc.h>
static size_t heap_in_use(void) {
    return mallinfo2().uordblks;
}
#endif

#define SHARDS 2
#define DIM 16
#define HEARTBEAT_MS 200

/* ---- the scripted services ---- */

static struct {
    pthread_mutex_t lock;
    buf_t texts;          /* every chunk text a file.put carried, one after another */
    int refuse;           /* imports.put to fail before taking one */
    int refuse_status;    /* with this status */
    int imports_refused;  /* imports.put failed so far */
    int imports_taken;    /* imports.put taken */
    char taken_path[256]; /* the path of the last one taken */
    bool sample_heap;     /* record the heap in use when a shard request comes */
    size_t heap_max;      /* the most seen */
    size_t heap_last;     /* at the last request */
} fake = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void embed_handler(proto_job_t *job, void *arg) {
    (void)arg;
    const char *op =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(proto_job_json(job), "op"));
    char header[128];
    if (op && strcmp(op, "info") == 0) {
        snprintf(header, sizeof header, "{\"model\":\"fake\",\"dim\":%d}", DIM);
        proto_job_final(job, header, NULL, 0);
        return;
    }
    size_t len = 0, pos = 0, count = 0, text_len;
    const char *text;
    const void *payload = proto_job_payload(job, &len);
    while (payload && texts_next(payload, len, &pos, &text, &text_len) == 1)
        count++;
    float *vectors = malloc((count ? count : 1) * DIM * sizeof *vectors);
    if (!vectors) {
        proto_job_error(job, 500, "out of memory");
        return;
    }
    for (size_t i = 0; i < count * DIM; i++)
        vectors[i] = 0.25f;
    snprintf(header, sizeof header, "{\"model\":\"fake\",\"dim\":%d,\"count\":%zu}", DIM, count);
    proto_job_final(job, header, vectors, count * DIM * sizeof *vectors);
    free(vectors);
}

static void shard_handler(proto_job_t *job, void *arg) {
    (void)arg;
    const cJSON *h = proto_job_json(job);
    const char *op = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(h, "op"));
    const char *path = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(h, "path"));
    pthread_mutex_lock(&fake.lock);
    if (fake.sample_heap) {
        size_t now = heap_in_use();
        if (now > fake.heap_max)
            fake.heap_max = now;
        fake.heap_last = now;
    }
    pthread_mutex_unlock(&fake.lock);
    if (!op) {
        proto_job_error(job, 400, "no op");
    } else if (strcmp(op, "collection.ensure") == 0) {
        char header[64];
        snprintf(header, sizeof header, "{\"created\":true,\"placement\":%d}", SHARD_PLACEMENT);
        proto_job_final(job, header, NULL, 0);
    } else if (strcmp(op, "collection.files") == 0) {
        proto_job_final(job, "{}", "{\"files\":[]}", 12);
    } else if (strcmp(op, "file.put") == 0) {
        size_t len = 0, pos = 0, text_len;
        const char *text;
        const void *payload = proto_job_payload(job, &len);
        pthread_mutex_lock(&fake.lock);
        while (payload && texts_next(payload, len, &pos, &text, &text_len) == 1)
            buf_append(&fake.texts, text, text_len);
        pthread_mutex_unlock(&fake.lock);
        proto_job_final(job, "{}", NULL, 0);
    } else if (strcmp(op, "imports.put") == 0) {
        pthread_mutex_lock(&fake.lock);
        bool refuse = fake.refuse > 0;
        if (refuse) {
            fake.refuse--;
            fake.imports_refused++;
        } else {
            fake.imports_taken++;
            snprintf(fake.taken_path, sizeof fake.taken_path, "%s", path ? path : "");
        }
        int status = fake.refuse_status;
        pthread_mutex_unlock(&fake.lock);
        if (refuse)
            proto_job_error(job, status, "refused by the test");
        else
            proto_job_final(job, "{}", NULL, 0);
    } else {
        proto_job_final(job, "{}", NULL, 0);
    }
}

static broker_t *broker;
static proto_client_t *client;
static proto_worker_t *workers[1 + SHARDS];
static pthread_t threads[1 + SHARDS];
static int nworkers;
static char root[64], outside[64]; /* short: every path built from them fits */

static void *worker_main(void *worker) {
    proto_worker_run(worker);
    return NULL;
}

static bool serve(const char *service, proto_handler_t handler) {
    char err[256];
    proto_worker_t *w =
        proto_worker_new(&(proto_worker_config_t){.endpoint = broker_local_endpoint(broker),
                                                  .service = service,
                                                  .capacity = 2,
                                                  .heartbeat_ms = HEARTBEAT_MS,
                                                  .handler = handler},
                         err, sizeof err);
    if (!w) {
        fprintf(stderr, "  worker %s: %s\n", service, err);
        return false;
    }
    if (pthread_create(&threads[nworkers], NULL, worker_main, w) != 0) {
        proto_worker_destroy(&w);
        return false;
    }
    workers[nworkers++] = w;
    return true;
}

static void teardown(void) {
    stop_request(); /* the workers' end; sync runs would stop too, so it comes last */
    for (int i = 0; i < nworkers; i++) {
        pthread_join(threads[i], NULL);
        proto_worker_destroy(&workers[i]);
    }
    proto_client_destroy(&client);
    broker_destroy(&broker);
    buf_free(&fake.texts);
    fixture_remove_tree(root);
    fixture_remove_tree(outside);
}

/* The broker, the services and the two trees, once for the whole file. */
static bool setup(void) {
    if (client)
        return true;
    char err[256];
    broker = broker_new(&(broker_config_t){.heartbeat_ms = HEARTBEAT_MS}, err, sizeof err);
    if (!broker) {
        fprintf(stderr, "  broker: %s\n", err);
        return false;
    }
    test_before_exit = teardown;
    char service[SHARD_SERVICE_MAX];
    if (!serve("embed", embed_handler) || !serve(shard_service(0, service), shard_handler) ||
        !serve(shard_service(1, service), shard_handler))
        return false;
    client = proto_client_new(broker_local_endpoint(broker), NULL, err, sizeof err);
    if (!client || !fixture_tmpdir(root, sizeof root, "sync") ||
        !fixture_tmpdir(outside, sizeof outside, "sync-out"))
        return false;
    char real[PATH_MAX];
    if (!realpath(root, real) || strlen(real) >= sizeof root)
        return false;
    memcpy(root, real, strlen(real) + 1);
    return true;
}

/* One sync_full of root into collection, its report lines in report. */
typedef struct {
    int rc;
    sync_stats_t stats;
    char report[8192];
} run_t;

static void sync_root(run_t *run, const char *collection, int attempts, void (*between)(void)) {
    memset(run, 0, sizeof *run);
    run->rc = -1;
    FILE *report = fmemopen(run->report, sizeof run->report - 1, "w");
    if (!report)
        return;
    setvbuf(report, NULL, _IONBF, 0);
    sync_config_t config = {.client = client,
                            .endpoint = broker_local_endpoint(broker),
                            .collection = collection,
                            .root = root,
                            .shards = SHARDS,
                            .write_attempts = attempts,
                            .retry_ms = 20,
                            .report = report};
    sync_t *sync = NULL;
    char *error = NULL;
    walk_t *walk = NULL;
    walk_options_t options;
    walk_options_default(&options);
    options.use_git = false;
    config.walk_options = &options;
    if ((run->rc = sync_open(&config, &sync, &error)) == 0 &&
        (run->rc = walk_list(root, &options, &walk, &error)) == 0) {
        if (between)
            between(); /* the tree changes after it was listed */
        run->rc = sync_full(sync, walk, &run->stats, &error);
    }
    if (run->rc != 0)
        fprintf(stderr, "  sync: %d %s\n", run->rc, error ? error : "");
    free(error);
    walk_destroy(&walk);
    sync_destroy(&sync);
    fclose(report);
}

static void refuse_imports(int count, int status) {
    pthread_mutex_lock(&fake.lock);
    fake.refuse = count;
    fake.refuse_status = status;
    fake.imports_refused = fake.imports_taken = 0;
    fake.taken_path[0] = '\0';
    buf_reset(&fake.texts);
    pthread_mutex_unlock(&fake.lock);
}

static bool texts_contain(const char *needle) {
    pthread_mutex_lock(&fake.lock);
    bool found = fake.texts.len && memmem(fake.texts.data, fake.texts.len, needle, strlen(needle));
    pthread_mutex_unlock(&fake.lock);
    return found;
}

/* ---- tests ---- */

/* Swaps, after the walk: the directory lib/ for a symlink to a directory
 * outside holding a file of the same name, and main.py for a symlink to a
 * file outside. */
static void swap_for_symlinks(void) {
    char path[PATH_MAX], moved[PATH_MAX], target[PATH_MAX];
    snprintf(path, sizeof path, "%s/lib", root);
    snprintf(moved, sizeof moved, "%s/lib.before", root);
    snprintf(target, sizeof target, "%s/lib", outside);
    if (rename(path, moved) != 0 || symlink(target, path) != 0)
        fprintf(stderr, "  swapping lib/: %s\n", strerror(errno));
    snprintf(path, sizeof path, "%s/main.py", root);
    snprintf(target, sizeof target, "%s/secret.py", outside);
    if (unlink(path) != 0 || symlink(target, path) != 0)
        fprintf(stderr, "  swapping main.py: %s\n", strerror(errno));
}

TEST(a_tree_changed_after_the_walk_is_not_read_outside_the_root) {
    REQUIRE(setup());
    fixture_write_text(root, "main.py", "def main():\n    return 1\n");
    fixture_write_text(root, "lib/code.py", "def helper():\n    return 2\n");
    fixture_write_text(root, "other.py", "def other():\n    return 3\n");
    fixture_write_text(outside, "lib/code.py", "def leaked():\n    return 'SECRET in lib'\n");
    fixture_write_text(outside, "secret.py", "def leaked():\n    return 'SECRET in a file'\n");
    refuse_imports(0, 0);
    run_t run;
    sync_root(&run, "swapped", 0, swap_for_symlinks);
    CHECK_INT(run.rc, ==, 0);
    CHECK_INT(run.stats.files_seen, ==, 3);
    CHECK_INT(run.stats.files_failed, ==, 2);
    CHECK_INT(run.stats.files_indexed, ==, 1);
    CHECK(texts_contain("def other()"));
    CHECK(!texts_contain("SECRET"));
    CHECK(strstr(run.report, "error: lib/code.py: cannot read it: its path now leads outside "
                             "the root") != NULL);
    CHECK(strstr(run.report, "error: main.py: cannot read it: its path now leads outside") != NULL);
    sync_stats_free(&run.stats);
}

/* main.py imports util.py: its imports.put goes to both shards. */
static void put_importing_files(void) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/main.py", root);
    unlink(path);
    fixture_write_text(root, "main.py", "import util\n\n\ndef main():\n    return util.helper()\n");
    fixture_write_text(root, "util.py", "def helper():\n    return 1\n");
}

TEST(an_imports_put_a_shard_fails_once_is_sent_again) {
    REQUIRE(setup());
    put_importing_files();
    refuse_imports(1, 503);
    run_t run;
    sync_root(&run, "retried", 0, NULL);
    CHECK_INT(run.rc, ==, 0);
    CHECK_INT(run.stats.files_failed, ==, 0);
    CHECK_INT(run.stats.writes_failed, ==, 0);
    CHECK_INT(run.stats.writes_retried, ==, 1);
    CHECK_INT(fake.imports_refused, ==, 1);
    CHECK_INT(fake.imports_taken, >=, SHARDS); /* main.py's, on every shard */
    CHECK(strstr(run.report, "error:") == NULL);
    sync_stats_free(&run.stats);
}

TEST(an_imports_put_that_keeps_failing_is_reported_with_its_consequence) {
    REQUIRE(setup());
    put_importing_files();
    refuse_imports(1000, 500);
    run_t run;
    sync_root(&run, "refused", 3, NULL);
    CHECK_INT(run.rc, ==, 0);
    CHECK_INT(run.stats.files_failed, ==, 0); /* the files themselves were written */
    CHECK_INT(run.stats.writes_failed, >=, SHARDS);
    CHECK_INT(run.stats.writes_retried, ==, 2 * run.stats.writes_failed);
    CHECK_INT(fake.imports_refused, ==, 3 * (int)run.stats.writes_failed);
    CHECK_INT(fake.imports_taken, ==, 0);
    CHECK(strstr(run.report, "error: imports.put main.py on retrieve.") != NULL);
    CHECK(strstr(run.report, "failed after 3 attempts: ") != NULL);
    CHECK(strstr(run.report, "refused by the test") != NULL);
    CHECK(strstr(run.report, "seeded with --reset") != NULL);
    sync_stats_free(&run.stats);
}

TEST(a_refusal_is_not_sent_again) {
    REQUIRE(setup());
    put_importing_files();
    refuse_imports(1, 400);
    run_t run;
    sync_root(&run, "bad-request", 0, NULL);
    CHECK_INT(run.rc, ==, 0);
    CHECK_INT(run.stats.writes_retried, ==, 0);
    CHECK_INT(run.stats.writes_failed, ==, 1);
    CHECK_INT(fake.imports_refused, ==, 1);
    CHECK(strstr(run.report, "failed: retrieve.") != NULL); /* no "after N attempts" */
    sync_stats_free(&run.stats);
}

/* Memory a run holds is bounded by its window of loaded files, not by the
 * repository: each file's list of references (room for SYNC_REFS_MAX of
 * them, 24 KiB) once stayed until the end of the run, 220 MB of the
 * seeder's 340 MB peak on /usr/include.  Here 1500 small files that each
 * make a few references: kept, their lists alone would be 36 MB by the
 * last request of the run.  All of them fit the window of loaded files at
 * once, so the peak is that window's: each file's chunks once took a
 * 32 KiB block for their names, 48 MB in all. */
TEST(a_runs_memory_does_not_grow_with_the_repository) {
    REQUIRE(setup());
    enum { FILES = 1500 };
    char name[64], text[256];
    fixture_write_text(root, "util.py", "def helper(x):\n    return x\n");
    for (int i = 0; i < FILES; i++) {
        snprintf(name, sizeof name, "pkg/m%04d.py", i);
        snprintf(text, sizeof text,
                 "import util\n\n\ndef f%d(order):\n    return util.helper(order.total_%d) + "
                 "order.tax_rate\n",
                 i, i % 7);
        REQUIRE(fixture_write_text(root, name, text) == 0);
    }
    refuse_imports(0, 0);
    size_t before = heap_in_use();
    pthread_mutex_lock(&fake.lock);
    fake.heap_max = before;
    fake.sample_heap = true;
    pthread_mutex_unlock(&fake.lock);
    run_t run;
    sync_root(&run, "many", 0, NULL);
    pthread_mutex_lock(&fake.lock);
    fake.sample_heap = false;
    size_t grown = fake.heap_max - before;
    size_t held = fake.heap_last > before ? fake.heap_last - before : 0;
    pthread_mutex_unlock(&fake.lock);
    CHECK_INT(run.rc, ==, 0);
    CHECK_INT(run.stats.files_indexed, >=, FILES);
    CHECK_INT(fake.imports_taken, >=, FILES * SHARDS); /* the references went out */
    printf("# %d files: at most %zu KiB more heap in use during the run, %zu KiB at its last "
           "request\n",
           FILES, grown / 1024, held / 1024);
    CHECK_INT(held, <, (size_t)FILES * 4096);
    CHECK_INT(grown, <, (size_t)FILES * 8192);
    sync_stats_free(&run.stats);
}

TEST_MAIN(TEST_CASE(a_tree_changed_after_the_walk_is_not_read_outside_the_root),
          TEST_CASE(an_imports_put_a_shard_fails_once_is_sent_again),
          TEST_CASE(an_imports_put_that_keeps_failing_is_reported_with_its_consequence),
          TEST_CASE(a_refusal_is_not_sent_again),
          TEST_CASE(a_runs_memory_does_not_grow_with_the_repository))
