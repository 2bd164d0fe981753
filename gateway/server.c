/*
 * The HTTP server (its entry points are declared in http.h): listening, and
 * what every request passes before its route's handler runs — a request
 * id, the /c/<collection>/ prefix, the API key, the body's size, and the
 * route table (routes.c).  It sits above every route: routes call http.c,
 * never this file.
 */
#include "gateway/gateway.h"
#include "gateway/http.h"
#include "gateway/ui.h"
#include "proto/base/log.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

gateway_t *http_gateway; /* set by main; the one gateway of this process */

/* ---- listening ---- */

static void on_accept(h2o_socket_t *listener, const char *err) {
    if (err)
        return;
    h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
    if (!sock)
        return;
    h2o_accept(listener->data, sock);
}

int http_listen(h2o_context_t *ctx, h2o_accept_ctx_t *accept_ctx, const char *host, int port,
                h2o_socket_t **listener, char *err, size_t err_len) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    char service[16];
    snprintf(service, sizeof service, "%d", port);
    int rc = getaddrinfo(host, service, &hints, &res);
    if (rc != 0) {
        snprintf(err, err_len, "cannot resolve %s: %s", host, gai_strerror(rc));
        return -EINVAL;
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, SOMAXCONN) != 0) {
        int e = errno;
        snprintf(err, err_len, "cannot listen on %s:%d: %s", host, port, strerror(e));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(res);
        return -e;
    }
    freeaddrinfo(res);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    h2o_socket_t *sock = h2o_evloop_socket_create(ctx->loop, fd, H2O_SOCKET_FLAG_DONT_READ);
    sock->data = accept_ctx;
    h2o_socket_read_start(sock, on_accept);
    *listener = sock;
    return 0;
}

/* ---- routing ---- */

const http_route_t *http_route_find(const char *method, size_t method_len, const char *path,
                                    size_t path_len, bool *path_known) {
    *path_known = false;
    for (const http_route_t *r = http_routes; r->path; r++) {
        if (strlen(r->path) != path_len || memcmp(r->path, path, path_len) != 0)
            continue;
        *path_known = true;
        size_t n = strlen(r->method);
        if (n == method_len && memcmp(r->method, method, n) == 0)
            return r;
        if (strcmp(r->method, "GET") == 0 && method_len == 4 && memcmp(method, "HEAD", 4) == 0)
            return r;
    }
    return NULL;
}

static api_family_t family_of(h2o_iovec_t path) {
    if (path.len >= 4 && memcmp(path.base, "/v1/", 4) == 0)
        return API_OPENAI;
    if ((path.len >= 5 && memcmp(path.base, "/api/", 5) == 0) || (path.len == 1))
        return API_OLLAMA;
    return API_LCA;
}

static bool collection_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

/* Compares without an early exit, so timing says nothing about the key. */
static bool same_secret(const char *a, size_t a_len, const char *b, size_t b_len) {
    unsigned char diff = a_len != b_len;
    for (size_t i = 0; i < a_len && i < b_len; i++)
        diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

static bool authorized(const http_ctx_t *ctx) {
    const char *key = ctx->gateway->api_key;
    if (!key)
        return true;
    h2o_iovec_t auth = http_header(ctx->req, "authorization");
    if (auth.len < 7 || strncasecmp(auth.base, "Bearer ", 7) != 0)
        return false;
    return same_secret(auth.base + 7, auth.len - 7, key, strlen(key));
}

/* A header value fit to quote in a message: printable ASCII, at most 80. */
static void quotable(h2o_iovec_t v, char *out, size_t cap) {
    size_t n = 0;
    for (size_t i = 0; i < v.len && n + 4 < cap && i < 80; i++)
        out[n++] = v.base[i] >= 0x20 && v.base[i] < 0x7f ? v.base[i] : '?';
    if (v.len > 80)
        out[n++] = '.', out[n++] = '.', out[n++] = '.';
    out[n] = '\0';
}

/* CORS for an allowed page of another origin: the answer may be read, and a
 * preflight (OPTIONS) is answered here. */
static bool cors(http_ctx_t *ctx, h2o_iovec_t origin) {
    h2o_req_t *req = ctx->req;
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("access-control-allow-origin"),
                          0, NULL, origin.base, origin.len);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_VARY, NULL, H2O_STRLIT("Origin"));
    if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("OPTIONS")))
        return false;
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("access-control-allow-methods"),
                          0, NULL, H2O_STRLIT("GET, HEAD, POST, OPTIONS"));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("access-control-allow-headers"),
                          0, NULL,
                          H2O_STRLIT("Authorization, Content-Type, X-LCA-Collection, X-LCA-Path, "
                                     "X-Request-Id"));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("access-control-max-age"), 0,
                          NULL, H2O_STRLIT("600"));
    http_reply(ctx, 204, NULL, "", 0);
    return true;
}

/* Without an API key, only this machine's names and allowed origins (see
 * guard.h); with one, the key decides, and CORS still follows the allowed
 * origins.  Returns false once it has answered (403, or a preflight). */
