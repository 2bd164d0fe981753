/*
 * ZeroMQ plumbing shared by broker, worker and client: the process-wide
 * context, sockets with lca's options, and the heartbeat interval.
 *
 * Every socket comes from one context (czmq's, zsys_init), the one the
 * CURVE authenticator (curve.h) is bound in.  Sockets are made with linger 0 (closing never
 * blocks on unsent messages), bounded queues and bounded frames, so that no
 * peer can make a process hold unbounded memory:
 *   - a high-water mark of PROTO_SOCKET_HWM messages per peer on what a
 *     socket receives (at the mark it stops reading from that peer: TCP
 *     pushes back) and on what a ROUTER holds for its peers.  A ROUTER at its
 *     mark would drop messages silently; every ROUTER is made with
 *     ZMQ_ROUTER_MANDATORY, so a send fails with EAGAIN instead, and the
 *     broker treats a client that far behind as gone (its request is
 *     cancelled: nothing is lost silently).  Other sockets send without a
 *     mark: what a process sends is bounded by what it does, and a send
 *     that failed for a full queue would lose a message;
 *   - ZMQ_MAXMSGSIZE of PROTO_PAYLOAD_MAX: a peer over ipc or tcp sending a
 *     larger frame is disconnected before the frame is held in memory
 *     (inproc peers are this process's own threads, and their frames are
 *     handed over, never read from a connection).
 * What the broker's tables hold is bounded in broker.h.
 * Sockets are used by one thread each.
 *
 * CURVE keys and the authenticator are in curve.h.
 */
#ifndef LCA_SOCKET_H
#define LCA_SOCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Messages held per peer: what a ROUTER queues for it before sends fail,
 * and what any socket takes in from it before reading pauses.  A stream of
 * tokens never comes near it; a peer that far behind is stuck. */
#define PROTO_SOCKET_HWM 100000

/* The process-wide ZeroMQ context (created on first use; czmq's signal
 * handling is switched off: processes handle their own signals). */
void *proto_context(void);

/* A new socket of `type` with lca's options, or NULL (errno set). */
void *proto_socket_new(int type);

/* Closes a socket and nulls the pointer; accepts NULL. */
void proto_socket_close(void **socket_p);

/* True for endpoints that only this process (inproc) or this user (ipc, in
 * a directory proto_endpoint_prepare accepts) can reach.  A tcp:// endpoint
 * is never private, not even on loopback: every local user reaches that. */
bool proto_endpoint_is_private(const char *endpoint);

/* The broker's address when LCA_BROKER and --broker name none: a Unix
 * socket in a directory only this user may enter, so that only this user's
 * processes can join the broker or call it
 * ($XDG_RUNTIME_DIR/lca/broker, else /tmp/lca-<uid>/broker). */
const char *proto_broker_default(void);

/* Checks an ipc:// endpoint before binding (the broker: its directory is
 * created, mode 0700) or connecting to it: the directory must belong to
 * this user and be closed to everyone else, or another user could listen
 * there in the broker's place or join it.  Binding also fails when a broker
 * still listens there (-EADDRINUSE) or something that is not a socket is in
 * the way (-EEXIST); a socket left behind by a broker that died is
 * replaced.  Other endpoints pass.  Returns 0, or -errno with a message in
 * err. */
int proto_endpoint_prepare(const char *endpoint, bool binding, char *err, size_t err_len);

/* After binding an ipc:// endpoint: its socket becomes this user's alone
 * (0600), besides the directory that already is.  Other endpoints pass.
 * Returns 0 or -errno. */
int proto_endpoint_seal(const char *endpoint);

/* The heartbeat interval every process agrees on: LCA_HEARTBEAT_MS, default 1000. */
int proto_heartbeat_ms(void);

#endif
