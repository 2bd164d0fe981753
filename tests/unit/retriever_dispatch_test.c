/*
 * Tests of retriever/dispatch on a store in a temporary directory: every op
 * of proto/ops.h answered as the contract says (headers, payloads,
 * statuses), requests built with the same encoder the seeder and the
 * gateway use, and bad requests refused with a status and a message while
 * the store stays usable.
 */
#include "proto/ops.h"
#include "proto/shard.h"
#include "retriever/dispatch.h"
#include "tests/fixture.h"
#include "tests/test.h"

#include <cJSON.h>
#include <errno.h>
#include <stdlib.h>

#define DIM 16
#define SHARDS 2

static char dir[256];
static dispatch_t d;

static bool setup(void) {
    if (!fixture_tmpdir(dir, sizeof dir, "dispatch"))
        return false;
    char err[256];
    d = (dispatch_t){.store = store_open(dir, 0, SHARDS, err, sizeof err), .scan_threads = 1};
    if (!d.store)
        fprintf(stderr, "  store_open: %s\n", err);
    return d.store != NULL;
}

static void teardown(void) {
    store_destroy(&d.store);
    fixture_remove_tree(dir);
}

/* Encodes req, dispatches it with payload and returns the reply's status
 * (0 for FINAL); the reply is in *reply (freed by the caller). */
static int run(const ops_request_t *req, const buf_t *payload, dispatch_reply_t *reply) {
    buf_t h = BUF_INIT;
    if (ops_encode(req, &h) != 0)
        return -1;
    cJSON *json = cJSON_ParseWithLength(h.data, h.len);
    buf_free(&h);
    dispatch_request(&d, json, payload ? payload->data : NULL, payload ? payload->len : 0, reply);
    cJSON_Delete(json);
    return reply->status;
}

/* run() for a request whose answer is not looked at beyond its status. */
static int status_of(const ops_request_t *req, const buf_t *payload) {
    dispatch_reply_t reply;
    int status = run(req, payload, &reply);
    if (status > 0)
        fprintf(stderr, "  %s: %d %s\n", ops_name(req->op), status, reply.message);
    dispatch_reply_free(&reply);
    return status;
}

/* A path of this store's shard (shard 0), "f<n>.py" with n counted up. */
static const char *own_path(int *n, int shard) {
    static char path[32];
    do
        snprintf(path, sizeof path, "f%d.py", (*n)++);
    while (shard_of(path, strlen(path), SHARDS) != shard);
    return path;
}

/* The payload of one file with one chunk defining `symbol`. */
static void one_chunk(buf_t *payload, const char *symbol, const char *text) {
    const char *symbols[] = {symbol};
    ops_chunk_t chunk = {.start_line = 1,
                         .end_line = 2,
                         .kind = "function",
                         .symbols = symbols,
                         .symbol_count = 1,
                         .text = text,
                         .text_len = strlen(text)};
    float vector[DIM] = {1};
    buf_reset(payload);
    ops_payload_encode(payload, &chunk, 1, vector, DIM);
}

static const ops_request_t ENSURE = {
    .op = OPS_COLLECTION_ENSURE,
    .collection = "demo",
    .ensure = {.root = "/src/demo", .model = "builtin", .dim = DIM, .shards = SHARDS}};

