/* The byte-key hash map, against a plain array as the model. */
#include "proto/base/map.h"
#include "tests/test.h"

TEST(put_get_remove_against_a_model) {
    map_t *m = map_new();
    enum { N = 5000 };
    static int present[N];
    unsigned seed = 7;
    for (int round = 0; round < 100000; round++) {
        uint64_t k = (uint64_t)(rand_r(&seed) % N);
        int op = rand_r(&seed) % 3;
        if (op == 0) {
            CHECK_INT(map_put_u64(m, k, (void *)(uintptr_t)(k + 1)), ==, 0);
            present[k] = 1;
        } else if (op == 1) {
            void *v = map_remove_u64(m, k);
            CHECK(v == (present[k] ? (void *)(uintptr_t)(k + 1) : NULL));
            present[k] = 0;
        } else {
            void *v = map_get_u64(m, k);
            CHECK(v == (present[k] ? (void *)(uintptr_t)(k + 1) : NULL));
        }
    }
    size_t count = 0;
    for (int i = 0; i < N; i++)
        count += (size_t)present[i];
    CHECK_INT(map_size(m), ==, count);
    map_destroy(&m);
    CHECK(m == NULL);
    map_destroy(&m); /* accepts NULL */
}

TEST(byte_keys_of_any_length) {
    map_t *m = map_new();
    CHECK_INT(map_put(m, "", 0, (void *)1), ==, 0);
    CHECK_INT(map_put(m, "a\0b", 3, (void *)2), ==, 0);
    CHECK_INT(map_put(m, "a\0c", 3, (void *)3), ==, 0);
    CHECK(map_get(m, "", 0) == (void *)1);
    CHECK(map_get(m, "a\0b", 3) == (void *)2);
    CHECK(map_get(m, "a\0c", 3) == (void *)3);
    CHECK(map_get(m, "a", 1) == NULL);
    map_destroy(&m);
}

TEST_MAIN(TEST_CASE(put_get_remove_against_a_model), TEST_CASE(byte_keys_of_any_length))
