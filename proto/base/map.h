/*
 * A hash map from byte-string keys to pointers, for the broker's tables
 * (peers by routing id, requests by id).  Open addressing with linear
 * probing and backward-shift deletion, so lookups stay short and there are no
 * tombstones to pile up under churn.  Keys are copied; values are borrowed.
 * Not thread-safe.
 */
#ifndef LCA_BASE_MAP_H
#define LCA_BASE_MAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct map map_t;

map_t *map_new(void);
void map_destroy(map_t **self_p);

/* Value for key, or NULL. */
void *map_get(const map_t *self, const void *key, size_t key_len);

/* Sets key to value (replacing any previous value).  Returns 0 or -ENOMEM. */
int map_put(map_t *self, const void *key, size_t key_len, void *value);

/* Removes key; returns its value, or NULL when absent. */
void *map_remove(map_t *self, const void *key, size_t key_len);

size_t map_size(const map_t *self);

/* Convenience for 64-bit integer keys. */
static inline void *map_get_u64(const map_t *self, uint64_t key) {
    return map_get(self, &key, sizeof key);
}
static inline int map_put_u64(map_t *self, uint64_t key, void *value) {
    return map_put(self, &key, sizeof key, value);
}
static inline void *map_remove_u64(map_t *self, uint64_t key) {
    return map_remove(self, &key, sizeof key);
}

/* Calls fn for every entry; fn must not change the map. */
void map_each(const map_t *self,
              void (*fn)(const void *key, size_t key_len, void *value, void *arg), void *arg);

#endif
