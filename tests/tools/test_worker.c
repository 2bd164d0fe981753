/*
 * test_worker: a worker with scripted behaviour, for the broker tests.
 *
 *   test_worker ENDPOINT SERVICE [CAPACITY]
 *
 * What a request's header asks for ({"op": ...}):
 *   echo               FINAL with the request's payload and {"pid": <pid>}
 *   stream, n, size    n PARTIALs (payload: the index as 8 bytes, padded to
 *                      size), then FINAL {"pid", "n"}
 *   hold               PARTIAL {"pid"} at once, then waits until cancelled
 *                      (counts the cancellation), never replies
 *   slow, ms           FINAL after ms milliseconds (checks for cancel)
 *   stats              FINAL {"pid", "served", "cancelled"}
 *   fail               ERROR 418 "scripted failure"
 *   silent             returns without replying (the library must answer)
 */
#include "proto/base/log.h"
#include "proto/worker.h"
#include "proto/base/signals.h"

#include <cJSON.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_int served, cancelled;

static void nap(int ms) {
    struct timespec ts = {0, (long)ms * 1000000L};
    nanosleep(&ts, NULL);
}

static void handle(proto_job_t *job, void *arg) {
    (void)arg;
    atomic_fetch_add(&served, 1);
    const cJSON *h = proto_job_json(job);
    const cJSON *op = cJSON_GetObjectItemCaseSensitive(h, "op");
    const char *what = cJSON_IsString(op) ? op->valuestring : "echo";
    char header[160];
    snprintf(header, sizeof header, "{\"pid\":%ld}", (long)getpid());
    if (!strcmp(what, "echo")) {
        size_t len;
        const void *payload = proto_job_payload(job, &len);
        proto_job_final(job, header, payload, len);
    } else if (!strcmp(what, "stream")) {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(h, "n");
        const cJSON *size = cJSON_GetObjectItemCaseSensitive(h, "size");
        long count = cJSON_IsNumber(n) ? (long)n->valuedouble : 10;
        size_t bytes =
            cJSON_IsNumber(size) && size->valuedouble >= 8 ? (size_t)size->valuedouble : 8;
        unsigned char *buf = calloc(1, bytes);
        for (long i = 0; i < count; i++) {
            memcpy(buf, &i, sizeof i);
            if (proto_job_partial(job, NULL, buf, bytes) != 0)
                break;
        }
        free(buf);
        snprintf(header, sizeof header, "{\"pid\":%ld,\"n\":%ld}", (long)getpid(), count);
        proto_job_final(job, header, NULL, 0);
    } else if (!strcmp(what, "hold")) {
        proto_job_partial(job, header, NULL, 0);
        while (!proto_job_cancelled(job))
            nap(2);
        atomic_fetch_add(&cancelled, 1);
    } else if (!strcmp(what, "slow")) {
        const cJSON *ms = cJSON_GetObjectItemCaseSensitive(h, "ms");
        int total = cJSON_IsNumber(ms) ? (int)ms->valuedouble : 100;
        for (int t = 0; t < total && !proto_job_cancelled(job); t += 2)
            nap(2);
        if (proto_job_cancelled(job))
            atomic_fetch_add(&cancelled, 1);
        else
            proto_job_final(job, header, NULL, 0);
    } else if (!strcmp(what, "stats")) {
        snprintf(header, sizeof header, "{\"pid\":%ld,\"served\":%d,\"cancelled\":%d}",
                 (long)getpid(), atomic_load(&served), atomic_load(&cancelled));
        proto_job_final(job, header, NULL, 0);
    } else if (!strcmp(what, "fail")) {
        proto_job_error(job, 418, "scripted failure");
    }
    /* "silent": no reply */
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: test_worker ENDPOINT SERVICE [CAPACITY]\n");
        return 2;
    }
    log_init("test-worker");
    stop_on_signals();
    char err[256];
    const char *curve = getenv("LCA_CURVE_DIR");
    proto_worker_t *w =
        proto_worker_new(&(proto_worker_config_t){.endpoint = argv[1],
                                                  .service = argv[2],
                                                  .curve_dir = curve && *curve ? curve : NULL,
                                                  .capacity = argc > 3 ? atoi(argv[3]) : 1,
                                                  .handler = handle},
                         err, sizeof err);
    if (!w) {
        log_error("%s", err);
        return 1;
    }
    proto_worker_run(w);
    proto_worker_destroy(&w);
    return 0;
}
