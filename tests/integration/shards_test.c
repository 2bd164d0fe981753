/*
 * A gateway with many shards: every shard is asked, and the ones that do
 * not answer are reported, however many there are.
 *
 * The gateway runs 40 shards (--shards takes up to SHARD_MAX, 256; a
 * retrieval once asked only the first 24, and a request could track only
 * 32 calls), and one retriever serves the last of them, so an answer
 * proves the 40th call was made and tracked.  The collection exists on
 * that shard only (made through the broker, as the seeder would), so 39
 * shards are missing.  Every program refuses more shards than SHARD_MAX,
 * from the command line and from the environment alike.
 */
#include "proto/client.h"
#include "proto/shard.h"
#include "tests/stack.h"
#include "tests/test.h"

#define SHARDS 40
#define LIVE (SHARDS - 1)

static test_stack_t stack;
static bool stack_ok;

/* collection.ensure on the live shard: "wide", 40 shards. */
static bool collection_made(void) {
    char err[256], header[256], service[32];
    proto_client_t *c = stack_client(&stack);
    if (!c)
        return false;
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

TEST(every_program_refuses_more_than_shard_max) {
    REQUIRE(setup());
    char over[16], over_spec[32];
    snprintf(over, sizeof over, "%d", SHARD_MAX + 1);
    snprintf(over_spec, sizeof over_spec, "0/%d", SHARD_MAX + 1);
    static char env_over[32];
    snprintf(env_over, sizeof env_over, "LCA_SHARDS=%d", SHARD_MAX + 1);
    const char *const shards_env[] = {env_over, NULL};
    char spare_broker[64]; /* where a gateway that wrongly started would listen */
    snprintf(spare_broker, sizeof spare_broker, "tcp://127.0.0.1:%d", proc_free_port());
    const struct {
        const char *name;
        char *argv[6];
        const char *const *env;
    } cases[] = {
        {"gateway", {(char *)proc_bin("lca-gateway"), "--shards", over, NULL}, NULL},
        /* From the environment too: a gateway that went on with its default
         * would disagree with the seeder and the retrievers. */
        {"gateway-env",
         {(char *)proc_bin("lca-gateway"), "--port", "0", "--broker", spare_broker, NULL},
         shards_env},
        {"seeder", {(char *)proc_bin("lca-seeder"), stack.dir, "--shards", over, NULL}, NULL},
        {"seeder-env", {(char *)proc_bin("lca-seeder"), stack.dir, NULL}, shards_env},
        {"retriever", {(char *)proc_bin("lca-retriever"), "--shard", over_spec, NULL}, NULL},
        {"up", {(char *)proc_bin("lca"), "up", "--shards", over, NULL}, NULL},
    };
    char wanted[64];
    snprintf(wanted, sizeof wanted, "%d", SHARD_MAX);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char log[64];
        snprintf(log, sizeof log, "over-%s.log", cases[i].name);
        const char *path = stack_path(&stack, log);
        char path_copy[512];
        snprintf(path_copy, sizeof path_copy, "%s", path);
        pid_t pid = proc_start(cases[i].argv, cases[i].env, path_copy);
        int status = proc_wait_exit(pid, 10000);
        CHECK_INT(status, ==, 2);
        /* One line that names the most there may be. */
        CHECK(fixture_file_has(path_copy, wanted));
        if (status != 2 || !fixture_file_has(path_copy, wanted))
            fprintf(stderr, "  %s: exit %d, log %s\n", cases[i].name, status, path_copy);
    }
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
          TEST_CASE(healthz_names_every_shard),
          TEST_CASE(every_program_refuses_more_than_shard_max),
          TEST_CASE(every_process_exits_clean))
