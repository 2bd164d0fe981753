/*
 * lca-seeder: index a repository into lca, and keep it indexed.
 *
 *   lca-seeder DIR [--collection NAME] [--watch] [--broker EP] [--shards N]
 *              [--reset] [--json]
 *
 * The run lists the files of DIR (walk.h), compares them with what the
 * retriever shards hold (sync.h), and sends only the difference: chunks of
 * new and changed files with their vectors, deletes of vanished files,
 * updated import lists.  It ends with a summary of what it did and what it
 * skipped and why.  With --watch it then follows edits (watch.h) and applies
 * each burst the same way, until SIGINT or SIGTERM.
 *
 * Output: progress on stderr (a bar on a terminal, plain lines otherwise);
 * the summary on stdout, or as one JSON object per run on stdout with
 * --json (the human summary then goes to stderr).  Exit status: 0 when
 * every file was indexed, 1 when a file or a write failed or lca could not
 * be used, 2 for bad arguments, 130 when interrupted during the first run.
 */
#include "proto/base/buf.h"
#include "proto/client.h"
#include "proto/options.h"
#include "proto/socket.h"
#include "proto/base/log.h"
#include "seeder/progress.h"
#include "seeder/sync.h"
#include "seeder/walk.h"
#include "seeder/watch.h"
#include "proto/base/signals.h"
#include "proto/base/settings.h"
#include "proto/base/clock.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SEEDER_RETRY_MS 5000 /* after a failed watch batch, wait before a full pass */

typedef struct {
    const char *dir;
    const char *collection;
    const char *broker;
    const char *curve_dir;
    long shards;
    bool watch;
    bool reset;
    bool json;
    long batch;      /* texts per embed request */
    long inflight;   /* embed requests in flight (0: twice the embedders' threads) */
    long timeout_ms; /* deadline of control requests */
} options_t;

/* A collection name from a directory name: keep [A-Za-z0-9._-], map the
 * rest to '-'. */
static void collection_from_dir(const char *root, char *out, size_t len) {
    const char *base = strrchr(root, '/');
    base = base && base[1] ? base + 1 : root;
    size_t n = 0;
    for (const char *p = base; *p && n + 1 < len; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        out[n++] = ok ? c : '-';
    }
    out[n] = '\0';
    if (n == 0 || strcmp(out, ".") == 0 || strcmp(out, "..") == 0)
        snprintf(out, len, "root");
}

