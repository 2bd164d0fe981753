/*
 * The bridge between the gateway's HTTP event loop and the broker.
 *
 * ZeroMQ sockets belong to one thread and h2o's loop must never block, so
 * the bridge runs an I/O thread that owns the broker connection (a
 * proto_client on the broker's inproc endpoint).  The loop thread starts a
 * call with bridge_call(); the reply stream comes back as callbacks on the
 * loop thread, through h2o's multithread queue, one callback per PARTIAL as
 * it arrives.  A call ends with exactly one on_final or on_error, unless the
 * loop cancels it first, after which no callback for it runs.
 *
 * Loop thread only: every function here but bridge_new/bridge_destroy, and
 * every callback, runs on the h2o loop thread.
 */
#ifndef LCA_GATEWAY_BRIDGE_H
#define LCA_GATEWAY_BRIDGE_H

#define H2O_USE_LIBUV 0
#include <h2o.h>

#include "proto/wire.h"

#include <stdint.h>

typedef struct bridge bridge_t;

typedef struct {
    /* A PARTIAL of the call's stream (msg is only valid during the call). */
    void (*on_partial)(void *ctx, const proto_msg_t *msg);
    /* The FINAL: the call is over. */
    void (*on_final)(void *ctx, const proto_msg_t *msg);
    /* ERROR from the worker, the broker or the deadline: the call is over. */
    void (*on_error)(void *ctx, int status, const char *message);
} bridge_callbacks_t;

/* Starts the I/O thread, connected to the broker at endpoint, delivering to
 * loop.  NULL with a message in err. */
bridge_t *bridge_new(h2o_loop_t *loop, const char *endpoint, char *err, size_t err_len);

/* Stops the I/O thread (calls in flight are cancelled without callbacks). */
void bridge_destroy(bridge_t **self_p);

/* Sends a request to service; header is JSON object text (or NULL), payload
 * is copied.  Returns a call id (> 0) for bridge_cancel, or 0 when the request
 * could not even be queued (then no callback runs): no memory, a bad service
 * name, or a header or payload larger than the wire carries
 * (PROTO_CLIENT_HEADER_MAX, PROTO_PAYLOAD_MAX). */
uint64_t bridge_call(bridge_t *self, const char *service, const char *header, const void *payload,
                     size_t payload_len, int timeout_ms, const bridge_callbacks_t *callbacks,
                     void *ctx);

/* Abandons a call: CANCEL reaches the worker; no callback for it runs after
 * this.  Unknown or finished ids are ignored. */
void bridge_cancel(bridge_t *self, uint64_t call_id);

#endif
