/*
 * Tests of seeder/tagger, over the fixture repository with the real
 * universal-ctags (and a stand-in that fails on one file,
 * tests/unit/fake_ctags.h): every file gets the tags one ctags run over the
 * whole list gives it, in slices, in list order; a file not to parse (NULL)
 * costs nothing; the thread stays at most `ahead` slices in front of the
 * caller, and slices behind the caller are freed; a missing ctags, or one
 * that fails on a slice, leaves that slice without tags and keeps the first
 * message; an empty list is ready at once; destroying mid-run stops the
 * thread.
 */
#include "seeder/tagger.h"
#include "tests/test.h"
#include "tests/unit/fake_ctags.h"

#include <errno.h>

static const char *fixture_dir(void) {
    static char path[4096];
    const char *source = getenv("LCA_SOURCE_DIR");
    snprintf(path, sizeof path, "%s/tests/fixtures/repo", source ? source : ".");
    return path;
}

/* Eleven entries, one not to parse, in slices of three: four slices. */
static const char *const files[] = {
    "py/shop/models.py",
    "py/shop/main.py",
    NULL,
    "go/internal/store/store.go",
    "rust/src/config.rs",
    "web/src/index.ts",
    "c/src/stock.c",
    "java/src/main/java/com/example/shop/App.java",
    "scripts/deploy",
    "docs/notes.txt",
    "web/src/components/Button.tsx",
};
#define NFILES (sizeof files / sizeof files[0])

/* Whether two lists of tags are the same (name, kind, scope, lines). */
static bool same_tags(const ctags_tag_t *a, size_t na, const ctags_tag_t *b, size_t nb) {
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++) {
        bool scope = (!a[i].scope && !b[i].scope) ||
                     (a[i].scope && b[i].scope && !strcmp(a[i].scope, b[i].scope));
        if (strcmp(a[i].name, b[i].name) || strcmp(a[i].kind, b[i].kind) || !scope ||
            a[i].line != b[i].line || a[i].end != b[i].end)
            return false;
    }
    return true;
}

TEST(every_file_gets_the_tags_ctags_gives_it_in_list_order) {
    /* What one ctags run over all of them says, file by file. */
    const char *listed[NFILES];
    size_t n = 0;
    for (size_t i = 0; i < NFILES; i++)
        if (files[i])
            listed[n++] = files[i];
    ctags_batch_t *all = NULL;
    char *error = NULL;
    int rc = ctags_batch_run(fixture_dir(), listed, n, &all, &error);
    if (rc != 0)
        fprintf(stderr, "  ctags: %s\n", error ? error : "");
    free(error);
    REQUIRE(rc == 0 && all);

    tagger_t *t = NULL;
    REQUIRE(tagger_new(fixture_dir(), files, NFILES, 3, 1, &t) == 0 && t);
    size_t with_tags = 0;
    for (size_t i = 0; i < NFILES; i++) {
        CHECK(tagger_ready(t, i, true));
        size_t count = 99, want_count = 0;
        const ctags_tag_t *got = tagger_tags(t, i, &count);
        if (!files[i]) {
            CHECK(got == NULL && count == 0);
            continue;
        }
        const ctags_tag_t *want = ctags_batch_tags(all, files[i], &want_count);
        if (!same_tags(got, count, want, want_count))
            fprintf(stderr, "  %s: %zu tags, want %zu\n", files[i], count, want_count);
        CHECK(same_tags(got, count, want, want_count));
        with_tags += count > 0;
        for (size_t k = 0; k < count; k++)
            CHECK_STR(got[k].path, files[i]);
    }
    CHECK_INT(with_tags, >=, 8); /* notes.txt and the like have none */
    CHECK(tagger_error(t) == NULL);
    /* Past the end: ready, nothing there. */
    size_t count = 99;
    CHECK(tagger_ready(t, NFILES, false));
    CHECK(tagger_tags(t, NFILES, &count) == NULL && count == 0);
    tagger_destroy(&t);
    CHECK(t == NULL);
    ctags_batch_destroy(&all);
}

/* A slice more than `ahead` in front of the caller is never parsed: while
 * the caller is at slice k, slice k + ahead + 1 cannot be ready.  (Asking
 * for it moves the caller there; under the tagger's lock, before the thread
 * can take a step, it answers that it is not ready.) */
TEST(the_thread_stays_at_most_ahead_slices_in_front) {
    for (size_t ahead = 0; ahead <= 1; ahead++) {
        tagger_t *t = NULL;
        REQUIRE(tagger_new(fixture_dir(), files, NFILES, 3, ahead, &t) == 0);
        CHECK(tagger_ready(t, 0, true));
        size_t beyond = 3 * (ahead + 1); /* the first file of slice ahead + 1 */
        CHECK(!tagger_ready(t, beyond, false));
        size_t count = 99;
        CHECK(tagger_tags(t, beyond, &count) == NULL && count == 0);
        CHECK(tagger_ready(t, beyond, true));
        CHECK(tagger_tags(t, beyond, &count) != NULL && count > 0);
        tagger_destroy(&t);
    }
}

