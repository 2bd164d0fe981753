/*
 * lca-retriever: the "retrieve.<i>" service, shard i of N of every collection.
 *
 *   lca-retriever --shard i/N [--data DIR] [--broker EP] [--threads T]
 *
 * Wire contract (the seeder and the gateway are written against it).  Every
 * request header is a JSON object with "op"; every op but `collections` and
 * `stats` also has "collection".  Errors are ERROR {status, message}: 400 for
 * a bad request (unknown op, missing or mistyped field, malformed payload,
 * vector of the wrong size, a path that belongs to another shard), 404 for
 * an unknown collection, 409 for a collection indexed differently, 500/503
 * for faults of this process.
 *
 *  collection.ensure {collection, root, model, dim, shards}
 *      Creates the collection or checks the existing record.  A different
 *      model, dim or shards is 409 "collection 'x' was indexed with <model>
 *      (<dim> dims, <n> shards); re-seed it with --reset to change".
 *      -> FINAL {"created": bool}
 *  collection.drop {collection}            -> FINAL {"dropped": true}
 *      Deletes all its rows and vectors (idempotent).
 *  collection.files {collection}
 *      -> FINAL, payload {"files":[{"path","hash"}...]} (this shard's files)
 *  file.put {collection, path, hash, language, imports:[paths]}
 *      payload = packed texts (proto/base/buf.h): text 0 is JSON
 *      {"chunks":[{"start_line","end_line","kind","symbols":[...],
 *      "identifiers":[...]}...]}, then one text per chunk (its source), then
 *      one text of n*dim little-endian float32 (n = number of chunks).
 *      Replaces the file's chunks, tokens, symbols, vectors and imports in
 *      one transaction.  path must be this shard's (shard_of).
 *      -> FINAL {"chunks": n}
 *  file.delete {collection, path}          -> FINAL {"deleted": true}
 *  imports.put {collection, path, imports:[paths]}
 *  imports.delete {collection, path}       -> FINAL {}
 *      The import graph is replicated to every shard (the seeder sends
 *      these to all), so any shard answers "what does F import"; the
 *      number of files importing a target is its in-degree.
 *  collection.touch {collection, seeded_at (unix seconds)} -> FINAL {}
 *      Also merges the collection's token index, after replying.
 *  collections {}
 *      -> FINAL, payload {"collections":[{"name","root","model","dim",
 *         "shards","files","chunks","seeded_at"}...]} (this shard's counts)
 *  search {collection, k (10), path, query, symbols:[...], object,
 *          mode "i8"|"f32" ("i8"), limit (4*k)}; payload: optional query
 *      vector (dim float32)
 *      -> FINAL {"count": n, "us": time taken}, payload {"chunks":[{"id","path","start_line",
 *         "end_line","language","kind","text","symbols":[...],
 *         "signals":{"dense","bm25","symbol","import","object","uses",
 *         "imported_by"}}...]}: the union of every signal's candidates on
 *         this shard, never a chunk of `path` itself (see retriever/search.h
 *         for what each signal means).
 *  stats {} -> FINAL {"collections","chunks","vector_bytes","db_bytes"}
 *  ping {}  -> answered by the worker library.
 */
#include "proto/base/buf.h"
#include "proto/base/log.h"
#include "proto/worker.h"
#include "retriever/search.h"
#include "retriever/store.h"
#include "proto/shard.h"
#include "proto/base/signals.h"
#include "proto/base/settings.h"
#include "proto/base/clock.h"

#include <cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_LIST 4096
#define MAX_K 1000

static store_t *store;
static int scan_threads = 1;

/* Reads the request's fields, with a 400 message on the first bad one. */
typedef struct {
    const cJSON *json;
    char err[256];
} fields_t;

