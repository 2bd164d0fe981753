/*
 * Metrics (see metrics.h).  Routes are the route table's paths (unknown
 * paths count as "other", so a scanner cannot grow the label set), statuses
 * are the few the gateway answers with; both live in small fixed tables.
 */
#include "gateway/metrics.h"

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
static unsigned long long tokens_total, generations_total, retrieval_timeouts;

static void observe(histogram_t *h, double ms) {
    size_t i = 0;
    while (i < NBUCKETS && ms > buckets_ms[i])
        i++;
    h->counts[i]++;
    h->sum += ms / 1000.0;
    h->n++;
}

void metrics_response(const char *route, int status) {
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

void metrics_retrieval(double ms, bool timed_out) {
    observe(&retrieval, ms);
    retrieval_timeouts += timed_out;
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

void metrics_label(buf_t *out, const char *s) {
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            buf_append(out, "\\", 1);
        if (*s == '\n')
            buf_append_str(out, "\\n");
        else
            buf_append(out, s, 1);
    }
}

/* One gauge per service of the broker's status: field of each service. */
static void gauge(buf_t *out, const char *name, const char *help, const cJSON *services,
                  const char *field) {
    buf_printf(out, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
    const cJSON *s;
    cJSON_ArrayForEach(s, services) {
        buf_printf(out, "%s{service=\"", name);
        metrics_label(out, s->string);
        buf_printf(out, "\"} %g\n",
                   cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(s, field)));
    }
}

void metrics_render(const cJSON *status, buf_t *out) {
    buf_append_str(out, "# HELP lca_http_requests_total HTTP responses by route and status.\n"
                        "# TYPE lca_http_requests_total counter\n");
    for (int i = 0; i < nrequests; i++) {
        buf_append_str(out, "lca_http_requests_total{route=\"");
        metrics_label(out, requests[i].route);
        buf_printf(out, "\",status=\"%d\"} %llu\n", requests[i].status, requests[i].count);
    }
    histogram(out, "lca_time_to_first_token_seconds",
              "From the request to the first token written to the client.", &ttft);
    histogram(out, "lca_retrieval_seconds", "Retrieval across all shards, fused.", &retrieval);
    buf_printf(out,
               "# HELP lca_retrieval_timeouts_total Retrievals whose deadline came before every "
               "shard answered.\n"
               "# TYPE lca_retrieval_timeouts_total counter\nlca_retrieval_timeouts_total %llu\n",
               retrieval_timeouts);
    buf_printf(out,
               "# HELP lca_tokens_streamed_total Tokens (lines) streamed to clients.\n"
               "# TYPE lca_tokens_streamed_total counter\nlca_tokens_streamed_total %llu\n"
               "# HELP lca_generations_total Generation requests finished.\n"
               "# TYPE lca_generations_total counter\nlca_generations_total %llu\n",
               tokens_total, generations_total);
    const cJSON *services = cJSON_GetObjectItemCaseSensitive(status, "services");
    gauge(out, "lca_workers", "Live workers per service.", services, "workers");
    gauge(out, "lca_queue_depth", "Requests waiting for a worker, per service.", services,
          "queued");
    gauge(out, "lca_requests_inflight", "Requests being served, per service.", services,
          "inflight");
}
