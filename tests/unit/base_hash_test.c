/*
 * Tests of proto/base/hash: hash_mix64 keeps its values (stored placements
 * and embeddings depend on them), is one-to-one on a range of inputs, and
 * spreads a one-bit change of the input over about half of the output.
 */
#include "proto/base/hash.h"
#include "tests/test.h"

TEST(values_never_change) {
    CHECK(hash_mix64(0) == 0);
    CHECK(hash_mix64(1) == 0x5692161d100b05e5ull);
    CHECK(hash_mix64(2) == 0xdbd238973a2b148aull);
    CHECK(hash_mix64(~0ull) == 0xb4d055fcf2cbbd7bull);
}

static int compare(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

TEST(distinct_inputs_give_distinct_outputs) {
    enum { N = 4096 };
    static uint64_t out[N];
    for (uint64_t i = 0; i < N; i++)
        out[i] = hash_mix64(i);
    qsort(out, N, sizeof out[0], compare);
    int repeats = 0;
    for (int i = 1; i < N; i++)
        repeats += out[i] == out[i - 1];
    CHECK_INT(repeats, ==, 0);
}

TEST(one_bit_flips_about_half_the_output) {
    /* Over many inputs and every input bit, the mean number of output bits
     * that change is close to 32, and the lowest bit changes about half the
     * time (the bit a modulo 2 looks at). */
    long flipped = 0, low = 0, trials = 0;
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int n = 0; n < 256; n++, x = x * 6364136223846793005ull + 1442695040888963407ull)
        for (int bit = 0; bit < 64; bit++, trials++) {
            uint64_t d = hash_mix64(x) ^ hash_mix64(x ^ (1ull << bit));
            flipped += __builtin_popcountll(d);
            low += (long)(d & 1);
        }
    double mean = (double)flipped / trials, low_rate = (double)low / trials;
    CHECK(mean > 31 && mean < 33);
    CHECK(low_rate > 0.45 && low_rate < 0.55);
}

TEST_MAIN(TEST_CASE(values_never_change), TEST_CASE(distinct_inputs_give_distinct_outputs),
          TEST_CASE(one_bit_flips_about_half_the_output))
