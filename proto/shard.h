/*
 * Which retriever shard owns a file, and the service name a shard answers
 * to.  The seeder (writes), the gateway (queries) and the retriever (checks)
 * must agree, so this is the one place both are spelled.
 *
 * A file's shard is a stable hash of its collection-relative path, modulo
 * the number of shards.  FNV-1a 64: stable across builds, machines and
 * versions.
 */
#ifndef LCA_SHARD_H
#define LCA_SHARD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Room for any shard's service name, "retrieve.65535" and its NUL. */
#define SHARD_SERVICE_MAX 32

static inline int shard_of(const char *path, size_t len, int shards) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)path[i]) * 1099511628211ull;
    return shards > 0 ? (int)(h % (uint64_t)shards) : 0;
}

/* The broker service of shard `shard`: "retrieve.<shard>", written into
 * out (SHARD_SERVICE_MAX bytes) and returned, so it can be an argument. */
static inline const char *shard_service(int shard, char out[SHARD_SERVICE_MAX]) {
    snprintf(out, SHARD_SERVICE_MAX, "retrieve.%d", shard);
    return out;
}

/* The shard a service name stands for: N for exactly "retrieve.N" (N a
 * decimal number without sign or leading zeros, below 65536), else -1. */
static inline int shard_of_service(const char *service) {
    static const char prefix[] = "retrieve.";
    if (!service || strncmp(service, prefix, sizeof prefix - 1) != 0)
        return -1;
    const char *p = service + sizeof prefix - 1;
    if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] != '\0'))
        return -1;
    long n = 0;
    for (; *p >= '0' && *p <= '9' && n < 65536; p++)
        n = n * 10 + (*p - '0');
    return *p == '\0' && n < 65536 ? (int)n : -1;
}

#endif
