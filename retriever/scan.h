/*
 * scan: exact inner-product top-k over a dense row-major matrix, with SIMD.
 *
 * A shard keeps its vectors in one contiguous array (see vectors.h); a query
 * reads every row once, computes its dot product with the query and keeps
 * the best k.  The scan is bound by memory bandwidth, so the kernels aim to
 * keep the loads streaming and do nothing per row but multiply-add and one
 * compare against the worst score still kept.
 *
 * Two element types:
 *   - float32 rows, scored with a float32 query;
 *   - int8 rows with one float scale per row (row ~= scale * q), scored
 *     against the query quantised to 13-bit integers (+-4095, one scale):
 *     16 times finer than int8, which removes most of the query's share of
 *     the error for the same work per byte.  The integer dot product is
 *     exact and the score is (float)dot * row_scale * query_scale.
 *     Reading a quarter of the bytes, it keeps recall@10 near 0.98 against
 *     the exact float32 answer on embedding-like data; re-scoring a few k
 *     int8 candidates with scan_score_rows_f32 restores the exact order
 *     (retriever/vectors does that);
 *   - 4-bit rows with one float scale per row (row ~= scale * v, v in
 *     [-7, 7]), scored against the query quantised to int8 (+-127): half
 *     the bytes of int8, too coarse to rank by, but good enough to pick a
 *     pool of candidates several times larger than wanted that holds the
 *     exact top k; retriever/vectors re-scores the pool with the int8
 *     kernel (scan_score_rows_i8), then the best of those in float32.
 *
 * Kernels: scalar (everywhere), AVX2+FMA, AVX-512 (F+BW+VL) and AVX-512 with
 * VNNI on x86-64, chosen at run time, and NEON on arm64 (which has no 4-bit
 * kernel: there the 4-bit scan runs the scalar one).  The default build
 * runs on any x86-64: the wide kernels are compiled with per-function target
 * attributes and only called after the CPU says it has them.
 *
 * Invariants every kernel keeps, and the tests check:
 *   - float32 scores are bit-identical across kernels: each row's products
 *     are accumulated with fused multiply-add into 16 partial sums (element
 *     i goes to sum i % 16) which are then added in one fixed tree
 *     (j + j+8, then j + j+4, j + j+2, j + j+1).  That is why dim must be a
 *     multiple of 16.  Same scores mean the same hits in the same order.
 *   - int8 dot products are exact 32-bit integers (dim <= 4096, |row| <= 128
 *     and |query| <= 4095 keep |sum| < 2^31), so int8 scores are
 *     bit-identical across kernels too; so are 4-bit ones (|v| <= 8 and
 *     |query| <= 127).
 *   - hits are sorted by score descending, then row ascending; the result
 *     does not depend on the kernel or on the number of threads (each
 *     thread keeps exactly the top k of its rows under that order, see
 *     scan.c).
 *   - a row whose score is NaN (a NaN in the row, or infinities that
 *     cancel) is never returned.
 *
 * Rules for the caller:
 *   - dim is a multiple of 16 between 16 and SCAN_DIM_MAX;
 *   - `rows` starts on a 64-byte boundary (row i is at rows + i * dim);
 *   - the query has dim finite values (a NaN or infinity is rejected);
 *   - `out` has room for min(k, nrows) hits.
 */
#ifndef LCA_RETRIEVER_SCAN_H
#define LCA_RETRIEVER_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCAN_DIM_MAX 4096
#define SCAN_ALIGN 64
/* The int8 scan's query is quantised to integers in [-4095, 4095]. */
#define SCAN_QUERY_LEVELS 4095

typedef enum {
    SCAN_ISA_SCALAR,
    SCAN_ISA_AVX2,        /* AVX2 + FMA */
    SCAN_ISA_AVX512,      /* AVX-512 F, BW, VL */
    SCAN_ISA_AVX512_VNNI, /* the above plus AVX512-VNNI (int8 dot products) */
    SCAN_ISA_NEON,        /* arm64 Advanced SIMD */
    SCAN_ISA_COUNT
} scan_isa_t;

typedef struct {
    uint32_t row; /* index of the row in the scanned matrix */
    float score;  /* its dot product with the query */
} scan_hit_t;

/* The kernel set searches use: the widest this CPU runs, unless the
 * environment variable LCA_SCAN_ISA names another ("scalar", "avx2",
 * "avx512", "avx512vnni", "neon"), e.g. to measure on a wide machine what a
 * narrower one would do.  A name that is unknown, or whose kernels this
 * build or CPU lacks, is refused with a warning on stderr, and the widest
 * set is used.  Read once per process (scan_isa_choose); thread-safe. */
scan_isa_t scan_isa_best(void);

/* The widest kernel set this CPU runs, whatever LCA_SCAN_ISA says. */
scan_isa_t scan_isa_detect(void);

