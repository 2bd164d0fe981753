/*
 * Log lines (see log.h).  Formatting happens into a stack buffer so a line
 * is one write(2) and lines of different threads never interleave.
 */
#include "proto/base/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static char log_name[32] = "lca";
static log_level_t log_threshold = LOG_LEVEL_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_init(const char *process_name) {
    if (process_name)
        snprintf(log_name, sizeof log_name, "%s", process_name);
    const char *env = getenv("LCA_LOG");
    if (!env)
        return;
    for (int i = LOG_LEVEL_DEBUG; i <= LOG_LEVEL_ERROR; i++)
        if (strcasecmp(env, level_names[i]) == 0)
            log_threshold = (log_level_t)i;
}

int log_enabled(log_level_t level) {
    return level >= log_threshold;
}

void log_write(log_level_t level, const char *fmt, ...) {
    if (level < log_threshold || level > LOG_LEVEL_ERROR)
        return;
    char line[2048];
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    size_t n = strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
    n += (size_t)snprintf(line + n, sizeof line - n, ".%03dZ %s %s: ", (int)(tv.tv_usec / 1000),
                          level_names[level], log_name);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - n, fmt, ap);
    va_end(ap);
    if (m < 0)
        m = 0;
    n += (size_t)m;
    if (n > sizeof line - 2)
        n = sizeof line - 2; /* truncated: keep the newline */
    line[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, n);
    (void)w;
}
