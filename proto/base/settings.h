/*
 * settings: how every lca program reads its settings, from one table.
 *
 * A program lists its settings once, each with its command-line option,
 * environment variable, type, range, default and help line, and calls
 * settings_read().  The environment is read first, then the command line,
 * so an option beats a variable and a variable beats the default.  --help
 * is printed from the same table, so what the help says and what the
 * program does cannot drift apart.  Errors are one line on stderr naming
 * the option and what it wants.
 *
 * Numbers are whole base-10 numbers (optional sign, nothing else) within
 * the setting's range.  From the environment anything else is ignored with
 * a warning and the default stands (a service must still start), unless
 * the program asks for strict environment or the setting is strict; on the
 * command line it is an error the user sees at once.
 */
#ifndef LCA_BASE_SETTINGS_H
#define LCA_BASE_SETTINGS_H

#include "proto/base/buf.h"

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    SETTING_TEXT,   /* const char *: the text as given */
    SETTING_NUMBER, /* long: a whole number in [min, max] */
    SETTING_SWITCH, /* bool: an option without a value; from the environment 0 or 1 */
    SETTING_CUSTOM, /* parsed by the setting's parse() */
} setting_type_t;

typedef struct {
    const char *flag; /* long option without "--" ("port"); NULL: environment only */
    char letter;      /* short option ('k' for -k); 0: none */
    const char *env;  /* environment variable; NULL: command line only */
    setting_type_t type;
    const char *value; /* what --help calls the value ("N", "DIR"); NULL: none */
    const char *help;  /* what it is, for --help ('\n' starts a new line); NULL: not shown */
    /* The default as --help says it, when the initial value does not say
     * it well ("cores"); NULL: the initial value; "": say no default. */
    const char *shown;
    long min, max; /* SETTING_NUMBER: the range */
    /* Where the value goes; its content before settings_read() is the
     * default.  const char ** (TEXT), long * (NUMBER), bool * (SWITCH), or
     * what parse() takes (CUSTOM).  NULL: documented here, read elsewhere. */
    void *out;
    /* SETTING_CUSTOM: reads text into out; false with the reason in why
     * ("wants I/N (shard I of N)") when the text is not acceptable. */
    bool (*parse)(const char *text, void *out, char *why, size_t why_len);
    bool required; /* must be given (on the command line or in the environment) */
    /* A bad value in the environment is an error, as on the command line,
     * even where the program lets others pass with a warning: for a value
     * every process must agree on (the shard count). */
    bool strict;
} setting_t;

typedef struct {
    const char *program;  /* "lca-gateway", "lca up": in messages and the usage line */
    const char *synopsis; /* after the program in the usage line: "DIR [options]" */
    const char *about;    /* what the program does, a paragraph for --help */
    const setting_t *settings;
    size_t count;
    /* Arguments that are not options: what --help and messages call them
     * ("DIR"; NULL: none are taken), and how many there may be (max < 0:
     * any number). */
    const char *operands;
    int min_operands, max_operands;
    const char *notes;       /* a paragraph after the settings; NULL: none */
    bool strict_environment; /* a bad value in the environment is an error too */
} settings_spec_t;

/* The .settings and .count of a spec, from a table (an array). */
#define SETTINGS_OF(table) .settings = (table), .count = sizeof(table) / sizeof(table)[0]

/* settings_read() went through and the program goes on. */
#define SETTINGS_GO_ON (-1)

/*
 * Reads the environment and argv[1..argc) into the settings' outputs.
 * Returns SETTINGS_GO_ON with *first_operand set to the index of the first
 * operand in argv (options and operands may be mixed; argv is reordered so
 * that the operands come last, argv[*first_operand..argc)); or an exit
 * status for the program: 0 after printing --help on stdout, 2 after a
 * one-line error on stderr.
 */
int settings_read(const settings_spec_t *spec, int argc, char **argv, int *first_operand);

/* Appends the --help text of spec, with the defaults the outputs hold now,
 * to out.  Returns 0 or -ENOMEM. */
int settings_help(const settings_spec_t *spec, buf_t *out);

/* True, with the number in *out, when all of text is a base-10 integer
 * (optional sign, no spaces) in [min, max]; false, *out untouched, else.
 * For SETTING_CUSTOM parsers. */
bool settings_parse_long(const char *text, long min, long max, long *out);

/* The integer in environment variable name, else fallback; a value that is
 * not a whole number in [min, max] gives fallback and a warning.  For
 * settings read away from main (tuning knobs of one module). */
long settings_env_long(const char *name, long fallback, long min, long max);

/* Reads the number a command-line option was given: all of text must be a
 * base-10 integer (optional sign, no spaces) in [min, max].  Otherwise says
 * so in one line on stderr ("program: option wants a whole number from min
 * to max, not "text"") and returns false, leaving *out alone. */
bool settings_arg_long(const char *program, const char *option, const char *text, long min,
                       long max, long *out);

#endif
