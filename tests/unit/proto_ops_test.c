/*
 * Tests of proto/ops: every op encodes to a header that decodes back to the
 * same request; every fault of a header or a file.put payload is refused
 * with the message the client sees; the payload encoder leaves out the
 * names the store would refuse.
 */
#include "proto/ops.h"
#include "proto/shard.h"
#include "tests/test.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>

static char err[512];

/* Encodes req, parses the text and decodes it into *out. */
static int round_trip(const ops_request_t *req, ops_request_t *out, cJSON **json) {
    buf_t b = BUF_INIT;
    int rc = ops_encode(req, &b);
    *json = rc == 0 ? cJSON_ParseWithLength(b.data, b.len) : NULL;
    if (rc == 0 && !*json)
        rc = -EBADMSG;
    if (rc == 0)
        rc = ops_decode(*json, out, err, sizeof err);
    buf_free(&b);
    return rc;
}

/* Decodes header text; the message is left in err. */
static int decode_text(const char *text, ops_request_t *out) {
    cJSON *json = cJSON_Parse(text);
    int rc = json ? ops_decode(json, out, err, sizeof err) : -EBADMSG;
    ops_request_free(out);
    cJSON_Delete(json);
    return rc;
}

TEST(collection_ops_round_trip) {
    ops_request_t out;
    cJSON *json;
    ops_request_t ensure = {
        .op = OPS_COLLECTION_ENSURE,
        .collection = "demo \"x\"",
        .ensure = {.root = "/src/demo", .model = "builtin", .dim = 256, .shards = 3}};
    REQUIRE(round_trip(&ensure, &out, &json) == 0);
    CHECK_INT(out.op, ==, OPS_COLLECTION_ENSURE);
    CHECK_STR(out.collection, "demo \"x\"");
    CHECK_STR(out.ensure.root, "/src/demo");
    CHECK_STR(out.ensure.model, "builtin");
    CHECK_INT(out.ensure.dim, ==, 256);
    CHECK_INT(out.ensure.shards, ==, 3);
    CHECK_INT(out.ensure.placement, ==, SHARD_PLACEMENT); /* left out: the current one */
    ops_request_free(&out);
    cJSON_Delete(json);
    ensure.ensure.placement = SHARD_PLACEMENT_FNV1A;
    REQUIRE(round_trip(&ensure, &out, &json) == 0);
    CHECK_INT(out.ensure.placement, ==, SHARD_PLACEMENT_FNV1A);
    ops_request_free(&out);
    cJSON_Delete(json);

    ops_request_t touch = {.op = OPS_COLLECTION_TOUCH, .collection = "c", .seeded_at = 1700000000};
    REQUIRE(round_trip(&touch, &out, &json) == 0);
    CHECK_INT(out.seeded_at, ==, 1700000000);
    ops_request_free(&out);
    cJSON_Delete(json);

    static const ops_op_t plain[] = {OPS_COLLECTION_DROP, OPS_COLLECTION_FILES, OPS_COLLECTIONS,
                                     OPS_STATS};
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
        ops_request_t req = {.op = plain[i], .collection = "c"};
        REQUIRE(round_trip(&req, &out, &json) == 0);
        CHECK_INT(out.op, ==, plain[i]);
        if (plain[i] == OPS_COLLECTIONS || plain[i] == OPS_STATS)
            CHECK(!cJSON_GetObjectItemCaseSensitive(json, "collection"));
        else
            CHECK_STR(out.collection, "c");
        ops_request_free(&out);
        cJSON_Delete(json);
    }
}

