/*
 * Tests of retriever/store on a temporary directory: collections (ensure,
 * mismatch, drop, placement), file put/replace/delete, reloading from disk,
 * bounded size under churn, the permissions of a new index, and rejection
 * of malformed writes.  The search over a store is retriever_search_test's;
 * both build their corpus with tests/unit/retriever_corpus.h.
 */
#include "proto/shard.h"
#include "tests/unit/retriever_corpus.h"
#include "tests/test.h"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- tests ---- */

TEST(ensure_creates_verifies_and_rejects_a_mismatch) {
    fresh_dir();
    store_t *s = open_store(0, 2);
    REQUIRE(s);
    bool created = false;
    CHECK_INT(ensure(s, "demo", "builtin", 384, 2, &created), ==, 0);
    CHECK(created);
    CHECK_INT(ensure(s, "demo", "builtin", 384, 2, &created), ==, 0);
    CHECK(!created);
    CHECK_INT(ensure(s, "demo", "nomic-embed-text", 768, 2, NULL), ==, -EEXIST);
    CHECK(strstr(err, "collection 'demo' was indexed with builtin (384 dims, 2 shards); re-seed "
                      "it with --reset to change") != NULL);
    CHECK_INT(ensure(s, "demo", "builtin", 384, 3, NULL), ==, -EEXIST);
    CHECK_INT(ensure(s, "bad", "builtin", 100, 2, NULL), ==, -EINVAL);
    CHECK_INT(ensure(s, "", "builtin", 384, 2, NULL), ==, -EINVAL);
    CHECK_INT(store_collection_drop(s, "demo", err, sizeof err), ==, 0);
    CHECK_INT(ensure(s, "demo", "nomic-embed-text", 768, 2, &created), ==, 0);
    CHECK(created);
    CHECK_INT(store_collection_drop(s, "never", err, sizeof err), ==, 0);
    cleanup(&s);
}

TEST(a_new_index_is_closed_to_other_users) {
    fresh_dir();
    char parent[256];
    memcpy(parent, dir, sizeof parent);
    snprintf(dir, sizeof dir, "%.200s/index", parent); /* parent: /tmp/lca-store-XXXXXX */
    mode_t old = umask(022); /* the usual umask: what it lets through, the store must not */
    store_t *s = open_store(0, 1);
    bool created = false;
    if (s)
        CHECK_INT(ensure(s, "demo", "builtin", 384, 1, &created), ==, 0); /* a write */
    umask(old);
    REQUIRE(s);
    struct stat st;
    CHECK(stat(dir, &st) == 0 && (st.st_mode & 0777) == 0700);
    /* The files too, for a --data directory that others may enter. */
    const char *files[] = {"shard-0.db", "shard-0.db-wal", "shard-0.db-shm"};
    for (size_t i = 0; i < 3; i++) {
        char path[400];
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        CHECK(stat(path, &st) == 0);
        if ((st.st_mode & 0777) != 0600)
            fprintf(stderr, "  %s: mode %03o\n", files[i], (unsigned)(st.st_mode & 0777));
        CHECK_INT(st.st_mode & 0777, ==, 0600);
    }
    cleanup(&s);
    rmdir(parent);
}

TEST(put_replace_and_delete_keep_counts) {
    fresh_dir();
    store_t *s = open_store(0, 1);
    REQUIRE(s && load_corpus(s));
    CHECK_INT(listed(s, "files"), ==, 5);
    CHECK_INT(listed(s, "chunks"), ==, 8);
    /* Replace utils.py with one chunk. */
    CHECK_INT(put(s, "src/utils.py", "h-utils-2", NULL, 0, UTILS, 1), ==, 0);
    CHECK_INT(listed(s, "files"), ==, 5);
    CHECK_INT(listed(s, "chunks"), ==, 7);
    buf_t out = BUF_INIT;
    CHECK_INT(store_collection_files(s, "demo", &out, err, sizeof err), ==, 0);
    CHECK(out.data && strstr(out.data, "{\"path\":\"src/utils.py\",\"hash\":\"h-utils-2\"}"));
    buf_free(&out);
    CHECK_INT(store_file_delete(s, "demo", "src/utils.py", err, sizeof err), ==, 0);
    CHECK_INT(store_file_delete(s, "demo", "src/utils.py", err, sizeof err), ==, 0);
    CHECK_INT(listed(s, "files"), ==, 4);
    CHECK_INT(listed(s, "chunks"), ==, 6);
    CHECK_INT(store_collection_touch(s, "demo", 1700000000, err, sizeof err), ==, 0);
    CHECK_INT(listed(s, "seeded_at"), ==, 1700000000);
    CHECK_INT(store_collection_optimize(s, "demo", err, sizeof err), ==, 0);
    CHECK_INT(store_collection_optimize(s, "nope", err, sizeof err), ==, -ENOENT);
    CHECK_INT(store_file_delete(s, "nope", "x", err, sizeof err), ==, -ENOENT);
    /* An empty file is a file with no chunks (its hash still recorded). */
    CHECK_INT(put(s, "empty.py", "h-empty", NULL, 0, NULL, 0), ==, 0);
    CHECK_INT(listed(s, "files"), ==, 5);
    CHECK_INT(listed(s, "chunks"), ==, 6);
    CHECK_INT(store_file_delete(s, "demo", "empty.py", err, sizeof err), ==, 0);
    store_stats_t st;
    store_stats_get(s, &st);
    CHECK_INT(st.collections, ==, 1);
    CHECK_INT(st.chunks, ==, 6);
    CHECK_INT(st.vector_bytes, >, 0);
    CHECK_INT(st.db_bytes, >, 0);
    cleanup(&s);
}

