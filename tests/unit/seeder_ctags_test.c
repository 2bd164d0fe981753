/* Tests of seeder/ctags: one universal-ctags process per batch. */
#define _XOPEN_SOURCE 700
#include "seeder/ctags.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/fixture.h"
#include "tests/test.h"
#include "tests/unit/fake_ctags.h"

static const char *const fixture_files[] = {
    "py/shop/models.py",
    "py/shop/main.py",
    "go/internal/store/store.go",
    "rust/src/config.rs",
    "web/src/index.ts",
    "web/legacy.cjs",
    "c/src/stock.c",
    "java/src/main/java/com/example/shop/App.java",
    "scripts/deploy",
    "web/src/components/Button.tsx",
};
#define FIXTURE_COUNT (sizeof fixture_files / sizeof fixture_files[0])

static const ctags_tag_t *find_tag(const ctags_batch_t *batch, const char *path, const char *name,
                                   const char *scope) {
    size_t n = 0;
    const ctags_tag_t *tags = ctags_batch_tags(batch, path, &n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(tags[i].name, name) == 0 &&
            (!scope || (tags[i].scope && strcmp(tags[i].scope, scope) == 0)))
            return &tags[i];
    return NULL;
}

TEST(batch_over_fixture_languages) {
    ctags_batch_t *batch = NULL;
    char *error = NULL;
    int rc = ctags_batch_run(fixture_repo(), fixture_files, FIXTURE_COUNT, &batch, &error);
    if (rc != 0)
        fprintf(stderr, "  %s\n", error ? error : "");
    free(error);
    REQUIRE(rc == 0 && batch);
    const ctags_tag_t *t = find_tag(batch, "py/shop/models.py", "Inventory", NULL);
    REQUIRE(t);
    CHECK_STR(t->kind, "class");
    CHECK_INT(t->line, ==, 26);
    CHECK_INT(t->end, ==, 171);
    t = find_tag(batch, "py/shop/models.py", "receive", "Inventory");
    REQUIRE(t);
    CHECK_INT(t->line, ==, 33);
    CHECK_STR(t->scope_kind, "class");
    t = find_tag(batch, "go/internal/store/store.go", "Add", NULL);
    REQUIRE(t);
    CHECK_STR(t->kind, "func");
    CHECK_INT(t->end, ==, 24);
    t = find_tag(batch, "rust/src/config.rs", "from_env", "Settings");
    REQUIRE(t);
    CHECK_STR(t->kind, "method");
    CHECK_INT(t->end, ==, 0); /* ctags does not know where Rust items end */
    CHECK(find_tag(batch, "web/src/index.ts", "render", "App") != NULL);
    CHECK(find_tag(batch, "web/legacy.cjs", "LegacyCart", NULL) != NULL);
    /* The static function needs ctags' file-scope tags. */
    CHECK(find_tag(batch, "c/src/stock.c", "stock_find", NULL) != NULL);
    CHECK(find_tag(batch, "java/src/main/java/com/example/shop/App.java", "toString", "App"));
    /* No extension: the `#!` line decides. */
    CHECK(find_tag(batch, "scripts/deploy", "deploy_to", NULL) != NULL);
    /* .tsx is mapped to TypeScript for ctags, as in lang.h. */
    CHECK(find_tag(batch, "web/src/components/Button.tsx", "Button", NULL) != NULL);
    size_t n = 0;
    const ctags_tag_t *tags = ctags_batch_tags(batch, "py/shop/models.py", &n);
    CHECK_INT(n, >=, 20);
    for (size_t i = 1; i < n; i++)
        CHECK_INT(tags[i].line, >=, tags[i - 1].line); /* file order, not sorted by name */
    CHECK(ctags_batch_tags(batch, "not/there.c", &n) == NULL && n == 0);
    CHECK_INT(ctags_batch_count(batch), >=, 60);
    ctags_batch_destroy(&batch);
    CHECK(batch == NULL);
    ctags_batch_destroy(&batch);
}

typedef struct {
    size_t count;
    size_t stop_after;
} counter_t;

