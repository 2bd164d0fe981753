/*
 * The worker side of the wire (see worker.h).
 *
 * Shape: the thread in proto_worker_run() owns the DEALER to the broker and
 * a PULL socket; each job thread owns a PUSH connected to that PULL.  Replies
 * a handler sends travel job thread -> PULL -> DEALER, each prefixed by the
 * connection generation it belongs to, so replies for a connection that has
 * since been replaced are dropped instead of confusing the broker.
 *
 * Job life: REQUEST -> queued (jobs list) -> taken by a job thread -> handler
 * -> FINAL/ERROR -> freed by that thread.  The jobs table (id -> job) is what
 * CANCEL looks in; it and the queue are guarded by one mutex.
 */
#include "proto/worker.h"

#include "proto/base/log.h"
#include "proto/base/map.h"
#include "proto/curve.h"
#include "proto/socket.h"
#include "proto/wire.h"
#include "proto/base/signals.h"
#include "proto/base/clock.h"

#include <cJSON.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct proto_job {
    proto_worker_t *worker;
    uint64_t id;
    uint32_t generation; /* connection the request came on */
    proto_msg_t request;
    cJSON *json; /* request header, parsed on first use */
    atomic_bool cancelled;
    bool ended; /* FINAL or ERROR sent */
    void (*on_cancel)(void *);
    void *on_cancel_arg;
    void *push;        /* the running thread's PUSH socket */
    proto_job_t *next; /* in the pending queue */
};

struct proto_worker {
    char *endpoint, *service, *curve_dir;
    int capacity, heartbeat_ms;
    proto_handler_t handler;
    void *arg;

    void *dealer; /* to the broker; replaced on reconnect */
    void *pull;   /* replies from job threads */
    char pull_endpoint[64];
    atomic_uint generation;
    int64_t broker_expires; /* reconnect when the broker is silent past this */
    int64_t next_heartbeat;
    int backoff_ms;

    pthread_mutex_t lock; /* guards jobs, pending, stopping */
    pthread_cond_t wake;
    map_t *jobs; /* id -> job, queued or running */
    proto_job_t *pending_head, *pending_tail;
    bool stopping;
    pthread_t *threads;
    int nthreads;
};

/* ---- the broker connection ---- */

static int send_ready(proto_worker_t *w) {
    char host[64] = "?", header[256];
    gethostname(host, sizeof host - 1);
    snprintf(header, sizeof header, "{\"capacity\":%d,\"host\":\"%s\",\"pid\":%ld}", w->capacity,
             host, (long)getpid());
    /* A hostname with a quote would break the JSON; fall back to none. */
    if (strchr(host, '"') || strchr(host, '\\'))
        snprintf(header, sizeof header, "{\"capacity\":%d,\"pid\":%ld}", w->capacity,
                 (long)getpid());
    return proto_send(w->dealer, NULL, 0,
                      &(proto_out_t){.cmd = PROTO_READY, .service = w->service, .header = header});
}

static int connect_broker(proto_worker_t *w, char *err, size_t err_len) {
    proto_socket_close(&w->dealer);
    w->dealer = proto_socket_new(ZMQ_DEALER);
    if (!w->dealer) {
        snprintf(err, err_len, "cannot create a socket: %s", zmq_strerror(errno));
        return -1;
    }
    if (w->curve_dir && proto_curve_client(w->dealer, w->curve_dir, err, err_len) != 0)
        return -1;
    int rc = proto_endpoint_prepare(w->endpoint, false, err, err_len);
    if (rc != 0 && rc != -ENOENT)
        return -1;
    if (rc == 0 && zmq_connect(w->dealer, w->endpoint) != 0) {
        snprintf(err, err_len, "cannot connect to %s: %s", w->endpoint, zmq_strerror(errno));
        return -1;
    }
    atomic_fetch_add(&w->generation, 1);
    int64_t now = clock_ms();
    w->broker_expires = now + 3 * w->heartbeat_ms;
    w->next_heartbeat = now + w->heartbeat_ms;
    if (rc == -ENOENT) {
        /* The broker has not made its socket's directory yet: the broker
         * stays silent, so the next try comes by itself. */
        log_info("%s; will try again", err);
        return 0;
    }
    return send_ready(w);
}

