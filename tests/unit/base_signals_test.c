/* The stop flag: set by SIGTERM or by hand; SIGPIPE does not kill. */
#include "proto/base/signals.h"
#include "tests/test.h"

#include <signal.h>

TEST(signals_set_the_flag) {
    stop_on_signals();
    CHECK(!stop_requested());
    CHECK_INT(raise(SIGPIPE), ==, 0); /* ignored: the process lives on */
    CHECK(!stop_requested());
    CHECK_INT(raise(SIGTERM), ==, 0);
    CHECK(stop_requested());
    CHECK(stop_requested()); /* it stays set */
}

TEST(stop_request_sets_it_by_hand) {
    stop_request();
    CHECK(stop_requested());
}

TEST_MAIN(TEST_CASE(signals_set_the_flag), TEST_CASE(stop_request_sets_it_by_hand))
