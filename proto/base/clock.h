/*
 * clock: time on a monotonic clock, the one every deadline, timeout and
 * latency figure of lca is measured on (never the wall clock, which jumps).
 */
#ifndef LCA_BASE_CLOCK_H
#define LCA_BASE_CLOCK_H

#include <stdint.h>

/* Milliseconds on a monotonic clock. */
int64_t clock_ms(void);

/* Microseconds on a monotonic clock. */
int64_t clock_us(void);

#endif
