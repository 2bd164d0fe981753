/*
 * gateway/context: one retrieval's bookkeeping across two scripted shards
 * and an embed service inside this process (tests/loopback.h), called as
 * the routes call it: which collection a request means (its name, the
 * /c/<name>/ prefix, X-LCA-Collection, the file's path, the only one) and
 * every refusal; the list of collections waited for when there is none
 * yet; the query embedded by the service, here (the built-in model), or
 * not at all; every shard asked, their answers fused and cut to k; a shard
 * that fails or is late costing only its part, one that says the request
 * is wrong failing it; the deadline; and a request that goes away
 * cancelling its calls with nobody called back.
 */
#include "gateway/context.h"
#include "proto/code/embedding.h"
#include "tests/loopback.h"
#include "tests/test.h"

/* ---- the embed service: 16 floats for any query ---- */

static atomic_int embeds;

static void embed(proto_job_t *job, void *arg) {
    (void)arg;
    atomic_fetch_add(&embeds, 1);
    const char *kind =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(proto_job_json(job), "kind"));
    if (!kind || strcmp(kind, "query") != 0) {
        proto_job_error(job, 400, "not a query");
        return;
    }
    float v[16] = {1};
    proto_job_final(job, "{}", v, sizeof v);
}

static bool setup(void) {
    static bool tried, ok;
    if (!tried) {
        tried = true;
        ok = loopback_start(2) &&
             inproc_worker(&loopback.s, "retrieve.0", 4, shard_worker, (void *)0) &&
             inproc_worker(&loopback.s, "retrieve.1", 4, shard_worker, (void *)1) &&
             inproc_worker(&loopback.s, "embed", 2, embed, NULL);
    }
    return ok;
}

/* What a retrieval called back with (copied while the request lives). */
typedef struct {
    int calls;
    int status;
    char message[256], collection[64], root[64];
    size_t count;
    char paths[8][64];
    int shards_missing;
    bool timed_out;
    double elapsed_ms;
} got_t;

static void done(http_ctx_t *ctx, const context_result_t *r, void *arg) {
    (void)ctx;
    got_t *g = arg;
    g->calls++;
    g->status = r->status;
    snprintf(g->message, sizeof g->message, "%s", r->message);
    snprintf(g->collection, sizeof g->collection, "%s", r->collection ? r->collection : "");
    snprintf(g->root, sizeof g->root, "%s", r->root ? r->root : "");
    g->count = r->count;
    for (size_t i = 0; i < r->count && i < 8; i++)
        snprintf(g->paths[i], sizeof g->paths[i], "%s", r->chunks[i].path);
    g->shards_missing = r->shards_missing;
    g->timed_out = r->timed_out;
    g->elapsed_ms = r->elapsed_ms;
}

static bool called(void *arg) {
    return ((got_t *)arg)->calls > 0;
}

static const char *shop_on_two = "{\"collections\":[{\"name\":\"shop\",\"root\":\"/src/shop\","
                                 "\"model\":\"nomic-embed-text\",\"dim\":16,\"shards\":2,"
                                 "\"files\":3,\"chunks\":9}]}";

/* Both shards list what listing says and answer searches with their chunks. */
static void both(const char *listing, const char *chunks0, const char *chunks1) {
    shard_script(0, &(shard_script_t){.collections = listing, .chunks = chunks0});
    shard_script(1, &(shard_script_t){.collections = listing, .chunks = chunks1});
    loopback_collections_reset();
}

/* Runs a retrieval of q for a new request (set up by prepare, if any) to
 * its end; the request is freed after. */
static got_t retrieve(const context_query_t *q, void (*prepare)(loopback_req_t *, http_ctx_t *)) {
    got_t g = {0};
    loopback_req_t *r = loopback_request("POST", "/api/context", NULL);
    http_ctx_t *ctx = loopback_ctx(r, API_LCA);
    if (prepare)
        prepare(r, ctx);
    context_retrieve(ctx, q, done, &g);
    CHECK_INT(g.calls, ==, 0); /* never from inside the call */
    CHECK(inproc_run_until(&loopback.s, called, &g, 5000));
    inproc_run_for(&loopback.s, 10);
    CHECK_INT(g.calls, ==, 1);
    loopback_free(r);
    return g;
}

