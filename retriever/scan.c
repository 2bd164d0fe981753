/*
 * scan: the driver around the SIMD kernels.
 *
 * A query is answered by splitting the rows into contiguous ranges, one per
 * thread.  Each thread runs the chosen kernel over blocks of SCAN_BLOCK rows,
 * which leaves one score per row in a small buffer on its stack, and offers
 * each score to its own pool of candidates: a row enters when it scores at
 * least the pool's floor, and when the pool is full a selection (quickselect
 * by the order below) keeps the best k and raises the floor to the worst of
 * them.  Almost every row therefore costs one comparison, and the rows that
 * do enter cost a store, not a heap's log k moves; this matters when k is
 * large, as for the 4-bit prefilter's pool of hundreds.  When all threads
 * are done their best k are merged and sorted.
 *
 * Determinism: the order is total (score descending, then row ascending).
 * After a selection the pool holds exactly the top k of the rows seen so
 * far; a later row scoring the floor exactly is worse than the kept one
 * (higher row) and is dropped by the next selection.  So each thread ends
 * with exactly the top k of its range, and the merge gives exactly the top
 * k overall, whatever the number of threads.
 *
 * This file also holds the scalar kernels, which define the results every
 * other kernel must reproduce bit for bit (see scan.h).
 */
#include "retriever/scan.h"

#include "proto/base/log.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Rows scored per kernel call: the score buffer (4 KiB) stays in L1, and
 * the kernels' prefetching (which stops at the block's end) covers most rows. */
#define SCAN_BLOCK 1024
/* Elements (rows * dim) a thread must have to be worth starting: below this
 * the cost of pthread_create is a noticeable part of the scan. */
#define SCAN_MIN_WORK_PER_THREAD (1u << 19)
#define SCAN_MAX_THREADS 64

/* ---- ISA detection ---- */

bool scan_isa_supported(scan_isa_t isa) {
    switch (isa) {
    case SCAN_ISA_SCALAR:
        return true;
#if defined(__x86_64__)
    case SCAN_ISA_AVX2:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case SCAN_ISA_AVX512:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") && scan_isa_supported(SCAN_ISA_AVX2);
    case SCAN_ISA_AVX512_VNNI:
        __builtin_cpu_init();
        return scan_isa_supported(SCAN_ISA_AVX512) && __builtin_cpu_supports("avx512vnni");
#endif
#if defined(__aarch64__)
    case SCAN_ISA_NEON:
        return true; /* Advanced SIMD is part of the arm64 baseline. */
#endif
    default:
        return false;
    }
}

scan_isa_t scan_isa_detect(void) {
    static const scan_isa_t order[] = {SCAN_ISA_AVX512_VNNI, SCAN_ISA_AVX512, SCAN_ISA_AVX2,
                                       SCAN_ISA_NEON};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        if (scan_isa_supported(order[i]))
            return order[i];
    return SCAN_ISA_SCALAR;
}

scan_isa_t scan_isa_choose(const char *setting) {
    scan_isa_t detected = scan_isa_detect();
    if (!setting || !*setting)
        return detected;
    for (int isa = 0; isa < SCAN_ISA_COUNT; isa++) {
        if (strcmp(setting, scan_isa_name((scan_isa_t)isa)) != 0)
            continue;
        if (scan_isa_supported((scan_isa_t)isa))
            return (scan_isa_t)isa;
        log_warn("LCA_SCAN_ISA=%s: this CPU or build cannot run those kernels; using %s", setting,
                 scan_isa_name(detected));
        return detected;
    }
    log_warn("LCA_SCAN_ISA=%s: unknown kernel set (scalar, avx2, avx512, avx512vnni, neon); "
             "using %s",
             setting, scan_isa_name(detected));
    return detected;
}

/* Read once: every store and every query of the process agree on it, and
 * a refused value is reported once, not per search. */
static scan_isa_t isa_chosen;
static pthread_once_t isa_chosen_once = PTHREAD_ONCE_INIT;

static void isa_choose_from_environment(void) {
    isa_chosen = scan_isa_choose(getenv("LCA_SCAN_ISA"));
}

