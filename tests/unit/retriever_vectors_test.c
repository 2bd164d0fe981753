/*
 * Tests of retriever/vectors: add/replace/remove against a shadow model,
 * search against brute force, int8 re-ranking against exact float32, and
 * that memory follows the live count, not the history of deletions.
 */
#include "retriever/vectors.h"
#include "retriever/scan.h"
#include "tests/fixture.h"
#include "tests/test.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>

static fixture_rng_t rng = {0x2545f4914f6cdd1dull};

static double dot_double(const float *a, const float *b, size_t dim) {
    double s = 0;
    for (size_t i = 0; i < dim; i++)
        s += (double)a[i] * b[i];
    return s;
}

/* ---- a shadow of what the store should hold ---- */

typedef struct {
    size_t dim, n, cap;
    uint64_t *ids;
    float *vecs;
} model_t;

static long model_find(const model_t *m, uint64_t id) {
    for (size_t i = 0; i < m->n; i++)
        if (m->ids[i] == id)
            return (long)i;
    return -1;
}

static void model_put(model_t *m, uint64_t id, const float *v) {
    long i = model_find(m, id);
    if (i < 0) {
        if (m->n == m->cap) {
            m->cap = m->cap ? 2 * m->cap : 64;
            m->ids = realloc(m->ids, m->cap * sizeof *m->ids);
            m->vecs = realloc(m->vecs, m->cap * m->dim * sizeof *m->vecs);
            if (!m->ids || !m->vecs)
                abort();
        }
        i = (long)m->n++;
        m->ids[i] = id;
    }
    memcpy(m->vecs + (size_t)i * m->dim, v, m->dim * sizeof *v);
}

static void model_remove(model_t *m, long i) {
    m->n--;
    m->ids[i] = m->ids[m->n];
    memcpy(m->vecs + (size_t)i * m->dim, m->vecs + m->n * m->dim, m->dim * sizeof *m->vecs);
}

/* Every id of the model maps to its vector, and the counts agree. */
static bool store_matches_model(const vectors_t *v, const model_t *m) {
    if (vectors_count(v) != m->n)
        return false;
    for (size_t i = 0; i < m->n; i++) {
        const float *got = vectors_get(v, m->ids[i]);
        if (!got || memcmp(got, m->vecs + i * m->dim, m->dim * sizeof *got) != 0)
            return false;
    }
    return true;
}

/* ---- tests ---- */

TEST(new_rejects_bad_dims_and_destroy_accepts_null) {
    CHECK(vectors_new(0) == NULL);
    CHECK(vectors_new(8) == NULL);
    CHECK(vectors_new(100) == NULL);
    CHECK(vectors_new(SCAN_DIM_MAX + 16) == NULL);
    vectors_t *v = vectors_new(SCAN_DIM_MAX);
    REQUIRE(v);
    CHECK_INT(vectors_dim(v), ==, SCAN_DIM_MAX);
    CHECK_INT(vectors_count(v), ==, 0);
    CHECK(vectors_bytes(v) > 0);
    vectors_destroy(&v);
    CHECK(v == NULL);
    vectors_destroy(&v);
    vectors_destroy(NULL);
    CHECK_INT(vectors_count(NULL), ==, 0);
    CHECK_INT(vectors_bytes(NULL), ==, 0);
}

