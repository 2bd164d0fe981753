/*
 * The wire between lca's services: message encode/decode over ZeroMQ.
 *
 * Every message is 5 or 6 frames (after the routing id a ROUTER adds):
 *
 *   0  signature  "LCA" + version byte (PROTO_VERSION)
 *   1  command    one byte, proto_cmd_t
 *   2  id         correlation id, 8 bytes little-endian; 0 where the command has none
 *   3  service    0..63 bytes of [a-z0-9._-]; set on READY and REQUEST only
 *   4  header     a JSON object (small; checked strictly), or empty meaning {}
 *   5  payload    optional binary bytes (bulk data: request bodies, vectors, tokens)
 *
 * A client's REQUEST id is its own; the broker gives each request a fresh id
 * of its own towards the worker and maps replies back, so ids are only unique
 * per connection.  Decoding never trusts the peer: a frame of the wrong size,
 * an unknown command, a wrong version, a bad service name, a header that is not
 * a JSON object or fields that do not fit the command make proto_recv() return
 * -EPROTO with a reason; nothing malformed reaches the caller.
 */
#ifndef LCA_WIRE_H
#define LCA_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

#define PROTO_VERSION 1
#define PROTO_SERVICE_MAX 63
#define PROTO_HEADER_MAX (1u << 20)
#define PROTO_PAYLOAD_MAX (64u << 20)
#define PROTO_ROUTE_MAX 255

typedef enum {
    PROTO_READY = 1,  /* worker -> broker: I serve `service`; header: host, pid, capacity */
    PROTO_REQUEST,    /* client -> broker -> worker */
    PROTO_PARTIAL,    /* worker -> broker -> client: one piece of a stream */
    PROTO_FINAL,      /* worker -> broker -> client: the last reply of a request */
    PROTO_ERROR,      /* the request failed; header {"status": n, "message": "..."} */
    PROTO_CANCEL,     /* client -> broker -> worker: stop working on id */
    PROTO_HEARTBEAT,  /* both ways between broker and worker */
    PROTO_DISCONNECT, /* either side is going away */
} proto_cmd_t;

#define PROTO_CMD_MAX PROTO_DISCONNECT

/* One frame's bytes, for decoding without sockets (tests, fuzzing). */
typedef struct {
    const void *data;
    size_t size;
} proto_frame_t;

/* A decoded message.  Pointers refer to bytes the message owns (or, for
 * proto_decode(), to the frames passed in). */
typedef struct {
    proto_cmd_t cmd;
    uint64_t id;
    char service[PROTO_SERVICE_MAX + 1]; /* NUL-terminated; "" when absent */
    const char *header;                  /* JSON object text, not NUL-terminated */
    size_t header_len;                   /* 0: no header (read as {}) */
    const void *payload;                 /* NULL when there is no payload frame */
    size_t payload_len;
    /* Ownership of the received frames (proto_recv only).  header and
     * payload may point inside a frame (small frames keep their bytes inline),
     * so a message must only be moved with proto_msg_move(). */
    zmq_msg_t frames[6];
    int nframes;
    uint8_t header_at, payload_at;  /* frame index + 1 holding header/payload; 0: none */
    uint8_t route[PROTO_ROUTE_MAX]; /* routing id of the sender, on ROUTER sockets */
    size_t route_len;
    /* Who the sender authenticated as (ZAP User-Id: a CURVE client's public
     * key in Z85), on ROUTER sockets; "" when the connection has none. */
    char user_id[64];
} proto_msg_t;

/* What to send.  Unset fields mean: no service, no header ({}), no payload. */
typedef struct {
    proto_cmd_t cmd;
    uint64_t id;
    const char *service;
    const char *header;
    size_t header_len; /* 0 with a non-NULL header: strlen(header) */
    const void *payload;
    size_t payload_len;
    bool has_payload; /* send a payload frame (even an empty one) */
} proto_out_t;

const char *proto_cmd_name(proto_cmd_t cmd);

/* True when name is a valid service name (1..63 of [a-z0-9._-]). */
bool proto_service_valid(const char *name);

/* Decodes and validates n frames (without routing id).  On success fills msg's
 * fields (pointing into frames; msg->nframes stays 0) and returns 0; otherwise
 * returns -EPROTO with a reason in why. */
int proto_decode(const proto_frame_t *frames, size_t n, proto_msg_t *msg, char *why,
                 size_t why_len);

/* Receives one message.  With `routed`, the first frame is the sender's routing
 * id (ROUTER sockets), kept in msg->route.  flags: 0 or ZMQ_DONTWAIT.
 * Returns 0 (then the caller must proto_msg_close()), -EAGAIN when nothing is
 * waiting, -EPROTO for a malformed message (already discarded; why says what was
 * wrong and msg->route who sent it), or another negative errno. */
int proto_recv(void *socket, bool routed, proto_msg_t *msg, int flags, char *why, size_t why_len);

/* Moves a received message to dst (which must not own frames), fixing the
 * pointers into its frames; src is left empty. */
void proto_msg_move(proto_msg_t *dst, proto_msg_t *src);

/* Makes msg a locally built ERROR for id that owns its header bytes. */
void proto_msg_make_error(proto_msg_t *msg, uint64_t id, int status, const char *message);

/* Releases the frames a received message owns.  Safe on a zeroed message. */
void proto_msg_close(proto_msg_t *msg);

/* Sends a message, prefixed by route (route_len > 0 on ROUTER sockets).
 * Never blocks: returns 0, or a negative errno (-EHOSTUNREACH for an unknown
 * route with ZMQ_ROUTER_MANDATORY, -EAGAIN at the high-water mark, -EINVAL for
 * a message that would not decode). */
int proto_send(void *socket, const void *route, size_t route_len, const proto_out_t *out);

/* Sends a received message on, with its id replaced by `id` and a new route;
 * header and payload frames move without copying.  The message is closed
 * whatever the outcome.  Returns as proto_send(). */
int proto_forward(void *socket, const void *route, size_t route_len, proto_msg_t *msg, uint64_t id);

/* Builds an ERROR header {"status": status, "message": message} into buf,
 * NUL-terminated, that proto_decode() accepts whatever message holds: bytes
 * that are not UTF-8 become U+FFFD and a message too long is cut at a
 * character boundary.  Returns the length written (0 when size cannot hold
 * even an empty message). */
size_t proto_error_header(char *buf, size_t size, int status, const char *message);

/* Reads an ERROR message's status and message (defaults 500 / "unknown error"). */
void proto_error_parse(const proto_msg_t *msg, int *status, char *message, size_t size);

#endif
