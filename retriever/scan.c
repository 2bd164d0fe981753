/*
 * scan: the driver around the SIMD kernels.
 *
 * A query is answered by splitting the rows into contiguous ranges, one per
 * thread.  Each thread runs the chosen kernel over blocks of SCAN_BLOCK rows,
 * which leaves one score per row in a small buffer on its stack, and offers
 * each score to its own bounded min-heap of k hits.  The heap's root is the
 * worst hit kept so far, so almost every row costs one comparison against
 * it.  When all threads are done their heaps are merged and sorted.
 *
 * Determinism: the order is total (score descending, then row ascending).
 * Rows are visited in ascending order within a range, so a later row with
 * a score equal to the root's is worse than it and is rejected by a strict
 * comparison.  Each heap therefore holds exactly the top k of its range, and
 * the merge gives exactly the top k overall, whatever the number of threads.
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

/* ---- bounded heap of hits: a min-heap whose root is the worst hit ---- */

/* True when a ranks after b: lower score, or equal score and higher row. */
static inline bool hit_worse(scan_hit_t a, scan_hit_t b) {
    return a.score < b.score || (a.score == b.score && a.row > b.row);
}

typedef struct {
    scan_hit_t *items; /* items[0] is the worst kept hit once len > 0 */
    size_t len;        /* hits kept, <= cap */
    size_t cap;        /* k, >= 1 */
} hit_heap_t;

static void heap_sift_down(hit_heap_t *h, size_t i) {
    scan_hit_t x = h->items[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= h->len)
            break;
        if (child + 1 < h->len && hit_worse(h->items[child + 1], h->items[child]))
            child++;
        if (!hit_worse(h->items[child], x))
            break;
        h->items[i] = h->items[child];
        i = child;
    }
    h->items[i] = x;
}

/* Offers a hit; rows must be offered in ascending order (see the essay). */
static inline void heap_offer(hit_heap_t *h, uint32_t row, float score) {
    if (h->len == h->cap) {
        if (!(score > h->items[0].score)) /* also drops NaN */
            return;
        h->items[0] = (scan_hit_t){row, score};
        heap_sift_down(h, 0);
        return;
    }
    if (isnan(score))
        return;
    size_t i = h->len++;
    scan_hit_t x = {row, score};
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!hit_worse(x, h->items[parent]))
            break;
        h->items[i] = h->items[parent];
        i = parent;
    }
    h->items[i] = x;
}

/* ---- the scan over one range of rows ---- */

typedef struct {
    /* input, shared by all jobs of one query */
    const void *rows;    /* float or int8 matrix, row-major */
    const float *scales; /* int8 only: per-row scales */
    size_t dim;
    const float *query_f32;   /* float query */
    const int16_t *query_i16; /* quantised query, padded (int8 only) */
    float query_scale;        /* its scale */
    scan_kernel_f32_fn f32;   /* exactly one of f32 / i8 is set */
    scan_kernel_i8_fn i8;     /* */
    size_t begin, end;        /* rows [begin, end) */
    hit_heap_t heap;          /* this job's best hits */
} scan_job_t;

static void *scan_job_run(void *arg) {
    scan_job_t *job = arg;
    float scores[SCAN_BLOCK];
    for (size_t r = job->begin; r < job->end; r += SCAN_BLOCK) {
        size_t n = job->end - r < SCAN_BLOCK ? job->end - r : SCAN_BLOCK;
        if (job->f32) {
            job->f32((const float *)job->rows + r * job->dim, n, job->dim, job->query_f32, scores);
        } else {
            job->i8((const int8_t *)job->rows + r * job->dim, n, job->dim, job->query_i16,
                    job->scales + r, job->query_scale, scores);
        }
        for (size_t i = 0; i < n; i++)
            heap_offer(&job->heap, (uint32_t)(r + i), scores[i]);
    }
    return NULL;
}

static int hit_compare(const void *a, const void *b) {
    const scan_hit_t *x = a, *y = b;
    return hit_worse(*y, *x) ? -1 : hit_worse(*x, *y) ? 1 : 0;
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
    scan_hit_t *items = malloc(want * k * sizeof *items);
    if (!items)
        return -ENOMEM;
    for (size_t t = 0; t < want; t++) {
        jobs[t] = *proto;
        jobs[t].begin = nrows * t / want;
        jobs[t].end = nrows * (t + 1) / want;
        jobs[t].heap = (hit_heap_t){items + t * k, 0, k};
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
        /* Compact the heaps into one run, sort it and keep the best k. */
        size_t total = 0;
        for (size_t t = 0; t < want; t++) {
            memmove(items + total, jobs[t].heap.items, jobs[t].heap.len * sizeof *items);
            total += jobs[t].heap.len;
        }
        qsort(items, total, sizeof *items, hit_compare);
        if (total > k)
            total = k;
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

int scan_score_rows_f32(const float *rows, size_t dim, const uint32_t *which, size_t n,
                        const float *query, float *scores, scan_isa_t isa) {
    int rc = scan_check(rows, n, dim, query, n, scores, isa);
    if (rc != 0)
        return rc < 0 ? rc : 0;
    if (!which)
        return -EINVAL;
    scan_kernel_f32_fn kernel = kernel_f32_for(isa);
    for (size_t i = 0; i < n; i++)
        kernel(rows + (size_t)which[i] * dim, 1, dim, query, &scores[i]);
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
