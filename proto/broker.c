/*
 * The broker (see broker.h).
 *
 * Tables, all owned by the broker thread:
 *   services         name -> service_t; freed only to make room in a full table
 *   workers          peer key (socket index + routing id) -> worker_t
 *   requests         broker id -> request_t, for replies coming back from workers
 *   client_requests  (peer key, client id) -> request_t, for CANCEL and duplicate ids
 *
 * Invariants: a request is in exactly one list — its service's queue (worker
 * NULL, frames held in msg) or its worker's held list (worker set, frames
 * already sent); worker->inflight is the length of worker->held and never
 * exceeds worker->capacity; service->queued is the length of service->queue;
 * broker->nservices and broker->nworkers count the tables' entries and never
 * exceed their limits; broker->queued_bytes is the sum of the queued
 * requests' bytes.
 */
#include "proto/broker.h"

#include "proto/base/glob.h"
#include "proto/base/log.h"
#include "proto/base/map.h"
#include "proto/curve.h"
#include "proto/shard.h"
#include "proto/socket.h"
#include "proto/spin.h"
#include "proto/wire.h"
#include "proto/base/clock.h"

#include <cJSON.h>
#include <czmq.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_SOCKETS 3
_Static_assert(BROKER_SERVICES_MAX >= 2 * SHARD_MAX,
               "the broker has room for every shard and more");
#define DRAIN_BATCH 256
#define NO_WORKER_HEARTBEATS 5

typedef struct request request_t;
typedef struct worker worker_t;
typedef struct service service_t;

typedef struct {
    request_t *head, *tail;
} request_list_t;

typedef struct {
    uint8_t sock; /* index into broker->sockets */
    uint8_t len;  /* routing id length */
    uint8_t route[PROTO_ROUTE_MAX];
} peer_t;

struct request {
    uint64_t id;        /* broker's id, towards the worker */
    uint64_t client_id; /* the client's own id */
    peer_t client;
    service_t *service;
    worker_t *worker;       /* NULL while queued */
    int64_t deadline;       /* end of waiting in the queue, ms */
    int64_t queued_at;      /* when it entered the queue, ms */
    size_t bytes;           /* header and payload, counted in queued_bytes while queued */
    request_t *prev, *next; /* in service->queue or worker->held */
    proto_msg_t msg;        /* the REQUEST while queued (msg.nframes > 0) */
};

struct worker {
    peer_t peer;
    service_t *service;
    int capacity;    /* concurrent requests it accepts */
    int inflight;    /* == length of held */
    int64_t expires; /* dead when the clock passes this without a word from it */
    char host[64];
    char key[64]; /* the name of its CURVE key in the allow-list; "" on a local endpoint */
    long pid;
    uint64_t served;
    worker_t *prev, *next; /* in service->workers */
    request_list_t held;
};

struct service {
    char name[PROTO_SERVICE_MAX + 1];
    worker_t *workers;
    int nworkers;
    request_list_t queue;
    int queued;
    uint64_t requests, failures;
    service_t *next_service;
};

/* One limit (see broker.h), for its log lines and broker.status. */
typedef struct {
    const char *what; /* "services", "workers", "queued bytes" */
    long max;
    bool reached;     /* something was refused since the last admission */
    uint64_t refused; /* in all */
    uint64_t refused_since;
} limit_t;

struct broker {
    void *sockets[MAX_SOCKETS];
    bool curve[MAX_SOCKETS]; /* socket i authenticates keys: their certificates say what they
                                may do; the others are the user's own endpoints */
    int nsockets;
    zcertstore_t *allowed; /* the allow-list, for what a key may do (broker thread only) */
    char local_endpoint[64];
    char pipe_endpoint[64];
    void *pipe_main, *pipe_thread; /* PAIR: broker_destroy -> thread */
    curve_auth_t *auth;
    pthread_t thread;
    bool started;

    int heartbeat_ms, queue_max, queue_timeout_ms;
    limit_t services_limit, workers_limit, bytes_limit;
    spin_t spin;
    int64_t next_heartbeat;
    uint64_t next_id;
    map_t *services, *workers, *requests, *client_requests;
    service_t *service_list;
    int nservices, nworkers;
    size_t queued_bytes;
};

/* ---- lists ---- */

static void list_push(request_list_t *l, request_t *r) {
    r->next = NULL;
    r->prev = l->tail;
    if (l->tail)
        l->tail->next = r;
    else
        l->head = r;
    l->tail = r;
}

static void list_unlink(request_list_t *l, request_t *r) {
    if (r->prev)
        r->prev->next = r->next;
    else
        l->head = r->next;
    if (r->next)
        r->next->prev = r->prev;
    else
        l->tail = r->prev;
    r->prev = r->next = NULL;
}

