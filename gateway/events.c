/*
 * The status page's live events (see events.h).
 *
 * One hub per process, made when the first stream opens: the list of
 * streams (oldest first), the one-second tick that polls the broker and
 * the collections while a stream is open, and the last status and list
 * sent, so that only changes go out.  A stream (client_t) lives in its
 * request's pool: it is unlinked from the hub when the client leaves
 * (stop), when the hub ends it, or when the pool goes, whichever comes
 * first, so the hub never holds a freed one.
 */
#include "gateway/events.h"

#include "gateway/gateway.h"
#include "gateway/history.h"
#include "gateway/metrics.h"
#include "gateway/stream.h"
#include "gateway/timer.h"
#include "gateway/ui.h"
#include "proto/base/clock.h"
#include "proto/base/log.h"

#include <cJSON.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    h2o_linklist_t link; /* in hub.clients while live */
    http_ctx_t *ctx;
    http_stream_t *stream;
    int64_t last_write_ms;
    bool behind; /* events were dropped: one resync is owed */
} client_t;

static struct {
    gateway_t *gateway;     /* NULL until the first stream */
    h2o_linklist_t clients; /* client_t, oldest first */
    int nclients;
    h2o_timeout_entry_t tick;
    uint64_t status_call; /* broker.status in flight, 0: none */
    char *status_seen;    /* the last status sent, without what changes by itself */
    char *status_event;   /* its event data, for streams that open later */
    char *collections_event;
} hub;

int events_clients(void) {
    return hub.nclients;
}

/* ---- framing ---- */

void events_frame(buf_t *out, const char *name, const char *data, size_t len) {
    buf_append_str(out, "event: ");
    buf_append_str(out, name);
    buf_append_str(out, "\n");
    size_t i = 0;
    do {
        size_t start = i;
        while (i < len && data[i] != '\n' && data[i] != '\r')
            i++;
        buf_append_str(out, "data: ");
        buf_append(out, data + start, i - start);
        buf_append_str(out, "\n");
        if (i < len && data[i] == '\r' && i + 1 < len && data[i + 1] == '\n')
            i++;
        if (i < len)
            i++; /* past the line's end */
        else
            break;
    } while (1);
    buf_append_str(out, "\n");
}

/* ---- streams ---- */

static void client_unlink(client_t *c) {
    if (h2o_linklist_is_linked(&c->link)) {
        h2o_linklist_unlink(&c->link);
        hub.nclients--;
    }
}

static void client_dispose(void *p) {
    client_unlink(p);
}

/* The client went away (h2o's stop): forget it; h2o frees the request. */
static void client_gone(void *arg) {
    client_unlink(arg);
}

static void client_write(client_t *c, const char *data, size_t len) {
    http_stream_write(c->stream, data, len);
    c->last_write_ms = clock_ms();
}

/* Sends an event unless the client is behind; one that would overfill its
 * queue puts it behind instead. */
static void client_send(client_t *c, const char *frame, size_t len) {
    if (c->behind)
        return;
    if (http_stream_pending(c->stream) + len > EVENTS_QUEUE_MAX) {
        c->behind = true;
        return;
    }
    client_write(c, frame, len);
}

/* Ends a stream from our side (after a last event, when given). */
static void client_end(client_t *c, const char *frame, size_t len) {
    client_unlink(c);
    if (frame)
        http_stream_write(c->stream, frame, len);
    http_stream_end(c->stream);
}

static void broadcast(const char *name, const char *data, size_t len) {
    if (!hub.nclients)
        return;
    buf_t frame = BUF_INIT;
    events_frame(&frame, name, data, len);
    for (h2o_linklist_t *l = hub.clients.next, *next; l != &hub.clients; l = next) {
        next = l->next;
        client_send(H2O_STRUCT_FROM_MEMBER(client_t, link, l), frame.data, frame.len);
    }
    buf_free(&frame);
}

/* ---- news ---- */

static void on_history(const history_entry_t *e, void *arg) {
    (void)arg;
    if (!hub.nclients)
        return;
    buf_t data = BUF_INIT;
    ui_append_request(&data, e);
    broadcast("request", data.data, data.len);
    buf_free(&data);
}

/* Replaces *slot with a copy of text; true when it differed. */
static bool remember(char **slot, const char *text) {
    if (*slot && !strcmp(*slot, text))
        return false;
    char *copy = strdup(text);
    if (!copy)
        return false;
    free(*slot);
    *slot = copy;
    return true;
}

static void on_status_final(void *arg, const proto_msg_t *msg) {
    (void)arg;
    hub.status_call = 0;
    cJSON *status = msg->header ? cJSON_ParseWithLength(msg->header, msg->header_len) : NULL;
    if (!status)
        return;
    char *full = cJSON_PrintUnformatted(status);
    /* What changes by itself (how long since a worker was heard) is no news. */
    const cJSON *w;
    cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(status, "workers")) {
        cJSON_DeleteItemFromObjectCaseSensitive((cJSON *)w, "silent_ms");
    }
    char *seen = cJSON_PrintUnformatted(status);
    cJSON_Delete(status);
    if (full && seen && remember(&hub.status_seen, seen)) {
        buf_t data = BUF_INIT;
        buf_append_str(&data, "{\"broker\":");
        buf_append_str(&data, full);
        buf_append_str(&data, "}");
        if (data.data && remember(&hub.status_event, data.data))
            broadcast("status", data.data, data.len);
        buf_free(&data);
    }
    free(full);
    free(seen);
}

