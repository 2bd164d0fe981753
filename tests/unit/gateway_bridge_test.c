/*
 * gateway/bridge: calls from the loop thread to workers and back, against a
 * broker and workers inside this process (tests/inproc.h).  A call ends with
 * exactly one on_final or on_error, after its PARTIALs in order; a cancelled
 * call reaches its worker and calls back nothing.
 */
#include "gateway/bridge.h"
#include "proto/client.h"
#include "tests/inproc.h"
#include "tests/test.h"

#include <cJSON.h>
#include <stdatomic.h>
#include <time.h>

static inproc_t s;
static bridge_t *bridge;
static atomic_int cancelled; /* jobs the "hold" worker saw cancelled */

static void nap_ms(int ms) {
    struct timespec ts = {0, (long)ms * 1000000L};
    nanosleep(&ts, NULL);
}

/* The scripted worker: {"op":"stream","n":N}, {"op":"fail"}, {"op":"hold"}. */
static void handle(proto_job_t *job, void *arg) {
    (void)arg;
    const cJSON *h = proto_job_json(job);
    const char *op = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(h, "op"));
    if (op && !strcmp(op, "stream")) {
        int n = (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(h, "n"));
        for (int i = 0; i < n; i++)
            proto_job_partial(job, NULL, &i, sizeof i);
        proto_job_final(job, "{\"done\":true}", "end", 3);
    } else if (op && !strcmp(op, "fail")) {
        proto_job_error(job, 418, "scripted failure");
    } else {
        while (!proto_job_cancelled(job))
            nap_ms(2);
        atomic_fetch_add(&cancelled, 1);
    }
}

static bool setup(void) {
    static bool tried, ok;
    if (!tried) {
        tried = true;
        ok = inproc_start(&s) && inproc_worker(&s, "scripted", 8, handle, NULL) &&
             (bridge = inproc_bridge(&s)) != NULL;
    }
    return ok;
}

/* What came back for one call. */
typedef struct {
    int partials;
    bool in_order;
    int finals, errors;
    int status;
    char header[64], payload[16], message[128];
} seen_t;

static void on_partial(void *arg, const proto_msg_t *msg) {
    seen_t *seen = arg;
    int i = -1;
    if (msg->payload_len == sizeof i)
        memcpy(&i, msg->payload, sizeof i);
    seen->in_order &= i == seen->partials;
    seen->partials++;
}

static void on_final(void *arg, const proto_msg_t *msg) {
    seen_t *seen = arg;
    seen->finals++;
    snprintf(seen->header, sizeof seen->header, "%.*s", (int)msg->header_len,
             msg->header ? msg->header : "");
    snprintf(seen->payload, sizeof seen->payload, "%.*s", (int)msg->payload_len,
             msg->payload ? (const char *)msg->payload : "");
}

static void on_error(void *arg, int status, const char *message) {
    seen_t *seen = arg;
    seen->errors++;
    seen->status = status;
    snprintf(seen->message, sizeof seen->message, "%s", message);
}

static const bridge_callbacks_t callbacks = {on_partial, on_final, on_error};

static bool ended(void *arg) {
    const seen_t *seen = arg;
    return seen->finals + seen->errors > 0;
}

TEST(partials_in_order_then_one_final) {
    REQUIRE(setup());
    seen_t seen = {.in_order = true};
    uint64_t id = bridge_call(bridge, "scripted", "{\"op\":\"stream\",\"n\":50}", NULL, 0, 5000,
                              &callbacks, &seen);
    REQUIRE(id > 0);
    CHECK(inproc_run_until(&s, ended, &seen, 5000));
    inproc_run_for(&s, 50); /* nothing more comes */
    CHECK_INT(seen.partials, ==, 50);
    CHECK(seen.in_order);
    CHECK_INT(seen.finals, ==, 1);
    CHECK_INT(seen.errors, ==, 0);
    CHECK_STR(seen.header, "{\"done\":true}");
    CHECK_STR(seen.payload, "end");
}

TEST(an_error_ends_the_call_with_its_status) {
    REQUIRE(setup());
    seen_t seen = {0};
    bridge_call(bridge, "scripted", "{\"op\":\"fail\"}", NULL, 0, 5000, &callbacks, &seen);
    CHECK(inproc_run_until(&s, ended, &seen, 5000));
    inproc_run_for(&s, 50);
    CHECK_INT(seen.errors, ==, 1);
    CHECK_INT(seen.finals, ==, 0);
    CHECK_INT(seen.status, ==, 418);
    CHECK_STR(seen.message, "scripted failure");
}