/* ---- limits ---- */

/* Counts a refusal at a limit.  The first since the last admission is a
 * warning that names the limit and what was refused; the rest are counted
 * quietly, so that a peer knocking again and again cannot flood the log. */
static void limit_refuse(limit_t *l, const char *refused) {
    l->refused++;
    l->refused_since++;
    if (l->reached)
        return;
    l->reached = true;
    log_warn("the broker holds the most %s it may (%ld): refused %s; more refusals are counted "
             "quietly (broker.status) until there is room again",
             l->what, l->max, refused);
}

/* Something was admitted under a limit: if refusals came before, say how many. */
static void limit_admit(limit_t *l) {
    if (!l->reached)
        return;
    log_info("the broker has room for %s again (%llu refused meanwhile)", l->what,
             (unsigned long long)l->refused_since);
    l->reached = false;
    l->refused_since = 0;
}

/* ---- keys ---- */

static size_t peer_key(const peer_t *p, uint8_t *key) {
    key[0] = p->sock;
    memcpy(key + 1, p->route, p->len);
    return 1 + (size_t)p->len;
}

static size_t client_key(const peer_t *p, uint64_t id, uint8_t *key) {
    size_t n = peer_key(p, key);
    memcpy(key + n, &id, sizeof id);
    return n + sizeof id;
}

/* ---- sending ---- */

static int send_to(broker_t *b, const peer_t *p, const proto_out_t *out) {
    return proto_send(b->sockets[p->sock], p->route, p->len, out);
}

static void send_error(broker_t *b, const peer_t *p, uint64_t id, int status, const char *message) {
    char header[512];
    size_t n = proto_error_header(header, sizeof header, status, message);
    send_to(b, p, &(proto_out_t){.cmd = PROTO_ERROR, .id = id, .header = header, .header_len = n});
}

static void send_simple(broker_t *b, const peer_t *p, proto_cmd_t cmd, uint64_t id) {
    send_to(b, p, &(proto_out_t){.cmd = cmd, .id = id});
}

/* ---- requests ---- */

/* Unlinks a request from every table and list and frees it. */
static void request_free(broker_t *b, request_t *r) {
    uint8_t key[1 + PROTO_ROUTE_MAX + 8];
    map_remove_u64(b->requests, r->id);
    map_remove(b->client_requests, key, client_key(&r->client, r->client_id, key));
    if (r->worker) {
        list_unlink(&r->worker->held, r);
        r->worker->inflight--;
    } else {
        list_unlink(&r->service->queue, r);
        r->service->queued--;
        b->queued_bytes -= r->bytes;
    }
    proto_msg_close(&r->msg);
    free(r);
}

static void request_fail(broker_t *b, request_t *r, int status, const char *message) {
    r->service->failures++;
    send_error(b, &r->client, r->client_id, status, message);
    request_free(b, r);
}

/* ---- workers ---- */

static void worker_delete(broker_t *b, worker_t *w, const char *why) {
    service_t *s = w->service;
    log_info("worker %s pid %ld of %s removed: %s (%d request%s failed)", w->host, w->pid, s->name,
             why, w->inflight, w->inflight == 1 ? "" : "s");
    char message[256];
    snprintf(message, sizeof message, "the %s worker on %s %s", s->name, w->host, why);
    while (w->held.head)
        request_fail(b, w->held.head, 503, message);
    if (w->prev)
        w->prev->next = w->next;
    else
        s->workers = w->next;
    if (w->next)
        w->next->prev = w->prev;
    s->nworkers--;
    b->nworkers--;
    uint8_t key[1 + PROTO_ROUTE_MAX];
    map_remove(b->workers, key, peer_key(&w->peer, key));
    free(w);
}

/* The live worker of s with a free slot and the lowest load, or NULL. */
static worker_t *worker_pick(service_t *s) {
    worker_t *best = NULL;
    for (worker_t *w = s->workers; w; w = w->next) {
        if (w->inflight >= w->capacity)
            continue;
        /* Compare inflight/capacity without division. */
        if (!best || (long)w->inflight * best->capacity < (long)best->inflight * w->capacity ||
            ((long)w->inflight * best->capacity == (long)best->inflight * w->capacity &&
             w->served < best->served))
            best = w;
    }
    return best;
}

/* Hands queued requests of s to workers with free slots, oldest first. */
static void dispatch(broker_t *b, service_t *s) {
    worker_t *w;
    while (s->queue.head && (w = worker_pick(s)) != NULL) {
        request_t *r = s->queue.head;
        list_unlink(&s->queue, r);
        s->queued--;
        b->queued_bytes -= r->bytes;
        r->worker = w;
        list_push(&w->held, r);
        w->inflight++;
        w->served++;
        int rc =
            proto_forward(b->sockets[w->peer.sock], w->peer.route, w->peer.len, &r->msg, r->id);
        if (rc != 0)
            worker_delete(b, w, rc == -EHOSTUNREACH ? "is unreachable" : "could not be sent to");
    }
}