/* What scan_isa_best() returns when LCA_SCAN_ISA is `setting` (NULL or ""
 * meaning unset), warning on stderr when it refuses the setting.  Exposed
 * for the tests; callers use scan_isa_best(). */
scan_isa_t scan_isa_choose(const char *setting);

/* True when this build has kernels for `isa` and this CPU runs them. */
bool scan_isa_supported(scan_isa_t isa);

/* A short lower-case name ("scalar", "avx2", "avx512", "avx512vnni", "neon"),
 * or "unknown" for a value outside the enum.  The string is static. */
const char *scan_isa_name(scan_isa_t isa);

/* The best k rows by dot product with `query`.  Writes min(k, nrows) hits to
 * `out`, best first (score descending, then row ascending), and returns how
 * many it wrote (fewer when rows score NaN).  `threads` <= 1 scans on the
 * calling thread; more splits the rows into ranges scanned in parallel, but
 * only as many threads as there is work for (small matrices stay on one).
 * `isa` picks the kernel; pass scan_isa_best() normally.
 * Returns -EINVAL for a bad dim, a misaligned `rows`, a non-finite query,
 * more than UINT32_MAX rows, NULL pointers where data is needed, or an
 * `isa` this CPU lacks; -ENOMEM when scratch memory cannot be had; -EAGAIN
 * when a thread cannot be started.  k == 0 or nrows == 0 returns 0. */
long scan_topk_f32(const float *rows, size_t nrows, size_t dim, const float *query, size_t k,
                   scan_hit_t *out, int threads, scan_isa_t isa);

/* Quantises one vector of dim floats to int8: out[i] = round(in[i] / scale)
 * with scale = max|in[i]| / 127, so every value lands in [-127, 127] and
 * in[i] ~= scale * out[i].  An all-zero vector gets scale 0 and zeros.
 * Returns 0, or -EINVAL when dim is 0 or a value is not finite (then `out`
 * and `scale` are left untouched). */
int scan_quantize_row(const float *in, size_t dim, int8_t *out, float *scale);

/* Like scan_topk_f32 over int8 rows: row r's score is
 * (float)dot(rows[r], q) * scales[r] * query_scale, where q = round(query /
 * query_scale) with query_scale = max|query| / 4095.  Rows may hold any int8
 * value, but only rows made by scan_quantize_row approximate float scores.
 * Same rules and errors as scan_topk_f32; `scales` has nrows entries. */
long scan_topk_i8(const int8_t *rows, const float *scales, size_t nrows, size_t dim,
                  const float *query, size_t k, scan_hit_t *out, int threads, scan_isa_t isa);

/* Scores the rows listed in `which` (n row numbers of a matrix laid out as
 * for scan_topk_f32) with the same kernel, hence the same bits, as
 * scan_topk_f32 would: scores[i] = dot(rows[which[i]], query).  For
 * re-scoring a few candidates found another way.  The caller guarantees
 * each which[i] is a row of the matrix.  Returns 0, or -EINVAL as
 * scan_topk_f32 would for dim, alignment, query or isa. */
int scan_score_rows_f32(const float *rows, size_t dim, const uint32_t *which, size_t n,
                        const float *query, float *scores, scan_isa_t isa);

/* Bytes of one 4-bit row of dim values: dims are padded to a multiple of 64
 * (32 bytes), the kernels' unit.  Rows of a 4-bit matrix follow each other
 * at this stride. */
#define SCAN_I4_ROW_BYTES(dim) (((size_t)(dim) + 63) / 64 * 32)

/* Quantises one vector of dim floats to 4 bits: v[i] = round(in[i] / scale)
 * with scale = max|in[i]| / 7, so every v[i] lands in [-7, 7] and in[i] ~=
 * scale * v[i].  Writes SCAN_I4_ROW_BYTES(dim) bytes: the 64 values of group
 * g (dims 64g .. 64g+63) are the 32 bytes from 32g, byte j holding dim
 * 64g+j in its low nibble and dim 64g+32+j in its high one, each as v + 8
 * (so 0..15; padding dims hold 8, that is 0).  An all-zero vector gets
 * scale 0.  Returns 0, or -EINVAL when dim is 0 or a value is not finite
 * (then `out` and `scale` are left untouched). */
int scan_quantize_row_i4(const float *in, size_t dim, uint8_t *out, float *scale);

/* Like scan_topk_i8 over 4-bit rows (laid out by scan_quantize_row_i4, at
 * SCAN_I4_ROW_BYTES(dim) apart): row r's score is (float)dot(v_r, q) *
 * scales[r] * query_scale, where q = round(query / query_scale) with
 * query_scale = max|query| / 127.  Meant as a prefilter: ask for several
 * times the hits wanted and re-score them.  Same rules and errors as
 * scan_topk_f32; `scales` has nrows entries. */
long scan_topk_i4(const uint8_t *rows, const float *scales, size_t nrows, size_t dim,
                  const float *query, size_t k, scan_hit_t *out, int threads, scan_isa_t isa);

