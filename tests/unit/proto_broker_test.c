/* The broker's limits (broker.h), with a broker in this process made small
 * and peers this test drives over the wire by hand: a caller naming services
 * at random fills a bounded table and gets 503 "too many services", and a
 * worker still finds room among services nobody serves; workers past the
 * limit are sent away with the reason; requests waiting for workers hold a
 * bounded number of bytes in all.  Each limit, when first reached, is one
 * warning in the broker's log, and broker.status counts the refusals. */
#include "tests/unit/proto_peers.h"

/* ---- requests and workers by hand ---- */

static int request(void *s, uint64_t id, const char *service, size_t payload_len) {
    char *payload = calloc(1, payload_len + 1);
    int rc = proto_send(s, NULL, 0,
                        &(proto_out_t){.cmd = PROTO_REQUEST,
                                       .id = id,
                                       .service = service,
                                       .payload = payload,
                                       .payload_len = payload_len,
                                       .has_payload = true});
    free(payload);
    return rc;
}

static int ready(void *s, const char *service) {
    return proto_send(s, NULL, 0,
                      &(proto_out_t){.cmd = PROTO_READY,
                                     .service = service,
                                     .header = "{\"capacity\":1,\"host\":\"test\",\"pid\":1}"});
}

/* The next message for s is an ERROR for id whose message holds text, with status 503. */
static bool error_for(void *s, uint64_t id, const char *text) {
    proto_msg_t m;
    if (!next(s, &m))
        return false;
    int status = 0;
    char message[256] = "";
    if (m.cmd == PROTO_ERROR)
        proto_error_parse(&m, &status, message, sizeof message);
    bool ok = m.cmd == PROTO_ERROR && m.id == id && status == 503 && strstr(message, text);
    if (!ok)
        fprintf(stderr, "  wanted ERROR 503 for %llu holding \"%s\"; got %s for %llu: %d %s\n",
                (unsigned long long)id, text, proto_cmd_name(m.cmd), (unsigned long long)m.id,
                status, message);
    proto_msg_close(&m);
    return ok;
}

/* ---- tests ---- */

TEST(callers_naming_services_at_random_fill_a_bounded_table) {
    REQUIRE(broker_start(&(broker_config_t){.services_max = 4, .heartbeat_ms = 2000}));
    void *client = peer(0);
    REQUIRE(client);
    /* Four services nobody serves: their requests wait (for five heartbeats). */
    char name[16];
    for (int i = 1; i <= 4; i++) {
        snprintf(name, sizeof name, "s%d", i);
        CHECK_INT(request(client, (uint64_t)i, name, 10), ==, 0);
    }
    /* A fifth and a sixth find the table full: nothing in it may be freed. */
    CHECK_INT(request(client, 5, "s5", 10), ==, 0);
    CHECK(error_for(client, 5, "too many services"));
    CHECK_INT(request(client, 6, "s6", 10), ==, 0);
    CHECK(error_for(client, 6, "too many services"));
    int services = 0;
    workers_of(client, "s1", &services);
    CHECK_INT(services, ==, 4);
    CHECK_INT(status_number(client, "limits", "services"), ==, 4);
    CHECK_INT(status_number(client, "refused", "services"), ==, 2);
    /* One warning that names the limit, not one per refusal. */
    CHECK_INT(log_count("the broker holds the most services it may (4): refused a request for "
                        "service s5"),
              ==, 1);
    CHECK_INT(log_count("the most services it may"), ==, 1);

    /* A worker for a new service is let in: a service that only has a
     * request queued makes room, and that request fails at once. */
    void *worker = peer(1);
    REQUIRE(worker);
    CHECK_INT(ready(worker, "real"), ==, 0);
    proto_msg_t m;
    CHECK(next(client, &m) && m.cmd == PROTO_ERROR && m.id >= 1 && m.id <= 4);
    int status_code = 0;
    char message[256] = "";
    proto_error_parse(&m, &status_code, message, sizeof message);
    CHECK_INT(status_code, ==, 503);
    CHECK(strstr(message, "needed its room for a service with a worker") != NULL);
    proto_msg_close(&m);
    CHECK(wait_workers(client, "real", 1));
    workers_of(client, "real", &services);
    CHECK_INT(services, ==, 4);
    CHECK_INT(log_count("the broker has room for services again (2 refused meanwhile)"), ==, 1);
    /* And it serves. */
    CHECK_INT(request(client, 7, "real", 3), ==, 0);
    CHECK(next(worker, &m) && m.cmd == PROTO_REQUEST && m.payload_len == 3);
    uint64_t broker_id = m.id;
    proto_msg_close(&m);
    CHECK_INT(proto_send(worker, NULL, 0,
                         &(proto_out_t){.cmd = PROTO_FINAL, .id = broker_id, .header = "{}"}),
              ==, 0);
    CHECK(next(client, &m) && m.cmd == PROTO_FINAL && m.id == 7);
    proto_msg_close(&m);
    everything_stop();
}

