/*
 * Log lines: one line per event, on stderr, in a form both people and
 * programs read:
 *
 *   2026-11-26T15:26:39.123Z info gateway: listening on 127.0.0.1:11435
 *
 * The process name is set once by log_init(); the level threshold comes from
 * LCA_LOG (debug, info, warn, error; default info).  Request-scoped lines put
 * `req=<id>` in the message so one request can be followed across processes.
 * Safe to call from any thread: each line is written with one write(2).
 */
#ifndef LCA_BASE_LOG_H
#define LCA_BASE_LOG_H

/* Not LOG_INFO etc.: <syslog.h> (which czmq.h includes) defines those as
 * macros with other values. */
typedef enum { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR } log_level_t;

/* Sets the process name used on every line and reads LCA_LOG. */
void log_init(const char *process_name);

/* True when lines of this level are written (to skip building costly messages). */
int log_enabled(log_level_t level);

void log_write(log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_write(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_info(...) log_write(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warn(...) log_write(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_error(...) log_write(LOG_LEVEL_ERROR, __VA_ARGS__)

#endif