TEST(every_op_answers_as_the_contract_says) {
    REQUIRE(setup());
    dispatch_reply_t reply;
    REQUIRE(run(&ENSURE, NULL, &reply) == 0);
    CHECK_STR(reply.header.data, "{\"created\":true,\"placement\":2}");
    CHECK_INT(reply.payload.len, ==, 0);
    dispatch_reply_free(&reply);
    REQUIRE(run(&ENSURE, NULL, &reply) == 0);
    CHECK_STR(reply.header.data, "{\"created\":false,\"placement\":2}");
    dispatch_reply_free(&reply);

    int n = 0;
    char path[32];
    snprintf(path, sizeof path, "%s", own_path(&n, 0));
    buf_t payload = BUF_INIT;
    one_chunk(&payload, "parse_config", "def parse_config(path):\n    return load(path)\n");
    const char *imports[] = {"lib/util.py"};
    ops_request_t put = {.op = OPS_FILE_PUT,
                         .collection = "demo",
                         .file = {.path = path,
                                  .hash = "h1",
                                  .language = "python",
                                  .imports = imports,
                                  .import_count = 1}};
    REQUIRE(run(&put, &payload, &reply) == 0);
    CHECK_STR(reply.header.data, "{\"chunks\":1}");
    dispatch_reply_free(&reply);

    REQUIRE(run(&(ops_request_t){.op = OPS_COLLECTION_FILES, .collection = "demo"}, NULL, &reply) ==
            0);
    cJSON *files = cJSON_ParseWithLength(reply.payload.data, reply.payload.len);
    const cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(files, "files"), 0);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(first, "path")), path);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(first, "hash")), "h1");
    cJSON_Delete(files);
    dispatch_reply_free(&reply);

    const char *symbols[] = {"parse_config"};
    ops_request_t search = {.op = OPS_SEARCH,
                            .collection = "demo",
                            .search = {.k = 5, .symbols = symbols, .symbol_count = 1}};
    REQUIRE(run(&search, NULL, &reply) == 0);
    cJSON *header = cJSON_ParseWithLength(reply.header.data, reply.header.len);
    CHECK_INT(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(header, "count")), ==, 1);
    CHECK(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(header, "us")));
    cJSON_Delete(header);
    cJSON *found = cJSON_ParseWithLength(reply.payload.data, reply.payload.len);
    const cJSON *chunk = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(found, "chunks"), 0);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(chunk, "path")), path);
    cJSON_Delete(found);
    dispatch_reply_free(&reply);

    REQUIRE(run(&(ops_request_t){.op = OPS_COLLECTIONS}, NULL, &reply) == 0);
    CHECK_STR(reply.header.data, "{}");
    cJSON *list = cJSON_ParseWithLength(reply.payload.data, reply.payload.len);
    const cJSON *demo =
        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(list, "collections"), 0);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(demo, "name")), "demo");
    CHECK_INT(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(demo, "chunks")), ==, 1);
    cJSON_Delete(list);
    dispatch_reply_free(&reply);

    REQUIRE(run(&(ops_request_t){.op = OPS_STATS}, NULL, &reply) == 0);
    cJSON *stats = cJSON_ParseWithLength(reply.header.data, reply.header.len);
    CHECK_INT(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(stats, "chunks")), ==, 1);
    CHECK_INT(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(stats, "collections")), ==, 1);
    cJSON_Delete(stats);
    dispatch_reply_free(&reply);

    ops_request_t imports_put = {
        .op = OPS_IMPORTS_PUT,
        .collection = "demo",
        .path = {.path = "other.py", .imports = imports, .import_count = 1}};
    CHECK_INT(status_of(&imports_put, NULL), ==, 0);
    CHECK_INT(status_of(&(ops_request_t){.op = OPS_IMPORTS_DELETE,
                                         .collection = "demo",
                                         .path.path = "other.py"},
                        NULL),
              ==, 0);

    /* touch answers first and leaves the merge for after the reply. */
    REQUIRE(run(&(ops_request_t){.op = OPS_COLLECTION_TOUCH,
                                 .collection = "demo",
                                 .seeded_at = 1700000000},
                NULL, &reply) == 0);
    CHECK_STR(reply.header.data, "{}");
    CHECK_STR(reply.optimize, "demo");
    dispatch_after_reply(&d, &reply);
    dispatch_reply_free(&reply);

    REQUIRE(run(&(ops_request_t){.op = OPS_FILE_DELETE, .collection = "demo", .path.path = path},
                NULL, &reply) == 0);
    CHECK_STR(reply.header.data, "{\"deleted\":true}");
    dispatch_reply_free(&reply);
    REQUIRE(run(&(ops_request_t){.op = OPS_COLLECTION_DROP, .collection = "demo"}, NULL, &reply) ==
            0);
    CHECK_STR(reply.header.data, "{\"dropped\":true}");
    dispatch_reply_free(&reply);
    buf_free(&payload);
    teardown();
}

TEST(faults_get_their_status_and_message) {
    REQUIRE(setup());
    REQUIRE(status_of(&ENSURE, NULL) == 0);
    dispatch_reply_t reply;
    /* A header the decoder refuses: 400 with its message. */
    cJSON *bad = cJSON_Parse("{\"op\":\"search\",\"collection\":\"demo\",\"mode\":\"f16\"}");
    dispatch_request(&d, bad, NULL, 0, &reply);
    CHECK_INT(reply.status, ==, 400);
    CHECK_STR(reply.message, "\"mode\" must be \"i8\" or \"f32\"");
    CHECK_INT(reply.header.len, ==, 0);
    dispatch_reply_free(&reply);
    cJSON_Delete(bad);

    /* Unknown collection: 404. */
    ops_request_t search = {.op = OPS_SEARCH, .collection = "none"};
    CHECK_INT(run(&search, NULL, &reply), ==, 404);
    CHECK(strstr(reply.message, "none") != NULL);
    CHECK_INT(reply.payload.len, ==, 0);
    dispatch_reply_free(&reply);

    /* Indexed differently: 409. */
    ops_request_t other = ENSURE;
    other.ensure.model = "nomic-embed-text";
    CHECK_INT(run(&other, NULL, &reply), ==, 409);
    CHECK(strstr(reply.message, "was indexed with builtin") != NULL);
    dispatch_reply_free(&reply);

    /* A path of the other shard, a malformed payload, a wrong-size vector: 400. */
    int n = 0;
    buf_t payload = BUF_INIT;
    one_chunk(&payload, "f", "def f(): pass\n");
    ops_request_t put = {
        .op = OPS_FILE_PUT, .collection = "demo", .file = {.path = own_path(&n, 1), .hash = "h"}};
    CHECK_INT(run(&put, &payload, &reply), ==, 400);
    CHECK(strstr(reply.message, "belongs to shard 1 of 2") != NULL);
    dispatch_reply_free(&reply);
    put.file.path = own_path(&n, 0);
    buf_t junk = BUF_INIT;
    buf_append_str(&junk, "\xff\xff\xff\xff");
    CHECK_INT(run(&put, &junk, &reply), ==, 400);
    CHECK_STR(reply.message, "payload is not a packed list of texts");
    dispatch_reply_free(&reply);
    buf_t vector = BUF_INIT;
    float q[DIM + 1] = {1};
    buf_append(&vector, q, sizeof q);
    search.collection = "demo";
    CHECK_INT(run(&search, &vector, &reply), ==, 400);
    dispatch_reply_free(&reply);

    /* Still serving. */
    CHECK_INT(status_of(&put, &payload), ==, 0);
    buf_free(&payload);
    buf_free(&junk);
    buf_free(&vector);
    teardown();
}

TEST_MAIN(TEST_CASE(every_op_answers_as_the_contract_says),
          TEST_CASE(faults_get_their_status_and_message))
