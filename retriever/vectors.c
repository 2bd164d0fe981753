/*
 * vectors: dense row storage plus an id -> row map.
 *
 * Layout.  Parallel arrays indexed by row, each with room for `cap` rows:
 * the float32 rows (cap * dim floats), their int8 copies (cap * dim bytes),
 * the int8 scales and the ids; and, when the CPU has 4-bit kernels, the
 * 4-bit copies (cap * SCAN_I4_ROW_BYTES(dim) bytes) and their scales.  The
 * 4-bit copy is kept from the first row on, not made when the store crosses
 * VECTORS_PREFILTER_MIN_ROWS, so that no add ever pays for quantising the
 * whole store; it costs a tenth more memory (0.5 of 5 bytes per value).
 * The row arrays start on a 64-byte boundary, as the scan requires (and on
 * a 2 MiB one, with a huge-page hint, when they are large).  Because dim is
 * a multiple of 16, every float32 row is itself 64-byte aligned, which the
 * int8 re-scoring relies on.
 *
 * The map is open addressing with linear probing over a power-of-two table
 * of (id, row + 1) slots, 0 meaning empty.  Deletion shifts later entries of
 * the probe run back instead of leaving tombstones, so a table that has seen
 * any number of removals is the same as one built from the live ids alone.
 * Load stays between 1/8 and 1/2 (except at the minimum size).
 *
 * Resizing allocates the new arrays first and only then frees the old ones,
 * so a failed allocation leaves the store as it was.
 */
#include "retriever/vectors.h"

#include "retriever/scan.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define MIN_ROWS 16
#define MIN_SLOTS 32
#define MAX_ROWS ((size_t)UINT32_MAX - 1)
#define HUGE_PAGE ((size_t)2 << 20)

typedef struct {
    uint64_t id;
    uint32_t row_plus_one; /* 0: empty slot */
} slot_t;

struct vectors {
    size_t dim;     /* multiple of 16, <= SCAN_DIM_MAX */
    size_t count;   /* live rows: [0, count) */
    size_t cap;     /* rows allocated in each array, >= MIN_ROWS, >= count */
    float *rows;    /* cap * dim, aligned */
    int8_t *rows8;  /* cap * dim, aligned; row r quantises rows[r] */
    float *scales;  /* cap; scale of rows8 row r */
    uint8_t *rows4; /* cap * SCAN_I4_ROW_BYTES(dim), aligned; row r quantises
                       rows[r] to 4 bits; NULL when !prefilter */
    float *scales4; /* cap; scale of rows4 row r; NULL when !prefilter */
    uint64_t *ids;  /* cap; id of row r */
    slot_t *slots;  /* nslots; exactly count used */
    size_t nslots;  /* power of two >= MIN_SLOTS */
    scan_isa_t isa; /* kernel used by searches */
    bool prefilter; /* isa has 4-bit kernels: rows4 is kept */
};

/* ---- memory ---- */

static size_t array_bytes(size_t bytes) {
    size_t align = bytes >= 2 * HUGE_PAGE ? HUGE_PAGE : SCAN_ALIGN;
    return (bytes + align - 1) / align * align;
}

static void *array_alloc(size_t bytes) {
    size_t rounded = array_bytes(bytes);
    void *p = aligned_alloc(rounded >= 2 * HUGE_PAGE ? HUGE_PAGE : SCAN_ALIGN, rounded);
#if defined(MADV_HUGEPAGE)
    if (p && rounded >= 2 * HUGE_PAGE)
        madvise(p, rounded, MADV_HUGEPAGE);
#endif
    return p;
}