TEST(reopening_loads_vectors_and_rows) {
    fresh_dir();
    store_t *s = open_store(0, 1);
    REQUIRE(s && load_corpus(s));
    store_destroy(&s);
    s = open_store(0, 1);
    REQUIRE(s);
    store_stats_t st;
    store_stats_get(s, &st);
    CHECK_INT(st.chunks, ==, 8);
    CHECK_INT(listed(s, "files"), ==, 5);
    float q[DIM];
    unit_vector(q, 3);
    cJSON *root;
    search_query_t dq = {.vector = q, .vector_bytes = sizeof q, .limit = 1};
    const cJSON *chunks = search(s, &dq, &root);
    REQUIRE(chunks);
    const cJSON *c = cJSON_GetArrayItem(chunks, 0);
    CHECK(c && find_chunk(chunks, "src/utils.py", 8) == c);
    cJSON_Delete(root);
    /* New chunk ids never reuse old ones. */
    CHECK_INT(put(s, "src/utils.py", "h2", NULL, 0, UTILS, 2), ==, 0);
    store_stats_get(s, &st);
    CHECK_INT(st.chunks, ==, 8);
    cleanup(&s);
}

static size_t file_bytes(const char *suffix) {
    char path[400];
    snprintf(path, sizeof path, "%s/shard-0.db%s", dir, suffix);
    struct stat st;
    return stat(path, &st) == 0 ? (size_t)st.st_size : 0;
}

TEST(hundred_rounds_of_delete_and_re_add_do_not_grow) {
    fresh_dir();
    store_t *s = open_store(0, 1);
    REQUIRE(s && ensure(s, "demo", "builtin", DIM, 1, NULL) == 0);
    enum { CHUNKS = 40 };
    static chunk_def_t big[CHUNKS];
    static char texts[CHUNKS][2048];
    static char idents[CHUNKS][256];
    for (int i = 0; i < CHUNKS; i++) {
        int n = 0;
        for (int w = 0; n < 1900; w++)
            n += snprintf(texts[i] + n, sizeof texts[i] - (size_t)n, "value_%d_%d = compute%d(x)\n",
                          i, w, w % 17);
        snprintf(idents[i], sizeof idents[i], "[\"compute%d\",\"helper_%d\"]", i % 17, i);
        big[i] = (chunk_def_t){i * 10 + 1, i * 10 + 9, "[\"big\"]", idents[i], texts[i], i};
    }
    size_t db20 = 0, vec20 = 0;
    store_stats_t st;
    for (int round = 1; round <= 100; round++) {
        REQUIRE(store_file_delete(s, "demo", "big.py", err, sizeof err) == 0);
        REQUIRE(put(s, "big.py", "h", NULL, 0, big, CHUNKS) == 0);
        if (round == 20) {
            store_stats_get(s, &st);
            db20 = file_bytes("");
            vec20 = st.vector_bytes;
        }
    }
    store_stats_get(s, &st);
    size_t db100 = file_bytes(""), wal = file_bytes("-wal");
    fprintf(stderr, "  db after 20 rounds %zu, after 100 %zu; wal %zu; vectors %zu -> %zu\n", db20,
            db100, wal, vec20, st.vector_bytes);
    CHECK_INT(st.chunks, ==, CHUNKS);
    CHECK_INT(st.vector_bytes, ==, vec20);
    CHECK_INT(db100, <=, db20 + db20 / 4);
    CHECK_INT(wal, <=, 9 << 20);
    cleanup(&s);
}

