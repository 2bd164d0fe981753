/*
 * gateway/knowledge: lca's own routes, POST /api/context and GET
 * /api/collections, through the server of a gateway inside this process
 * with one scripted retriever shard (tests/loopback.h): the one writer of a
 * chunk's JSON, every refusal of a context request, an answer with its
 * chunks and why they ranked, a retrieval's failures as statuses, and a
 * list of collections that is fresh when asked for.
 */
#include "gateway/knowledge.h"
#include "tests/loopback.h"
#include "tests/test.h"

static bool setup(void) {
    static bool tried, ok;
    if (!tried) {
        tried = true;
        ok = loopback_start(1) &&
             inproc_worker(&loopback.s, "retrieve.0", 4, shard_worker, (void *)0);
    }
    return ok;
}

static loopback_req_t *call(const char *method, const char *path, const char *body) {
    loopback_req_t *r = loopback_request(method, path, body);
    loopback_dispatch(r);
    CHECK(loopback_wait(r, 5000));
    return r;
}

TEST(a_chunk_is_written_in_one_shape) {
    context_chunk_t c = {.path = "src/\"odd\"\nname.py",
                         .start_line = 3,
                         .end_line = 9,
                         .score = 1.234567,
                         .text = "def f():\n    return 1\nTRAILING",
                         .text_len = 22,
                         .nterms = 2,
                         .terms = {{"symbol", 1, 1}, {"bm25", 0.5, 0.3}}};
    buf_t out = BUF_INIT;
    knowledge_append_chunk(&out, &c, false);
    CHECK_STR(
        out.data,
        "{\"path\":\"src/\\\"odd\\\"\\nname.py\",\"start_line\":3,\"end_line\":9,"
        "\"language\":\"\",\"kind\":\"\",\"score\":1.2346,\"breakdown\":[{\"signal\":\"symbol\","
        "\"value\":1.0000,\"weight\":1.0000},{\"signal\":\"bm25\",\"value\":0.5000,"
        "\"weight\":0.3000}]}");
    buf_reset(&out);
    c.language = "python";
    c.kind = "outline";
    knowledge_append_chunk(&out, &c, true);
    cJSON *j = cJSON_Parse(out.data);
    REQUIRE(j);
    CHECK_STR(jstr(j, "path"), "src/\"odd\"\nname.py");
    CHECK_STR(jstr(j, "language"), "python");
    CHECK_STR(jstr(j, "kind"), "outline");
    CHECK_STR(jstr(j, "text"), "def f():\n    return 1\n"); /* text_len bytes */
    CHECK_INT(cJSON_GetArraySize(jpath(j, "breakdown")), ==, 2);
    cJSON_Delete(j);
    /* Nothing known: still the same members. */
    buf_reset(&out);
    knowledge_append_chunk(&out, &(context_chunk_t){0}, true);
    CHECK_STR(out.data, "{\"path\":\"\",\"start_line\":0,\"end_line\":0,\"language\":\"\","
                        "\"kind\":\"\",\"score\":0.0000,\"breakdown\":[],\"text\":\"\"}");
    buf_free(&out);
}

TEST(context_requests_are_checked) {
    REQUIRE(setup());
    static const char *types = "query, prefix, suffix, path and collection must be strings, k a "
                               "number from 1 to 100, signals an array of names";
    static const char *nothing = "send a query (chat) or a prefix/suffix (completion)";
    static const struct {
        const char *body, *message;
    } cases[] = {
        {"{\"query\":5}", NULL},
        {"{\"prefix\":\"a\",\"suffix\":[\"b\"]}", NULL},
        {"{\"query\":\"x\",\"collection\":1}", NULL},
        {"{\"query\":\"x\",\"path\":{}}", NULL},
        {"{\"query\":\"x\",\"k\":0}", NULL},
        {"{\"query\":\"x\",\"k\":101}", NULL},
        {"{\"query\":\"x\",\"k\":\"5\"}", NULL},
        {"{\"query\":\"x\",\"signals\":\"bm25\"}", NULL},
        {"{\"query\":\"x\",\"signals\":[\"bm25\",\"vibes\"]}",
         "unknown signal (use dense, bm25, structure, symbol, import, object, uses)"},
        {"{\"query\":\"x\",\"signals\":[\"bm25\",3]}",
         "unknown signal (use dense, bm25, structure, symbol, import, object, uses)"},
        {"{}", ""},
        {"{\"query\":\"\",\"prefix\":\"\",\"path\":\"a.py\"}", ""},
        {"{\"query\":null,\"suffix\":null}", ""},
    };
    int searches = atomic_load(&shards.searches);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        loopback_req_t *r = call("POST", "/api/context", cases[i].body);
        CHECK_INT(r->req.res.status, ==, 400);
        const char *want = !cases[i].message     ? types
                           : cases[i].message[0] ? cases[i].message
                                                 : nothing;
        cJSON *j = loopback_json(r);
        CHECK(cJSON_IsString(jpath(j, "error")));
        CHECK_STR(loopback_error(j), want);
        cJSON_Delete(j);
        loopback_free(r);
    }
    CHECK_INT(atomic_load(&shards.searches), ==, searches);
}