/* ---- services ---- */

/* Frees one service to make room in a full table: one nobody uses (no
 * worker, nothing queued: no request or worker points at it) or, for a
 * worker (for_worker), one that only has requests queued, which fail.  So
 * a caller naming services at random locks out neither the services in use
 * nor a worker that joins.  False when nothing may be freed. */
static bool service_evict(broker_t *b, bool for_worker) {
    service_t **victim = NULL;
    for (service_t **link = &b->service_list; *link; link = &(*link)->next_service) {
        service_t *s = *link;
        if (s->nworkers)
            continue;
        if (!s->queued) {
            victim = link;
            break;
        }
        if (for_worker && !victim)
            victim = link;
    }
    if (!victim)
        return false;
    service_t *s = *victim;
    if (s->queued) {
        char message[160];
        snprintf(message, sizeof message,
                 "no %s worker available (the broker needed its room for a service with a "
                 "worker)",
                 s->name);
        log_warn("dropped service %s with %d queued request%s and no worker, to make room for "
                 "a worker's",
                 s->name, s->queued, s->queued == 1 ? "" : "s");
        while (s->queue.head)
            request_fail(b, s->queue.head, 503, message);
    }
    *victim = s->next_service;
    map_remove(b->services, s->name, strlen(s->name));
    free(s);
    b->nservices--;
    return true;
}

/* The service called name; when there is none and create, a new one (NULL
 * when the table is full and nothing may be freed, see service_evict, or
 * out of memory). */
static service_t *service_get(broker_t *b, const char *name, bool create, bool for_worker) {
    service_t *s = map_get(b->services, name, strlen(name));
    if (s || !create)
        return s;
    if (b->nservices >= b->services_limit.max && !service_evict(b, for_worker)) {
        char refused[PROTO_SERVICE_MAX + 64];
        snprintf(refused, sizeof refused, "a %s for service %s", for_worker ? "worker" : "request",
                 name);
        limit_refuse(&b->services_limit, refused);
        return NULL;
    }
    s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    snprintf(s->name, sizeof s->name, "%s", name);
    if (map_put(b->services, name, strlen(name), s) != 0) {
        free(s);
        return NULL;
    }
    s->next_service = b->service_list;
    b->service_list = s;
    b->nservices++;
    limit_admit(&b->services_limit);
    return s;
}

/* ---- status ---- */

static char *status_json(broker_t *b) {
    cJSON *root = cJSON_CreateObject();
    cJSON *services = cJSON_AddObjectToObject(root, "services");
    cJSON *workers = cJSON_AddArrayToObject(root, "workers");
    int64_t now = clock_ms();
    for (service_t *s = b->service_list; s; s = s->next_service) {
        cJSON *o = cJSON_AddObjectToObject(services, s->name);
        int inflight = 0;
        for (worker_t *w = s->workers; w; w = w->next) {
            inflight += w->inflight;
            cJSON *wo = cJSON_CreateObject();
            cJSON_AddStringToObject(wo, "service", s->name);
            cJSON_AddStringToObject(wo, "host", w->host);
            if (w->key[0])
                cJSON_AddStringToObject(wo, "key", w->key);
            cJSON_AddNumberToObject(wo, "pid", (double)w->pid);
            cJSON_AddNumberToObject(wo, "capacity", w->capacity);
            cJSON_AddNumberToObject(wo, "inflight", w->inflight);
            cJSON_AddNumberToObject(wo, "served", (double)w->served);
            cJSON_AddNumberToObject(wo, "silent_ms",
                                    (double)(now - (w->expires - 3 * b->heartbeat_ms)));
            cJSON_AddItemToArray(workers, wo);
        }
        cJSON_AddNumberToObject(o, "workers", s->nworkers);
        cJSON_AddNumberToObject(o, "inflight", inflight);
        cJSON_AddNumberToObject(o, "queued", s->queued);
        cJSON_AddNumberToObject(o, "requests", (double)s->requests);
        cJSON_AddNumberToObject(o, "failures", (double)s->failures);
    }
    cJSON_AddNumberToObject(root, "heartbeat_ms", b->heartbeat_ms);
    cJSON_AddNumberToObject(root, "queued_bytes", (double)b->queued_bytes);
    cJSON *limits = cJSON_AddObjectToObject(root, "limits");
    cJSON *refused = cJSON_AddObjectToObject(root, "refused");
    const limit_t *each[] = {&b->services_limit, &b->workers_limit, &b->bytes_limit};
    static const char *const keys[] = {"services", "workers", "queued_bytes"};
    for (size_t i = 0; i < sizeof each / sizeof each[0]; i++) {
        cJSON_AddNumberToObject(limits, keys[i], (double)each[i]->max);
        cJSON_AddNumberToObject(refused, keys[i], (double)each[i]->refused);
    }
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return text;
}

