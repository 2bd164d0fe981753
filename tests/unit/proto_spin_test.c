/* The adaptive busy-poll window: it opens for quick traffic, stays within its
 * ceiling, and closes for slow traffic. */
#include "proto/spin.h"
#include "tests/test.h"

TEST(off_when_the_ceiling_is_zero) {
    spin_t s;
    spin_init(&s, 0);
    for (int i = 0; i < 100; i++)
        spin_learn(&s, i % 7);
    CHECK_INT(s.window_us, ==, 0);
    CHECK(!spin_polling(&s, 0));
    spin_init(&s, -5);
    spin_learn(&s, 1);
    CHECK_INT(s.window_us, ==, 0);
}

TEST(opens_for_replies_that_come_within_the_ceiling) {
    spin_t s;
    spin_init(&s, 200);
    CHECK(!spin_polling(&s, 0)); /* nothing learnt yet: sleep */
    spin_learn(&s, 80);
    CHECK_INT(s.window_us, ==, SPIN_START_US);
    for (int i = 0; i < 10; i++)
        spin_learn(&s, 80);
    /* doubled until it covered 80 us, then left alone */
    CHECK_INT(s.window_us, ==, 80);
    CHECK(spin_polling(&s, 79));
    CHECK(!spin_polling(&s, 80));
    spin_learn(&s, 90); /* a little later: wider */
    CHECK_INT(s.window_us, ==, 160);
}

TEST(never_passes_the_ceiling) {
    spin_t s;
    spin_init(&s, 100);
    for (int i = 0; i < 50; i++)
        spin_learn(&s, 100);
    CHECK_INT(s.window_us, ==, 100);
}

TEST(closes_for_slow_traffic) {
    spin_t s;
    spin_init(&s, 200);
    for (int i = 0; i < 10; i++)
        spin_learn(&s, 170);
    CHECK_INT(s.window_us, ==, 200);
    /* tokens 20 ms apart: halves each time, then off */
    spin_learn(&s, 20000);
    CHECK_INT(s.window_us, ==, 100);
    int steps = 1;
    while (s.window_us > 0 && steps < 100) {
        spin_learn(&s, 20000);
        steps++;
    }
    CHECK_INT(s.window_us, ==, 0);
    CHECK_INT(steps, <=, 5);
    CHECK(!spin_polling(&s, 0));
    /* and opens again when the traffic turns quick */
    spin_learn(&s, 50);
    CHECK_INT(s.window_us, ==, SPIN_START_US);
}

TEST_MAIN(TEST_CASE(off_when_the_ceiling_is_zero),
          TEST_CASE(opens_for_replies_that_come_within_the_ceiling),
          TEST_CASE(never_passes_the_ceiling), TEST_CASE(closes_for_slow_traffic))
