/*
 * One-shot timers (see timer.h).  Durations are few (a handful of
 * configured deadlines), so a small table of timeout lists is enough; a
 * duration beyond the table's room shares the nearest longer list.
 */
#include "gateway/timer.h"

#define MAX_DURATIONS 32

static struct {
    uint64_t ms;
    h2o_timeout_t timeout;
} lists[MAX_DURATIONS];
static int nlists;

void timer_start(h2o_loop_t *loop, h2o_timeout_entry_t *entry, uint64_t ms) {
    if (h2o_timeout_is_linked(entry))
        h2o_timeout_unlink(entry);
    int found = -1;
    for (int i = 0; i < nlists; i++)
        if (lists[i].ms == ms)
            found = i;
    if (found < 0 && nlists < MAX_DURATIONS) {
        found = nlists++;
        lists[found].ms = ms;
        h2o_timeout_init(loop, &lists[found].timeout, ms);
    }
    if (found < 0) { /* table full: the shortest list not shorter than ms, else the longest */
        for (int i = 0; i < nlists; i++)
            if (lists[i].ms >= ms && (found < 0 || lists[i].ms < lists[found].ms))
                found = i;
        if (found < 0)
            found = nlists - 1;
    }
    h2o_timeout_link(loop, &lists[found].timeout, entry);
}
