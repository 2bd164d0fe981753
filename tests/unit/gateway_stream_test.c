/*
 * gateway/stream: a streaming response on requests whose connection is the
 * test's (tests/loopback.h), so the test decides when h2o asks for more:
 * headers leave with the first bytes, bytes written while a send is in
 * flight leave together on the next proceed, nothing is lost or reordered,
 * the end waits for what is queued, a client that leaves stops the stream
 * once (and never after its end), and a closed HTTP/1.1 peer is seen
 * without reading.
 */
#include "gateway/stream.h"
#include "tests/loopback.h"
#include "tests/test.h"

static bool setup(void) {
    static bool tried, ok;
    if (!tried) {
        tried = true;
        ok = loopback_start(1);
    }
    return ok;
}

/* What on_stop saw. */
typedef struct {
    http_stream_t *stream;
    int stops;
    bool closed_then;
    size_t pending_before, pending_after; /* around a write made from on_stop */
} stopped_t;

static void on_stop(void *arg) {
    stopped_t *s = arg;
    s->stops++;
    s->closed_then = http_stream_closed(s->stream);
    s->pending_before = http_stream_pending(s->stream);
    http_stream_write(s->stream, "late", 4);
    s->pending_after = http_stream_pending(s->stream);
}

static loopback_req_t *manual_request(void) {
    loopback_req_t *r = loopback_request("GET", "/ui/events", NULL);
    r->manual = true;
    return r;
}

TEST(headers_leave_with_the_first_bytes) {
    REQUIRE(setup());
    loopback_req_t *r = manual_request();
    http_stream_t *s = http_stream_start(&r->req, 200, "text/event-stream", NULL, NULL);
    REQUIRE(s);
    CHECK_INT(r->req.res.status, ==, 200);
    CHECK_STR(loopback_response_header(r, "content-type"), "text/event-stream");
    CHECK_STR(loopback_response_header(r, "cache-control"), "no-cache");
    CHECK_INT(r->sends, ==, 0);
    CHECK(!http_stream_started(s) && !http_stream_closed(s));
    CHECK_INT(http_stream_pending(s), ==, 0);
    http_stream_write(s, "", 0); /* nothing to say is not a write */
    CHECK_INT(r->sends, ==, 0);
    CHECK(!http_stream_started(s));
    http_stream_write(s, "data: a\n\n", 9);
    CHECK_INT(r->sends, ==, 1);
    CHECK_STR(loopback_body(r), "data: a\n\n");
    CHECK(http_stream_started(s) && !r->ended);
    loopback_free(r);
}

TEST(writes_during_a_send_leave_together_on_proceed) {
    REQUIRE(setup());
    loopback_req_t *r = manual_request();
    http_stream_t *s = http_stream_start(&r->req, 200, "application/x-ndjson", NULL, NULL);
    http_stream_write(s, "a", 1);
    CHECK_INT(r->sends, ==, 1);
    http_stream_write(s, "bc", 2);
    http_stream_write(s, "d", 1);
    CHECK_INT(r->sends, ==, 1); /* one send in flight at a time */
    CHECK_INT(http_stream_pending(s), ==, 4);
    loopback_proceed(r);
    CHECK_INT(r->sends, ==, 2); /* both, in one send */
    CHECK_STR(loopback_body(r), "abcd");
    CHECK_INT(http_stream_pending(s), ==, 3);
    loopback_proceed(r);
    CHECK_INT(r->sends, ==, 2); /* nothing left: no empty send */
    CHECK_INT(http_stream_pending(s), ==, 0);
    CHECK(!r->owed);
    http_stream_write(s, "e", 1); /* idle: out at once */
    CHECK_INT(r->sends, ==, 3);
    CHECK_STR(loopback_body(r), "abcde");
    CHECK(!r->ended && !http_stream_closed(s));
    loopback_free(r);
}

TEST(the_end_waits_for_what_is_queued) {
    REQUIRE(setup());
    loopback_req_t *r = manual_request();
    http_stream_t *s = http_stream_start(&r->req, 200, NULL, NULL, NULL);
    http_stream_write(s, "a", 1);
    http_stream_write(s, "b", 1);
    http_stream_end(s);
    http_stream_write(s, "x", 1); /* after the end: ignored */
    CHECK_INT(r->sends, ==, 1);
    CHECK(!r->ended);
    loopback_proceed(r);
    /* The queued byte and the end leave together. */
    CHECK_INT(r->sends, ==, 2);
    CHECK(r->ended && !r->failed);
    CHECK_STR(loopback_body(r), "ab");
    CHECK(http_stream_closed(s));
    http_stream_write(s, "y", 1);
    http_stream_end(s); /* twice: nothing more */
    CHECK_INT(r->sends, ==, 2);
    CHECK_STR(loopback_body(r), "ab");
    loopback_free(r);
    /* Idle when it ends: at once. */
    r = manual_request();
    s = http_stream_start(&r->req, 200, NULL, NULL, NULL);
    http_stream_write(s, "a", 1);
    loopback_proceed(r);
    http_stream_end(s);
    CHECK(r->ended);
    CHECK_INT(r->sends, ==, 2);
    CHECK_STR(loopback_body(r), "a");
    loopback_free(r);
}

