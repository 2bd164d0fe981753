/*
 * The broker: routes requests from clients to workers by service name.
 *
 * Workers connect and say READY for one service; clients send REQUESTs for a
 * service.  The broker hands each request to the least-busy live worker of the
 * service that has a free slot (a worker declares its capacity in READY),
 * queues it (bounded, per service) when none has, and fails it with ERROR 503
 * "no <service> worker available" when its deadline passes in the queue, or
 * after five heartbeat intervals when the service has no worker at all.
 * PARTIALs stream back to the client one by one as they arrive; FINAL or
 * ERROR ends a request.  Heartbeats go both ways; a worker silent for three
 * intervals is dead and each request it held gets ERROR at once.  CANCEL from
 * a client reaches the worker holding the request.
 *
 * The broker answers one service itself: "broker.status" returns a JSON
 * snapshot of services, workers and queues.
 *
 * What callers and workers can make it hold is bounded, so that a peer
 * naming services at random, or joining as worker after worker, cannot grow
 * the broker without limit:
 *   - services: at most services_max.  A request or worker for a new
 *     service when the table is full first frees a service nobody uses (no
 *     worker, nothing queued); a worker may also free one that has no worker
 *     (its queued requests fail with 503: a service somebody serves matters
 *     more than one callers only named).  When nothing can be freed a request
 *     gets ERROR 503 "too many services" and a worker DISCONNECT with the
 *     reason;
 *   - workers: at most workers_max in all; one more is sent DISCONNECT with
 *     the reason (it backs off, see worker.h);
 *   - queued requests: at most queue_max per service, and at most
 *     queued_bytes_max bytes of headers and payloads queued in all; past
 *     either a request gets ERROR 503.
 * Each limit, when first reached, is one warning in the log naming it; when
 * there is room again one line says how many were refused meanwhile.
 * broker.status shows the limits and the refusals.
 *
 * It runs on a thread of its own; every socket it has lives on that thread.
 * In-process clients connect to broker_local_endpoint() (inproc, no CURVE).
 */
#ifndef LCA_BROKER_H
#define LCA_BROKER_H

#include <stdbool.h>
#include <stddef.h>

/* The defaults of the limits above.  Services: every retriever shard
 * (SHARD_MAX) and the rest, with room to spare.  Workers: a few for each of
 * them.  Queued bytes: requests waiting for a worker (while a service
 * starts, or when all of its workers are busy); what is in flight is the
 * workers' to hold. */
#define BROKER_SERVICES_MAX 1024
#define BROKER_WORKERS_MAX 4096
#define BROKER_QUEUED_BYTES_MAX ((size_t)1 << 30)

typedef struct broker broker_t;

typedef struct {
    const char *endpoint;        /* bind address, e.g. proto_broker_default() (NULL: none) */
    const char *public_endpoint; /* optional second bind address, always CURVE */
    const char *curve_dir;       /* keys (see curve.h); required for tcp:// endpoints */
    bool plain_endpoint;         /* a tcp:// endpoint is served without CURVE (a network
                                  * whose every peer is trusted: a bench, a test) */
    int heartbeat_ms;            /* 0: proto_heartbeat_ms() */
    int queue_max;               /* per service; 0: 1024 */
    int services_max;            /* 0: BROKER_SERVICES_MAX */
    int workers_max;             /* 0: BROKER_WORKERS_MAX */
    size_t queued_bytes_max;     /* 0: BROKER_QUEUED_BYTES_MAX */
    int queue_timeout_ms;        /* deadline in the queue when a request names none; 0: 30000 */
    int spin_us;                 /* ceiling of the adaptive busy-poll after messages
                                  * (see spin.h); 0: always sleep */
} broker_config_t;

/* Binds the endpoints and starts the broker thread.  Returns NULL with a
 * message in err when an endpoint cannot be bound, is a tcp:// one and CURVE
 * is not configured (unless plain_endpoint), or the keys cannot be read.  An
 * ipc:// endpoint is bound in a directory only this user may enter, and
 * never where another broker still listens (proto_endpoint_prepare). */
broker_t *broker_new(const broker_config_t *config, char *err, size_t err_len);

/* The inproc endpoint in-process clients and workers connect to. */
const char *broker_local_endpoint(const broker_t *self);

/* Tells connected workers to go away, stops the thread, closes everything.
 * Accepts NULL. */
void broker_destroy(broker_t **self_p);

#endif
