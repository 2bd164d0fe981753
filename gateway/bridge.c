/*
 * The bridge (see bridge.h).
 *
 * Loop -> I/O thread: a command struct, its pointer pushed over an inproc
 * PUSH/PULL pair (the PUSH socket belongs to the loop thread).
 * I/O thread -> loop: an event struct posted on h2o's multithread queue.
 *
 * Neither side shares a pointer to a call: the loop keeps call id -> call
 * (callbacks, ctx), the I/O thread keeps call id <-> client request id.  An
 * event for a call the loop has already forgotten is simply dropped, which is
 * what makes bridge_cancel() final without any locking.
 */
#include "gateway/bridge.h"

#include "proto/client.h"
#include "proto/base/log.h"
#include "proto/base/map.h"
#include "proto/base/tsan.h"
#include "proto/socket.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef enum { COMMAND_SEND, COMMAND_CANCEL, COMMAND_STOP } command_kind_t;

typedef struct {
    command_kind_t kind;
    uint64_t call_id;
    int timeout_ms;
    char service[PROTO_SERVICE_MAX + 1];
    char *header;
    void *payload;
    size_t payload_len;
    bool has_payload;
} command_t;

typedef struct {
    h2o_multithread_message_t super;
    uint64_t call_id;
    proto_msg_t msg;
} event_t;

typedef struct {
    bridge_callbacks_t callbacks;
    void *ctx;
} call_t;

struct bridge {
    /* loop thread */
    h2o_multithread_queue_t *queue;
    h2o_multithread_receiver_t receiver;
    void *push;
    map_t *calls; /* call id -> call_t */
    uint64_t next_call_id;

    /* I/O thread */
    char endpoint[256];
    char pipe_endpoint[64];
    void *pull;
    proto_client_t *client;
    map_t *call_by_request; /* client request id -> call id */
    map_t *request_by_call; /* call id -> client request id */
    pthread_t thread;
    bool started;
};

static void command_free(command_t *c) {
    free(c->header);
    free(c->payload);
    free(c);
}

static void post(bridge_t *b, uint64_t call_id, proto_msg_t *msg) {
    event_t *e = malloc(sizeof *e);
    if (!e) {
        proto_msg_close(msg);
        return;
    }
    memset(&e->super, 0, sizeof e->super);
    e->call_id = call_id;
    proto_msg_move(&e->msg, msg);
    h2o_multithread_send_message(&b->receiver, &e->super);
}

/* ---- I/O thread ---- */

static void forget_request(bridge_t *b, uint64_t request_id, uint64_t call_id) {
    map_remove_u64(b->call_by_request, request_id);
    map_remove_u64(b->request_by_call, call_id);
}

static void local_error(bridge_t *b, uint64_t call_id, int status, const char *message) {
    proto_msg_t msg;
    proto_msg_make_error(&msg, 0, status, message);
    post(b, call_id, &msg);
}

static bool run_command(bridge_t *b, command_t *c) {
    if (c->kind == COMMAND_STOP)
        return false;
    if (c->kind == COMMAND_CANCEL) {
        uint64_t request_id = (uint64_t)(uintptr_t)map_get_u64(b->request_by_call, c->call_id);
        if (request_id) {
            proto_client_cancel(b->client, request_id);
            forget_request(b, request_id, c->call_id);
        }
        return true;
    }
    uint64_t request_id = 0;
    int rc = proto_client_send(b->client, c->service, c->header, c->has_payload ? c->payload : NULL,
                               c->payload_len, c->timeout_ms, &request_id);
    if (rc != 0) {
        char message[128];
        snprintf(message, sizeof message, "cannot send to the broker: %s", zmq_strerror(-rc));
        local_error(b, c->call_id, 500, message);
        return true;
    }
    map_put_u64(b->call_by_request, request_id, (void *)(uintptr_t)c->call_id);
    map_put_u64(b->request_by_call, c->call_id, (void *)(uintptr_t)request_id);
    return true;
}

static void *io_thread(void *arg) {
    bridge_t *b = arg;
    for (;;) {
        zmq_pollitem_t items[2] = {
            {.socket = b->pull, .events = ZMQ_POLLIN},
            {.socket = proto_client_socket(b->client), .events = ZMQ_POLLIN}};
        int timeout = proto_client_next_deadline(b->client);
        if (zmq_poll(items, 2, timeout) < 0 && errno != EINTR)
            break;
        /* Commands first: a CANCEL must win over replies already queued. */
        for (;;) {
            command_t *c;
            if (zmq_recv(b->pull, &c, sizeof c, ZMQ_DONTWAIT) != sizeof c)
                break;
            tsan_acquire(c);
            bool go_on = run_command(b, c);
            command_free(c);
            if (!go_on)
                return NULL;
        }
        for (int n = 0; n < 1024; n++) {
            proto_msg_t msg;
            if (proto_client_recv(b->client, &msg, 0) != 0)
                break;
            uint64_t call_id = (uint64_t)(uintptr_t)map_get_u64(b->call_by_request, msg.id);
            if (!call_id) {
                proto_msg_close(&msg);
                continue;
            }
            if (msg.cmd != PROTO_PARTIAL)
                forget_request(b, msg.id, call_id);
            post(b, call_id, &msg);
        }
    }
    return NULL;
}

/* ---- loop thread ---- */

