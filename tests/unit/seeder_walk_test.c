/* Tests of seeder/walk: git and directory listings, and every skip reason. */
#define _XOPEN_SOURCE 700
#include "seeder/walk.h"

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

/* ---- helpers --------------------------------------------------------------- */

static char *make_temp_dir(void) {
    char dir[64];
    return fixture_tmpdir(dir, sizeof dir, "walk-test") ? strdup(dir) : NULL;
}

static void remove_tree(char **dir) {
    if (!*dir)
        return;
    /* Directories made unreadable by a test must be opened again first. */
    char locked[4200];
    snprintf(locked, sizeof locked, "%s/locked", *dir);
    chmod(locked, 0700);
    fixture_remove_tree(*dir);
    free(*dir);
    *dir = NULL;
}

static int make_link(const char *root, const char *rel, const char *target) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    return symlink(target, path) == 0 ? 0 : -errno;
}

/* Runs argv in dir with stdout and stderr discarded; returns its exit status. */
static int run(const char *dir, const char *const argv[]) {
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int null_fd = open("/dev/null", O_RDWR);
        if (null_fd < 0 || dup2(null_fd, 1) < 0 || dup2(null_fd, 2) < 0 || chdir(dir) != 0)
            _exit(126);
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static const walk_entry_t *find(const walk_t *w, const char *path) {
    return walk_find(w, path);
}

static walk_reason_t reason_of(const walk_t *w, const char *path) {
    const walk_entry_t *e = walk_find(w, path);
    return e ? e->reason : (walk_reason_t)-1;
}

static walk_t *walk_dir(const char *root, bool use_git) {
    walk_options_t options;
    walk_options_default(&options);
    options.use_git = use_git;
    walk_t *w = NULL;
    char *error = NULL;
    int rc = walk_list(root, &options, &w, &error);
    if (rc != 0)
        fprintf(stderr, "  walk_list: %d %s\n", rc, error ? error : "");
    free(error);
    return w;
}

/* ---- tests ----------------------------------------------------------------- */

TEST(gitignore_is_honoured_without_git) {
    char *root = make_temp_dir();
    REQUIRE(root);
    const fixture_file_t files[] = {
        {".gitignore", "# logs\n*.log\n!keep.log\nout/\n/only_root.txt\ndocs/**/*.tmp\n"},
        {"a.c", "int a;\n"},
        {"x.log", "log\n"},
        {"keep.log", "kept\n"},
        {"out/gen.c", "int gen;\n"},
        {"src/out", "a file named out is not a directory\n"},
        {"only_root.txt", "x\n"},
        {"sub/only_root.txt", "y\n"},
        {"sub/.gitignore", "local.txt\n!*.log\n"},
        {"sub/local.txt", "z\n"},
        {"sub/y.log", "re-included by the deeper file\n"},
        {"docs/a/b/c.tmp", "tmp\n"},
        {"docs/readme.md", "# docs\n"},
        {".git/config", "[core]\n"},
        {NULL, NULL}};
    REQUIRE(fixture_write_tree(root, files) == 0);
    char empty[4200];
    snprintf(empty, sizeof empty, "%s/empty", root);
    CHECK_INT(mkdir(empty, 0755), ==, 0); /* an empty directory lists nothing */
    walk_t *w = walk_dir(root, true);     /* not a checkout: git fails, the walk runs */
    REQUIRE(w);
    CHECK_STR(walk_method(w), "walk");
    const char *expected[] = {".gitignore",        "a.c",      "docs/readme.md",
                              "keep.log",          "src/out",  "sub/.gitignore",
                              "sub/only_root.txt", "sub/y.log"};
    CHECK_INT(walk_count(w), ==, sizeof expected / sizeof expected[0]);
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
        const walk_entry_t *e = walk_get(w, i);
        REQUIRE(e);
        CHECK_STR(e->path, expected[i]);
        CHECK_INT(e->reason, ==, WALK_ACCEPTED);
    }
    CHECK(find(w, "x.log") == NULL);
    CHECK(find(w, "out/gen.c") == NULL);
    CHECK(find(w, "only_root.txt") == NULL);
    CHECK(find(w, "sub/local.txt") == NULL);
    CHECK(find(w, "docs/a/b/c.tmp") == NULL);
    CHECK(find(w, ".git/config") == NULL);
    CHECK_INT(find(w, "a.c")->lang, ==, LANG_C);
    walk_destroy(&w);
    remove_tree(&root);
}