/* ---- who may do what ---- */

/*
 * Whether the sender of msg may serve (what = "serves") or call (what =
 * "calls") msg's service.  Endpoints without CURVE (inproc, this user's
 * ipc:// socket, or a TCP one the caller vouched for with plain_endpoint)
 * belong to the user, and may do anything.  On a CURVE endpoint the key's
 * certificate in the allow-list says it, in its metadata: "serves" and
 * "calls", comma-separated service patterns (glob.h).  A certificate without
 * "serves" was made before the rule, when keys were for GPU hosts, and may
 * serve generate only (a warning says so); one without "calls" may call
 * nothing.  The certificate is looked up for every READY and REQUEST,
 * so removing it from the allow-list revokes the key at once.  The key's
 * name (metadata "name") goes to name.
 */
static bool permitted(broker_t *b, const peer_t *p, const proto_msg_t *msg, const char *what,
                      char *name, size_t name_len) {
    name[0] = '\0';
    if (!b->curve[p->sock])
        return true;
    zcert_t *cert =
        b->allowed && msg->user_id[0] ? zcertstore_lookup(b->allowed, msg->user_id) : NULL;
    if (!cert) /* the authenticator let it in, but the certificate is gone: revoked */
        return false;
    const char *given = zcert_meta(cert, "name");
    snprintf(name, name_len, "%s", given ? given : "?");
    const char *rules = zcert_meta(cert, what);
    if (!rules && !strcmp(what, "serves")) {
        log_warn("key %s may serve generate only: its certificate predates per-service rules "
                 "(make it again with `lca keys add NAME DIR --serves SERVICES` for others)",
                 name);
        rules = "generate";
    }
    return glob_list_match(rules, msg->service, strlen(msg->service));
}

/* ---- message handlers ---- */

/* Sends a would-be worker DISCONNECT with the reason it was refused (the
 * worker logs it and backs off). */
static void refuse_worker(broker_t *b, const peer_t *p, const char *message) {
    char header[400];
    cJSON *h = cJSON_CreateObject();
    cJSON_AddStringToObject(h, "message", message);
    if (!cJSON_PrintPreallocated(h, header, sizeof header, false))
        snprintf(header, sizeof header, "{}");
    cJSON_Delete(h);
    send_to(b, p, &(proto_out_t){.cmd = PROTO_DISCONNECT, .header = header});
}

static void on_ready(broker_t *b, const peer_t *p, proto_msg_t *msg) {
    char key_name[64], message[200];
    if (!permitted(b, p, msg, "serves", key_name, sizeof key_name)) {
        snprintf(message, sizeof message, "key %s may not serve %s (see `lca keys add --serves`)",
                 key_name[0] ? key_name : "(revoked)", msg->service);
        log_warn("refused a worker: %s", message);
        refuse_worker(b, p, message);
        return;
    }
    uint8_t key[1 + PROTO_ROUTE_MAX];
    size_t key_len = peer_key(p, key);
    worker_t *old = map_get(b->workers, key, key_len);
    if (old) /* a worker that registers again starts afresh */
        worker_delete(b, old, "registered again");
    if (b->nworkers >= b->workers_limit.max) {
        snprintf(message, sizeof message, "the broker has %d workers, the most it holds",
                 b->nworkers);
        char refused[PROTO_SERVICE_MAX + 32];
        snprintf(refused, sizeof refused, "a worker for %s", msg->service);
        limit_refuse(&b->workers_limit, refused);
        refuse_worker(b, p, message);
        return;
    }
    service_t *s = service_get(b, msg->service, true, true);
    if (!s && b->nservices >= b->services_limit.max) {
        snprintf(message, sizeof message,
                 "the broker has %d services with workers, the most it holds", b->nservices);
        refuse_worker(b, p, message);
        return;
    }
    worker_t *w = s ? calloc(1, sizeof *w) : NULL;
    if (!w) {
        send_simple(b, p, PROTO_DISCONNECT, 0);
        return;
    }
    w->peer = *p;
    w->service = s;
    w->capacity = 1;
    snprintf(w->key, sizeof w->key, "%s", key_name);
    snprintf(w->host, sizeof w->host, "?");
    cJSON *h = msg->header ? cJSON_ParseWithLength(msg->header, msg->header_len) : NULL;
    const cJSON *v;
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(h, "capacity")) && v->valuedouble >= 1)
        w->capacity = v->valuedouble > 4096 ? 4096 : (int)v->valuedouble;
    if (cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(h, "host")))
        snprintf(w->host, sizeof w->host, "%s", v->valuestring);
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(h, "pid")))
        w->pid = (long)v->valuedouble;
    cJSON_Delete(h);
    w->expires = clock_ms() + 3 * b->heartbeat_ms;
    if (map_put(b->workers, key, key_len, w) != 0) {
        free(w);
        send_simple(b, p, PROTO_DISCONNECT, 0);
        return;
    }
    w->next = s->workers;
    if (s->workers)
        s->workers->prev = w;
    s->workers = w;
    s->nworkers++;
    b->nworkers++;
    limit_admit(&b->workers_limit);
    log_info("worker %s pid %ld joined %s (capacity %d, %d worker%s)", w->host, w->pid, s->name,
             w->capacity, s->nworkers, s->nworkers == 1 ? "" : "s");
    dispatch(b, s);
}

