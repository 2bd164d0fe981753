/* Numbers from the environment and the command line, read strictly. */
#include "proto/base/settings.h"
#include "tests/test.h"

#include <limits.h>

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

TEST_MAIN(TEST_CASE(environment_numbers_or_the_default),
          TEST_CASE(command_line_numbers_or_an_error))