TEST(every_skip_reason) {
    char *root = make_temp_dir();
    char *outside = make_temp_dir();
    REQUIRE(root && outside);
    fixture_write_text(root, "ok.py",
                       "def f():\n    return 'h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80'\n");
    fixture_write(root, "bin.dat", "abc\0def\n", 8);
    fixture_write_text(root, "latin1.txt", "caf\xe9\n");
    size_t big = 10u << 20;
    char *line = malloc(big);
    REQUIRE(line);
    memset(line, 'x', big - 1);
    line[big - 1] = '\n';
    fixture_write(root, "huge.js", line, big);
    fixture_write(root, "wide.js", line, 4096); /* one 4 KiB line: minified */
    free(line);
    fixture_write_text(root, "node_modules/pkg/index.js", "module.exports = 1;\n");
    fixture_write_text(root, "build/out.js", "var built = 1;\n");     /* output at the root */
    fixture_write_text(root, "go/build/build.go", "package build\n"); /* a package named build */
    const fixture_file_t files[] = {
        {"web/lib.min.js", "var a=1;\n"},
        {"api/types.go", "// Code generated by protoc-gen-go. DO NOT EDIT.\n\npackage api\n"},
        {"gen/model.py", "# @generated by a tool\nX = 1\n"},
        {"package-lock.json", "{}\n"},
        {"target.c", "int t;\n"},
        {NULL, NULL}};
    REQUIRE(fixture_write_tree(root, files) == 0);
    fixture_write_text(outside, "secret.c", "int s;\n");
    char outside_file[4200];
    snprintf(outside_file, sizeof outside_file, "%s/secret.c", outside);
    CHECK_INT(make_link(root, "loop_a", "loop_b"), ==, 0);
    CHECK_INT(make_link(root, "loop_b", "loop_a"), ==, 0);
    CHECK_INT(make_link(root, "self", "self"), ==, 0);
    CHECK_INT(make_link(root, "escape.c", outside_file), ==, 0);
    CHECK_INT(make_link(root, "up", ".."), ==, 0);
    CHECK_INT(make_link(root, "alias.c", "target.c"), ==, 0);
    CHECK_INT(make_link(root, "dangling.c", "nowhere.c"), ==, 0);
    char fifo[4200];
    snprintf(fifo, sizeof fifo, "%s/pipe", root);
    CHECK_INT(mkfifo(fifo, 0644), ==, 0);

    walk_t *w = walk_dir(root, false);
    REQUIRE(w);
    CHECK_STR(walk_method(w), "walk");
    CHECK_INT(reason_of(w, "ok.py"), ==, WALK_ACCEPTED);
    CHECK_INT(reason_of(w, "bin.dat"), ==, WALK_SKIP_BINARY);
    CHECK_INT(reason_of(w, "latin1.txt"), ==, WALK_SKIP_NOT_UTF8);
    CHECK_INT(reason_of(w, "huge.js"), ==, WALK_SKIP_TOO_BIG);
    CHECK_INT(reason_of(w, "wide.js"), ==, WALK_SKIP_MINIFIED);
    CHECK_INT(reason_of(w, "node_modules/"), ==, WALK_SKIP_VENDORED);
    CHECK(find(w, "node_modules/pkg/index.js") == NULL); /* the directory is not entered */
    CHECK_INT(reason_of(w, "build/"), ==, WALK_SKIP_VENDORED);
    CHECK_INT(reason_of(w, "go/build/build.go"), ==, WALK_ACCEPTED);
    CHECK_INT(reason_of(w, "web/lib.min.js"), ==, WALK_SKIP_VENDORED);
    CHECK_INT(reason_of(w, "api/types.go"), ==, WALK_SKIP_GENERATED);
    CHECK_INT(reason_of(w, "gen/model.py"), ==, WALK_SKIP_GENERATED);
    CHECK_INT(reason_of(w, "package-lock.json"), ==, WALK_SKIP_GENERATED);
    CHECK_INT(reason_of(w, "loop_a"), ==, WALK_SKIP_SYMLINK);
    CHECK_INT(reason_of(w, "loop_b"), ==, WALK_SKIP_SYMLINK);
    CHECK_INT(reason_of(w, "self"), ==, WALK_SKIP_SYMLINK);
    CHECK_STR(find(w, "self")->detail, "symlink loop");
    CHECK_INT(reason_of(w, "escape.c"), ==, WALK_SKIP_SYMLINK);
    CHECK_STR(find(w, "escape.c")->detail, "symlink points outside the root");
    CHECK_INT(reason_of(w, "up"), ==, WALK_SKIP_SYMLINK);
    CHECK_INT(reason_of(w, "dangling.c"), ==, WALK_SKIP_SYMLINK);
    CHECK_INT(reason_of(w, "alias.c"), ==, WALK_ACCEPTED);
    CHECK_INT(reason_of(w, "pipe"), ==, WALK_SKIP_NOT_REGULAR);
    CHECK_INT(reason_of(w, "target.c"), ==, WALK_ACCEPTED);
    CHECK_INT(walk_count_accepted(w), ==, 4);
    /* Every skipped entry explains itself; accepted ones do not. */
    for (size_t i = 0; i < walk_count(w); i++) {
        const walk_entry_t *e = walk_get(w, i);
        CHECK((e->reason == WALK_ACCEPTED) == (e->detail == NULL));
        CHECK(strcmp(walk_reason_name(e->reason), "unknown") != 0);
    }
    CHECK(strstr(find(w, "huge.js")->detail, "10485760") != NULL);
    walk_destroy(&w);

    /* With a higher size limit the long line is called what it is. */
    walk_options_t options;
    walk_options_default(&options);
    options.use_git = false;
    options.max_file_bytes = 20u << 20;
    REQUIRE(walk_list(root, &options, &w, NULL) == 0);
    CHECK_INT(reason_of(w, "huge.js"), ==, WALK_SKIP_MINIFIED);
    walk_destroy(&w);
    CHECK(w == NULL);
    walk_destroy(&w);
    remove_tree(&root);
    remove_tree(&outside);
}

