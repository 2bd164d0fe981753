/* Repository paths: joining, parents, directories and reading small files. */
#include "proto/code/repopath.h"
#include "tests/fixture.h"
#include "tests/test.h"

static const char *join(const char *dir, const char *rel) {
    static char out[256];
    return repopath_join(dir, rel, out, sizeof out) ? out : "(none)";
}

TEST(join_folds_dots) {
    CHECK_STR(join("src/app", "./util.js"), "src/app/util.js");
    CHECK_STR(join("src/app", "../lib/x.ts"), "src/lib/x.ts");
    CHECK_STR(join("", "a/b"), "a/b");
    CHECK_STR(join("a", "b/./c/../d"), "a/b/d");
    CHECK_STR(join("a//b", "c"), "a/b/c");
    CHECK_STR(join("a", "b/"), "a/b");
}

TEST(join_never_leaves_the_root) {
    CHECK_STR(join("", "../x"), "(none)");
    CHECK_STR(join("a", "../../x"), "(none)");
    CHECK_STR(join("a", ".."), "(none)"); /* the root itself is empty */
    CHECK_STR(join("", ""), "(none)");
    char small[6];
    CHECK(!repopath_join("abc", "def", small, sizeof small)); /* does not fit */
    CHECK(repopath_join("ab", "c", small, sizeof small));
    CHECK_STR(small, "ab/c");
}

TEST(dirname_and_parent) {
    char dir[8];
    repopath_dirname("a/b/c.py", dir, sizeof dir);
    CHECK_STR(dir, "a/b");
    repopath_dirname("top.py", dir, sizeof dir);
    CHECK_STR(dir, "");
    repopath_dirname("abcdefghij/x", dir, sizeof dir);
    CHECK_STR(dir, "abcdefg"); /* cut to fit */
    char path[] = "a/b/c";
    CHECK(repopath_parent(path));
    CHECK_STR(path, "a/b");
    CHECK(repopath_parent(path) && repopath_parent(path));
    CHECK_STR(path, "");
    CHECK(!repopath_parent(path));
}

TEST(read_text_reads_at_most_max_bytes) {
    char root[64];
    REQUIRE(fixture_tmpdir(root, sizeof root, "repopath"));
    REQUIRE(fixture_write_text(root, "go.mod", "module example.com/shop\n") == 0);
    char *text = repopath_read_text(root, "go.mod", 1024);
    CHECK_STR(text, "module example.com/shop\n");
    free(text);
    text = repopath_read_text(root, "go.mod", 6);
    CHECK_STR(text, "module");
    free(text);
    CHECK(repopath_read_text(root, "missing.toml", 64) == NULL);
    fixture_remove_tree(root);
}

/* A config that is, or sits behind, a symlink out of the repository is not
 * read; one that stays inside is. */
TEST(read_text_stays_inside_the_root) {
    char root[64], outside[64];
    REQUIRE(fixture_tmpdir(root, sizeof root, "repopath") &&
            fixture_tmpdir(outside, sizeof outside, "repopath-out"));
    char path[128], target[128];
    REQUIRE(fixture_write_text(outside, "Cargo.toml", "[package]\nname = \"elsewhere\"\n") == 0);
    snprintf(path, sizeof path, "%s/Cargo.toml", root);
    snprintf(target, sizeof target, "%s/Cargo.toml", outside);
    CHECK_INT(symlink(target, path), ==, 0);
    snprintf(path, sizeof path, "%s/sub", root);
    CHECK_INT(symlink(outside, path), ==, 0);
    snprintf(path, sizeof path, "%s/alias.toml", root);
    CHECK_INT(symlink("sub/../Cargo.toml", path), ==, 0); /* climbs out through sub */
    CHECK(repopath_read_text(root, "Cargo.toml", 64) == NULL);
    CHECK(repopath_read_text(root, "sub/Cargo.toml", 64) == NULL);
    CHECK(repopath_read_text(root, "alias.toml", 64) == NULL);
    CHECK(repopath_read_text(root, "sub", 64) == NULL); /* nor a directory */
    REQUIRE(fixture_write_text(root, "real.toml", "inside\n") == 0);
    snprintf(path, sizeof path, "%s/link.toml", root);
    CHECK_INT(symlink("real.toml", path), ==, 0);
    char *text = repopath_read_text(root, "link.toml", 64);
    CHECK_STR(text, "inside\n");
    free(text);
    fixture_remove_tree(root);
    fixture_remove_tree(outside);
}

TEST(test_paths_by_convention) {
    static const char *const tests[] = {"tests/io_read.rs", "src/test/java/a/BTest.java",
                                        "pkg/a_test.go",    "a/test_x.py",
                                        "a/x_test.py",      "lib/__tests__/a.js",
                                        "src/a.test.ts",    "src/a.spec.tsx",
                                        "spec/a.rb",        "a/conftest.py",
                                        "x/testdata/y.go",  "a/CartTests.kt",
                                        "test/a.c"};
    static const char *const others[] = {"src/io/read.rs",
                                         "pkg/testing.go",
                                         "sqlalchemy/testing/fixtures.py",
                                         "a/latest.py",
                                         "a/contest.py",
                                         "a/Test.java",
                                         "a/test_.py",
                                         "a/Attest.java",
                                         "src/protest/a.js",
                                         "",
                                         "tests.go"};
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
        CHECK(repopath_is_test(tests[i]));
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
        CHECK(!repopath_is_test(others[i]));
    CHECK(!repopath_is_test(NULL));
}

/* The file a test tests, by its name; nothing for a file that names none. */
TEST(a_tests_subject_by_its_name) {
    static const char *const tests[][2] = {{"nx/flow/tests/test_mincost.py", "mincost"},
                                           {"a/mincost_test.py", "mincost"},
                                           {"plumbing/object_test.go", "object"},
                                           {"lib/rules/indent.test.js", "indent"},
                                           {"src/pipe.spec.ts", "pipe"},
                                           {"src/test/java/a/CartTest.java", "Cart"},
                                           {"a/CartTests.kt", "Cart"},
                                           {"test_x.py", "x"}};
    char out[64];
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        CHECK_INT(repopath_test_subject(tests[i][0], out, sizeof out), ==, strlen(tests[i][1]));
        CHECK_STR(out, tests[i][1]);
    }
    static const char *const none[] = {"a/conftest.py", "tests/fs_dir.rs", "a/test_.py",
                                       "a/Test.java",   "a/_test.go",      "a/mincost.py",
                                       "test/a.c",      "a/test_x.pyc",    ""};
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
        CHECK_INT(repopath_test_subject(none[i], out, sizeof out), ==, 0);
        CHECK_STR(out, "");
    }
    CHECK_INT(repopath_test_subject(NULL, out, sizeof out), ==, 0);
    char small[4];
    CHECK_INT(repopath_test_subject("test_mincost.py", small, sizeof small), ==, 0);
    CHECK_STR(small, "");
}

TEST_MAIN(TEST_CASE(join_folds_dots), TEST_CASE(test_paths_by_convention),
          TEST_CASE(join_never_leaves_the_root), TEST_CASE(dirname_and_parent),
          TEST_CASE(a_tests_subject_by_its_name), TEST_CASE(read_text_reads_at_most_max_bytes),
          TEST_CASE(read_text_stays_inside_the_root))
