/* The client library against a ROUTER this test holds (no broker): local
 * deadlines end requests in deadline order, answered and cancelled requests
 * leave no deadline behind, and every request ends exactly once. */
#include "proto/client.h"
#include "tests/unit/proto_peers.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void answer(void *router, const proto_msg_t *request) {
    proto_send(router, request->route, request->route_len,
               &(proto_out_t){.cmd = PROTO_FINAL, .id = request->id, .header = "{}"});
}

static int error_status(const proto_msg_t *m) {
    int status = 0;
    char text[160];
    proto_error_parse(m, &status, text, sizeof text);
    return status;
}

TEST(deadlines_end_requests_in_deadline_order) {
    void *router = router_new("inproc://client-test-order");
    char err[128];
    proto_client_t *c = proto_client_new("inproc://client-test-order", NULL, err, sizeof err);
    REQUIRE(router && c);
    uint64_t slow, quick, middle;
    CHECK_INT(proto_client_send(c, "svc", NULL, NULL, 0, 300, &slow), ==, 0);
    CHECK_INT(proto_client_send(c, "svc", NULL, NULL, 0, 100, &quick), ==, 0);
    CHECK_INT(proto_client_send(c, "svc", "{\"a\":1}", "x", 1, 200, &middle), ==, 0);
    CHECK_INT(proto_client_pending(c), ==, 3);
    int first = proto_client_next_deadline(c);
    CHECK(first >= 0 && first <= 200); /* quick's: 100 ms + grace */
    uint64_t expect[] = {quick, middle, slow};
    for (int i = 0; i < 3; i++) {
        proto_msg_t m;
        REQUIRE(proto_client_recv(c, &m, 2000) == 0);
        CHECK(m.cmd == PROTO_ERROR);
        CHECK(m.id == expect[i]);
        CHECK_INT(error_status(&m), ==, 504);
        proto_msg_close(&m);
    }
    CHECK_INT(proto_client_pending(c), ==, 0);
    CHECK_INT(proto_client_next_deadline(c), ==, -1);
    /* the router saw three REQUESTs, then a CANCEL for each */
    int requests = 0, cancels = 0;
    for (int i = 0; i < 6; i++) {
        proto_msg_t m;
        REQUIRE(router_next(router, &m));
        requests += m.cmd == PROTO_REQUEST;
        cancels += m.cmd == PROTO_CANCEL;
        proto_msg_close(&m);
    }
    CHECK_INT(requests, ==, 3);
    CHECK_INT(cancels, ==, 3);
    proto_client_destroy(&c);
    proto_socket_close(&router);
}

TEST(answered_requests_leave_no_deadline_behind) {
    void *router = router_new("inproc://client-test-answered");
    char err[128];
    proto_client_t *c = proto_client_new("inproc://client-test-answered", NULL, err, sizeof err);
    REQUIRE(router && c);
    enum { N = 2000 };
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < N; i++) {
            uint64_t id;
            REQUIRE(proto_client_send(c, "svc", NULL, NULL, 0, 60000, &id) == 0);
        }
        for (int i = 0; i < N; i++) {
            proto_msg_t m;
            REQUIRE(router_next(router, &m));
            answer(router, &m);
            proto_msg_close(&m);
        }
        for (int i = 0; i < N; i++) {
            proto_msg_t m;
            REQUIRE(proto_client_recv(c, &m, 2000) == 0);
            CHECK(m.cmd == PROTO_FINAL);
            proto_msg_close(&m);
        }
        CHECK_INT(proto_client_pending(c), ==, 0);
        CHECK_INT(proto_client_next_deadline(c), ==, -1);
    }
    /* a later request's deadline is not hidden behind the old ones */
    uint64_t late;
    REQUIRE(proto_client_send(c, "svc", NULL, NULL, 0, 100, &late) == 0);
    CHECK(proto_client_next_deadline(c) <= 200);
    proto_msg_t m;
    REQUIRE(proto_client_recv(c, &m, 2000) == 0);
    CHECK(m.cmd == PROTO_ERROR && m.id == late);
    proto_msg_close(&m);
    proto_client_destroy(&c);
    proto_socket_close(&router);
}

/* Random sends (random deadlines), answers and cancels against a model:
 * each request ends exactly once, expiries come in deadline order, and no
 * reply to a cancelled request is returned. */
