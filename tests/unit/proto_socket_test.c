/* Sockets made by proto_socket_new() keep what a peer can make this process
 * hold bounded: every type gets the high-water marks and the frame limit
 * socket.h promises; a frame over PROTO_PAYLOAD_MAX disconnects its sender
 * before it is held; a ROUTER refuses a send past a peer's mark (EAGAIN)
 * instead of dropping it.
 *
 * And settings_arg_long: the strict reading of numeric command-line
 * options, and the one line it prints when a value is refused. */
#include "tests/capture.h"
#include "tests/test.h"
#include "proto/base/settings.h"
#include "proto/socket.h"
#include "proto/wire.h"

#include <errno.h>
#include <limits.h>

/* ---- sockets ---- */

static int int_option(void *s, int option) {
    int value = -1;
    size_t size = sizeof value;
    return zmq_getsockopt(s, option, &value, &size) == 0 ? value : -2;
}

TEST(every_socket_type_gets_the_marks_and_the_frame_limit) {
    static const int types[] = {ZMQ_ROUTER, ZMQ_DEALER, ZMQ_PUSH, ZMQ_PULL, ZMQ_PAIR, ZMQ_REP};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        void *s = proto_socket_new(types[i]);
        REQUIRE(s);
        CHECK_INT(int_option(s, ZMQ_LINGER), ==, 0);
        CHECK_INT(int_option(s, ZMQ_RCVHWM), ==, PROTO_SOCKET_HWM);
        /* Only a ROUTER holds messages for others (0: what the process sends itself). */
        CHECK_INT(int_option(s, ZMQ_SNDHWM), ==, types[i] == ZMQ_ROUTER ? PROTO_SOCKET_HWM : 0);
        int64_t max_frame = 0;
        size_t size = sizeof max_frame;
        CHECK_INT(zmq_getsockopt(s, ZMQ_MAXMSGSIZE, &max_frame, &size), ==, 0);
        CHECK_INT(max_frame, ==, PROTO_PAYLOAD_MAX);
        proto_socket_close(&s);
        CHECK(s == NULL);
    }
}

/* Waits for event on a monitor socket; false when it does not come within 10 s. */
static bool monitor_sees(void *monitor, int event) {
    zmq_pollitem_t item = {.socket = monitor, .events = ZMQ_POLLIN};
    while (zmq_poll(&item, 1, 10000) > 0) {
        zmq_msg_t head, address;
        zmq_msg_init(&head);
        zmq_msg_init(&address);
        int got = -1;
        if (zmq_msg_recv(&head, monitor, 0) >= 6) {
            uint16_t id;
            memcpy(&id, zmq_msg_data(&head), sizeof id);
            got = id;
        }
        zmq_msg_recv(&address, monitor, 0); /* the second frame: the endpoint */
        zmq_msg_close(&head);
        zmq_msg_close(&address);
        if (got == event)
            return true;
    }
    return false;
}

TEST(a_frame_over_the_limit_disconnects_its_sender_unread) {
    void *router = proto_socket_new(ZMQ_ROUTER);
    REQUIRE(router);
    REQUIRE(zmq_bind(router, "tcp://127.0.0.1:*") == 0);
    char endpoint[64];
    size_t len = sizeof endpoint;
    REQUIRE(zmq_getsockopt(router, ZMQ_LAST_ENDPOINT, endpoint, &len) == 0);
    REQUIRE(zmq_socket_monitor(router, "inproc://socket-test-monitor", ZMQ_EVENT_DISCONNECTED) ==
            0);
    void *monitor = zmq_socket(proto_context(), ZMQ_PAIR);
    REQUIRE(monitor && zmq_connect(monitor, "inproc://socket-test-monitor") == 0);
    /* A peer of zmq's defaults, which sends any size. */
    void *sender = zmq_socket(proto_context(), ZMQ_DEALER);
    int zero = 0;
    zmq_setsockopt(sender, ZMQ_LINGER, &zero, sizeof zero);
    REQUIRE(sender && zmq_connect(sender, endpoint) == 0);
    /* A small frame arrives. */
    CHECK_INT(zmq_send(sender, "hello", 5, 0), ==, 5);
    zmq_pollitem_t item = {.socket = router, .events = ZMQ_POLLIN};
    CHECK_INT(zmq_poll(&item, 1, 5000), ==, 1);
    char frame[16];
    CHECK_INT(zmq_recv(router, frame, sizeof frame, 0), >, 0); /* the routing id */
    CHECK_INT(zmq_recv(router, frame, sizeof frame, 0), ==, 5);
    /* One byte over the limit: the connection is dropped, and nothing is
     * delivered (calloc's zeroes: pages the kernel maps lazily). */
    size_t big = (size_t)PROTO_PAYLOAD_MAX + 1;
    void *bytes = calloc(1, big);
    REQUIRE(bytes);
    zmq_msg_t msg;
    REQUIRE(zmq_msg_init_data(&msg, bytes, big, NULL, NULL) == 0);
    CHECK_INT(zmq_msg_send(&msg, sender, 0), ==, (int)big);
    CHECK(monitor_sees(monitor, ZMQ_EVENT_DISCONNECTED));
    CHECK_INT(zmq_poll(&item, 1, 0), ==, 0);
    zmq_close(sender);
    free(bytes);
    zmq_socket_monitor(router, NULL, 0);
    zmq_close(monitor);
    proto_socket_close(&router);
}

