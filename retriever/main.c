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
#include "proto/options.h"
#include "proto/socket.h"
#include "proto/worker.h"
#include "retriever/dispatch.h"
#include "retriever/store.h"
#include "proto/shard.h"
#include "proto/base/signals.h"
#include "proto/base/settings.h"
#include "proto/base/clock.h"

#include <errno.h>
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

/* --shard I/N: this process is shard I of N. */
typedef struct {
    int shard, shards;
} shard_spec_t;

/* Reads I/N: both numbers strictly, 0 <= I < N <= SHARD_MAX. */
static bool parse_shard(const char *text, void *out, char *why, size_t why_len) {
    shard_spec_t *spec = out;
    const char *slash = strchr(text, '/');
    char index[32];
    long i, n;
    snprintf(why, why_len, "wants I/N: shard I of N, 0 <= I < N <= %d", SHARD_MAX);
    if (!slash || (size_t)(slash - text) >= sizeof index)
        return false;
    snprintf(index, sizeof index, "%.*s", (int)(slash - text), text);
    if (!settings_parse_long(slash + 1, 1, SHARD_MAX, &n) ||
        !settings_parse_long(index, 0, n - 1, &i))
        return false;
    spec->shard = (int)i;
    spec->shards = (int)n;
    return true;
}

#define ABOUT                                                                                      \
    "Serves \"retrieve.I\": shard I of N of every collection (vectors, BM25, "                     \
    "symbols, imports), stored in DIR/shard-I.db."

int main(int argc, char **argv) {
    log_init("retriever");
    const char *broker = proto_broker_default(), *data = NULL, *curve = NULL;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    long threads = cores > 0 ? cores : 1, scan = 1, delay_ms = 0;
    shard_spec_t shard = {-1, 0};
    const setting_t settings[] = {
        {"shard", 0, NULL, SETTING_CUSTOM, "I/N", "this process's shard", .out = &shard,
         .parse = parse_shard, .required = true},
        OPTION_DATA(&data),
        OPTION_BROKER(&broker),
        {"threads", 0, "LCA_RETRIEVER_THREADS", SETTING_NUMBER, "N", "concurrent requests",
         .shown = "cores", .min = 1, .max = 256, .out = &threads},
        {"scan-threads", 0, "LCA_RETRIEVER_SCAN_THREADS", SETTING_NUMBER, "N",
         "threads per vector scan", .min = 1, .max = 64, .out = &scan},
        OPTION_CURVE_KEYS(&curve),
        /* Test hook, for the gateway's retrieval-deadline tests only: every
         * search answers this much later.  Never set it in use. */
        {NULL, 0, "LCA_RETRIEVER_TEST_DELAY_MS", SETTING_NUMBER, .min = 0, .max = 60000,
         .out = &delay_ms},
    };
    const settings_spec_t spec = {"lca-retriever", "--shard I/N [options]", ABOUT,
                                  SETTINGS_OF(settings)};
    int rc = settings_read(&spec, argc, argv, NULL);
    if (rc != SETTINGS_GO_ON)
        return rc;
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
    store_t *store = store_open(dir, shard.shard, shard.shards, err, sizeof err);
    if (!store) {
        log_error("%s", err);
        return 1;
    }
    dispatch =
        (dispatch_t){.store = store, .scan_threads = (int)scan, .test_delay_ms = (int)delay_ms};
    store_stats_t st;
    store_stats_get(store, &st);
    log_info("shard %d/%d: %ld collections, %ld chunks loaded from %s in %" PRId64 " ms",
             shard.shard, shard.shards, st.collections, st.chunks, dir, clock_ms() - start);

    stop_on_signals();
    char service[SHARD_SERVICE_MAX];
    shard_service(shard.shard, service);
    rc = proto_worker_serve(&(proto_worker_config_t){.endpoint = broker,
                                                     .service = service,
                                                     .curve_dir = curve,
                                                     .capacity = (int)threads,
                                                     .handler = handle});
    store_destroy(&store);
    return rc;
}
