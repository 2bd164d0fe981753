/*
 * Tests of proto/base/settings' table reader: defaults, the environment,
 * then the command line; every kind of setting; operands in any position;
 * one-line errors for every fault; and a --help that names every option
 * and variable of the table with its default, in lines that fit.
 */
#include "proto/base/settings.h"
#include "tests/capture.h"
#include "tests/test.h"

#include <limits.h>
#include <stdlib.h>

static char errors[2048];  /* what the last read wrote on stderr */
static char printed[4096]; /* and on stdout */

/* Puts fd back (tests/capture.h) and copies what was written into out. */
static void release(capture_t *c, char *out, size_t cap) {
    char *text = capture_end(c);
    snprintf(out, cap, "%s", text ? text : "");
    free(text);
}

/* settings_read() on a copy of args (NULL-terminated) with its output caught. */
static int read_args(const settings_spec_t *spec, const char *const *args, int *first) {
    char *argv[32];
    int argc = 0;
    for (; args[argc] && argc < 31; argc++)
        argv[argc] = (char *)args[argc];
    argv[argc] = NULL;
    capture_t err, out;
    capture_begin(&err, 2);
    capture_begin(&out, 1);
    int rc = settings_read(spec, argc, argv, first);
    release(&out, printed, sizeof printed);
    release(&err, errors, sizeof errors);
    return rc;
}

/* A spec like a service's: every kind of setting. */
typedef struct {
    const char *host, *curve;
    long port, threads;
    bool insecure, verbose;
    int pair[2];
} values_t;

static bool parse_pair(const char *text, void *out, char *why, size_t why_len) {
    int *pair = out;
    long a, b;
    const char *slash = strchr(text, '/');
    char left[16];
    snprintf(why, why_len, "wants A/B");
    if (!slash || slash - text >= (long)sizeof left)
        return false;
    snprintf(left, sizeof left, "%.*s", (int)(slash - text), text);
    if (!settings_parse_long(left, 0, 99, &a) || !settings_parse_long(slash + 1, 0, 99, &b))
        return false;
    pair[0] = (int)a, pair[1] = (int)b;
    return true;
}

static values_t v;
static setting_t table[7];
static settings_spec_t spec;

