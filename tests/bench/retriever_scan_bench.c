/*
 * Benchmark of retriever/scan, run by tests/bench/scan.sh beside its peers.
 *
 *   retriever_scan_bench gen FILE ROWS DIM QUERIES CLUSTERS SEED
 *       writes a data set: a 32-byte header (magic "LCASCAN1", then rows,
 *       dim, queries as little-endian uint64), rows * dim float32, then
 *       queries * dim float32.  Vectors are unit length; with CLUSTERS > 0
 *       each is drawn around one of CLUSTERS random centres (embeddings
 *       cluster), with 0 they are independent Gaussians (the hardest case
 *       for approximate search and for int8).
 *
 *   retriever_scan_bench run FILE THREADS K
 *       loads the set and times, query by query, on the same memory: a
 *       plain SIMD read of the float32 bytes (the bandwidth floor), the
 *       float32 scan per kernel, a plain read of the int8 bytes, the int8
 *       scan per kernel, a plain read of the 4-bit bytes, the 4-bit scan
 *       per kernel (alone: its recall is that of a prefilter asked for
 *       only K), and the store's int8 search (retriever/vectors: int8
 *       candidates, from a 4-bit pool when the store is large enough,
 *       re-scored in float32).  Writes the exact top K
 *       (the float32 scan) to FILE.truth (queries * K uint32) for the
 *       peers' recall, and prints one line per measurement:
 *         RESULT|name|median_ms|p99_ms|min_ms|bytes_read|recall@K or -
 */
#include "retriever/scan.h"
#include "retriever/vectors.h"
#include "tests/fixture.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#define HEADER_BYTES 32

static fixture_rng_t rng = {1};

static void normalize(float *v, size_t dim) {
    double norm = 0;
    for (size_t i = 0; i < dim; i++)
        norm += (double)v[i] * v[i];
    norm = sqrt(norm);
    for (size_t i = 0; i < dim; i++)
        v[i] = (float)(v[i] / norm);
}

static void *alloc_big(size_t bytes) {
    size_t rounded = (bytes + (2u << 20) - 1) / (2u << 20) * (2u << 20);
    void *p = aligned_alloc(2u << 20, rounded);
    if (p)
        madvise(p, rounded, MADV_HUGEPAGE);
    return p;
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ---- gen ---- */

/* One vector: a centre plus noise of the same expected length, normalised,
 * so members of a cluster have cosine ~0.5 with each other. */
static void draw(float *v, size_t dim, const float *centres, size_t clusters) {
    const float *c = clusters ? centres + (rng_next(&rng) % clusters) * dim : NULL;
    for (size_t i = 0; i < dim; i++)
        v[i] = rng_gauss(&rng) / sqrtf((float)dim) + (c ? c[i] : 0.0f);
    normalize(v, dim);
}

static int cmd_gen(const char *path, size_t rows, size_t dim, size_t queries, size_t clusters,
                   uint64_t seed) {
    rng.state = seed ? seed : 1;
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        return 1;
    }
    float *centres = calloc(clusters * dim + 1, sizeof *centres);
    float *v = malloc(dim * sizeof *v);
    if (!centres || !v)
        return 1;
    for (size_t c = 0; c < clusters; c++) {
        for (size_t i = 0; i < dim; i++)
            centres[c * dim + i] = rng_gauss(&rng);
        normalize(centres + c * dim, dim);
    }
    uint64_t header[4];
    memcpy(&header[0], "LCASCAN1", 8);
    header[1] = rows, header[2] = dim, header[3] = queries;
    int ok = fwrite(header, sizeof header, 1, f) == 1;
    for (size_t r = 0; ok && r < rows + queries; r++) {
        draw(v, dim, centres, clusters);
        ok = fwrite(v, sizeof *v, dim, f) == dim;
    }
    ok = fclose(f) == 0 && ok;
    free(centres), free(v);
    if (!ok)
        fprintf(stderr, "%s: write failed\n", path);
    return ok ? 0 : 1;
}

/* ---- the bandwidth floor: read every byte once, do nothing else ---- */

typedef struct {
    const uint8_t *bytes;
    size_t len; /* multiple of 64 */
    uint64_t sink;
} read_job_t;

#if defined(__x86_64__)
__attribute__((target("avx2"))) static uint64_t read_avx2(const uint8_t *p, size_t len) {
    __m256i a = _mm256_setzero_si256(), b = a, c = a, d = a;
    size_t i = 0;
    for (; i + 128 <= len; i += 128) {
        a = _mm256_or_si256(a, _mm256_load_si256((const __m256i *)(p + i)));
        b = _mm256_or_si256(b, _mm256_load_si256((const __m256i *)(p + i + 32)));
        c = _mm256_or_si256(c, _mm256_load_si256((const __m256i *)(p + i + 64)));
        d = _mm256_or_si256(d, _mm256_load_si256((const __m256i *)(p + i + 96)));
    }
    for (; i < len; i += 32)
        a = _mm256_or_si256(a, _mm256_load_si256((const __m256i *)(p + i)));
    a = _mm256_or_si256(_mm256_or_si256(a, b), _mm256_or_si256(c, d));
    return (uint64_t)_mm256_extract_epi64(a, 0) | (uint64_t)_mm256_extract_epi64(a, 3);
}