static const context_query_t helper_query = {.query = "where is helper defined", .query_len = 23};

TEST(every_shard_is_searched_and_the_answers_fused) {
    REQUIRE(setup());
    both(shop_on_two,
         "{\"chunks\":[{\"path\":\"a.py\",\"start_line\":1,\"end_line\":4,\"language\":\"python\","
         "\"kind\":\"function\",\"text\":\"def a(): pass\",\"signals\":{\"bm25\":1}}]}",
         "{\"chunks\":[{\"path\":\"b.py\",\"start_line\":7,\"end_line\":9,\"text\":\"def helper()"
         "\",\"symbols\":[\"helper\"],\"signals\":{\"symbol\":2,\"bm25\":5}}]}");
    int embedded = atomic_load(&embeds);
    got_t g = retrieve(&helper_query, NULL);
    CHECK_INT(g.status, ==, 200);
    CHECK_STR(g.collection, "shop");
    CHECK_STR(g.root, "/src/shop");
    CHECK_INT(g.count, ==, 2);
    CHECK_STR(g.paths[0], "b.py"); /* better on every signal */
    CHECK_STR(g.paths[1], "a.py");
    CHECK_INT(g.shards_missing, ==, 0);
    CHECK(!g.timed_out);
    /* The model is not the built-in one: the embed service made the vector
     * that both shards got. */
    CHECK_INT(atomic_load(&embeds), ==, embedded + 1);
    for (int i = 0; i < 2; i++) {
        size_t vector = 0;
        cJSON *s = shard_search(i, &vector);
        CHECK_STR(jstr(s, "op"), "search");
        CHECK_STR(jstr(s, "collection"), "shop");
        CHECK_INT(jnum(s, "k"), ==, 10);
        CHECK_INT(vector, ==, 16 * sizeof(float));
        cJSON_Delete(s);
    }
}

TEST(the_builtin_model_is_embedded_here_and_dense_can_be_left_out) {
    REQUIRE(setup());
    both("{\"collections\":[{\"name\":\"shop\",\"root\":\"/src/"
         "shop\",\"model\":\"" BUILTIN_EMBEDDER_MODEL "\",\"dim\":32,\"shards\":2}]}",
         NULL, NULL);
    int embedded = atomic_load(&embeds);
    got_t g = retrieve(&helper_query, NULL);
    CHECK_INT(g.status, ==, 200);
    CHECK_INT(atomic_load(&embeds), ==, embedded); /* no hop to the service */
    size_t vector = 0;
    cJSON_Delete(shard_search(1, &vector));
    CHECK_INT(vector, ==, 32 * sizeof(float)); /* the collection's own dimension */
    /* BM25 alone: nothing to embed. */
    context_query_t q = helper_query;
    q.signals = SIGNAL_BM25;
    g = retrieve(&q, NULL);
    CHECK_INT(g.status, ==, 200);
    cJSON_Delete(shard_search(0, &vector));
    CHECK_INT(vector, ==, 0);
    CHECK_INT(atomic_load(&embeds), ==, embedded);
}

static const char *two_collections =
    "{\"collections\":[{\"name\":\"shop\",\"root\":\"/src/shop\",\"shards\":2},"
    "{\"name\":\"docs\",\"root\":\"/src/docs\",\"shards\":2}]}";

static void prefix_docs(loopback_req_t *r, http_ctx_t *ctx) {
    (void)r;
    ctx->collection = h2o_iovec_init(H2O_STRLIT("docs"));
}

static void header_docs(loopback_req_t *r, http_ctx_t *ctx) {
    (void)ctx;
    loopback_header_add(r, "x-lca-collection", "docs");
}

