/*
 * Numeric settings (see settings.h).
 */
#include "proto/base/settings.h"

#include "proto/base/log.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

/* A complete base-10 number within [min, max] (strtol skips leading blanks:
 * callers that refuse them check first).  False, *out untouched, otherwise. */
static bool whole_number(const char *text, long min, long max, long *out) {
    char *end = NULL;
    errno = 0;
    long n = strtol(text, &end, 10);
    if (end == text || *end != '\0' || errno != 0 || n < min || n > max)
        return false;
    *out = n;
    return true;
}

long settings_env_long(const char *name, long fallback, long min, long max) {
    const char *v = getenv(name);
    long n = fallback;
    if (v && *v && !whole_number(v, min, max, &n))
        log_warn("ignoring %s=%s (expected an integer in %ld..%ld)", name, v, min, max);
    return n;
}

bool settings_arg_long(const char *program, const char *option, const char *text, long min,
                       long max, long *out) {
    if (!isspace((unsigned char)text[0]) && whole_number(text, min, max, out))
        return true;
    if (max == LONG_MAX) /* no real upper bound: do not print one */
        fprintf(stderr, "%s: %s wants a whole number of at least %ld, not \"%s\"\n", program,
                option, min, text);
    else
        fprintf(stderr, "%s: %s wants a whole number from %ld to %ld, not \"%s\"\n", program,
                option, min, max, text);
    return false;
}