static bool caller_allowed(http_ctx_t *ctx) {
    const guard_t *guard = ctx->gateway->guard;
    /* A request without a Host header is no browser's (h2o names it
     * HTTP_NO_HOST). */
    h2o_iovec_t host = ctx->req->input.authority;
    if (h2o_memis(host.base, host.len, H2O_STRLIT(HTTP_NO_HOST)))
        host = h2o_iovec_init(NULL, 0);
    h2o_iovec_t origin = http_header(ctx->req, "origin");
    char quoted[100], message[400];
    if (!ctx->gateway->api_key && host.len && !guard_host_allowed(guard, host.base, host.len)) {
        quotable(host, quoted, sizeof quoted);
        snprintf(message, sizeof message,
                 "Host '%s' is not one of this machine's names: lca answers localhost, an IP "
                 "address or its --host without an API key (add the name to LCA_HOSTS, or set "
                 "LCA_API_KEY)",
                 quoted);
        http_error(ctx, 403, "permission_error", message);
        return false;
    }
    /* The status page: its own origin only, and no CORS (ui.h). */
    if (ui_owns(ctx))
        return ui_caller_allowed(ctx);
    if (!origin.len)
        return true;
    if (!guard_origin_allowed(guard, origin.base, origin.len, host.base, host.len)) {
        if (ctx->gateway->api_key)
            return true; /* the key decides; the page just cannot read the answer */
        quotable(origin, quoted, sizeof quoted);
        snprintf(message, sizeof message,
                 "web pages from %s may not call lca (allow the origin with LCA_ORIGINS)", quoted);
        http_error(ctx, 403, "permission_error", message);
        return false;
    }
    return !cors(ctx, origin);
}

static void request_id(http_ctx_t *ctx) {
    static uint64_t counter;
    h2o_iovec_t given = http_header(ctx->req, "x-request-id");
    bool ok = given.len > 0 && given.len < sizeof ctx->rid;
    for (size_t i = 0; ok && i < given.len; i++)
        ok = collection_char(given.base[i]);
    if (ok) {
        memcpy(ctx->rid, given.base, given.len);
        ctx->rid[given.len] = '\0';
    } else {
        snprintf(ctx->rid, sizeof ctx->rid, "%x-%llx", (unsigned)getpid() & 0xffff,
                 (unsigned long long)++counter);
    }
}

int http_on_request(h2o_handler_t *self, h2o_req_t *req) {
    (void)self;
    http_ctx_t *ctx = http_ctx_new(req, http_gateway);
    request_id(ctx);
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-request-id"), 0, NULL,
                          ctx->rid, strlen(ctx->rid));

    /* /c/<collection>/rest -> collection + /rest */
    bool valid_collection = true;
    if (ctx->path.len > 3 && memcmp(ctx->path.base, "/c/", 3) == 0) {
        const char *name = ctx->path.base + 3, *end = ctx->path.base + ctx->path.len;
        const char *slash = memchr(name, '/', (size_t)(end - name));
        size_t name_len = (size_t)((slash ? slash : end) - name);
        valid_collection = name_len > 0 && name_len <= 64;
        for (size_t i = 0; valid_collection && i < name_len; i++)
            valid_collection = collection_char(name[i]);
        ctx->path = slash ? h2o_iovec_init(slash, (size_t)(end - slash)) : h2o_iovec_init("/", 1);
        if (valid_collection)
            ctx->collection = h2o_iovec_init(name, name_len);
    }
    ctx->family = family_of(ctx->path);
    bool known;
    ctx->route =
        http_route_find(req->method.base, req->method.len, ctx->path.base, ctx->path.len, &known);
    if (!valid_collection) {
        http_error(ctx, 400, NULL,
                   "invalid collection name in /c/<name>/ (use letters, digits, . _ -)");
        return 0;
    }

    if (!caller_allowed(ctx))
        return 0;
    bool is_health = ctx->path.len == 8 && memcmp(ctx->path.base, "/healthz", 8) == 0;
    /* The status page's files need no key: a browser opening it cannot send one. */
    if (!is_health && !ui_is_public(ctx) && !authorized(ctx)) {
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_WWW_AUTHENTICATE, NULL,
                       H2O_STRLIT("Bearer"));
        http_error(ctx, 401, "invalid_request_error",
                   "missing or wrong API key: send Authorization: Bearer <LCA_API_KEY>");
        return 0;
    }
    if (req->entity.base && req->entity.len > ctx->gateway->max_body) {
        char message[128];
        snprintf(message, sizeof message, "request body is larger than %zu bytes",
                 ctx->gateway->max_body);
        http_error(ctx, 413, NULL, message);
        return 0;
    }
    if (!ctx->route) {
        char message[300];
        if (known) {
            snprintf(message, sizeof message, "method %.*s is not allowed on %.*s",
                     (int)req->method.len, req->method.base, (int)ctx->path.len, ctx->path.base);
            http_error(ctx, 405, NULL, message);
        } else {
            snprintf(message, sizeof message, "no such endpoint: %.*s %.*s", (int)req->method.len,
                     req->method.base, (int)(ctx->path.len > 200 ? 200 : ctx->path.len),
                     ctx->path.base);
            http_error(ctx, 404, NULL, message);
        }
        return 0;
    }
    log_debug("req=%s %.*s %.*s", ctx->rid, (int)req->method.len, req->method.base,
              (int)ctx->path.len, ctx->path.base);
    return ctx->route->handler(ctx);
}