static const char *shop = "{\"collections\":[{\"name\":\"shop\",\"root\":\"/src/shop\","
                          "\"model\":\"nomic-embed-text\",\"dim\":16,\"shards\":1}]}";

TEST(context_answers_with_the_chunks_and_why_they_ranked) {
    REQUIRE(setup());
    shard_script(0, &(shard_script_t){
                        .collections = shop,
                        .chunks = "{\"chunks\":[{\"path\":\"cart.py\",\"start_line\":10,"
                                  "\"end_line\":20,\"language\":\"python\",\"kind\":\"function\","
                                  "\"text\":\"def total(cart):\\n    ...\",\"symbols\":[\"total\"],"
                                  "\"signals\":{\"symbol\":3,\"bm25\":2}},{\"path\":\"util.py\","
                                  "\"text\":\"x\",\"signals\":{\"bm25\":1}}]}"});
    loopback_collections_reset();
    loopback_req_t *r =
        call("POST", "/c/shop/api/context",
             "{\"query\":\"how is the cart total computed\",\"k\":5,\"signals\":[\"bm25\","
             "\"symbol\"],\"deadline_ms\":3000}");
    CHECK_INT(r->req.res.status, ==, 200);
    CHECK_STR(loopback_response_header(r, "content-type"), "application/json; charset=utf-8");
    cJSON *j = loopback_json(r);
    CHECK_STR(jstr(j, "collection"), "shop");
    CHECK_STR(jstr(j, "root"), "/src/shop");
    CHECK(cJSON_IsNumber(jpath(j, "elapsed_ms")));
    CHECK_INT(jnum(j, "shards_missing"), ==, 0);
    CHECK_INT(cJSON_GetArraySize(jpath(j, "chunks")), ==, 2);
    CHECK_STR(jstr(j, "chunks.0.path"), "cart.py");
    CHECK_INT(jnum(j, "chunks.0.start_line"), ==, 10);
    CHECK_STR(jstr(j, "chunks.0.language"), "python");
    CHECK_STR(jstr(j, "chunks.0.text"), "def total(cart):\n    ...");
    /* The score is the breakdown's sum. */
    double sum = 0;
    const cJSON *term;
    cJSON_ArrayForEach(term, jpath(j, "chunks.0.breakdown")) {
        sum += jnum(term, "value") * jnum(term, "weight");
        /* the signals asked for, and what BM25 says of the file */
        CHECK(jstr(term, "signal") &&
              (!strcmp(jstr(term, "signal"), "symbol") || !strcmp(jstr(term, "signal"), "bm25") ||
               !strcmp(jstr(term, "signal"), "file")));
    }
    CHECK(sum > 0 && sum - jnum(j, "chunks.0.score") < 0.001 &&
          jnum(j, "chunks.0.score") - sum < 0.001);
    cJSON_Delete(j);
    cJSON *s = shard_search(0, NULL);
    CHECK_INT(jnum(s, "k"), ==, 5);
    CHECK_STR(jstr(s, "collection"), "shop");
    cJSON_Delete(s);
    loopback_free(r);
}

/* null is what clients send for an option they leave unset: the default
 * (k 10, every signal), as if the field were not there. */
TEST(a_null_option_is_its_default) {
    REQUIRE(setup());
    shard_script(0, &(shard_script_t){.collections = shop});
    loopback_collections_reset();
    loopback_req_t *r = call("POST", "/api/context",
                             "{\"query\":\"cart total\",\"k\":null,\"signals\":null,"
                             "\"deadline_ms\":null,\"path\":null,\"prefix\":null,"
                             "\"suffix\":null,\"collection\":null}");
    CHECK_INT(r->req.res.status, ==, 200);
    loopback_free(r);
    cJSON *s = shard_search(0, NULL);
    CHECK_INT(jnum(s, "k"), ==, 10);
    CHECK_STR(jstr(s, "collection"), "shop");
    cJSON_Delete(s);
}

