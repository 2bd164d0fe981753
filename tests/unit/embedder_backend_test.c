/*
 * Tests of embedder/backend: the spec grammar (builtin, builtin:<dim>,
 * ollama:<model>[@<host>]) and its error messages, the model string a
 * collection records, dispatch to the built-in embedder (batches equal to
 * single texts, queries and documents alike, unit or zero rows), bad
 * arguments refused with a message, and cancel reaching either backend
 * (for Ollama with no server: a cancel that finds no call cancels the next
 * one).  Calls to a real Ollama are embedder_ollama_test's.
 */
#include "embedder/backend.h"
#include "proto/code/embedding.h"
#include "tests/test.h"

#include <errno.h>
#include <math.h>

#define DIM 384

TEST(backend_specs) {
    char err[256] = "";
    embed_backend_t *b = embed_backend_new(NULL, err, sizeof err);
    REQUIRE(b);
    CHECK_STR(embed_backend_model(b), "builtin-v1");
    CHECK_INT(embed_backend_dim(b, err, sizeof err), ==, 384);
    embed_backend_destroy(&b);
    CHECK(b == NULL);

    b = embed_backend_new("builtin:512", err, sizeof err);
    REQUIRE(b);
    CHECK_INT(embed_backend_dim(b, err, sizeof err), ==, 512);
    embed_backend_destroy(&b);

    const char *bad[] = {"builtin:100",         "builtin:",        "builtin:abc", "builtin:-16",
                         "builtin:99999999999", "bogus",           "ollama:",     "ollama:a b",
                         "ollama:m@",           "ollama:m@ftp://x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        b = embed_backend_new(bad[i], err, sizeof err);
        CHECK(b == NULL);
        CHECK(err[0] != '\0');
        embed_backend_destroy(&b);
    }
    b = embed_backend_new("bogus", err, sizeof err);
    CHECK(strstr(err, "unknown backend 'bogus'") != NULL);
    b = embed_backend_new("builtin:100", err, sizeof err);
    CHECK(strstr(err, "multiple of 16") != NULL);

    /* an Ollama backend is created without contacting anything */
    b = embed_backend_new("ollama:nomic-embed-text:v1.5@http://127.0.0.1:9", err, sizeof err);
    REQUIRE(b);
    CHECK_STR(embed_backend_model(b), "ollama:nomic-embed-text:v1.5");
    embed_backend_destroy(&b);
    embed_backend_destroy(NULL);
    CHECK(embed_backend_model(NULL) == NULL);
}

TEST(backend_batch_matches_single) {
    char err[256];
    embed_backend_t *b = embed_backend_new("builtin", err, sizeof err);
    REQUIRE(b);
    const char *texts[] = {"alpha_beta", "", "gammaDelta(x)"};
    size_t lens[] = {10, 0, 13};
    float rows[3 * DIM], one[DIM];
    CHECK_INT(embed_backend_embed(b, texts, lens, 3, rows, err, sizeof err), ==, 0);
    builtin_embedder_t *e = builtin_embedder_new(DIM);
    REQUIRE(e);
    for (int i = 0; i < 3; i++) {
        builtin_embedder_embed(e, texts[i], lens[i], one);
        CHECK(memcmp(one, rows + i * DIM, sizeof one) == 0);
    }
    builtin_embedder_destroy(&e);
    CHECK_INT(embed_backend_embed(b, texts, lens, 0, NULL, err, sizeof err), ==, 0);
    CHECK_INT(embed_backend_embed(b, texts, NULL, 3, rows, err, sizeof err), ==, -EINVAL);
    const char *null_text[] = {NULL};
    size_t three = 3;
    CHECK_INT(embed_backend_embed(b, null_text, &three, 1, rows, err, sizeof err), ==, -EINVAL);

    /* a cancel with no call in progress cancels the next call, and only that one */
    embed_backend_cancel(b);
    CHECK_INT(embed_backend_embed(b, texts, lens, 3, rows, err, sizeof err), ==, -ECANCELED);
    CHECK_INT(embed_backend_embed(b, texts, lens, 3, rows, err, sizeof err), ==, 0);
    embed_backend_destroy(&b);
}

static double norm(const float *v, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)v[i] * v[i];
    return sqrt(s);
}

/* A spec refused, with a message holding want. */
static void check_refused(const char *spec, const char *want) {
    char err[256] = "";
    embed_backend_t *b = embed_backend_new(spec, err, sizeof err);
    if (b || !strstr(err, want))
        fprintf(stderr, "  spec \"%s\": %s, \"%s\"; want \"%s\"\n", spec,
                b ? "accepted" : "refused", err, want);
    CHECK(b == NULL);
    CHECK(strstr(err, want) != NULL);
    embed_backend_destroy(&b);
}