TEST(add_get_replace_remove) {
    size_t dim = 32;
    vectors_t *v = vectors_new(dim);
    REQUIRE(v);
    float a[32], b[32], c[32];
    rng_unit_vector(&rng, a, dim), rng_unit_vector(&rng, b, dim), rng_unit_vector(&rng, c, dim);
    CHECK_INT(vectors_add(v, 7, a), ==, 0);
    CHECK_INT(vectors_add(v, UINT64_MAX, b), ==, 0);
    CHECK_INT(vectors_add(v, 0, c), ==, 0);
    CHECK_INT(vectors_count(v), ==, 3);
    REQUIRE(vectors_get(v, 7) && vectors_get(v, UINT64_MAX) && vectors_get(v, 0));
    CHECK(memcmp(vectors_get(v, 7), a, sizeof a) == 0);
    CHECK(memcmp(vectors_get(v, UINT64_MAX), b, sizeof b) == 0);
    CHECK(vectors_get(v, 8) == NULL);
    /* The rows are where the scan wants them. */
    CHECK(((uintptr_t)vectors_get(v, 7) & (SCAN_ALIGN - 1)) == 0);

    /* Replacing keeps the count. */
    CHECK_INT(vectors_add(v, 7, c), ==, 0);
    CHECK_INT(vectors_count(v), ==, 3);
    CHECK(memcmp(vectors_get(v, 7), c, sizeof c) == 0);

    /* A non-finite vector is refused and changes nothing. */
    float bad[32];
    memcpy(bad, a, sizeof bad);
    bad[31] = NAN;
    CHECK_INT(vectors_add(v, 7, bad), ==, -EINVAL);
    CHECK_INT(vectors_add(v, 99, bad), ==, -EINVAL);
    bad[31] = INFINITY;
    CHECK_INT(vectors_add(v, 99, bad), ==, -EINVAL);
    CHECK_INT(vectors_count(v), ==, 3);
    CHECK(memcmp(vectors_get(v, 7), c, sizeof c) == 0);
    CHECK(vectors_get(v, 99) == NULL);

    /* Removing the first row moves the last one into its place. */
    CHECK_INT(vectors_remove(v, 7), ==, 0);
    CHECK_INT(vectors_remove(v, 7), ==, -ENOENT);
    CHECK_INT(vectors_remove(v, 12345), ==, -ENOENT);
    CHECK_INT(vectors_count(v), ==, 2);
    CHECK(vectors_get(v, 7) == NULL);
    CHECK(memcmp(vectors_get(v, 0), c, sizeof c) == 0);
    CHECK(memcmp(vectors_get(v, UINT64_MAX), b, sizeof b) == 0);
    CHECK_INT(vectors_remove(v, 0), ==, 0);
    CHECK_INT(vectors_remove(v, UINT64_MAX), ==, 0);
    CHECK_INT(vectors_count(v), ==, 0);
    CHECK_INT(vectors_add(v, 0, NULL), ==, -EINVAL);
    CHECK_INT(vectors_add(NULL, 0, a), ==, -EINVAL);
    CHECK_INT(vectors_remove(NULL, 0), ==, -EINVAL);
    vectors_destroy(&v);
}

/* Random adds, replaces and removes, checked against the shadow model. */
TEST(random_churn_matches_a_model) {
    size_t dim = 16;
    vectors_t *v = vectors_new(dim);
    model_t m = {.dim = dim};
    REQUIRE(v);
    float vec[16];
    bool ok = true;
    for (int step = 0; step < 30000 && ok; step++) {
        uint64_t op = rng_next(&rng) % 10;
        /* Ids from a small range so that replaces and misses happen; half of
         * them far apart, to exercise probing across the table. */
        uint64_t id = rng_next(&rng) % 3000;
        if (id % 2)
            id = id << 40 | 1;
        if (op < 6) {
            rng_unit_vector(&rng, vec, dim);
            ok &= vectors_add(v, id, vec) == 0;
            model_put(&m, id, vec);
        } else {
            long i = model_find(&m, id);
            ok &= vectors_remove(v, id) == (i < 0 ? -ENOENT : 0);
            if (i >= 0)
                model_remove(&m, i);
        }
        if (step % 1000 == 0 || step > 29900)
            ok &= store_matches_model(v, &m);
        /* Drain now and then, down to empty, to exercise shrinking. */
        if (step % 7000 == 6999)
            while (m.n && ok) {
                ok &= vectors_remove(v, m.ids[m.n - 1]) == 0;
                m.n--;
            }
    }
    CHECK(ok);
    CHECK(store_matches_model(v, &m));
    printf("# %zu vectors at the end\n", m.n);
    free(m.ids), free(m.vecs);
    vectors_destroy(&v);
}