static void on_request(broker_t *b, const peer_t *p, proto_msg_t *msg) {
    char key_name[64];
    if (!permitted(b, p, msg, "calls", key_name, sizeof key_name)) {
        char message[200];
        snprintf(message, sizeof message, "key %s may not call %s (see `lca keys add --calls`)",
                 key_name[0] ? key_name : "(revoked)", msg->service);
        send_error(b, p, msg->id, 403, message);
        proto_msg_close(msg);
        return;
    }
    if (strcmp(msg->service, "broker.status") == 0) {
        char *text = status_json(b);
        send_to(b, p, &(proto_out_t){.cmd = PROTO_FINAL, .id = msg->id, .header = text});
        free(text);
        proto_msg_close(msg);
        return;
    }
    uint8_t key[1 + PROTO_ROUTE_MAX + 8];
    size_t key_len = client_key(p, msg->id, key);
    if (map_get(b->client_requests, key, key_len)) {
        send_error(b, p, msg->id, 409, "a request with this id is already in progress");
        proto_msg_close(msg);
        return;
    }
    service_t *s = service_get(b, msg->service, true, false);
    if (!s) {
        send_error(b, p, msg->id, 503,
                   b->nservices >= b->services_limit.max
                       ? "too many services: the broker holds the most it may"
                       : "broker out of memory");
        proto_msg_close(msg);
        return;
    }
    s->requests++;
    if (s->queued >= b->queue_max) {
        char message[128];
        snprintf(message, sizeof message, "the %s queue is full", s->name);
        s->failures++;
        send_error(b, p, msg->id, 503, message);
        proto_msg_close(msg);
        return;
    }
    /* A request no worker takes at once waits in the queue, in the
     * broker's memory: bounded in all, not only per service. */
    size_t bytes = msg->header_len + msg->payload_len;
    if (b->queued_bytes + bytes > (size_t)b->bytes_limit.max && !worker_pick(s)) {
        char refused[PROTO_SERVICE_MAX + 64];
        snprintf(refused, sizeof refused, "a request of %zu bytes for %s", bytes, s->name);
        limit_refuse(&b->bytes_limit, refused);
        s->failures++;
        send_error(b, p, msg->id, 503,
                   "the broker's queues are full: too many bytes wait for workers");
        proto_msg_close(msg);
        return;
    }
    int timeout = b->queue_timeout_ms;
    cJSON *h = msg->header ? cJSON_ParseWithLength(msg->header, msg->header_len) : NULL;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(h, "timeout_ms");
    if (cJSON_IsNumber(t) && t->valuedouble >= 1 && t->valuedouble <= 3600000)
        timeout = (int)t->valuedouble;
    cJSON_Delete(h);

    request_t *r = calloc(1, sizeof *r);
    if (!r) {
        send_error(b, p, msg->id, 503, "broker out of memory");
        proto_msg_close(msg);
        return;
    }
    r->id = ++b->next_id;
    r->client_id = msg->id;
    r->client = *p;
    r->service = s;
    r->queued_at = clock_ms();
    r->deadline = r->queued_at + timeout;
    r->bytes = bytes;
    proto_msg_move(&r->msg, msg);
    map_put_u64(b->requests, r->id, r);
    map_put(b->client_requests, key, key_len, r);
    list_push(&s->queue, r);
    s->queued++;
    b->queued_bytes += bytes;
    limit_admit(&b->bytes_limit);
    dispatch(b, s);
}