scan_isa_t scan_isa_best(void) {
    pthread_once(&isa_chosen_once, isa_choose_from_environment);
    return isa_chosen;
}

const char *scan_isa_name(scan_isa_t isa) {
    switch (isa) {
    case SCAN_ISA_SCALAR:
        return "scalar";
    case SCAN_ISA_AVX2:
        return "avx2";
    case SCAN_ISA_AVX512:
        return "avx512";
    case SCAN_ISA_AVX512_VNNI:
        return "avx512vnni";
    case SCAN_ISA_NEON:
        return "neon";
    default:
        return "unknown";
    }
}

static scan_kernel_f32_fn kernel_f32_for(scan_isa_t isa) {
    switch (isa) {
#if defined(__x86_64__)
    case SCAN_ISA_AVX2:
        return scan_kernel_f32_avx2;
    case SCAN_ISA_AVX512:
    case SCAN_ISA_AVX512_VNNI: /* VNNI adds nothing for floats */
        return scan_kernel_f32_avx512;
#endif
#if defined(__aarch64__)
    case SCAN_ISA_NEON:
        return scan_kernel_f32_neon;
#endif
    default:
        return scan_kernel_f32_scalar;
    }
}

static scan_kernel_i8_fn kernel_i8_for(scan_isa_t isa) {
    switch (isa) {
#if defined(__x86_64__)
    case SCAN_ISA_AVX2:
        return scan_kernel_i8_avx2;
    case SCAN_ISA_AVX512:
        return scan_kernel_i8_avx512;
    case SCAN_ISA_AVX512_VNNI:
        return scan_kernel_i8_avx512_vnni;
#endif
#if defined(__aarch64__)
    case SCAN_ISA_NEON:
        return scan_kernel_i8_neon;
#endif
    default:
        return scan_kernel_i8_scalar;
    }
}

static scan_kernel_i4_fn kernel_i4_for(scan_isa_t isa) {
    switch (isa) {
#if defined(__x86_64__)
    case SCAN_ISA_AVX2:
        return scan_kernel_i4_avx2;
    case SCAN_ISA_AVX512:
        return scan_kernel_i4_avx512;
    case SCAN_ISA_AVX512_VNNI:
        return scan_kernel_i4_avx512_vnni;
#endif
    default: /* NEON has no 4-bit kernel: the prefilter is for x86 (vectors.c) */
        return scan_kernel_i4_scalar;
    }
}

/* ---- scalar kernels: the reference every other kernel must match ---- */

/* The canonical reduction of 16 partial sums (see scan.h). */
static float reduce16(const float acc[16]) {
    float t8[8], t4[4];
    for (int j = 0; j < 8; j++)
        t8[j] = acc[j] + acc[j + 8];
    for (int j = 0; j < 4; j++)
        t4[j] = t8[j] + t8[j + 4];
    float t2_0 = t4[0] + t4[2], t2_1 = t4[1] + t4[3];
    return t2_0 + t2_1;
}

void scan_kernel_f32_scalar(const float *rows, size_t n, size_t dim, const float *query,
                            float *scores) {
    for (size_t r = 0; r < n; r++) {
        const float *row = rows + r * dim;
        float acc[16] = {0};
        for (size_t i = 0; i < dim; i += 16)
            for (int j = 0; j < 16; j++)
                acc[j] = fmaf(row[i + j], query[i + j], acc[j]);
        scores[r] = reduce16(acc);
    }
}

void scan_kernel_i8_scalar(const int8_t *rows, size_t n, size_t dim, const int16_t *query,
                           const float *scales, float query_scale, float *scores) {
    for (size_t r = 0; r < n; r++) {
        const int8_t *row = rows + r * dim;
        int32_t sum = 0;
        for (size_t i = 0; i < dim; i++)
            sum += (int32_t)row[i] * (int32_t)query[i];
        scores[r] = (float)sum * scales[r] * query_scale;
    }
}