/* Marks every job cancelled (the broker no longer expects their replies). */
static void cancel_all(proto_worker_t *w);

static void reconnect(proto_worker_t *w, const char *why) {
    log_warn("%s; reconnecting to %s in %d ms", why, w->endpoint, w->backoff_ms);
    cancel_all(w);
    proto_socket_close(&w->dealer);
    /* Wait out the back-off, still draining replies (they are stale now). */
    int64_t until = clock_ms() + w->backoff_ms;
    while (!stop_requested() && clock_ms() < until) {
        zmq_pollitem_t item = {.socket = w->pull, .events = ZMQ_POLLIN};
        zmq_poll(&item, 1, (long)(until - clock_ms()));
        proto_msg_t m;
        while (proto_recv(w->pull, true, &m, ZMQ_DONTWAIT, NULL, 0) == 0)
            proto_msg_close(&m);
    }
    w->backoff_ms = w->backoff_ms * 2 > 8000 ? 8000 : w->backoff_ms * 2;
    char err[256];
    if (connect_broker(w, err, sizeof err) != 0)
        log_error("%s", err);
}

/* ---- jobs ---- */

static void job_free(proto_job_t *job) {
    cJSON_Delete(job->json);
    proto_msg_close(&job->request);
    free(job);
}

static void cancel_job(proto_job_t *job) {
    if (atomic_exchange(&job->cancelled, true))
        return;
    if (job->on_cancel)
        job->on_cancel(job->on_cancel_arg);
}

static void cancel_each(const void *key, size_t key_len, void *value, void *arg) {
    (void)key, (void)key_len, (void)arg;
    cancel_job(value);
}

static void cancel_all(proto_worker_t *w) {
    pthread_mutex_lock(&w->lock);
    map_each(w->jobs, cancel_each, NULL);
    pthread_mutex_unlock(&w->lock);
}

static void on_request(proto_worker_t *w, proto_msg_t *msg) {
    proto_job_t *job = calloc(1, sizeof *job);
    if (!job) {
        char header[128];
        size_t n = proto_error_header(header, sizeof header, 503, "worker out of memory");
        proto_send(
            w->dealer, NULL, 0,
            &(proto_out_t){.cmd = PROTO_ERROR, .id = msg->id, .header = header, .header_len = n});
        proto_msg_close(msg);
        return;
    }
    job->worker = w;
    job->id = msg->id;
    job->generation = atomic_load(&w->generation);
    proto_msg_move(&job->request, msg);
    pthread_mutex_lock(&w->lock);
    proto_job_t *old = map_get_u64(w->jobs, job->id);
    if (old) /* the broker reuses no id within a connection; a stale job from
                the previous connection may share it: it is cancelled anyway */
        cancel_job(old);
    map_put_u64(w->jobs, job->id, job);
    if (w->pending_tail)
        w->pending_tail->next = job;
    else
        w->pending_head = job;
    w->pending_tail = job;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
}

static void on_cancel(proto_worker_t *w, uint64_t id) {
    pthread_mutex_lock(&w->lock);
    proto_job_t *job = map_get_u64(w->jobs, id);
    if (job && job->generation == atomic_load(&w->generation))
        cancel_job(job);
    pthread_mutex_unlock(&w->lock);
}

static int job_send(proto_job_t *job, const proto_out_t *out) {
    if (job->ended)
        return -EALREADY;
    if (atomic_load(&job->cancelled))
        return -ECANCELED;
    uint32_t gen = job->generation;
    return proto_send(job->push, &gen, sizeof gen, out);
}

static void answer_ping(proto_job_t *job) {
    char header[160];
    snprintf(header, sizeof header, "{\"pong\":true,\"service\":\"%s\",\"pid\":%ld}",
             job->worker->service, (long)getpid());
    proto_job_final(job, header, NULL, 0);
}

