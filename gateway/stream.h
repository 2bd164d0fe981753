/*
 * A streaming HTTP response on h2o: write bytes as they come, and they go
 * out at once.
 *
 * h2o allows one h2o_send() in flight per request and keeps pointers to the
 * bytes until its proceed callback; this module hides both rules.  Bytes
 * written while a send is in flight collect in a second buffer (a
 * h2o_doublebuffer_t) and leave together on the next proceed, so nothing is
 * held back longer than one network write and nothing is dropped.
 *
 * When the client goes away, h2o calls stop: the stream is then closed,
 * further writes are ignored, and the on_stop callback given at start runs
 * once (the place to cancel upstream work).  After http_stream_end() neither
 * on_stop nor anything else runs.  The stream lives in the request's pool.
 */
#ifndef LCA_GATEWAY_STREAM_H
#define LCA_GATEWAY_STREAM_H

#define H2O_USE_LIBUV 0
#include <h2o.h>

#include <stdbool.h>
#include <stddef.h>

typedef struct http_stream http_stream_t;

/* Sends the status line and headers already set on req->res (plus status
 * and content type) and returns the stream.  Headers reach the client with
 * the first write. */
http_stream_t *http_stream_start(h2o_req_t *req, int status, const char *content_type,
                                 void (*on_stop)(void *ctx), void *ctx);

/* Queues bytes and sends them as soon as h2o lets us.  Ignored once closed. */
void http_stream_write(http_stream_t *s, const void *data, size_t len);

/* Sends what is queued and ends the response.  Ignored once closed. */
void http_stream_end(http_stream_t *s);

/* True once the client went away or the stream ended. */
bool http_stream_closed(const http_stream_t *s);

/* True once any byte was written. */
bool http_stream_started(const http_stream_t *s);

/* Bytes written and not yet handed to the network: what a slow reader
 * leaves queued (callers that write without end bound it with this). */
size_t http_stream_pending(const http_stream_t *s);

/* True when req's HTTP/1.x client has closed its connection, seen without
 * reading (h2o does not read the socket while a request is answered, so a
 * closed connection shows only when a write fails).  Always false on
 * HTTP/2, where h2o calls stop at once. */
bool http_peer_closed(h2o_req_t *req);

#endif