TEST(an_end_without_a_byte_is_an_empty_response) {
    REQUIRE(setup());
    loopback_req_t *r = manual_request();
    http_stream_t *s = http_stream_start(&r->req, 200, "text/event-stream", NULL, NULL);
    http_stream_end(s);
    CHECK(r->ended);
    CHECK_INT(r->sends, ==, 1);
    CHECK_STR(loopback_body(r), "");
    CHECK(!http_stream_started(s));
    CHECK(http_stream_closed(s));
    loopback_free(r);
}

TEST(a_client_that_leaves_stops_the_stream_once) {
    REQUIRE(setup());
    stopped_t seen = {0};
    loopback_req_t *r = manual_request();
    seen.stream = http_stream_start(&r->req, 200, NULL, on_stop, &seen);
    http_stream_write(seen.stream, "a", 1);
    http_stream_write(seen.stream, "b", 1);
    /* h2o stops the generator of a request whose client went away. */
    loopback_free(r);
    CHECK_INT(seen.stops, ==, 1);
    CHECK(seen.closed_then);
    CHECK_INT(seen.pending_after, ==, seen.pending_before); /* writes ignored once closed */
}

TEST(after_its_end_a_stream_is_never_stopped) {
    REQUIRE(setup());
    /* Ended with a send still in flight, then the client leaves: the end
     * said the last word, so on_stop does not run. */
    stopped_t seen = {0};
    loopback_req_t *r = manual_request();
    seen.stream = http_stream_start(&r->req, 200, NULL, on_stop, &seen);
    http_stream_write(seen.stream, "a", 1);
    http_stream_end(seen.stream);
    CHECK(!r->ended);
    loopback_free(r);
    CHECK_INT(seen.stops, ==, 0);
    /* Ended and sent: the same. */
    seen = (stopped_t){0};
    r = manual_request();
    seen.stream = http_stream_start(&r->req, 200, NULL, on_stop, &seen);
    http_stream_write(seen.stream, "a", 1);
    loopback_proceed(r);
    http_stream_end(seen.stream);
    CHECK(r->ended);
    loopback_free(r);
    CHECK_INT(seen.stops, ==, 0);
}

TEST(many_writes_arrive_whole_and_in_order) {
    REQUIRE(setup());
    loopback_req_t *r = loopback_request("GET", "/ui/events", NULL); /* h2o proceeds on the loop */
    http_stream_t *s = http_stream_start(&r->req, 200, NULL, NULL, NULL);
    buf_t want = BUF_INIT;
    char piece[200];
    for (int i = 0; i < 2000; i++) {
        int n = snprintf(piece, sizeof piece, "%d:", i); /* i:, a run of x, a newline */
        memset(piece + n, 'x', (size_t)(i % 150));
        n += i % 150;
        piece[n++] = '\n';
        buf_append(&want, piece, (size_t)n);
        http_stream_write(s, piece, (size_t)n);
        if (i % 7 == 0)
            h2o_evloop_run(loopback.s.loop, 0);
    }
    http_stream_end(s);
    CHECK(loopback_wait(r, 5000));
    CHECK_INT(r->body.len, ==, want.len);
    CHECK(r->body.len == want.len && memcmp(r->body.data, want.data, want.len) == 0);
    CHECK(r->sends < 2000); /* queued writes went out together */
    buf_free(&want);
    loopback_free(r);
}

TEST(a_closed_peer_is_seen_without_reading) {
    REQUIRE(setup());
    loopback_req_t *r = manual_request();
    CHECK(!http_peer_closed(&r->req));
    loopback_hang_up(r);
    CHECK(http_peer_closed(&r->req));
    CHECK(http_peer_closed(&r->req)); /* peeking reads nothing */
    /* HTTP/2 says so itself (stop); no socket to look at, nothing seen. */
    r->req.version = 0x200;
    CHECK(!http_peer_closed(&r->req));
    r->req.version = 0x101;
    static const h2o_conn_callbacks_t no_socket = {.get_peername = loopback_address};
    const h2o_conn_callbacks_t *saved = r->conn.callbacks;
    r->conn.callbacks = &no_socket;
    CHECK(!http_peer_closed(&r->req));
    r->conn.callbacks = saved;
    loopback_free(r);
    /* Bytes from a client still there (a pipelined request) are no close. */
    r = manual_request();
    CHECK_INT(write(r->peer[1], "GET / HTTP/1.1\r\n", 16), ==, 16);
    CHECK(!http_peer_closed(&r->req));
    loopback_free(r);
}

TEST(everything_stops_clean) {
    REQUIRE(setup());
    loopback_stop();
    CHECK(loopback.s.broker == NULL);
}

TEST_MAIN(TEST_CASE(headers_leave_with_the_first_bytes),
          TEST_CASE(writes_during_a_send_leave_together_on_proceed),
          TEST_CASE(the_end_waits_for_what_is_queued),
          TEST_CASE(an_end_without_a_byte_is_an_empty_response),
          TEST_CASE(a_client_that_leaves_stops_the_stream_once),
          TEST_CASE(after_its_end_a_stream_is_never_stopped),
          TEST_CASE(many_writes_arrive_whole_and_in_order),
          TEST_CASE(a_closed_peer_is_seen_without_reading), TEST_CASE(everything_stops_clean))
