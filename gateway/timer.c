/*
 * One-shot timers (see timer.h).
 *
 * h2o 2.2 keeps one list per duration, so the table of lists must stay
 * small, yet durations come from clients too ("deadline_ms": 1 to 60000).
 * The first EXACT_MAX durations asked for (the configured deadlines, in
 * practice) get lists of their own and fire on time; any other duration is
 * rounded *up* to the next step of a geometric scale (ratio 2^(1/4): at
 * most 19% late), so a timer never fires early and the table is bounded
 * whatever clients send.
 */
#include "gateway/timer.h"

#include <math.h>

#define EXACT_MAX 16
#define STEPS_PER_DOUBLING 4
#define STEP_MAX 112 /* 2^(112/4) ms: past any duration a uint32 holds */

typedef struct {
    uint64_t ms;
    h2o_loop_t *loop; /* NULL: not made yet */
    h2o_timeout_t timeout;
} list_t;

static list_t exact[EXACT_MAX];
static int nexact;
static list_t steps[STEP_MAX + 1];

static h2o_timeout_t *list_for(h2o_loop_t *loop, list_t *list, uint64_t ms) {
    if (!list->loop) {
        list->loop = loop;
        list->ms = ms;
        h2o_timeout_init(loop, &list->timeout, ms);
    }
    return &list->timeout;
}

/* The smallest step of the scale that is at least ms. */
static int step_of(uint64_t ms) {
    int step = ms <= 1 ? 0 : (int)ceil(log2((double)ms) * STEPS_PER_DOUBLING - 1e-9);
    while (step > 0 && (uint64_t)ceil(exp2((double)(step - 1) / STEPS_PER_DOUBLING)) >= ms)
        step--;
    while (step < STEP_MAX && (uint64_t)ceil(exp2((double)step / STEPS_PER_DOUBLING)) < ms)
        step++;
    return step;
}

uint64_t timer_effective_ms(uint64_t ms) {
    for (int i = 0; i < nexact; i++)
        if (exact[i].ms == ms)
            return ms;
    if (nexact < EXACT_MAX)
        return ms;
    return (uint64_t)ceil(exp2((double)step_of(ms) / STEPS_PER_DOUBLING));
}

void timer_start(h2o_loop_t *loop, h2o_timeout_entry_t *entry, uint64_t ms) {
    if (h2o_timeout_is_linked(entry))
        h2o_timeout_unlink(entry);
    h2o_timeout_t *timeout = NULL;
    for (int i = 0; i < nexact && !timeout; i++)
        if (exact[i].ms == ms)
            timeout = &exact[i].timeout;
    if (!timeout && nexact < EXACT_MAX)
        timeout = list_for(loop, &exact[nexact++], ms);
    if (!timeout) {
        int step = step_of(ms);
        timeout =
            list_for(loop, &steps[step], (uint64_t)ceil(exp2((double)step / STEPS_PER_DOUBLING)));
    }
    h2o_timeout_link(loop, timeout, entry);
}
