/*
 * Settings from one table (see settings.h).
 *
 * settings_read() writes the help text first, while every output still
 * holds its default; then reads the environment, then the command line
 * with getopt_long (an option table built from the settings: each long
 * option's value is 256 + its index, so any option finds its setting), and
 * checks the required settings and the number of operands last.
 */
#include "proto/base/settings.h"

#include "proto/base/log.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HELP_COLUMN 22 /* where a setting's help starts */
#define HELP_WIDTH 79  /* help lines are wrapped before this column */
#define OPTION_BASE 256

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

bool settings_parse_long(const char *text, long min, long max, long *out) {
    return !isspace((unsigned char)text[0]) && whole_number(text, min, max, out);
}

/* "wants a whole number from min to max" (no upper bound when there is none). */
static void number_wanted(char *out, size_t cap, long min, long max) {
    if (max == LONG_MAX)
        snprintf(out, cap, "wants a whole number of at least %ld", min);
    else
        snprintf(out, cap, "wants a whole number from %ld to %ld", min, max);
}

long settings_env_long(const char *name, long fallback, long min, long max) {
    const char *v = getenv(name);
    long n = fallback;
    if (v && *v && !whole_number(v, min, max, &n)) {
        char wanted[96];
        number_wanted(wanted, sizeof wanted, min, max);
        log_warn("ignoring %s=%s (%s)", name, v, wanted);
    }
    return n;
}

bool settings_arg_long(const char *program, const char *option, const char *text, long min,
                       long max, long *out) {
    if (settings_parse_long(text, min, max, out))
        return true;
    char wanted[96];
    number_wanted(wanted, sizeof wanted, min, max);
    fprintf(stderr, "%s: %s %s, not \"%s\"\n", program, option, wanted, text);
    return false;
}

/* ---- help ---- */

/* Appends text wrapped before HELP_WIDTH, continuation lines (and lines
 * after a '\n' in text) indented to indent; the cursor is at column *col. */
static void append_wrapped(buf_t *b, const char *text, size_t indent, size_t *col) {
    const char *p = text;
    while (*p) {
        if (*p == '\n') {
            buf_printf(b, "\n%*s", (int)indent, "");
            *col = indent;
            p++;
            continue;
        }
        size_t spaces = strspn(p, " ");
        p += spaces;
        if (!*p || *p == '\n')
            continue;
        size_t word = strcspn(p, " \n");
        size_t gap = spaces >= 2 ? 2 : 1; /* two spaces after a sentence stay two */
        bool first = *col <= indent;
        if (!first && *col + gap + word >= HELP_WIDTH) {
            buf_printf(b, "\n%*s", (int)indent, "");
            *col = indent;
            first = true;
        }
        if (!first) {
            buf_append(b, "  ", gap);
            *col += gap;
        }
        buf_append(b, p, word);
        *col += word;
        p += word;
    }
}

/* The default as help shows it ("" when none), into out. */
static void shown_default(const setting_t *s, char *out, size_t cap) {
    out[0] = '\0';
    if (s->shown)
        snprintf(out, cap, "%s", s->shown);
    else if (s->out && s->type == SETTING_NUMBER)
        snprintf(out, cap, "%ld", *(const long *)s->out);
    else if (s->out && s->type == SETTING_TEXT && *(const char *const *)s->out)
        snprintf(out, cap, "%s", *(const char *const *)s->out);
}

/* One setting's entry: its name column, then help with "(ENV, default X)". */
static void help_entry(buf_t *b, const setting_t *s, bool option) {
    size_t start = b->len;
    if (!option)
        buf_printf(b, "  %s", s->env);
    else if (s->letter && s->flag)
        buf_printf(b, "  -%c, --%s", s->letter, s->flag);
    else if (s->flag)
        buf_printf(b, "  --%s", s->flag);
    else
        buf_printf(b, "  -%c", s->letter);
    if (option && s->value)
        buf_printf(b, " %s", s->value);
    size_t col = b->len - start;
    if (col + 1 > HELP_COLUMN) {
        buf_append_str(b, "\n");
        col = 0;
    }
    buf_printf(b, "%*s", (int)(HELP_COLUMN - col), "");
    col = HELP_COLUMN;
    /* "help (required) (ENV, default X)"; a switch is set by ENV=1 */
    char def[256];
    shown_default(s, def, sizeof def);
    buf_t text = BUF_INIT;
    buf_printf(&text, "%s%s", s->help, s->required ? " (required)" : "");
    const char *env = option ? s->env : NULL;
    if (env || def[0])
        buf_printf(&text, " (%s%s%s%s%s)", env ? env : "",
                   env && s->type == SETTING_SWITCH ? "=1" : "", env && def[0] ? ", " : "",
                   def[0] ? "default " : "", def);
    append_wrapped(b, text.data ? text.data : "", HELP_COLUMN, &col);
    buf_free(&text);
    buf_append_str(b, "\n");
}

