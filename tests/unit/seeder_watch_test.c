/*
 * seeder/watch: real inotify on a temporary tree.  Each test makes changes,
 * waits (with a deadline) until the watcher says its burst is due, and
 * checks the paths it hands out: written, created, deleted and renamed
 * files; files inside a directory created or moved in after the watch
 * began; a removed directory as "dir/"; nothing from .git or from paths a
 * .gitignore excludes; a .gitignore change asking for a rescan.
 *
 *   make build/tests/unit/seeder_watch_test && build/tests/unit/seeder_watch_test
 */
#include "seeder/watch.h"
#include "tests/proc.h"
#include "tests/test.h"

#include <poll.h>

static char root[256];

/* A fresh tree: src/a.c, src/b.c, docs/readme.md, build/ (ignored), .git/. */
static bool tree_new(void) {
    snprintf(root, sizeof root, "%s", proc_tmpdir());
    return proc_shell(
               "cd '%s' && mkdir -p src docs build .git && echo a > src/a.c && echo b > src/b.c && "
               "echo r > docs/readme.md && echo 'build/' > .gitignore && echo x > build/out.o",
               root) == 0;
}

typedef struct {
    char **paths;
    size_t n;
    bool rescan;
} burst_t;

/* Reads events until a burst is due (at most 3 s) and takes it. */
static bool burst_wait(watch_t *w, burst_t *b) {
    memset(b, 0, sizeof *b);
    int64_t until = proc_now_ms() + 3000;
    for (;;) {
        int due = watch_due_in(w);
        if (due == 0)
            break;
        int64_t left = until - proc_now_ms();
        if (left <= 0)
            return false;
        struct pollfd p = {.fd = watch_fd(w), .events = POLLIN};
        int timeout = due < 0 || due > left ? (int)left : due;
        if (poll(&p, 1, timeout) > 0 && watch_read(w) < 0)
            return false;
    }
    return watch_take(w, &b->paths, &b->n, &b->rescan) == 0;
}

static bool burst_has(const burst_t *b, const char *path) {
    for (size_t i = 0; i < b->n; i++)
        if (strcmp(b->paths[i], path) == 0)
            return true;
    return false;
}

static void burst_free(burst_t *b) {
    watch_paths_free(b->paths, b->n);
    memset(b, 0, sizeof *b);
}

TEST(edits_creates_deletes_and_renames_are_reported_once) {
    REQUIRE(tree_new());
    watch_t *w = NULL;
    char *err = NULL;
    REQUIRE(watch_new(root, &w, &err) == 0);
    CHECK_INT(watch_dir_count(w), ==, 3); /* root, src, docs: not build, not .git */
    CHECK_INT(watch_due_in(w), ==, -1);
    REQUIRE(proc_shell(
                "cd '%s' && echo more >> src/a.c && echo again >> src/a.c && echo n > src/new.c && "
                "rm src/b.c && mv docs/readme.md docs/README.md && echo g > .git/HEAD && "
                "echo o > build/out2.o",
                root) == 0);
    burst_t b;
    REQUIRE(burst_wait(w, &b));
    CHECK(!b.rescan);
    CHECK_INT(b.n, ==, 5);
    CHECK(burst_has(&b, "src/a.c"));
    CHECK(burst_has(&b, "src/new.c"));
    CHECK(burst_has(&b, "src/b.c"));
    CHECK(burst_has(&b, "docs/readme.md"));
    CHECK(burst_has(&b, "docs/README.md"));
    for (size_t i = 1; i < b.n; i++)
        CHECK(strcmp(b.paths[i - 1], b.paths[i]) < 0); /* sorted, distinct */
    burst_free(&b);
    CHECK_INT(watch_due_in(w), ==, -1);
    watch_destroy(&w);
    fixture_remove_tree(root);
}