TEST(file_ops_round_trip) {
    ops_request_t out;
    cJSON *json;
    const char *imports[] = {"src/a.py", "src/b\xc3\xa9.py"};
    ops_request_t put = {.op = OPS_FILE_PUT,
                         .collection = "c",
                         .file = {.path = "src/m.py",
                                  .hash = "abc",
                                  .language = "python",
                                  .imports = imports,
                                  .import_count = 2}};
    REQUIRE(round_trip(&put, &out, &json) == 0);
    CHECK_STR(out.file.path, "src/m.py");
    CHECK_STR(out.file.hash, "abc");
    CHECK_STR(out.file.language, "python");
    REQUIRE(out.file.import_count == 2);
    CHECK_STR(out.file.imports[1], "src/b\xc3\xa9.py");
    ops_request_free(&out);
    cJSON_Delete(json);

    ops_request_t imports_put = {.op = OPS_IMPORTS_PUT,
                                 .collection = "c",
                                 .path = {.path = "x.py", .imports = NULL, .import_count = 0}};
    REQUIRE(round_trip(&imports_put, &out, &json) == 0);
    CHECK_STR(out.path.path, "x.py");
    CHECK_INT(out.path.import_count, ==, 0);
    CHECK(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(json, "imports")));
    ops_request_free(&out);
    cJSON_Delete(json);

    ops_request_t del = {.op = OPS_FILE_DELETE, .collection = "c", .path.path = "gone.c"};
    REQUIRE(round_trip(&del, &out, &json) == 0);
    CHECK_INT(out.op, ==, OPS_FILE_DELETE);
    CHECK_STR(out.path.path, "gone.c");
    ops_request_free(&out);
    cJSON_Delete(json);
}

TEST(search_round_trips_and_leaves_out_what_is_unset) {
    ops_request_t out;
    cJSON *json;
    const char *symbols[] = {"parse", "Config"};
    const char *words[] = {"store", "open"}, *line[] = {"get", "params"};
    const char *slot[] = {"(", "\"id\"", ",", "", ""}, *anchors[] = {"Column"};
    const char query[] = "def f():\n\treturn \"x\"";
    ops_request_t search = {.op = OPS_SEARCH,
                            .collection = "c",
                            .search = {.k = 8,
                                       .limit = 40,
                                       .path = "a/b.py",
                                       .query = query,
                                       .query_len = 12, /* a prefix only */
                                       .symbols = symbols,
                                       .symbol_count = 2,
                                       .object = "utils",
                                       .owner = "constructObject",
                                       .slot = slot,
                                       .slot_count = 5,
                                       .anchors = anchors,
                                       .anchor_count = 1,
                                       .member = {.kind = OPS_MEMBER_CLASS,
                                                  .module = "example.com/x/store",
                                                  .call = "Open",
                                                  .partial = "Ge",
                                                  .after = "throws",
                                                  .words = words,
                                                  .word_count = 2,
                                                  .line_words = line,
                                                  .line_word_count = 2,
                                                  .within = "test_open",
                                                  .declared = "open"},
                                       .f32 = true,
                                       .question = true}};
    REQUIRE(round_trip(&search, &out, &json) == 0);
    CHECK_INT(out.search.member.kind, ==, OPS_MEMBER_CLASS);
    CHECK_STR(out.search.member.module, "example.com/x/store");
    CHECK_STR(out.search.member.call, "Open");
    CHECK_STR(out.search.member.partial, "Ge");
    CHECK_STR(out.search.member.after, "throws");
    CHECK_STR(out.search.member.within, "test_open");
    CHECK_STR(out.search.member.declared, "open");
    CHECK(out.search.member.type == NULL);
    REQUIRE(out.search.member.word_count == 2 && out.search.member.line_word_count == 2);
    CHECK_STR(out.search.member.words[1], "open");
    CHECK_STR(out.search.member.line_words[0], "get");
    CHECK_STR(out.search.member.line_words[1], "params");
    CHECK(out.search.member.hint_count == 0);
    CHECK_INT(out.search.k, ==, 8);
    CHECK_INT(out.search.limit, ==, 40);
    CHECK_STR(out.search.path, "a/b.py");
    CHECK_STR(out.search.query, "def f():\n\tre");
    CHECK_INT(out.search.query_len, ==, 12);
    REQUIRE(out.search.symbol_count == 2);
    CHECK_STR(out.search.symbols[0], "parse");
    CHECK_STR(out.search.object, "utils");
    CHECK_STR(out.search.owner, "constructObject");
    REQUIRE(out.search.slot_count == 5 && out.search.anchor_count == 1);
    CHECK_STR(out.search.slot[1], "\"id\"");
    CHECK_STR(out.search.slot[3], "");
    CHECK_STR(out.search.anchors[0], "Column");
    CHECK(out.search.f32);
    CHECK(out.search.question);
    ops_request_free(&out);
    cJSON_Delete(json);

    /* Nothing set: the retriever's defaults (k 10, limit 4k, i8). */
    ops_request_t bare = {.op = OPS_SEARCH, .collection = "c"};
    REQUIRE(round_trip(&bare, &out, &json) == 0);
    CHECK_INT(cJSON_GetArraySize(json), ==, 2);
    CHECK_INT(out.search.k, ==, 10);
    CHECK_INT(out.search.limit, ==, 40);
    CHECK(!out.search.path && !out.search.query && !out.search.symbols && !out.search.object);
    CHECK(!out.search.f32);
    CHECK(!out.search.question);
    ops_request_free(&out);
    cJSON_Delete(json);
}

