/*
 * One-shot timers on the gateway's loop.  h2o 2.2's timeouts come in
 * fixed-duration lists (h2o_timeout_t); this keeps the lists, so callers
 * just say "call me in 40 ms".  A timer never fires early; past the first
 * sixteen durations asked for it may fire up to 19% late (see timer.c), so
 * durations sent by clients cannot grow the table or bend others' timers.
 */
#ifndef LCA_GATEWAY_TIMER_H
#define LCA_GATEWAY_TIMER_H

#define H2O_USE_LIBUV 0
#include <h2o.h>

/* Arms entry (its cb set by the caller) to fire once after ms on loop.
 * Re-arming a linked entry moves it.  Unlink with h2o_timeout_unlink. */
void timer_start(h2o_loop_t *loop, h2o_timeout_entry_t *entry, uint64_t ms);

/* When a timer of ms would fire: ms itself, or the step above it. */
uint64_t timer_effective_ms(uint64_t ms);

#endif