void scan_kernel_i4_scalar(const uint8_t *rows, size_t n, size_t dim, const int8_t *query,
                           int32_t query_sum, const float *scales, float query_scale,
                           float *scores) {
    size_t stride = SCAN_I4_ROW_BYTES(dim);
    for (size_t r = 0; r < n; r++) {
        const uint8_t *row = rows + r * stride;
        int32_t sum = 0;
        /* Group g's 32 bytes hold dims 64g+j (low nibble) and 64g+32+j. */
        for (size_t g = 0; g < stride; g += 32)
            for (size_t j = 0; j < 32; j++)
                sum += (int32_t)(row[g + j] & 15) * query[2 * g + j] +
                       (int32_t)(row[g + j] >> 4) * query[2 * g + 32 + j];
        scores[r] = (float)(sum - 8 * query_sum) * scales[r] * query_scale;
    }
}

/* ---- quantisation ---- */

/* max |in[i]| over a vector, or -1 when a value is not finite. */
static float max_abs(const float *in, size_t dim) {
    float max = 0.0f;
    for (size_t i = 0; i < dim; i++) {
        if (!isfinite(in[i]))
            return -1.0f;
        float a = fabsf(in[i]);
        if (a > max)
            max = a;
    }
    return max;
}

/* round(x * inverse), clamped to [-levels, levels]. */
static inline long quantize_one(float x, float inverse, long levels) {
    long q = lrintf(x * inverse);
    return q > levels ? levels : q < -levels ? -levels : q;
}

int scan_quantize_row(const float *in, size_t dim, int8_t *out, float *scale) {
    if (!in || !out || !scale || dim == 0)
        return -EINVAL;
    float max = max_abs(in, dim);
    if (max < 0.0f)
        return -EINVAL;
    if (max == 0.0f) {
        memset(out, 0, dim);
        *scale = 0.0f;
        return 0;
    }
    float inverse = 127.0f / max;
    for (size_t i = 0; i < dim; i++)
        out[i] = (int8_t)quantize_one(in[i], inverse, 127);
    *scale = max / 127.0f;
    return 0;
}

/* The nibble of y (|y| <= 7 up to rounding): round(y) + 8, within 1..15.
 * Rounding by adding and taking away 1.5 * 2^23, which leaves no bits for
 * a fraction, gives lrintf's answer (to nearest, ties to even) without a
 * call per value: the 4-bit copy is made for every row a store loads. */
static inline unsigned nibble_of(float y) {
    int v = (int)((y + 0x1.8p23f) - 0x1.8p23f);
    return (unsigned)(v > 7 ? 7 : v < -7 ? -7 : v) + 8;
}

int scan_quantize_row_i4(const float *in, size_t dim, uint8_t *out, float *scale) {
    if (!in || !out || !scale || dim == 0)
        return -EINVAL;
    float max = max_abs(in, dim);
    if (max < 0.0f)
        return -EINVAL;
    /* Padding dims (and every dim of an all-zero vector) hold 8: value 0. */
    float inverse = max > 0.0f ? 7.0f / max : 0.0f;
    size_t g = 0;
    for (; g + 64 <= dim; g += 64)
        for (size_t j = 0; j < 32; j++)
            out[g / 2 + j] = (uint8_t)(nibble_of(in[g + j] * inverse) |
                                       nibble_of(in[g + 32 + j] * inverse) << 4);
    for (size_t j = 0; g < dim && j < 32; j++) {
        unsigned low = g + j < dim ? nibble_of(in[g + j] * inverse) : 8;
        unsigned high = g + 32 + j < dim ? nibble_of(in[g + 32 + j] * inverse) : 8;
        out[g / 2 + j] = (uint8_t)(low | high << 4);
    }
    *scale = max / 7.0f;
    return 0;
}

/* The 4-bit scan's query: int8 within +-127, zero-padded to a multiple of
 * 128 (two 4-bit groups, the AVX-512 kernels' step); *sum is the sum of the
 * values, for the kernels' offset correction.  Values are checked finite. */