TEST(a_collection_is_named_or_found_by_path) {
    REQUIRE(setup());
    both(two_collections, NULL, NULL);
    /* Two of them and no name: which one? */
    got_t g = retrieve(&helper_query, NULL);
    CHECK_INT(g.status, ==, 404);
    CHECK(strncmp(g.message, "several collections are indexed: name one", 41) == 0);
    context_query_t q = helper_query;
    q.quiet_unknown = true; /* a pass-through request just gets no context */
    CHECK_INT(retrieve(&q, NULL).status, ==, 204);
    /* The /c/<name>/ prefix, the header, the query's own name. */
    CHECK_STR(retrieve(&helper_query, prefix_docs).collection, "docs");
    CHECK_STR(retrieve(&helper_query, header_docs).collection, "docs");
    q = helper_query;
    q.collection = "shop";
    CHECK_STR(retrieve(&q, header_docs).collection, "shop");
    /* The file's absolute path: the collection whose root holds it; the
     * shards get the path relative to that root. */
    q = (context_query_t){
        .prefix = "# Intro\nThe shop", .prefix_len = 16, .path = "/src/docs/guide/intro.md"};
    g = retrieve(&q, NULL);
    CHECK_STR(g.collection, "docs");
    cJSON *s = shard_search(0, NULL);
    CHECK_STR(jstr(s, "path"), "guide/intro.md");
    CHECK_STR(jstr(s, "collection"), "docs");
    cJSON_Delete(s);
}

TEST(what_cannot_be_searched_is_refused_with_why) {
    REQUIRE(setup());
    both(two_collections, NULL, NULL);
    context_query_t q = helper_query;
    q.collection = "nope";
    got_t g = retrieve(&q, NULL);
    CHECK_INT(g.status, ==, 404);
    CHECK_STR(g.message, "no collection named 'nope' is indexed (index it with `lca seed DIR "
                         "--collection nope`)");
    /* Indexed for three shards, served by two. */
    both("{\"collections\":[{\"name\":\"shop\",\"root\":\"/s\",\"shards\":3}]}", NULL, NULL);
    g = retrieve(&helper_query, NULL);
    CHECK_INT(g.status, ==, 409);
    CHECK_STR(g.message, "collection 'shop' was indexed with 3 shards but the gateway runs 2 "
                         "(LCA_SHARDS)");
    /* Nothing indexed at all. */
    both(NULL, NULL, NULL);
    g = retrieve(&helper_query, NULL);
    CHECK_INT(g.status, ==, 404);
    CHECK_STR(g.message, "no collection is indexed yet: run `lca seed DIR`");
    /* A query the wire cannot carry: refused before anything is sent. */
    both(shop_on_two, NULL, NULL);
    size_t n = (1u << 20) + 1000;
    char *big = malloc(n);
    REQUIRE(big);
    for (size_t i = 0; i < n; i++)
        big[i] = i % 8 == 7 ? ' ' : 'a' + (char)(i % 7);
    int searches = atomic_load(&shards.searches);
    q = (context_query_t){.query = big, .query_len = n, .signals = SIGNAL_BM25};
    g = retrieve(&q, NULL);
    CHECK_INT(g.status, ==, 413);
    CHECK(strncmp(g.message, "the query is too long to search", 31) == 0);
    CHECK_INT(atomic_load(&shards.searches), ==, searches);
    free(big);
}

TEST(a_shard_that_fails_or_is_late_costs_only_its_part) {
    REQUIRE(setup());
    const char *a = "{\"chunks\":[{\"path\":\"a.py\",\"text\":\"a\",\"signals\":{\"bm25\":1}}]}";
    both(shop_on_two, a, NULL);
    shard_script(
        1, &(shard_script_t){.collections = shop_on_two, .status = 500, .message = "disk on fire"});
    got_t g = retrieve(&helper_query, NULL);
    CHECK_INT(g.status, ==, 200);
    CHECK_INT(g.count, ==, 1);
    CHECK_STR(g.paths[0], "a.py");
    CHECK_INT(g.shards_missing, ==, 1);
    CHECK(!g.timed_out);
    /* Late: the deadline answers with what came, and the late call is cancelled. */
    shard_script(1, &(shard_script_t){.collections = shop_on_two, .hold = true});
    int cancelled = atomic_load(&shards.cancelled) + 1;
    context_query_t q = helper_query;
    q.deadline_ms = 150;
    g = retrieve(&q, NULL);
    CHECK_INT(g.status, ==, 200);
    CHECK_INT(g.count, ==, 1);
    CHECK_INT(g.shards_missing, ==, 1);
    CHECK(g.timed_out);
    CHECK(g.elapsed_ms >= 140); /* the loop's clock counts whole milliseconds */
    CHECK(inproc_run_until(&loopback.s, shards_cancelled_at_least, &cancelled, 5000));
}