TEST(a_table_of_served_services_sends_one_more_worker_away_with_the_reason) {
    REQUIRE(broker_start(&(broker_config_t){.services_max = 2, .heartbeat_ms = 2000}));
    void *client = peer(0), *x = peer(1), *y = peer(2), *z = peer(3);
    REQUIRE(client && x && y && z);
    CHECK_INT(ready(x, "x"), ==, 0);
    CHECK_INT(ready(y, "y"), ==, 0);
    CHECK(wait_workers(client, "x", 1) && wait_workers(client, "y", 1));
    CHECK_INT(ready(z, "z"), ==, 0);
    proto_msg_t m;
    CHECK(next(z, &m) && m.cmd == PROTO_DISCONNECT);
    cJSON *h = cJSON_ParseWithLength(m.header, m.header_len);
    const char *why = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(h, "message"));
    CHECK(why && strstr(why, "the broker has 2 services with workers, the most it holds"));
    cJSON_Delete(h);
    proto_msg_close(&m);
    CHECK_INT(log_count("the broker holds the most services it may (2): refused a worker for "
                        "service z"),
              ==, 1);
    /* A caller naming yet another service is refused too, and the served
     * ones go on serving. */
    CHECK_INT(request(client, 1, "elsewhere", 0), ==, 0);
    CHECK(error_for(client, 1, "too many services"));
    CHECK_INT(workers_of(client, "x", NULL), ==, 1);
    CHECK_INT(workers_of(client, "y", NULL), ==, 1);
    everything_stop();
}

TEST(workers_past_the_limit_are_sent_away_with_the_reason) {
    REQUIRE(broker_start(&(broker_config_t){.workers_max = 2, .heartbeat_ms = 2000}));
    void *client = peer(0), *w1 = peer(1), *w2 = peer(2), *w3 = peer(3);
    REQUIRE(client && w1 && w2 && w3);
    CHECK_INT(ready(w1, "svc"), ==, 0);
    CHECK_INT(ready(w2, "svc"), ==, 0);
    CHECK(wait_workers(client, "svc", 2));
    CHECK_INT(ready(w3, "other"), ==, 0);
    proto_msg_t m;
    CHECK(next(w3, &m) && m.cmd == PROTO_DISCONNECT);
    cJSON *h = cJSON_ParseWithLength(m.header, m.header_len);
    const char *why = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(h, "message"));
    CHECK(why && strstr(why, "the broker has 2 workers, the most it holds"));
    cJSON_Delete(h);
    proto_msg_close(&m);
    CHECK_INT(log_count("the broker holds the most workers it may (2): refused a worker for other"),
              ==, 1);
    CHECK_INT(status_number(client, "refused", "workers"), ==, 1);
    CHECK_INT(workers_of(client, "other", NULL), ==, 0);
    /* One leaves: there is room again. */
    CHECK_INT(proto_send(w1, NULL, 0, &(proto_out_t){.cmd = PROTO_DISCONNECT}), ==, 0);
    CHECK(wait_workers(client, "svc", 1));
    CHECK_INT(ready(w3, "other"), ==, 0);
    CHECK(wait_workers(client, "other", 1));
    CHECK(!waiting(w3));
    CHECK_INT(log_count("the broker has room for workers again (1 refused meanwhile)"), ==, 1);
    everything_stop();
}

TEST(requests_waiting_for_workers_hold_bounded_bytes_in_all) {
    REQUIRE(broker_start(&(broker_config_t){.queued_bytes_max = 1000, .heartbeat_ms = 2000}));
    void *client = peer(0), *worker_a = peer(1), *worker_b = peer(2);
    REQUIRE(client && worker_a && worker_b);
    CHECK_INT(request(client, 1, "a", 600), ==, 0);
    CHECK_INT(request(client, 2, "b", 600), ==, 0); /* 1200 bytes would wait */
    CHECK(error_for(client, 2, "the broker's queues are full"));
    CHECK_INT(request(client, 3, "a", 300), ==, 0); /* 900 */
    CHECK_INT(status_number(client, NULL, "queued_bytes"), ==, 900);
    CHECK_INT(status_number(client, "refused", "queued_bytes"), ==, 1);
    CHECK_INT(log_count("the broker holds the most queued bytes it may (1000): refused a request "
                        "of 600 bytes for b"),
              ==, 1);
    /* A request a free worker takes at once does not wait: it passes. */
    CHECK_INT(ready(worker_b, "b"), ==, 0);
    CHECK(wait_workers(client, "b", 1));
    CHECK_INT(request(client, 4, "b", 600), ==, 0);
    proto_msg_t m;
    CHECK(next(worker_b, &m) && m.cmd == PROTO_REQUEST && m.payload_len == 600);
    proto_msg_close(&m);
    /* A worker for a takes its first request: those bytes no longer wait. */
    CHECK_INT(ready(worker_a, "a"), ==, 0);
    CHECK(next(worker_a, &m) && m.cmd == PROTO_REQUEST && m.payload_len == 600);
    proto_msg_close(&m);
    CHECK_INT(status_number(client, NULL, "queued_bytes"), ==, 300);
    CHECK(!waiting(client));
    everything_stop();
}

TEST_MAIN(TEST_CASE(callers_naming_services_at_random_fill_a_bounded_table),
          TEST_CASE(a_table_of_served_services_sends_one_more_worker_away_with_the_reason),
          TEST_CASE(workers_past_the_limit_are_sent_away_with_the_reason),
          TEST_CASE(requests_waiting_for_workers_hold_bounded_bytes_in_all))
