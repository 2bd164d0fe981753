/*
 * A gateway with many shards: every shard is asked, and the ones that do
 * not answer are reported, however many there are.
 *
 * The gateway runs 40 shards (--shards takes up to 256; a retrieval once
 * asked only the first 24, and a request could track only 32 calls), and
 * one retriever serves the last of them, so an answer proves the 40th call
 * was made and tracked.  The collection exists on that shard only (made
 * through the broker, as the seeder would), so 39 shards are missing.
 */
#include "proto/client.h"
#include "tests/stack.h"
#include "tests/test.h"

#define SHARDS 40
#define LIVE (SHARDS - 1)

static test_stack_t stack;
static bool stack_ok;

/* collection.ensure on the live shard: "wide", 40 shards. */
static bool collection_made(void) {
    char err[256], header[256], service[32];
    proto_client_t *c = proto_client_new(stack.broker, NULL, err, sizeof err);
    if (!c) {
        fprintf(stderr, "  client: %s\n", err);
        return false;
    }
    snprintf(service, sizeof service, "retrieve.%d", LIVE);
    snprintf(header, sizeof header,
             "{\"op\":\"collection.ensure\",\"collection\":\"wide\",\"root\":\"/srv/wide\","
             "\"model\":\"builtin\",\"dim\":256,\"shards\":%d}",
             SHARDS);
    proto_msg_t m;
    int status = 0;
    int rc = proto_client_call(c, service, header, NULL, 0, 10000, NULL, NULL, &m, &status, err,
                               sizeof err);
    if (rc == 0)
        proto_msg_close(&m);
    else
        fprintf(stderr, "  collection.ensure: %d %s\n", status, err);
    proto_client_destroy(&c);
    return rc == 0;
}

static bool setup(void) {
    static bool tried;
    if (tried)
        return stack_ok;
    tried = true;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    stack_ok = stack_start(&stack, &(stack_options_t){.shards = SHARDS,
                                                      .first_shard = LIVE,
                                                      .no_embedder = true}) &&
               collection_made();
    http_base = stack.url;
    return stack_ok;
}

static int number(const cJSON *j, const char *key) {
    return (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(j, key));
}

TEST(collections_list_what_the_live_shard_holds) {
    REQUIRE(setup());
    http_reply_t r;
    http_request(&(http_request_t){.path = "/api/collections"}, &r);
    CHECK_INT(r.status, ==, 200);
    cJSON *j = http_body_json(&r);
    const cJSON *wide = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "collections"), 0);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(wide, "name")), "wide");
    CHECK_INT(number(wide, "shards"), ==, SHARDS);
    CHECK_INT(number(j, "shards_missing"), ==, SHARDS - 1);
    cJSON_Delete(j);
    http_reply_free(&r);
}

TEST(a_retrieval_asks_every_shard_and_reports_the_missing) {
    REQUIRE(setup());
    /* A question and a completion (no dense signal: there is no embedder). */
    static const char *bodies[] = {
        "{\"collection\":\"wide\",\"query\":\"where is the cart total computed\","
        "\"signals\":[\"bm25\",\"structure\"]}",
        "{\"collection\":\"wide\",\"prefix\":\"import { total } from './cart';\\nconst t = "
        "cart.\",\"signals\":[\"bm25\",\"structure\"],\"deadline_ms\":5000}",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        http_reply_t r;
        http_request(&(http_request_t){.path = "/api/context", .body = bodies[i]}, &r);
        CHECK_INT(r.status, ==, 200);
        cJSON *j = http_body_json(&r);
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "collection")), "wide");
        CHECK_INT(number(j, "shards_missing"), ==, SHARDS - 1);
        CHECK(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(j, "chunks")));
        cJSON_Delete(j);
        http_reply_free(&r);
    }
    CHECK(proc_alive(stack.gateway));
}

TEST(healthz_names_every_shard) {
    REQUIRE(setup());
    http_reply_t r;
    http_request(&(http_request_t){.path = "/healthz"}, &r);
    CHECK_INT(r.status, ==, 503); /* not every shard has a worker */
    cJSON *j = http_body_json(&r);
    const cJSON *services = cJSON_GetObjectItemCaseSensitive(j, "services");
    char name[32];
    snprintf(name, sizeof name, "retrieve.%d", LIVE);
    CHECK_INT(number(cJSON_GetObjectItemCaseSensitive(services, name), "workers"), ==, 1);
    CHECK(cJSON_HasObjectItem(services, "retrieve.0"));
    CHECK_INT(cJSON_GetArraySize(services), ==, SHARDS + 2); /* and generate, embed */
    cJSON_Delete(j);
    http_reply_free(&r);
}

TEST(every_process_exits_clean) {
    REQUIRE(setup());
    /* The worker first: it leaves the gateway's broker, then the gateway. */
    CHECK_INT(proc_stop(stack.retriever[0], SIGTERM, 10000), ==, 0);
    CHECK_INT(proc_stop(stack.gateway, SIGTERM, 10000), ==, 0);
    stack_ok = false; /* nothing runs any more */
}

TEST_MAIN(TEST_CASE(collections_list_what_the_live_shard_holds),
          TEST_CASE(a_retrieval_asks_every_shard_and_reports_the_missing),
          TEST_CASE(healthz_names_every_shard), TEST_CASE(every_process_exits_clean))
