/*
 * A broker and scripted workers inside the test process, and an h2o loop to
 * run the gateway's bridge on: enough to unit-test the gateway modules that
 * make broker calls (bridge, collections, http's call tracking) without
 * starting a process.
 *
 *   inproc_t s;
 *   REQUIRE(inproc_start(&s));
 *   inproc_worker(&s, "retrieve.0", 4, handler, arg);
 *   bridge_t *b = inproc_bridge(&s);
 *   ... inproc_run_until(&s, done, arg, 2000) ...
 *   bridge_destroy(&b);
 *   inproc_stop(&s);
 *
 * Heartbeats are INPROC_HEARTBEAT_MS, so a service nobody serves fails its
 * requests with 503 after five of them.  inproc_stop asks every worker to
 * stop (stop_request(): for the rest of the process), so call it once, at
 * the end.
 */
#ifndef LCA_TEST_INPROC_H
#define LCA_TEST_INPROC_H

#define H2O_USE_LIBUV 0
#include <h2o.h>

#include "gateway/bridge.h"
#include "proto/base/clock.h"
#include "proto/base/signals.h"
#include "proto/broker.h"
#include "proto/worker.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>

#define INPROC_HEARTBEAT_MS 200
#define INPROC_WORKERS_MAX 8

typedef struct {
    broker_t *broker;
    h2o_loop_t *loop; /* for the bridge and the gateway's timers */
    int nworkers;
    proto_worker_t *workers[INPROC_WORKERS_MAX];
    pthread_t threads[INPROC_WORKERS_MAX];
} inproc_t;

static inline bool inproc_start(inproc_t *s) {
    memset(s, 0, sizeof *s);
    char err[256];
    s->broker =
        broker_new(&(broker_config_t){.heartbeat_ms = INPROC_HEARTBEAT_MS}, err, sizeof err);
    if (!s->broker) {
        fprintf(stderr, "  broker: %s\n", err);
        return false;
    }
    s->loop = h2o_evloop_create();
    return true;
}

static inline void *inproc_worker_main(void *worker) {
    proto_worker_run(worker);
    return NULL;
}

/* Serves service with handler on a thread of its own, capacity jobs at once. */
static inline bool inproc_worker(inproc_t *s, const char *service, int capacity,
                                 proto_handler_t handler, void *arg) {
    if (s->nworkers == INPROC_WORKERS_MAX)
        return false;
    char err[256];
    proto_worker_t *w =
        proto_worker_new(&(proto_worker_config_t){.endpoint = broker_local_endpoint(s->broker),
                                                  .service = service,
                                                  .capacity = capacity,
                                                  .heartbeat_ms = INPROC_HEARTBEAT_MS,
                                                  .handler = handler,
                                                  .arg = arg},
                         err, sizeof err);
    if (!w) {
        fprintf(stderr, "  worker %s: %s\n", service, err);
        return false;
    }
    if (pthread_create(&s->threads[s->nworkers], NULL, inproc_worker_main, w) != 0) {
        proto_worker_destroy(&w);
        return false;
    }
    s->workers[s->nworkers++] = w;
    return true;
}

/* A gateway bridge to the broker, delivering on the loop; NULL (said on
 * stderr) when it cannot start. */
static inline bridge_t *inproc_bridge(inproc_t *s) {
    char err[256];
    bridge_t *b = bridge_new(s->loop, broker_local_endpoint(s->broker), err, sizeof err);
    if (!b)
        fprintf(stderr, "  bridge: %s\n", err);
    return b;
}

/* Runs the loop until done(arg) or timeout_ms; returns done(arg). */
static inline bool inproc_run_until(inproc_t *s, bool (*done)(void *), void *arg, int timeout_ms) {
    int64_t end = clock_ms() + timeout_ms;
    while (!done(arg) && clock_ms() < end)
        h2o_evloop_run(s->loop, 10);
    return done(arg);
}

/* Runs the loop for ms, whatever happens. */
static inline void inproc_run_for(inproc_t *s, int ms) {
    int64_t end = clock_ms() + ms;
    while (clock_ms() < end)
        h2o_evloop_run(s->loop, 10);
}

/* Stops every worker (for the rest of the process) and the broker (destroy
 * what uses it, such as a bridge, first). */
static inline void inproc_stop(inproc_t *s) {
    stop_request();
    for (int i = 0; i < s->nworkers; i++) {
        pthread_join(s->threads[i], NULL);
        proto_worker_destroy(&s->workers[i]);
    }
    broker_destroy(&s->broker);
    /* The loop stays, as the gateway's does: gateway/timer.c keeps its
     * timeout lists on it for the life of the process. */
}

#endif
