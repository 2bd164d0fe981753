/*
 * Tests of embedder/builtin, the feature-hashing code embedding (the backend
 * that chooses it by spec: embedder_backend_test).
 */
#include "embedder/builtin.h"
#include "tests/test.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>

#define DIM 384
#define GOLDEN_SUM (-36562)

static double dot(const float *a, const float *b, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)a[i] * b[i];
    return s;
}

/* Cosine of two texts under a fresh embedder of dim dimensions. */
static double similarity_dim(const char *a, const char *b, size_t dim) {
    builtin_embedder_t *e = builtin_embedder_new(dim);
    static float va[BUILTIN_EMBEDDER_DIM_MAX], vb[BUILTIN_EMBEDDER_DIM_MAX];
    if (!e || builtin_embedder_embed(e, a, strlen(a), va) != 0 ||
        builtin_embedder_embed(e, b, strlen(b), vb) != 0) {
        builtin_embedder_destroy(&e);
        return NAN;
    }
    builtin_embedder_destroy(&e);
    return dot(va, vb, dim);
}

/* The same at the default dimension (vectors are unit or zero). */
static double similarity(const char *a, const char *b) {
    return similarity_dim(a, b, DIM);
}

TEST(dim_validation) {
    CHECK_INT(builtin_embedder_check_dim(384), ==, 0);
    CHECK_INT(builtin_embedder_check_dim(16), ==, 0);
    CHECK_INT(builtin_embedder_check_dim(BUILTIN_EMBEDDER_DIM_MAX), ==, 0);
    CHECK_INT(builtin_embedder_check_dim(0), ==, -EINVAL);
    CHECK_INT(builtin_embedder_check_dim(100), ==, -EINVAL);
    CHECK_INT(builtin_embedder_check_dim(8), ==, -EINVAL);
    CHECK_INT(builtin_embedder_check_dim(BUILTIN_EMBEDDER_DIM_MAX + 16), ==, -EINVAL);
    CHECK(builtin_embedder_new(100) == NULL);
    builtin_embedder_t *e = builtin_embedder_new(512);
    REQUIRE(e);
    CHECK_INT(builtin_embedder_dim(e), ==, 512);
    builtin_embedder_destroy(&e);
    CHECK(e == NULL);
    builtin_embedder_destroy(&e);
    builtin_embedder_destroy(NULL);
}

TEST(determinism) {
    const char *code = "int parse_http_header(const char *line, http_header_t *out) {\n"
                       "    return splitHeaderLine(line, ':', &out->name, &out->value);\n}\n";
    builtin_embedder_t *a = builtin_embedder_new(DIM), *b = builtin_embedder_new(DIM);
    REQUIRE(a && b);
    float va[DIM], vb[DIM], vc[DIM];
    CHECK_INT(builtin_embedder_embed(a, code, strlen(code), va), ==, 0);
    CHECK_INT(builtin_embedder_embed(a, "something else entirely", 23, vc), ==, 0);
    CHECK_INT(builtin_embedder_embed(b, code, strlen(code), vb), ==, 0);
    CHECK(memcmp(va, vb, sizeof va) == 0);
    /* the same embedder, after other texts, gives the same bits again */
    CHECK_INT(builtin_embedder_embed(a, code, strlen(code), vc), ==, 0);
    CHECK(memcmp(va, vc, sizeof va) == 0);
    builtin_embedder_destroy(&a);
    builtin_embedder_destroy(&b);
}

TEST(golden_vector) {
    /* Pins builtin-v1: if this fails, the embedding changed and
     * BUILTIN_EMBEDDER_MODEL must be bumped (stored collections are invalid). */
    builtin_embedder_t *e = builtin_embedder_new(64);
    REQUIRE(e);
    float v[64];
    const char *text = "getUserName(user_id)";
    REQUIRE(builtin_embedder_embed(e, text, strlen(text), v) == 0);
    long sum = 0;
    for (int i = 0; i < 64; i++)
        sum += lroundf(v[i] * 1000.0f) * (i + 1);
    CHECK_INT(sum, ==, GOLDEN_SUM);
    CHECK_STR(BUILTIN_EMBEDDER_MODEL, "builtin-v1");
    builtin_embedder_destroy(&e);
}