/* Scores the int8 rows listed in `which` with the same kernel, hence the
 * same bits, as scan_topk_i8 would: for re-scoring the 4-bit scan's pool.
 * Same contract as scan_score_rows_f32 (`scales` as for scan_topk_i8). */
int scan_score_rows_i8(const int8_t *rows, const float *scales, size_t dim, const uint32_t *which,
                       size_t n, const float *query, float *scores, scan_isa_t isa);

/* Reorders hits[0, n) so that the best min(keep, n) come first, sorted
 * (score descending, then row ascending), and returns that count.  For
 * callers that re-score candidates.  No two hits may have the same row,
 * and no score may be NaN (map it to -INFINITY or drop it first).  O(n +
 * keep log keep) expected, O(n log n) at worst. */
size_t scan_hits_best(scan_hit_t *hits, size_t n, size_t keep);

/*
 * Kernel backend interface.  Only scan.c and the per-ISA kernel files use
 * what follows; other modules call the functions above.
 *
 * A kernel scores `n` consecutive rows of `dim` elements (dim a multiple of
 * 16, rows not necessarily aligned) against one query and writes one score
 * per row.  f32: computed in the canonical order described at the top of
 * this file.  i8: scores[r] = (float)dot * scales[r] * query_scale, where
 * dot is the exact integer dot product of the int8 row and the int16 query
 * (values within +-SCAN_QUERY_LEVELS, 64-byte aligned, zero-padded to a
 * multiple of 32), and the two products are rounded in that order (no
 * fused multiply-add).  i4: rows SCAN_I4_ROW_BYTES(dim) apart; scores[r] =
 * (float)(dot(u_r, query) - 8 * query_sum) * scales[r] * query_scale, where
 * u_r are the stored nibbles (v + 8, so dot(v, q) = dot(u, q) - 8 sum(q)),
 * the query is int8 within +-127, 64-byte aligned and zero-padded to a
 * multiple of 128 values, and query_sum is the sum of its values.
 */
/* How far ahead (in rows) the int8 kernels prefetch, within their block:
 * int8 rows are short (a few cache lines), and fetching them explicitly
 * ahead of use keeps enough misses in flight to run at memory speed while
 * the dot products are computed. */
#define SCAN_PREFETCH_ROWS 16

typedef void (*scan_kernel_f32_fn)(const float *rows, size_t n, size_t dim, const float *query,
                                   float *scores);
typedef void (*scan_kernel_i8_fn)(const int8_t *rows, size_t n, size_t dim, const int16_t *query,
                                  const float *scales, float query_scale, float *scores);
typedef void (*scan_kernel_i4_fn)(const uint8_t *rows, size_t n, size_t dim, const int8_t *query,
                                  int32_t query_sum, const float *scales, float query_scale,
                                  float *scores);

void scan_kernel_f32_scalar(const float *rows, size_t n, size_t dim, const float *query,
                            float *scores);
void scan_kernel_i8_scalar(const int8_t *rows, size_t n, size_t dim, const int16_t *query,
                           const float *scales, float query_scale, float *scores);
void scan_kernel_i4_scalar(const uint8_t *rows, size_t n, size_t dim, const int8_t *query,
                           int32_t query_sum, const float *scales, float query_scale,
                           float *scores);
#if defined(__x86_64__)
void scan_kernel_f32_avx2(const float *rows, size_t n, size_t dim, const float *query,
                          float *scores);
void scan_kernel_i8_avx2(const int8_t *rows, size_t n, size_t dim, const int16_t *query,
                         const float *scales, float query_scale, float *scores);
void scan_kernel_f32_avx512(const float *rows, size_t n, size_t dim, const float *query,
                            float *scores);
void scan_kernel_i8_avx512(const int8_t *rows, size_t n, size_t dim, const int16_t *query,
                           const float *scales, float query_scale, float *scores);
void scan_kernel_i8_avx512_vnni(const int8_t *rows, size_t n, size_t dim, const int16_t *query,
                                const float *scales, float query_scale, float *scores);
void scan_kernel_i4_avx2(const uint8_t *rows, size_t n, size_t dim, const int8_t *query,
                         int32_t query_sum, const float *scales, float query_scale, float *scores);
void scan_kernel_i4_avx512(const uint8_t *rows, size_t n, size_t dim, const int8_t *query,
                           int32_t query_sum, const float *scales, float query_scale,
                           float *scores);
void scan_kernel_i4_avx512_vnni(const uint8_t *rows, size_t n, size_t dim, const int8_t *query,
                                int32_t query_sum, const float *scales, float query_scale,
                                float *scores);
#endif
#if defined(__aarch64__)
void scan_kernel_f32_neon(const float *rows, size_t n, size_t dim, const float *query,
                          float *scores);
void scan_kernel_i8_neon(const int8_t *rows, size_t n, size_t dim, const int16_t *query,
                         const float *scales, float query_scale, float *scores);
#endif

#endif
