/*
 * Metrics (see metrics.h).  Routes are the route table's paths (unknown
 * paths count as "other", so a scanner cannot grow the label set), statuses
 * are the few the gateway answers with; both live in small fixed tables.
 */
#include "gateway/metrics.h"

#include "gateway/collections.h"
#include "gateway/gateway.h"
#include "proto/base/buf.h"

#include <cJSON.h>
#include <string.h>

#define MAX_SERIES 256

typedef struct {
    const char *route; /* a route table path, or "other" */
    int status;
    unsigned long long count;
} series_t;

static series_t requests[MAX_SERIES];
static int nrequests;

static const double buckets_ms[] = {1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 10000};
#define NBUCKETS (sizeof buckets_ms / sizeof buckets_ms[0])

typedef struct {
    unsigned long long counts[NBUCKETS + 1]; /* last: +Inf */
    double sum;
    unsigned long long n;
} histogram_t;

static histogram_t ttft, retrieval;
static unsigned long long tokens_total, generations_total;

static void observe(histogram_t *h, double ms) {
    size_t i = 0;
    while (i < NBUCKETS && ms > buckets_ms[i])
        i++;
    h->counts[i]++;
    h->sum += ms / 1000.0;
    h->n++;
}

void metrics_response(const http_ctx_t *ctx, int status) {
    /* The route http_on_request already found (unknown paths: "other"). */
    const char *route = ctx->route ? ctx->route->path : "other";
    for (int i = 0; i < nrequests; i++)
        if (requests[i].status == status && !strcmp(requests[i].route, route)) {
            requests[i].count++;
            return;
        }
    if (nrequests < MAX_SERIES)
        requests[nrequests++] = (series_t){route, status, 1};
}

void metrics_generation(double first_token_ms, size_t tokens) {
    generations_total++;
    tokens_total += tokens;
    if (first_token_ms >= 0)
        observe(&ttft, first_token_ms);
}

void metrics_retrieval(double ms) {
    observe(&retrieval, ms);
}

static void histogram(buf_t *out, const char *name, const char *help, const histogram_t *h) {
    buf_printf(out, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    unsigned long long cumulative = 0;
    for (size_t i = 0; i < NBUCKETS; i++) {
        cumulative += h->counts[i];
        buf_printf(out, "%s_bucket{le=\"%g\"} %llu\n", name, buckets_ms[i] / 1000.0, cumulative);
    }
    cumulative += h->counts[NBUCKETS];
    buf_printf(out, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %g\n%s_count %llu\n", name, cumulative,
               name, h->sum, name, h->n);
}

/* A label value with quotes, backslashes and newlines escaped. */
static void label(buf_t *out, const char *s) {
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            buf_append(out, "\\", 1);
        if (*s == '\n')
            buf_append_str(out, "\\n");
        else
            buf_append(out, s, 1);
    }
}

typedef struct {
    http_ctx_t *ctx;
    uint64_t call;
} scrape_t;

static void render(http_ctx_t *ctx, const cJSON *status) {
    buf_t out = BUF_INIT;
    buf_append_str(&out, "# HELP lca_http_requests_total HTTP responses by route and status.\n"
                         "# TYPE lca_http_requests_total counter\n");
    for (int i = 0; i < nrequests; i++) {
        buf_append_str(&out, "lca_http_requests_total{route=\"");
        label(&out, requests[i].route);
        buf_printf(&out, "\",status=\"%d\"} %llu\n", requests[i].status, requests[i].count);
    }
    histogram(&out, "lca_time_to_first_token_seconds",
              "From the request to the first token written to the client.", &ttft);
    histogram(&out, "lca_retrieval_seconds", "Retrieval across all shards, fused.", &retrieval);
    buf_printf(&out,
               "# HELP lca_tokens_streamed_total Tokens (lines) streamed to clients.\n"
               "# TYPE lca_tokens_streamed_total counter\nlca_tokens_streamed_total %llu\n"
               "# HELP lca_generations_total Generation requests finished.\n"
               "# TYPE lca_generations_total counter\nlca_generations_total %llu\n",
               tokens_total, generations_total);
    const cJSON *services = cJSON_GetObjectItemCaseSensitive(status, "services"), *s;
    buf_append_str(&out, "# HELP lca_workers Live workers per service.\n"
                         "# TYPE lca_workers gauge\n");
    cJSON_ArrayForEach(s, services) {
        buf_append_str(&out, "lca_workers{service=\"");
        label(&out, s->string);
        buf_printf(&out, "\"} %g\n",
                   cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(s, "workers")));
    }
    buf_append_str(&out, "# HELP lca_queue_depth Requests waiting for a worker, per service.\n"
                         "# TYPE lca_queue_depth gauge\n");
    cJSON_ArrayForEach(s, services) {
        buf_append_str(&out, "lca_queue_depth{service=\"");
        label(&out, s->string);
        buf_printf(&out, "\"} %g\n",
                   cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(s, "queued")));
    }
    buf_append_str(&out, "# HELP lca_requests_inflight Requests being served, per service.\n"
                         "# TYPE lca_requests_inflight gauge\n");
    cJSON_ArrayForEach(s, services) {
        buf_append_str(&out, "lca_requests_inflight{service=\"");
        label(&out, s->string);
        buf_printf(&out, "\"} %g\n",
                   cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(s, "inflight")));
    }
    collections_t *snapshot = collections_current(ctx->gateway->collections);
    collections_append_metrics(snapshot, &out);
    collections_release(&snapshot);
    http_reply(ctx, 200, "text/plain; version=0.0.4; charset=utf-8", out.data, out.len);
    buf_free(&out);
}

static void on_status(void *arg, const proto_msg_t *msg) {
    scrape_t *sc = arg;
    http_untrack(sc->ctx, sc->call);
    cJSON *status =
        cJSON_ParseWithLength(msg->header ? msg->header : "{}", msg->header ? msg->header_len : 2);
    render(sc->ctx, status);
    cJSON_Delete(status);
}

static void on_status_error(void *arg, int code, const char *message) {
    (void)code, (void)message;
    scrape_t *sc = arg;
    http_untrack(sc->ctx, sc->call);
    render(sc->ctx, NULL);
}

int metrics_handle(http_ctx_t *ctx) {
    static const bridge_callbacks_t callbacks = {NULL, on_status, on_status_error};
    scrape_t *sc = h2o_mem_alloc_pool(&ctx->req->pool, sizeof *sc);
    sc->ctx = ctx;
    sc->call = http_call(ctx, "broker.status", NULL, NULL, 0, ctx->gateway->status_timeout_ms,
                         &callbacks, sc);
    if (!sc->call)
        render(ctx, NULL);
    return 0;
}