static void quantize_query_i8(const float *in, size_t dim, int8_t *out, int32_t *sum,
                              float *scale) {
    float max = max_abs(in, dim);
    float inverse = max > 0.0f ? 127.0f / max : 0.0f;
    int32_t total = 0;
    for (size_t i = 0; i < dim; i++) {
        out[i] = (int8_t)quantize_one(in[i], inverse, 127);
        total += out[i];
    }
    memset(out + dim, 0, (dim % 128 ? 128 - dim % 128 : 0));
    *sum = total;
    *scale = max / 127.0f;
}

/* The int8 scan's query: SCAN_QUERY_LEVELS levels, zero-padded to a
 * multiple of 32 (the kernels' widest step).  The caller checked the
 * values are finite. */
static void quantize_query(const float *in, size_t dim, int16_t *out, float *scale) {
    float max = max_abs(in, dim);
    float inverse = max > 0.0f ? (float)SCAN_QUERY_LEVELS / max : 0.0f;
    for (size_t i = 0; i < dim; i++)
        out[i] = (int16_t)quantize_one(in[i], inverse, SCAN_QUERY_LEVELS);
    memset(out + dim, 0, (dim % 32 ? 32 - dim % 32 : 0) * sizeof *out);
    *scale = max / (float)SCAN_QUERY_LEVELS;
}

/* ---- the pool of candidates and its selection ---- */

/* True when a ranks after b: lower score, or equal score and higher row. */
static inline bool hit_worse(scan_hit_t a, scan_hit_t b) {
    return a.score < b.score || (a.score == b.score && a.row > b.row);
}

static int hit_compare(const void *a, const void *b) {
    const scan_hit_t *x = a, *y = b;
    return hit_worse(*y, *x) ? -1 : hit_worse(*x, *y) ? 1 : 0;
}

static inline void hit_swap(scan_hit_t *a, scan_hit_t *b) {
    scan_hit_t t = *a;
    *a = *b;
    *b = t;
}

/* hit_worse(b, a) without branches: partitioning compares against a pivot
 * that splits the items about evenly, so a branch on the outcome would be
 * mispredicted half the time, and that, not the work, was its cost. */
static inline int hit_better(scan_hit_t a, scan_hit_t b) {
    return (a.score > b.score) | ((a.score == b.score) & (a.row < b.row));
}

/* Partitions items[lo, hi) (hi - lo >= 3) around a median-of-three pivot:
 * returns p with the items before p better than items[p], those after it
 * worse. */
static size_t partition(scan_hit_t *items, size_t lo, size_t hi) {
    size_t mid = lo + (hi - lo) / 2, last = hi - 1;
    if (hit_worse(items[lo], items[mid]))
        hit_swap(&items[lo], &items[mid]);
    if (hit_worse(items[mid], items[last]))
        hit_swap(&items[mid], &items[last]);
    if (hit_worse(items[lo], items[mid]))
        hit_swap(&items[lo], &items[mid]);
    hit_swap(&items[mid], &items[last]);
    scan_hit_t pivot = items[last];
    /* Lomuto, swapping unconditionally: [lo, store) are better than the
     * pivot and [store, i) are not, so swapping a worse items[i] with
     * items[store] and not advancing keeps both true. */
    size_t store = lo;
    for (size_t i = lo; i < last; i++) {
        scan_hit_t x = items[i];
        items[i] = items[store];
        items[store] = x;
        store += (size_t)hit_better(x, pivot);
    }
    hit_swap(&items[store], &items[last]);
    return store;
}

static void insertion_sort(scan_hit_t *items, size_t lo, size_t hi) {
    for (size_t i = lo + 1; i < hi; i++) {
        scan_hit_t x = items[i];
        size_t j = i;
        for (; j > lo && hit_worse(items[j - 1], x); j--)
            items[j] = items[j - 1];
        items[j] = x;
    }
}

/* Quicksort of items[lo, hi), best first.  Recursing into the smaller side
 * bounds the stack; past `depth` bad pivots the range goes to qsort, which
 * bounds the time. */
static void sort_range(scan_hit_t *items, size_t lo, size_t hi, int depth) {
    while (hi - lo > 16) {
        if (depth-- == 0) {
            qsort(items + lo, hi - lo, sizeof *items, hit_compare);
            return;
        }
        size_t p = partition(items, lo, hi);
        if (p - lo < hi - p) {
            sort_range(items, lo, p, depth);
            lo = p + 1;
        } else {
            sort_range(items, p + 1, hi, depth);
            hi = p;
        }
    }
    insertion_sort(items, lo, hi);
}