int settings_help(const settings_spec_t *spec, buf_t *b) {
    size_t before = b->len;
    const char *synopsis = spec->synopsis ? spec->synopsis : "[options]";
    buf_printf(b, "usage: %s%s%s\n", spec->program, *synopsis ? " " : "", synopsis);
    size_t col = 0;
    if (spec->about) {
        buf_append_str(b, "\n");
        append_wrapped(b, spec->about, 0, &col);
        buf_append_str(b, "\n");
    }
    buf_append_str(b, "\n");
    bool environment = false;
    for (size_t i = 0; i < spec->count; i++) {
        const setting_t *s = &spec->settings[i];
        if (s->help && (s->flag || s->letter))
            help_entry(b, s, true);
        environment |= s->help && !s->flag && !s->letter && s->env;
    }
    buf_printf(b, "  -h, --help%*sthis text\n", HELP_COLUMN - 12, "");
    if (environment) {
        buf_append_str(b, "\nenvironment:\n");
        for (size_t i = 0; i < spec->count; i++) {
            const setting_t *s = &spec->settings[i];
            if (s->help && !s->flag && !s->letter && s->env)
                help_entry(b, s, false);
        }
    }
    if (spec->notes) {
        col = 0;
        buf_append_str(b, "\n");
        append_wrapped(b, spec->notes, 0, &col);
        buf_append_str(b, "\n");
    }
    /* A failed append leaves the buffer short of its last newline. */
    return b->len > before && b->data[b->len - 1] == '\n' ? 0 : -ENOMEM;
}

/* ---- reading ---- */

/* How a setting is named in messages: "--port", "-k" or "LCA_PORT". */
static void setting_name(const setting_t *s, bool from_env, char *out, size_t cap) {
    if (from_env)
        snprintf(out, cap, "%s", s->env);
    else if (s->flag)
        snprintf(out, cap, "--%s", s->flag);
    else
        snprintf(out, cap, "-%c", s->letter);
}

/* Stores text into the setting.  A bad value is an error (false, after a
 * line on stderr) on the command line or with strict environment, else a
 * warning that leaves the default. */
static bool apply(const settings_spec_t *spec, const setting_t *s, const char *text, bool from_env,
                  bool by_letter) {
    char name[128], why[256] = "";
    if (by_letter)
        snprintf(name, sizeof name, "-%c", s->letter);
    else
        setting_name(s, from_env, name, sizeof name);
    bool ok = true;
    long n = 0;
    switch (s->type) {
    case SETTING_TEXT:
        *(const char **)s->out = text;
        return true;
    case SETTING_NUMBER:
        ok = from_env ? whole_number(text, s->min, s->max, &n)
                      : settings_parse_long(text, s->min, s->max, &n);
        if (ok)
            *(long *)s->out = n;
        else
            number_wanted(why, sizeof why, s->min, s->max);
        break;
    case SETTING_SWITCH:
        ok = !from_env || whole_number(text, 0, 1, &n);
        if (ok)
            *(bool *)s->out = from_env ? n == 1 : true;
        else
            snprintf(why, sizeof why, "wants 0 or 1");
        break;
    case SETTING_CUSTOM:
        ok = s->parse(text, s->out, why, sizeof why);
        break;
    }
    if (ok)
        return true;
    if (from_env && !spec->strict_environment && !s->strict) {
        log_warn("ignoring %s=%s (%s)", name, text, why);
        return true;
    }
    fprintf(stderr, "%s: %s %s, not \"%s\"\n", spec->program, name, why, text);
    return false;
}

/* The setting a getopt value stands for; NULL for none. */
static const setting_t *setting_of(const settings_spec_t *spec, int opt) {
    if (opt >= OPTION_BASE && (size_t)(opt - OPTION_BASE) < spec->count)
        return &spec->settings[opt - OPTION_BASE];
    for (size_t i = 0; opt > 0 && opt < OPTION_BASE && i < spec->count; i++)
        if (spec->settings[i].letter == opt)
            return &spec->settings[i];
    return NULL;
}

/* The one-line message for what getopt refused (returned '?' or ':'). */
static void option_error(const settings_spec_t *spec, int opt, char **argv) {
    const setting_t *s = setting_of(spec, optopt);
    char name[128];
    if (s) {
        setting_name(s, false, name, sizeof name);
        /* A short option's letter names it better than its long form. */
        if (optopt < OPTION_BASE)
            snprintf(name, sizeof name, "-%c", optopt);
        fprintf(stderr, "%s: %s %s\n", spec->program, name,
                opt == ':' ? "needs a value" : "takes no value");
        return;
    }
    if (optopt > 0 && optopt < OPTION_BASE)
        snprintf(name, sizeof name, "-%c", optopt);
    else
        snprintf(name, sizeof name, "%.*s", (int)strcspn(argv[optind - 1], "="), argv[optind - 1]);
    fprintf(stderr, "%s: unknown option %s (see %s --help)\n", spec->program, name, spec->program);
}

