/* The wire codec: every command round-trips through real sockets; malformed
 * frames are rejected with a reason, never crash. */
#include "proto/socket.h"
#include "proto/wire.h"
#include "tests/test.h"

#include <errno.h>

static void *pair_a, *pair_b;

static void pair_open(void) {
    static int n;
    char ep[64];
    snprintf(ep, sizeof ep, "inproc://wire-test-%d", n++);
    pair_a = proto_socket_new(ZMQ_PAIR);
    pair_b = proto_socket_new(ZMQ_PAIR);
    zmq_bind(pair_a, ep);
    zmq_connect(pair_b, ep);
}

static void pair_close(void) {
    proto_socket_close(&pair_a);
    proto_socket_close(&pair_b);
}

/* Sends raw frames on pair_b (as a hostile peer would) on pair_a. */
static void send_raw(const proto_frame_t *frames, size_t n) {
    for (size_t i = 0; i < n; i++)
        zmq_send(pair_a, frames[i].data, frames[i].size, i + 1 < n ? ZMQ_SNDMORE : 0);
}

TEST(round_trip_every_command) {
    pair_open();
    static const proto_out_t cases[] = {
        {.cmd = PROTO_READY, .service = "generate", .header = "{\"capacity\":4}"},
        {.cmd = PROTO_REQUEST,
         .id = 7,
         .service = "embed",
         .header = "{\"a\":[1,2]}",
         .payload = "\x00\x01\x02",
         .payload_len = 3},
        {.cmd = PROTO_PARTIAL, .id = 7, .payload = "tok", .payload_len = 3},
        {.cmd = PROTO_FINAL, .id = UINT64_MAX, .header = "{}"},
        {.cmd = PROTO_ERROR, .id = 9, .header = "{\"status\":502,\"message\":\"x\"}"},
        {.cmd = PROTO_CANCEL, .id = 9},
        {.cmd = PROTO_HEARTBEAT},
        {.cmd = PROTO_DISCONNECT},
        {.cmd = PROTO_PARTIAL, .id = 1, .has_payload = true}, /* empty payload frame */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const proto_out_t *out = &cases[i];
        CHECK_INT(proto_send(pair_a, NULL, 0, out), ==, 0);
        proto_msg_t msg;
        char why[128] = "";
        REQUIRE(proto_recv(pair_b, false, &msg, 0, why, sizeof why) == 0);
        CHECK_INT(msg.cmd, ==, out->cmd);
        CHECK(msg.id == out->id);
        CHECK_STR(msg.service, out->service ? out->service : "");
        size_t hlen = out->header ? strlen(out->header) : 0;
        CHECK_INT(msg.header_len, ==, hlen);
        if (hlen)
            CHECK(memcmp(msg.header, out->header, hlen) == 0);
        bool has_payload = out->payload || out->has_payload;
        CHECK_INT(msg.payload != NULL, ==, has_payload);
        CHECK_INT(msg.payload_len, ==, out->payload_len);
        if (out->payload_len)
            CHECK(memcmp(msg.payload, out->payload, out->payload_len) == 0);
        proto_msg_close(&msg);
    }
    pair_close();
}

TEST(send_refuses_what_would_not_decode) {
    pair_open();
    CHECK_INT(proto_send(pair_a, NULL, 0, &(proto_out_t){.cmd = PROTO_REQUEST, .id = 1}), ==,
              -EINVAL); /* no service */
    CHECK_INT(
        proto_send(pair_a, NULL, 0, &(proto_out_t){.cmd = PROTO_REQUEST, .id = 0, .service = "x"}),
        ==, -EINVAL); /* no id */
    CHECK_INT(
        proto_send(pair_a, NULL, 0, &(proto_out_t){.cmd = PROTO_FINAL, .id = 1, .header = "[1]"}),
        ==, -EINVAL); /* header not an object */
    CHECK_INT(proto_send(pair_a, NULL, 0,
                         &(proto_out_t){.cmd = PROTO_REQUEST, .id = 1, .service = "Bad Name"}),
              ==, -EINVAL);
    pair_close();
}

static int decode(const proto_frame_t *f, size_t n, char *why) {
    proto_msg_t msg;
    return proto_decode(f, n, &msg, why, 128);
}

