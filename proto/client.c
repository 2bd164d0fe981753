/*
 * The client side of the wire (see client.h).  The table of requests in
 * flight maps id -> deadline; a request leaves it on FINAL, ERROR, CANCEL or
 * local expiry, which is how "exactly one end per request" is kept.
 *
 * The earliest deadline is needed on every receive, so deadlines also sit in
 * a binary min-heap.  A request that ends leaves its heap entry behind; an
 * entry whose id is no longer in the table is dropped when it reaches the
 * top, and the heap is rebuilt from the table when stale entries outnumber
 * live ones, so it stays within about twice the requests in flight.
 */
#include "proto/client.h"

#include "proto/base/log.h"
#include "proto/base/map.h"
#include "proto/curve.h"
#include "proto/socket.h"
#include "proto/base/clock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEADLINE_GRACE_MS 100

typedef struct {
    int64_t deadline;
    int timeout_ms;
    char service[PROTO_SERVICE_MAX + 1];
} pending_t;

typedef struct {
    int64_t deadline;
    uint64_t id;
} due_t;

struct proto_client {
    void *socket;
    uint64_t next_id;
    map_t *pending; /* id -> pending_t */
    due_t *dues;    /* min-heap by deadline (see the top of the file) */
    size_t ndues, dues_cap;
};

proto_client_t *proto_client_new(const char *endpoint, const char *curve_dir, char *err,
                                 size_t err_len) {
    proto_client_t *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    c->pending = map_new();
    c->socket = proto_socket_new(ZMQ_DEALER);
    if (!c->pending || !c->socket) {
        snprintf(err, err_len, "cannot create a socket: %s", zmq_strerror(errno));
        goto fail;
    }
    if (curve_dir && proto_curve_client(c->socket, curve_dir, err, err_len) != 0)
        goto fail;
    if (proto_endpoint_prepare(endpoint, false, err, err_len) != 0)
        goto fail;
    if (zmq_connect(c->socket, endpoint) != 0) {
        snprintf(err, err_len, "cannot connect to %s: %s", endpoint, zmq_strerror(errno));
        goto fail;
    }
    return c;
fail:
    proto_client_destroy(&c);
    return NULL;
}

static void free_pending(const void *key, size_t key_len, void *value, void *arg) {
    (void)key, (void)key_len, (void)arg;
    free(value);
}

void proto_client_destroy(proto_client_t **self_p) {
    proto_client_t *c = *self_p;
    if (!c)
        return;
    if (c->pending) {
        map_each(c->pending, free_pending, NULL);
        map_destroy(&c->pending);
    }
    proto_socket_close(&c->socket);
    free(c->dues);
    free(c);
    *self_p = NULL;
}

void *proto_client_socket(proto_client_t *self) {
    return self->socket;
}

size_t proto_client_pending(const proto_client_t *self) {
    return map_size(self->pending);
}

/* ---- the deadline heap ---- */

static bool due_before(const due_t *a, const due_t *b) {
    return a->deadline < b->deadline || (a->deadline == b->deadline && a->id < b->id);
}

static void dues_sift_down(due_t *h, size_t n, size_t i) {
    for (;;) {
        size_t least = i, l = 2 * i + 1, r = l + 1;
        if (l < n && due_before(&h[l], &h[least]))
            least = l;
        if (r < n && due_before(&h[r], &h[least]))
            least = r;
        if (least == i)
            return;
        due_t t = h[i];
        h[i] = h[least];
        h[least] = t;
        i = least;
    }
}

/* Keeps only the entries of requests still in flight, as a heap again. */
static void dues_compact(proto_client_t *c) {
    size_t kept = 0;
    for (size_t i = 0; i < c->ndues; i++)
        if (map_get_u64(c->pending, c->dues[i].id))
            c->dues[kept++] = c->dues[i];
    c->ndues = kept;
    for (size_t i = kept / 2; i-- > 0;)
        dues_sift_down(c->dues, kept, i);
}