/* Reads argv's options into the settings; marks given[] for each.  Returns
 * SETTINGS_GO_ON or an exit status. */
static int read_options(const settings_spec_t *spec, int argc, char **argv, bool *given,
                        const buf_t *help) {
    struct option *longopts = calloc(spec->count + 2, sizeof *longopts);
    char *letters = malloc(2 * spec->count + 3);
    if (!longopts || !letters) {
        free(longopts);
        free(letters);
        fprintf(stderr, "%s: out of memory\n", spec->program);
        return 2;
    }
    size_t nlong = 0, nletters = 0;
    letters[nletters++] = ':'; /* ':' for a missing value, '?' for the rest */
    letters[nletters++] = 'h';
    for (size_t i = 0; i < spec->count; i++) {
        const setting_t *s = &spec->settings[i];
        int has_arg = s->type == SETTING_SWITCH ? no_argument : required_argument;
        if (s->flag)
            longopts[nlong++] = (struct option){s->flag, has_arg, NULL, OPTION_BASE + (int)i};
        if (s->letter) {
            letters[nletters++] = s->letter;
            if (has_arg == required_argument)
                letters[nletters++] = ':';
        }
    }
    longopts[nlong++] = (struct option){"help", no_argument, NULL, 'h'};
    letters[nletters] = '\0';
    int status = SETTINGS_GO_ON, opt;
    optind = 0; /* start over: a subcommand may read after its command */
    opterr = 0;
    while (status == SETTINGS_GO_ON &&
           (opt = getopt_long(argc, argv, letters, longopts, NULL)) != -1) {
        const setting_t *s = setting_of(spec, opt);
        if (opt == 'h' && !s) {
            fwrite(help->data, 1, help->len, stdout);
            status = 0;
        } else if (opt == '?' || opt == ':' || !s) {
            option_error(spec, opt, argv);
            status = 2;
        } else if (!s->out) {
            given[s - spec->settings] = true;
        } else if (apply(spec, s, s->type == SETTING_SWITCH ? "1" : optarg, false,
                         opt < OPTION_BASE)) {
            given[s - spec->settings] = true;
        } else {
            status = 2;
        }
    }
    free(longopts);
    free(letters);
    return status;
}

int settings_read(const settings_spec_t *spec, int argc, char **argv, int *first_operand) {
    buf_t help = BUF_INIT;
    bool *given = calloc(spec->count + 1, sizeof *given);
    if (settings_help(spec, &help) != 0 || !given) {
        fprintf(stderr, "%s: out of memory\n", spec->program);
        buf_free(&help);
        free(given);
        return 2;
    }
    int status = SETTINGS_GO_ON;
    for (size_t i = 0; i < spec->count && status == SETTINGS_GO_ON; i++) {
        const setting_t *s = &spec->settings[i];
        const char *v = s->env && s->out ? getenv(s->env) : NULL;
        if (!v || !*v)
            continue;
        if (apply(spec, s, v, true, false))
            given[i] = true;
        else
            status = 2;
    }
    if (status == SETTINGS_GO_ON)
        status = read_options(spec, argc, argv, given, &help);
    for (size_t i = 0; i < spec->count && status == SETTINGS_GO_ON; i++) {
        const setting_t *s = &spec->settings[i];
        if (s->required && !given[i]) {
            char name[128];
            setting_name(s, false, name, sizeof name);
            fprintf(stderr, "%s: %s%s%s is required (see %s --help)\n", spec->program, name,
                    s->value ? " " : "", s->value ? s->value : "", spec->program);
            status = 2;
        }
    }
    int operands = argc - optind;
    if (status == SETTINGS_GO_ON && operands < spec->min_operands) {
        fprintf(stderr, "%s: missing %s (see %s --help)\n", spec->program,
                spec->operands ? spec->operands : "arguments", spec->program);
        status = 2;
    } else if (status == SETTINGS_GO_ON && spec->max_operands >= 0 &&
               operands > spec->max_operands) {
        fprintf(stderr, "%s: unexpected argument \"%s\" (see %s --help)\n", spec->program,
                argv[optind + spec->max_operands], spec->program);
        status = 2;
    }
    if (first_operand)
        *first_operand = optind;
    buf_free(&help);
    free(given);
    return status;
}
