/*
 * Streaming responses (see stream.h).
 *
 * State: `pending` collects bytes written while a send is in flight;
 * `sending` (the double buffer) holds the bytes h2o currently points at.
 * in_flight is true between h2o_send() and proceed.  `ending` marks that
 * the final send is owed once everything queued has gone out.
 */
#include "gateway/stream.h"

#include <errno.h>
#include <sys/socket.h>

struct http_stream {
    h2o_generator_t super; /* first: h2o calls back with this pointer */
    h2o_req_t *req;
    h2o_doublebuffer_t sending;
    h2o_buffer_t *pending;
    bool in_flight, ending, ended, closed, wrote;
    void (*on_stop)(void *ctx);
    void *ctx;
};

static void flush(http_stream_t *s) {
    if (s->in_flight || s->ended || s->closed)
        return;
    h2o_iovec_t buf = h2o_doublebuffer_prepare(&s->sending, &s->pending, SIZE_MAX);
    bool final = s->ending && s->pending->size == 0 && buf.len == s->sending.buf->size;
    if (buf.len == 0 && !final)
        return;
    s->in_flight = buf.len > 0;
    if (final)
        s->ended = true;
    h2o_send(s->req, &buf, buf.len ? 1 : 0,
             final ? H2O_SEND_STATE_FINAL : H2O_SEND_STATE_IN_PROGRESS);
}

static void on_proceed(h2o_generator_t *generator, h2o_req_t *req) {
    (void)req;
    http_stream_t *s = (http_stream_t *)generator;
    s->in_flight = false;
    if (s->sending.bytes_inflight)
        h2o_doublebuffer_consume(&s->sending);
    flush(s);
}

static void on_stop(h2o_generator_t *generator, h2o_req_t *req) {
    (void)req;
    http_stream_t *s = (http_stream_t *)generator;
    if (s->closed)
        return;
    s->closed = true;
    if (s->on_stop)
        s->on_stop(s->ctx);
}

static void on_dispose(void *p) {
    http_stream_t *s = p;
    h2o_doublebuffer_dispose(&s->sending);
    h2o_buffer_dispose(&s->pending);
}

http_stream_t *http_stream_start(h2o_req_t *req, int status, const char *content_type,
                                 void (*stop)(void *ctx), void *ctx) {
    http_stream_t *s = h2o_mem_alloc_shared(&req->pool, sizeof *s, on_dispose);
    *s = (http_stream_t){.super = {on_proceed, on_stop}, .req = req, .on_stop = stop, .ctx = ctx};
    h2o_doublebuffer_init(&s->sending, &h2o_socket_buffer_prototype);
    h2o_buffer_init(&s->pending, &h2o_socket_buffer_prototype);
    req->res.status = status;
    req->res.reason = status == 200 ? "OK" : "Error";
    if (content_type)
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, content_type,
                       strlen(content_type));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL,
                   H2O_STRLIT("no-cache"));
    h2o_start_response(req, &s->super);
    return s;
}

void http_stream_write(http_stream_t *s, const void *data, size_t len) {
    if (s->closed || s->ending || len == 0)
        return;
    h2o_iovec_t room = h2o_buffer_reserve(&s->pending, len);
    memcpy(room.base, data, len);
    s->pending->size += len;
    s->wrote = true;
    flush(s);
}

void http_stream_end(http_stream_t *s) {
    if (s->closed || s->ending)
        return;
    s->ending = true;
    s->on_stop = NULL;
    flush(s);
}

bool http_stream_closed(const http_stream_t *s) {
    return s->closed || s->ended;
}

bool http_stream_started(const http_stream_t *s) {
    return s->wrote;
}

size_t http_stream_pending(const http_stream_t *s) {
    return s->pending->size + s->sending.bytes_inflight;
}

bool http_peer_closed(h2o_req_t *req) {
    if (req->version >= 0x200 || !req->conn->callbacks->get_socket)
        return false;
    h2o_socket_t *sock = req->conn->callbacks->get_socket(req->conn);
    int fd = sock ? h2o_socket_get_fd(sock) : -1;
    if (fd < 0)
        return false;
    char c;
    ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}
