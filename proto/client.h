/*
 * The client side of the wire: send REQUESTs to a service through the
 * broker and receive their streams.
 *
 * One client may have many requests in flight; each has an id (returned by
 * proto_client_send) that its replies carry.  Each request has a deadline:
 * the broker is told it (as "timeout_ms" in the header) and fails the request
 * with ERROR 503 "no <service> worker available" if it is still queued then;
 * if the request is running when the deadline passes (plus 100 ms of grace,
 * so the broker's answer arrives first), the client sends CANCEL and hands
 * its caller a locally made ERROR 504.  So every request ends with
 * exactly one FINAL or ERROR, in time.
 *
 * A client is used by one thread.  proto_client_socket() exposes the socket
 * for callers that poll it together with others (call proto_client_recv()
 * with timeout 0 when it is readable, and also at proto_client_next_deadline()).
 */
#ifndef LCA_CLIENT_H
#define LCA_CLIENT_H

#include "proto/wire.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct proto_client proto_client_t;

/* The largest header a request may carry: the wire's limit less the room
 * the client takes to put "timeout_ms" first.  A caller that builds a
 * header from what it was sent (a query) checks it against this. */
#define PROTO_CLIENT_HEADER_MAX (PROTO_HEADER_MAX - 32)

/* Connects to the broker at endpoint (CURVE with the keys in curve_dir when
 * not NULL).  NULL with a message in err. */
proto_client_t *proto_client_new(const char *endpoint, const char *curve_dir, char *err,
                                 size_t err_len);
void proto_client_destroy(proto_client_t **self_p);

void *proto_client_socket(proto_client_t *self);

/* Sends a REQUEST for service with header (JSON object text or NULL) and
 * optional payload; the request must end within timeout_ms.  Stores its id in
 * *id.  Returns 0 or a negative errno: -EMSGSIZE for a header over
 * PROTO_CLIENT_HEADER_MAX or a payload over PROTO_PAYLOAD_MAX, which the
 * wire does not carry. */
int proto_client_send(proto_client_t *self, const char *service, const char *header,
                      const void *payload, size_t payload_len, int timeout_ms, uint64_t *id);

/* Receives the next PARTIAL, FINAL or ERROR of any request (ERROR 504 made
 * locally for one past its deadline), waiting at most timeout_ms (-1: no
 * limit).  Returns 0 (then proto_msg_close(msg)), -ETIMEDOUT, or a negative
 * errno.  Replies to requests the caller cancelled are swallowed. */
int proto_client_recv(proto_client_t *self, proto_msg_t *msg, int timeout_ms);

/* Milliseconds until the earliest request deadline (-1: none in flight). */
int proto_client_next_deadline(proto_client_t *self);

/* Abandons a request: CANCEL goes to the worker and no reply for it will be
 * returned.  Returns 0, or -ENOENT for an unknown or finished id. */
int proto_client_cancel(proto_client_t *self, uint64_t id);

/* Number of requests in flight. */
size_t proto_client_pending(const proto_client_t *self);

/* Does one request from start to end: calls on_partial (may be NULL) for each
 * PARTIAL; on FINAL returns 0 and moves it into *final (caller closes; pass
 * NULL to discard).  On ERROR returns -EIO with the status and message in
 * *status/err.  Other replies that arrive meanwhile are discarded, so use it
 * on a client with no other request in flight. */
int proto_client_call(proto_client_t *self, const char *service, const char *header,
                      const void *payload, size_t payload_len, int timeout_ms,
                      void (*on_partial)(const proto_msg_t *msg, void *arg), void *arg,
                      proto_msg_t *final, int *status, char *err, size_t err_len);

#endif