static const char *field_string(fields_t *f, const char *name, bool required) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(f->json, name);
    if (!v || cJSON_IsNull(v)) {
        if (required && !f->err[0])
            snprintf(f->err, sizeof f->err, "missing \"%s\" (a string)", name);
        return NULL;
    }
    if (!cJSON_IsString(v)) {
        if (!f->err[0])
            snprintf(f->err, sizeof f->err, "\"%s\" must be a string", name);
        return NULL;
    }
    return v->valuestring;
}

static long field_long(fields_t *f, const char *name, bool required, long fallback, long min,
                       long max) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(f->json, name);
    if (!v || cJSON_IsNull(v)) {
        if (required && !f->err[0])
            snprintf(f->err, sizeof f->err, "missing \"%s\" (an integer)", name);
        return fallback;
    }
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < min ||
        v->valuedouble > max) {
        if (!f->err[0])
            snprintf(f->err, sizeof f->err, "\"%s\" must be an integer in [%ld, %ld]", name, min,
                     max);
        return fallback;
    }
    return (long)v->valuedouble;
}

/* The strings of an array field (borrowed from the JSON) in a new array the
 * caller frees; *n = 0 and NULL when absent. */
static const char **field_strings(fields_t *f, const char *name, size_t *n) {
    *n = 0;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(f->json, name);
    if (!v || cJSON_IsNull(v))
        return NULL;
    int size = cJSON_IsArray(v) ? cJSON_GetArraySize(v) : -1;
    if (size < 0 || size > MAX_LIST) {
        if (!f->err[0])
            snprintf(f->err, sizeof f->err, "\"%s\" must be an array of at most %d strings", name,
                     MAX_LIST);
        return NULL;
    }
    const char **list = calloc((size_t)size + 1, sizeof *list);
    if (!list) {
        if (!f->err[0])
            snprintf(f->err, sizeof f->err, "out of memory");
        return NULL;
    }
    const cJSON *e;
    cJSON_ArrayForEach(e, v) {
        if (!cJSON_IsString(e)) {
            if (!f->err[0])
                snprintf(f->err, sizeof f->err, "\"%s\" must hold only strings", name);
            free(list);
            *n = 0;
            return NULL;
        }
        list[(*n)++] = e->valuestring;
    }
    return list;
}

static int status_of(int rc) {
    switch (rc) {
    case -EINVAL:
        return 400;
    case -ENOENT:
        return 404;
    case -EEXIST:
        return 409;
    case -ENOMEM:
    case -ENOSPC:
        return 503;
    default:
        return 500;
    }
}

/* Ends the job: FINAL with header (and payload) when rc is 0, else ERROR. */
static void reply(proto_job_t *job, int rc, const char *err, const char *header, const buf_t *out) {
    if (rc != 0) {
        proto_job_error(job, status_of(rc), err[0] ? err : "request failed");
        return;
    }
    if (proto_job_final(job, header, out ? out->data : NULL, out ? out->len : 0) != 0)
        log_warn("req=%" PRIu64 ": reply not sent", proto_job_id(job));
}

