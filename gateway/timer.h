/*
 * One-shot timers on the gateway's loop.  h2o 2.2's timeouts come in
 * fixed-duration lists (h2o_timeout_t); this keeps one list per duration
 * asked for, so callers just say "call me in 40 ms".
 */
#ifndef LCA_GATEWAY_TIMER_H
#define LCA_GATEWAY_TIMER_H

#define H2O_USE_LIBUV 0
#include <h2o.h>

/* Arms entry (its cb set by the caller) to fire once after ms on loop.
 * Re-arming a linked entry moves it.  Unlink with h2o_timeout_unlink. */
void timer_start(h2o_loop_t *loop, h2o_timeout_entry_t *entry, uint64_t ms);

#endif
