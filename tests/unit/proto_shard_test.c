/*
 * Tests of proto/shard.h: both placements give the same shards on every
 * build and machine (fixed values), the mixed one spreads paths that differ
 * only in the high bits of a byte (FNV-1a alone sends them all to one
 * shard), and shard service names read back.
 */
#include "proto/shard.h"
#include "tests/test.h"

static int place(int placement, const char *path, int shards) {
    return shard_of_placement(placement, path, strlen(path), shards);
}

TEST(placements_are_stable) {
    /* lca's FNV-1a has always started from 1469598103934665603: the hash of
     * "" is that basis.  Existing indexes depend on it. */
    CHECK(shard_fnv1a("", 0) == 0x14650fb0739d0383ull);
    CHECK(hash_mix64(shard_fnv1a("src/main.c", 10)) == 0x1b5161bdc3516954ull);
    CHECK(hash_mix64(shard_fnv1a("py/shop/main.py", 15)) == 0x323ee489496c3782ull);
    CHECK(hash_mix64(0) == 0);
    static const struct {
        const char *path;
        int shards, old_way, new_way;
    } cases[] = {
        {"src/main.c", 2, 0, 0},      {"src/main.c", 4, 2, 0},      {"src/main.c", 8, 6, 4},
        {"py/shop/main.py", 2, 0, 0}, {"py/shop/main.py", 3, 2, 0}, {"py/shop/util.py", 2, 1, 0},
        {"README.md", 5, 3, 0},       {"README.md", 7, 6, 5},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK_INT(place(SHARD_PLACEMENT_FNV1A, cases[i].path, cases[i].shards), ==,
                  cases[i].old_way);
        CHECK_INT(place(SHARD_PLACEMENT_MIXED, cases[i].path, cases[i].shards), ==,
                  cases[i].new_way);
    }
    CHECK_INT(shard_of("src/main.c", 10, 8), ==, place(SHARD_PLACEMENT, "src/main.c", 8));
    CHECK_INT(SHARD_PLACEMENT, ==, SHARD_PLACEMENT_MIXED);
    CHECK_INT(shard_of("x", 1, 1), ==, 0);
    CHECK_INT(shard_of("x", 1, 0), ==, 0);
}

TEST(the_mixed_placement_uses_every_bit_of_the_path) {
    /* 'a', 'c', 'e', ... share their low bit: FNV-1a modulo 2 sees only the
     * parity of the odd bytes, so they all land on one of two shards. */
    int old_way[2] = {0}, new_way[2] = {0};
    for (char c = 'a'; c <= 'y'; c += 2) {
        char path[16];
        snprintf(path, sizeof path, "x/%c.py", c);
        old_way[place(SHARD_PLACEMENT_FNV1A, path, 2)]++;
        new_way[place(SHARD_PLACEMENT_MIXED, path, 2)]++;
    }
    CHECK(old_way[0] == 0 || old_way[1] == 0);
    CHECK(new_way[0] > 0 && new_way[1] > 0);
    /* The same modulo 4 for bytes 4 apart. */
    int old4[4] = {0}, new4[4] = {0}, old_used = 0, new_used = 0;
    for (char c = 'a'; c <= 'z'; c += 4) {
        char path[16];
        snprintf(path, sizeof path, "x/%c.py", c);
        old4[place(SHARD_PLACEMENT_FNV1A, path, 4)]++;
        new4[place(SHARD_PLACEMENT_MIXED, path, 4)]++;
    }
    for (int s = 0; s < 4; s++) {
        old_used += old4[s] > 0;
        new_used += new4[s] > 0;
    }
    CHECK_INT(old_used, ==, 1);
    CHECK_INT(new_used, ==, 4);
}

TEST(service_names_read_back) {
    char name[SHARD_SERVICE_MAX];
    CHECK_STR(shard_service(0, name), "retrieve.0");
    CHECK_STR(shard_service(65535, name), "retrieve.65535");
    for (int s = 0; s < SHARD_MAX; s += 7)
        CHECK_INT(shard_of_service(shard_service(s, name)), ==, s);
    CHECK_INT(shard_of_service(shard_service(SHARD_MAX - 1, name)), ==, SHARD_MAX - 1);
    /* No lca program serves a shard at or past SHARD_MAX. */
    CHECK_INT(shard_of_service(shard_service(SHARD_MAX, name)), ==, -1);
    static const char *const not_shards[] = {"retrieve.",   "retrieve.01",    "retrieve.-1",
                                             "retrieve.1x", "retrieve.65536", "embed",
                                             "retrieve",    "Retrieve.1",     ""};
    for (size_t i = 0; i < sizeof not_shards / sizeof not_shards[0]; i++)
        CHECK_INT(shard_of_service(not_shards[i]), ==, -1);
    CHECK_INT(shard_of_service(NULL), ==, -1);
}

TEST_MAIN(TEST_CASE(placements_are_stable),
          TEST_CASE(the_mixed_placement_uses_every_bit_of_the_path),
          TEST_CASE(service_names_read_back))
