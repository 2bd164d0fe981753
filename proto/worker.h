/*
 * The worker side of the wire: what every service process is built on.
 *
 * proto_worker_run() connects to the broker, says READY for its service with
 * its capacity, heartbeats, and hands each REQUEST to a handler running on one
 * of `capacity` job threads.  The handler streams zero or more PARTIALs and
 * must end with FINAL or ERROR (if it returns without either, the worker sends
 * ERROR 500 for it).  CANCEL sets the job's cancelled flag and calls the
 * cancel hook the handler registered, so a handler blocked on I/O can stop.
 * When the broker is silent for three heartbeats, or tells the worker to go
 * away, the worker drops its connection, cancels its jobs (the broker has
 * failed them already) and reconnects with back-off.
 *
 * Every worker answers a request whose header says {"op": "ping"} itself,
 * with FINAL {"pong": true, "service": ..., "pid": ...}; the handler never
 * sees it.
 *
 * Threads: proto_worker_run() owns the broker connection; job functions may be
 * called from the job's own thread only, except proto_job_cancelled().
 */
#ifndef LCA_WORKER_H
#define LCA_WORKER_H

#include <stdbool.h>
#include "proto/base/signals.h"
#include <stddef.h>
#include <stdint.h>

typedef struct proto_worker proto_worker_t;
typedef struct proto_job proto_job_t;
typedef void (*proto_handler_t)(proto_job_t *job, void *arg);

typedef struct {
    const char *endpoint;  /* broker address */
    const char *service;   /* service name to serve */
    const char *curve_dir; /* client keys for a CURVE broker; NULL: plain */
    int capacity;          /* concurrent requests = job threads; 0: 1 */
    int heartbeat_ms;      /* 0: proto_heartbeat_ms() */
    proto_handler_t handler;
    void *arg;
} proto_worker_config_t;

/* Checks the configuration and connects.  NULL with a message in err. */
proto_worker_t *proto_worker_new(const proto_worker_config_t *config, char *err, size_t err_len);

/* Serves until stop_requested() (see socket.h), then says DISCONNECT,
 * cancels running jobs and waits for their threads.  Returns 0. */
int proto_worker_run(proto_worker_t *self);

void proto_worker_destroy(proto_worker_t **self_p);

/* A worker process's whole life: connects, says in the log what it serves
 * (service, broker, CURVE, capacity), serves until stop_requested(), and
 * disconnects.  Returns 0, or 1 after logging why it could not start. */
int proto_worker_serve(const proto_worker_config_t *config);

/* ---- inside a handler ---- */

uint64_t proto_job_id(const proto_job_t *job);

/* The request's JSON header text (len 0: none). */
const char *proto_job_header(const proto_job_t *job, size_t *len);

/* The request's header parsed (never NULL: {} when there is none); owned by
 * the job. */
const struct cJSON *proto_job_json(proto_job_t *job);

/* The request's payload; NULL when it has none. */
const void *proto_job_payload(const proto_job_t *job, size_t *len);

/* Sends one PARTIAL (header JSON object text or NULL; payload may be NULL).
 * Returns 0, -ECANCELED once the job is cancelled, -EALREADY after the job
 * ended, -EINVAL for a header that is not a JSON object. */
int proto_job_partial(proto_job_t *job, const char *header, const void *payload, size_t len);

/* Ends the job with FINAL.  Returns as proto_job_partial(). */
int proto_job_final(proto_job_t *job, const char *header, const void *payload, size_t len);

/* Ends the job with ERROR {status, message}.  Returns as proto_job_partial(). */
int proto_job_error(proto_job_t *job, int status, const char *message);

/* True once the client cancelled, went away, or the worker is stopping. */
bool proto_job_cancelled(const proto_job_t *job);

/* Registers fn(arg) to run (on the worker's main thread) when the job is
 * cancelled; runs at once if it already is.  fn must be quick and thread-safe. */
void proto_job_on_cancel(proto_job_t *job, void (*fn)(void *arg), void *arg);

#endif
