/*
 * settings: numbers from the environment and the command line, read one
 * strict way everywhere.
 *
 * A setting's text must be a whole base-10 number (optional sign, nothing
 * else) within the setting's range.  From the environment, anything else is
 * ignored with a warning and the default stands (a service must still
 * start); on the command line it is an error the user sees at once, in one
 * line naming the option and the range.
 */
#ifndef LCA_BASE_SETTINGS_H
#define LCA_BASE_SETTINGS_H

#include <stdbool.h>

/* The integer in environment variable name, else fallback; a value that is
 * not a whole number in [min, max] gives fallback and a warning. */
long settings_env_long(const char *name, long fallback, long min, long max);

/* Reads the number a command-line option was given: all of text must be a
 * base-10 integer (optional sign, no spaces) in [min, max].  Otherwise says
 * so in one line on stderr ("program: option wants a whole number from min
 * to max, not "text"") and returns false, leaving *out alone. */
bool settings_arg_long(const char *program, const char *option, const char *text, long min,
                       long max, long *out);

#endif
