/*
 * Which retriever shard owns a file: a stable hash of the collection-relative
 * path, modulo the number of shards.  The seeder (writes), the gateway
 * (queries) and the retriever (checks) must agree, so this is the one place
 * it is computed.  FNV-1a 64: stable across builds, machines and versions.
 */
#ifndef LCA_SHARD_H
#define LCA_SHARD_H

#include <stddef.h>
#include <stdint.h>

static inline int shard_of(const char *path, size_t len, int shards) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)path[i]) * 1099511628211ull;
    return shards > 0 ? (int)(h % (uint64_t)shards) : 0;
}

#endif