__attribute__((target("avx512f"))) static uint64_t read_avx512(const uint8_t *p, size_t len) {
    __m512i a = _mm512_setzero_si512(), b = a, c = a, d = a;
    size_t i = 0;
    for (; i + 256 <= len; i += 256) {
        a = _mm512_or_si512(a, _mm512_load_si512(p + i));
        b = _mm512_or_si512(b, _mm512_load_si512(p + i + 64));
        c = _mm512_or_si512(c, _mm512_load_si512(p + i + 128));
        d = _mm512_or_si512(d, _mm512_load_si512(p + i + 192));
    }
    for (; i < len; i += 64)
        a = _mm512_or_si512(a, _mm512_load_si512(p + i));
    a = _mm512_or_si512(_mm512_or_si512(a, b), _mm512_or_si512(c, d));
    return (uint64_t)_mm512_reduce_or_epi64(a);
}
#endif

static uint64_t read_plain(const uint8_t *p, size_t len) {
    uint64_t x = 0, w;
    for (size_t i = 0; i < len; i += 8) {
        memcpy(&w, p + i, 8);
        x |= w;
    }
    return x;
}

static void *read_job_run(void *arg) {
    read_job_t *job = arg;
#if defined(__x86_64__)
    if (scan_isa_supported(SCAN_ISA_AVX512))
        job->sink = read_avx512(job->bytes, job->len);
    else if (scan_isa_supported(SCAN_ISA_AVX2))
        job->sink = read_avx2(job->bytes, job->len);
    else
#endif
        job->sink = read_plain(job->bytes, job->len);
    return NULL;
}

/* Reads [bytes, bytes + len) split over `threads` threads, started the way
 * the scan starts its own (one per call, the caller doing the first part). */
static uint64_t read_all(const uint8_t *bytes, size_t len, int threads) {
    read_job_t jobs[64];
    pthread_t tids[64];
    size_t chunks = len / 64;
    for (int t = 0; t < threads; t++) {
        size_t b = chunks * (size_t)t / (size_t)threads,
               e = chunks * (size_t)(t + 1) / (size_t)threads;
        jobs[t] = (read_job_t){bytes + b * 64, (e - b) * 64, 0};
    }
    for (int t = 1; t < threads; t++)
        if (pthread_create(&tids[t], NULL, read_job_run, &jobs[t]) != 0)
            abort();
    read_job_run(&jobs[0]);
    uint64_t sink = jobs[0].sink;
    for (int t = 1; t < threads; t++) {
        pthread_join(tids[t], NULL);
        sink |= jobs[t].sink;
    }
    return sink;
}

/* ---- run ---- */

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void report(const char *name, double *ms, size_t n, size_t bytes, double recall) {
    qsort(ms, n, sizeof *ms, cmp_double);
    double median = n % 2 ? ms[n / 2] : (ms[n / 2 - 1] + ms[n / 2]) / 2;
    size_t p99 = (size_t)ceil(0.99 * (double)n);
    char rec[32] = "-";
    if (recall >= 0)
        snprintf(rec, sizeof rec, "%.4f", recall);
    printf("RESULT|%s|%.3f|%.3f|%.3f|%zu|%s\n", name, median, ms[p99 ? p99 - 1 : 0], ms[0], bytes,
           rec);
    fflush(stdout);
}

static double recall_of(const scan_hit_t *got, const uint32_t *truth, size_t k) {
    size_t found = 0;
    for (size_t i = 0; i < k; i++)
        for (size_t j = 0; j < k; j++)
            found += got[i].row == truth[j];
    return (double)found;
}

typedef enum { FLOOR_F32, SCAN_F32, FLOOR_I8, SCAN_I8, FLOOR_I4, SCAN_I4, STORE_I8 } measure_kind_t;

typedef struct {
    char name[48];
    measure_kind_t kind;
    scan_isa_t isa; /* scans only */
    double *ms;     /* one time per query */
    double found;   /* int8 scans: hits that are in the exact top k */
} measure_t;