static void *job_thread(void *arg) {
    proto_worker_t *w = arg;
    void *push = proto_socket_new(ZMQ_PUSH);
    if (!push || zmq_connect(push, w->pull_endpoint) != 0) {
        log_error("job thread cannot reach the worker loop: %s", zmq_strerror(errno));
        proto_socket_close(&push);
        return NULL;
    }
    for (;;) {
        pthread_mutex_lock(&w->lock);
        while (!w->pending_head && !w->stopping)
            pthread_cond_wait(&w->wake, &w->lock);
        proto_job_t *job = w->pending_head;
        if (!job) { /* stopping and nothing left */
            pthread_mutex_unlock(&w->lock);
            break;
        }
        w->pending_head = job->next;
        if (!w->pending_head)
            w->pending_tail = NULL;
        pthread_mutex_unlock(&w->lock);

        job->push = push;
        if (!atomic_load(&job->cancelled)) {
            const cJSON *op = cJSON_GetObjectItemCaseSensitive(proto_job_json(job), "op");
            if (cJSON_IsString(op) && strcmp(op->valuestring, "ping") == 0)
                answer_ping(job);
            else
                w->handler(job, w->arg);
            if (!job->ended)
                proto_job_error(job, 500, "the handler ended without a reply");
        }
        pthread_mutex_lock(&w->lock);
        if (map_get_u64(w->jobs, job->id) == job)
            map_remove_u64(w->jobs, job->id);
        pthread_mutex_unlock(&w->lock);
        job_free(job);
    }
    proto_socket_close(&push);
    return NULL;
}

/* ---- the loop ---- */

/* A DISCONNECT that says why: the broker refused us (this key may not
 * serve the service).  Trying again will not help soon: back off to the
 * longest wait at once. */
static bool refused(proto_worker_t *w, const proto_msg_t *msg, char *why, size_t why_len) {
    cJSON *h = msg->header ? cJSON_ParseWithLength(msg->header, msg->header_len) : NULL;
    const char *message = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(h, "message"));
    if (message) {
        snprintf(why, why_len, "the broker refused us: %s", message);
        w->backoff_ms = 8000;
    }
    cJSON_Delete(h);
    return message != NULL;
}

static void on_broker_message(proto_worker_t *w, proto_msg_t *msg) {
    w->broker_expires = clock_ms() + 3 * w->heartbeat_ms;
    w->backoff_ms = w->heartbeat_ms;
    char why[300];
    switch (msg->cmd) {
    case PROTO_REQUEST:
        on_request(w, msg);
        return;
    case PROTO_CANCEL:
        on_cancel(w, msg->id);
        break;
    case PROTO_DISCONNECT:
        if (!refused(w, msg, why, sizeof why))
            snprintf(why, sizeof why, "the broker asked us to register again");
        proto_msg_close(msg);
        reconnect(w, why);
        return;
    default: /* HEARTBEAT; anything else a broker should not send is ignored */
        break;
    }
    proto_msg_close(msg);
}

/* Moves replies from job threads to the broker (dropping stale ones). */
static void forward_replies(proto_worker_t *w) {
    for (int n = 0; n < 1024; n++) {
        proto_msg_t msg;
        char why[128];
        int rc = proto_recv(w->pull, true, &msg, ZMQ_DONTWAIT, why, sizeof why);
        if (rc == -EAGAIN || rc == -EINTR)
            return;
        if (rc != 0) {
            log_error("bad reply from a job thread: %s", rc == -EPROTO ? why : zmq_strerror(-rc));
            continue;
        }
        uint32_t gen = 0;
        if (msg.route_len == sizeof gen)
            memcpy(&gen, msg.route, sizeof gen);
        if (gen != atomic_load(&w->generation) || !w->dealer) {
            proto_msg_close(&msg);
            continue;
        }
        rc = proto_forward(w->dealer, NULL, 0, &msg, msg.id);
        if (rc != 0)
            log_warn("cannot send to the broker: %s", zmq_strerror(-rc));
    }
}

