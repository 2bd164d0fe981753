/*
 * Requests to the generator on behalf of a client (see relay.h).
 *
 * A relay_t lives in the request's pool.  The bridge callbacks reach it only
 * while its call is tracked by the request (http_call), and the request's
 * disposal cancels a tracked call, so no callback ever sees a freed relay.
 * `over` turns true once the client has its answer or has gone; after that
 * nothing is written and every late callback only untracks its call.  The
 * tick (h2o's 100 ms timeout list) runs while the relay is not over, and is
 * unlinked when the pool is freed.
 */
#include "gateway/relay.h"

#include "gateway/history.h"
#include "gateway/metrics.h"
#include "gateway/rag.h"

#include "gateway/format.h"
#include "gateway/gateway.h"
#include "gateway/stream.h"
#include "proto/base/log.h"
#include "proto/base/clock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define HEARTBEAT_MS 1000 /* SSE comment after this long without bytes */

struct relay {
    http_ctx_t *ctx;
    api_request_t *request;
    format_t format;
    uint64_t call;         /* the generator call in flight, 0: none */
    http_stream_t *stream; /* NULL until the first byte is written */
    h2o_timeout_entry_t tick;
    int64_t started_ms;     /* clock_ms() when the request arrived */
    int64_t first_token_ms; /* when the first line came, 0: not yet */
    int64_t last_write_ms;  /* when bytes last went out (or started_ms) */
    bool over;              /* answered, or the client went away */
};

static const char *kind_path(api_kind_t kind) {
    return kind == API_CHAT ? "/api/chat" : "/api/generate";
}

/* ---- the end of a relay ---- */

static void tick_stop(relay_t *r) {
    if (h2o_timeout_is_linked(&r->tick))
        h2o_timeout_unlink(&r->tick);
}

static void relay_dispose(void *p) {
    relay_t *r = p;
    tick_stop(r);
    format_dispose(&r->format);
}

static void relay_over(relay_t *r, int status, const char *message) {
    r->over = true;
    tick_stop(r);
    int64_t now = clock_ms();
    long long first = r->first_token_ms ? (long long)(r->first_token_ms - r->started_ms) : -1;
    metrics_generation((double)first, r->format.lines);
    /* The status page's record (history.h): the model's own counts when its
     * last line gave them. */
    const cJSON *eval = cJSON_GetObjectItemCaseSensitive(r->format.last, "eval_count");
    const cJSON *prompt = cJSON_GetObjectItemCaseSensitive(r->format.last, "prompt_eval_count");
    history_end(r->ctx->history_id, status, (double)(now - r->started_ms),
                cJSON_IsNumber(eval) ? (long)eval->valuedouble : (long)r->format.lines,
                cJSON_IsNumber(prompt) ? (long)prompt->valuedouble : -1);
    if (status >= 200 && status < 300)
        log_info("req=%s %s -> %d, first token %lld ms, %zu lines, %lld ms", r->ctx->rid,
                 kind_path(r->request->kind), status, first, r->format.lines,
                 (long long)(now - r->started_ms));
    else
        log_info("req=%s %s -> %d after %zu lines, %lld ms: %s", r->ctx->rid,
                 kind_path(r->request->kind), status, r->format.lines,
                 (long long)(now - r->started_ms), message ? message : "");
}

/* The client went away: stop the upstream work at once. */
static void client_gone(void *arg) {
    relay_t *r = arg;
    if (r->over)
        return;
    http_cancel(r->ctx, r->call);
    r->call = 0;
    relay_over(r, 499, "the client went away; upstream cancelled");
}

/* ---- writing ---- */

static void relay_write(relay_t *r, const char *data, size_t len) {
    if (!r->stream) {
        metrics_response(http_route_name(r->ctx), 200);
        r->stream =
            http_stream_start(r->ctx->req, 200, format_content_type(&r->format), client_gone, r);
    }
    http_stream_write(r->stream, data, len);
    r->last_write_ms = clock_ms();
}

static void tick_start(relay_t *r) {
    h2o_context_t *hctx = r->ctx->req->conn->ctx;
    h2o_timeout_link(hctx->loop, &hctx->hundred_ms_timeout, &r->tick);
}