TEST(normalised_or_zero) {
    builtin_embedder_t *e = builtin_embedder_new(DIM);
    REQUIRE(e);
    float v[DIM];
    const char *texts[] = {"x", "getUserName", "def main():\n    print('hi')\n", "if else return"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        CHECK_INT(builtin_embedder_embed(e, texts[i], strlen(texts[i]), v), ==, 0);
        CHECK(fabs(dot(v, v, DIM) - 1.0) < 1e-5);
    }
    /* nothing to embed: the zero vector */
    const char *empty[] = {"", "   \n\t", "123 + 4.5 * 0xff;", "(){}[];,.<>"};
    for (size_t i = 0; i < sizeof empty / sizeof empty[0]; i++) {
        v[0] = 42.0f;
        CHECK_INT(builtin_embedder_embed(e, empty[i], strlen(empty[i]), v), ==, 0);
        CHECK(dot(v, v, DIM) == 0.0);
    }
    CHECK_INT(builtin_embedder_embed(e, NULL, 0, v), ==, 0);
    CHECK(dot(v, v, DIM) == 0.0);
    CHECK_INT(builtin_embedder_embed(e, NULL, 3, v), ==, -EINVAL);
    CHECK_INT(builtin_embedder_embed(e, "abc", 3, NULL), ==, -EINVAL);
    CHECK_INT(builtin_embedder_embed(NULL, "abc", 3, v), ==, -EINVAL);
    builtin_embedder_destroy(&e);
}

TEST(case_styles_meet) {
    double same = similarity("getUserName", "get_user_name");
    double other = similarity("getUserName", "parseHttpHeader");
    CHECK(same > 0.99);
    CHECK(fabs(other) < 0.2);
    CHECK(similarity("HTTPServerError", "http_server_error") > 0.99);
    /* sharing two of three words is in between */
    double partial = similarity("getUserName", "setUserName");
    CHECK(partial > 0.3);
    CHECK(partial < same);
    if (!(same > 0.99 && fabs(other) < 0.2 && partial > 0.3))
        fprintf(stderr, "  same %.3f other %.3f partial %.3f\n", same, other, partial);
}

TEST(ngrams_relate_word_forms) {
    /* at a high dimension, so that the features speak and not hash collisions */
    double forms = similarity_dim("parser", "parse", 4096);
    double plural = similarity_dim("users", "user", 4096);
    double unrelated = similarity_dim("parser", "matrix", 4096);
    CHECK(forms > 0.1);
    CHECK(plural > 0.1);
    CHECK(forms > unrelated + 0.1);
    if (!(forms > 0.1 && plural > 0.1 && forms > unrelated + 0.1))
        fprintf(stderr, "  forms %.3f plural %.3f unrelated %.3f\n", forms, plural, unrelated);
}

TEST(keywords_count_little) {
    /* the same keywords around different names are not similar */
    double kw = similarity("if (x) return y;", "if (a) return b;");
    CHECK(kw < 0.3);
    /* the same names with different keywords are */
    double names = similarity("if (count) return total;", "while (count) yield total");
    CHECK(names > 0.8);
}

TEST(similar_code_closer_than_unrelated) {
    const char *query = "user = repo.findUserByEmail(email)\nif user is None: raise NotFound";
    const char *related = "def find_user_by_email(self, email):\n"
                          "    return self.session.query(User).filter_by(email=email).first()\n";
    const char *unrelated = "static void matrix_multiply(const float *a, const float *b, float *c,"
                            " int n) { for (int i = 0; i < n; i++) c[i] = a[i] * b[i]; }\n";
    double near = similarity(query, related), far = similarity(query, unrelated);
    CHECK(near > 0.3);
    CHECK(near > far + 0.25);
    if (!(near > 0.3 && near > far + 0.25))
        fprintf(stderr, "  near %.3f far %.3f\n", near, far);
}

