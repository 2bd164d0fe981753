/*
 * gateway/collections: snapshots merged from shard answers, looked up by
 * name or path, rendered; and the cache refreshing them from shards served
 * inside this process (tests/inproc.h), one of which has no worker.
 */
#include "gateway/collections.h"
#include "tests/inproc.h"
#include "tests/test.h"

#include <cJSON.h>
#include <errno.h>
#include <stdatomic.h>

/* ---- snapshots ---- */

/* A snapshot of one or two shard answers (b may be NULL). */
static collections_t *merged(const char *a, const char *b) {
    collections_t *s = collections_new();
    for (int i = 0; s && i < 2; i++)
        if (i == 0 || b)
            collections_merge(s, i ? b : a, strlen(i ? b : a));
    return s;
}

TEST(shard_answers_merge_by_name) {
    collections_t *s = merged(
        "{\"collections\":[{\"name\":\"shop\",\"root\":\"/src/shop\",\"model\":\"builtin\","
        "\"dim\":256,\"shards\":2,\"files\":10,\"chunks\":100,\"seeded_at\":1700000000},"
        "{\"name\":\"\",\"root\":\"/x\"},{\"root\":\"/y\"},7]}",
        "{\"collections\":[{\"name\":\"shop\",\"root\":\"/elsewhere\",\"dim\":99,\"files\":5,"
        "\"chunks\":40,\"seeded_at\":1700000500},{\"name\":\"docs\",\"root\":\"/src/docs\","
        "\"dim\":\"x\",\"shards\":-3,\"chunks\":1e300}]}");
    REQUIRE(s);
    REQUIRE(s->count == 2);
    const collection_t *shop = collections_find(s, "shop");
    REQUIRE(shop);
    CHECK_STR(shop->root, "/src/shop"); /* the first shard's record */
    CHECK_STR(shop->model, "builtin");
    CHECK_INT(shop->dim, ==, 256);
    CHECK_INT(shop->shards, ==, 2);
    CHECK_INT(shop->files, ==, 15); /* summed */
    CHECK_INT(shop->chunks, ==, 140);
    CHECK_INT(shop->seeded_at, ==, 1700000500); /* the latest */
    const collection_t *docs = collections_find(s, "docs");
    REQUIRE(docs);
    CHECK_STR(docs->model, "");  /* never NULL */
    CHECK_INT(docs->dim, ==, 0); /* not a sane count */
    CHECK_INT(docs->shards, ==, 0);
    CHECK(collections_find(s, "nope") == NULL);
    CHECK(collections_find(s, NULL) == NULL);
    /* What is not {"collections": [...]} is refused whole. */
    CHECK_INT(collections_merge(s, "{\"collections\":{}}", 18), ==, -EINVAL);
    CHECK_INT(collections_merge(s, "[1,2]", 5), ==, -EINVAL);
    CHECK_INT(collections_merge(s, "{\"coll", 6), ==, -EINVAL);
    CHECK_INT(collections_merge(s, NULL, 0), ==, -EINVAL);
    CHECK_INT(s->count, ==, 2);
    collections_release(&s);
    CHECK(s == NULL);
    collections_release(&s); /* NULL is fine */
}

