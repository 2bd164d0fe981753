/* settings_arg_long: the strict reading of numeric command-line options, and
 * the one line it prints when a value is refused. */
#include "tests/test.h"
#include "proto/base/settings.h"

#include <limits.h>

/* settings_arg_long with stderr caught into message (the line it printed, or
 * "" when it printed nothing). */
static bool arg_long(const char *text, long min, long max, long *out, char *message, size_t len) {
    FILE *caught = tmpfile();
    int saved = dup(2);
    fflush(stderr);
    dup2(fileno(caught), 2);
    bool ok = settings_arg_long("lca-test", "--n", text, min, max, out);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(caught);
    size_t n = fread(message, 1, len - 1, caught);
    message[n] = '\0';
    fclose(caught);
    return ok;
}

TEST(accepts_whole_numbers_in_range) {
    char message[256];
    long n = 0;
    CHECK(arg_long("1", 1, 256, &n, message, sizeof message));
    CHECK_INT(n, ==, 1);
    CHECK(arg_long("256", 1, 256, &n, message, sizeof message));
    CHECK_INT(n, ==, 256);
    CHECK(arg_long("-5", -10, 10, &n, message, sizeof message));
    CHECK_INT(n, ==, -5);
    CHECK(arg_long("+7", 0, 10, &n, message, sizeof message)); /* strtol's sign is fine */
    CHECK_INT(n, ==, 7);
    CHECK(arg_long("007", 0, 10, &n, message, sizeof message)); /* base 10, not octal */
    CHECK_INT(n, ==, 7);
    CHECK(arg_long("9223372036854775807", 0, LONG_MAX, &n, message, sizeof message));
    CHECK_INT(n, ==, LONG_MAX);
    CHECK_STR(message, ""); /* success is silent */
}

TEST(refuses_anything_else_and_leaves_out_alone) {
    /* Spaces are refused on either side: strtol would skip leading ones,
     * and a number that came with them was most likely quoted by mistake. */
    static const char *const junk[] = {
        "",
        "abc",
        "12abc",
        " 12",
        "12 ",
        "-",
        "+",
        "0x10",
        "1e3",
        "1.5",
        "12\n",
        "99999999999999999999",
        "-99999999999999999999",
    };
    char message[256];
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
        long n = 42;
        CHECK(!arg_long(junk[i], -1000, 1000, &n, message, sizeof message));
        CHECK_INT(n, ==, 42);
        CHECK(message[0] != '\0');
    }
}

TEST(refuses_out_of_range) {
    char message[256];
    long n = 42;
    CHECK(!arg_long("0", 1, 256, &n, message, sizeof message));
    CHECK(!arg_long("257", 1, 256, &n, message, sizeof message));
    CHECK(!arg_long("-6", -5, 5, &n, message, sizeof message));
    CHECK_INT(n, ==, 42);
}

TEST(says_what_it_wants_in_one_line) {
    char message[256];
    long n;
    CHECK(!arg_long("abc", 1, 256, &n, message, sizeof message));
    CHECK_STR(message, "lca-test: --n wants a whole number from 1 to 256, not \"abc\"\n");
    /* No upper bound is printed when there is none. */
    CHECK(!arg_long("12abc", 100, LONG_MAX, &n, message, sizeof message));
    CHECK_STR(message, "lca-test: --n wants a whole number of at least 100, not \"12abc\"\n");
}

TEST_MAIN(TEST_CASE(accepts_whole_numbers_in_range),
          TEST_CASE(refuses_anything_else_and_leaves_out_alone), TEST_CASE(refuses_out_of_range),
          TEST_CASE(says_what_it_wants_in_one_line))