static bool cancels_reached(void *arg) {
    return atomic_load(&cancelled) >= *(int *)arg;
}

TEST(a_cancelled_call_reaches_its_worker_and_calls_back_nothing) {
    REQUIRE(setup());
    int before = atomic_load(&cancelled);
    seen_t seen = {0};
    uint64_t id =
        bridge_call(bridge, "scripted", "{\"op\":\"hold\"}", NULL, 0, 5000, &callbacks, &seen);
    REQUIRE(id > 0);
    inproc_run_for(&s, 50); /* the job is running */
    bridge_cancel(bridge, id);
    bridge_cancel(bridge, id); /* twice, and an unknown id: ignored */
    bridge_cancel(bridge, id + 1000);
    int want = before + 1;
    CHECK(inproc_run_until(&s, cancels_reached, &want, 5000));
    inproc_run_for(&s, 50);
    CHECK_INT(seen.partials + seen.finals + seen.errors, ==, 0);
}

TEST(a_deadline_or_a_missing_service_is_an_error) {
    REQUIRE(setup());
    seen_t late = {0}, nobody = {0};
    bridge_call(bridge, "scripted", "{\"op\":\"hold\"}", NULL, 0, 100, &callbacks, &late);
    bridge_call(bridge, "nobody", NULL, NULL, 0, 5000, &callbacks, &nobody);
    CHECK(inproc_run_until(&s, ended, &late, 5000));
    CHECK(inproc_run_until(&s, ended, &nobody, 5000));
    CHECK_INT(late.errors, ==, 1);
    CHECK_INT(late.status, ==, 504);
    CHECK_INT(nobody.errors, ==, 1);
    CHECK_INT(nobody.status, ==, 503);
}

TEST(what_the_wire_cannot_carry_is_refused_at_once) {
    REQUIRE(setup());
    /* A header one byte over what the wire carries is refused at once,
     * with no callback, rather than failing later. */
    size_t len = PROTO_CLIENT_HEADER_MAX + 1;
    char *header = malloc(len + 1);
    REQUIRE(header);
    memset(header, ' ', len);
    static const char op[] = "{\"op\":\"stream\",\"n\":1}";
    memcpy(header, op, sizeof op - 1);
    header[len] = '\0';
    seen_t big = {0}, fits = {.in_order = true};
    CHECK(bridge_call(bridge, "scripted", header, NULL, 0, 5000, &callbacks, &big) == 0);
    /* At the limit, it goes through. */
    header[len - 1] = '\0';
    CHECK(bridge_call(bridge, "scripted", header, NULL, 0, 5000, &callbacks, &fits) > 0);
    CHECK(inproc_run_until(&s, ended, &fits, 5000));
    CHECK_INT(fits.finals, ==, 1);
    if (fits.finals != 1)
        fprintf(stderr, "  at the limit: %d errors, %d %s\n", fits.errors, fits.status,
                fits.message);
    CHECK_INT(big.partials + big.finals + big.errors, ==, 0);
    free(header);
}

/* Last: the bridge and the broker stop with nothing left running (ASan
 * reports any leak at exit). */
TEST(everything_stops_clean) {
    REQUIRE(setup());
    seen_t seen = {0};
    CHECK(bridge_call(bridge, "scripted", "{\"op\":\"hold\"}", NULL, 0, 5000, &callbacks, &seen) >
          0);
    bridge_destroy(&bridge); /* with a call in flight: cancelled, no callback */
    CHECK(bridge == NULL);
    bridge_destroy(&bridge);
    inproc_stop(&s);
    CHECK(s.broker == NULL);
    CHECK_INT(seen.partials + seen.finals + seen.errors, ==, 0);
}

TEST_MAIN(TEST_CASE(partials_in_order_then_one_final),
          TEST_CASE(an_error_ends_the_call_with_its_status),
          TEST_CASE(a_cancelled_call_reaches_its_worker_and_calls_back_nothing),
          TEST_CASE(a_deadline_or_a_missing_service_is_an_error),
          TEST_CASE(what_the_wire_cannot_carry_is_refused_at_once),
          TEST_CASE(everything_stops_clean))