TEST(a_path_belongs_to_the_longest_root_above_it) {
    collections_t *s = merged("{\"collections\":[{\"name\":\"outer\",\"root\":\"/src\"},"
                              "{\"name\":\"inner\",\"root\":\"/src/shop\"},"
                              "{\"name\":\"rootless\",\"root\":\"\"}]}",
                              NULL);
    REQUIRE(s && s->count == 3);
    static const struct {
        const char *path, *name; /* name NULL: none */
    } cases[] = {
        {"/src/shop/cart.py", "inner"}, {"/src/shop", "inner"}, {"/src/shopping/x.py", "outer"},
        {"/src/a.py", "outer"},         {"/srcx/a.py", NULL},   {"/", NULL},
        {"relative/a.py", NULL},        {"/src/", "outer"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const collection_t *c = collections_for_path(s, cases[i].path, strlen(cases[i].path));
        if (cases[i].name)
            CHECK_STR(c ? c->name : NULL, cases[i].name);
        else
            CHECK(c == NULL);
    }
    collections_release(&s);
}

TEST(a_snapshot_renders_as_json_and_gauges) {
    collections_t *s = merged("{\"collections\":[{\"name\":\"shop\",\"root\":\"/s\\\"q\","
                              "\"model\":\"m\",\"dim\":8,\"shards\":2,\"files\":3,"
                              "\"chunks\":30,\"seeded_at\":5}]}",
                              NULL);
    REQUIRE(s);
    buf_t out = BUF_INIT;
    collections_append_json(s, &out);
    CHECK_STR(out.data, "[{\"name\":\"shop\",\"root\":\"/s\\\"q\",\"model\":\"m\",\"dim\":8,"
                        "\"shards\":2,\"files\":3,\"chunks\":30,\"seeded_at\":5}]");
    buf_reset(&out);
    collections_append_json(NULL, &out);
    CHECK_STR(out.data, "[]");
    buf_reset(&out);
    collections_append_metrics(s, &out);
    CHECK(strstr(out.data, "# TYPE lca_collection_chunks gauge\n") != NULL);
    CHECK(strstr(out.data, "\nlca_collection_chunks{collection=\"shop\"} 30\n") != NULL);
    buf_reset(&out);
    collections_append_metrics(NULL, &out);
    CHECK(strstr(out.data, "lca_collection_chunks{") == NULL);
    buf_free(&out);
    collections_release(&s);
}

TEST(a_snapshot_knows_the_spread_over_the_shards) {
    collections_t *s = collections_new();
    REQUIRE(s);
    /* Three shards: 0 and 2 answer, 1 does not; 2 holds nothing of shop. */
    const char *zero = "{\"collections\":[{\"name\":\"shop\",\"root\":\"/s\",\"files\":4,"
                       "\"chunks\":40}]}";
    CHECK_INT(collections_merge_shard(s, 0, 3, zero, strlen(zero)), ==, 0);
    const char *two = "{\"collections\":[{\"name\":\"docs\",\"root\":\"/d\",\"files\":1,"
                      "\"chunks\":2},{\"name\":\"shop\",\"files\":2,\"chunks\":7}]}";
    CHECK_INT(collections_merge_shard(s, 2, 3, two, strlen(two)), ==, 0);
    const collection_t *shop = collections_find(s, "shop");
    REQUIRE(shop && shop->nshards == 3);
    CHECK_INT(shop->chunks, ==, 47);
    CHECK_INT(shop->shard_chunks[0], ==, 40);
    CHECK_INT(shop->shard_chunks[2], ==, 7);
    buf_t out = BUF_INIT;
    collections_append_json(s, &out);
    CHECK(strstr(out.data, "\"name\":\"shop\"") != NULL);
    CHECK(strstr(out.data, "\"shard_files\":[4,null,2],\"shard_chunks\":[40,null,7]}") != NULL);
    CHECK(strstr(out.data, "\"shard_files\":[0,null,1],\"shard_chunks\":[0,null,2]}") != NULL);
    cJSON *parsed = cJSON_Parse(out.data);
    CHECK(cJSON_IsArray(parsed) && cJSON_GetArraySize(parsed) == 2);
    cJSON_Delete(parsed);
    buf_free(&out);
    /* Shards out of range, another shard count, or mixing both ways: refused. */
    CHECK_INT(collections_merge_shard(s, 3, 3, two, strlen(two)), ==, -EINVAL);
    CHECK_INT(collections_merge_shard(s, -1, 3, two, strlen(two)), ==, -EINVAL);
    CHECK_INT(collections_merge_shard(s, 0, 4, two, strlen(two)), ==, -EINVAL);
    CHECK_INT(collections_merge(s, two, strlen(two)), ==, -EINVAL);
    CHECK_INT(collections_merge_shard(s, 1, 3, "[]", 2), ==, -EINVAL);
    CHECK_INT(s->count, ==, 2);
    collections_release(&s);
    s = merged("{\"collections\":[]}", NULL);
    REQUIRE(s);
    CHECK_INT(collections_merge_shard(s, 0, 2, two, strlen(two)), ==, 0); /* still empty: fine */
    collections_release(&s);
}

/* ---- the cache, against shards in this process ---- */

static inproc_t s;
static bool shards_up;
static atomic_int shards_fail; /* the shards answer ERROR 500 */
static atomic_int asked;       /* collections requests the shards served */

/* retrieve.<i> lists one collection, "shop", with i+1 files. */
static void shard(proto_job_t *job, void *arg) {
    atomic_fetch_add(&asked, 1);
    if (atomic_load(&shards_fail)) {
        proto_job_error(job, 500, "scripted failure");
        return;
    }
    char payload[200];
    int n = snprintf(payload, sizeof payload,
                     "{\"collections\":[{\"name\":\"shop\",\"root\":\"/src/shop\",\"model\":"
                     "\"builtin\",\"dim\":8,\"shards\":3,\"files\":%d,\"chunks\":10}]}",
                     (int)(intptr_t)arg + 1);
    proto_job_final(job, "{}", payload, (size_t)n);
}

static bridge_t *bridge;

/* Shards 0 and 1 of 3: retrieve.2 has no worker. */
static bool setup(void) {
    static bool tried;
    if (!tried) {
        tried = true;
        shards_up = inproc_start(&s) && inproc_worker(&s, "retrieve.0", 2, shard, (void *)0) &&
                    inproc_worker(&s, "retrieve.1", 2, shard, (void *)1) &&
                    (bridge = inproc_bridge(&s)) != NULL;
    }
    return shards_up;
}

typedef struct {
    collections_waiter_t waiter;
    int calls;
    collections_t *snapshot; /* a reference taken in the callback */
} waiting_t;

static void on_ready(collections_waiter_t *w, const collections_t *snapshot) {
    waiting_t *wt = H2O_STRUCT_FROM_MEMBER(waiting_t, waiter, w);
    wt->calls++;
    collections_release(&wt->snapshot);
    wt->snapshot = (collections_t *)snapshot;
    wt->snapshot->refs++;
}

static bool called(void *arg) {
    return ((waiting_t *)arg)->calls > 0;
}

TEST(a_refresh_merges_the_shards_that_answer) {
    REQUIRE(setup());
    collections_cache_t *cache = collections_cache_new(bridge, 3, 2000);
    REQUIRE(cache);
    /* Nothing known yet: no snapshot, and a refresh starts. */
    CHECK(collections_current(cache) == NULL);
    waiting_t first = {.waiter.on_ready = on_ready}, gone = {.waiter.on_ready = on_ready};
    collections_wait(cache, &first.waiter);
    collections_wait(cache, &gone.waiter);
    collections_cancel_wait(&gone.waiter);
    collections_cancel_wait(&gone.waiter); /* twice is harmless */
    /* retrieve.2 fails after five heartbeats without a worker. */
    CHECK(inproc_run_until(&s, called, &first, 5000));
    inproc_run_for(&s, 20);
    CHECK_INT(first.calls, ==, 1);
    CHECK_INT(gone.calls, ==, 0);
    REQUIRE(first.snapshot);
    CHECK(first.snapshot->known);
    CHECK_INT(first.snapshot->shards_missing, ==, 1);
    const collection_t *shop = collections_find(first.snapshot, "shop");
    REQUIRE(shop);
    CHECK_INT(shop->files, ==, 1 + 2);
    CHECK_INT(shop->chunks, ==, 20);
    /* The spread: shard i has i+1 files; retrieve.2 did not answer. */
    REQUIRE(shop->nshards == 3 && first.snapshot->nshards == 3);
    CHECK_INT(shop->shard_files[0], ==, 1);
    CHECK_INT(shop->shard_files[1], ==, 2);
    CHECK(first.snapshot->shard_answered[0] && first.snapshot->shard_answered[1]);
    CHECK(!first.snapshot->shard_answered[2]);
    /* It is now the current one, shared, not copied. */
    collections_t *current = collections_current(cache);
    CHECK(current == first.snapshot);
    collections_release(&current);

    /* A refresh no shard answers keeps the list there was. */
    atomic_store(&shards_fail, 1);
    int before = atomic_load(&asked);
    waiting_t second = {.waiter.on_ready = on_ready};
    collections_wait(cache, &second.waiter);
    CHECK(inproc_run_until(&s, called, &second, 5000));
    CHECK_INT(atomic_load(&asked) - before, ==, 2);
    CHECK(second.snapshot == first.snapshot);
    CHECK(second.snapshot->known);
    atomic_store(&shards_fail, 0);

    collections_release(&first.snapshot);
    collections_release(&second.snapshot);
    collections_cache_destroy(&cache);
    CHECK(cache == NULL);
}

TEST(destroying_the_cache_mid_refresh_calls_nobody) {
    REQUIRE(setup());
    collections_cache_t *cache = collections_cache_new(bridge, 3, 2000);
    waiting_t w = {.waiter.on_ready = on_ready};
    collections_wait(cache, &w.waiter);
    collections_cache_destroy(&cache);
    collections_cache_destroy(&cache); /* NULL is fine */
    inproc_run_for(&s, 1200);          /* past the missing shard's 503 */
    CHECK_INT(w.calls, ==, 0);
}

TEST(everything_stops_clean) {
    REQUIRE(setup());
    bridge_destroy(&bridge);
    inproc_stop(&s);
    CHECK(s.broker == NULL);
}

TEST_MAIN(TEST_CASE(shard_answers_merge_by_name),
          TEST_CASE(a_path_belongs_to_the_longest_root_above_it),
          TEST_CASE(a_snapshot_renders_as_json_and_gauges),
          TEST_CASE(a_snapshot_knows_the_spread_over_the_shards),
          TEST_CASE(a_refresh_merges_the_shards_that_answer),
          TEST_CASE(destroying_the_cache_mid_refresh_calls_nobody),
          TEST_CASE(everything_stops_clean))
