/*
 * hash: a 64-bit mixing function for hashes that must spread their low
 * bits (a hash taken modulo a small number: shards, feature buckets).
 *
 * splitmix64's finaliser: a bijection on 64-bit words in which every input
 * bit flips about half of the output bits.  Its values are part of what
 * lca stores (shard placements, the built-in embedding), so they never
 * change.
 */
#ifndef LCA_BASE_HASH_H
#define LCA_BASE_HASH_H

#include <stdint.h>

static inline uint64_t hash_mix64(uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

#endif