TEST(malformed_frames_are_rejected) {
    static const char sig[4] = {'L', 'C', 'A', PROTO_VERSION};
    static const char old_sig[4] = {'L', 'C', 'A', PROTO_VERSION + 1};
    unsigned char id1[8] = {1}, id0[8] = {0}, req = PROTO_REQUEST, fin = PROTO_FINAL, bad = 99;
    char why[128];
    proto_frame_t good[6] = {{sig, 4}, {&req, 1}, {id1, 8}, {"svc", 3}, {"{}", 2}, {"p", 1}};
    CHECK_INT(decode(good, 6, why), ==, 0);
    CHECK_INT(decode(good, 5, why), ==, 0);

    CHECK_INT(decode(good, 4, why), ==, -EPROTO); /* truncated */
    CHECK(strstr(why, "too few") != NULL);

    proto_frame_t f[6];
    memcpy(f, good, sizeof f);
    f[0] = (proto_frame_t){old_sig, 4};
    CHECK_INT(decode(f, 6, why), ==, -EPROTO);
    CHECK(strstr(why, "version") != NULL);

    memcpy(f, good, sizeof f);
    f[0] = (proto_frame_t){"GET ", 4}; /* garbage */
    CHECK_INT(decode(f, 6, why), ==, -EPROTO);

    memcpy(f, good, sizeof f);
    f[1] = (proto_frame_t){&bad, 1};
    CHECK_INT(decode(f, 6, why), ==, -EPROTO);
    CHECK(strstr(why, "unknown command") != NULL);

    memcpy(f, good, sizeof f);
    f[2] = (proto_frame_t){id1, 7};
    CHECK_INT(decode(f, 6, why), ==, -EPROTO);

    memcpy(f, good, sizeof f);
    f[2] = (proto_frame_t){id0, 8};
    CHECK_INT(decode(f, 6, why), ==, -EPROTO);
    CHECK(strstr(why, "needs an id") != NULL);

    memcpy(f, good, sizeof f);
    f[4] = (proto_frame_t){"{\"a\":", 5};
    CHECK_INT(decode(f, 6, why), ==, -EPROTO);
    CHECK(strstr(why, "header") != NULL);

    memcpy(f, good, sizeof f);
    f[1] = (proto_frame_t){&fin, 1}; /* FINAL with a service name */
    CHECK_INT(decode(f, 6, why), ==, -EPROTO);

    static char big[PROTO_HEADER_MAX + 2];
    memset(big, ' ', sizeof big);
    big[0] = '{';
    big[sizeof big - 1] = '}';
    memcpy(f, good, sizeof f);
    f[4] = (proto_frame_t){big, sizeof big}; /* oversized header */
    CHECK_INT(decode(f, 6, why), ==, -EPROTO);
    CHECK(strstr(why, "too large") != NULL);
}

TEST(garbage_on_a_socket_is_dropped_and_the_next_message_is_read) {
    pair_open();
    send_raw((proto_frame_t[]){{"hello", 5}}, 1);
    proto_frame_t seven[7];
    for (int i = 0; i < 7; i++)
        seven[i] = (proto_frame_t){"x", 1};
    send_raw(seven, 7); /* too many frames: must be drained whole */
    proto_send(pair_a, NULL, 0, &(proto_out_t){.cmd = PROTO_HEARTBEAT});
    proto_msg_t msg;
    char why[128];
    CHECK_INT(proto_recv(pair_b, false, &msg, 0, why, sizeof why), ==, -EPROTO);
    CHECK_INT(proto_recv(pair_b, false, &msg, 0, why, sizeof why), ==, -EPROTO);
    CHECK_INT(proto_recv(pair_b, false, &msg, 0, why, sizeof why), ==, 0);
    CHECK_INT(msg.cmd, ==, PROTO_HEARTBEAT);
    proto_msg_close(&msg);
    pair_close();
}

TEST(random_bytes_never_crash_the_decoder) {
    unsigned seed = 12345;
    unsigned char buf[6][40];
    for (int round = 0; round < 20000; round++) {
        proto_frame_t f[6];
        size_t n = 1 + (size_t)(rand_r(&seed) % 6);
        for (size_t i = 0; i < n; i++) {
            size_t len = (size_t)(rand_r(&seed) % 40);
            for (size_t j = 0; j < len; j++)
                buf[i][j] = (unsigned char)rand_r(&seed);
            if (i == 0 && rand_r(&seed) % 2) /* often a valid signature, to go deeper */
                memcpy(buf[0], "LCA\x01", (len = 4));
            f[i] = (proto_frame_t){buf[i], len};
        }
        char why[128];
        proto_msg_t msg;
        int rc = proto_decode(f, n, &msg, why, sizeof why);
        CHECK(rc == 0 || rc == -EPROTO);
    }
}

TEST(error_header_round_trip) {
    char header[256];
    size_t n = proto_error_header(header, sizeof header, 502, "Ollama is \"down\"");
    proto_msg_t msg = {.cmd = PROTO_ERROR, .header = header, .header_len = n};
    int status;
    char message[128];
    proto_error_parse(&msg, &status, message, sizeof message);
    CHECK_INT(status, ==, 502);
    CHECK_STR(message, "Ollama is \"down\"");
}

TEST_MAIN(TEST_CASE(round_trip_every_command), TEST_CASE(send_refuses_what_would_not_decode),
          TEST_CASE(malformed_frames_are_rejected),
          TEST_CASE(garbage_on_a_socket_is_dropped_and_the_next_message_is_read),
          TEST_CASE(random_bytes_never_crash_the_decoder), TEST_CASE(error_header_round_trip))
