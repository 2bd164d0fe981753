/*
 * embedder/backend: the embedding spec ("builtin", "builtin:DIM",
 * "ollama:MODEL[@URL]") chosen at start, and the calls every backend
 * answers the same way, for specs that need no server.
 */
#include "embedder/backend.h"
#include "proto/code/embedding.h"
#include "tests/test.h"

#include <errno.h>

#define DIM 384 /* the built-in default */

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

TEST_MAIN(TEST_CASE(backend_specs), TEST_CASE(backend_batch_matches_single))