TEST(every_request_ends_exactly_once) {
    void *router = router_new("inproc://client-test-model");
    char err[128];
    proto_client_t *c = proto_client_new("inproc://client-test-model", NULL, err, sizeof err);
    REQUIRE(router && c);
    enum { N = 600 };
    static int state[N + 1]; /* by id: 1 sent, 2 answered, 3 cancelled, 4 expired */
    static int64_t due_lo[N + 1], due_hi[N + 1]; /* the client's deadline lies between */
    memset(state, 0, sizeof state);
    unsigned seed = 5;
    int sent = 0;
    for (int i = 0; i < N; i++) {
        int timeout = 50 + rand_r(&seed) % 300;
        uint64_t id;
        int64_t before = clock_ms();
        REQUIRE(proto_client_send(c, "svc", NULL, NULL, 0, timeout, &id) == 0);
        REQUIRE(id <= N);
        state[id] = 1;
        due_lo[id] = before + timeout;
        due_hi[id] = clock_ms() + timeout;
        sent++;
        if (rand_r(&seed) % 4 == 0) {
            uint64_t victim = 1 + (uint64_t)(rand_r(&seed) % (unsigned)sent);
            if (state[victim] == 1) {
                CHECK_INT(proto_client_cancel(c, victim), ==, 0);
                state[victim] = 3;
            } else {
                CHECK_INT(proto_client_cancel(c, victim), ==, -ENOENT);
            }
        }
    }
    /* answer every third REQUEST; cancelled ones too (their replies must vanish) */
    int requests = 0;
    while (requests < N) {
        proto_msg_t m;
        REQUIRE(router_next(router, &m));
        if (m.cmd == PROTO_REQUEST) {
            if (requests % 3 == 0)
                answer(router, &m);
            requests++;
        }
        proto_msg_close(&m);
    }
    int64_t latest_lo = 0; /* of the expiries so far: none may end later than the next */
    for (;;) {
        proto_msg_t m;
        int rc = proto_client_recv(c, &m, 1000);
        if (rc == -ETIMEDOUT)
            break;
        REQUIRE(rc == 0 && m.id >= 1 && m.id <= N);
        CHECK_INT(state[m.id], ==, 1);
        if (m.cmd == PROTO_FINAL) {
            state[m.id] = 2;
        } else {
            CHECK(m.cmd == PROTO_ERROR);
            CHECK(due_hi[m.id] >= latest_lo);
            if (due_lo[m.id] > latest_lo)
                latest_lo = due_lo[m.id];
            state[m.id] = 4;
        }
        proto_msg_close(&m);
    }
    int ended = 0;
    for (int id = 1; id <= N; id++)
        ended += state[id] >= 2;
    CHECK_INT(ended, ==, N);
    CHECK_INT(proto_client_pending(c), ==, 0);
    proto_client_destroy(&c);
    proto_socket_close(&router);
}

TEST(a_header_the_wire_cannot_carry_is_refused) {
    void *router = router_new("inproc://client-test-size");
    char err[128];
    proto_client_t *c = proto_client_new("inproc://client-test-size", NULL, err, sizeof err);
    REQUIRE(router && c);
    /* PROTO_CLIENT_HEADER_MAX bytes go, even with the longest timeout put
     * first; one more is -EMSGSIZE and sends nothing. */
    size_t len = PROTO_CLIENT_HEADER_MAX + 1;
    char *header = malloc(len + 1);
    REQUIRE(header);
    memset(header, ' ', len);
    memcpy(header, "{\"a\":1}", 7);
    header[len] = '\0';
    uint64_t id = 0;
    CHECK_INT(proto_client_send(c, "svc", header, NULL, 0, 2000, &id), ==, -EMSGSIZE);
    header[len - 1] = '\0';
    CHECK_INT(proto_client_send(c, "svc", header, NULL, 0, 2147483647, &id), ==, 0);
    proto_msg_t m;
    REQUIRE(router_next(router, &m));
    CHECK(m.cmd == PROTO_REQUEST && m.id == id);
    CHECK(m.header_len <= PROTO_HEADER_MAX);
    proto_msg_close(&m);
    free(header);
    proto_client_destroy(&c);
    proto_socket_close(&router);
}

TEST_MAIN(TEST_CASE(deadlines_end_requests_in_deadline_order),
          TEST_CASE(answered_requests_leave_no_deadline_behind),
          TEST_CASE(every_request_ends_exactly_once),
          TEST_CASE(a_header_the_wire_cannot_carry_is_refused))