static int count_tags(const ctags_tag_t *tag, void *arg) {
    counter_t *c = arg;
    (void)tag;
    c->count++;
    return c->stop_after && c->count >= c->stop_after ? 42 : 0;
}

TEST(callback_can_stop_the_run) {
    counter_t counter = {0, 3};
    int rc = ctags_run(fixture_repo(), fixture_files, FIXTURE_COUNT, count_tags, &counter, NULL);
    CHECK_INT(rc, ==, 42);
    CHECK_INT(counter.count, ==, 3);
    /* The child was reaped: no zombie is left to wait for. */
    CHECK_INT(waitpid(-1, NULL, WNOHANG), ==, -1);
}

TEST(odd_paths_are_harmless) {
    const char *paths[] = {"missing/file.py", "bad\nname.py", "py/shop/util.py"};
    counter_t counter = {0, 0};
    char *error = NULL;
    int rc = ctags_run(fixture_repo(), paths, 3, count_tags, &counter, &error);
    CHECK_INT(rc, ==, 0);
    CHECK(error == NULL);
    free(error);
    CHECK_INT(counter.count, ==, 2); /* slugify and clamp */
    counter.count = 0;
    CHECK_INT(ctags_run(fixture_repo(), NULL, 0, count_tags, &counter, NULL), ==, 0);
    CHECK_INT(counter.count, ==, 0);
    /* Batches with nothing in them, or nothing tagged. */
    ctags_batch_t *batch = NULL;
    CHECK_INT(ctags_batch_run(fixture_repo(), NULL, 0, &batch, NULL), ==, 0);
    CHECK_INT(ctags_batch_count(batch), ==, 0);
    ctags_batch_destroy(&batch);
    const char *untagged[] = {"docs/notes.txt"};
    CHECK_INT(ctags_batch_run(fixture_repo(), untagged, 1, &batch, NULL), ==, 0);
    CHECK_INT(ctags_batch_count(batch), ==, 0);
    ctags_batch_destroy(&batch);
}

TEST(missing_ctags_is_a_clear_error) {
    const char *path = getenv("PATH");
    char *saved = strdup(path ? path : "/usr/bin:/bin");
    REQUIRE(saved);
    setenv("PATH", "/nonexistent-lca-bin", 1);
    counter_t counter = {0, 0};
    char *error = NULL;
    int rc = ctags_run(fixture_repo(), fixture_files, 1, count_tags, &counter, &error);
    ctags_batch_t *batch = (ctags_batch_t *)1;
    int batch_rc = ctags_batch_run(fixture_repo(), fixture_files, 1, &batch, NULL);
    setenv("PATH", saved, 1);
    free(saved);
    CHECK_INT(rc, ==, -ENOENT);
    CHECK(error && strstr(error, "universal-ctags"));
    free(error);
    CHECK_INT(counter.count, ==, 0);
    CHECK_INT(batch_rc, ==, -ENOENT);
    CHECK(batch == NULL);
}

static const char *const odd_batch[] = {"py/shop/util.py", "py/shop/main.py", "odd.py",
                                        "py/shop/services/tax.py", "go/internal/store/cache.go"};

static void check_odd_one_out(ctags_batch_t *batch) {
    CHECK_INT(ctags_batch_failed_count(batch), ==, 1);
    CHECK_STR(ctags_batch_failed(batch, 0), "odd.py");
    CHECK(ctags_batch_failed(batch, 1) == NULL);
    CHECK(find_tag(batch, "py/shop/util.py", "slugify", NULL) != NULL);
    CHECK(find_tag(batch, "py/shop/services/tax.py", "compute", NULL) != NULL);
    CHECK(find_tag(batch, "go/internal/store/cache.go", "newCache", NULL) != NULL);
}