static void op_search(proto_job_t *job, fields_t *f, const char *collection) {
    long k = field_long(f, "k", false, 10, 1, MAX_K);
    long limit = field_long(f, "limit", false, 4 * k, 1, 4 * MAX_K);
    const char *path = field_string(f, "path", false);
    const char *query = field_string(f, "query", false);
    const char *object = field_string(f, "object", false);
    const char *mode = field_string(f, "mode", false);
    size_t nsymbols;
    const char **symbols = field_strings(f, "symbols", &nsymbols);
    if (!f->err[0] && mode && strcmp(mode, "i8") != 0 && strcmp(mode, "f32") != 0)
        snprintf(f->err, sizeof f->err, "\"mode\" must be \"i8\" or \"f32\"");
    if (f->err[0]) {
        proto_job_error(job, 400, f->err);
        free(symbols);
        return;
    }
    size_t vector_bytes = 0;
    const void *vector = proto_job_payload(job, &vector_bytes);
    search_query_t q = {.collection = collection,
                        .limit = (size_t)limit,
                        .path = path,
                        .query = query,
                        .query_len = query ? strlen(query) : 0,
                        .symbols = symbols,
                        .symbol_count = nsymbols,
                        .object = object,
                        .mode = mode && strcmp(mode, "f32") == 0 ? VECTORS_F32 : VECTORS_I8,
                        .vector = vector_bytes ? vector : NULL,
                        .vector_bytes = vector_bytes,
                        .threads = scan_threads};
    /* Test hook, for the gateway's retrieval-deadline tests only: every
     * search answers LCA_RETRIEVER_TEST_DELAY_MS later.  Never set it in use. */
    long test_delay_ms = settings_env_long("LCA_RETRIEVER_TEST_DELAY_MS", 0, 0, 60000);
    if (test_delay_ms > 0)
        usleep((useconds_t)test_delay_ms * 1000);
    buf_t out = BUF_INIT;
    size_t count = 0;
    char err[512] = "";
    int64_t start = clock_us();
    int rc = search_run(store, &q, &out, &count, err, sizeof err);
    char header[96];
    snprintf(header, sizeof header, "{\"count\":%zu,\"us\":%" PRId64 "}", count,
             clock_us() - start);
    reply(job, rc, err, header, &out);
    buf_free(&out);
    free(symbols);
}

static void handle(proto_job_t *job, void *arg) {
    (void)arg;
    fields_t f = {.json = proto_job_json(job)};
    const char *op = field_string(&f, "op", true);
    if (!op) {
        proto_job_error(job, 400, f.err);
        return;
    }
    char err[512] = "", header[160];
    buf_t out = BUF_INIT;
    int rc = 0;
    if (strcmp(op, "collections") == 0) {
        rc = store_collections_list(store, &out, err, sizeof err);
        reply(job, rc, err, "{}", &out);
        buf_free(&out);
        return;
    }
    if (strcmp(op, "stats") == 0) {
        store_stats_t st;
        store_stats_get(store, &st);
        snprintf(header, sizeof header,
                 "{\"collections\":%ld,\"chunks\":%ld,\"vector_bytes\":%zu,\"db_bytes\":%zu}",
                 st.collections, st.chunks, st.vector_bytes, st.db_bytes);
        proto_job_final(job, header, NULL, 0);
        return;
    }
    static const char *const known[] = {"collection.ensure", "collection.drop", "collection.files",
                                        "collection.touch",  "file.put",        "file.delete",
                                        "imports.put",       "imports.delete",  "search"};
    bool is_known = false;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        is_known |= strcmp(op, known[i]) == 0;
    if (!is_known) {
        snprintf(err, sizeof err, "unknown op \"%.64s\"", op);
        proto_job_error(job, 400, err);
        return;
    }
    const char *collection = field_string(&f, "collection", true);
    if (!collection) {
        proto_job_error(job, 400, f.err);
        return;
    }
    if (strcmp(op, "search") == 0) {
        op_search(job, &f, collection);
        return;
    }
    if (strcmp(op, "collection.ensure") == 0) {
        store_collection_spec_t spec = {
            .name = collection,
            .root = field_string(&f, "root", false),
            .model = field_string(&f, "model", true),
            .dim = field_long(&f, "dim", true, 0, 0, 1 << 20),
            .shards = field_long(&f, "shards", true, 0, 1, 1 << 16),
        };
        bool created = false;
        if (f.err[0]) {
            proto_job_error(job, 400, f.err);
            return;
        }
        rc = store_collection_ensure(store, &spec, &created, err, sizeof err);
        snprintf(header, sizeof header, "{\"created\":%s}", created ? "true" : "false");
        reply(job, rc, err, header, NULL);
    } else if (strcmp(op, "collection.drop") == 0) {
        rc = store_collection_drop(store, collection, err, sizeof err);
        reply(job, rc, err, "{\"dropped\":true}", NULL);
    } else if (strcmp(op, "collection.files") == 0) {
        rc = store_collection_files(store, collection, &out, err, sizeof err);
        reply(job, rc, err, "{}", &out);
    } else if (strcmp(op, "collection.touch") == 0) {
        long seeded_at = field_long(&f, "seeded_at", true, 0, 0, INT64_MAX / 2);
        if (f.err[0]) {
            proto_job_error(job, 400, f.err);
            return;
        }
        rc = store_collection_touch(store, collection, seeded_at, err, sizeof err);
        reply(job, rc, err, "{}", NULL);
        /* A seed just ended: merge its token index, after the reply so that
         * the seeder does not wait for it. */
        if (rc == 0 && store_collection_optimize(store, collection, err, sizeof err) != 0)
            log_warn("merging the token index of '%s': %s", collection, err);
    } else if (strcmp(op, "file.put") == 0) {
        size_t nimports;
        const char **imports = field_strings(&f, "imports", &nimports);
        store_file_spec_t file = {.collection = collection,
                                  .path = field_string(&f, "path", true),
                                  .hash = field_string(&f, "hash", true),
                                  .language = field_string(&f, "language", false),
                                  .imports = imports,
                                  .import_count = nimports};
        if (f.err[0]) {
            proto_job_error(job, 400, f.err);
            free(imports);
            return;
        }
        size_t len = 0;
        const void *payload = proto_job_payload(job, &len);
        long chunks = 0;
        rc = store_file_put(store, &file, payload, len, &chunks, err, sizeof err);
        snprintf(header, sizeof header, "{\"chunks\":%ld}", chunks);
        reply(job, rc, err, header, NULL);
        free(imports);
    } else if (strcmp(op, "file.delete") == 0) {
        const char *path = field_string(&f, "path", true);
        if (f.err[0]) {
            proto_job_error(job, 400, f.err);
            return;
        }
        rc = store_file_delete(store, collection, path, err, sizeof err);
        reply(job, rc, err, "{\"deleted\":true}", NULL);
    } else { /* imports.put, imports.delete */
        bool put = strcmp(op, "imports.put") == 0;
        const char *path = field_string(&f, "path", true);
        size_t n = 0;
        const char **targets = put ? field_strings(&f, "imports", &n) : NULL;
        if (!f.err[0] && put && !cJSON_GetObjectItemCaseSensitive(f.json, "imports"))
            snprintf(f.err, sizeof f.err, "missing \"imports\" (an array of paths)");
        if (f.err[0]) {
            proto_job_error(job, 400, f.err);
            free(targets);
            return;
        }
        rc = store_imports_put(store, collection, path, targets, n, err, sizeof err);
        reply(job, rc, err, "{}", NULL);
        free(targets);
    }
    buf_free(&out);
}