TEST(search_finds_the_exact_top_k_by_id) {
    size_t dim = 64, n = 3000, k = 20;
    vectors_t *v = vectors_new(dim);
    float *vecs = malloc(n * dim * sizeof *vecs), query[64];
    REQUIRE(v && vecs);
    for (size_t i = 0; i < n; i++) {
        rng_unit_vector(&rng, vecs + i * dim, dim);
        REQUIRE(vectors_add(v, 1000000 + i * 13, vecs + i * dim) == 0);
    }
    /* Remove a third so that rows have moved. */
    for (size_t i = 0; i < n; i += 3)
        REQUIRE(vectors_remove(v, 1000000 + i * 13) == 0);
    rng_unit_vector(&rng, query, dim);
    vectors_hit_t hits[20];
    long got = vectors_search(v, query, k, VECTORS_F32, 2, hits);
    CHECK_INT(got, ==, (long)k);
    /* Brute force over the survivors. */
    double kth = 1e9;
    for (long h = 0; h < got; h++) {
        uint64_t i = (hits[h].id - 1000000) / 13;
        CHECK(i < n && i % 3 != 0);
        if (i >= n)
            continue;
        double exact = dot_double(vecs + i * dim, query, dim);
        CHECK(fabs(exact - hits[h].score) < 1e-5);
        if (h > 0)
            CHECK(hits[h - 1].score >= hits[h].score);
        kth = exact < kth ? exact : kth;
    }
    size_t better = 0;
    for (size_t i = 0; i < n; i++)
        if (i % 3 != 0 && dot_double(vecs + i * dim, query, dim) > kth + 1e-5)
            better++;
    CHECK_INT(better, <, k);
    free(vecs);
    vectors_destroy(&v);
}

TEST(i8_search_reranks_to_the_f32_answer) {
    size_t dim = 384, n = 20000, k = 10, nq = 40;
    vectors_t *v = vectors_new(dim);
    float vec[384];
    REQUIRE(v);
    for (size_t i = 0; i < n; i++) {
        rng_unit_vector(&rng, vec, dim);
        REQUIRE(vectors_add(v, i, vec) == 0);
    }
    size_t same_lists = 0, found = 0;
    for (size_t q = 0; q < nq; q++) {
        rng_unit_vector(&rng, vec, dim);
        vectors_hit_t exact[10], approx[10];
        REQUIRE(vectors_search(v, vec, k, VECTORS_F32, 2, exact) == (long)k);
        REQUIRE(vectors_search(v, vec, k, VECTORS_I8, 2, approx) == (long)k);
        bool same = true;
        for (size_t i = 0; i < k; i++) {
            same &= exact[i].id == approx[i].id &&
                    memcmp(&exact[i].score, &approx[i].score, sizeof(float)) == 0;
            for (size_t j = 0; j < k; j++)
                found += exact[i].id == approx[j].id;
            /* Whatever it returns carries its exact float32 score. */
            const float *row = vectors_get(v, approx[i].id);
            REQUIRE(row);
            CHECK(fabs(dot_double(row, vec, dim) - approx[i].score) < 1e-5);
        }
        same_lists += same;
    }
    double recall = (double)found / (double)(nq * k);
    printf("# int8 + re-rank: recall@10 %.4f, identical lists %zu/%zu\n", recall, same_lists, nq);
    CHECK(recall >= 0.995);
    CHECK_INT(same_lists, >=, nq - 2);
    vectors_destroy(&v);
}

/* A store past VECTORS_PREFILTER_MIN_ROWS takes its int8 candidates from the
 * 4-bit pool: on embedding-like data (unit Gaussians, where the top scores
 * are nearly tied) the answer must still be the exact float32 one, k = 10
 * and k = 60 (what a completion query asks a shard for). */
