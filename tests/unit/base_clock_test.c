/* The monotonic clock: it never goes back, and its two units agree. */
#include "proto/base/clock.h"
#include "tests/test.h"

#include <time.h>

TEST(never_goes_back_and_units_agree) {
    int64_t ms = clock_ms(), us = clock_us();
    CHECK(ms > 0 && us > 0);
    /* The same instant, give or take the calls between them. */
    CHECK(us / 1000 >= ms && us / 1000 - ms < 1000);
    int64_t last = clock_us();
    for (int i = 0; i < 10000; i++) {
        int64_t now = clock_us();
        CHECK(now >= last);
        last = now;
    }
    struct timespec pause = {0, 2 * 1000 * 1000};
    int64_t before = clock_ms();
    nanosleep(&pause, NULL);
    CHECK(clock_ms() - before >= 2); /* time passed is measured, not assumed */
}

TEST_MAIN(TEST_CASE(never_goes_back_and_units_agree))