int proto_worker_run(proto_worker_t *w) {
    while (!stop_requested()) {
        int64_t now = clock_ms();
        if (now >= w->broker_expires) {
            char why[96];
            snprintf(why, sizeof why, "the broker was silent for %d ms", 3 * w->heartbeat_ms);
            reconnect(w, why);
            continue;
        }
        if (now >= w->next_heartbeat) {
            proto_send(w->dealer, NULL, 0, &(proto_out_t){.cmd = PROTO_HEARTBEAT});
            w->next_heartbeat = now + w->heartbeat_ms;
        }
        zmq_pollitem_t items[2] = {{.socket = w->dealer, .events = ZMQ_POLLIN},
                                   {.socket = w->pull, .events = ZMQ_POLLIN}};
        int64_t wake =
            w->next_heartbeat < w->broker_expires ? w->next_heartbeat : w->broker_expires;
        long timeout = wake > now ? (long)(wake - now) : 0;
        if (zmq_poll(items, 2, timeout) < 0 && errno != EINTR)
            break;
        for (int n = 0; n < 1024; n++) {
            proto_msg_t msg;
            char why[160];
            int rc = proto_recv(w->dealer, false, &msg, ZMQ_DONTWAIT, why, sizeof why);
            if (rc == -EAGAIN || rc == -EINTR)
                break;
            if (rc == -EPROTO) {
                log_warn("rejected a malformed message from the broker: %s", why);
                continue;
            }
            if (rc != 0)
                break;
            void *before = w->dealer;
            on_broker_message(w, &msg);
            if (w->dealer != before)
                break; /* reconnected: the old socket is gone */
        }
        forward_replies(w);
    }
    /* Stop: tell the broker, cancel jobs, let threads finish their replies. */
    proto_send(w->dealer, NULL, 0, &(proto_out_t){.cmd = PROTO_DISCONNECT});
    cancel_all(w);
    pthread_mutex_lock(&w->lock);
    w->stopping = true;
    pthread_cond_broadcast(&w->wake);
    pthread_mutex_unlock(&w->lock);
    for (int i = 0; i < w->nthreads; i++)
        pthread_join(w->threads[i], NULL);
    w->nthreads = 0;
    return 0;
}

proto_worker_t *proto_worker_new(const proto_worker_config_t *config, char *err, size_t err_len) {
    static atomic_int counter;
    if (!config->endpoint || !config->handler || !proto_service_valid(config->service)) {
        snprintf(err, err_len,
                 "worker needs a broker endpoint, a handler and a valid service name");
        return NULL;
    }
    proto_worker_t *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    w->endpoint = strdup(config->endpoint);
    w->service = strdup(config->service);
    w->curve_dir = config->curve_dir ? strdup(config->curve_dir) : NULL;
    w->capacity = config->capacity > 0 ? config->capacity : 1;
    w->heartbeat_ms = config->heartbeat_ms > 0 ? config->heartbeat_ms : proto_heartbeat_ms();
    w->backoff_ms = w->heartbeat_ms;
    w->handler = config->handler;
    w->arg = config->arg;
    w->jobs = map_new();
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->wake, NULL);
    snprintf(w->pull_endpoint, sizeof w->pull_endpoint, "inproc://lca-worker-%d-%d", getpid(),
             atomic_fetch_add(&counter, 1));
    w->pull = proto_socket_new(ZMQ_PULL);
    if (!w->pull || zmq_bind(w->pull, w->pull_endpoint) != 0) {
        snprintf(err, err_len, "cannot create the worker's reply socket");
        goto fail;
    }
    if (connect_broker(w, err, err_len) != 0)
        goto fail;
    w->threads = calloc((size_t)w->capacity, sizeof *w->threads);
    for (int i = 0; w->threads && i < w->capacity; i++) {
        if (pthread_create(&w->threads[i], NULL, job_thread, w) != 0)
            break;
        w->nthreads++;
    }
    if (w->nthreads == 0) {
        snprintf(err, err_len, "cannot start job threads");
        goto fail;
    }
    return w;