/* The walk as an unprivileged user, where permissions bite. */
static void check_unreadable(const char *root) {
    walk_t *w = walk_dir(root, false);
    if (!w) {
        test_failed_checks++;
        return;
    }
    CHECK_INT(reason_of(w, "a.c"), ==, WALK_ACCEPTED);
    CHECK_INT(reason_of(w, "secret.c"), ==, WALK_SKIP_UNREADABLE);
    CHECK_INT(reason_of(w, "locked/"), ==, WALK_SKIP_UNREADABLE);
    CHECK_INT(reason_of(w, "z.c"), ==, WALK_ACCEPTED); /* the walk went on */
    CHECK(find(w, "secret.c")->detail && strstr(find(w, "secret.c")->detail, "ermission"));
    walk_destroy(&w);
    /* An unreadable root is the one failure of the walk itself. */
    char locked[4200];
    snprintf(locked, sizeof locked, "%s/locked", root);
    walk_t *none = (walk_t *)1;
    CHECK_INT(walk_list(locked, NULL, &none, NULL), ==, -EACCES);
    CHECK(none == NULL);
}

TEST(unreadable_files_are_reported_not_fatal) {
    char *root = make_temp_dir();
    REQUIRE(root);
    const fixture_file_t files[] = {{"a.c", "int a;\n"},
                                    {"secret.c", "int s;\n"},
                                    {"locked/inner.c", "int i;\n"},
                                    {"z.c", "int z;\n"},
                                    {NULL, NULL}};
    REQUIRE(fixture_write_tree(root, files) == 0);
    char path[4200];
    snprintf(path, sizeof path, "%s/secret.c", root);
    chmod(path, 0);
    snprintf(path, sizeof path, "%s/locked", root);
    chmod(path, 0);
    chmod(root, 0755);
    if (geteuid() != 0) {
        check_unreadable(root);
    } else {
        /* root reads everything: run the walk as nobody in a child. */
        fflush(stdout);
        pid_t pid = fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            if (setgid(65534) != 0 || setuid(65534) != 0)
                _exit(2);
            check_unreadable(root);
            _exit(test_failed_checks ? 1 : 0);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    remove_tree(&root);
}

/* Copies the fixture to a new temporary directory; NULL on failure. */
static char *copy_fixture(void) {
    char *dir = make_temp_dir();
    if (dir && fixture_copy_repo(dir) != 0)
        remove_tree(&dir);
    return dir;
}

static size_t count_accepted_with_prefix(const walk_t *w, const char *prefix) {
    size_t n = 0;
    for (size_t i = 0; i < walk_count(w); i++)
        n += walk_get(w, i)->reason == WALK_ACCEPTED &&
             strncmp(walk_get(w, i)->path, prefix, strlen(prefix)) == 0;
    return n;
}

TEST(fixture_is_listed_by_git) {
    char *root = copy_fixture();
    REQUIRE(root);
    const fixture_file_t tracked[] = {{"vendor/lib/x.go", "package lib\n"},
                                      {"web/vendor/y.js", "var y;\n"},
                                      {"dist/app.js", "var app;\n"},
                                      {"tools/build/main.go", "package main\n"},
                                      {NULL, NULL}};
    REQUIRE(fixture_write_tree(root, tracked) == 0);
    const char *init[] = {"git", "init", "-q", ".", NULL};
    const char *add[] = {"git", "add", "-A", NULL};
    if (run(root, init) != 0 || run(root, add) != 0) {
        fprintf(stderr, "  git is not usable here; skipping the git listing\n");
        remove_tree(&root);
        return;
    }
    const fixture_file_t untracked[] = {{".gitignore", "ignored.txt\nnode_modules/\n"},
                                        {"ignored.txt", "not listed\n"},
                                        {"untracked.py", "X = 1\n"},
                                        {"node_modules/dep/index.js", "module.exports = 2;\n"},
                                        {NULL, NULL}};
    REQUIRE(fixture_write_tree(root, untracked) == 0);
    walk_t *w = walk_dir(root, true);
    REQUIRE(w);
    CHECK_STR(walk_method(w), "git");
    CHECK(find(w, "ignored.txt") == NULL);
    CHECK(find(w, "node_modules/dep/index.js") == NULL);
    CHECK_INT(reason_of(w, "untracked.py"), ==, WALK_ACCEPTED);
    CHECK_INT(reason_of(w, "py/shop/models.py"), ==, WALK_ACCEPTED);
    CHECK_INT(reason_of(w, "scripts/deploy"), ==, WALK_ACCEPTED);
    CHECK_INT(find(w, "scripts/deploy")->lang, ==, LANG_SHELL);
    CHECK_INT(find(w, "web/src/components/Button.tsx")->lang, ==, LANG_TYPESCRIPT);
    CHECK_INT(count_accepted_with_prefix(w, "go/"), ==, 4);
    CHECK_INT(count_accepted_with_prefix(w, "rust/src/"), ==, 4);
    CHECK(find(w, ".git/HEAD") == NULL);
    /* Tracked vendored files are reported as their directory, once. */
    CHECK_INT(reason_of(w, "vendor/"), ==, WALK_SKIP_VENDORED);
    CHECK_INT(reason_of(w, "web/vendor/"), ==, WALK_SKIP_VENDORED);
    CHECK(find(w, "vendor/lib/x.go") == NULL);
    CHECK_INT(reason_of(w, "dist/"), ==, WALK_SKIP_VENDORED);
    CHECK_INT(reason_of(w, "tools/build/main.go"), ==, WALK_ACCEPTED);
    /* A tracked file deleted from the work tree is simply gone. */
    char path[4200];
    snprintf(path, sizeof path, "%s/docs/notes.txt", root);
    unlink(path);
    walk_t *again = walk_dir(root, true);
    REQUIRE(again);
    CHECK(find(again, "docs/notes.txt") == NULL);
    CHECK_INT(walk_count(again), ==, walk_count(w) - 1);
    walk_destroy(&again);
    walk_destroy(&w);
    remove_tree(&root);
}

TEST(fixture_walk_agrees_with_git) {
    char *plain = copy_fixture();
    char *checkout = copy_fixture();
    REQUIRE(plain && checkout);
    const char *init[] = {"git", "init", "-q", ".", NULL};
    const char *add[] = {"git", "add", "-A", NULL};
    bool have_git = run(checkout, init) == 0 && run(checkout, add) == 0;
    walk_t *a = walk_dir(plain, false);
    walk_t *b = walk_dir(checkout, have_git);
    REQUIRE(a && b);
    CHECK_STR(walk_method(a), "walk");
    CHECK_INT(walk_count(a), >=, 30);
    CHECK_INT(walk_count(a), ==, walk_count(b));
    CHECK_INT(walk_count_accepted(a), ==, walk_count(a));
    for (size_t i = 0; i < walk_count(a) && i < walk_count(b); i++) {
        CHECK_STR(walk_get(a, i)->path, walk_get(b, i)->path);
        CHECK_INT(walk_get(a, i)->lang, ==, walk_get(b, i)->lang);
    }
    walk_destroy(&a);
    walk_destroy(&b);
    remove_tree(&plain);
    remove_tree(&checkout);
}

TEST(single_file_checks) {
    char *root = make_temp_dir();
    REQUIRE(root);
    fixture_write_text(root, "src/a.py", "x = 1\n");
    char detail[256];
    walk_entry_t e;
    CHECK_INT(walk_check_file(root, "src/a.py", NULL, &e, detail, sizeof detail), ==, 0);
    CHECK_INT(e.reason, ==, WALK_ACCEPTED);
    CHECK_INT(e.lang, ==, LANG_PYTHON);
    CHECK_INT(e.size, ==, 6);
    CHECK_INT(walk_check_file(root, "../etc/passwd", NULL, &e, detail, sizeof detail), ==, 0);
    CHECK_INT(e.reason, ==, WALK_SKIP_OUTSIDE_ROOT);
    CHECK_INT(walk_check_file(root, "src/../../x", NULL, &e, detail, sizeof detail), ==, 0);
    CHECK_INT(e.reason, ==, WALK_SKIP_OUTSIDE_ROOT);
    CHECK_INT(walk_check_file(root, "/etc/hostname", NULL, &e, detail, sizeof detail), ==, 0);
    CHECK_INT(e.reason, ==, WALK_SKIP_OUTSIDE_ROOT);
    char absolute[4200];
    snprintf(absolute, sizeof absolute, "%s/src/a.py", root);
    CHECK_INT(walk_check_file(root, absolute, NULL, &e, detail, sizeof detail), ==, 0);
    CHECK_INT(e.reason, ==, WALK_ACCEPTED);
    CHECK_INT(walk_check_file(root, "src/missing.py", NULL, &e, detail, sizeof detail), ==,
              -ENOENT);
    CHECK_INT(e.reason, ==, WALK_SKIP_UNREADABLE);
    remove_tree(&root);
}

TEST(content_checks) {
    char detail[128];
#define CONTENT(s) walk_check_content("f.c", (s), sizeof(s) - 1, NULL, detail, sizeof detail)
    CHECK_INT(CONTENT(""), ==, WALK_ACCEPTED);
    CHECK_INT(CONTENT("\xef\xbb\xbfint bom;\n"), ==, WALK_ACCEPTED);
    CHECK_INT(CONTENT("\xc0\x80"), ==, WALK_SKIP_NOT_UTF8);     /* overlong NUL */
    CHECK_INT(CONTENT("\xed\xa0\x80"), ==, WALK_SKIP_NOT_UTF8); /* surrogate */
    CHECK_INT(CONTENT("\xf4\x90\x80\x80"), ==, WALK_SKIP_NOT_UTF8);
    CHECK_INT(CONTENT("ok \xe2\x82"), ==, WALK_SKIP_NOT_UTF8); /* cut short at the end */
    CHECK_STR(detail, "invalid UTF-8 at offset 3");
    CHECK_INT(CONTENT("x\0y"), ==, WALK_SKIP_BINARY);
    CHECK_INT(CONTENT("// x\n// y\n// Code generated by stringer; DO NOT EDIT.\n"), ==,
              WALK_SKIP_GENERATED);
    CHECK_INT(CONTENT("// <auto-generated/>\n"), ==, WALK_SKIP_GENERATED);
    CHECK_INT(CONTENT("1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n// generated, do not edit\n"), ==,
              WALK_ACCEPTED); /* only the header counts */
    CHECK_INT(CONTENT("/* This module generated no warnings. */\n"), ==, WALK_ACCEPTED);
#undef CONTENT
}

TEST(a_nul_byte_anywhere_makes_a_file_binary) {
    char *root = make_temp_dir();
    REQUIRE(root);
    size_t len = 200000;
    char *text = malloc(len);
    REQUIRE(text);
    for (size_t i = 0; i < len; i++)
        text[i] = i % 40 == 39 ? '\n' : 'a' + (char)(i % 26);
    fixture_write(root, "clean.py", text, len);
    text[100000] = '\0';
    fixture_write(root, "late_nul.py", text, len);
    walk_options_t options;
    walk_options_default(&options);
    options.use_git = false;
    options.max_average_line = 0; /* long lines are not what this is about */
    walk_t *w = NULL;
    REQUIRE(walk_list(root, &options, &w, NULL) == 0);
    CHECK_INT(reason_of(w, "clean.py"), ==, WALK_ACCEPTED);
    CHECK_INT(reason_of(w, "late_nul.py"), ==, WALK_SKIP_BINARY);
    CHECK_STR(find(w, "late_nul.py")->detail, "NUL byte at offset 100000");
    walk_destroy(&w);
    char detail[128];
    CHECK_INT(walk_check_content("f.c", text, len, &options, detail, sizeof detail), ==,
              WALK_SKIP_BINARY);
    free(text);
    remove_tree(&root);
}

TEST(names_that_are_not_utf8_are_skipped_unread) {
    char *root = make_temp_dir();
    REQUIRE(root);
    fixture_write_text(root, "caf\xe9.py", "x = 1\n");       /* Latin-1 */
    fixture_write_text(root, "dir\xff/inner.py", "y = 2\n"); /* a directory's name */
    fixture_write_text(root, "na\xc3\xafve.py", "z = 3\n");  /* UTF-8: fine */
    for (int with_git = 0; with_git < 2; with_git++) {
        if (with_git) {
            const char *init[] = {"git", "init", "-q", ".", NULL};
            if (run(root, init) != 0) {
                fprintf(stderr, "  git is not usable here; skipping the git listing\n");
                break;
            }
        }
        walk_t *w = walk_dir(root, with_git);
        REQUIRE(w);
        CHECK_STR(walk_method(w), with_git ? "git" : "walk");
        CHECK_INT(reason_of(w, "caf\xe9.py"), ==, WALK_SKIP_NAME_NOT_UTF8);
        CHECK_STR(find(w, "caf\xe9.py")->detail, "the name is not UTF-8 (byte 0xe9 at offset 3)");
        CHECK_INT(reason_of(w, "dir\xff/inner.py"), ==, WALK_SKIP_NAME_NOT_UTF8);
        CHECK_INT(reason_of(w, "na\xc3\xafve.py"), ==, WALK_ACCEPTED);
        walk_destroy(&w);
    }
    CHECK_STR(walk_reason_name(WALK_SKIP_NAME_NOT_UTF8), "name-not-utf8");
    char detail[256];
    walk_entry_t e;
    CHECK_INT(walk_check_file(root, "caf\xe9.py", NULL, &e, detail, sizeof detail), ==, 0);
    CHECK_INT(e.reason, ==, WALK_SKIP_NAME_NOT_UTF8);
    remove_tree(&root);
}

static bool exists(const char *path) {
    struct stat st;
    return lstat(path, &st) == 0;
}

/* A repository is somebody else's: its config must not make the listing
 * run a program, nor may a GIT_* variable of ours steer git. */
TEST(git_runs_nothing_the_repository_or_the_environment_names) {
    char *root = make_temp_dir();
    char *elsewhere = make_temp_dir();
    REQUIRE(root && elsewhere);
    const char *init[] = {"git", "init", "-q", ".", NULL};
    if (run(root, init) != 0) {
        fprintf(stderr, "  git is not usable here; skipping\n");
        remove_tree(&root);
        remove_tree(&elsewhere);
        return;
    }
    char marker[4200], trace[4200], hook[4200], script[4400];
    snprintf(marker, sizeof marker, "%s/fsmonitor-ran", elsewhere);
    snprintf(trace, sizeof trace, "%s/trace", elsewhere);
    snprintf(hook, sizeof hook, "%s/fsmonitor.sh", elsewhere);
    snprintf(script, sizeof script, "#!/bin/sh\ntouch '%s'\nexit 1\n", marker);
    fixture_write_text(elsewhere, "fsmonitor.sh", script);
    chmod(hook, 0755);
    fixture_write_text(elsewhere, "hooks/post-checkout", script);
    char hooks[4200];
    snprintf(hooks, sizeof hooks, "%s/hooks", elsewhere);
    const char *fsmonitor[] = {"git", "config", "core.fsmonitor", hook, NULL};
    const char *hooks_path[] = {"git", "config", "core.hooksPath", hooks, NULL};
    CHECK_INT(run(root, fsmonitor), ==, 0);
    CHECK_INT(run(root, hooks_path), ==, 0);
    const fixture_file_t files[] = {{"a.py", "x = 1\n"},
                                    {".gitignore", "ignored.py\n"},
                                    {"ignored.py", "y = 2\n"},
                                    {NULL, NULL}};
    REQUIRE(fixture_write_tree(root, files) == 0);
    const char *add[] = {"git", "add", "a.py", ".gitignore", NULL};
    /* git add itself reads the index and so runs the hook: that is the
     * test's own git, not the seeder's. */
    CHECK_INT(run(root, add), ==, 0);
    unlink(marker);
    /* Our environment: a trace file git would write, and the other
     * repository an outer git's GIT_DIR would point at. */
    setenv("GIT_TRACE", trace, 1);
    setenv("GIT_DIR", elsewhere, 1);
    walk_t *w = walk_dir(root, true);
    unsetenv("GIT_TRACE");
    unsetenv("GIT_DIR");
    REQUIRE(w);
    CHECK_STR(walk_method(w), "git");
    CHECK_INT(reason_of(w, "a.py"), ==, WALK_ACCEPTED);
    CHECK(find(w, "ignored.py") == NULL);
    CHECK(!exists(marker));
    CHECK(!exists(trace));
    walk_destroy(&w);
    remove_tree(&root);
    remove_tree(&elsewhere);
}

/* git does not follow a .gitignore that is a symlink; neither does the
 * walk, or a link to a file outside would decide what is listed. */
TEST(a_gitignore_that_is_a_symlink_is_not_followed) {
    char *root = make_temp_dir();
    char *outside = make_temp_dir();
    REQUIRE(root && outside);
    fixture_write_text(outside, "patterns", "*.py\n");
    char target[4200];
    snprintf(target, sizeof target, "%s/patterns", outside);
    CHECK_INT(make_link(root, ".gitignore", target), ==, 0);
    fixture_write_text(root, "a.py", "x = 1\n");
    walk_t *w = walk_dir(root, false);
    REQUIRE(w);
    CHECK_INT(reason_of(w, "a.py"), ==, WALK_ACCEPTED);
    CHECK_INT(reason_of(w, ".gitignore"), ==, WALK_SKIP_SYMLINK);
    walk_destroy(&w);
    remove_tree(&root);
    remove_tree(&outside);
}

TEST(empty_root_lists_nothing) {
    char *root = make_temp_dir();
    REQUIRE(root);
    walk_t *w = walk_dir(root, true);
    REQUIRE(w);
    CHECK_INT(walk_count(w), ==, 0);
    CHECK_INT(walk_count_accepted(w), ==, 0);
    CHECK(walk_get(w, 0) == NULL);
    walk_destroy(&w);
    remove_tree(&root);
}

TEST(missing_root_is_an_error) {
    walk_t *w = (walk_t *)1;
    char *error = NULL;
    CHECK_INT(walk_list("/nonexistent/lca/root", NULL, &w, &error), ==, -ENOENT);
    CHECK(w == NULL);
    CHECK(error && strstr(error, "/nonexistent/lca/root"));
    free(error);
    char *dir = make_temp_dir();
    REQUIRE(dir);
    fixture_write_text(dir, "file.txt", "not a directory\n");
    char file[4200];
    snprintf(file, sizeof file, "%s/file.txt", dir);
    CHECK_INT(walk_list(file, NULL, &w, NULL), ==, -ENOTDIR);
    remove_tree(&dir);
    CHECK(walk_get(NULL, 0) == NULL && walk_count(NULL) == 0 && walk_find(NULL, "x") == NULL);
}

TEST_MAIN(TEST_CASE(gitignore_is_honoured_without_git), TEST_CASE(every_skip_reason),
          TEST_CASE(unreadable_files_are_reported_not_fatal), TEST_CASE(fixture_is_listed_by_git),
          TEST_CASE(fixture_walk_agrees_with_git), TEST_CASE(single_file_checks),
          TEST_CASE(content_checks), TEST_CASE(a_nul_byte_anywhere_makes_a_file_binary),
          TEST_CASE(names_that_are_not_utf8_are_skipped_unread),
          TEST_CASE(git_runs_nothing_the_repository_or_the_environment_names),
          TEST_CASE(a_gitignore_that_is_a_symlink_is_not_followed),
          TEST_CASE(empty_root_lists_nothing), TEST_CASE(missing_root_is_an_error))