static void measure_add(measure_t *m, size_t *n, measure_kind_t kind, scan_isa_t isa) {
    static const char *const what[] = {"floor f32 read",       "lca scan f32",  "floor i8 read",
                                       "lca scan i8",          "floor i4 read", "lca scan i4",
                                       "lca vectors i8+rerank"};
    m[*n] = (measure_t){.kind = kind, .isa = isa};
    if (kind == SCAN_F32 || kind == SCAN_I8 || kind == SCAN_I4)
        snprintf(m[*n].name, sizeof m[*n].name, "%s %s", what[kind], scan_isa_name(isa));
    else
        snprintf(m[*n].name, sizeof m[*n].name, "%s", what[kind]);
    (*n)++;
}

static int cmd_run(const char *path, int threads, size_t k) {
    FILE *f = fopen(path, "rb");
    uint64_t header[4];
    if (!f || fread(header, sizeof header, 1, f) != 1 || memcmp(header, "LCASCAN1", 8) != 0) {
        fprintf(stderr, "%s: not a data set\n", path);
        return 1;
    }
    size_t rows = header[1], dim = header[2], nq = header[3];
    float *data = alloc_big(rows * dim * sizeof *data);
    float *queries = alloc_big(nq * dim * sizeof *queries);
    int8_t *data8 = alloc_big(rows * dim);
    float *scales = alloc_big(rows * sizeof *scales);
    uint32_t *truth = calloc(nq * k, sizeof *truth);
    scan_hit_t *hits = calloc(k, sizeof *hits);
    if (!data || !queries || !data8 || !scales || !truth || !hits ||
        fread(data, sizeof *data * dim, rows, f) != rows ||
        fread(queries, sizeof *queries * dim, nq, f) != nq) {
        fprintf(stderr, "%s: cannot load\n", path);
        return 1;
    }
    fclose(f);
    size_t stride4 = SCAN_I4_ROW_BYTES(dim);
    uint8_t *data4 = alloc_big(rows * stride4);
    float *scales4 = alloc_big(rows * sizeof *scales4);
    if (!data4 || !scales4)
        return 1;
    for (size_t r = 0; r < rows; r++)
        if (scan_quantize_row(data + r * dim, dim, data8 + r * dim, &scales[r]) != 0 ||
            scan_quantize_row_i4(data + r * dim, dim, data4 + r * stride4, &scales4[r]) != 0)
            return 1;
    printf("INFO|rows %zu dim %zu queries %zu k %zu threads %d best %s\n", rows, dim, nq, k,
           threads, scan_isa_name(scan_isa_best()));

    /* The measurements, interleaved query by query: this machine's memory
     * bandwidth drifts over seconds (other tenants), so a floor measured
     * apart from a scan would make their ratio meaningless. */
    measure_t m[16];
    size_t nm = 0;
    measure_add(m, &nm, FLOOR_F32, SCAN_ISA_SCALAR);
    static const scan_isa_t isas[] = {SCAN_ISA_AVX512, SCAN_ISA_AVX2, SCAN_ISA_NEON};
    for (size_t i = 0; i < sizeof isas / sizeof isas[0]; i++)
        if (scan_isa_supported(isas[i]))
            measure_add(m, &nm, SCAN_F32, isas[i]);
    bool simd = nm > 1;
    if (!simd)
        measure_add(m, &nm, SCAN_F32, SCAN_ISA_SCALAR);
    measure_add(m, &nm, FLOOR_I8, SCAN_ISA_SCALAR);
    static const scan_isa_t isas8[] = {SCAN_ISA_AVX512_VNNI, SCAN_ISA_AVX512, SCAN_ISA_AVX2,
                                       SCAN_ISA_NEON};
    for (size_t i = 0; i < sizeof isas8 / sizeof isas8[0]; i++)
        if (scan_isa_supported(isas8[i]))
            measure_add(m, &nm, SCAN_I8, isas8[i]);
    if (!simd)
        measure_add(m, &nm, SCAN_I8, SCAN_ISA_SCALAR);
    measure_add(m, &nm, FLOOR_I4, SCAN_ISA_SCALAR);
    for (size_t i = 0; i < sizeof isas8 / sizeof isas8[0]; i++)
        if (isas8[i] != SCAN_ISA_NEON && scan_isa_supported(isas8[i]))
            measure_add(m, &nm, SCAN_I4, isas8[i]);
    measure_add(m, &nm, STORE_I8, scan_isa_best());

    /* The store holds its own copy; ids are row numbers. */
    vectors_t *store = vectors_new(dim);
    for (size_t r = 0; store && r < rows; r++)
        if (vectors_add(store, r, data + r * dim) != 0)
            vectors_destroy(&store);
    vectors_hit_t *store_hits = calloc(k, sizeof *store_hits);
    if (!store || !store_hits) {
        fprintf(stderr, "cannot build the store\n");
        return 1;
    }
    printf("INFO|the store's int8 search %s the 4-bit prefilter\n",
           vectors_prefilters(store, k) ? "runs" : "does not run");
    for (size_t i = 0; i < nm; i++)
        if (!(m[i].ms = calloc(nq, sizeof(double))))
            return 1;

    volatile uint64_t sink = 0;
    /* Query -1 warms everything up and is not counted. */
    for (long q = -1; q < (long)nq; q++) {
        const float *query = queries + (q < 0 ? 0 : (size_t)q) * dim;
        for (size_t i = 0; i < nm; i++) {
            long n = (long)k;
            double t0 = now_ms();
            switch (m[i].kind) {
            case FLOOR_F32:
                sink |= read_all((const uint8_t *)data, rows * dim * sizeof *data, threads);
                break;
            case SCAN_F32:
                n = scan_topk_f32(data, rows, dim, query, k, hits, threads, m[i].isa);
                break;
            case FLOOR_I8: /* the scales (1% of the int8 bytes at dim 384) are left out */
                sink |= read_all((const uint8_t *)data8, rows * dim, threads);
                break;
            case SCAN_I8:
                n = scan_topk_i8(data8, scales, rows, dim, query, k, hits, threads, m[i].isa);
                break;
            case FLOOR_I4:
                sink |= read_all(data4, rows * stride4, threads);
                break;
            case SCAN_I4:
                n = scan_topk_i4(data4, scales4, rows, dim, query, k, hits, threads, m[i].isa);
                break;
            case STORE_I8:
                n = vectors_search(store, query, k, VECTORS_I8, threads, store_hits);
                for (long h = 0; h < n; h++)
                    hits[h] = (scan_hit_t){(uint32_t)store_hits[h].id, store_hits[h].score};
                break;
            }
            double t = now_ms() - t0;
            if (n != (long)k)
                return 1;
            if (q < 0)
                continue;
            m[i].ms[q] = t;
            if (i == 1) /* the widest float32 kernel: exact, the truth */
                for (size_t j = 0; j < k; j++)
                    truth[(size_t)q * k + j] = hits[j].row;
            if (m[i].kind == SCAN_I8 || m[i].kind == SCAN_I4 || m[i].kind == STORE_I8)
                m[i].found += recall_of(hits, truth + (size_t)q * k, k);
        }
    }
    for (size_t i = 0; i < nm; i++) {
        /* The store's search reads the 4-bit rows when it prefilters (and
         * a few hundred int8 and float32 rows), else the int8 ones. */
        size_t bytes8 = rows * dim + rows * sizeof *scales,
               bytes4 = rows * stride4 + rows * sizeof *scales4;
        size_t bytes = m[i].kind == FLOOR_F32 || m[i].kind == SCAN_F32 ? rows * dim * sizeof *data
                       : m[i].kind == FLOOR_I8                         ? rows * dim
                       : m[i].kind == SCAN_I8                          ? bytes8
                       : m[i].kind == FLOOR_I4                         ? rows * stride4
                       : m[i].kind == SCAN_I4                          ? bytes4
                       : vectors_prefilters(store, k)                  ? bytes4
                                                                       : bytes8;
        double recall = m[i].kind == SCAN_F32 ? 1.0
                        : m[i].kind == SCAN_I8 || m[i].kind == SCAN_I4 || m[i].kind == STORE_I8
                            ? m[i].found / (double)(nq * k)
                            : -1;
        report(m[i].name, m[i].ms, nq, bytes, recall);
        free(m[i].ms);
    }

    vectors_destroy(&store);
    free(store_hits);

    char truth_path[4096];
    snprintf(truth_path, sizeof truth_path, "%s.truth", path);
    FILE *t = fopen(truth_path, "wb");
    if (!t || fwrite(truth, sizeof *truth * k, nq, t) != nq || fclose(t) != 0) {
        perror(truth_path);
        return 1;
    }
    if (sink == 0x5a5a5a5a5a5a5a5aull)
        printf("INFO|sink %" PRIu64 "\n", (uint64_t)sink);
    free(data), free(queries), free(data8), free(scales), free(truth), free(hits);
    free(data4), free(scales4);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 8 && strcmp(argv[1], "gen") == 0)
        return cmd_gen(argv[2], strtoull(argv[3], NULL, 10), strtoull(argv[4], NULL, 10),
                       strtoull(argv[5], NULL, 10), strtoull(argv[6], NULL, 10),
                       strtoull(argv[7], NULL, 10));
    if (argc == 5 && strcmp(argv[1], "run") == 0) {
        int threads = atoi(argv[3]);
        size_t k = strtoull(argv[4], NULL, 10);
        if (threads < 1 || threads > 64 || k == 0) {
            fprintf(stderr, "threads must be 1..64, k at least 1\n");
            return 2;
        }
        return cmd_run(argv[2], threads, k);
    }
    fprintf(stderr,
            "usage: %s gen FILE ROWS DIM QUERIES CLUSTERS SEED\n"
            "       %s run FILE THREADS K\n",
            argv[0], argv[0]);
    return 2;
}
