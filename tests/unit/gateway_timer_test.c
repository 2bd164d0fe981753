/*
 * gateway/timer: one-shot timers on an h2o loop of this test's own, no
 * server.  Timers fire in the order of their deadlines whatever their
 * durations, never from inside timer_start, and not at all once unlinked.
 * One loop for the whole process, as in the gateway: the timeout lists stay
 * on it.
 */
#include "gateway/timer.h"
#include "proto/base/clock.h"
#include "tests/test.h"

typedef struct {
    h2o_timeout_entry_t entry;
    int fired;     /* how many times */
    int order;     /* 1 for the first to fire, ... */
    int64_t at_ms; /* when it fired */
} tick_t;

static int fired_so_far;
static h2o_loop_t *loop;

static void on_tick(h2o_timeout_entry_t *entry) {
    tick_t *t = H2O_STRUCT_FROM_MEMBER(tick_t, entry, entry);
    t->fired++;
    t->order = ++fired_so_far;
    t->at_ms = clock_ms();
}

static void tick_init(tick_t *t) {
    if (!loop)
        loop = h2o_evloop_create();
    memset(t, 0, sizeof *t);
    t->entry.cb = on_tick;
}

/* Runs the loop until every tick given has fired, or 2 s. */
static void run(tick_t **ticks, int n) {
    int64_t end = clock_ms() + 2000;
    for (bool all = false; !all && clock_ms() < end;) {
        h2o_evloop_run(loop, 5);
        all = true;
        for (int i = 0; i < n; i++)
            all &= ticks[i]->fired > 0;
    }
}

TEST(timers_fire_in_deadline_order) {
    tick_t slow, quick, middle;
    tick_init(&slow);
    tick_init(&quick);
    tick_init(&middle);
    int64_t start = clock_ms();
    timer_start(loop, &slow.entry, 60);
    timer_start(loop, &quick.entry, 10);
    timer_start(loop, &middle.entry, 30);
    fired_so_far = 0;
    run((tick_t *[]){&slow, &quick, &middle}, 3);
    CHECK_INT(quick.order, ==, 1);
    CHECK_INT(middle.order, ==, 2);
    CHECK_INT(slow.order, ==, 3);
    CHECK_INT(slow.fired, ==, 1);
    CHECK(slow.at_ms - start >= 60);
}

TEST(re_arming_moves_a_timer_and_unlinking_stops_it) {
    tick_t moved, stopped, marker;
    tick_init(&moved);
    tick_init(&stopped);
    tick_init(&marker);
    timer_start(loop, &moved.entry, 10);
    timer_start(loop, &moved.entry, 50); /* now 50, once */
    timer_start(loop, &stopped.entry, 20);
    timer_start(loop, &marker.entry, 30);
    h2o_timeout_unlink(&stopped.entry);
    fired_so_far = 0;
    run((tick_t *[]){&moved, &marker}, 2);
    CHECK_INT(marker.order, ==, 1);
    CHECK_INT(moved.order, ==, 2);
    CHECK_INT(moved.fired, ==, 1);
    CHECK_INT(stopped.fired, ==, 0);
}

TEST(zero_fires_on_the_next_turn_not_inside) {
    tick_t now;
    tick_init(&now);
    timer_start(loop, &now.entry, 0);
    CHECK_INT(now.fired, ==, 0);
    run((tick_t *[]){&now}, 1);
    CHECK_INT(now.fired, ==, 1);
}

/* Durations sent by clients: past the table's exact lists, a timer is
 * rounded up, never down, so that no client can make another's fire early. */
TEST(many_durations_never_fire_early) {
    for (uint64_t ms = 1; ms < 500; ms += 7) {
        uint64_t effective = timer_effective_ms(ms);
        CHECK_INT(effective, >=, ms);
        CHECK_INT(effective * 100, <=, ms * 120 + 100);
    }
    /* 40 durations, then a 300 ms one: it still waits 300 ms. */
    static tick_t many[40];
    for (int i = 0; i < 40; i++) {
        tick_init(&many[i]);
        timer_start(loop, &many[i].entry, (uint64_t)(i + 1));
    }
    tick_t late;
    tick_init(&late);
    int64_t start = clock_ms();
    timer_start(loop, &late.entry, 300);
    run((tick_t *[]){&late}, 1);
    CHECK_INT(late.fired, ==, 1);
    /* h2o counts from the loop's clock, read when it last woke: up to one
     * turn (5 ms here) before start.  Before the fix this timer shared the
     * 40 ms list and fired after 40 ms. */
    CHECK_INT(late.at_ms - start, >=, 300 - 10);
    for (int i = 0; i < 40; i++)
        if (h2o_timeout_is_linked(&many[i].entry))
            h2o_timeout_unlink(&many[i].entry);
    CHECK_INT(timer_effective_ms(1000000), >=, 1000000);
    CHECK_INT(timer_effective_ms(0), ==, timer_effective_ms(0)); /* no crash at the ends */
}

TEST_MAIN(TEST_CASE(many_durations_never_fire_early), TEST_CASE(timers_fire_in_deadline_order),
          TEST_CASE(re_arming_moves_a_timer_and_unlinking_stops_it),
          TEST_CASE(zero_fires_on_the_next_turn_not_inside))