static bool collection_valid(const char *name) {
    size_t n = strlen(name);
    if (n == 0 || n > 64 || !strcmp(name, ".") || !strcmp(name, ".."))
        return false;
    for (const char *p = name; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* ---- the summary ---- */

static double rate(double amount, int64_t ms) {
    return ms > 0 ? amount * 1000.0 / (double)ms : 0;
}

static void print_human(FILE *out, const char *collection, const char *method,
                        const sync_stats_t *st) {
    char bytes[32];
    progress_format_bytes(st->bytes_indexed, bytes, sizeof bytes);
    fprintf(out,
            "%s: %llu indexed (%llu new), %llu unchanged, %llu deleted, %llu skipped, "
            "%llu failed%s%s\n",
            collection, (unsigned long long)st->files_indexed, (unsigned long long)st->files_new,
            (unsigned long long)st->files_unchanged, (unsigned long long)st->files_deleted,
            (unsigned long long)st->files_skipped,
            (unsigned long long)(st->files_failed + st->writes_failed), method ? " via " : "",
            method ? method : "");
    fprintf(out, "  %llu chunks, %s in %.2f s (%.2f MB/s, %.0f files/s), %llu embed requests\n",
            (unsigned long long)st->chunks, bytes, (double)st->elapsed_ms / 1000.0,
            rate((double)st->bytes_indexed / 1e6, st->elapsed_ms),
            rate((double)st->files_indexed, st->elapsed_ms),
            (unsigned long long)st->embed_requests);
    if (st->imports_updates)
        fprintf(out, "  import lists updated for %llu files\n",
                (unsigned long long)st->imports_updates);
    if (st->writes_failed || st->writes_retried)
        fprintf(out, "  writes to the shards: %llu sent again after a fault, %llu failed\n",
                (unsigned long long)st->writes_retried, (unsigned long long)st->writes_failed);
    for (int r = 1; r < WALK_REASON_COUNT; r++) {
        if (!st->skipped[r])
            continue;
        fprintf(out, "  skipped %llu %s:", (unsigned long long)st->skipped[r],
                walk_reason_name((walk_reason_t)r));
        for (int i = 0; i < SYNC_EXAMPLES && st->examples[r][i]; i++)
            fprintf(out, "%s %s", i ? "," : "", st->examples[r][i]);
        if (st->skipped[r] > SYNC_EXAMPLES)
            fprintf(out, ", ...");
        fprintf(out, "\n");
    }
    fflush(out);
}

static void print_json(FILE *out, const char *event, const char *collection, const char *root,
                       const char *method, const sync_t *sync, int shards, const sync_stats_t *st) {
    buf_t b = BUF_INIT;
    buf_printf(&b, "{\"event\":\"%s\",\"collection\":", event);
    buf_append_json_string(&b, collection, strlen(collection));
    buf_append_str(&b, ",\"root\":");
    buf_append_json_string(&b, root, strlen(root));
    if (method)
        buf_printf(&b, ",\"method\":\"%s\"", method);
    buf_append_str(&b, ",\"model\":");
    buf_append_json_string(&b, sync_model(sync), strlen(sync_model(sync)));
    buf_printf(&b,
               ",\"dim\":%u,\"shards\":%d,\"files\":{\"seen\":%llu,\"indexed\":%llu,"
               "\"new\":%llu,\"unchanged\":%llu,\"deleted\":%llu,\"skipped\":%llu,"
               "\"failed\":%llu},\"writes_failed\":%llu,\"writes_retried\":%llu,\"chunks\":%llu,"
               "\"texts_embedded\":%llu,\"embed_requests\":%llu,\"imports_updates\":%llu,"
               "\"bytes_seen\":%llu,\"bytes_indexed\":%llu,\"seconds\":%.3f,"
               "\"mb_per_s\":%.3f,\"files_per_s\":%.1f,\"skipped\":{",
               sync_dim(sync), shards, (unsigned long long)st->files_seen,
               (unsigned long long)st->files_indexed, (unsigned long long)st->files_new,
               (unsigned long long)st->files_unchanged, (unsigned long long)st->files_deleted,
               (unsigned long long)st->files_skipped, (unsigned long long)st->files_failed,
               (unsigned long long)st->writes_failed, (unsigned long long)st->writes_retried,
               (unsigned long long)st->chunks, (unsigned long long)st->texts_embedded,
               (unsigned long long)st->embed_requests, (unsigned long long)st->imports_updates,
               (unsigned long long)st->bytes_seen, (unsigned long long)st->bytes_indexed,
               (double)st->elapsed_ms / 1000.0,
               rate((double)st->bytes_indexed / 1e6, st->elapsed_ms),
               rate((double)st->files_indexed, st->elapsed_ms));
    bool first = true;
    for (int r = 1; r < WALK_REASON_COUNT; r++) {
        if (!st->skipped[r])
            continue;
        buf_printf(&b, "%s\"%s\":{\"count\":%llu,\"examples\":[", first ? "" : ",",
                   walk_reason_name((walk_reason_t)r), (unsigned long long)st->skipped[r]);
        first = false;
        for (int i = 0; i < SYNC_EXAMPLES && st->examples[r][i]; i++) {
            if (i)
                buf_append_str(&b, ",");
            buf_append_json_string(&b, st->examples[r][i], strlen(st->examples[r][i]));
        }
        buf_append_str(&b, "]}");
    }
    if (buf_append_str(&b, "}}\n") == 0) {
        fwrite(b.data, 1, b.len, out);
        fflush(out);
    }
    buf_free(&b);
}

static void report(const options_t *o, const char *event, const char *collection, const char *root,
                   const char *method, const sync_t *sync, const sync_stats_t *st) {
    print_human(o->json ? stderr : stdout, collection, method, st);
    if (o->json)
        print_json(stdout, event, collection, root, method, sync, (int)o->shards, st);
}

/* ---- runs ---- */

/* Lists root and syncs everything.  Returns 0, 1 (some files failed), or
 * a negative errno with *error set. */
static int run_full(const options_t *o, sync_t *sync, const char *collection, const char *root,
                    const char *event, char **error) {
    walk_t *walk = NULL;
    int64_t started = clock_ms();
    int rc = walk_list(root, NULL, &walk, error);
    if (rc != 0)
        return rc;
    sync_stats_t st = {0};
    rc = sync_full(sync, walk, &st, error);
    st.elapsed_ms = clock_ms() - started; /* the listing is part of the run */
    if (rc == 0 || rc == -EINTR)
        report(o, event, collection, root, walk_method(walk), sync, &st);
    int failed = st.files_failed + st.writes_failed > 0;
    sync_stats_free(&st);
    walk_destroy(&walk);
    return rc != 0 ? rc : failed;
}

/* Follows edits until a stop is requested. */
static int run_watch(const options_t *o, sync_t *sync, watch_t *watch, const char *collection,
                     const char *root) {
    fprintf(stderr, "watching %s (%zu directories); Ctrl-C stops\n", root, watch_dir_count(watch));
    int64_t retry_at = 0; /* a failed batch asks for a full pass at this time */
    while (!stop_requested()) {
        int due = watch_due_in(watch);
        int timeout = due < 0 ? 1000 : due;
        if (retry_at) {
            int64_t left = retry_at - clock_ms();
            timeout = left <= 0 ? 0 : left < timeout ? (int)left : timeout;
        }
        struct pollfd p = {.fd = watch_fd(watch), .events = POLLIN};
        int n = poll(&p, 1, timeout);
        if (n < 0 && errno != EINTR) {
            fprintf(stderr, "lca-seeder: poll: %s\n", strerror(errno));
            return 1;
        }
        int events = n > 0 ? watch_read(watch) : 0;
        if (events < 0) {
            fprintf(stderr, "lca-seeder: reading inotify events: %s\n", strerror(-events));
            return 1;
        }
        bool retry = retry_at && clock_ms() >= retry_at;
        if (watch_due_in(watch) != 0 && !retry)
            continue;
        char **paths = NULL;
        size_t count = 0;
        bool rescan = false;
        if (watch_take(watch, &paths, &count, &rescan) != 0)
            continue;
        char *error = NULL;
        int rc;
        if (rescan || retry) {
            rc = run_full(o, sync, collection, root, "watch", &error);
        } else {
            sync_stats_t st = {0};
            rc = sync_paths(sync, (const char *const *)paths, count, &st, &error);
            if (rc == 0 && (st.files_indexed || st.files_deleted || st.files_failed ||
                            st.writes_failed || st.files_skipped || st.imports_updates))
                report(o, "watch", collection, root, NULL, sync, &st);
            sync_stats_free(&st);
        }
        watch_paths_free(paths, count);
        if (rc == -EINTR)
            break;
        if (rc < 0) {
            fprintf(stderr, "lca-seeder: %s; trying again in %d s\n", error ? error : strerror(-rc),
                    SEEDER_RETRY_MS / 1000);
            retry_at = clock_ms() + SEEDER_RETRY_MS;
        } else {
            retry_at = 0;
        }
        free(error);
    }
    fprintf(stderr, "stopped watching %s\n", root);
    return 0;
}

#define ABOUT                                                                                      \
    "Indexes the repository in DIR into lca: lists its files (git ls-files, or a "                 \
    "walk that honours .gitignore), chunks new and changed files at their "                        \
    "definitions, embeds them and writes them to the retriever shards.  Unchanged "                \
    "files cost a hash; deleted files are removed."

int main(int argc, char **argv) {
    log_init("seeder");
    options_t o = {.broker = proto_broker_default(), .shards = 2, .batch = 128, .timeout_ms = 5000};
    const setting_t settings[] = {
        {"collection", 0, NULL, SETTING_TEXT, "NAME",
         "collection name; by default the directory's name", .out = &o.collection},
        {"watch", 0, NULL, SETTING_SWITCH, NULL,
         "keep following edits after the first run (inotify)", .out = &o.watch},
        OPTION_BROKER(&o.broker),
        OPTION_SHARDS(&o.shards),
        {"reset", 0, NULL, SETTING_SWITCH, NULL,
         "drop the collection first and index everything again", .out = &o.reset},
        {"json", 0, NULL, SETTING_SWITCH, NULL,
         "print each run's summary as one JSON object on stdout", .out = &o.json},
        OPTION_CURVE_KEYS(&o.curve_dir),
        {NULL, 0, "LCA_SEEDER_BATCH", SETTING_NUMBER, NULL, "texts per embed request", .min = 1,
         .max = 4096, .out = &o.batch},
        {NULL, 0, "LCA_SEEDER_INFLIGHT", SETTING_NUMBER, NULL, "embed requests in flight",
         .shown = "twice the embedders' threads", .min = 0, .max = 64, .out = &o.inflight},
        {NULL, 0, "LCA_SEEDER_TIMEOUT_MS", SETTING_NUMBER, NULL,
         "how long to wait for the broker and each service to answer", .min = 100, .max = 600000,
         .out = &o.timeout_ms},
    };
    const settings_spec_t spec = {"lca-seeder",          "DIR [options]",   ABOUT,
                                  SETTINGS_OF(settings), .operands = "DIR", .min_operands = 1,
                                  .max_operands = 1};
    int first = 0, parsed = settings_read(&spec, argc, argv, &first);
    if (parsed != SETTINGS_GO_ON)
        return parsed;
    o.dir = argv[first];

    char root[PATH_MAX];
    struct stat st;
    errno = 0;
    if (!realpath(o.dir, root) || stat(root, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "lca-seeder: cannot seed %s: %s\n", o.dir,
                errno ? strerror(errno) : "not a directory");
        return 2;
    }
    char collection[80];
    if (o.collection) {
        if (!collection_valid(o.collection)) {
            fprintf(stderr,
                    "lca-seeder: bad collection name \"%s\": use 1 to 64 of A-Z a-z 0-9 . _ -\n",
                    o.collection);
            return 2;
        }
        snprintf(collection, sizeof collection, "%s", o.collection);
    } else {
        collection_from_dir(root, collection, sizeof collection);
    }

    stop_on_signals();
    char err[512];
    proto_client_t *client = proto_client_new(o.broker, o.curve_dir, err, sizeof err);
    if (!client) {
        fprintf(stderr, "lca-seeder: %s\n", err);
        return 1;
    }
    progress_t *progress = progress_new(stderr, isatty(STDERR_FILENO), 2000);
    sync_config_t config = {
        .client = client,
        .endpoint = o.broker,
        .collection = collection,
        .root = root,
        .shards = (int)o.shards,
        .reset = o.reset,
        .embed_batch = (int)o.batch,
        .embed_inflight = (int)o.inflight,
        .timeout_ms = (int)o.timeout_ms,
        .progress = progress,
    };
    int status = 1;
    char *error = NULL;
    sync_t *sync = NULL;
    watch_t *watch = NULL;
    int rc = sync_open(&config, &sync, &error);
    if (rc != 0)
        goto done;
    /* Watch before the first listing, so edits made during it are not lost. */
    if (o.watch && (rc = watch_new(root, &watch, &error)) != 0)
        goto done;
    rc = run_full(&o, sync, collection, root, "seed", &error);
    if (rc < 0)
        goto done;
    status = rc;
    if (o.watch)
        run_watch(&o, sync, watch, collection, root);
done:
    if (rc == -EINTR) {
        fprintf(stderr, "lca-seeder: interrupted\n");
        status = 130;
    } else if (rc < 0) {
        fprintf(stderr, "lca-seeder: %s\n", error ? error : strerror(-rc));
        status = 1;
    }
    free(error);
    watch_destroy(&watch);
    sync_destroy(&sync);
    progress_destroy(&progress);
    proto_client_destroy(&client);
    return status;
}
