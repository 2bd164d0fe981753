/*
 * Message codec (see wire.h).  Receiving reads frames straight into
 * zmq_msg_t slots the message owns, so a header or payload is never copied;
 * forwarding moves those frames into the next send.  Validation is done once,
 * in proto_decode(), which works on plain byte ranges so tests and fuzzers can
 * drive it without sockets.
 */
#include "proto/wire.h"

#include "proto/base/json.h"
#include "proto/base/utf8.h"

#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char signature[4] = {'L', 'C', 'A', PROTO_VERSION};

static const char *const cmd_names[] = {
    "?", "READY", "REQUEST", "PARTIAL", "FINAL", "ERROR", "CANCEL", "HEARTBEAT", "DISCONNECT",
};

const char *proto_cmd_name(proto_cmd_t cmd) {
    return cmd >= PROTO_READY && cmd <= PROTO_CMD_MAX ? cmd_names[cmd] : "?";
}

static bool service_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

static bool service_bytes_valid(const char *s, size_t n) {
    if (n == 0 || n > PROTO_SERVICE_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!service_char(s[i]))
            return false;
    return true;
}

bool proto_service_valid(const char *name) {
    return name && service_bytes_valid(name, strlen(name));
}

static int reject(char *why, size_t why_len, const char *fmt, const char *detail) {
    if (why && why_len)
        snprintf(why, why_len, fmt, detail);
    return -EPROTO;
}

static uint64_t read_le64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static void write_le64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++, v >>= 8)
        p[i] = (unsigned char)v;
}

int proto_decode(const proto_frame_t *frames, size_t n, proto_msg_t *msg, char *why,
                 size_t why_len) {
    if (n < 5 || n > 6)
        return reject(why, why_len, "%s", n < 5 ? "too few frames" : "too many frames");
    if (frames[0].size != 4 || memcmp(frames[0].data, signature, 3) != 0)
        return reject(why, why_len, "%s", "not an lca message (bad signature)");
    unsigned version = ((const unsigned char *)frames[0].data)[3];
    if (version != PROTO_VERSION) {
        char v[16];
        snprintf(v, sizeof v, "%u", version);
        return reject(why, why_len, "protocol version %s is not supported", v);
    }
    if (frames[1].size != 1)
        return reject(why, why_len, "%s", "command frame must be one byte");
    unsigned cmd = ((const unsigned char *)frames[1].data)[0];
    if (cmd < PROTO_READY || cmd > PROTO_CMD_MAX)
        return reject(why, why_len, "%s", "unknown command");
    if (frames[2].size != 8)
        return reject(why, why_len, "%s", "id frame must be 8 bytes");
    uint64_t id = read_le64(frames[2].data);
    const char *name = proto_cmd_name((proto_cmd_t)cmd);

    bool wants_id = cmd == PROTO_REQUEST || cmd == PROTO_PARTIAL || cmd == PROTO_FINAL ||
                    cmd == PROTO_ERROR || cmd == PROTO_CANCEL;
    if (wants_id != (id != 0))
        return reject(why, why_len, wants_id ? "%s needs an id" : "%s takes no id", name);

    bool wants_service = cmd == PROTO_READY || cmd == PROTO_REQUEST;
    if (wants_service) {
        if (!service_bytes_valid(frames[3].data, frames[3].size))
            return reject(why, why_len, "%s has an invalid service name", name);
    } else if (frames[3].size != 0) {
        return reject(why, why_len, "%s takes no service name", name);
    }

    if (frames[4].size > PROTO_HEADER_MAX)
        return reject(why, why_len, "%s header is too large", name);
    if (frames[4].size > 0) {
        char reason[96];
        if (json_check(frames[4].data, frames[4].size, true, reason, sizeof reason) != 0)
            return reject(why, why_len, "header is not a JSON object: %s", reason);
    } else if (cmd == PROTO_ERROR) {
        return reject(why, why_len, "%s", "ERROR needs a header");
    }

    bool has_payload = n == 6;
    if (has_payload && (cmd == PROTO_CANCEL || cmd == PROTO_HEARTBEAT || cmd == PROTO_DISCONNECT ||
                        cmd == PROTO_READY))
        return reject(why, why_len, "%s takes no payload", name);
    if (has_payload && frames[5].size > PROTO_PAYLOAD_MAX)
        return reject(why, why_len, "%s payload is too large", name);

    msg->cmd = (proto_cmd_t)cmd;
    msg->id = id;
    memcpy(msg->service, frames[3].data, frames[3].size);
    msg->service[frames[3].size] = '\0';
    msg->header = frames[4].size ? frames[4].data : NULL;
    msg->header_len = frames[4].size;
    msg->payload = has_payload ? (frames[5].size ? frames[5].data : "") : NULL;
    msg->payload_len = has_payload ? frames[5].size : 0;
    return 0;
}