TEST(a_router_refuses_sends_past_a_peers_mark_instead_of_dropping_them) {
    void *router = proto_socket_new(ZMQ_ROUTER);
    REQUIRE(router && zmq_bind(router, "inproc://socket-test-mark") == 0);
    /* A peer that never reads, with zmq's default receive mark (1000). */
    void *slow = zmq_socket(proto_context(), ZMQ_DEALER);
    int zero = 0;
    zmq_setsockopt(slow, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(slow, ZMQ_ROUTING_ID, "slow", 4);
    REQUIRE(slow && zmq_connect(slow, "inproc://socket-test-mark") == 0);
    CHECK_INT(zmq_send(slow, "hi", 2, 0), ==, 2); /* the router learns the route */
    char frame[16];
    CHECK_INT(zmq_recv(router, frame, sizeof frame, 0), ==, 4);
    CHECK_INT(zmq_recv(router, frame, sizeof frame, 0), ==, 2);
    /* Over inproc the pipe holds the router's mark and the peer's, exactly;
     * past them a send fails (a ROUTER without ZMQ_ROUTER_MANDATORY would
     * report success and drop the message). */
    long sent = 0, limit = 10L * PROTO_SOCKET_HWM;
    int err = 0;
    while (sent < limit) {
        if (zmq_send(router, "slow", 4, ZMQ_SNDMORE | ZMQ_DONTWAIT) != 4) {
            err = errno;
            break;
        }
        if (zmq_send(router, "x", 1, ZMQ_DONTWAIT) != 1) {
            err = errno;
            break;
        }
        sent++;
    }
    CHECK_INT(err, ==, EAGAIN);
    CHECK_INT(sent, ==, PROTO_SOCKET_HWM + 1000);
    zmq_close(slow);
    proto_socket_close(&router);
}

/* ---- settings_arg_long ---- */

/* settings_arg_long with stderr caught into message (the line it printed, or
 * "" when it printed nothing). */
static bool arg_long(const char *text, long min, long max, long *out, char *message, size_t len) {
    capture_t err;
    capture_begin(&err, 2);
    bool ok = settings_arg_long("lca-test", "--n", text, min, max, out);
    char *printed = capture_end(&err);
    snprintf(message, len, "%s", printed ? printed : "");
    free(printed);
    return ok;
}

TEST(accepts_whole_numbers_in_range) {
    char message[256];
    long n = 0;
    CHECK(arg_long("1", 1, 256, &n, message, sizeof message));
    CHECK_INT(n, ==, 1);
    CHECK(arg_long("256", 1, 256, &n, message, sizeof message));
    CHECK_INT(n, ==, 256);
    CHECK(arg_long("-5", -10, 10, &n, message, sizeof message));
    CHECK_INT(n, ==, -5);
    CHECK(arg_long("+7", 0, 10, &n, message, sizeof message)); /* strtol's sign is fine */
    CHECK_INT(n, ==, 7);
    CHECK(arg_long("007", 0, 10, &n, message, sizeof message)); /* base 10, not octal */
    CHECK_INT(n, ==, 7);
    CHECK(arg_long("9223372036854775807", 0, LONG_MAX, &n, message, sizeof message));
    CHECK_INT(n, ==, LONG_MAX);
    CHECK_STR(message, ""); /* success is silent */
}

TEST(refuses_anything_else_and_leaves_out_alone) {
    /* Spaces are refused on either side: strtol would skip leading ones,
     * and a number that came with them was most likely quoted by mistake. */
    static const char *const junk[] = {
        "",
        "abc",
        "12abc",
        " 12",
        "12 ",
        "-",
        "+",
        "0x10",
        "1e3",
        "1.5",
        "12\n",
        "99999999999999999999",
        "-99999999999999999999",
    };
    char message[256];
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
        long n = 42;
        CHECK(!arg_long(junk[i], -1000, 1000, &n, message, sizeof message));
        CHECK_INT(n, ==, 42);
        CHECK(message[0] != '\0');
    }
}

TEST(refuses_out_of_range) {
    char message[256];
    long n = 42;
    CHECK(!arg_long("0", 1, 256, &n, message, sizeof message));
    CHECK(!arg_long("257", 1, 256, &n, message, sizeof message));
    CHECK(!arg_long("-6", -5, 5, &n, message, sizeof message));
    CHECK_INT(n, ==, 42);
}

TEST(says_what_it_wants_in_one_line) {
    char message[256];
    long n;
    CHECK(!arg_long("abc", 1, 256, &n, message, sizeof message));
    CHECK_STR(message, "lca-test: --n wants a whole number from 1 to 256, not \"abc\"\n");
    /* No upper bound is printed when there is none. */
    CHECK(!arg_long("12abc", 100, LONG_MAX, &n, message, sizeof message));
    CHECK_STR(message, "lca-test: --n wants a whole number of at least 100, not \"12abc\"\n");
}

TEST_MAIN(TEST_CASE(every_socket_type_gets_the_marks_and_the_frame_limit),
          TEST_CASE(a_frame_over_the_limit_disconnects_its_sender_unread),
          TEST_CASE(a_router_refuses_sends_past_a_peers_mark_instead_of_dropping_them),
          TEST_CASE(accepts_whole_numbers_in_range),
          TEST_CASE(refuses_anything_else_and_leaves_out_alone), TEST_CASE(refuses_out_of_range),
          TEST_CASE(says_what_it_wants_in_one_line))
