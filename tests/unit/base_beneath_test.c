/* Tests of proto/base/beneath: opening below a directory fd, symlinks that
 * stay inside followed, every way out refused; each case both through
 * beneath_open() (openat2 where the kernel has it) and through the user-space
 * walk it falls back to. */
#define _XOPEN_SOURCE 700
#include "proto/base/beneath.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/fixture.h"
#include "tests/test.h"

static char root[64], outside[64]; /* short: every path built from them fits PATH_MAX */
static int root_fd = -1;

static void link_at(const char *rel, const char *target) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    if (symlink(target, path) != 0)
        fprintf(stderr, "  symlink %s: %s\n", rel, strerror(errno));
}

/* What opening rel gives, both ways: the file's text, or "-ERRNONAME". */
typedef int (*open_fn)(int, const char *);

static const char *outcome(open_fn open_below, const char *rel) {
    static char text[256];
    int fd = open_below(root_fd, rel);
    if (fd < 0) {
        snprintf(text, sizeof text, "%s",
                 fd == -EXDEV     ? "-EXDEV"
                 : fd == -ELOOP   ? "-ELOOP"
                 : fd == -ENOENT  ? "-ENOENT"
                 : fd == -ENOTDIR ? "-ENOTDIR"
                                  : strerror(-fd));
        return text;
    }
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    text[n > 0 ? n : 0] = '\0';
    return text;
}

#define BOTH_WAYS(rel, want)                                                                       \
    do {                                                                                           \
        CHECK_STR(outcome(beneath_open, rel), want);                                               \
        CHECK_STR(outcome(beneath_open_walk, rel), want);                                          \
    } while (0)

static void teardown(void) {
    if (root_fd >= 0)
        close(root_fd);
    fixture_remove_tree(root);
    fixture_remove_tree(outside);
}

/* The trees, made once for the whole file. */
static bool setup(void) {
    if (root_fd >= 0)
        return true;
    if (!fixture_tmpdir(root, sizeof root, "beneath") ||
        !fixture_tmpdir(outside, sizeof outside, "beneath-out"))
        return false;
    static const fixture_file_t inside_files[] = {{"top.c", "top\n"},
                                                  {"plain.c", "plain\n"},
                                                  {"src/real.c", "real\n"},
                                                  {"src/deep/leaf.c", "leaf\n"},
                                                  {NULL, NULL}};
    static const fixture_file_t outside_files[] = {
        {"secret.c", "SECRET\n"}, {"src/real.c", "SECRET real\n"}, {NULL, NULL}};
    if (fixture_write_tree(root, inside_files) != 0 ||
        fixture_write_tree(outside, outside_files) != 0)
        return false;
    root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    test_before_exit = teardown;
    return root_fd >= 0;
}

TEST(plain_paths_open) {
    REQUIRE(setup());
    BOTH_WAYS("top.c", "top\n");
    BOTH_WAYS("src/real.c", "real\n");
    BOTH_WAYS("./src//deep/leaf.c", "leaf\n");
    BOTH_WAYS("src/deep/../real.c", "real\n"); /* `..` that stays inside */
    BOTH_WAYS("missing.c", "-ENOENT");
    BOTH_WAYS("top.c/x", "-ENOTDIR");
    BOTH_WAYS("", "-ENOENT");
}

TEST(paths_out_of_the_root_are_refused) {
    REQUIRE(setup());
    BOTH_WAYS("../x", "-EXDEV");
    BOTH_WAYS("src/../../x", "-EXDEV");
    BOTH_WAYS("/etc/hostname", "-EXDEV");
    CHECK_INT(beneath_open(root_fd, NULL), ==, -EXDEV);
}

TEST(symlinks_inside_the_root_are_followed) {
    REQUIRE(setup());
    char absolute[PATH_MAX + 32], real_root[PATH_MAX];
    REQUIRE(realpath(root, real_root));
    link_at("alias.c", "src/real.c");
    link_at("src/up.c", "../top.c");
    link_at("lib", "src");
    link_at("chain.c", "alias.c");
    snprintf(absolute, sizeof absolute, "%s/src/deep/leaf.c", real_root);
    link_at("absolute.c", absolute);
    snprintf(absolute, sizeof absolute, "%s/src", real_root);
    link_at("absdir", absolute);
    BOTH_WAYS("alias.c", "real\n");
    BOTH_WAYS("src/up.c", "top\n");
    BOTH_WAYS("lib/real.c", "real\n");
    BOTH_WAYS("lib/deep/../real.c", "real\n");
    BOTH_WAYS("chain.c", "real\n");
    BOTH_WAYS("absolute.c", "leaf\n");
    BOTH_WAYS("absdir/deep/leaf.c", "leaf\n");
}

