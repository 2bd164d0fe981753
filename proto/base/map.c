/*
 * Byte-key hash map (see map.h).  Invariant: the table is at most 3/4 full and
 * every entry sits in the probe run that starts at its hash's home slot with
 * no empty slot in between; deletion shifts later entries of the run back to
 * keep that true.
 */
#include "proto/base/map.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint64_t hash; /* 0 marks an empty slot */
    void *key;
    size_t key_len;
    void *value;
} slot_t;

struct map {
    slot_t *slots;
    size_t cap; /* power of two */
    size_t size;
};

static uint64_t hash_bytes(const void *key, size_t len) {
    const unsigned char *p = key;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    h ^= h >> 29;
    return h ? h : 1;
}

map_t *map_new(void) {
    map_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->cap = 16;
    self->slots = calloc(self->cap, sizeof *self->slots);
    if (!self->slots) {
        free(self);
        return NULL;
    }
    return self;
}

void map_destroy(map_t **self_p) {
    map_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->cap; i++)
        free(self->slots[i].key);
    free(self->slots);
    free(self);
    *self_p = NULL;
}

static size_t find(const map_t *self, uint64_t h, const void *key, size_t len) {
    size_t mask = self->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        const slot_t *s = &self->slots[i];
        if (s->hash == 0 || (s->hash == h && s->key_len == len && memcmp(s->key, key, len) == 0))
            return i;
    }
}

void *map_get(const map_t *self, const void *key, size_t key_len) {
    uint64_t h = hash_bytes(key, key_len);
    const slot_t *s = &self->slots[find(self, h, key, key_len)];
    return s->hash ? s->value : NULL;
}

static int grow(map_t *self) {
    size_t cap = self->cap * 2;
    slot_t *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -ENOMEM;
    for (size_t i = 0; i < self->cap; i++) {
        slot_t *s = &self->slots[i];
        if (!s->hash)
            continue;
        size_t j = s->hash & (cap - 1);
        while (slots[j].hash)
            j = (j + 1) & (cap - 1);
        slots[j] = *s;
    }
    free(self->slots);
    self->slots = slots;
    self->cap = cap;
    return 0;
}

int map_put(map_t *self, const void *key, size_t key_len, void *value) {
    if ((self->size + 1) * 4 > self->cap * 3 && grow(self) != 0)
        return -ENOMEM;
    uint64_t h = hash_bytes(key, key_len);
    slot_t *s = &self->slots[find(self, h, key, key_len)];
    if (s->hash) {
        s->value = value;
        return 0;
    }
    void *copy = malloc(key_len ? key_len : 1);
    if (!copy)
        return -ENOMEM;
    memcpy(copy, key, key_len);
    *s = (slot_t){h, copy, key_len, value};
    self->size++;
    return 0; // cppcheck-suppress memleak ; the slot owns copy now
}

void *map_remove(map_t *self, const void *key, size_t key_len) {
    uint64_t h = hash_bytes(key, key_len);
    size_t mask = self->cap - 1, i = find(self, h, key, key_len);
    if (!self->slots[i].hash)
        return NULL;
    void *value = self->slots[i].value;
    free(self->slots[i].key);
    self->size--;
    /* Backward shift: pull later run members into the hole when their home
     * slot is not between the hole and their current place. */
    for (size_t j = (i + 1) & mask;; j = (j + 1) & mask) {
        slot_t *s = &self->slots[j];
        if (!s->hash)
            break;
        size_t home = s->hash & mask;
        int stays = (i <= j) ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            self->slots[i] = *s;
            i = j;
        }
    }
    self->slots[i] = (slot_t){0};
    return value;
}

size_t map_size(const map_t *self) {
    return self->size;
}

void map_each(const map_t *self, void (*fn)(const void *, size_t, void *, void *), void *arg) {
    for (size_t i = 0; i < self->cap; i++)
        if (self->slots[i].hash)
            fn(self->slots[i].key, self->slots[i].key_len, self->slots[i].value, arg);
}
