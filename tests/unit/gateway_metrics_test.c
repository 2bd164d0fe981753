/*
 * gateway/metrics: counters and histograms fed plain values, rendered in
 * Prometheus's text format, without a server.  The registry is one per
 * process, so the cases run in order and each checks what it added.
 */
#include "gateway/metrics.h"
#include "tests/test.h"

/* The page as rendered now, with the broker status given (JSON text or NULL). */
static void render(const char *status_json, buf_t *out) {
    cJSON *status = status_json ? cJSON_Parse(status_json) : NULL;
    buf_reset(out);
    metrics_render(status, out);
    cJSON_Delete(status);
}

/* True when the page has this whole line (says so on stderr when not). */
static bool has_line(const buf_t *page, const char *line) {
    size_t n = strlen(line);
    for (const char *p = page->data; p && (p = strstr(p, line)); p++)
        if ((p == page->data || p[-1] == '\n') && p[n] == '\n')
            return true;
    fprintf(stderr, "  no line \"%s\"\n", line);
    return false;
}

/* Checks that the page has every line given. */
#define CHECK_LINES(page, ...)                                                                     \
    do {                                                                                           \
        const char *lines_[] = {__VA_ARGS__, NULL};                                                \
        for (int i_ = 0; lines_[i_]; i_++)                                                         \
            CHECK(has_line(page, lines_[i_]));                                                     \
    } while (0)

TEST(an_empty_page_has_every_family) {
    buf_t page = BUF_INIT;
    render(NULL, &page);
    CHECK_LINES(&page, "# TYPE lca_http_requests_total counter",
                "# TYPE lca_time_to_first_token_seconds histogram",
                "lca_time_to_first_token_seconds_bucket{le=\"+Inf\"} 0",
                "# TYPE lca_retrieval_seconds histogram", "lca_retrieval_seconds_count 0",
                "lca_tokens_streamed_total 0", "lca_generations_total 0");
    /* No broker status: the gauges are declared, with no samples. */
    CHECK_LINES(&page, "# TYPE lca_workers gauge", "# TYPE lca_queue_depth gauge",
                "# TYPE lca_requests_inflight gauge");
    CHECK(strstr(page.data, "lca_workers{") == NULL);
    buf_free(&page);
}

TEST(responses_count_by_route_and_status) {
    metrics_response("/api/chat", 200);
    metrics_response("/api/chat", 200);
    metrics_response("/api/chat", 500);
    metrics_response("other", 404);
    char route[] = "/api/chat"; /* the same route by value, not by address */
    metrics_response(route, 200);
    buf_t page = BUF_INIT;
    render(NULL, &page);
    CHECK_LINES(&page, "lca_http_requests_total{route=\"/api/chat\",status=\"200\"} 3",
                "lca_http_requests_total{route=\"/api/chat\",status=\"500\"} 1",
                "lca_http_requests_total{route=\"other\",status=\"404\"} 1");
    buf_free(&page);
}

TEST(latencies_fill_cumulative_buckets_in_seconds) {
    metrics_retrieval(0.5, false);
    metrics_retrieval(1, false); /* a bucket's bound is inside it */
    metrics_retrieval(3, false);
    metrics_retrieval(2e4, true); /* beyond the last bound, and out of time */
    buf_t page = BUF_INIT;
    render(NULL, &page);
    CHECK_LINES(&page, "lca_retrieval_seconds_bucket{le=\"0.001\"} 2",
                "lca_retrieval_seconds_bucket{le=\"0.0025\"} 2",
                "lca_retrieval_seconds_bucket{le=\"0.005\"} 3",
                "lca_retrieval_seconds_bucket{le=\"10\"} 3",
                "lca_retrieval_seconds_bucket{le=\"+Inf\"} 4", "lca_retrieval_seconds_sum 20.0045",
                "lca_retrieval_seconds_count 4", "lca_retrieval_timeouts_total 1",
                "lca_time_to_first_token_seconds_count 0");
    buf_free(&page);
}

TEST(generations_count_tokens_and_first_tokens) {
    metrics_generation(-1, 5); /* no token came: no time to observe */
    metrics_generation(12, 3);
    buf_t page = BUF_INIT;
    render(NULL, &page);
    CHECK_LINES(&page, "lca_generations_total 2", "lca_tokens_streamed_total 8",
                "lca_time_to_first_token_seconds_bucket{le=\"0.01\"} 0",
                "lca_time_to_first_token_seconds_bucket{le=\"0.025\"} 1",
                "lca_time_to_first_token_seconds_count 1");
    buf_free(&page);
}

TEST(broker_services_become_gauges_with_escaped_labels) {
    buf_t page = BUF_INIT;
    render("{\"services\":{\"embed\":{\"workers\":2,\"queued\":1,\"inflight\":3},"
           "\"odd\\\"na\\\\me\\n\":{\"workers\":0,\"queued\":0,\"inflight\":0}}}",
           &page);
    CHECK_LINES(&page, "lca_workers{service=\"embed\"} 2", "lca_queue_depth{service=\"embed\"} 1",
                "lca_requests_inflight{service=\"embed\"} 3",
                "lca_workers{service=\"odd\\\"na\\\\me\\n\"} 0");
    /* A route label is escaped the same way. */
    metrics_response("/we\"ird", 200);
    render(NULL, &page);
    CHECK(has_line(&page, "lca_http_requests_total{route=\"/we\\\"ird\",status=\"200\"} 1"));
    buf_free(&page);
}

TEST(the_label_set_is_bounded) {
    /* Statuses are few in practice; whatever comes, at most 256 series. */
    for (int status = 1000; status < 1400; status++)
        metrics_response("other", status);
    buf_t page = BUF_INIT;
    render(NULL, &page);
    int series = 0;
    for (const char *p = page.data; (p = strstr(p, "\nlca_http_requests_total{")); p++)
        series++;
    CHECK_INT(series, ==, 256);
    /* Series already known still count. */
    metrics_response("/api/chat", 200);
    render(NULL, &page);
    CHECK(has_line(&page, "lca_http_requests_total{route=\"/api/chat\",status=\"200\"} 4"));
    buf_free(&page);
}

TEST_MAIN(TEST_CASE(an_empty_page_has_every_family), TEST_CASE(responses_count_by_route_and_status),
          TEST_CASE(latencies_fill_cumulative_buckets_in_seconds),
          TEST_CASE(generations_count_tokens_and_first_tokens),
          TEST_CASE(broker_services_become_gauges_with_escaped_labels),
          TEST_CASE(the_label_set_is_bounded))