/* A PARTIAL, FINAL or ERROR from a worker. */
static void on_reply(broker_t *b, worker_t *w, proto_msg_t *msg) {
    request_t *r = map_get_u64(b->requests, msg->id);
    if (!r || r->worker != w) { /* cancelled or failed meanwhile: late reply */
        proto_msg_close(msg);
        return;
    }
    bool last = msg->cmd != PROTO_PARTIAL;
    if (msg->cmd == PROTO_ERROR)
        r->service->failures++;
    int rc = proto_forward(b->sockets[r->client.sock], r->client.route, r->client.len, msg,
                           r->client_id);
    if (rc != 0 && !last) {
        /* The client is gone: stop the work it asked for. */
        log_debug("client of request %llu unreachable; cancelling", (unsigned long long)r->id);
        send_simple(b, &w->peer, PROTO_CANCEL, r->id);
        last = true;
    }
    if (last) {
        service_t *s = r->service;
        request_free(b, r);
        dispatch(b, s);
    }
}

static void on_cancel(broker_t *b, const peer_t *p, proto_msg_t *msg) {
    uint8_t key[1 + PROTO_ROUTE_MAX + 8];
    request_t *r = map_get(b->client_requests, key, client_key(p, msg->id, key));
    proto_msg_close(msg);
    if (!r)
        return;
    service_t *s = r->service;
    if (r->worker)
        send_simple(b, &r->worker->peer, PROTO_CANCEL, r->id);
    request_free(b, r);
    dispatch(b, s);
}

static void on_message(broker_t *b, const peer_t *p, proto_msg_t *msg) {
    uint8_t key[1 + PROTO_ROUTE_MAX];
    worker_t *w = map_get(b->workers, key, peer_key(p, key));
    if (w)
        w->expires = clock_ms() + 3 * b->heartbeat_ms;
    switch (msg->cmd) {
    case PROTO_READY:
        on_ready(b, p, msg);
        break;
    case PROTO_REQUEST:
        on_request(b, p, msg);
        return;
    case PROTO_PARTIAL:
    case PROTO_FINAL:
    case PROTO_ERROR:
        if (w) {
            on_reply(b, w, msg);
            return;
        }
        break;
    case PROTO_CANCEL:
        on_cancel(b, p, msg);
        return;
    case PROTO_HEARTBEAT:
        if (!w) /* a worker we do not know (we restarted?): make it register again */
            send_simple(b, p, PROTO_DISCONNECT, 0);
        break;
    case PROTO_DISCONNECT:
        if (w)
            worker_delete(b, w, "disconnected");
        break;
    }
    proto_msg_close(msg);
}

/* ---- timers ---- */

/* Sends every worker a heartbeat. */
static void heartbeat_send(broker_t *b) {
    for (service_t *s = b->service_list; s; s = s->next_service)
        for (worker_t *w = s->workers; w; w = w->next)
            send_simple(b, &w->peer, PROTO_HEARTBEAT, 0);
}

/* Removes workers silent past their expiry; returns the earliest expiry left. */
static int64_t expire_workers(broker_t *b, int64_t now) {
    int64_t earliest = INT64_MAX;
    for (service_t *s = b->service_list; s; s = s->next_service) {
        worker_t *w = s->workers;
        while (w) {
            worker_t *next = w->next;
            if (now >= w->expires) {
                char why[64];
                snprintf(why, sizeof why, "was silent for %d ms", 3 * b->heartbeat_ms);
                worker_delete(b, w, why);
            } else if (w->expires < earliest) {
                earliest = w->expires;
            }
            w = next;
        }
    }
    return earliest;
}

/* Fails queued requests whose deadline passed, and requests for a service
 * that has had no worker at all for NO_WORKER_HEARTBEATS intervals (a worker
 * restarting rejoins well within that; a service nobody runs should not make
 * the caller wait for its whole deadline).  Returns the earliest deadline left. */
static int64_t expire_queued(broker_t *b, int64_t now) {
    int64_t earliest = INT64_MAX;
    int64_t grace = (int64_t)NO_WORKER_HEARTBEATS * b->heartbeat_ms;
    for (service_t *s = b->service_list; s; s = s->next_service) {
        request_t *r = s->queue.head;
        while (r) {
            request_t *next = r->next;
            int64_t due = r->deadline;
            if (s->nworkers == 0 && r->queued_at + grace < due)
                due = r->queued_at + grace;
            if (now >= due) {
                char message[128];
                snprintf(message, sizeof message, "no %s worker available", s->name);
                request_fail(b, r, 503, message);
            } else if (due < earliest) {
                earliest = due;
            }
            r = next;
        }
    }
    return earliest;
}

/* ---- the thread ---- */