TEST(a_retrievals_failure_is_its_status) {
    REQUIRE(setup());
    shard_script(0, &(shard_script_t){.collections = shop});
    loopback_collections_reset();
    loopback_req_t *r = call("POST", "/api/context", "{\"query\":\"x\",\"collection\":\"nope\"}");
    CHECK_INT(r->req.res.status, ==, 404);
    cJSON *j = loopback_json(r);
    CHECK_STR(loopback_error(j),
              "no collection named 'nope' is indexed (index it with `lca seed DIR --collection "
              "nope`)");
    cJSON_Delete(j);
    loopback_free(r);
    /* The shard's own refusal. */
    shard_script(0, &(shard_script_t){.collections = shop, .status = 400, .message = "bad query"});
    r = call("POST", "/api/context", "{\"prefix\":\"def f(\",\"signals\":[\"bm25\"]}");
    CHECK_INT(r->req.res.status, ==, 400);
    j = loopback_json(r);
    CHECK_STR(loopback_error(j), "bad query");
    cJSON_Delete(j);
    loopback_free(r);
    /* No list of the collections within the deadline: 504, not "nothing indexed". */
    shard_script(0, &(shard_script_t){.hold_collections = true});
    loopback_collections_reset();
    r = call("POST", "/api/context", "{\"query\":\"x\",\"deadline_ms\":50}");
    CHECK_INT(r->req.res.status, ==, 504);
    j = loopback_json(r);
    CHECK_STR(loopback_error(j), "retrieval ran out of time before it knew the collections");
    cJSON_Delete(j);
    loopback_free(r);
    shard_script(0, &(shard_script_t){0});
    loopback_collections_reset();
}

TEST(the_list_of_collections_is_fresh_when_asked_for) {
    REQUIRE(setup());
    shard_script(0, &(shard_script_t){.collections = shop});
    loopback_collections_reset();
    loopback_req_t *r = call("GET", "/api/collections", NULL);
    CHECK_INT(r->req.res.status, ==, 200);
    cJSON *j = loopback_json(r);
    CHECK_INT(cJSON_GetArraySize(jpath(j, "collections")), ==, 1);
    CHECK_STR(jstr(j, "collections.0.name"), "shop");
    CHECK_STR(jstr(j, "collections.0.root"), "/src/shop");
    CHECK_INT(jnum(j, "shards_missing"), ==, 0);
    cJSON_Delete(j);
    loopback_free(r);
    /* Seeded a moment ago: listed at once, though the list in hand is fresh. */
    shard_script(
        0, &(shard_script_t){.collections =
                                 "{\"collections\":[{\"name\":\"shop\",\"root\":\"/src/shop\"},"
                                 "{\"name\":\"docs\",\"root\":\"/src/docs\"}]}"});
    r = call("GET", "/api/collections", NULL);
    j = loopback_json(r);
    CHECK_INT(cJSON_GetArraySize(jpath(j, "collections")), ==, 2);
    CHECK_STR(jstr(j, "collections.1.name"), "docs");
    cJSON_Delete(j);
    loopback_free(r);
    /* A client that leaves while the refresh runs is forgotten. */
    shard_script(0, &(shard_script_t){.collections = shop, .hold_collections = true});
    r = loopback_request("GET", "/api/collections", NULL);
    loopback_dispatch(r);
    inproc_run_for(&loopback.s, 20);
    CHECK(!r->ended);
    loopback_free(r);
    shards_release(); /* the refresh ends: nobody is called back */
    collections_t *now = NULL;
    for (int64_t end = clock_ms() + 5000; !now && clock_ms() < end;) {
        inproc_run_for(&loopback.s, 10);
        now = collections_current(loopback.gateway.collections);
        if (now && now->count != 1) /* still the list from before (two) */
            collections_release(&now);
    }
    CHECK(now != NULL);
    collections_release(&now);
}

TEST(everything_stops_clean) {
    REQUIRE(setup());
    loopback_stop();
    CHECK(loopback.s.broker == NULL);
}

TEST_MAIN(TEST_CASE(a_chunk_is_written_in_one_shape), TEST_CASE(context_requests_are_checked),
          TEST_CASE(context_answers_with_the_chunks_and_why_they_ranked),
          TEST_CASE(a_null_option_is_its_default), TEST_CASE(a_retrievals_failure_is_its_status),
          TEST_CASE(the_list_of_collections_is_fresh_when_asked_for),
          TEST_CASE(everything_stops_clean))