static void usage(FILE *out) {
    fprintf(out,
            "usage: lca-retriever --shard I/N [options]\n"
            "\n"
            "Serves \"retrieve.I\": shard I of N of every collection (vectors, BM25,\n"
            "symbols, imports), stored in DIR/shard-I.db.\n"
            "\n"
            "  --shard I/N         this process's shard (required)\n"
            "  --data DIR          data directory (LCA_DATA, default ~/.local/share/lca)\n"
            "  --broker ENDPOINT   broker address (LCA_BROKER, default tcp://127.0.0.1:5555)\n"
            "  --threads N         concurrent requests (LCA_RETRIEVER_THREADS, default: cores)\n"
            "  --scan-threads N    threads per vector scan (LCA_RETRIEVER_SCAN_THREADS, "
            "default 1)\n"
            "  -h, --help          this text\n"
            "\n"
            "LCA_CURVE_DIR holds client keys when the broker requires CURVE.\n");
}

/* Reads --shard I/N: both numbers strictly, 0 <= I < N <= 65536.  Says what
 * is wrong (one line on stderr) and returns false otherwise. */
static bool parse_shard(const char *text, int *shard, int *shards) {
    const char *slash = strchr(text, '/');
    char index[32];
    if (!slash || (size_t)(slash - text) >= sizeof index) {
        fprintf(stderr, "lca-retriever: --shard wants I/N (shard I of N), not \"%s\"\n", text);
        return false;
    }
    snprintf(index, sizeof index, "%.*s", (int)(slash - text), text);
    long i, n;
    if (!settings_arg_long("lca-retriever", "N in --shard I/N", slash + 1, 1, 1 << 16, &n) ||
        !settings_arg_long("lca-retriever", "I in --shard I/N", index, 0, n - 1, &i))
        return false;
    *shard = (int)i;
    *shards = (int)n;
    return true;
}