/* Reorders items[0, n) (no two equal: rows differ) so that the best `keep`
 * come first, items[keep - 1] being the worst of them.  Quickselect; should
 * the pivots keep coming out badly, the remaining range is sorted instead,
 * which bounds the time by n log n. */
static void select_best(scan_hit_t *items, size_t n, size_t keep) {
    if (keep == 0 || keep >= n)
        return;
    size_t lo = 0, hi = n, target = keep - 1;
    int rounds = 64;
    while (hi - lo > 16) {
        if (rounds-- == 0) {
            qsort(items + lo, hi - lo, sizeof *items, hit_compare);
            return;
        }
        size_t p = partition(items, lo, hi);
        if (p == target)
            return;
        if (target < p)
            hi = p;
        else
            lo = p + 1;
    }
    insertion_sort(items, lo, hi); /* a short range: every item in its place */
}

size_t scan_hits_best(scan_hit_t *hits, size_t n, size_t keep) {
    if (keep > n)
        keep = n;
    select_best(hits, n, keep);
    sort_range(hits, 0, keep, 64);
    return keep;
}

typedef struct {
    scan_hit_t *items; /* cap slots; [0, len) are candidates */
    size_t len;        /* < cap between offers */
    size_t cap;        /* > keep */
    size_t keep;       /* k, >= 1 */
    float floor;       /* -inf, or the worst kept score after a selection */
} hit_pool_t;

/* Keeps only the best `keep` candidates and raises the floor to the worst. */
static void pool_prune(hit_pool_t *p) {
    if (p->len <= p->keep)
        return;
    select_best(p->items, p->len, p->keep);
    p->len = p->keep;
    p->floor = p->items[p->keep - 1].score;
}

/* Offers the scores of rows first, first + 1, ... (rows must be offered in
 * ascending order, see the essay).  `>=` rather than `>` so that a row
 * scoring -inf still enters an empty pool; NaN fails both.  The floor is
 * kept in a local so that the loop over rejected rows, nearly all of them,
 * is a load, a compare and a branch the CPU predicts. */
static void pool_offer_block(hit_pool_t *p, uint32_t first, const float *scores, size_t n) {
    float floor = p->floor;
    for (size_t i = 0; i < n; i++) {
        if (!(scores[i] >= floor))
            continue;
        p->items[p->len++] = (scan_hit_t){first + (uint32_t)i, scores[i]};
        if (p->len == p->cap) {
            pool_prune(p);
            floor = p->floor;
        }
    }
}

/* Pool slots per thread for k hits: selecting costs O(cap) and comes every
 * cap - k entries, so a pool twice as big (and at least a few hundred more)
 * makes it a small constant per entering row. */
static size_t pool_cap(size_t k) {
    return k + (k > 256 ? k : 256);
}

/* ---- the scan over one range of rows ---- */

typedef struct {
    /* input, shared by all jobs of one query */
    const void *rows;    /* float or int8 matrix, row-major */
    const float *scales; /* int8 only: per-row scales */
    size_t dim;
    const float *query_f32;   /* float query */
    const int16_t *query_i16; /* quantised query, padded (int8 only) */
    const int8_t *query_i8;   /* quantised query, padded (4-bit only) */
    int32_t query_sum;        /* sum of query_i8 */
    float query_scale;        /* the quantised query's scale */
    scan_kernel_f32_fn f32;   /* exactly one of f32 / i8 / i4 is set */
    scan_kernel_i8_fn i8;     /* */
    scan_kernel_i4_fn i4;     /* */
    size_t begin, end;        /* rows [begin, end) */
    hit_pool_t pool;          /* this job's candidates */
} scan_job_t;