/* Reads up to DRAIN_BATCH messages from each socket; returns how many. */
static int drain(broker_t *b) {
    int handled = 0;
    for (int i = 0; i < b->nsockets; i++) {
        for (int n = 0; n < DRAIN_BATCH; n++) {
            proto_msg_t msg;
            char why[160];
            int rc = proto_recv(b->sockets[i], true, &msg, ZMQ_DONTWAIT, why, sizeof why);
            if (rc == -EAGAIN || rc == -EINTR)
                break;
            if (rc == -EPROTO) {
                log_warn("rejected a malformed message: %s", why);
                continue;
            }
            if (rc != 0) {
                log_error("receive failed: %s", zmq_strerror(-rc));
                break;
            }
            peer_t p = {.sock = (uint8_t)i, .len = (uint8_t)msg.route_len};
            memcpy(p.route, msg.route, msg.route_len);
            on_message(b, &p, &msg);
            handled++;
        }
    }
    return handled;
}

static void *broker_thread(void *arg) {
    broker_t *b = arg;
    zmq_pollitem_t items[1 + MAX_SOCKETS];
    items[0] = (zmq_pollitem_t){.socket = b->pipe_thread, .events = ZMQ_POLLIN};
    for (int i = 0; i < b->nsockets; i++)
        items[1 + i] = (zmq_pollitem_t){.socket = b->sockets[i], .events = ZMQ_POLLIN};
    b->next_heartbeat = clock_ms() + b->heartbeat_ms;
    int64_t earliest = INT64_MAX; /* next queue deadline or worker expiry */
    int64_t idle_since = clock_us();
    for (;;) {
        int64_t now = clock_ms();
        int64_t wake = b->next_heartbeat < earliest ? b->next_heartbeat : earliest;
        long timeout = wake > now ? (long)(wake - now) : 0;
        if (spin_polling(&b->spin, clock_us() - idle_since))
            timeout = 0;
        if (zmq_poll(items, 1 + b->nsockets, timeout) < 0 && errno != EINTR)
            break;
        if (items[0].revents & ZMQ_POLLIN)
            break;
        int handled = drain(b);
        now = clock_ms();
        if (handled) {
            int64_t t = clock_us();
            spin_learn(&b->spin, t - idle_since);
            idle_since = t;
        } else if (now < wake) {
            /* A spin that found nothing, and no timer is due.  Give the
             * core to any thread waiting for it (a worker, the client):
             * spinning over them is what made the tail slow. */
            sched_yield();
            continue;
        }
        if (now >= b->next_heartbeat) {
            heartbeat_send(b);
            b->next_heartbeat = now + b->heartbeat_ms;
        }
        int64_t queued = expire_queued(b, now), expiry = expire_workers(b, now);
        earliest = queued < expiry ? queued : expiry;
    }
    /* Going away: tell workers, fail what is in flight. */
    for (service_t *s = b->service_list; s; s = s->next_service) {
        while (s->queue.head)
            request_fail(b, s->queue.head, 503, "the broker is shutting down");
        while (s->workers) {
            send_simple(b, &s->workers->peer, PROTO_DISCONNECT, 0);
            worker_delete(b, s->workers, "was told the broker is shutting down");
        }
    }
    return NULL;
}

/* ---- life cycle ---- */

static int bind_socket(broker_t *b, const char *endpoint, const char *curve_dir, char *err,
                       size_t err_len) {
    b->curve[b->nsockets] = curve_dir != NULL;
    void *s = proto_socket_new(ZMQ_ROUTER);
    if (!s) {
        snprintf(err, err_len, "cannot create a socket: %s", zmq_strerror(errno));
        return -1;
    }
    if (curve_dir && proto_curve_server(s, curve_dir, err, err_len) != 0) {
        proto_socket_close(&s);
        return -1;
    }
    if (proto_endpoint_prepare(endpoint, true, err, err_len) != 0) {
        proto_socket_close(&s);
        return -1;
    }
    if (zmq_bind(s, endpoint) != 0) {
        snprintf(err, err_len, "cannot listen on %s: %s", endpoint, zmq_strerror(errno));
        proto_socket_close(&s);
        return -1;
    }
    int rc = proto_endpoint_seal(endpoint);
    if (rc != 0) {
        snprintf(err, err_len, "cannot close %s to other users: %s", endpoint, strerror(-rc));
        proto_socket_close(&s);
        return -1;
    }
    b->sockets[b->nsockets++] = s;
    return 0;
}

