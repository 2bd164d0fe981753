/*
 * events: the status page's live news, as Server-Sent Events on
 * GET /ui/events.
 *
 *   event: hello        {"version", "history_max", "heartbeat_ms"} first
 *   event: request      a request started, got its context, its first token,
 *                       or ended (the entry as ui_append_request writes it;
 *                       of two copies of one id, keep the higher "version")
 *   event: status       {"broker": broker.status} when the services, workers
 *                       or their load changed (polled every EVENTS_POLL_MS)
 *   event: collections  ui_append_collections, when the list changed
 *   event: resync       {} the client fell behind and missed events: reload
 *                       the state (GET /ui/api/state)
 *   event: bye          {"reason"} the gateway ends this stream (too many
 *                       live pages: the oldest goes); do not reconnect
 *   : comments          a heartbeat every EVENTS_HEARTBEAT_MS
 *
 * The streaming rules of h2o (one send in flight, bytes kept until
 * proceed) are stream.h's.  What is bounded here: at most EVENTS_CLIENTS_MAX
 * streams (a new one ends the oldest), and per stream at most
 * EVENTS_QUEUE_MAX bytes waiting for a slow reader — past that its events
 * are dropped and it gets one "resync" once it has caught up.  A client
 * that leaves is noticed at once on HTTP/2 (h2o's stop) and within a
 * second on HTTP/1.1 (the socket is peeked every tick), so it never holds
 * a slot.  The broker and the collections are asked only while a stream
 * is open.
 *
 * Loop thread only.
 */
#ifndef LCA_GATEWAY_EVENTS_H
#define LCA_GATEWAY_EVENTS_H

#include "gateway/http.h"
#include "proto/base/buf.h"

#include <stddef.h>

#define EVENTS_CLIENTS_MAX 8
#define EVENTS_QUEUE_MAX (256 * 1024)
#define EVENTS_POLL_MS 1000
#define EVENTS_HEARTBEAT_MS 15000

/* GET /ui/events */
int events_handle(http_ctx_t *ctx);

/* Appends one event in SSE's framing: "event: NAME\n", a "data: " line per
 * line of data (CR, LF and CRLF all end a line), then a blank line.  name
 * must be a plain word (it is written as given, without CR or LF). */
void events_frame(buf_t *out, const char *name, const char *data, size_t len);

/* Live streams now. */
int events_clients(void);

#endif