static void reset(void) {
    v = (values_t){.host = "127.0.0.1", .port = 11435, .threads = 4, .pair = {-1, -1}};
    const setting_t fresh[] = {
        {"host", 0, "T_HOST", SETTING_TEXT, "ADDR", "HTTP address", .out = &v.host},
        {"port", 'p', "T_PORT", SETTING_NUMBER, "N", "HTTP port", .min = 0, .max = 65535,
         .out = &v.port},
        {"threads", 0, "T_THREADS", SETTING_NUMBER, "N", "threads", .shown = "cores", .min = 1,
         .max = 256, .out = &v.threads},
        {"insecure", 0, "T_INSECURE", SETTING_SWITCH, NULL, "anyone may call", .out = &v.insecure},
        {"verbose", 'v', NULL, SETTING_SWITCH, NULL, "say more", .out = &v.verbose},
        {"pair", 0, NULL, SETTING_CUSTOM, "A/B", "two numbers", .out = v.pair, .parse = parse_pair},
        {NULL, 0, "T_CURVE", SETTING_TEXT, NULL, "client keys", .out = &v.curve},
    };
    memcpy(table, fresh, sizeof table);
    spec = (settings_spec_t){.program = "t-prog",
                             .synopsis = "DIR [options]",
                             .about = "Does what a test program does.",
                             .settings = table,
                             .count = 7,
                             .operands = "DIR",
                             .min_operands = 1,
                             .max_operands = 1};
    static const char *const vars[] = {"T_HOST", "T_PORT", "T_THREADS", "T_INSECURE", "T_CURVE"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        unsetenv(vars[i]);
}

TEST(defaults_then_environment_then_command_line) {
    reset();
    int first = -1;
    CHECK_INT(read_args(&spec, (const char *[]){"t", "dir", NULL}, &first), ==, SETTINGS_GO_ON);
    CHECK_STR(v.host, "127.0.0.1");
    CHECK_INT(v.port, ==, 11435);
    CHECK(!v.insecure && !v.verbose && !v.curve);
    CHECK_INT(first, ==, 1);
    CHECK_STR(errors, "");

    reset();
    setenv("T_HOST", "0.0.0.0", 1);
    setenv("T_PORT", "8080", 1);
    setenv("T_INSECURE", "1", 1);
    setenv("T_CURVE", "/keys", 1);
    setenv("T_THREADS", "", 1); /* empty: as if unset */
    CHECK_INT(read_args(&spec, (const char *[]){"t", "dir", NULL}, &first), ==, SETTINGS_GO_ON);
    CHECK_STR(v.host, "0.0.0.0");
    CHECK_INT(v.port, ==, 8080);
    CHECK_INT(v.threads, ==, 4);
    CHECK(v.insecure);
    CHECK_STR(v.curve, "/keys");

    /* Options beat variables; operands may stand anywhere. */
    setenv("T_HOST", "0.0.0.0", 1);
    setenv("T_PORT", "8080", 1);
    const char *args[] = {"t",  "--host=::1", "dir", "-p",        "9000", "--insecure",
                          "-v", "--pair",     "3/4", "--threads", "16",   NULL};
    char *copy[16];
    int argc = 0;
    for (; args[argc]; argc++)
        copy[argc] = (char *)args[argc];
    copy[argc] = NULL;
    CHECK_INT(settings_read(&spec, argc, copy, &first), ==, SETTINGS_GO_ON);
    CHECK_STR(v.host, "::1");
    CHECK_INT(v.port, ==, 9000);
    CHECK_INT(v.threads, ==, 16);
    CHECK(v.verbose);
    CHECK_INT(v.pair[0], ==, 3);
    CHECK_INT(v.pair[1], ==, 4);
    REQUIRE(first == argc - 1);
    CHECK_STR(copy[first], "dir");
    reset();
}

TEST(a_bad_variable_is_a_warning_unless_strict) {
    reset();
    setenv("T_PORT", "12abc", 1);
    setenv("T_INSECURE", "yes", 1);
    int first;
    CHECK_INT(read_args(&spec, (const char *[]){"t", "dir", NULL}, &first), ==, SETTINGS_GO_ON);
    CHECK_INT(v.port, ==, 11435);
    CHECK(!v.insecure);
    CHECK(strstr(errors, "ignoring T_PORT=12abc (wants a whole number from 0 to 65535)") != NULL);
    CHECK(strstr(errors, "ignoring T_INSECURE=yes (wants 0 or 1)") != NULL);
    spec.strict_environment = true;
    CHECK_INT(read_args(&spec, (const char *[]){"t", "dir", NULL}, &first), ==, 2);
    CHECK_STR(errors, "t-prog: T_PORT wants a whole number from 0 to 65535, not \"12abc\"\n");
    reset();
    /* A strict setting stops the program whatever the program's environment. */
    setenv("T_THREADS", "300", 1);
    CHECK_INT(read_args(&spec, (const char *[]){"t", "dir", NULL}, &first), ==, SETTINGS_GO_ON);
    CHECK_INT(v.threads, ==, 4);
    table[2].strict = true;
    CHECK_INT(read_args(&spec, (const char *[]){"t", "dir", NULL}, &first), ==, 2);
    CHECK_STR(errors, "t-prog: T_THREADS wants a whole number from 1 to 256, not \"300\"\n");
    CHECK_INT(v.threads, ==, 4);
    reset();
}

TEST(every_fault_is_one_line_and_exit_status_2) {
    static const struct {
        const char *args[6];
        const char *message;
    } cases[] = {
        {{"t", "dir", "--port", "12abc"},
         "t-prog: --port wants a whole number from 0 to 65535, not \"12abc\"\n"},
        {{"t", "dir", "-p", " 80"},
         "t-prog: -p wants a whole number from 0 to 65535, not \" 80\"\n"},
        {{"t", "dir", "--port"}, "t-prog: --port needs a value\n"},
        {{"t", "dir", "-p"}, "t-prog: -p needs a value\n"},
        {{"t", "dir", "--insecure=1"}, "t-prog: --insecure takes no value\n"},
        {{"t", "dir", "--bogus=3"}, "t-prog: unknown option --bogus (see t-prog --help)\n"},
        {{"t", "dir", "-x"}, "t-prog: unknown option -x (see t-prog --help)\n"},
        {{"t", "dir", "--pair", "3-4"}, "t-prog: --pair wants A/B, not \"3-4\"\n"},
        {{"t"}, "t-prog: missing DIR (see t-prog --help)\n"},
        {{"t", "a", "b"}, "t-prog: unexpected argument \"b\" (see t-prog --help)\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        reset();
        int first;
        CHECK_INT(read_args(&spec, cases[i].args, &first), ==, 2);
        CHECK_STR(errors, cases[i].message);
    }
    /* A required setting. */
    reset();
    table[5].required = true;
    int first;
    CHECK_INT(read_args(&spec, (const char *[]){"t", "dir", NULL}, &first), ==, 2);
    CHECK_STR(errors, "t-prog: --pair A/B is required (see t-prog --help)\n");
    CHECK_INT(read_args(&spec, (const char *[]){"t", "dir", "--pair=1/2", NULL}, &first), ==,
              SETTINGS_GO_ON);
    reset();
}

TEST(help_names_every_setting_with_its_default) {
    reset();
    buf_t help = BUF_INIT;
    REQUIRE(settings_help(&spec, &help) == 0);
    static const char *const wanted[] = {
        "usage: t-prog DIR [options]\n",
        "Does what a test program does.",
        "--host ADDR",
        "HTTP address (T_HOST, default 127.0.0.1)",
        "-p, --port N",
        "(T_PORT, default 11435)",
        "(T_THREADS, default cores)",
        "--insecure",
        "(T_INSECURE=1)",
        "-v, --verbose",
        "--pair A/B",
        "-h, --help",
        "environment:\n  T_CURVE",
    };
    for (size_t i = 0; i < sizeof wanted / sizeof wanted[0]; i++) {
        if (!strstr(help.data, wanted[i]))
            fprintf(stderr, "  not in help: %s\n", wanted[i]);
        CHECK(strstr(help.data, wanted[i]) != NULL);
    }
    for (const char *line = help.data; *line;) {
        size_t len = strcspn(line, "\n");
        CHECK_INT(len, <, 80);
        line += len + (line[len] == '\n');
    }
    /* --help prints it on stdout and ends the program well. */
    int first;
    CHECK_INT(read_args(&spec, (const char *[]){"t", "--help", NULL}, &first), ==, 0);
    CHECK_STR(printed, help.data);
    CHECK_STR(errors, "");
    CHECK_INT(read_args(&spec, (const char *[]){"t", "-h", NULL}, &first), ==, 0);
    CHECK_STR(printed, help.data);
    buf_free(&help);
    /* The defaults shown are the ones before the environment. */
    setenv("T_PORT", "8080", 1);
    buf_t after = BUF_INIT;
    CHECK_INT(read_args(&spec, (const char *[]){"t", "dir", NULL}, &first), ==, SETTINGS_GO_ON);
    reset();
    REQUIRE(settings_help(&spec, &after) == 0);
    CHECK(strstr(after.data, "default 11435") != NULL);
    buf_free(&after);
}

TEST(numbers_are_read_strictly) {
    long n = 0;
    CHECK(settings_parse_long("42", 0, 100, &n) && n == 42);
    CHECK(settings_parse_long("-5", -5, 5, &n) && n == -5);
    CHECK(!settings_parse_long(" 1", 0, 100, &n));
    CHECK(!settings_parse_long("1 ", 0, 100, &n));
    CHECK(!settings_parse_long("0x10", 0, 100, &n));
    CHECK(!settings_parse_long("", 0, 100, &n));
    CHECK(!settings_parse_long("101", 0, 100, &n));
    CHECK(!settings_parse_long("99999999999999999999", 0, LONG_MAX, &n));
    CHECK_INT(n, ==, -5);
    setenv("T_N", "7", 1);
    CHECK_INT(settings_env_long("T_N", 3, 0, 10), ==, 7);
    setenv("T_N", "70", 1);
    CHECK_INT(settings_env_long("T_N", 3, 0, 10), ==, 3);
    unsetenv("T_N");
    CHECK_INT(settings_env_long("T_N", 3, 0, 10), ==, 3);
}

TEST(environment_numbers_or_the_default) {
    unsetenv("LCA_TEST_N");
    CHECK_INT(settings_env_long("LCA_TEST_N", 7, 1, 10), ==, 7);
    setenv("LCA_TEST_N", "9", 1);
    CHECK_INT(settings_env_long("LCA_TEST_N", 7, 1, 10), ==, 9);
    setenv("LCA_TEST_N", "-3", 1);
    CHECK_INT(settings_env_long("LCA_TEST_N", 7, -5, 10), ==, -3);
    const char *bad[] = {"11", "0", "9x", "x9", "1.5", "99999999999999999999999", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setenv("LCA_TEST_N", bad[i], 1);
        CHECK_INT(settings_env_long("LCA_TEST_N", 7, 1, 10), ==, 7);
    }
    unsetenv("LCA_TEST_N");
}

TEST(command_line_numbers_or_an_error) {
    long out = -1;
    CHECK(settings_arg_long("lca", "--k", "5", 1, 10, &out));
    CHECK_INT(out, ==, 5);
    CHECK(settings_arg_long("lca", "--k", "+4", 1, LONG_MAX, &out));
    CHECK_INT(out, ==, 4);
    const char *bad[] = {" 5", "5 ", "0", "11", "five", "", "0x5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        out = -1;
        CHECK(!settings_arg_long("lca", "--k", bad[i], 1, 10, &out));
        CHECK_INT(out, ==, -1); /* left alone */
    }
}

TEST_MAIN(TEST_CASE(defaults_then_environment_then_command_line),
          TEST_CASE(a_bad_variable_is_a_warning_unless_strict),
          TEST_CASE(every_fault_is_one_line_and_exit_status_2),
          TEST_CASE(help_names_every_setting_with_its_default),
          TEST_CASE(numbers_are_read_strictly), TEST_CASE(environment_numbers_or_the_default),
          TEST_CASE(command_line_numbers_or_an_error))