int main(int argc, char **argv) {
    log_init("retriever");
    const char *broker = getenv("LCA_BROKER") && *getenv("LCA_BROKER") ? getenv("LCA_BROKER")
                                                                       : "tcp://127.0.0.1:5555";
    const char *data = getenv("LCA_DATA") && *getenv("LCA_DATA") ? getenv("LCA_DATA") : NULL;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    long threads = settings_env_long("LCA_RETRIEVER_THREADS", cores > 0 ? cores : 1, 1, 256);
    long scan = settings_env_long("LCA_RETRIEVER_SCAN_THREADS", 1, 1, 64);
    int shard = -1, shards = 0;
    static const struct option options[] = {
        {"shard", required_argument, NULL, 's'},
        {"data", required_argument, NULL, 'd'},
        {"broker", required_argument, NULL, 'b'},
        {"threads", required_argument, NULL, 't'},
        {"scan-threads", required_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
        case 's':
            if (!parse_shard(optarg, &shard, &shards))
                return 2;
            break;
        case 'd':
            data = optarg;
            break;
        case 'b':
            broker = optarg;
            break;
        case 't':
            if (!settings_arg_long("lca-retriever", "--threads", optarg, 1, 256, &threads))
                return 2;
            break;
        case 'S':
            if (!settings_arg_long("lca-retriever", "--scan-threads", optarg, 1, 64, &scan))
                return 2;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc || shard < 0) { /* leftovers, or no --shard */
        usage(stderr);
        return 2;
    }
    scan_threads = (int)scan;
    char dir[4096];
    if (data) {
        snprintf(dir, sizeof dir, "%s", data);
    } else {
        const char *home = getenv("HOME");
        if (!home || !*home) {
            log_error("set --data or LCA_DATA (no HOME to default to)");
            return 2;
        }
        /* Create the parents of the default, as XDG programs do. */
        snprintf(dir, sizeof dir, "%s/.local", home);
        mkdir(dir, 0755);
        snprintf(dir, sizeof dir, "%s/.local/share", home);
        mkdir(dir, 0755);
        snprintf(dir, sizeof dir, "%s/.local/share/lca", home);
    }
    char err[512];
    int64_t start = clock_ms();
    store = store_open(dir, shard, shards, err, sizeof err);
    if (!store) {
        log_error("%s", err);
        return 1;
    }
    store_stats_t st;
    store_stats_get(store, &st);
    log_info("shard %d/%d: %ld collections, %ld chunks loaded from %s in %" PRId64 " ms", shard,
             shards, st.collections, st.chunks, dir, clock_ms() - start);

    stop_on_signals();
    char service[SHARD_SERVICE_MAX];
    shard_service(shard, service);
    const char *curve = getenv("LCA_CURVE_DIR");
    proto_worker_t *w =
        proto_worker_new(&(proto_worker_config_t){.endpoint = broker,
                                                  .service = service,
                                                  .curve_dir = curve && *curve ? curve : NULL,
                                                  .capacity = (int)threads,
                                                  .handler = handle},
                         err, sizeof err);
    if (!w) {
        log_error("%s", err);
        store_destroy(&store);
        return 1;
    }
    log_info("serving %s via %s with %ld thread%s", service, broker, threads,
             threads == 1 ? "" : "s");
    proto_worker_run(w);
    proto_worker_destroy(&w);
    store_destroy(&store);
    return 0;
}
