/*
 * signals: how every lca process learns that it should stop.
 *
 * SIGINT and SIGTERM only set a flag (a handler may do nothing else
 * safely); long loops poll stop_requested() and wind down through their
 * normal cleanup path, so a stop never leaves a half-written file or an
 * unflushed socket.  SIGPIPE is ignored: a peer that went away is an error
 * return, not a death.
 */
#ifndef LCA_BASE_SIGNALS_H
#define LCA_BASE_SIGNALS_H

#include <stdbool.h>

/* Installs the handlers (SIGINT, SIGTERM set the flag; SIGPIPE ignored). */
void stop_on_signals(void);

/* True once a stop was asked for. */
bool stop_requested(void);

/* Sets the flag as a signal would (tests, programs that embed a service). */
void stop_request(void);

#endif
