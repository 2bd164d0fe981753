/*
 * lca-retriever: the "retrieve.<i>" service, shard i of N of every collection.
 *
 *   lca-retriever --shard i/N [--data DIR] [--broker EP] [--threads T]
 *
 * The ops it serves, and their wire format, are in proto/ops.h; the
 * dispatcher that runs them against the store is retriever/dispatch.c.
 */
#include "proto/base/buf.h"
#include "proto/base/log.h"
#include "proto/worker.h"
#include "retriever/dispatch.h"
#include "retriever/store.h"
#include "proto/shard.h"
#include "proto/base/signals.h"
#include "proto/base/settings.h"
#include "proto/base/clock.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static dispatch_t dispatch;

static void handle(proto_job_t *job, void *arg) {
    (void)arg;
    size_t len = 0;
    const void *payload = proto_job_payload(job, &len);
    dispatch_reply_t reply;
    dispatch_request(&dispatch, proto_job_json(job), payload, len, &reply);
    if (reply.status != 0)
        proto_job_error(job, reply.status, reply.message);
    else if (proto_job_final(job, reply.header.data, reply.payload.data, reply.payload.len) != 0)
        log_warn("req=%" PRIu64 ": reply not sent", proto_job_id(job));
    dispatch_after_reply(&dispatch, &reply);
    dispatch_reply_free(&reply);
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
    store_t *store = store_open(dir, shard, shards, err, sizeof err);
    if (!store) {
        log_error("%s", err);
        return 1;
    }
    /* Test hook, for the gateway's retrieval-deadline tests only: every
     * search answers LCA_RETRIEVER_TEST_DELAY_MS later.  Never set it in use. */
    dispatch = (dispatch_t){.store = store,
                            .scan_threads = (int)scan,
                            .test_delay_ms =
                                (int)settings_env_long("LCA_RETRIEVER_TEST_DELAY_MS", 0, 0, 60000)};
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