static void *scan_job_run(void *arg) {
    scan_job_t *job = arg;
    float scores[SCAN_BLOCK];
    for (size_t r = job->begin; r < job->end; r += SCAN_BLOCK) {
        size_t n = job->end - r < SCAN_BLOCK ? job->end - r : SCAN_BLOCK;
        if (job->f32) {
            job->f32((const float *)job->rows + r * job->dim, n, job->dim, job->query_f32, scores);
        } else if (job->i8) {
            job->i8((const int8_t *)job->rows + r * job->dim, n, job->dim, job->query_i16,
                    job->scales + r, job->query_scale, scores);
        } else {
            job->i4((const uint8_t *)job->rows + r * SCAN_I4_ROW_BYTES(job->dim), n, job->dim,
                    job->query_i8, job->query_sum, job->scales + r, job->query_scale, scores);
        }
        pool_offer_block(&job->pool, (uint32_t)r, scores, n);
    }
    pool_prune(&job->pool);
    return NULL;
}

/* Runs `proto` over [0, nrows) on up to `threads` threads; writes the merged,
 * sorted top k to out and returns the count, or a negative errno. */
static long scan_run(const scan_job_t *proto, size_t nrows, size_t k, scan_hit_t *out,
                     int threads) {
    size_t want = threads > 1 ? (size_t)threads : 1;
    if (want > SCAN_MAX_THREADS)
        want = SCAN_MAX_THREADS;
    size_t work = nrows * proto->dim / SCAN_MIN_WORK_PER_THREAD;
    if (want > work)
        want = work ? work : 1;
    if (k > nrows)
        k = nrows;

    scan_job_t jobs[SCAN_MAX_THREADS];
    pthread_t tids[SCAN_MAX_THREADS];
    size_t cap = pool_cap(k);
    scan_hit_t *items = malloc(want * cap * sizeof *items);
    if (!items)
        return -ENOMEM;
    for (size_t t = 0; t < want; t++) {
        jobs[t] = *proto;
        jobs[t].begin = nrows * t / want;
        jobs[t].end = nrows * (t + 1) / want;
        jobs[t].pool = (hit_pool_t){items + t * cap, 0, cap, k, -INFINITY};
    }

    long rc = 0;
    size_t started = 0;
    for (size_t t = 1; t < want; t++, started++) {
        if (pthread_create(&tids[t], NULL, scan_job_run, &jobs[t]) != 0) {
            rc = -EAGAIN;
            break;
        }
    }
    if (rc == 0)
        scan_job_run(&jobs[0]);
    for (size_t t = 1; t <= started; t++)
        pthread_join(tids[t], NULL);

    if (rc == 0) {
        /* Compact the pools into one run, keep its best k and sort them. */
        size_t total = 0;
        for (size_t t = 0; t < want; t++) {
            memmove(items + total, jobs[t].pool.items, jobs[t].pool.len * sizeof *items);
            total += jobs[t].pool.len;
        }
        total = scan_hits_best(items, total, k);
        memcpy(out, items, total * sizeof *items);
        rc = (long)total;
    }
    free(items);
    return rc;
}

/* Checks what both element types share; 1 means "nothing to do". */
static int scan_check(const void *rows, size_t nrows, size_t dim, const float *query, size_t k,
                      const void *out, scan_isa_t isa) {
    if (dim == 0 || dim % 16 != 0 || dim > SCAN_DIM_MAX || nrows > UINT32_MAX ||
        !scan_isa_supported(isa))
        return -EINVAL;
    if (k == 0 || nrows == 0)
        return 1;
    if (!rows || !query || !out || ((uintptr_t)rows & (SCAN_ALIGN - 1)) != 0)
        return -EINVAL;
    for (size_t i = 0; i < dim; i++)
        if (!isfinite(query[i]))
            return -EINVAL;
    return 0;
}

long scan_topk_f32(const float *rows, size_t nrows, size_t dim, const float *query, size_t k,
                   scan_hit_t *out, int threads, scan_isa_t isa) {
    int rc = scan_check(rows, nrows, dim, query, k, out, isa);
    if (rc != 0)
        return rc < 0 ? rc : 0;
    scan_job_t proto = {.rows = rows, .dim = dim, .query_f32 = query, .f32 = kernel_f32_for(isa)};
    return scan_run(&proto, nrows, k, out, threads);
}

