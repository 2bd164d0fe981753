/*
 * gateway/events: Server-Sent Events framing, as a reader following the
 * HTML standard's parser splits it back.  The stream itself (hello, request
 * events, the cap on streams, the key and origin rules) is tested over HTTP
 * in tests/ui/.
 */
#include "gateway/events.h"
#include "tests/test.h"

static char *framed(const char *name, const char *data) {
    static buf_t out;
    buf_reset(&out);
    events_frame(&out, name, data, strlen(data));
    return out.data;
}

TEST(one_line_of_data) {
    CHECK_STR(framed("request", "{\"id\":1}"), "event: request\ndata: {\"id\":1}\n\n");
    CHECK_STR(framed("resync", "{}"), "event: resync\ndata: {}\n\n");
}

TEST(every_line_of_data_gets_its_own_field) {
    /* LF, CRLF and a lone CR all end a line in SSE: none may end the event
     * early or smuggle a field in. */
    CHECK_STR(framed("x", "a\nb"), "event: x\ndata: a\ndata: b\n\n");
    CHECK_STR(framed("x", "a\r\nb"), "event: x\ndata: a\ndata: b\n\n");
    CHECK_STR(framed("x", "a\rb"), "event: x\ndata: a\ndata: b\n\n");
    CHECK_STR(framed("x", "a\n\nevent: evil"), "event: x\ndata: a\ndata: \ndata: event: evil\n\n");
    CHECK_STR(framed("x", "a\n"), "event: x\ndata: a\ndata: \n\n");
}

TEST(empty_data_is_one_empty_field) {
    CHECK_STR(framed("hello", ""), "event: hello\ndata: \n\n");
}

TEST(nobody_listens_until_a_stream_opens) {
    CHECK_INT(events_clients(), ==, 0);
    CHECK(EVENTS_CLIENTS_MAX >= 1 && EVENTS_QUEUE_MAX >= 64 * 1024);
    CHECK(EVENTS_HEARTBEAT_MS > EVENTS_POLL_MS);
}

TEST_MAIN(TEST_CASE(one_line_of_data), TEST_CASE(every_line_of_data_gets_its_own_field),
          TEST_CASE(empty_data_is_one_empty_field), TEST_CASE(nobody_listens_until_a_stream_opens))