TEST(a_shard_that_says_the_request_is_wrong_fails_it) {
    REQUIRE(setup());
    both(shop_on_two, NULL, NULL);
    shard_script(0, &(shard_script_t){.collections = shop_on_two, .hold = true});
    shard_script(1, &(shard_script_t){.collections = shop_on_two,
                                      .status = 404,
                                      .message = "collection 'shop' is not on this shard"});
    int cancelled = atomic_load(&shards.cancelled) + 1;
    got_t g = retrieve(&helper_query, NULL);
    CHECK_INT(g.status, ==, 404);
    CHECK_STR(g.message, "collection 'shop' is not on this shard");
    CHECK(!g.timed_out);
    CHECK(inproc_run_until(&loopback.s, shards_cancelled_at_least, &cancelled, 5000));
}

TEST(shards_that_missed_a_class_of_the_object_are_asked_again) {
    REQUIRE(setup());
    /* `tok.` where tok is what makeToken returns: shard 0 holds makeToken
     * and found Token and its base; shard 1 knew neither. */
    both(shop_on_two,
         "{\"chunks\":[{\"path\":\"token.go\",\"text\":\"func (t *Token) Verify()\","
         "\"signals\":{\"member\":1}}],\"lineage\":[\"Token\",\"Claims\"]}",
         "{\"chunks\":[{\"path\":\"claims.go\",\"text\":\"func (c *Claims) Valid()\","
         "\"signals\":{\"member\":0.6}}]}");
    static const char prefix[] = "package x\n\nfunc f() {\n\ttok, err := makeToken(1)\n\ttok.";
    const context_query_t q = {
        .path = "/src/shop/x/a.go", .prefix = prefix, .prefix_len = sizeof prefix - 1, .k = 5};
    int searches = atomic_load(&shards.searches);
    got_t g = retrieve(&q, NULL);
    CHECK_INT(g.status, ==, 200);
    CHECK_INT(g.count, ==, 2);
    CHECK_INT(g.shards_missing, ==, 0);
    CHECK_INT(atomic_load(&shards.searches), ==, searches + 3);
    cJSON *s0 = shard_search(0, NULL), *s1 = shard_search(1, NULL);
    const cJSON *m0 = cJSON_GetObjectItemCaseSensitive(s0, "member");
    const cJSON *m1 = cJSON_GetObjectItemCaseSensitive(s1, "member");
    CHECK_STR(jstr(m0, "call"), "makeToken"); /* asked once */
    CHECK_STR(jstr(m1, "type"), "Token");     /* asked again, told the classes */
    CHECK(!cJSON_GetObjectItemCaseSensitive(m1, "call"));
    const cJSON *bases = cJSON_GetObjectItemCaseSensitive(m1, "bases");
    CHECK_INT(cJSON_GetArraySize(bases), ==, 1);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetArrayItem(bases, 0)), "Claims");
    cJSON_Delete(s0);
    cJSON_Delete(s1);
    /* Shards that agree are asked once. */
    both(shop_on_two, "{\"chunks\":[],\"lineage\":[\"Token\"]}",
         "{\"chunks\":[],\"lineage\":[\"Token\"]}");
    searches = atomic_load(&shards.searches);
    g = retrieve(&q, NULL);
    CHECK_INT(g.status, ==, 200);
    CHECK_INT(atomic_load(&shards.searches), ==, searches + 2);
}