/* Re-scoring reads rows scattered over the matrix, each a miss the
 * hardware cannot predict: asking for the row a few places ahead overlaps
 * those misses instead of waiting for each in turn. */
#define SCAN_RESCORE_AHEAD 4

static inline void prefetch_row(const void *row, size_t bytes) {
    for (size_t o = 0; o < bytes; o += 64)
        __builtin_prefetch((const char *)row + o);
}

int scan_score_rows_f32(const float *rows, size_t dim, const uint32_t *which, size_t n,
                        const float *query, float *scores, scan_isa_t isa) {
    int rc = scan_check(rows, n, dim, query, n, scores, isa);
    if (rc != 0)
        return rc < 0 ? rc : 0;
    if (!which)
        return -EINVAL;
    scan_kernel_f32_fn kernel = kernel_f32_for(isa);
    for (size_t i = 0; i < n; i++) {
        if (i + SCAN_RESCORE_AHEAD < n)
            prefetch_row(rows + (size_t)which[i + SCAN_RESCORE_AHEAD] * dim, dim * sizeof *rows);
        kernel(rows + (size_t)which[i] * dim, 1, dim, query, &scores[i]);
    }
    return 0;
}

long scan_topk_i8(const int8_t *rows, const float *scales, size_t nrows, size_t dim,
                  const float *query, size_t k, scan_hit_t *out, int threads, scan_isa_t isa) {
    int rc = scan_check(rows, nrows, dim, query, k, out, isa);
    if (rc != 0)
        return rc < 0 ? rc : 0;
    if (!scales)
        return -EINVAL;
    _Alignas(SCAN_ALIGN) int16_t quantized[SCAN_DIM_MAX + 32];
    float query_scale;
    quantize_query(query, dim, quantized, &query_scale);
    scan_job_t proto = {.rows = rows,
                        .scales = scales,
                        .dim = dim,
                        .query_i16 = quantized,
                        .query_scale = query_scale,
                        .i8 = kernel_i8_for(isa)};
    return scan_run(&proto, nrows, k, out, threads);
}

int scan_score_rows_i8(const int8_t *rows, const float *scales, size_t dim, const uint32_t *which,
                       size_t n, const float *query, float *scores, scan_isa_t isa) {
    int rc = scan_check(rows, n, dim, query, n, scores, isa);
    if (rc != 0)
        return rc < 0 ? rc : 0;
    if (!which || !scales)
        return -EINVAL;
    _Alignas(SCAN_ALIGN) int16_t quantized[SCAN_DIM_MAX + 32];
    float query_scale;
    quantize_query(query, dim, quantized, &query_scale);
    scan_kernel_i8_fn kernel = kernel_i8_for(isa);
    for (size_t i = 0; i < n; i++) {
        if (i + SCAN_RESCORE_AHEAD < n)
            prefetch_row(rows + (size_t)which[i + SCAN_RESCORE_AHEAD] * dim, dim);
        kernel(rows + (size_t)which[i] * dim, 1, dim, quantized, &scales[which[i]], query_scale,
               &scores[i]);
    }
    return 0;
}

long scan_topk_i4(const uint8_t *rows, const float *scales, size_t nrows, size_t dim,
                  const float *query, size_t k, scan_hit_t *out, int threads, scan_isa_t isa) {
    int rc = scan_check(rows, nrows, dim, query, k, out, isa);
    if (rc != 0)
        return rc < 0 ? rc : 0;
    if (!scales)
        return -EINVAL;
    _Alignas(SCAN_ALIGN) int8_t quantized[SCAN_DIM_MAX + 128];
    int32_t query_sum;
    float query_scale;
    quantize_query_i8(query, dim, quantized, &query_sum, &query_scale);
    scan_job_t proto = {.rows = rows,
                        .scales = scales,
                        .dim = dim,
                        .query_i8 = quantized,
                        .query_sum = query_sum,
                        .query_scale = query_scale,
                        .i4 = kernel_i4_for(isa)};
    return scan_run(&proto, nrows, k, out, threads);
}