static void on_tick(h2o_timeout_entry_t *entry) {
    relay_t *r = H2O_STRUCT_FROM_MEMBER(relay_t, tick, entry);
    if (r->over)
        return;
    if (http_peer_closed(r->ctx->req)) {
        client_gone(r);
        /* Finish the request so that h2o closes the connection and frees it. */
        if (r->stream)
            http_stream_end(r->stream);
        else
            http_error(r->ctx, 499, NULL, "client closed the connection");
        return;
    }
    if (format_is_sse(&r->format) && clock_ms() - r->last_write_ms >= HEARTBEAT_MS) {
        relay_write(r, ": ok\n\n", 6);
        if (r->over)
            return;
    }
    tick_start(r);
}

/* ---- the generator's answer ---- */

static void on_partial(void *arg, const proto_msg_t *msg) {
    relay_t *r = arg;
    if (r->over || !msg->payload)
        return;
    if (!r->first_token_ms) {
        r->first_token_ms = clock_ms();
        history_first_token(r->ctx->history_id, (double)(r->first_token_ms - r->started_ms));
    }
    buf_t out = BUF_INIT;
    int rc = format_add_line(&r->format, msg->payload, msg->payload_len, &out);
    if (rc == 0 && out.len)
        relay_write(r, out.data, out.len);
    buf_free(&out);
    if (rc != 0 && !r->over) {
        http_cancel(r->ctx, r->call);
        r->call = 0;
        if (r->stream)
            http_stream_end(r->stream);
        else
            http_error(r->ctx, 500, NULL, "the gateway ran out of memory");
        relay_over(r, 500, "out of memory");
    }
}

static void on_final(void *arg, const proto_msg_t *msg) {
    (void)msg;
    relay_t *r = arg;
    http_untrack(r->ctx, r->call);
    r->call = 0;
    if (r->over)
        return;
    buf_t out = BUF_INIT;
    if (format_finish(&r->format, &out) != 0) {
        buf_free(&out);
        if (r->stream)
            http_stream_end(r->stream);
        else
            http_error(r->ctx, 500, NULL, "the gateway ran out of memory");
        relay_over(r, 500, "out of memory");
        return;
    }
    if (format_streams(&r->format)) {
        if (out.len)
            relay_write(r, out.data, out.len);
        else if (!r->stream) {
            metrics_response(http_route_name(r->ctx), 200);
            r->stream = http_stream_start(r->ctx->req, 200, format_content_type(&r->format),
                                          client_gone, r);
        }
        http_stream_end(r->stream);
    } else {
        http_reply(r->ctx, 200, format_content_type(&r->format), out.data ? out.data : "", out.len);
    }
    buf_free(&out);
    relay_over(r, 200, NULL);
}

static void on_error(void *arg, int status, const char *message) {
    relay_t *r = arg;
    http_untrack(r->ctx, r->call);
    r->call = 0;
    if (r->over)
        return;
    if (status < 400 || status > 599)
        status = 502;
    if (r->stream) {
        buf_t out = BUF_INIT;
        if (format_fail(&r->format, status, message, &out) == 0 && out.len)
            relay_write(r, out.data, out.len);
        buf_free(&out);
        http_stream_end(r->stream);
    } else {
        http_error(r->ctx, status, NULL, message);
    }
    relay_over(r, status, message);
}

static const bridge_callbacks_t generate_callbacks = {on_partial, on_final, on_error};

/* ---- sending ---- */

/* Sends the request upstream, as a stream whatever the client asked for:
 * the relay cancels at once and sees the first token. */
static void relay_send(relay_t *r) {
    http_ctx_t *ctx = r->ctx;
    cJSON *body = r->request->body;
    if (cJSON_GetObjectItemCaseSensitive(body, "stream"))
        cJSON_ReplaceItemInObjectCaseSensitive(body, "stream", cJSON_CreateTrue());
    else
        cJSON_AddTrueToObject(body, "stream");
    char *text = cJSON_PrintUnformatted(body);
    char header[200];
    snprintf(header, sizeof header,
             "{\"method\":\"POST\",\"path\":\"%s\",\"stream\":true,\"rid\":\"%s\","
             "\"timeout_ms\":%d}",
             kind_path(r->request->kind), ctx->rid, ctx->gateway->request_timeout_ms);
    r->call = text ? http_call(ctx, "generate", header, text, strlen(text),
                               ctx->gateway->request_timeout_ms, &generate_callbacks, r)
                   : 0;
    free(text);
    if (!r->call) {
        http_error(ctx, 503, NULL, "the gateway cannot reach its broker");
        relay_over(r, 503, "no call");
        return;
    }
    tick_start(r);
}