TEST(a_declarations_type_from_its_call_is_told_to_the_other_shards) {
    REQUIRE(setup());
    /* `⟨ bcm = interp.getClassManager();`: shard 1 holds getClassManager
     * and read what it returns; shard 0, which may hold the class, is asked
     * again with it among the hints. */
    both(shop_on_two, "{\"chunks\":[]}", "{\"chunks\":[],\"returns\":\"BshClassManager\"}");
    static const char prefix[] = "package bsh;\nclass A {\n  void f() {\n    ";
    static const char suffix[] = " bcm = interp.getClassManager();\n  }\n}\n";
    const context_query_t q = {.path = "/src/shop/bsh/A.java",
                               .prefix = prefix,
                               .prefix_len = sizeof prefix - 1,
                               .suffix = suffix,
                               .suffix_len = sizeof suffix - 1,
                               .k = 5};
    int searches = atomic_load(&shards.searches);
    got_t g = retrieve(&q, NULL);
    CHECK_INT(g.status, ==, 200);
    CHECK_INT(atomic_load(&shards.searches), ==, searches + 3);
    cJSON *s0 = shard_search(0, NULL);
    const cJSON *hints =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(s0, "member"), "hints");
    bool told = false;
    const cJSON *h;
    cJSON_ArrayForEach(h, hints) told |= !strcmp(cJSON_GetStringValue(h), "bshclassmanager");
    CHECK(told);
    cJSON_Delete(s0);
    /* when every shard read it (or none did), none is asked again */
    both(shop_on_two, "{\"chunks\":[],\"returns\":\"BshClassManager\"}",
         "{\"chunks\":[],\"returns\":\"BshClassManager\"}");
    searches = atomic_load(&shards.searches);
    g = retrieve(&q, NULL);
    CHECK_INT(g.status, ==, 200);
    CHECK_INT(atomic_load(&shards.searches), ==, searches + 2);
    both(shop_on_two, "{\"chunks\":[]}", "{\"chunks\":[]}");
    searches = atomic_load(&shards.searches);
    g = retrieve(&q, NULL);
    CHECK_INT(atomic_load(&shards.searches), ==, searches + 2);
}

TEST(k_cuts_the_answer) {
    REQUIRE(setup());
    const char *five = "{\"chunks\":[{\"path\":\"1.py\",\"signals\":{\"bm25\":5}},"
                       "{\"path\":\"2.py\",\"signals\":{\"bm25\":4}},{\"path\":\"3.py\","
                       "\"signals\":{\"bm25\":3}},{\"path\":\"4.py\",\"signals\":{\"bm25\":2}},"
                       "{\"path\":\"5.py\",\"signals\":{\"bm25\":1}}]}";
    both(shop_on_two, five, NULL);
    context_query_t q = helper_query;
    q.k = 2;
    got_t g = retrieve(&q, NULL);
    CHECK_INT(g.count, ==, 2);
    CHECK_STR(g.paths[0], "1.py");
    CHECK_STR(g.paths[1], "2.py");
    cJSON *s = shard_search(0, NULL);
    CHECK_INT(jnum(s, "k"), ==, 2);
    cJSON_Delete(s);
    q.k = 0; /* the default, 10 */
    CHECK_INT(retrieve(&q, NULL).count, ==, 5);
    q.k = 1000; /* at most 100 */
    retrieve(&q, NULL);
    s = shard_search(1, NULL);
    CHECK_INT(jnum(s, "k"), ==, 100);
    cJSON_Delete(s);
}

/* At most two chunks of one file for code around a cursor, four for a
 * question in words: it asks for one of several neighbouring definitions. */