/* Moves the rows to arrays of `cap` rows; 0 or -ENOMEM (nothing changed). */
static int rows_resize(vectors_t *self, size_t cap) {
    size_t bytes4 = SCAN_I4_ROW_BYTES(self->dim);
    float *rows = array_alloc(cap * self->dim * sizeof *rows);
    int8_t *rows8 = array_alloc(cap * self->dim);
    float *scales = malloc(cap * sizeof *scales);
    uint64_t *ids = malloc(cap * sizeof *ids);
    uint8_t *rows4 = self->prefilter ? array_alloc(cap * bytes4) : NULL;
    float *scales4 = self->prefilter ? malloc(cap * sizeof *scales4) : NULL;
    if (!rows || !rows8 || !scales || !ids || (self->prefilter && (!rows4 || !scales4))) {
        free(rows), free(rows8), free(scales), free(ids), free(rows4), free(scales4);
        return -ENOMEM;
    }
    if (self->count) {
        memcpy(rows, self->rows, self->count * self->dim * sizeof *rows);
        memcpy(rows8, self->rows8, self->count * self->dim);
        memcpy(scales, self->scales, self->count * sizeof *scales);
        memcpy(ids, self->ids, self->count * sizeof *ids);
        if (self->prefilter) {
            memcpy(rows4, self->rows4, self->count * bytes4);
            memcpy(scales4, self->scales4, self->count * sizeof *scales4);
        }
    }
    free(self->rows), free(self->rows8), free(self->scales), free(self->ids);
    free(self->rows4), free(self->scales4);
    self->rows = rows, self->rows8 = rows8, self->scales = scales, self->ids = ids;
    self->rows4 = rows4, self->scales4 = scales4;
    self->cap = cap;
    return 0;
}

/* ---- the id -> row map ---- */

static size_t slot_home(const vectors_t *self, uint64_t id) {
    /* splitmix64 finaliser: chunk ids may be sequential. */
    id ^= id >> 30;
    id *= 0xbf58476d1ce4e5b9ull;
    id ^= id >> 27;
    id *= 0x94d049bb133111ebull;
    id ^= id >> 31;
    return (size_t)id & (self->nslots - 1);
}

/* The slot holding `id`, or the empty slot where it would go. */
static size_t slot_find(const vectors_t *self, uint64_t id) {
    size_t i = slot_home(self, id);
    while (self->slots[i].row_plus_one && self->slots[i].id != id)
        i = (i + 1) & (self->nslots - 1);
    return i;
}

/* Rebuilds the map with `nslots` slots; 0 or -ENOMEM (nothing changed). */
static int slots_resize(vectors_t *self, size_t nslots) {
    slot_t *slots = calloc(nslots, sizeof *slots);
    if (!slots)
        return -ENOMEM;
    free(self->slots);
    self->slots = slots;
    self->nslots = nslots;
    for (size_t r = 0; r < self->count; r++) {
        size_t i = slot_find(self, self->ids[r]);
        self->slots[i] = (slot_t){self->ids[r], (uint32_t)(r + 1)};
    }
    return 0;
}

/* Empties slot i and shifts the rest of its probe run back over it. */
static void slot_delete(vectors_t *self, size_t i) {
    size_t mask = self->nslots - 1, j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (!self->slots[j].row_plus_one)
            break;
        size_t home = slot_home(self, self->slots[j].id);
        /* The entry at j may move to i unless its home lies in (i, j]. */
        bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            self->slots[i] = self->slots[j];
            i = j;
        }
    }
    self->slots[i].row_plus_one = 0;
}

/* ---- public ---- */

vectors_t *vectors_new(size_t dim) {
    if (dim == 0 || dim % 16 != 0 || dim > SCAN_DIM_MAX)
        return NULL;
    vectors_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->dim = dim;
    self->isa = scan_isa_best();
    /* The scalar 4-bit kernel is no faster than the int8 one, and NEON has
     * none: only where a wide 4-bit kernel runs does the prefilter pay. */
    self->prefilter = self->isa == SCAN_ISA_AVX2 || self->isa == SCAN_ISA_AVX512 ||
                      self->isa == SCAN_ISA_AVX512_VNNI;
    if (rows_resize(self, MIN_ROWS) != 0 || slots_resize(self, MIN_SLOTS) != 0)
        vectors_destroy(&self);
    return self;
}

void vectors_destroy(vectors_t **self_p) {
    if (!self_p || !*self_p)
        return;
    vectors_t *self = *self_p;
    free(self->rows), free(self->rows8), free(self->scales), free(self->ids), free(self->slots);
    free(self->rows4), free(self->scales4);
    free(self);
    *self_p = NULL;
}