broker_t *broker_new(const broker_config_t *config, char *err, size_t err_len) {
    static int counter;
    broker_t *b = calloc(1, sizeof *b);
    if (!b) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    b->heartbeat_ms = config->heartbeat_ms > 0 ? config->heartbeat_ms : proto_heartbeat_ms();
    b->queue_max = config->queue_max > 0 ? config->queue_max : 1024;
    b->queue_timeout_ms = config->queue_timeout_ms > 0 ? config->queue_timeout_ms : 30000;
    b->services_limit = (limit_t){"services", config->services_max > 0 ? config->services_max
                                                                       : BROKER_SERVICES_MAX};
    b->workers_limit =
        (limit_t){"workers", config->workers_max > 0 ? config->workers_max : BROKER_WORKERS_MAX};
    b->bytes_limit =
        (limit_t){"queued bytes", config->queued_bytes_max > 0 ? (long)config->queued_bytes_max
                                                               : (long)BROKER_QUEUED_BYTES_MAX};
    spin_init(&b->spin, config->spin_us);
    b->services = map_new();
    b->workers = map_new();
    b->requests = map_new();
    b->client_requests = map_new();
    int id = __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED);
    snprintf(b->local_endpoint, sizeof b->local_endpoint, "inproc://lca-broker-%d-%d", getpid(),
             id);
    snprintf(b->pipe_endpoint, sizeof b->pipe_endpoint, "inproc://lca-broker-pipe-%d-%d", getpid(),
             id);
    if (!b->services || !b->workers || !b->requests || !b->client_requests) {
        snprintf(err, err_len, "out of memory");
        goto fail;
    }

    /* A Unix socket is guarded by its directory (proto_endpoint_prepare);
     * TCP, loopback included, reaches every local user, so it takes CURVE
     * unless the caller vouches for the network (plain_endpoint). */
    const char *ep = config->endpoint;
    bool plain = ep && (proto_endpoint_is_private(ep) || config->plain_endpoint);
    bool need_curve = (ep && !plain) || config->public_endpoint;
    if (need_curve && !config->curve_dir) {
        snprintf(err, err_len,
                 "refusing to listen on %s without CURVE: anyone who reaches a TCP address "
                 "(every local user, on loopback) could serve or call any service.  Leave "
                 "--broker unset for this user's Unix socket (%s), or create keys with `lca keys "
                 "init DIR` and set LCA_CURVE_DIR=DIR",
                 config->public_endpoint ? config->public_endpoint : ep, proto_broker_default());
        goto fail;
    }
    if (config->curve_dir && !(b->auth = proto_curve_auth_start(config->curve_dir, err, err_len)))
        goto fail;
    if (config->curve_dir) {
        char allowed[4096];
        snprintf(allowed, sizeof allowed, "%s/allowed", config->curve_dir);
        b->allowed = zcertstore_new(allowed);
    }
    if (bind_socket(b, b->local_endpoint, NULL, err, err_len) != 0)
        goto fail;
    if (ep && bind_socket(b, ep, plain ? NULL : config->curve_dir, err, err_len) != 0)
        goto fail;
    if (config->public_endpoint &&
        bind_socket(b, config->public_endpoint, config->curve_dir, err, err_len) != 0)
        goto fail;

    b->pipe_thread = proto_socket_new(ZMQ_PAIR);
    b->pipe_main = proto_socket_new(ZMQ_PAIR);
    if (!b->pipe_thread || !b->pipe_main || zmq_bind(b->pipe_thread, b->pipe_endpoint) != 0 ||
        zmq_connect(b->pipe_main, b->pipe_endpoint) != 0) {
        snprintf(err, err_len, "cannot create the broker's control pipe");
        goto fail;
    }
    if (pthread_create(&b->thread, NULL, broker_thread, b) != 0) {
        snprintf(err, err_len, "cannot start the broker thread");
        goto fail;
    }
    b->started = true;
    return b;
fail:
    broker_destroy(&b);
    return NULL;
}

const char *broker_local_endpoint(const broker_t *self) {
    return self->local_endpoint;
}

static void free_service(const void *key, size_t key_len, void *value, void *arg) {
    (void)key, (void)key_len, (void)arg;
    free(value);
}

void broker_destroy(broker_t **self_p) {
    broker_t *b = *self_p;
    if (!b)
        return;
    if (b->started) {
        zmq_send(b->pipe_main, "", 0, 0);
        pthread_join(b->thread, NULL);
    }
    for (int i = 0; i < b->nsockets; i++)
        proto_socket_close(&b->sockets[i]);
    proto_socket_close(&b->pipe_main);
    proto_socket_close(&b->pipe_thread);
    proto_curve_auth_stop(&b->auth);
    zcertstore_destroy(&b->allowed);
    if (b->services)
        map_each(b->services, free_service, NULL);
    map_destroy(&b->services);
    map_destroy(&b->workers);
    map_destroy(&b->requests);
    map_destroy(&b->client_requests);
    free(b);
    *self_p = NULL;
}