TEST(malformed_writes_are_rejected_without_effect) {
    fresh_dir();
    store_t *s = open_store(0, 1);
    REQUIRE(s && load_corpus(s));
    store_file_spec_t f = {"demo", "src/utils.py", "h-bad", "python", NULL, 0};
    long n;
    CHECK_INT(store_file_put(s, &f, NULL, 0, &n, err, sizeof err), ==, -EINVAL);
    CHECK_INT(store_file_put(s, &f, "\x05\x00\x00\x00ab", 6, &n, err, sizeof err), ==, -EINVAL);

    static const char *const bad_json[] = {
        "not json",
        "{\"chunks\":{}}",
        "{\"chunks\":[1]}",
        "{\"chunks\":[{\"start_line\":5,\"end_line\":2}]}",
        "{\"chunks\":[{\"start_line\":1.5,\"end_line\":2}]}",
        "{\"chunks\":[{\"start_line\":1,\"end_line\":2,\"symbols\":\"x\"}]}",
        "{\"chunks\":[{\"start_line\":1,\"end_line\":2,\"identifiers\":[3]}]}",
        "{\"chunks\":[{\"start_line\":1,\"end_line\":2,\"kind\":7}]}",
        "{\"chunks\":[{\"start_line\":1,\"end_line\":2,\"symbols\":[\"caf\xe9\"]}]}",
        "{\"chunks\":[]} trailing",
    };
    float vec[DIM] = {1};
    for (size_t i = 0; i < sizeof bad_json / sizeof bad_json[0]; i++) {
        buf_t p = BUF_INIT;
        texts_append(&p, bad_json[i], strlen(bad_json[i]));
        texts_append(&p, "x", 1);
        texts_append(&p, (const char *)vec, sizeof vec);
        CHECK_INT(store_file_put(s, &f, p.data, p.len, &n, err, sizeof err), ==, -EINVAL);
        buf_free(&p);
    }
    /* Wrong number of texts, wrong vector size, a NaN. */
    const char *one = "{\"chunks\":[{\"start_line\":1,\"end_line\":2}]}";
    buf_t p = BUF_INIT;
    texts_append(&p, one, strlen(one));
    texts_append(&p, (const char *)vec, sizeof vec);
    CHECK_INT(store_file_put(s, &f, p.data, p.len, &n, err, sizeof err), ==, -EINVAL);
    buf_reset(&p);
    texts_append(&p, one, strlen(one));
    texts_append(&p, "x", 1);
    texts_append(&p, (const char *)vec, sizeof vec - 4);
    CHECK_INT(store_file_put(s, &f, p.data, p.len, &n, err, sizeof err), ==, -EINVAL);
    CHECK(strstr(err, "float32") != NULL);
    buf_reset(&p);
    vec[3] = NAN;
    texts_append(&p, one, strlen(one));
    texts_append(&p, "x", 1);
    texts_append(&p, (const char *)vec, sizeof vec);
    CHECK_INT(store_file_put(s, &f, p.data, p.len, &n, err, sizeof err), ==, -EINVAL);
    buf_free(&p);
    /* Nothing changed. */
    CHECK_INT(listed(s, "chunks"), ==, 8);
    buf_t out = BUF_INIT;
    store_collection_files(s, "demo", &out, err, sizeof err);
    CHECK(out.data && strstr(out.data, "\"h-utils\"") && !strstr(out.data, "h-bad"));
    buf_free(&out);

    /* Invalid UTF-8 in a chunk's text is stored as '?', so replies stay JSON. */
    chunk_def_t latin = {1, 1, "[\"caf\"]", "[]", "caf\xe9 = 1\n", 9};
    CHECK_INT(put(s, "latin.py", "h", NULL, 0, &latin, 1), ==, 0);
    cleanup(&s);
}

TEST(a_path_of_another_shard_is_refused) {
    fresh_dir();
    store_t *s = open_store(1, 2);
    REQUIRE(s && ensure(s, "demo", "builtin", DIM, 2, NULL) == 0);
    char path[32];
    int i = 0;
    do
        snprintf(path, sizeof path, "f%d.py", i++);
    while (shard_of(path, strlen(path), 2) != 0);
    CHECK_INT(put(s, path, "h", NULL, 0, HELPERS, 1), ==, -EINVAL);
    CHECK(strstr(err, "belongs to shard 0 of 2") != NULL);
    do
        snprintf(path, sizeof path, "f%d.py", i++);
    while (shard_of(path, strlen(path), 2) != 1);
    CHECK_INT(put(s, path, "h", NULL, 0, HELPERS, 1), ==, 0);
    cleanup(&s);
}

/* A path "f<n>.py" with the given shards under the old and the new
 * placement (of 2 shards). */
static void path_placed(char *path, size_t cap, int old_shard, int new_shard) {
    int i = 0;
    do
        snprintf(path, cap, "f%d.py", i++);
    while (shard_of_placement(SHARD_PLACEMENT_FNV1A, path, strlen(path), 2) != old_shard ||
           shard_of_placement(SHARD_PLACEMENT_MIXED, path, strlen(path), 2) != new_shard);
}