TEST(prefiltered_i8_search_is_the_f32_answer) {
    size_t dim = 384, n = VECTORS_PREFILTER_MIN_ROWS + 3000, nq = 30;
    vectors_t *v = vectors_new(dim);
    float vec[384];
    REQUIRE(v);
    for (size_t i = 0; i < n; i++) {
        rng_unit_vector(&rng, vec, dim);
        REQUIRE(vectors_add(v, 7 * i + 1, vec) == 0);
    }
    /* Rows moved by removal keep their 4-bit copy in step. */
    for (size_t i = 0; i < 1000; i++)
        REQUIRE(vectors_remove(v, 7 * (3 * i) + 1) == 0);
    scan_isa_t isa = scan_isa_best();
    bool wide = isa == SCAN_ISA_AVX2 || isa == SCAN_ISA_AVX512 || isa == SCAN_ISA_AVX512_VNNI;
    static const size_t ks[] = {10, 60};
    for (size_t t = 0; t < 2; t++) {
        size_t k = ks[t], found = 0, same_lists = 0;
        CHECK(vectors_prefilters(v, k) == wide);
        vectors_hit_t exact[60], approx[60];
        for (size_t q = 0; q < nq; q++) {
            rng_unit_vector(&rng, vec, dim);
            REQUIRE(vectors_search(v, vec, k, VECTORS_F32, 1, exact) == (long)k);
            REQUIRE(vectors_search(v, vec, k, VECTORS_I8, 1 + (int)(q % 2), approx) == (long)k);
            bool same = true;
            for (size_t i = 0; i < k; i++) {
                same &= exact[i].id == approx[i].id &&
                        memcmp(&exact[i].score, &approx[i].score, sizeof(float)) == 0;
                for (size_t j = 0; j < k; j++)
                    found += exact[i].id == approx[j].id;
            }
            same_lists += same;
        }
        double recall = (double)found / (double)(nq * k);
        printf("# %s i8 search: recall@%zu %.4f, identical lists %zu/%zu\n",
               wide ? "prefiltered" : "plain", k, recall, same_lists, nq);
        CHECK(recall == 1.0);
        CHECK_INT(same_lists, ==, nq);
    }
    vectors_destroy(&v);
}

/* Below VECTORS_PREFILTER_MIN_ROWS, or when the pool would be a large part
 * of the store, the int8 scan runs alone. */
TEST(small_stores_do_not_prefilter) {
    size_t dim = 32;
    vectors_t *v = vectors_new(dim);
    float vec[32];
    REQUIRE(v);
    CHECK(!vectors_prefilters(v, 10));
    CHECK(!vectors_prefilters(NULL, 10));
    for (size_t i = 0; i + 1 < VECTORS_PREFILTER_MIN_ROWS; i++) {
        rng_unit_vector(&rng, vec, dim);
        REQUIRE(vectors_add(v, i, vec) == 0);
    }
    CHECK(!vectors_prefilters(v, 10));
    rng_unit_vector(&rng, vec, dim);
    REQUIRE(vectors_add(v, VECTORS_PREFILTER_MIN_ROWS, vec) == 0);
    scan_isa_t isa = scan_isa_best();
    bool wide = isa == SCAN_ISA_AVX2 || isa == SCAN_ISA_AVX512 || isa == SCAN_ISA_AVX512_VNNI;
    CHECK(vectors_prefilters(v, 10) == wide);
    CHECK(!vectors_prefilters(v, 0));
    /* A pool of 8 * 300 rows is more than an eighth of 16384. */
    CHECK(vectors_prefilters(v, 256) == wide);
    CHECK(!vectors_prefilters(v, 300));
    /* Both sides of the threshold give the exact answer on this data. */
    vectors_hit_t exact[10], approx[10];
    rng_unit_vector(&rng, vec, dim);
    REQUIRE(vectors_search(v, vec, 10, VECTORS_F32, 1, exact) == 10);
    REQUIRE(vectors_search(v, vec, 10, VECTORS_I8, 1, approx) == 10);
    for (size_t i = 0; i < 10; i++)
        CHECK(exact[i].id == approx[i].id);
    REQUIRE(vectors_remove(v, 0) == 0);
    CHECK(!vectors_prefilters(v, 10));
    REQUIRE(vectors_search(v, vec, 10, VECTORS_I8, 1, approx) == 10);
    vectors_destroy(&v);
}