void proto_msg_move(proto_msg_t *dst, proto_msg_t *src) {
    memcpy(dst, src, sizeof *dst);
    if (dst->header_at)
        dst->header = zmq_msg_data(&dst->frames[dst->header_at - 1]);
    if (dst->payload_at)
        dst->payload = zmq_msg_size(&dst->frames[dst->payload_at - 1])
                           ? zmq_msg_data(&dst->frames[dst->payload_at - 1])
                           : "";
    src->nframes = 0;
    src->header_at = src->payload_at = 0;
}

void proto_msg_make_error(proto_msg_t *msg, uint64_t id, int status, const char *message) {
    char header[1024];
    size_t n = proto_error_header(header, sizeof header, status, message);
    memset(msg, 0, sizeof *msg);
    zmq_msg_init_size(&msg->frames[0], n);
    memcpy(zmq_msg_data(&msg->frames[0]), header, n);
    msg->nframes = 1;
    msg->header_at = 1;
    msg->cmd = PROTO_ERROR;
    msg->id = id;
    msg->header = zmq_msg_data(&msg->frames[0]);
    msg->header_len = n;
}

void proto_msg_close(proto_msg_t *msg) {
    for (int i = 0; i < msg->nframes; i++)
        zmq_msg_close(&msg->frames[i]);
    msg->nframes = 0;
    msg->header_at = msg->payload_at = 0;
}

/* Reads and discards the rest of a multipart message. */
static void drain(void *socket) {
    int more = 1;
    size_t size = sizeof more;
    while (zmq_getsockopt(socket, ZMQ_RCVMORE, &more, &size) == 0 && more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        int rc = zmq_msg_recv(&m, socket, 0);
        zmq_msg_close(&m);
        if (rc < 0)
            return;
    }
}

int proto_recv(void *socket, bool routed, proto_msg_t *msg, int flags, char *why, size_t why_len) {
    msg->nframes = 0;
    msg->route_len = 0;
    msg->user_id[0] = '\0';
    if (routed) {
        zmq_msg_t route;
        zmq_msg_init(&route);
        if (zmq_msg_recv(&route, socket, flags) < 0) {
            int err = errno;
            zmq_msg_close(&route);
            return -err;
        }
        msg->route_len = zmq_msg_size(&route);
        if (msg->route_len > PROTO_ROUTE_MAX)
            msg->route_len = PROTO_ROUTE_MAX;
        memcpy(msg->route, zmq_msg_data(&route), msg->route_len);
        bool more = zmq_msg_more(&route);
        zmq_msg_close(&route);
        if (!more)
            return reject(why, why_len, "%s", "empty message");
        flags = 0; /* the rest of a multipart message is already here */
    }
    proto_frame_t views[6];
    for (;;) {
        if (msg->nframes == 6) {
            drain(socket);
            proto_msg_close(msg);
            return reject(why, why_len, "%s", "too many frames");
        }
        zmq_msg_t *f = &msg->frames[msg->nframes];
        zmq_msg_init(f);
        if (zmq_msg_recv(f, socket, flags) < 0) {
            int err = errno;
            zmq_msg_close(f);
            proto_msg_close(msg);
            return -err;
        }
        views[msg->nframes].data = zmq_msg_data(f);
        views[msg->nframes].size = zmq_msg_size(f);
        if (routed && msg->nframes == 0) {
            /* The connection's metadata rides on the frames it delivered (not
             * on the routing id, which the ROUTER made up). */
            const char *user = zmq_msg_gets(f, "User-Id");
            if (user && strlen(user) < sizeof msg->user_id)
                memcpy(msg->user_id, user, strlen(user) + 1);
        }
        msg->nframes++;
        flags = 0;
        if (!zmq_msg_more(f))
            break;
    }
    int rc = proto_decode(views, (size_t)msg->nframes, msg, why, why_len);
    if (rc != 0) {
        proto_msg_close(msg);
        return rc;
    }
    msg->header_at = msg->header ? 5 : 0;
    msg->payload_at = msg->nframes == 6 ? 6 : 0;
    return 0;
}

/* Sends one frame from memory (copied by zmq: frames here are small or owned
 * by the caller only for the duration of the call). */
static int send_bytes(void *socket, const void *data, size_t size, bool more) {
    if (zmq_send(socket, data, size, ZMQ_DONTWAIT | (more ? ZMQ_SNDMORE : 0)) < 0)
        return -errno;
    return 0;
}

static int send_envelope(void *socket, const void *route, size_t route_len, proto_cmd_t cmd,
                         uint64_t id, const char *service, size_t service_len) {
    int rc;
    if (route_len && (rc = send_bytes(socket, route, route_len, true)) != 0)
        return rc;
    unsigned char cmd_byte = (unsigned char)cmd, id_bytes[8];
    write_le64(id_bytes, id);
    /* After the first frame went out, later frames of the message can't fail
     * with EAGAIN: zmq queues a multipart message whole or not at all. */
    if ((rc = send_bytes(socket, signature, sizeof signature, true)) != 0 ||
        (rc = send_bytes(socket, &cmd_byte, 1, true)) != 0 ||
        (rc = send_bytes(socket, id_bytes, 8, true)) != 0 ||
        (rc = send_bytes(socket, service, service_len, true)) != 0)
        return rc;
    return 0;
}

