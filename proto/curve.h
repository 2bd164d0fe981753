/*
 * curve: CURVE keys for sockets that cross hosts, and the authenticator that
 * says which keys may connect.
 *
 * Key layout (what `lca keys` writes):
 *   server dir:  broker.cert, broker.cert_secret, allowed/<name>.cert (public)
 *   client dir:  broker.cert (public only), client.cert, client.cert_secret
 * An allowed certificate's metadata also says what its key may do once in
 * ("serves", "calls": see proto/broker.c).
 *
 * The authenticator is a ZAP handler (RFC 27/ZAP) of our own, on a thread,
 * bound in the process's ZeroMQ context: a CURVE client gets in when its
 * public key is in <dir>/allowed (re-read whenever the directory changes:
 * adding or removing a host needs no restart), and its messages then carry
 * the key, Z85-encoded, as their User-Id (proto_msg_t.user_id), so that the
 * broker can tell which key sent each one.  (czmq's zauth, in Debian's
 * build, gives no User-Id.)
 */
#ifndef LCA_PROTO_CURVE_H
#define LCA_PROTO_CURVE_H

#include <stddef.h>

typedef struct curve_auth curve_auth_t;

/* Makes socket a CURVE server with the broker key of dir.
 * Returns 0, or -errno with a message in err. */
int proto_curve_server(void *socket, const char *dir, char *err, size_t err_len);

/* Makes socket a CURVE client with the client key and broker public key of dir.
 * Returns 0, or -errno with a message in err. */
int proto_curve_client(void *socket, const char *dir, char *err, size_t err_len);

/* Starts the authenticator allowing the public certificates in
 * <dir>/allowed.  One per process.  Returns it, or NULL with a message in
 * err (the directory is missing, or another one runs). */
curve_auth_t *proto_curve_auth_start(const char *dir, char *err, size_t err_len);

/* Stops the authenticator and nulls *auth_p; accepts NULL. */
void proto_curve_auth_stop(curve_auth_t **auth_p);

#endif