/* The placement collection `name` reports in the store's listing; -1: none. */
static int listed_placement(store_t *s, const char *name) {
    buf_t out = BUF_INIT;
    store_collections_list(s, &out, err, sizeof err);
    cJSON *j = cJSON_ParseWithLength(out.data, out.len);
    buf_free(&out);
    int placement = -1;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(j, "collections")) {
        if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "name")), name) == 0)
            placement = (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(c, "placement"));
    }
    cJSON_Delete(j);
    return placement;
}

TEST(a_collection_keeps_its_placement_and_puts_are_checked_against_it) {
    fresh_dir();
    store_t *s = open_store(0, 2);
    REQUIRE(s);
    store_collection_spec_t old = {"demo", "/repo", "builtin", DIM, 2, SHARD_PLACEMENT_FNV1A};
    store_ensured_t out;
    REQUIRE(store_collection_ensure(s, &old, &out, err, sizeof err) == 0);
    CHECK(out.created);
    CHECK_INT(out.placement, ==, SHARD_PLACEMENT_FNV1A);
    /* Asking for the new placement does not change an existing collection. */
    store_collection_spec_t now = old;
    now.placement = 0;
    REQUIRE(store_collection_ensure(s, &now, &out, err, sizeof err) == 0);
    CHECK(!out.created);
    CHECK_INT(out.placement, ==, SHARD_PLACEMENT_FNV1A);
    CHECK_INT(listed_placement(s, "demo"), ==, SHARD_PLACEMENT_FNV1A);
    char ours_before[32], ours_now[32];
    path_placed(ours_before, sizeof ours_before, 0, 1);
    path_placed(ours_now, sizeof ours_now, 1, 0);
    CHECK_INT(put(s, ours_before, "h", NULL, 0, HELPERS, 1), ==, 0);
    CHECK_INT(put(s, ours_now, "h", NULL, 0, HELPERS, 1), ==, -EINVAL);
    CHECK(strstr(err, "belongs to shard 1 of 2") != NULL);
    /* Dropped and made again, it takes the placement asked for. */
    REQUIRE(store_collection_drop(s, "demo", err, sizeof err) == 0);
    REQUIRE(store_collection_ensure(s, &now, &out, err, sizeof err) == 0);
    CHECK(out.created);
    CHECK_INT(out.placement, ==, SHARD_PLACEMENT);
    CHECK_INT(put(s, ours_now, "h", NULL, 0, HELPERS, 1), ==, 0);
    CHECK_INT(put(s, ours_before, "h", NULL, 0, HELPERS, 1), ==, -EINVAL);
    now.placement = 3;
    CHECK_INT(store_collection_ensure(s, &now, &out, err, sizeof err), ==, -EINVAL);
    cleanup(&s);
}

TEST(a_shard_file_from_before_placements_opens_with_the_old_one) {
    fresh_dir();
    store_t *s = open_store(0, 2);
    REQUIRE(s && ensure(s, "demo", "builtin", DIM, 2, NULL) == 0);
    store_destroy(&s);
    /* What an older retriever wrote: no placement column. */
    char path[300];
    snprintf(path, sizeof path, "%s/shard-0.db", dir);
    sqlite3 *db = NULL;
    REQUIRE(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK_INT(sqlite3_exec(db, "ALTER TABLE collections DROP COLUMN placement", NULL, NULL, NULL),
              ==, SQLITE_OK);
    sqlite3_close(db);
    s = open_store(0, 2);
    REQUIRE(s);
    CHECK_INT(listed_placement(s, "demo"), ==, SHARD_PLACEMENT_FNV1A);
    char ours_before[32];
    path_placed(ours_before, sizeof ours_before, 0, 1);
    CHECK_INT(put(s, ours_before, "h", NULL, 0, HELPERS, 1), ==, 0);
    store_destroy(&s);
    /* The column stays: reopening again changes nothing. */
    s = open_store(0, 2);
    REQUIRE(s);
    CHECK_INT(listed_placement(s, "demo"), ==, SHARD_PLACEMENT_FNV1A);
    cleanup(&s);
}

TEST_MAIN(TEST_CASE(ensure_creates_verifies_and_rejects_a_mismatch),
          TEST_CASE(a_new_index_is_closed_to_other_users),
          TEST_CASE(put_replace_and_delete_keep_counts),
          TEST_CASE(reopening_loads_vectors_and_rows),
          TEST_CASE(hundred_rounds_of_delete_and_re_add_do_not_grow),
          TEST_CASE(malformed_writes_are_rejected_without_effect),
          TEST_CASE(a_path_of_another_shard_is_refused),
          TEST_CASE(a_collection_keeps_its_placement_and_puts_are_checked_against_it),
          TEST_CASE(a_shard_file_from_before_placements_opens_with_the_old_one))