int proto_send(void *socket, const void *route, size_t route_len, const proto_out_t *out) {
    const char *service = out->service ? out->service : "";
    size_t header_len = out->header ? (out->header_len ? out->header_len : strlen(out->header)) : 0;
    bool has_payload = out->has_payload || out->payload;
    /* Check what we send as strictly as what we receive: a bug here must not
     * reach a peer as a message it rejects. */
    unsigned char cmd_byte = (unsigned char)out->cmd, id_bytes[8];
    write_le64(id_bytes, out->id);
    proto_frame_t frames[6] = {
        {signature, 4},
        {&cmd_byte, 1},
        {id_bytes, 8},
        {service, strlen(service)},
        {out->header, header_len},
        {out->payload, out->payload_len},
    };
    proto_msg_t check;
    if (proto_decode(frames, has_payload ? 6 : 5, &check, NULL, 0) != 0)
        return -EINVAL;

    int rc = send_envelope(socket, route, route_len, out->cmd, out->id, service, strlen(service));
    if (rc == 0)
        rc = send_bytes(socket, out->header, header_len, has_payload);
    if (rc == 0 && has_payload)
        rc = send_bytes(socket, out->payload ? out->payload : "", out->payload_len, false);
    return rc;
}

int proto_forward(void *socket, const void *route, size_t route_len, proto_msg_t *msg,
                  uint64_t id) {
    int rc = -EINVAL;
    if (msg->nframes < 5)
        goto done;
    rc = send_envelope(socket, route, route_len, msg->cmd, id, msg->service, strlen(msg->service));
    for (int i = 4; rc == 0 && i < msg->nframes; i++)
        if (zmq_msg_send(&msg->frames[i], socket,
                         ZMQ_DONTWAIT | (i + 1 < msg->nframes ? ZMQ_SNDMORE : 0)) < 0)
            rc = -errno;
done:
    proto_msg_close(msg);
    return rc;
}

/*
 * Written by hand rather than by cJSON, because the header must pass
 * proto_decode()'s strict check whatever the message holds: messages carry
 * text from outside (an upstream's error body, cut to a buffer's size,
 * possibly in the middle of a character or in Latin-1), and cJSON copies
 * such bytes as they are.  proto_send() then refused the ERROR and the
 * client heard nothing until its deadline.  So bytes that are not UTF-8
 * become U+FFFD, and a message too long for buf is cut at a character
 * boundary.  Escapes are cJSON's, so well-formed messages read as before.
 */
size_t proto_error_header(char *buf, size_t size, int status, const char *message) {
    char head[64];
    size_t n = (size_t)snprintf(head, sizeof head, "{\"status\":%d,\"message\":\"", status);
    if (size < n + 3) { /* not even an empty message fits */
        if (size > 0)
            buf[0] = '\0';
        return 0;
    }
    memcpy(buf, head, n);
    size_t room = size - 3; /* keep the closing quote and brace and the NUL */
    const unsigned char *p = (const unsigned char *)(message ? message : "error");
    while (*p) {
        /* strnlen: a character cut short by the NUL is not one */
        size_t len = utf8_decode((const char *)p, strnlen((const char *)p, 4), NULL);
        char esc[8];
        const char *out = (const char *)p;
        size_t out_len = len;
        if (len == 0) {
            out = "\xef\xbf\xbd", out_len = 3, len = 1;
        } else if (*p == '"' || *p == '\\') {
            esc[0] = '\\', esc[1] = (char)*p, out = esc, out_len = 2;
        } else if (*p < 0x20) {
            const char *named = *p == '\b'   ? "\\b"
                                : *p == '\f' ? "\\f"
                                : *p == '\n' ? "\\n"
                                : *p == '\r' ? "\\r"
                                : *p == '\t' ? "\\t"
                                             : NULL;
            out_len = named ? (size_t)snprintf(esc, sizeof esc, "%s", named)
                            : (size_t)snprintf(esc, sizeof esc, "\\u%04x", *p);
            out = esc;
        }
        if (n + out_len > room)
            break;
        memcpy(buf + n, out, out_len);
        n += out_len;
        p += len;
    }
    memcpy(buf + n, "\"}", 3);
    return n + 2;
}

void proto_error_parse(const proto_msg_t *msg, int *status, char *message, size_t size) {
    *status = 500;
    snprintf(message, size, "unknown error");
    cJSON *o = msg->header ? cJSON_ParseWithLength(msg->header, msg->header_len) : NULL;
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "status");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "message");
    if (cJSON_IsNumber(s) && s->valuedouble >= 100 && s->valuedouble < 600)
        *status = (int)s->valuedouble;
    if (cJSON_IsString(m))
        snprintf(message, size, "%s", m->valuestring);
    cJSON_Delete(o);
}