TEST(new_directories_are_watched_and_their_files_reported) {
    REQUIRE(tree_new());
    watch_t *w = NULL;
    REQUIRE(watch_new(root, &w, NULL) == 0);
    /* Files may land before the watch on the new directory exists. */
    REQUIRE(proc_shell("cd '%s' && mkdir -p lib/deep && echo x > lib/deep/x.c && echo y > lib/y.c",
                       root) == 0);
    burst_t b;
    REQUIRE(burst_wait(w, &b));
    CHECK(burst_has(&b, "lib/deep/x.c"));
    CHECK(burst_has(&b, "lib/y.c"));
    burst_free(&b);
    CHECK_INT(watch_dir_count(w), ==, 5);
    /* The new directory is watched: a later edit inside is seen. */
    REQUIRE(proc_shell("echo z >> '%s/lib/deep/x.c'", root) == 0);
    REQUIRE(burst_wait(w, &b));
    CHECK_INT(b.n, ==, 1);
    CHECK(burst_has(&b, "lib/deep/x.c"));
    burst_free(&b);
    /* A directory moved away is reported as a prefix and stops being watched;
     * moved back in under a new name, its files are reported again. */
    REQUIRE(proc_shell("cd '%s' && mv lib ../lca-watch-away-$$ && mv ../lca-watch-away-$$ lib2",
                       root) == 0);
    REQUIRE(burst_wait(w, &b));
    CHECK(burst_has(&b, "lib/"));
    CHECK(burst_has(&b, "lib2/deep/x.c"));
    CHECK(burst_has(&b, "lib2/y.c"));
    burst_free(&b);
    CHECK_INT(watch_dir_count(w), ==, 5);
    REQUIRE(proc_shell("rm -rf '%s/lib2'", root) == 0);
    REQUIRE(burst_wait(w, &b));
    CHECK(burst_has(&b, "lib2/"));
    burst_free(&b);
    watch_destroy(&w);
    fixture_remove_tree(root);
}

TEST(gitignore_rules_hold_for_new_paths_and_a_change_asks_for_a_rescan) {
    REQUIRE(tree_new());
    REQUIRE(proc_shell("cd '%s' && printf '*.log\\n!keep.log\\n' > src/.gitignore", root) == 0);
    watch_t *w = NULL;
    REQUIRE(watch_new(root, &w, NULL) == 0);
    REQUIRE(proc_shell("cd '%s' && echo 1 > src/debug.log && echo 2 > src/keep.log && mkdir -p "
                       "src/build && echo 3 > src/build/gen.c && echo 4 > src/ok.c",
                       root) == 0);
    burst_t b;
    REQUIRE(burst_wait(w, &b));
    CHECK(!b.rescan);
    CHECK(burst_has(&b, "src/keep.log")); /* re-included by the deeper file */
    CHECK(burst_has(&b, "src/ok.c"));
    CHECK(!burst_has(&b, "src/debug.log"));
    CHECK(!burst_has(&b, "src/build/gen.c")); /* build/ at any depth, from the root's file */
    burst_free(&b);
    REQUIRE(proc_shell("echo 'docs/' >> '%s/.gitignore'", root) == 0);
    REQUIRE(burst_wait(w, &b));
    CHECK(b.rescan);
    burst_free(&b);
    /* The new rule holds from now on. */
    REQUIRE(proc_shell("cd '%s' && echo 5 > docs/more.md && echo 6 > src/more.c", root) == 0);
    REQUIRE(burst_wait(w, &b));
    CHECK(!burst_has(&b, "docs/more.md"));
    CHECK(burst_has(&b, "src/more.c"));
    burst_free(&b);
    watch_destroy(&w);
    fixture_remove_tree(root);
}

/* As the walk and git, the watch does not follow a .gitignore that is a
 * symlink (here to patterns outside the tree that would hide every C file). */
TEST(a_gitignore_that_is_a_symlink_is_not_followed) {
    REQUIRE(tree_new());
    REQUIRE(proc_shell("printf '*.c\\n' > '%s-patterns' && ln -s '%s-patterns' '%s/src/.gitignore'",
                       root, root, root) == 0);
    watch_t *w = NULL;
    REQUIRE(watch_new(root, &w, NULL) == 0);
    REQUIRE(proc_shell("echo 'int n;' > '%s/src/new.c'", root) == 0);
    burst_t b;
    REQUIRE(burst_wait(w, &b));
    CHECK(burst_has(&b, "src/new.c"));
    burst_free(&b);
    watch_destroy(&w);
    fixture_remove_tree(root);
    char patterns[300];
    snprintf(patterns, sizeof patterns, "%s-patterns", root);
    unlink(patterns);
}

TEST(a_missing_root_is_an_error_with_a_message) {
    watch_t *w = NULL;
    char *err = NULL;
    CHECK_INT(watch_new("/nonexistent/lca-watch-root", &w, &err), ==, -ENOENT);
    CHECK(w == NULL);
    CHECK(err && strstr(err, "/nonexistent/lca-watch-root"));
    free(err);
    watch_destroy(&w); /* NULL is fine */
}

TEST_MAIN(TEST_CASE(edits_creates_deletes_and_renames_are_reported_once),
          TEST_CASE(new_directories_are_watched_and_their_files_reported),
          TEST_CASE(gitignore_rules_hold_for_new_paths_and_a_change_asks_for_a_rescan),
          TEST_CASE(a_gitignore_that_is_a_symlink_is_not_followed),
          TEST_CASE(a_missing_root_is_an_error_with_a_message))
