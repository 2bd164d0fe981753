/*
 * Adaptive busy-polling: how long a loop should keep polling without
 * blocking before it goes to sleep.
 *
 * A thread that sleeps between messages pays a wake-up on every one, and on
 * a virtual machine a wake-up across cores costs tens of microseconds: more
 * than the broker's whole work on a message.  Polling for a short window
 * after each burst catches the next message while the thread is still awake.
 * The window adapts to the traffic, as a hypervisor's halt-polling does:
 *
 *   - a message that came within the window: the window was right;
 *   - one that came later, but within the ceiling: a longer window would have
 *     caught it, so the window doubles (from SPIN_START_US);
 *   - one that came after the ceiling: spinning is a waste for this traffic,
 *     so the window halves (and is off below SPIN_START_US).
 *
 * Quick request/reply traffic (an embedding, a status call) keeps the window
 * open; a stream of model tokens tens of milliseconds apart closes it after a
 * few messages, so an idle or slow process does not burn a core.
 *
 * A spinning loop yields the core between polls (sched_yield): on a machine
 * with as few cores as ours, the thread that will send the next message may
 * be waiting for this very core.  Without the yield the median was as good
 * but the 99th percentile of the broker's round trip rose from ~300 us to
 * ~430 us; with it, ~190 us.
 *
 * Only the broker spins.  Every message of every service crosses it, so one
 * spinning thread serves them all.  Spinning in the worker library too was
 * tried and was worse: a laptop runs five or more workers, more spinning
 * threads than cores, and on two cores the round trip through the broker
 * went from ~120 us to ~210 us.
 */
#ifndef LCA_SPIN_H
#define LCA_SPIN_H

#include <stdbool.h>
#include <stdint.h>

#define SPIN_START_US 10

typedef struct {
    int64_t max_us;    /* ceiling; 0: never spin */
    int64_t window_us; /* the current window, 0..max_us */
} spin_t;

static inline void spin_init(spin_t *s, int64_t max_us) {
    s->max_us = max_us > 0 ? max_us : 0;
    s->window_us = 0;
}

/* Whether a loop idle for idle_us should still poll rather than sleep. */
static inline bool spin_polling(const spin_t *s, int64_t idle_us) {
    return idle_us < s->window_us;
}

/* Learns from the idle time that ended with a message. */
static inline void spin_learn(spin_t *s, int64_t idle_us) {
    if (idle_us <= s->window_us)
        return;
    if (idle_us > s->max_us) {
        s->window_us /= 2;
        if (s->window_us < SPIN_START_US)
            s->window_us = 0;
    } else {
        s->window_us = s->window_us ? s->window_us * 2 : SPIN_START_US;
        if (s->window_us > s->max_us)
            s->window_us = s->max_us;
    }
}

#endif