static void rag_go(void *arg) {
    relay_send(arg);
}

static void rag_fail(void *arg, int status, const char *message) {
    relay_t *r = arg;
    http_error(r->ctx, status, NULL, message);
    relay_over(r, status, message);
}

/*
 * The seam for retrieval.  Every chat and completion request passes here,
 * parsed and already in Ollama's native shape (r->request->body: "messages"
 * for API_CHAT; "prompt", "suffix", "raw" for API_GENERATE), with the
 * collection from /c/<name>/ in r->request->collection, before anything goes
 * upstream.  rag_prepare() (rag.h) adds the repository's code to the body
 * and then lets the request go on; a request naming a collection that does
 * not exist ends here with 404.
 */
static void relay_prepare(relay_t *r) {
    rag_prepare(r->ctx, r->request, rag_go, rag_fail, r);
}

int relay_generate(http_ctx_t *ctx, api_request_t *request) {
    relay_t *r = h2o_mem_alloc_shared(&ctx->req->pool, sizeof *r, relay_dispose);
    memset(r, 0, sizeof *r);
    r->ctx = ctx;
    r->request = request;
    r->tick.cb = on_tick;
    r->started_ms = r->last_write_ms = clock_ms();
    format_init(&r->format, request, ctx->rid);
    ctx->history_id = history_begin(ctx->rid, http_route_name(ctx), request->model);
    relay_prepare(r);
    return 0;
}

/* ---- non-streamed exchanges ---- */

typedef struct {
    http_ctx_t *ctx;
    uint64_t call;
    relay_answer_t answer;
    void *arg;
} forward_t;

static void forward_final(void *arg, const proto_msg_t *msg) {
    forward_t *f = arg;
    http_untrack(f->ctx, f->call);
    cJSON *header =
        cJSON_ParseWithLength(msg->header ? msg->header : "{}", msg->header ? msg->header_len : 2);
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(header, "status");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(header, "content_type");
    int status = cJSON_IsNumber(s) && s->valuedouble >= 200 && s->valuedouble < 600
                     ? (int)s->valuedouble
                     : 200;
    const char *body = msg->payload ? msg->payload : "";
    if (f->answer && status < 300)
        f->answer(f->ctx, body, msg->payload_len, f->arg);
    else
        http_reply(f->ctx, status,
                   cJSON_IsString(type) && type->valuestring[0] ? type->valuestring
                                                                : "application/json; charset=utf-8",
                   body, msg->payload_len);
    cJSON_Delete(header);
}

static void forward_error(void *arg, int status, const char *message) {
    forward_t *f = arg;
    http_untrack(f->ctx, f->call);
    http_error(f->ctx, status >= 400 && status <= 599 ? status : 502, NULL, message);
}

int relay_forward(http_ctx_t *ctx, const char *method, const char *path, const char *body,
                  size_t body_len, relay_answer_t answer, void *arg) {
    static const bridge_callbacks_t callbacks = {NULL, forward_final, forward_error};
    forward_t *f = h2o_mem_alloc_pool(&ctx->req->pool, sizeof *f);
    *f = (forward_t){.ctx = ctx, .answer = answer, .arg = arg};
    char header[1200];
    snprintf(header, sizeof header,
             "{\"method\":\"%s\",\"path\":\"%s\",\"stream\":false,\"rid\":\"%s\","
             "\"timeout_ms\":%d}",
             method, path, ctx->rid, ctx->gateway->request_timeout_ms);
    f->call = http_call(ctx, "generate", header, body, body ? body_len : 0,
                        ctx->gateway->request_timeout_ms, &callbacks, f);
    if (!f->call)
        http_error(ctx, 503, NULL, "the gateway cannot reach its broker");
    return 0;
}