TEST(large_text_grows_table) {
    /* 60000 distinct identifiers: the feature table must grow several times */
    size_t cap = 60000 * 12, len = 0;
    char *text = malloc(cap);
    REQUIRE(text);
    for (int i = 0; i < 60000; i++)
        len += (size_t)snprintf(text + len, cap - len, "id%c%c%c%c ", 'a' + i % 26,
                                'a' + i / 26 % 26, 'a' + i / 676 % 26, 'a' + i / 17576 % 26);
    builtin_embedder_t *a = builtin_embedder_new(DIM), *b = builtin_embedder_new(DIM);
    REQUIRE(a && b);
    float va[DIM], vb[DIM];
    CHECK_INT(builtin_embedder_embed(a, text, len, va), ==, 0);
    CHECK(fabs(dot(va, va, DIM) - 1.0) < 1e-5);
    CHECK_INT(builtin_embedder_embed(b, "warm up", 7, vb), ==, 0);
    CHECK_INT(builtin_embedder_embed(b, text, len, vb), ==, 0);
    CHECK(memcmp(va, vb, sizeof va) == 0);
    /* and after the big text, small texts come out as before */
    float small1[DIM], small2[DIM];
    builtin_embedder_t *c = builtin_embedder_new(DIM);
    REQUIRE(c);
    CHECK_INT(builtin_embedder_embed(a, "getUserName", 11, small1), ==, 0);
    CHECK_INT(builtin_embedder_embed(c, "getUserName", 11, small2), ==, 0);
    CHECK(memcmp(small1, small2, sizeof small1) == 0);
    builtin_embedder_destroy(&a);
    builtin_embedder_destroy(&b);
    builtin_embedder_destroy(&c);
    free(text);
}

TEST(any_bytes_give_unit_or_zero) {
    /* random bytes, invalid UTF-8, NULs: never a crash, always a unit or zero vector */
    builtin_embedder_t *e = builtin_embedder_new(DIM);
    REQUIRE(e);
    unsigned x = 7;
    char buf[4096];
    float v[DIM];
    int units = 0;
    for (int round = 0; round < 200; round++) {
        size_t len = (size_t)(round * 37 % (int)sizeof buf);
        for (size_t i = 0; i < len; i++) {
            x = x * 1103515245u + 12345u;
            buf[i] = (char)(x >> 16);
        }
        CHECK_INT(builtin_embedder_embed(e, buf, len, v), ==, 0);
        double n = dot(v, v, DIM);
        CHECK(n == 0.0 || fabs(n - 1.0) < 1e-5);
        units += n > 0;
    }
    CHECK(units > 100);
    builtin_embedder_destroy(&e);
}

typedef struct {
    const char *text;
    float out[DIM];
    int rc;
} thread_job_t;

static void *embed_in_thread(void *arg) {
    thread_job_t *job = arg;
    builtin_embedder_t *e = builtin_embedder_new(DIM);
    job->rc = e ? builtin_embedder_embed(e, job->text, strlen(job->text), job->out) : -ENOMEM;
    builtin_embedder_destroy(&e);
    return NULL;
}

TEST(embedders_in_threads_agree) {
    /* one embedder per thread, first use of the shared keyword table racing */
    const char *text = "for (const auto &item : itemList) if (item.isValid()) return item;";
    thread_job_t jobs[4];
    pthread_t threads[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (thread_job_t){.text = text, .rc = -1};
        REQUIRE(pthread_create(&threads[i], NULL, embed_in_thread, &jobs[i]) == 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(threads[i], NULL);
    for (int i = 0; i < 4; i++) {
        CHECK_INT(jobs[i].rc, ==, 0);
        CHECK(memcmp(jobs[i].out, jobs[0].out, sizeof jobs[0].out) == 0);
    }
}

TEST_MAIN(TEST_CASE(dim_validation), TEST_CASE(determinism), TEST_CASE(golden_vector),
          TEST_CASE(normalised_or_zero), TEST_CASE(case_styles_meet),
          TEST_CASE(ngrams_relate_word_forms), TEST_CASE(keywords_count_little),
          TEST_CASE(similar_code_closer_than_unrelated), TEST_CASE(large_text_grows_table),
          TEST_CASE(any_bytes_give_unit_or_zero), TEST_CASE(embedders_in_threads_agree))