fail:
    proto_worker_destroy(&w);
    return NULL;
}

void proto_worker_destroy(proto_worker_t **self_p) {
    proto_worker_t *w = *self_p;
    if (!w)
        return;
    if (w->nthreads) {
        pthread_mutex_lock(&w->lock);
        w->stopping = true;
        pthread_cond_broadcast(&w->wake);
        pthread_mutex_unlock(&w->lock);
        cancel_all(w);
        for (int i = 0; i < w->nthreads; i++)
            pthread_join(w->threads[i], NULL);
    }
    /* Jobs never taken by a thread are still queued. */
    while (w->pending_head) {
        proto_job_t *job = w->pending_head;
        w->pending_head = job->next;
        job_free(job);
    }
    proto_socket_close(&w->dealer);
    proto_socket_close(&w->pull);
    map_destroy(&w->jobs);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->wake);
    free(w->threads);
    free(w->endpoint);
    free(w->service);
    free(w->curve_dir);
    free(w);
    *self_p = NULL;
}

/* ---- job functions ---- */

uint64_t proto_job_id(const proto_job_t *job) {
    return job->id;
}

const char *proto_job_header(const proto_job_t *job, size_t *len) {
    *len = job->request.header_len;
    return job->request.header ? job->request.header : "";
}

const cJSON *proto_job_json(proto_job_t *job) {
    if (!job->json && job->request.header)
        job->json = cJSON_ParseWithLength(job->request.header, job->request.header_len);
    if (!job->json)
        job->json = cJSON_CreateObject();
    return job->json;
}

const void *proto_job_payload(const proto_job_t *job, size_t *len) {
    *len = job->request.payload_len;
    return job->request.payload;
}

int proto_job_partial(proto_job_t *job, const char *header, const void *payload, size_t len) {
    return job_send(job, &(proto_out_t){.cmd = PROTO_PARTIAL,
                                        .id = job->id,
                                        .header = header,
                                        .payload = payload,
                                        .payload_len = len,
                                        .has_payload = payload != NULL});
}

int proto_job_final(proto_job_t *job, const char *header, const void *payload, size_t len) {
    int rc = job_send(job, &(proto_out_t){.cmd = PROTO_FINAL,
                                          .id = job->id,
                                          .header = header,
                                          .payload = payload,
                                          .payload_len = len,
                                          .has_payload = payload != NULL});
    if (rc != -EINVAL)
        job->ended = true;
    return rc;
}

int proto_job_error(proto_job_t *job, int status, const char *message) {
    char header[1024];
    size_t n = proto_error_header(header, sizeof header, status, message);
    int rc = job_send(
        job, &(proto_out_t){.cmd = PROTO_ERROR, .id = job->id, .header = header, .header_len = n});
    job->ended = true;
    return rc;
}

bool proto_job_cancelled(const proto_job_t *job) {
    return atomic_load(&((proto_job_t *)job)->cancelled);
}

void proto_job_on_cancel(proto_job_t *job, void (*fn)(void *arg), void *arg) {
    proto_worker_t *w = job->worker;
    pthread_mutex_lock(&w->lock);
    job->on_cancel = fn;
    job->on_cancel_arg = arg;
    bool now = atomic_load(&job->cancelled);
    pthread_mutex_unlock(&w->lock);
    if (now && fn)
        fn(arg);
}

int proto_worker_serve(const proto_worker_config_t *config) {
    char err[512];
    proto_worker_t *w = proto_worker_new(config, err, sizeof err);
    if (!w) {
        log_error("%s", err);
        return 1;
    }
    int capacity = config->capacity > 0 ? config->capacity : 1;
    log_info("serving %s via %s%s with %d thread%s", config->service, config->endpoint,
             config->curve_dir ? " (CURVE)" : "", capacity, capacity == 1 ? "" : "s");
    proto_worker_run(w);
    proto_worker_destroy(&w);
    return 0;
}