static void on_status_error(void *arg, int status, const char *message) {
    (void)arg;
    hub.status_call = 0;
    log_debug("status page: broker.status failed: %d %s", status, message);
}

static void poll_news(void) {
    static const bridge_callbacks_t callbacks = {NULL, on_status_final, on_status_error};
    gateway_t *gw = hub.gateway;
    if (!hub.status_call)
        hub.status_call = bridge_call(gw->bridge, "broker.status", NULL, NULL, 0,
                                      gw->status_timeout_ms, &callbacks, NULL);
    /* The cache refreshes itself when its list is older than it likes. */
    collections_t *snapshot = collections_current(gw->collections);
    if (snapshot) {
        buf_t data = BUF_INIT;
        ui_append_collections(&data, snapshot);
        if (data.data && remember(&hub.collections_event, data.data))
            broadcast("collections", data.data, data.len);
        buf_free(&data);
        collections_release(&snapshot);
    }
}

/* ---- the tick ---- */

static void on_tick(h2o_timeout_entry_t *entry) {
    (void)entry;
    if (!hub.nclients)
        return; /* the next stream starts it again */
    int64_t now = clock_ms();
    for (h2o_linklist_t *l = hub.clients.next, *next; l != &hub.clients; l = next) {
        next = l->next;
        client_t *c = H2O_STRUCT_FROM_MEMBER(client_t, link, l);
        if (http_peer_closed(c->ctx->req)) {
            client_end(c, NULL, 0); /* h2o closes the connection and frees it */
            continue;
        }
        if (c->behind && http_stream_pending(c->stream) < EVENTS_QUEUE_MAX / 2) {
            c->behind = false;
            buf_t frame = BUF_INIT;
            events_frame(&frame, "resync", "{}", 2);
            client_write(c, frame.data, frame.len);
            buf_free(&frame);
        } else if (!c->behind && now - c->last_write_ms >= EVENTS_HEARTBEAT_MS) {
            client_write(c, ": heartbeat\n\n", 13);
        }
    }
    poll_news();
    if (hub.nclients)
        timer_start(hub.gateway->context->loop, &hub.tick, EVENTS_POLL_MS);
}

/* ---- GET /ui/events ---- */

static void hub_init(gateway_t *gw) {
    if (hub.gateway)
        return;
    hub.gateway = gw;
    h2o_linklist_init_anchor(&hub.clients);
    hub.tick.cb = on_tick;
    history_listen(on_history, NULL);
}

int events_handle(http_ctx_t *ctx) {
    if (h2o_memis(ctx->req->method.base, ctx->req->method.len, H2O_STRLIT("HEAD"))) {
        ui_security_headers(ctx->req, false); /* a stream without end has no head to show */
        http_reply(ctx, 200, "text/event-stream; charset=utf-8", "", 0);
        return 0;
    }
    hub_init(ctx->gateway);
    if (hub.nclients >= EVENTS_CLIENTS_MAX) {
        client_t *oldest = H2O_STRUCT_FROM_MEMBER(client_t, link, hub.clients.next);
        static const char reason[] = "{\"reason\":\"too many live pages: this one is the oldest\"}";
        buf_t frame = BUF_INIT;
        events_frame(&frame, "bye", reason, sizeof reason - 1);
        client_end(oldest, frame.data, frame.len);
        buf_free(&frame);
    }
    h2o_req_t *req = ctx->req;
    client_t *c = h2o_mem_alloc_shared(&req->pool, sizeof *c, client_dispose);
    memset(c, 0, sizeof *c);
    c->ctx = ctx;
    ui_security_headers(req, true);
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-accel-buffering"), 0, NULL,
                          H2O_STRLIT("no"));
    metrics_response(http_route_name(ctx), 200);
    c->stream = http_stream_start(req, 200, "text/event-stream; charset=utf-8", client_gone, c);
    h2o_linklist_insert(&hub.clients, &c->link);
    hub.nclients++;

    /* Real bytes at once (headers leave with them), then what is known. */
    buf_t out = BUF_INIT;
    buf_append_str(&out, ": ok\n\n");
    char hello[160];
    int n =
        snprintf(hello, sizeof hello, "{\"version\":\"%s\",\"history_max\":%d,\"heartbeat_ms\":%d}",
                 ctx->gateway->version, HISTORY_MAX, EVENTS_HEARTBEAT_MS);
    events_frame(&out, "hello", hello, n > 0 && (size_t)n < sizeof hello ? (size_t)n : 0);
    if (hub.status_event)
        events_frame(&out, "status", hub.status_event, strlen(hub.status_event));
    if (hub.collections_event)
        events_frame(&out, "collections", hub.collections_event, strlen(hub.collections_event));
    client_write(c, out.data, out.len);
    buf_free(&out);
    if (!h2o_timeout_is_linked(&hub.tick)) {
        poll_news();
        timer_start(ctx->gateway->context->loop, &hub.tick, EVENTS_POLL_MS);
    }
    return 0;
}
