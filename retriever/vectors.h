/*
 * vectors: the in-memory vector store a shard keeps per collection.
 *
 * Every vector is a row in one contiguous, 64-byte aligned float32 array,
 * mirrored by an int8 copy with one scale per row (see scan.h), and, where
 * the CPU has 4-bit kernels (x86-64 with AVX2 or AVX-512), by a 4-bit copy
 * too; each is tagged with a 64-bit id chosen by the caller (the chunk id).
 * Searching scans all rows with retriever/scan.
 *
 * Invariants:
 *   - rows [0, count) are live, with no holes: removing a row moves the last
 *     row into its place, so memory stays dense and scans read nothing dead;
 *   - each id appears at most once; the id -> row map has no tombstones
 *     (backward-shift deletion), so delete-and-re-add leaves no garbage;
 *   - capacity grows geometrically (x2) and halves once the store is a
 *     quarter full, so memory is proportional to count, never to history.
 *
 * Threads: searches may run concurrently with each other; vectors_add and
 * vectors_remove need exclusive access (the caller holds the lock).
 */
#ifndef LCA_RETRIEVER_VECTORS_H
#define LCA_RETRIEVER_VECTORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct vectors vectors_t;

typedef enum {
    VECTORS_F32, /* exact: scan the float32 rows */
    VECTORS_I8,  /* scan the int8 rows for VECTORS_RERANK * k candidates,
                    then score those exactly from the float32 rows; a large
                    store takes the int8 candidates from a 4-bit pool */
} vectors_mode_t;

/* Candidates per wanted hit that an int8 search re-scores. */
#define VECTORS_RERANK 4

/* The 4-bit prefilter of an int8 search.  A store of at least
 * VECTORS_PREFILTER_MIN_ROWS rows (and 8 times the pool), with 4-bit
 * kernels, scans its 4-bit copy first, half the bytes of the int8 one, for
 * a pool of max(VECTORS_PREFILTER_PER_HIT * k, VECTORS_PREFILTER_MIN_POOL)
 * rows; the int8 kernel re-scores only those, and the best VECTORS_RERANK *
 * k of them go on to the float32 re-scoring as before.  So the int8
 * candidates are the int8 top of the 4-bit pool instead of the int8 top of
 * the store: the same rows unless a row of the int8 top scores below the
 * pool in 4 bits, which the unit tests do not see happen on embedding-like
 * data (the pool is twice the int8 candidates, and at least 512).  Smaller
 * stores gain little (their scan is short) and keep the int8 scan alone. */
#define VECTORS_PREFILTER_MIN_ROWS 16384
#define VECTORS_PREFILTER_PER_HIT 8
#define VECTORS_PREFILTER_MIN_POOL 512

typedef struct {
    uint64_t id; /* the caller's id of the row */
    float score; /* dot product with the query (exact float32 in both modes) */
} vectors_hit_t;

/* A new, empty store for vectors of `dim` floats.  Returns NULL when dim is
 * not a multiple of 16 in [16, SCAN_DIM_MAX] or memory is short. */
vectors_t *vectors_new(size_t dim);

/* Frees the store and sets *self_p to NULL.  Accepts NULL and *self_p NULL. */
void vectors_destroy(vectors_t **self_p);

/* Stores `vec` (dim floats, copied) under `id`; if `id` is present its
 * vector is replaced.  Returns 0, -EINVAL when a value is not finite,
 * -ENOSPC at UINT32_MAX - 1 rows, or -ENOMEM (the store is then unchanged). */
int vectors_add(vectors_t *self, uint64_t id, const float *vec);

/* Removes `id`, moving the last row into its place.  Returns 0, or -ENOENT
 * when `id` is not stored. */
int vectors_remove(vectors_t *self, uint64_t id);

/* The stored vector of `id` (dim floats, borrowed until the next add or
 * remove), or NULL when `id` is not stored. */
const float *vectors_get(const vectors_t *self, uint64_t id);

/* The best k vectors by dot product with `query` (dim finite floats), best
 * first; ties in row order.  Writes min(k, count) hits and returns how many,
 * or a negative errno from the scan (-EINVAL for a
 * non-finite query or an unknown mode, -ENOMEM, -EAGAIN).  `threads` as in
 * scan_topk_f32. */
long vectors_search(const vectors_t *self, const float *query, size_t k, vectors_mode_t mode,
                    int threads, vectors_hit_t *out);

/* True when an int8 search for k hits would run the 4-bit prefilter (for
 * the tests and benchmarks). */
bool vectors_prefilters(const vectors_t *self, size_t k);

/* Number of vectors stored. */
size_t vectors_count(const vectors_t *self);

/* The dimension given to vectors_new. */
size_t vectors_dim(const vectors_t *self);

/* Bytes of memory the store holds (rows, int8 and 4-bit copies, scales,
 * ids, map), counted by capacity, not by use. */
size_t vectors_bytes(const vectors_t *self);

#endif