TEST(symlinks_out_of_the_root_are_refused) {
    REQUIRE(setup());
    char target[PATH_MAX];
    snprintf(target, sizeof target, "%s/secret.c", outside);
    link_at("escape.c", target);
    link_at("climb.c", "../../../../../../../etc/hostname");
    link_at("src/sneak.c", "../../x");
    link_at("outdir", outside);
    link_at("parent", "..");
    link_at("loop_a", "loop_b");
    link_at("loop_b", "loop_a");
    link_at("dangling.c", "nowhere.c");
    BOTH_WAYS("escape.c", "-EXDEV");
    BOTH_WAYS("climb.c", "-EXDEV");
    BOTH_WAYS("src/sneak.c", "-EXDEV");
    BOTH_WAYS("outdir/secret.c", "-EXDEV");
    BOTH_WAYS("parent/top.c", "-EXDEV");
    BOTH_WAYS("loop_a", "-ELOOP");
    BOTH_WAYS("dangling.c", "-ENOENT");
}

/* What the seeder meets when a tree changes after it was listed: the same
 * path, a directory on it now a symlink out of the root. */
TEST(a_directory_swapped_for_a_symlink_is_refused) {
    REQUIRE(setup());
    BOTH_WAYS("src/real.c", "real\n");
    char src[PATH_MAX], moved[PATH_MAX], target[PATH_MAX];
    snprintf(src, sizeof src, "%s/src", root);
    snprintf(moved, sizeof moved, "%s/src.moved", root);
    snprintf(target, sizeof target, "%s/src", outside);
    REQUIRE(rename(src, moved) == 0);
    REQUIRE(symlink(target, src) == 0);
    BOTH_WAYS("src/real.c", "-EXDEV");
    /* And the file itself swapped for one. */
    char top[PATH_MAX], secret[PATH_MAX];
    snprintf(top, sizeof top, "%s/top.c", root);
    snprintf(secret, sizeof secret, "%s/secret.c", outside);
    REQUIRE(unlink(top) == 0);
    REQUIRE(symlink(secret, top) == 0);
    BOTH_WAYS("top.c", "-EXDEV");
}

TEST(a_fifo_opens_without_blocking) {
    REQUIRE(setup());
    char fifo[PATH_MAX];
    snprintf(fifo, sizeof fifo, "%s/pipe", root);
    REQUIRE(mkfifo(fifo, 0644) == 0);
    for (int way = 0; way < 2; way++) {
        int fd = way ? beneath_open_walk(root_fd, "pipe") : beneath_open(root_fd, "pipe");
        CHECK_INT(fd, >=, 0);
        struct stat st;
        CHECK(fd >= 0 && fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode));
        if (fd >= 0)
            close(fd);
    }
}

TEST(the_root_may_be_a_plain_directory_fd) {
    REQUIRE(setup());
    int plain = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(plain >= 0);
    int fd = beneath_open_walk(plain, "plain.c");
    CHECK_INT(fd, >=, 0);
    if (fd >= 0)
        close(fd);
    CHECK_INT(beneath_open(plain, "../x"), ==, -EXDEV);
    close(plain);
}

TEST(a_root_must_be_a_directory) {
    REQUIRE(setup());
    char path[PATH_MAX];
    CHECK_INT(beneath_root_check(root), ==, 0);
    snprintf(path, sizeof path, "%s/plain.c", root);
    CHECK_INT(beneath_root_check(path), ==, -ENOTDIR);
    snprintf(path, sizeof path, "%s/not-there", root);
    CHECK_INT(beneath_root_check(path), ==, -ENOENT);
}

TEST_MAIN(TEST_CASE(plain_paths_open), TEST_CASE(paths_out_of_the_root_are_refused),
          TEST_CASE(symlinks_inside_the_root_are_followed),
          TEST_CASE(symlinks_out_of_the_root_are_refused),
          TEST_CASE(a_directory_swapped_for_a_symlink_is_refused),
          TEST_CASE(a_fifo_opens_without_blocking), TEST_CASE(the_root_may_be_a_plain_directory_fd),
          TEST_CASE(a_root_must_be_a_directory))