/* A ctags that crashes whenever its input names the odd file. */
TEST(a_crash_costs_only_the_file_responsible) {
    char dir[] = "/tmp/lca-ctags-fake-XXXXXX";
    char *saved = fake_ctags(dir, "odd", "kill -SEGV $$");
    REQUIRE(saved);
    ctags_batch_t *batch = NULL;
    char *error = NULL;
    int rc = ctags_batch_run(fixture_repo(), odd_batch, 5, &batch, &error);
    counter_t counter = {0, 0};
    int run_rc = ctags_run(fixture_repo(), odd_batch, 5, count_tags, &counter, NULL);
    restore_path(saved, dir);
    CHECK_INT(rc, ==, 0);
    CHECK(error == NULL);
    free(error);
    REQUIRE(batch);
    check_odd_one_out(batch);
    ctags_batch_destroy(&batch);
    CHECK_INT(run_rc, ==, -ECHILD); /* the streaming run reports the crash */
}

/* A ctags that hangs on the odd file is killed after the idle timeout. */
TEST(a_hang_costs_only_the_file_responsible) {
    char dir[] = "/tmp/lca-ctags-fake-XXXXXX";
    char *saved = fake_ctags(dir, "odd", "exec sleep 30");
    REQUIRE(saved);
    setenv("LCA_CTAGS_TIMEOUT_MS", "150", 1);
    ctags_batch_t *batch = NULL;
    int rc = ctags_batch_run(fixture_repo(), odd_batch, 5, &batch, NULL);
    char *error = NULL;
    counter_t counter = {0, 0};
    int run_rc = ctags_run(fixture_repo(), odd_batch, 5, count_tags, &counter, &error);
    unsetenv("LCA_CTAGS_TIMEOUT_MS");
    restore_path(saved, dir);
    CHECK_INT(rc, ==, 0);
    REQUIRE(batch);
    check_odd_one_out(batch);
    ctags_batch_destroy(&batch);
    CHECK_INT(run_rc, ==, -ETIMEDOUT);
    CHECK(error && strstr(error, "no progress"));
    free(error);
    CHECK_INT(waitpid(-1, NULL, WNOHANG), ==, -1); /* every child reaped */
}

/* More paths in and tags out than a pipe holds (64 KiB each way), through
 * one process: feeding and draining must not deadlock. */
#define LONG_NAME "a_file_name_long_enough_that_a_thousand_of_them_fill_more_than_one_pipe_buffer"

TEST(large_batch_streams) {
    char dir[64];
    REQUIRE(fixture_tmpdir(dir, sizeof dir, "ctags-test"));
    enum { FILES = 1000 };
    char **paths = calloc(FILES, sizeof *paths);
    REQUIRE(paths);
    for (int i = 0; i < FILES; i++) {
        char rel[160], text[128];
        snprintf(rel, sizeof rel, "%s_%04d.py", LONG_NAME, i);
        snprintf(text, sizeof text, "def f%d():\n    pass\n\nclass C%d:\n    pass\n", i, i);
        CHECK_INT(fixture_write_text(dir, rel, text), ==, 0);
        paths[i] = strdup(rel);
    }
    ctags_batch_t *batch = NULL;
    CHECK_INT(ctags_batch_run(dir, (const char *const *)paths, FILES, &batch, NULL), ==, 0);
    CHECK_INT(ctags_batch_count(batch), ==, 2 * FILES);
    size_t n = 0;
    const ctags_tag_t *tags = ctags_batch_tags(batch, paths[FILES - 1], &n);
    CHECK_INT(n, ==, 2);
    CHECK(tags && strcmp(tags[0].name, "f999") == 0 && tags[0].end == 2);
    ctags_batch_destroy(&batch);
    for (int i = 0; i < FILES; i++)
        free(paths[i]);
    free(paths);
    fixture_remove_tree(dir);
}

TEST_MAIN(TEST_CASE(batch_over_fixture_languages), TEST_CASE(callback_can_stop_the_run),
          TEST_CASE(odd_paths_are_harmless), TEST_CASE(missing_ctags_is_a_clear_error),
          TEST_CASE(a_crash_costs_only_the_file_responsible),
          TEST_CASE(a_hang_costs_only_the_file_responsible), TEST_CASE(large_batch_streams))