TEST(specs_at_the_edges_of_the_grammar) {
    char err[256] = "";
    static const struct {
        const char *spec;
        size_t dim;
    } good[] = {{"", 384}, {"builtin:16", 16}, {"builtin:4096", 4096}, {"builtin:000000032", 32}};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        embed_backend_t *b = embed_backend_new(good[i].spec, err, sizeof err);
        CHECK(b != NULL);
        CHECK_INT(embed_backend_dim(b, err, sizeof err), ==, good[i].dim);
        CHECK_STR(embed_backend_model(b), "builtin-v1"); /* the dimension is recorded apart */
        embed_backend_destroy(&b);
    }
    check_refused("builtin:0", "want a multiple of 16 from 16 to 4096");
    check_refused("builtin:4112", "bad dimension '4112' in builtin:<dim>");
    check_refused("builtin:0000000032", "bad dimension"); /* ten digits */
    check_refused("builtin:16 ", "bad dimension");
    check_refused("Builtin", "unknown backend 'Builtin'");
    check_refused("builtin ", "want builtin, builtin:<dim> or ollama:<model>");
    check_refused("ollama:@http://127.0.0.1:9", "bad model name in 'ollama:@http://127.0.0.1:9'");
    check_refused("ollama:a\"b", "bad model name");
    check_refused("ollama:a\\b", "bad model name");
    check_refused("ollama:a\tb", "bad model name");
    check_refused("ollama:m@", "empty host after '@' in 'ollama:m@'");
    check_refused("ollama:m@gpu box", "bad Ollama address");
    /* The host is where vectors come from, not what they are: the model
     * string leaves it out. */
    embed_backend_t *b = embed_backend_new("ollama:nomic-embed-text@gpu:11434", err, sizeof err);
    REQUIRE(b);
    CHECK_STR(embed_backend_model(b), "ollama:nomic-embed-text");
    embed_backend_destroy(&b);
}

TEST(queries_and_documents_embed_alike_with_the_builtin_model) {
    char err[256] = "";
    embed_backend_t *b = embed_backend_new("builtin", err, sizeof err);
    REQUIRE(b);
    const char *texts[] = {"def parse_config(path):", "HttpRequestHandler"};
    size_t lens[] = {strlen(texts[0]), strlen(texts[1])};
    static float docs[2 * DIM], queries[2 * DIM];
    CHECK_INT(embed_backend_embed_kind(b, EMBED_DOCUMENT, texts, lens, 2, docs, err, sizeof err),
              ==, 0);
    CHECK_INT(embed_backend_embed_kind(b, EMBED_QUERY, texts, lens, 2, queries, err, sizeof err),
              ==, 0);
    CHECK(memcmp(docs, queries, sizeof docs) == 0);
    CHECK(fabs(norm(docs, DIM) - 1) < 1e-5);
    CHECK(fabs(norm(docs + DIM, DIM) - 1) < 1e-5);
    /* A kind that is neither. */
    err[0] = '\0';
    CHECK_INT(embed_backend_embed_kind(b, (embed_kind_t)2, texts, lens, 2, docs, err, sizeof err),
              ==, -EINVAL);
    CHECK_STR(err, "embedder: bad arguments");
    embed_backend_destroy(&b);
}

TEST(bad_arguments_are_refused_with_a_message) {
    char err[256] = "";
    const char *texts[] = {"a", NULL};
    size_t lens[] = {1, 0};
    static float rows[2 * DIM];
    CHECK_INT(embed_backend_embed(NULL, texts, lens, 1, rows, err, sizeof err), ==, -EINVAL);
    CHECK_STR(err, "embedder: bad arguments");
    err[0] = '\0';
    CHECK_INT(embed_backend_dim(NULL, err, sizeof err), ==, 0);
    CHECK_STR(err, "embedder: no backend");
    embed_backend_t *b = embed_backend_new("builtin", err, sizeof err);
    REQUIRE(b);
    CHECK_INT(embed_backend_embed(b, texts, lens, 1, NULL, err, sizeof err), ==, -EINVAL);
    /* A NULL text of no bytes is an empty text: the zero row. */
    rows[DIM] = 1;
    CHECK_INT(embed_backend_embed(b, texts, lens, 2, rows, err, sizeof err), ==, 0);
    CHECK(fabs(norm(rows, DIM) - 1) < 1e-5);
    CHECK(norm(rows + DIM, DIM) == 0);
    /* One with bytes is named in the message. */
    lens[1] = 4;
    CHECK_INT(embed_backend_embed(b, texts, lens, 2, rows, err, sizeof err), ==, -EINVAL);
    CHECK_STR(err, "embedder: text 1 is NULL");
    /* No room for a message is fine too. */
    CHECK_INT(embed_backend_embed(b, texts, lens, 2, rows, NULL, 0), ==, -EINVAL);
    CHECK(embed_backend_new("bogus", NULL, 0) == NULL);
    embed_backend_cancel(NULL);
    embed_backend_destroy(&b);
}

/* Ollama's backend with no server to reach: the cancel goes to the Ollama
 * embedder, so the next call ends at once instead of trying to connect. */
TEST(a_cancel_reaches_the_ollama_backend) {
    char err[256] = "";
    embed_backend_t *b =
        embed_backend_new("ollama:nomic-embed-text@http://127.0.0.1:9", err, sizeof err);
    REQUIRE(b);
    embed_backend_cancel(b);
    CHECK_INT(embed_backend_dim(b, err, sizeof err), ==, 0);
    CHECK_STR(err, "ollama: cancelled");
    const char *texts[] = {"x"};
    size_t lens[] = {1};
    static float rows[DIM];
    embed_backend_cancel(b);
    err[0] = '\0';
    CHECK_INT(embed_backend_embed_kind(b, EMBED_QUERY, texts, lens, 1, rows, err, sizeof err), ==,
              -ECANCELED);
    CHECK_STR(err, "ollama: cancelled");
    embed_backend_destroy(&b);
}

TEST_MAIN(TEST_CASE(backend_specs), TEST_CASE(backend_batch_matches_single),
          TEST_CASE(specs_at_the_edges_of_the_grammar),
          TEST_CASE(queries_and_documents_embed_alike_with_the_builtin_model),
          TEST_CASE(bad_arguments_are_refused_with_a_message),
          TEST_CASE(a_cancel_reaches_the_ollama_backend))
