/* Tests of seeder/ignore: the gitignore subset. */
#include "seeder/ignore.h"

#include <string.h>

#include "tests/test.h"

static ignore_t *make(const char *text) {
    ignore_t *ignore = ignore_new();
    if (ignore && ignore_add_text(ignore, text, strlen(text)) != 0)
        ignore_destroy(&ignore);
    return ignore;
}

#define EXCLUDED(ig, path, dir) (ignore_match_path((ig), (path), (dir)) == IGNORE_EXCLUDED)

TEST(comments_blank_lines_and_escapes) {
    ignore_t *ig = make("# a comment\n\n   \n\\#hash\n\\!bang\ntrailing   \nkept\\ \r\n");
    REQUIRE(ig);
    CHECK_INT(ignore_count(ig), ==, 4);
    CHECK(EXCLUDED(ig, "#hash", false));
    CHECK(EXCLUDED(ig, "!bang", false));
    CHECK(EXCLUDED(ig, "trailing", false));
    CHECK(EXCLUDED(ig, "kept\\ ", false) || EXCLUDED(ig, "kept ", false));
    CHECK(!EXCLUDED(ig, "a comment", false));
    CHECK_INT(ignore_match_path(ig, "other", false), ==, IGNORE_NO_MATCH);
    ignore_destroy(&ig);
    CHECK(ig == NULL);
    ignore_destroy(&ig);
}

TEST(basename_patterns_match_at_any_depth) {
    ignore_t *ig = make("*.log\ncore\n");
    REQUIRE(ig);
    CHECK(EXCLUDED(ig, "x.log", false));
    CHECK(EXCLUDED(ig, "a/b/x.log", false));
    CHECK(EXCLUDED(ig, "a/core", true));
    CHECK(!EXCLUDED(ig, "a/core.c", false));
    CHECK(!EXCLUDED(ig, "x.log.txt", false));
    ignore_destroy(&ig);
}

TEST(negation_last_match_wins) {
    ignore_t *ig = make("*.log\n!keep.log\n");
    REQUIRE(ig);
    CHECK(EXCLUDED(ig, "drop.log", false));
    CHECK_INT(ignore_match_path(ig, "keep.log", false), ==, IGNORE_INCLUDED);
    CHECK_INT(ignore_match_path(ig, "sub/keep.log", false), ==, IGNORE_INCLUDED);
    ignore_destroy(&ig);
    ig = make("!keep.log\n*.log\n");
    REQUIRE(ig);
    CHECK(EXCLUDED(ig, "keep.log", false)); /* the later pattern wins */
    ignore_destroy(&ig);
}

TEST(directory_only_patterns) {
    ignore_t *ig = make("build/\n");
    REQUIRE(ig);
    CHECK(EXCLUDED(ig, "build", true));
    CHECK(EXCLUDED(ig, "src/build", true));
    CHECK(!EXCLUDED(ig, "build", false));
    ignore_destroy(&ig);
}

TEST(anchored_patterns) {
    ignore_t *ig = make("/todo.txt\ndoc/*.md\n/out/\n");
    REQUIRE(ig);
    CHECK(EXCLUDED(ig, "todo.txt", false));
    CHECK(!EXCLUDED(ig, "sub/todo.txt", false));
    CHECK(EXCLUDED(ig, "doc/a.md", false));
    CHECK(!EXCLUDED(ig, "doc/sub/a.md", false)); /* `*` does not cross `/` */
    CHECK(!EXCLUDED(ig, "x/doc/a.md", false));
    CHECK(EXCLUDED(ig, "out", true));
    CHECK(!EXCLUDED(ig, "src/out", true));
    ignore_destroy(&ig);
}

TEST(double_star) {
    ignore_t *ig = make("**/cache\nlogs/**\na/**/z.txt\n");
    REQUIRE(ig);
    CHECK(EXCLUDED(ig, "cache", true));
    CHECK(EXCLUDED(ig, "x/y/cache", false));
    CHECK(EXCLUDED(ig, "logs/a", false));
    CHECK(EXCLUDED(ig, "logs/a/b", false));
    CHECK(!EXCLUDED(ig, "logs", true));
    CHECK(EXCLUDED(ig, "a/z.txt", false));
    CHECK(EXCLUDED(ig, "a/b/c/z.txt", false));
    CHECK(!EXCLUDED(ig, "b/a/z.txt", false));
    ignore_destroy(&ig);
}

TEST(wildcards_and_classes) {
    ignore_t *ig = make("file?.c\n[abc]x\n[!0-9]y\nlit[\n");
    REQUIRE(ig);
    CHECK(EXCLUDED(ig, "file1.c", false));
    CHECK(!EXCLUDED(ig, "file12.c", false));
    CHECK(EXCLUDED(ig, "bx", false));
    CHECK(!EXCLUDED(ig, "dx", false));
    CHECK(EXCLUDED(ig, "ay", false));
    CHECK(!EXCLUDED(ig, "5y", false));
    CHECK(EXCLUDED(ig, "lit[", false)); /* an unclosed bracket is literal */
    ignore_destroy(&ig);
}

TEST(hostile_pattern_terminates) {
    ignore_t *ig = make("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b\n");
    REQUIRE(ig);
    CHECK(!EXCLUDED(ig, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false));
    ignore_destroy(&ig);
}

TEST_MAIN(TEST_CASE(comments_blank_lines_and_escapes),
          TEST_CASE(basename_patterns_match_at_any_depth), TEST_CASE(negation_last_match_wins),
          TEST_CASE(directory_only_patterns), TEST_CASE(anchored_patterns), TEST_CASE(double_star),
          TEST_CASE(wildcards_and_classes), TEST_CASE(hostile_pattern_terminates))
