/*
 * Tests of deploy/util, the helpers every `lca` subcommand uses: the
 * directory of the running binary (where `lca` finds its siblings), an
 * environment setting that falls back when unset or empty, free words
 * joined into one question, and running a sibling binary in place of
 * `lca` with the subcommand's arguments (`lca seed`) or saying why not.
 */
#include "deploy/commands.h"
#include "tests/command.h"
#include "tests/fixture.h"
#include "tests/proc.h"

#include <libgen.h>

TEST(the_bindir_is_where_this_binary_lives) {
    char self[PATH_MAX];
    REQUIRE(realpath("/proc/self/exe", self) != NULL);
    const char *dir = command_bindir();
    CHECK_STR(dir, dirname(self));
    CHECK(command_bindir() == dir); /* worked out once */
}

TEST(an_empty_or_missing_variable_gives_the_fallback) {
    setenv("LCA_UTIL_TEST", "value", 1);
    CHECK_STR(command_env("LCA_UTIL_TEST", "fallback"), "value");
    setenv("LCA_UTIL_TEST", "", 1);
    CHECK_STR(command_env("LCA_UTIL_TEST", "fallback"), "fallback");
    CHECK(command_env("LCA_UTIL_TEST", NULL) == NULL);
    unsetenv("LCA_UTIL_TEST");
    CHECK_STR(command_env("LCA_UTIL_TEST", "fallback"), "fallback");
    CHECK(command_env("LCA_UTIL_TEST", NULL) == NULL);
}

TEST(words_are_joined_with_one_space_from_the_first_operand) {
    char *argv[] = {"ask", "-m", "m1", "how", "does", "the cache", "work?"};
    buf_t out = BUF_INIT;
    command_join_args(7, argv, 3, &out);
    CHECK_STR(out.data, "how does the cache work?");
    buf_reset(&out);
    command_join_args(7, argv, 6, &out);
    CHECK_STR(out.data, "work?");
    buf_reset(&out);
    command_join_args(7, argv, 7, &out); /* no words: nothing at all */
    CHECK_INT(out.len, ==, 0);
    /* Appends to what the buffer holds. */
    buf_append_str(&out, ">");
    command_join_args(7, argv, 4, &out);
    CHECK_STR(out.data, ">does the cache work?");
    buf_free(&out);
}

TEST(a_missing_sibling_is_exit_status_127_with_the_reason) {
    char *argv[] = {"seed", "--watch", NULL};
    output_t o;
    output_begin(&o);
    int rc = command_exec("lca-no-such-binary", 2, argv);
    output_end(&o);
    CHECK_INT(rc, ==, 127);
    char expected[PATH_MAX + 128];
    snprintf(expected, sizeof expected,
             "lca: cannot run %s/lca-no-such-binary: No such file or directory\n",
             command_bindir());
    CHECK_STR(o.err, expected);
    CHECK_STR(o.out, "");
    output_free(&o);
}

TEST(a_sibling_runs_in_place_of_lca_with_the_arguments) {
    /* The sibling is a script in a temporary directory, named from the
     * binary's directory through enough "../" to reach the root. */
    const char *tmp = proc_tmpdir();
    REQUIRE(tmp != NULL);
    char script[PATH_MAX], args_file[PATH_MAX], text[PATH_MAX + 256];
    snprintf(args_file, sizeof args_file, "%s/args", tmp);
    snprintf(script, sizeof script, "%s/lca-sibling", tmp);
    snprintf(text, sizeof text, "#!/bin/sh\nprintf '%%s\\n' \"$0\" \"$@\" > %s\nexit 7\n",
             args_file);
    REQUIRE(fixture_write_text(NULL, script, text) == 0);
    REQUIRE(chmod(script, 0755) == 0);
    char relative[PATH_MAX] = "";
    for (const char *p = command_bindir(); *p; p++)
        if (*p == '/')
            strcat(relative, "../");
    strcat(relative, script + 1);

    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        char *argv[] = {"seed", "/some/repo", "--collection", "two words", NULL};
        command_exec(relative, 4, argv);
        _exit(99); /* not reached when the script ran */
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 7);
    FILE *f = fopen(args_file, "r");
    REQUIRE(f != NULL);
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    char expected[2 * PATH_MAX];
    snprintf(expected, sizeof expected, "%s/%s\n/some/repo\n--collection\ntwo words\n",
             command_bindir(), relative);
    CHECK_STR(text, expected);
    proc_shell("rm -rf %s", tmp);
}

TEST_MAIN(TEST_CASE(the_bindir_is_where_this_binary_lives),
          TEST_CASE(an_empty_or_missing_variable_gives_the_fallback),
          TEST_CASE(words_are_joined_with_one_space_from_the_first_operand),
          TEST_CASE(a_missing_sibling_is_exit_status_127_with_the_reason),
          TEST_CASE(a_sibling_runs_in_place_of_lca_with_the_arguments))