TEST(a_question_takes_more_chunks_of_a_file) {
    REQUIRE(setup());
    const char *five =
        "{\"chunks\":[{\"path\":\"q.py\",\"start_line\":1,\"text\":\"a\","
        "\"signals\":{\"bm25\":5}},{\"path\":\"q.py\",\"start_line\":5,"
        "\"text\":\"b\",\"signals\":{\"bm25\":4}},{\"path\":\"q.py\","
        "\"start_line\":9,\"text\":\"c\",\"signals\":{\"bm25\":3}},{\"path\":"
        "\"q.py\",\"start_line\":13,\"text\":\"d\",\"signals\":{\"bm25\":2}},"
        "{\"path\":\"q.py\",\"start_line\":17,\"text\":\"e\",\"signals\":{\"bm25\":1}}]}";
    both(shop_on_two, five, NULL);
    got_t g = retrieve(&helper_query, NULL);
    CHECK_INT(g.count, ==, 4);
    context_query_t q = helper_query;
    q.prefix = "x = ";
    q.prefix_len = 4;
    g = retrieve(&q, NULL);
    CHECK_INT(g.count, ==, 2);
}

TEST(without_a_list_of_collections_in_time_there_is_no_context) {
    REQUIRE(setup());
    /* No shard lists its collections before the request's deadline. */
    shard_script(0, &(shard_script_t){.hold_collections = true});
    shard_script(1, &(shard_script_t){.hold_collections = true});
    loopback_collections_reset();
    int searches = atomic_load(&shards.searches);
    context_query_t q = helper_query;
    q.deadline_ms = 100;
    got_t g = retrieve(&q, NULL);
    CHECK_INT(g.status, ==, 204);
    CHECK_STR(g.message, "retrieval ran out of time before it knew the collections");
    CHECK(g.timed_out);
    CHECK_INT(atomic_load(&shards.searches), ==, searches);
    /* Let the refresh go (its own timeout ends it) before the next test. */
    shard_script(0, &(shard_script_t){0});
    shard_script(1, &(shard_script_t){0});
    loopback_collections_reset();
}

TEST(a_request_that_goes_away_cancels_its_calls_and_hears_nothing) {
    REQUIRE(setup());
    both(shop_on_two, NULL, NULL);
    shard_script(0, &(shard_script_t){.collections = shop_on_two, .hold = true});
    shard_script(1, &(shard_script_t){.collections = shop_on_two, .hold = true});
    int searches = atomic_load(&shards.searches) + 2,
        cancelled = atomic_load(&shards.cancelled) + 2;
    got_t g = {0};
    loopback_req_t *r = loopback_request("POST", "/api/context", NULL);
    context_query_t q = helper_query;
    q.signals = SIGNAL_BM25;
    context_retrieve(loopback_ctx(r, API_LCA), &q, done, &g);
    CHECK(inproc_run_until(&loopback.s, shards_searches_at_least, &searches, 5000));
    loopback_free(r); /* the client left */
    CHECK(inproc_run_until(&loopback.s, shards_cancelled_at_least, &cancelled, 5000));
    inproc_run_for(&loopback.s, 1100); /* past the deadline it had */
    CHECK_INT(g.calls, ==, 0);
}

TEST(everything_stops_clean) {
    REQUIRE(setup());
    loopback_stop();
    CHECK(loopback.s.broker == NULL);
}

TEST_MAIN(TEST_CASE(every_shard_is_searched_and_the_answers_fused),
          TEST_CASE(the_builtin_model_is_embedded_here_and_dense_can_be_left_out),
          TEST_CASE(a_collection_is_named_or_found_by_path),
          TEST_CASE(what_cannot_be_searched_is_refused_with_why),
          TEST_CASE(a_shard_that_fails_or_is_late_costs_only_its_part),
          TEST_CASE(a_shard_that_says_the_request_is_wrong_fails_it),
          TEST_CASE(shards_that_missed_a_class_of_the_object_are_asked_again),
          TEST_CASE(a_declarations_type_from_its_call_is_told_to_the_other_shards),
          TEST_CASE(k_cuts_the_answer), TEST_CASE(a_question_takes_more_chunks_of_a_file),
          TEST_CASE(without_a_list_of_collections_in_time_there_is_no_context),
          TEST_CASE(a_request_that_goes_away_cancels_its_calls_and_hears_nothing),
          TEST_CASE(everything_stops_clean))