/* Room for one more entry.  0 or -ENOMEM. */
static int dues_reserve(proto_client_t *c) {
    if (c->ndues > 2 * map_size(c->pending) + 32)
        dues_compact(c);
    if (c->ndues < c->dues_cap)
        return 0;
    size_t cap = c->dues_cap ? c->dues_cap * 2 : 64;
    due_t *grown = realloc(c->dues, cap * sizeof *grown);
    if (!grown)
        return -ENOMEM;
    c->dues = grown;
    c->dues_cap = cap;
    return 0;
}

static void dues_push(proto_client_t *c, due_t due) {
    size_t i = c->ndues++;
    while (i > 0 && due_before(&due, &c->dues[(i - 1) / 2])) {
        c->dues[i] = c->dues[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    c->dues[i] = due;
}

static void dues_pop(proto_client_t *c) {
    c->dues[0] = c->dues[--c->ndues];
    dues_sift_down(c->dues, c->ndues, 0);
}

/* The request in flight with the earliest deadline (NULL: none). */
static const due_t *earliest(proto_client_t *c) {
    while (c->ndues > 0 && !map_get_u64(c->pending, c->dues[0].id))
        dues_pop(c);
    return c->ndues > 0 ? &c->dues[0] : NULL;
}

/* ---- requests ---- */

int proto_client_send(proto_client_t *c, const char *service, const char *header,
                      const void *payload, size_t payload_len, int timeout_ms, uint64_t *id) {
    if (!proto_service_valid(service) || timeout_ms <= 0)
        return -EINVAL;
    /* Put the deadline first in the header, for the broker. */
    size_t hlen = header ? strlen(header) : 0;
    if (hlen > PROTO_CLIENT_HEADER_MAX || (payload && payload_len > PROTO_PAYLOAD_MAX))
        return -EMSGSIZE;
    const char *rest = header ? header : "";
    while (hlen && (*rest == ' ' || *rest == '\n' || *rest == '\t' || *rest == '\r'))
        rest++, hlen--;
    if (hlen && *rest != '{')
        return -EINVAL;
    char small[512];
    size_t need = hlen + 40;
    char *full = need <= sizeof small ? small : malloc(need);
    if (!full)
        return -ENOMEM;
    const char *body = hlen ? rest + 1 : "}";
    while (*body == ' ' || *body == '\n' || *body == '\t' || *body == '\r')
        body++;
    int n =
        snprintf(full, need, "{\"timeout_ms\":%d%s%s", timeout_ms, *body == '}' ? "" : ",", body);
    pending_t *p = calloc(1, sizeof *p);
    int rc = -ENOMEM;
    if (p && dues_reserve(c) == 0) {
        p->timeout_ms = timeout_ms;
        /* The broker enforces timeout_ms on the queue; the local deadline
         * comes a little later so that its precise answer wins the race. */
        p->deadline = clock_ms() + timeout_ms + DEADLINE_GRACE_MS;
        snprintf(p->service, sizeof p->service, "%s", service);
        uint64_t new_id = ++c->next_id;
        rc = proto_send(c->socket, NULL, 0,
                        &(proto_out_t){.cmd = PROTO_REQUEST,
                                       .id = new_id,
                                       .service = service,
                                       .header = full,
                                       .header_len = (size_t)n,
                                       .payload = payload,
                                       .payload_len = payload_len,
                                       .has_payload = payload != NULL});
        if (rc == 0 && (rc = map_put_u64(c->pending, new_id, p)) == 0) {
            dues_push(c, (due_t){p->deadline, new_id});
            *id = new_id;
            p = NULL;
        }
        free(p);
    }
    if (full != small)
        free(full);
    return rc;
}

int proto_client_cancel(proto_client_t *c, uint64_t id) {
    pending_t *p = map_remove_u64(c->pending, id);
    if (!p)
        return -ENOENT;
    free(p);
    return proto_send(c->socket, NULL, 0, &(proto_out_t){.cmd = PROTO_CANCEL, .id = id});
}

int proto_client_next_deadline(proto_client_t *c) {
    const due_t *e = earliest(c);
    if (!e)
        return -1;
    int64_t left = e->deadline - clock_ms();
    return left < 0 ? 0 : left > INT32_MAX ? INT32_MAX : (int)left;
}

int proto_client_recv(proto_client_t *c, proto_msg_t *msg, int timeout_ms) {
    int64_t until = timeout_ms < 0 ? INT64_MAX : clock_ms() + timeout_ms;
    for (;;) {
        int64_t now = clock_ms();
        const due_t *e = earliest(c);
        int64_t due = e ? e->deadline : INT64_MAX;
        if (e && due <= now) {
            uint64_t id = e->id;
            dues_pop(c);
            pending_t *p = map_remove_u64(c->pending, id);
            char message[160];
            snprintf(message, sizeof message, "%s did not answer within %d ms", p->service,
                     p->timeout_ms);
            free(p);
            proto_send(c->socket, NULL, 0, &(proto_out_t){.cmd = PROTO_CANCEL, .id = id});
            proto_msg_make_error(msg, id, 504, message);
            return 0;
        }
        char why[160];
        int rc = proto_recv(c->socket, false, msg, ZMQ_DONTWAIT, why, sizeof why);
        if (rc == 0) {
            pending_t *p = map_get_u64(c->pending, msg->id);
            if (!p ||
                (msg->cmd != PROTO_PARTIAL && msg->cmd != PROTO_FINAL && msg->cmd != PROTO_ERROR)) {
                proto_msg_close(msg); /* cancelled, expired, or not for a client */
                continue;
            }
            if (msg->cmd != PROTO_PARTIAL)
                free(map_remove_u64(c->pending, msg->id));
            return 0;
        }
        if (rc == -EPROTO) {
            log_warn("rejected a malformed message from the broker: %s", why);
            continue;
        }
        if (rc != -EAGAIN && rc != -EINTR)
            return rc;
        int64_t wake = due < until ? due : until;
        if (now >= until)
            return -ETIMEDOUT;
        zmq_pollitem_t item = {.socket = c->socket, .events = ZMQ_POLLIN};
        long wait = wake == INT64_MAX ? -1 : (long)(wake - now);
        if (zmq_poll(&item, 1, wait) < 0 && errno != EINTR)
            return -errno;
    }
}

int proto_client_call(proto_client_t *c, const char *service, const char *header,
                      const void *payload, size_t payload_len, int timeout_ms,
                      void (*on_partial)(const proto_msg_t *msg, void *arg), void *arg,
                      proto_msg_t *final, int *status, char *err, size_t err_len) {
    uint64_t id;
    int rc = proto_client_send(c, service, header, payload, payload_len, timeout_ms, &id);
    if (rc != 0) {
        *status = 500;
        snprintf(err, err_len, "cannot send the request: %s", zmq_strerror(-rc));
        return rc;
    }
    for (;;) {
        proto_msg_t msg;
        rc = proto_client_recv(c, &msg, -1);
        if (rc != 0) {
            *status = 500;
            snprintf(err, err_len, "receive failed: %s", zmq_strerror(-rc));
            return rc;
        }
        if (msg.id != id) {
            proto_msg_close(&msg);
            continue;
        }
        if (msg.cmd == PROTO_PARTIAL) {
            if (on_partial)
                on_partial(&msg, arg);
            proto_msg_close(&msg);
            continue;
        }
        if (msg.cmd == PROTO_ERROR) {
            proto_error_parse(&msg, status, err, err_len);
            proto_msg_close(&msg);
            return -EIO;
        }
        *status = 200;
        if (final)
            proto_msg_move(final, &msg);
        else
            proto_msg_close(&msg);
        return 0;
    }
}
