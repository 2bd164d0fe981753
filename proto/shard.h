/*
 * Which retriever shard owns a file, and the service name a shard answers
 * to.  The seeder (writes), the gateway (queries) and the retriever (checks)
 * must agree, so this is the one place both are spelled.
 *
 * A file's shard is a stable hash of its collection-relative path, modulo
 * the number of shards; a "placement" names the hash.  FNV-1a 64 alone
 * (placement 1) mixes its low bits badly: every step multiplies by an odd
 * prime, so the hash modulo 2^k depends only on the low k bits of each
 * byte (modulo 2 it is the parity of the path's odd bytes).  Placement 2
 * runs FNV-1a through a 64-bit mixer (proto/base/hash.h) first, so every
 * bit of the path reaches the low bits.  Both are stable across builds,
 * machines and versions.
 *
 * Each collection records the placement its files were put with (the
 * retriever's collection.ensure, proto/ops.h): new collections get
 * SHARD_PLACEMENT; those indexed before placements were recorded have
 * placement 1, and the seeder indexes them again from scratch.
 */
#ifndef LCA_SHARD_H
#define LCA_SHARD_H

#include "proto/base/hash.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define SHARD_PLACEMENT_FNV1A 1               /* FNV-1a 64 modulo N */
#define SHARD_PLACEMENT_MIXED 2               /* FNV-1a 64, finalized, modulo N */
#define SHARD_PLACEMENT SHARD_PLACEMENT_MIXED /* what new collections get */

/* The most shards an index may have: the one bound every program checks
 * (--shards and LCA_SHARDS, the retriever's --shard I/N, collection.ensure,
 * the shard services a gateway asks and the broker has room for).  Each
 * shard is a process and every retrieval asks them all, so past a few
 * dozen more shards make a query slower, not faster. */
#define SHARD_MAX 256
#define SHARD_TEXT_(n) #n
#define SHARD_TEXT(n) SHARD_TEXT_(n)
#define SHARD_MAX_TEXT SHARD_TEXT(SHARD_MAX) /* "256", for text made at compile time */

/* Room for any shard's service name, "retrieve.65535" and its NUL. */
#define SHARD_SERVICE_MAX 32

/* FNV-1a 64, from the offset basis lca has always used (1469598103934665603,
 * a digit short of the published one: mixing is the same, and placement 1
 * must stay what it was). */
static inline uint64_t shard_fnv1a(const char *path, size_t len) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)path[i]) * 1099511628211ull;
    return h;
}

/* The shard of path[0..len) among `shards` under a placement (1 or 2; any
 * other value is taken as SHARD_PLACEMENT). */
static inline int shard_of_placement(int placement, const char *path, size_t len, int shards) {
    uint64_t h = shard_fnv1a(path, len);
    if (placement != SHARD_PLACEMENT_FNV1A)
        h = hash_mix64(h);
    return shards > 0 ? (int)(h % (uint64_t)shards) : 0;
}

/* The shard of path[0..len) under SHARD_PLACEMENT: where a file goes now. */
static inline int shard_of(const char *path, size_t len, int shards) {
    return shard_of_placement(SHARD_PLACEMENT, path, len, shards);
}

/* The broker service of shard `shard`: "retrieve.<shard>", written into
 * out (SHARD_SERVICE_MAX bytes) and returned, so it can be an argument. */
static inline const char *shard_service(int shard, char out[SHARD_SERVICE_MAX]) {
    snprintf(out, SHARD_SERVICE_MAX, "retrieve.%d", shard);
    return out;
}

/* The shard a service name stands for: N for exactly "retrieve.N" (N a
 * decimal number without sign or leading zeros, below SHARD_MAX), else -1. */
static inline int shard_of_service(const char *service) {
    static const char prefix[] = "retrieve.";
    size_t skip = strlen(prefix);
    if (!service || strncmp(service, prefix, skip) != 0)
        return -1;
    const char *p = service + skip;
    if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] != '\0'))
        return -1;
    long n = 0;
    for (; *p >= '0' && *p <= '9' && n < SHARD_MAX; p++)
        n = n * 10 + (*p - '0');
    return *p == '\0' && n < SHARD_MAX ? (int)n : -1;
}

#endif