TEST(slices_behind_the_caller_are_freed) {
    tagger_t *t = NULL;
    REQUIRE(tagger_new(fixture_dir(), files, NFILES, 3, 2, &t) == 0);
    size_t count = 0;
    CHECK(tagger_ready(t, 0, true));
    CHECK(tagger_tags(t, 0, &count) != NULL && count > 0);
    CHECK(tagger_ready(t, 4, true)); /* slice 1: slice 0 goes */
    CHECK(tagger_tags(t, 0, &count) == NULL && count == 0);
    CHECK(tagger_tags(t, 4, &count) != NULL && count > 0);
    CHECK(tagger_ready(t, 9, true)); /* slice 3 */
    CHECK(tagger_tags(t, 4, &count) == NULL && count == 0);
    CHECK(tagger_tags(t, 7, &count) == NULL && count == 0);
    CHECK(tagger_ready(t, 10, true));
    CHECK(tagger_tags(t, 10, &count) != NULL && count > 0);
    tagger_destroy(&t);
}

TEST(without_ctags_no_file_has_tags_and_the_reason_is_kept) {
    const char *path = getenv("PATH");
    char *saved = strdup(path ? path : "/usr/bin:/bin");
    REQUIRE(saved);
    setenv("PATH", "/nonexistent-lca-bin", 1);
    tagger_t *t = NULL;
    int rc = tagger_new(fixture_dir(), files, NFILES, 3, 1, &t);
    bool all_ready = rc == 0;
    size_t tagged = 0;
    for (size_t i = 0; rc == 0 && i < NFILES; i++) {
        size_t count = 0;
        all_ready &= tagger_ready(t, i, true);
        tagged += tagger_tags(t, i, &count) != NULL || count != 0;
    }
    setenv("PATH", saved, 1);
    free(saved);
    REQUIRE(rc == 0);
    CHECK(all_ready);
    CHECK_INT(tagged, ==, 0);
    const char *error = tagger_error(t);
    CHECK(error && strstr(error, "ctags not found: install universal-ctags"));
    tagger_destroy(&t);
}

TEST(a_slice_ctags_fails_on_loses_its_tags_only_and_the_first_message_stays) {
    char dir[] = "/tmp/lca-ctags-fake-XXXXXX";
    char *saved = fake_ctags(dir, "config.rs", "echo 'cannot parse config.rs' >&2; exit 3");
    REQUIRE(saved);
    tagger_t *t = NULL;
    int rc = tagger_new(fixture_dir(), files, NFILES, 3, 1, &t);
    size_t tagged[4] = {0};
    for (size_t i = 0; rc == 0 && i < NFILES; i++) {
        size_t count = 0;
        CHECK(tagger_ready(t, i, true));
        tagged[i / 3] += tagger_tags(t, i, &count) != NULL && count > 0;
    }
    restore_path(saved, dir);
    REQUIRE(rc == 0);
    /* Slice 1 (store.go, config.rs, index.ts) failed whole; the others did not. */
    CHECK_INT(tagged[1], ==, 0);
    CHECK_INT(tagged[0], ==, 2);
    CHECK_INT(tagged[2], >=, 2);
    CHECK_INT(tagged[3], >=, 1);
    const char *error = tagger_error(t);
    if (!error || !strstr(error, "cannot parse config.rs"))
        fprintf(stderr, "  error: %s\n", error ? error : "(none)");
    CHECK(error && strstr(error, "ctags failed") && strstr(error, "cannot parse config.rs"));
    tagger_destroy(&t);
}

TEST(an_empty_list_is_ready_at_once_and_destroying_mid_run_stops_the_thread) {
    tagger_t *t = NULL;
    REQUIRE(tagger_new(fixture_dir(), NULL, 0, 0, 0, &t) == 0);
    size_t count = 99;
    CHECK(tagger_ready(t, 0, true));
    CHECK(tagger_tags(t, 0, &count) == NULL && count == 0);
    CHECK(tagger_error(t) == NULL);
    tagger_destroy(&t);
    CHECK(t == NULL);
    tagger_destroy(&t);
    tagger_destroy(NULL);

    /* Nothing to parse at all: every slice ready, no ctags run, no error. */
    static const char *const none[5] = {NULL};
    REQUIRE(tagger_new(fixture_dir(), none, 5, 2, 0, &t) == 0);
    for (size_t i = 0; i < 5; i++)
        CHECK(tagger_ready(t, i, true));
    CHECK(tagger_error(t) == NULL);
    tagger_destroy(&t);

    /* A long list, destroyed before the caller reads anything: the thread
     * ends (waiting for the caller, or after its slice), nothing leaks. */
    enum { LONG = 600 };
    static const char *many[LONG];
    for (size_t i = 0; i < LONG; i++)
        many[i] = files[i % NFILES];
    REQUIRE(tagger_new(fixture_dir(), many, LONG, 5, 2, &t) == 0);
    tagger_destroy(&t);
    CHECK(t == NULL);
    /* slice_files 0 means 256: file 255 is in the first slice. */
    REQUIRE(tagger_new(fixture_dir(), many, LONG, 0, 0, &t) == 0);
    CHECK(tagger_ready(t, 0, true));
    CHECK(tagger_ready(t, 255, false));
    CHECK(!tagger_ready(t, 256 * 2, false)); /* two slices on, ahead 0 */
    tagger_destroy(&t);
}

TEST_MAIN(TEST_CASE(every_file_gets_the_tags_ctags_gives_it_in_list_order),
          TEST_CASE(the_thread_stays_at_most_ahead_slices_in_front),
          TEST_CASE(slices_behind_the_caller_are_freed),
          TEST_CASE(without_ctags_no_file_has_tags_and_the_reason_is_kept),
          TEST_CASE(a_slice_ctags_fails_on_loses_its_tags_only_and_the_first_message_stays),
          TEST_CASE(an_empty_list_is_ready_at_once_and_destroying_mid_run_stops_the_thread))