int vectors_add(vectors_t *self, uint64_t id, const float *vec) {
    if (!self || !vec)
        return -EINVAL;
    size_t dim = self->dim, i = slot_find(self, id);
    size_t row = self->slots[i].row_plus_one ? self->slots[i].row_plus_one - 1 : self->count;
    /* Quantise first: it also rejects non-finite values before anything changes. */
    _Alignas(SCAN_ALIGN) int8_t quantized[SCAN_DIM_MAX];
    _Alignas(SCAN_ALIGN) uint8_t quantized4[SCAN_I4_ROW_BYTES(SCAN_DIM_MAX)];
    float scale, scale4 = 0.0f;
    if (scan_quantize_row(vec, dim, quantized, &scale) != 0 ||
        (self->prefilter && scan_quantize_row_i4(vec, dim, quantized4, &scale4) != 0))
        return -EINVAL;
    if (row == self->count) {
        if (self->count == MAX_ROWS)
            return -ENOSPC;
        if (self->count == self->cap && rows_resize(self, self->cap * 2) != 0)
            return -ENOMEM;
        if (2 * (self->count + 1) > self->nslots) {
            if (slots_resize(self, self->nslots * 2) != 0)
                return -ENOMEM;
            i = slot_find(self, id);
        }
        self->slots[i] = (slot_t){id, (uint32_t)(row + 1)};
        self->ids[row] = id;
        self->count++;
    }
    memcpy(self->rows + row * dim, vec, dim * sizeof *vec);
    memcpy(self->rows8 + row * dim, quantized, dim);
    self->scales[row] = scale;
    if (self->prefilter) {
        memcpy(self->rows4 + row * SCAN_I4_ROW_BYTES(dim), quantized4, SCAN_I4_ROW_BYTES(dim));
        self->scales4[row] = scale4;
    }
    return 0;
}

int vectors_remove(vectors_t *self, uint64_t id) {
    if (!self)
        return -EINVAL;
    size_t i = slot_find(self, id);
    if (!self->slots[i].row_plus_one)
        return -ENOENT;
    size_t row = self->slots[i].row_plus_one - 1, last = self->count - 1, dim = self->dim;
    slot_delete(self, i);
    if (row != last) {
        /* Fill the hole with the last row and repoint its id. */
        memcpy(self->rows + row * dim, self->rows + last * dim, dim * sizeof *self->rows);
        memcpy(self->rows8 + row * dim, self->rows8 + last * dim, dim);
        self->scales[row] = self->scales[last];
        if (self->prefilter) {
            size_t bytes4 = SCAN_I4_ROW_BYTES(dim);
            memcpy(self->rows4 + row * bytes4, self->rows4 + last * bytes4, bytes4);
            self->scales4[row] = self->scales4[last];
        }
        self->ids[row] = self->ids[last];
        self->slots[slot_find(self, self->ids[row])].row_plus_one = (uint32_t)(row + 1);
    }
    self->count--;
    /* Shrink with hysteresis; staying larger is harmless if memory is short. */
    if (self->cap > MIN_ROWS && self->count <= self->cap / 4)
        rows_resize(self, self->cap / 2);
    if (self->nslots > MIN_SLOTS && 8 * self->count < self->nslots)
        slots_resize(self, self->nslots / 2);
    return 0;
}

const float *vectors_get(const vectors_t *self, uint64_t id) {
    if (!self)
        return NULL;
    const slot_t *slot = &self->slots[slot_find(self, id)];
    return slot->row_plus_one ? self->rows + (size_t)(slot->row_plus_one - 1) * self->dim : NULL;
}

/* The pool the 4-bit prefilter keeps for k hits, or 0 when an int8 search
 * for k scans the int8 rows alone (see vectors.h). */
static size_t prefilter_pool(const vectors_t *self, size_t k) {
    if (!self->prefilter || self->count < VECTORS_PREFILTER_MIN_ROWS)
        return 0;
    size_t pool = k > VECTORS_PREFILTER_MIN_POOL / VECTORS_PREFILTER_PER_HIT
                      ? k * VECTORS_PREFILTER_PER_HIT
                      : VECTORS_PREFILTER_MIN_POOL;
    return pool <= self->count / 8 ? pool : 0;
}

/* The int8 candidates of an int8 search: the best `want` rows by int8 score
 * among the 4-bit scan's `pool` best, scores and order as scan_topk_i8
 * would give them.  Returns how many, or a negative errno. */