static void on_events(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages) {
    bridge_t *b = H2O_STRUCT_FROM_MEMBER(bridge_t, receiver, receiver);
    while (!h2o_linklist_is_empty(messages)) {
        event_t *e = H2O_STRUCT_FROM_MEMBER(event_t, super.link, messages->next);
        h2o_linklist_unlink(&e->super.link);
        call_t *call = map_get_u64(b->calls, e->call_id);
        if (call) {
            if (e->msg.cmd == PROTO_PARTIAL) {
                if (call->callbacks.on_partial)
                    call->callbacks.on_partial(call->ctx, &e->msg);
            } else {
                /* Forget the call before the callback: it may start another. */
                call_t done = *call;
                map_remove_u64(b->calls, e->call_id);
                free(call);
                if (e->msg.cmd == PROTO_FINAL) {
                    done.callbacks.on_final(done.ctx, &e->msg);
                } else {
                    int status;
                    char message[1024];
                    proto_error_parse(&e->msg, &status, message, sizeof message);
                    done.callbacks.on_error(done.ctx, status, message);
                }
            }
        }
        proto_msg_close(&e->msg);
        free(e);
    }
}

static int push_command(bridge_t *b, command_t *c) {
    tsan_release(c);
    if (zmq_send(b->push, &c, sizeof c, ZMQ_DONTWAIT) != sizeof c) {
        command_free(c);
        return -1;
    }
    return 0;
}

uint64_t bridge_call(bridge_t *b, const char *service, const char *header, const void *payload,
                     size_t payload_len, int timeout_ms, const bridge_callbacks_t *callbacks,
                     void *ctx) {
    command_t *c = calloc(1, sizeof *c);
    call_t *call = calloc(1, sizeof *call);
    if (!c || !call || !proto_service_valid(service))
        goto fail;
    c->kind = COMMAND_SEND;
    c->call_id = ++b->next_call_id;
    c->timeout_ms = timeout_ms;
    snprintf(c->service, sizeof c->service, "%s", service);
    if (header && !(c->header = strdup(header)))
        goto fail;
    if (payload) {
        c->has_payload = true;
        c->payload_len = payload_len;
        if (!(c->payload = malloc(payload_len ? payload_len : 1)))
            goto fail;
        memcpy(c->payload, payload, payload_len);
    }
    call->callbacks = *callbacks;
    call->ctx = ctx;
    uint64_t id = c->call_id;
    if (map_put_u64(b->calls, id, call) != 0)
        goto fail;
    if (push_command(b, c) != 0) {
        map_remove_u64(b->calls, id);
        free(call);
        return 0;
    }
    return id;
fail:
    if (c)
        command_free(c);
    free(call);
    return 0;
}

void bridge_cancel(bridge_t *b, uint64_t call_id) {
    call_t *call = map_remove_u64(b->calls, call_id);
    if (!call)
        return;
    free(call);
    command_t *c = calloc(1, sizeof *c);
    if (c) {
        c->kind = COMMAND_CANCEL;
        c->call_id = call_id;
        push_command(b, c);
    }
}

bridge_t *bridge_new(h2o_loop_t *loop, const char *endpoint, char *err, size_t err_len) {
    static int counter;
    bridge_t *b = calloc(1, sizeof *b);
    if (!b) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    snprintf(b->endpoint, sizeof b->endpoint, "%s", endpoint);
    snprintf(b->pipe_endpoint, sizeof b->pipe_endpoint, "inproc://lca-bridge-%d-%d", getpid(),
             __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED));
    b->calls = map_new();
    b->call_by_request = map_new();
    b->request_by_call = map_new();
    b->pull = proto_socket_new(ZMQ_PULL);
    b->push = proto_socket_new(ZMQ_PUSH);
    if (!b->calls || !b->call_by_request || !b->request_by_call || !b->pull || !b->push ||
        zmq_bind(b->pull, b->pipe_endpoint) != 0 || zmq_connect(b->push, b->pipe_endpoint) != 0) {
        snprintf(err, err_len, "cannot create the bridge's sockets");
        goto fail;
    }
    if (!(b->client = proto_client_new(endpoint, NULL, err, err_len)))
        goto fail;
    b->queue = h2o_multithread_create_queue(loop);
    h2o_multithread_register_receiver(b->queue, &b->receiver, on_events);
    if (pthread_create(&b->thread, NULL, io_thread, b) != 0) {
        snprintf(err, err_len, "cannot start the bridge thread");
        goto fail;
    }
    b->started = true;
    return b;
fail:
    bridge_destroy(&b);
    return NULL;
}

static void free_value(const void *key, size_t key_len, void *value, void *arg) {
    (void)key, (void)key_len, (void)arg;
    free(value);
}

void bridge_destroy(bridge_t **self_p) {
    bridge_t *b = *self_p;
    if (!b)
        return;
    if (b->started) {
        command_t *c = calloc(1, sizeof *c);
        if (c) {
            c->kind = COMMAND_STOP;
            if (push_command(b, c) == 0)
                pthread_join(b->thread, NULL);
        }
    }
    if (b->queue) {
        /* The I/O thread is gone: drop events the loop never took. */
        while (!h2o_linklist_is_empty(&b->receiver._messages)) {
            event_t *e = H2O_STRUCT_FROM_MEMBER(event_t, super.link, b->receiver._messages.next);
            h2o_linklist_unlink(&e->super.link);
            proto_msg_close(&e->msg);
            free(e);
        }
        h2o_multithread_unregister_receiver(b->queue, &b->receiver);
        h2o_multithread_destroy_queue(b->queue);
    }
    if (b->calls) {
        map_each(b->calls, free_value, NULL);
        map_destroy(&b->calls);
    }
    map_destroy(&b->call_by_request);
    map_destroy(&b->request_by_call);
    proto_client_destroy(&b->client);
    proto_socket_close(&b->pull);
    proto_socket_close(&b->push);
    free(b);
    *self_p = NULL;
}