TEST(encode_refuses_requests_missing_what_the_op_needs) {
    buf_t b = BUF_INIT;
    CHECK_INT(ops_encode(&(ops_request_t){.op = OPS_FILE_PUT, .collection = "c"}, &b), ==, -EINVAL);
    CHECK_INT(ops_encode(&(ops_request_t){.op = OPS_SEARCH}, &b), ==, -EINVAL);
    CHECK_INT(ops_encode(&(ops_request_t){.op = OPS_COLLECTION_ENSURE, .collection = "c"}, &b), ==,
              -EINVAL);
    CHECK_INT(ops_encode(&(ops_request_t){.op = OPS_COUNT, .collection = "c"}, &b), ==, -EINVAL);
    CHECK_INT(b.len, ==, 0);
    CHECK(ops_name(OPS_COUNT) == NULL);
    CHECK_STR(ops_name(OPS_IMPORTS_DELETE), "imports.delete");
}

TEST(bad_headers_get_the_message_the_client_sees) {
    static const struct {
        const char *header, *message;
    } cases[] = {
        {"{}", "missing \"op\" (a string)"},
        {"{\"op\":7}", "\"op\" must be a string"},
        {"{\"op\":\"frobnicate\",\"collection\":\"demo\"}", "unknown op \"frobnicate\""},
        {"{\"op\":\"search\"}", "missing \"collection\" (a string)"},
        {"{\"op\":\"search\",\"collection\":\"demo\",\"k\":\"ten\"}",
         "\"k\" must be an integer in [1, 1000]"},
        {"{\"op\":\"search\",\"collection\":\"demo\",\"k\":2.5}",
         "\"k\" must be an integer in [1, 1000]"},
        {"{\"op\":\"search\",\"collection\":\"demo\",\"k\":5,\"limit\":4001}",
         "\"limit\" must be an integer in [1, 4000]"},
        {"{\"op\":\"search\",\"collection\":\"demo\",\"slot\":[\"(\",\",\"]}",
         "\"slot\" must hold 5 strings: 3 tokens before the name, 2 after"},
        {"{\"op\":\"search\",\"collection\":\"demo\",\"symbols\":\"x\"}",
         "\"symbols\" must be an array of at most 4096 strings"},
        {"{\"op\":\"search\",\"collection\":\"demo\",\"symbols\":[\"a\",1]}",
         "\"symbols\" must hold only strings"},
        {"{\"op\":\"search\",\"collection\":\"demo\",\"mode\":\"f16\"}",
         "\"mode\" must be \"i8\" or \"f32\""},
        {"{\"op\":\"search\",\"collection\":\"demo\",\"question\":1}",
         "\"question\" must be true or false"},
        /* The first fault wins: k is read before mode. */
        {"{\"op\":\"search\",\"collection\":\"demo\",\"mode\":\"f16\",\"k\":0}",
         "\"k\" must be an integer in [1, 1000]"},
        {"{\"op\":\"file.put\",\"collection\":\"demo\",\"hash\":\"h\"}",
         "missing \"path\" (a string)"},
        {"{\"op\":\"file.put\",\"collection\":\"demo\",\"path\":\"p\",\"hash\":\"h\","
         "\"imports\":[1]}",
         "\"imports\" must hold only strings"},
        {"{\"op\":\"file.put\",\"collection\":\"demo\",\"path\":\"p\",\"hash\":\"h\","
         "\"language\":3}",
         "\"language\" must be a string"},
        {"{\"op\":\"collection.ensure\",\"collection\":\"x\",\"model\":\"m\",\"dim\":-1,"
         "\"shards\":2}",
         "\"dim\" must be an integer in [0, 1048576]"},
        {"{\"op\":\"collection.ensure\",\"collection\":\"x\",\"dim\":16,\"shards\":2}",
         "missing \"model\" (a string)"},
        {"{\"op\":\"collection.ensure\",\"collection\":\"x\",\"model\":\"m\",\"dim\":16}",
         "missing \"shards\" (an integer)"},
        {"{\"op\":\"collection.ensure\",\"collection\":\"x\",\"model\":\"m\",\"dim\":16,"
         "\"shards\":2,\"placement\":3}",
         "\"placement\" must be an integer in [1, 2]"},
        /* SHARD_MAX (proto/shard.h), as every program's --shards. */
        {"{\"op\":\"collection.ensure\",\"collection\":\"x\",\"model\":\"m\",\"dim\":16,"
         "\"shards\":257}",
         "\"shards\" must be an integer in [1, 256]"},
        {"{\"op\":\"imports.put\",\"collection\":\"demo\",\"path\":\"a\"}",
         "missing \"imports\" (an array of paths)"},
        {"{\"op\":\"imports.delete\",\"collection\":\"demo\"}", "missing \"path\" (a string)"},
        {"{\"op\":\"collection.touch\",\"collection\":\"demo\"}",
         "missing \"seeded_at\" (an integer)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ops_request_t req;
        err[0] = '\0';
        CHECK_INT(decode_text(cases[i].header, &req), ==, -EINVAL);
        if (strcmp(err, cases[i].message) != 0)
            fprintf(stderr, "  %s\n", cases[i].header);
        CHECK_STR(err, cases[i].message);
    }
    /* A list longer than the limit. */
    buf_t big = BUF_INIT;
    buf_append_str(&big, "{\"op\":\"search\",\"collection\":\"c\",\"symbols\":[");
    for (int i = 0; i <= OPS_LIST_MAX; i++)
        buf_append_str(&big, i ? ",\"s\"" : "\"s\"");
    buf_append_str(&big, "]}");
    ops_request_t req;
    CHECK_INT(decode_text(big.data, &req), ==, -EINVAL);
    CHECK_STR(err, "\"symbols\" must be an array of at most 4096 strings");
    buf_free(&big);
}

TEST(nulls_count_as_absent) {
    ops_request_t req;
    cJSON *json = cJSON_Parse("{\"op\":\"imports.put\",\"collection\":\"c\",\"path\":\"a\","
                              "\"imports\":null,\"x\":1}");
    REQUIRE(json);
    CHECK_INT(ops_decode(json, &req, err, sizeof err), ==, 0);
    CHECK_INT(req.path.import_count, ==, 0);
    ops_request_free(&req);
    cJSON_Delete(json);
    json = cJSON_Parse("{\"op\":\"search\",\"collection\":\"c\",\"k\":null,\"path\":null}");
    REQUIRE(json);
    CHECK_INT(ops_decode(json, &req, err, sizeof err), ==, 0);
    CHECK_INT(req.search.k, ==, 10);
    CHECK(req.search.path == NULL);
    ops_request_free(&req);
    cJSON_Delete(json);
}

/* ---- payloads ---- */

#define DIM 4

TEST(payload_round_trips_and_drops_names_the_store_refuses) {
    char long_name[OPS_NAME_MAX + 2];
    memset(long_name, 'n', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    const char *symbols[] = {"A.run", "", long_name, "run"};
    const char *identifiers[] = {"x"};
    ops_chunk_t chunks[] = {
        {.start_line = 1,
         .end_line = 3,
         .kind = "function",
         .symbols = symbols,
         .symbol_count = 4,
         .identifiers = identifiers,
         .identifier_count = 1,
         .text = "def run():\n  x\n  y\n",
         .text_len = 19},
        {.start_line = 5, .end_line = 5, .kind = NULL, .text = "\xff latin", .text_len = 7},
    };
    float vectors[2 * DIM] = {1, 0, 0, 0, 0, 0.5f, -0.5f, 0};
    buf_t payload = BUF_INIT;
    REQUIRE(ops_payload_encode(&payload, chunks, 2, vectors, DIM) == 0);
    ops_payload_t p;
    REQUIRE(ops_payload_decode(payload.data, payload.len, DIM, &p, err, sizeof err) == 0);
    REQUIRE(p.count == 2);
    CHECK_INT(p.chunks[0].start_line, ==, 1);
    CHECK_INT(p.chunks[0].end_line, ==, 3);
    CHECK_STR(p.chunks[0].kind, "function");
    REQUIRE(p.chunks[0].symbol_count == 2);
    CHECK_STR(p.chunks[0].symbols[0], "A.run");
    CHECK_STR(p.chunks[0].symbols[1], "run");
    REQUIRE(p.chunks[0].identifier_count == 1);
    CHECK_STR(p.chunks[0].identifiers[0], "x");
    CHECK_INT(p.chunks[0].text_len, ==, 19);
    CHECK(memcmp(p.chunks[0].text, chunks[0].text, 19) == 0);
    CHECK_STR(p.chunks[1].kind, "");
    CHECK_INT(p.chunks[1].symbol_count, ==, 0);
    CHECK(memcmp(p.chunks[1].text, "\xff latin", 7) == 0);
    CHECK(memcmp(p.vectors, vectors, sizeof vectors) == 0);
    ops_payload_free(&p);
    buf_free(&payload);

    /* No chunks: JSON, no texts, an empty vector text. */
    REQUIRE(ops_payload_encode(&payload, NULL, 0, NULL, DIM) == 0);
    REQUIRE(ops_payload_decode(payload.data, payload.len, DIM, &p, err, sizeof err) == 0);
    CHECK_INT(p.count, ==, 0);
    ops_payload_free(&p);
    buf_free(&payload);
}

/* A payload of JSON text 0, the given chunk texts, and vector bytes. */
static void payload_of(buf_t *p, const char *json, int texts, const void *vec, size_t vec_len) {
    buf_reset(p);
    texts_append(p, json, strlen(json));
    for (int i = 0; i < texts; i++)
        texts_append(p, "x", 1);
    if (vec)
        texts_append(p, vec, vec_len);
}

TEST(bad_payloads_get_the_message_the_client_sees) {
    ops_payload_t p;
    CHECK_INT(ops_payload_decode(NULL, 0, DIM, &p, err, sizeof err), ==, -EINVAL);
    CHECK_STR(err, "file.put needs a payload: chunk JSON, chunk texts, vectors");
    CHECK_INT(ops_payload_decode("\xff\xff\xff\xff", 4, DIM, &p, err, sizeof err), ==, -EINVAL);
    CHECK_STR(err, "payload is not a packed list of texts");
    float v[DIM] = {0};
    buf_t b = BUF_INIT;
    payload_of(&b, "{\"chunks\":[]}", 0, NULL, 0);
    CHECK_INT(ops_payload_decode(b.data, b.len, DIM, &p, err, sizeof err), ==, -EINVAL);
    CHECK_STR(err, "payload needs chunk JSON, one text per chunk and the vectors");
    payload_of(&b, "[1,", 0, v, 0);
    CHECK_INT(ops_payload_decode(b.data, b.len, DIM, &p, err, sizeof err), ==, -EINVAL);
    CHECK(strncmp(err, "payload text 0 is not a JSON object: ", 37) == 0);
    payload_of(&b, "{\"chunk\":[]}", 0, v, 0);
    CHECK_INT(ops_payload_decode(b.data, b.len, DIM, &p, err, sizeof err), ==, -EINVAL);
    CHECK_STR(err, "payload text 0 must be JSON {\"chunks\":[...]} describing the chunks");
    payload_of(&b, "{\"chunks\":[{\"start_line\":1,\"end_line\":1}]}", 0, v, sizeof v);
    CHECK_INT(ops_payload_decode(b.data, b.len, DIM, &p, err, sizeof err), ==, -EINVAL);
    CHECK_STR(err, "payload has 2 texts; 1 chunks need 3 (JSON, texts, vectors)");
    static const struct {
        const char *json, *message;
    } chunks[] = {
        {"{\"chunks\":[7]}", "chunk 0 is not an object"},
        {"{\"chunks\":[{\"start_line\":2,\"end_line\":1}]}",
         "chunk 0: \"start_line\" and \"end_line\" must be integers with 1 <= start_line <= "
         "end_line"},
        {"{\"chunks\":[{\"start_line\":0,\"end_line\":1}]}",
         "chunk 0: \"start_line\" and \"end_line\" must be integers with 1 <= start_line <= "
         "end_line"},
        {"{\"chunks\":[{\"start_line\":1,\"end_line\":1,\"kind\":4}]}",
         "chunk 0: \"kind\" must be a short string"},
        {"{\"chunks\":[{\"start_line\":1,\"end_line\":1,\"symbols\":\"a\"}]}",
         "chunk 0: \"symbols\" must be an array of strings"},
        {"{\"chunks\":[{\"start_line\":1,\"end_line\":1,\"identifiers\":[\"\"]}]}",
         "chunk 0: \"identifiers\" must hold non-empty strings of at most 256 bytes"},
    };
    for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
        payload_of(&b, chunks[i].json, 1, v, sizeof v);
        CHECK_INT(ops_payload_decode(b.data, b.len, DIM, &p, err, sizeof err), ==, -EINVAL);
        CHECK_STR(err, chunks[i].message);
    }
    payload_of(&b, "{\"chunks\":[{\"start_line\":1,\"end_line\":1}]}", 1, v, sizeof v - 1);
    CHECK_INT(ops_payload_decode(b.data, b.len, DIM, &p, err, sizeof err), ==, -EINVAL);
    CHECK_STR(err, "the last text must hold 1 chunks x 4 float32 (16 bytes), not 15 bytes");
    v[2] = NAN;
    payload_of(&b, "{\"chunks\":[{\"start_line\":1,\"end_line\":1}]}", 1, v, sizeof v);
    CHECK_INT(ops_payload_decode(b.data, b.len, DIM, &p, err, sizeof err), ==, -EINVAL);
    CHECK_STR(err, "vector of chunk 0 has a non-finite value");
    CHECK(p.chunks == NULL && p.json == NULL); /* nothing to free after a failure */
    buf_free(&b);
}

TEST(collection_objects_open_with_their_strings) {
    buf_t b = BUF_INIT;
    buf_append_str(&b, "[");
    ops_collection_open(&b, true, "a", "/r\"", "m");
    buf_append_str(&b, ",\"dim\":3}");
    ops_collection_open(&b, false, "b", "/s", "n");
    buf_append_str(&b, "}]");
    CHECK_STR(b.data, "[{\"name\":\"a\",\"root\":\"/r\\\"\",\"model\":\"m\",\"dim\":3},"
                      "{\"name\":\"b\",\"root\":\"/s\",\"model\":\"n\"}]");
    buf_free(&b);
}

TEST_MAIN(TEST_CASE(collection_ops_round_trip), TEST_CASE(file_ops_round_trip),
          TEST_CASE(search_round_trips_and_leaves_out_what_is_unset),
          TEST_CASE(encode_refuses_requests_missing_what_the_op_needs),
          TEST_CASE(bad_headers_get_the_message_the_client_sees), TEST_CASE(nulls_count_as_absent),
          TEST_CASE(payload_round_trips_and_drops_names_the_store_refuses),
          TEST_CASE(bad_payloads_get_the_message_the_client_sees),
          TEST_CASE(collection_objects_open_with_their_strings))