static long prefilter_i8(const vectors_t *self, const float *query, size_t pool, size_t want,
                         int threads, scan_hit_t *candidates, uint32_t *which, float *scores) {
    long n = scan_topk_i4(self->rows4, self->scales4, self->count, self->dim, query, pool,
                          candidates, threads, self->isa);
    if (n <= 0)
        return n;
    for (long c = 0; c < n; c++)
        which[c] = candidates[c].row;
    int rc = scan_score_rows_i8(self->rows8, self->scales, self->dim, which, (size_t)n, query,
                                scores, self->isa);
    if (rc < 0)
        return rc;
    long kept = 0;
    for (long c = 0; c < n; c++) /* finite rows score no NaN; were one to, it goes */
        if (!isnan(scores[c]))
            candidates[kept++] = (scan_hit_t){which[c], scores[c]};
    return (long)scan_hits_best(candidates, (size_t)kept, want);
}

/* int8 candidates, re-scored with the float32 kernel: the scores (and so
 * the order) are exactly those an f32 search gives the same rows. */
static long search_i8(const vectors_t *self, const float *query, size_t k, int threads,
                      scan_hit_t *hits) {
    size_t want = k > self->count / VECTORS_RERANK ? self->count : k * VECTORS_RERANK;
    size_t pool = prefilter_pool(self, k), slots = pool > want ? pool : want;
    scan_hit_t *candidates = malloc(slots * sizeof *candidates);
    uint32_t *which = malloc(slots * sizeof *which);
    float *exact = malloc(slots * sizeof *exact);
    long n = -ENOMEM;
    if (!candidates || !which || !exact)
        goto done;
    n = pool ? prefilter_i8(self, query, pool, want, threads, candidates, which, exact)
             : scan_topk_i8(self->rows8, self->scales, self->count, self->dim, query, want,
                            candidates, threads, self->isa);
    if (n <= 0)
        goto done;
    for (long c = 0; c < n; c++)
        which[c] = candidates[c].row;
    int rc = scan_score_rows_f32(self->rows, self->dim, which, (size_t)n, query, exact, self->isa);
    if (rc < 0) {
        n = rc;
        goto done;
    }
    for (long c = 0; c < n; c++) /* a NaN (finite rows cannot overflow to it) sorts last */
        candidates[c].score = isnan(exact[c]) ? -INFINITY : exact[c];
    n = (long)scan_hits_best(candidates, (size_t)n, k);
    memcpy(hits, candidates, (size_t)n * sizeof *hits);
done:
    free(candidates), free(which), free(exact);
    return n;
}

bool vectors_prefilters(const vectors_t *self, size_t k) {
    return self && k > 0 && prefilter_pool(self, k < self->count ? k : self->count) > 0;
}

long vectors_search(const vectors_t *self, const float *query, size_t k, vectors_mode_t mode,
                    int threads, vectors_hit_t *out) {
    if (!self || (mode != VECTORS_F32 && mode != VECTORS_I8))
        return -EINVAL;
    if (k > self->count)
        k = self->count;
    if (k == 0)
        return 0;
    if (!query || !out)
        return -EINVAL;
    scan_hit_t *hits = malloc(k * sizeof *hits);
    if (!hits)
        return -ENOMEM;
    long n = mode == VECTORS_F32 ? scan_topk_f32(self->rows, self->count, self->dim, query, k, hits,
                                                 threads, self->isa)
                                 : search_i8(self, query, k, threads, hits);
    for (long h = 0; h < n; h++)
        out[h] = (vectors_hit_t){self->ids[hits[h].row], hits[h].score};
    free(hits);
    return n;
}

size_t vectors_count(const vectors_t *self) {
    return self ? self->count : 0;
}

size_t vectors_dim(const vectors_t *self) {
    return self ? self->dim : 0;
}

size_t vectors_bytes(const vectors_t *self) {
    if (!self)
        return 0;
    size_t prefilter = self->prefilter ? array_bytes(self->cap * SCAN_I4_ROW_BYTES(self->dim)) +
                                             self->cap * sizeof *self->scales4
                                       : 0;
    return sizeof *self + array_bytes(self->cap * self->dim * sizeof(float)) +
           array_bytes(self->cap * self->dim) +
           self->cap * (sizeof *self->scales + sizeof *self->ids) +
           self->nslots * sizeof *self->slots + prefilter;
}