TEST(search_edges) {
    size_t dim = 16;
    vectors_t *v = vectors_new(dim);
    float q[16], x[16];
    REQUIRE(v);
    rng_unit_vector(&rng, q, dim);
    vectors_hit_t hits[8];
    CHECK_INT(vectors_search(v, q, 5, VECTORS_F32, 1, hits), ==, 0);
    CHECK_INT(vectors_search(v, q, 5, VECTORS_I8, 1, hits), ==, 0);
    for (uint64_t i = 0; i < 5; i++) {
        rng_unit_vector(&rng, x, dim);
        REQUIRE(vectors_add(v, i, x) == 0);
    }
    CHECK_INT(vectors_search(v, q, 0, VECTORS_F32, 1, hits), ==, 0);
    CHECK_INT(vectors_search(v, q, 8, VECTORS_F32, 1, hits), ==, 5);
    CHECK_INT(vectors_search(v, q, 8, VECTORS_I8, 99, hits), ==, 5);
    CHECK_INT(vectors_search(v, q, 3, (vectors_mode_t)7, 1, hits), ==, -EINVAL);
    CHECK_INT(vectors_search(v, NULL, 3, VECTORS_F32, 1, hits), ==, -EINVAL);
    CHECK_INT(vectors_search(NULL, q, 3, VECTORS_F32, 1, hits), ==, -EINVAL);
    q[4] = NAN;
    CHECK_INT(vectors_search(v, q, 3, VECTORS_F32, 1, hits), ==, -EINVAL);
    CHECK_INT(vectors_search(v, q, 3, VECTORS_I8, 1, hits), ==, -EINVAL);
    vectors_destroy(&v);
}

/* 100 rounds of deleting and re-adding (part of the store, then all of it)
 * must leave memory exactly where it was: no tombstones, no slack. */
TEST(delete_and_re_add_does_not_grow_memory) {
    size_t dim = 128, n = 1000;
    vectors_t *v = vectors_new(dim);
    REQUIRE(v);
    size_t empty = vectors_bytes(v);
    float x[128];
    for (uint64_t i = 0; i < n; i++) {
        rng_unit_vector(&rng, x, dim);
        REQUIRE(vectors_add(v, i, x) == 0);
    }
    size_t full = vectors_bytes(v);
    printf("# bytes: empty %zu, %zu vectors %zu (%.0f per vector)\n", empty, n, full,
           (double)full / (double)n);
    CHECK(full >= n * dim * 5); /* float32 + int8 copy (+ 4-bit where kept) */
    CHECK(full <= 2 * n * (dim * 5 + 8 + 4 + 2 * 16) + empty);
    size_t max_seen = full;
    for (int round = 0; round < 100; round++) {
        /* A third, scattered, or everything. */
        uint64_t step = round % 10 == 9 ? 1 : 3, start = (uint64_t)round % 3;
        for (uint64_t i = start; i < n; i += step)
            REQUIRE(vectors_remove(v, i) == 0);
        if (step == 1)
            CHECK_INT(vectors_bytes(v), ==, empty);
        for (uint64_t i = start; i < n; i += step) {
            rng_unit_vector(&rng, x, dim);
            REQUIRE(vectors_add(v, i, x) == 0);
        }
        size_t now = vectors_bytes(v);
        max_seen = now > max_seen ? now : max_seen;
        CHECK_INT(vectors_count(v), ==, n);
    }
    CHECK_INT(vectors_bytes(v), ==, full);
    CHECK_INT(max_seen, ==, full);
    /* And it gives the memory back when emptied. */
    for (uint64_t i = 0; i < n; i++)
        REQUIRE(vectors_remove(v, i) == 0);
    CHECK_INT(vectors_bytes(v), ==, empty);
    vectors_destroy(&v);
}

TEST_MAIN(TEST_CASE(new_rejects_bad_dims_and_destroy_accepts_null),
          TEST_CASE(add_get_replace_remove), TEST_CASE(random_churn_matches_a_model),
          TEST_CASE(search_finds_the_exact_top_k_by_id),
          TEST_CASE(i8_search_reranks_to_the_f32_answer),
          TEST_CASE(prefiltered_i8_search_is_the_f32_answer),
          TEST_CASE(small_stores_do_not_prefilter), TEST_CASE(search_edges),
          TEST_CASE(delete_and_re_add_does_not_grow_memory))
