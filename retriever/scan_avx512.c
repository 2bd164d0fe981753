/*
 * scan_avx512: the AVX-512 kernels of the scan (x86-64 only).
 *
 * Like scan_avx2.c, every function carries its own target attribute and is
 * only called once scan_isa_supported() has seen the features.
 *
 * float32: one 16-lane register holds a row's 16 canonical partial sums
 * (scan.h), so lane j accumulates elements i with i % 16 == j in the same
 * order as the scalar kernel, and the reduction follows the same tree.
 * Four rows go together: independent FMA chains, one query load per four
 * rows.
 *
 * int8 (AVX-512 BW): 32 bytes at a time sign-extended to 16 bits and
 * multiplied with vpmaddwd; exact for any int8.
 *
 * int8 (VNNI): vpdpbusd multiplies unsigned by signed bytes and adds groups
 * of four into 32-bit lanes, 64 products per instruction.  The row is made
 * unsigned by flipping its sign bit (r ^ 0x80 == r + 128 as a uint8), so the
 * instruction yields sum((r + 128) * q) = dot + 128 * sum(q); the second term
 * is computed once per call and subtracted.  No intermediate saturates
 * (vpdpbusd without "s" wraps, and |values| stay below 2^31 for dim <= 4096),
 * so the result is exact.  A dim that is not a multiple of 64 ends with a
 * masked load, which reads nothing past the row.
 */
#if defined(__x86_64__)

#include "retriever/scan.h"

#include <immintrin.h>

#define AVX512 __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl")))
#define AVX512_VNNI __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl,avx512vnni")))

/* The canonical tree over the 16 lanes of v. */
static inline AVX512 float reduce16(__m512 v) {
    __m256 lo = _mm512_castps512_ps256(v);
    __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
    __m256 t8 = _mm256_add_ps(lo, hi);
    __m128 t4 = _mm_add_ps(_mm256_castps256_ps128(t8), _mm256_extractf128_ps(t8, 1));
    __m128 t2 = _mm_add_ps(t4, _mm_movehl_ps(t4, t4));
    __m128 t1 = _mm_add_ss(t2, _mm_shuffle_ps(t2, t2, _MM_SHUFFLE(1, 1, 1, 1)));
    return _mm_cvtss_f32(t1);
}

AVX512 void scan_kernel_f32_avx512(const float *rows, size_t n, size_t dim, const float *query,
                                   float *scores) {
    size_t r = 0;
    for (; r + 4 <= n; r += 4) {
        const float *a = rows + r * dim, *b = a + dim, *c = b + dim, *d = c + dim;
        __m512 sa = _mm512_setzero_ps(), sb = sa, sc = sa, sd = sa;
        for (size_t i = 0; i < dim; i += 16) {
            __m512 q = _mm512_loadu_ps(query + i);
            sa = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), q, sa);
            sb = _mm512_fmadd_ps(_mm512_loadu_ps(b + i), q, sb);
            sc = _mm512_fmadd_ps(_mm512_loadu_ps(c + i), q, sc);
            sd = _mm512_fmadd_ps(_mm512_loadu_ps(d + i), q, sd);
        }
        scores[r] = reduce16(sa);
        scores[r + 1] = reduce16(sb);
        scores[r + 2] = reduce16(sc);
        scores[r + 3] = reduce16(sd);
    }
    for (; r < n; r++) {
        const float *a = rows + r * dim;
        __m512 sa = _mm512_setzero_ps();
        for (size_t i = 0; i < dim; i += 16)
            sa = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(query + i), sa);
        scores[r] = reduce16(sa);
    }
}

/* ---- int8 with AVX-512 BW ---- */

/* The sum of the dot products of 32 bytes at p with the widened query q. */
static inline AVX512 __m512i madd32(const int8_t *p, __m512i q) {
    return _mm512_madd_epi16(_mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)p)), q);
}

static inline AVX512 __m256i madd16(const int8_t *p, __m256i q) {
    return _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)p)), q);
}

/* Sum of one row: 32-byte steps, then a 16-byte tail when dim % 32 == 16. */
static inline AVX512 int32_t row_dot_bw(const int8_t *a, size_t dim, const int16_t *q16) {
    __m512i s = _mm512_setzero_si512();
    size_t i = 0;
    for (; i + 32 <= dim; i += 32)
        s = _mm512_add_epi32(s, madd32(a + i, _mm512_load_si512(q16 + i)));
    int32_t sum = _mm512_reduce_add_epi32(s);
    if (i < dim) {
        __m256i t = madd16(a + i, _mm256_load_si256((const __m256i *)(q16 + i)));
        sum += _mm512_reduce_add_epi32(_mm512_zextsi256_si512(t));
    }
    return sum;
}

AVX512 void scan_kernel_i8_avx512(const int8_t *rows, size_t n, size_t dim, const int8_t *query,
                                  int32_t *dots) {
    _Alignas(64) int16_t q16[SCAN_DIM_MAX];
    for (size_t i = 0; i < dim; i += 16)
        _mm256_store_si256((__m256i *)(q16 + i),
                           _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(query + i))));

    size_t full = dim & ~(size_t)31;
    size_t r = 0;
    for (; r + 4 <= n && full == dim; r += 4) {
        const int8_t *a = rows + r * dim, *b = a + dim, *c = b + dim, *d = c + dim;
        __m512i sa = _mm512_setzero_si512(), sb = sa, sc = sa, sd = sa;
        for (size_t i = 0; i < dim; i += 32) {
            __m512i q = _mm512_load_si512(q16 + i);
            sa = _mm512_add_epi32(sa, madd32(a + i, q));
            sb = _mm512_add_epi32(sb, madd32(b + i, q));
            sc = _mm512_add_epi32(sc, madd32(c + i, q));
            sd = _mm512_add_epi32(sd, madd32(d + i, q));
        }
        dots[r] = _mm512_reduce_add_epi32(sa);
        dots[r + 1] = _mm512_reduce_add_epi32(sb);
        dots[r + 2] = _mm512_reduce_add_epi32(sc);
        dots[r + 3] = _mm512_reduce_add_epi32(sd);
    }
    for (; r < n; r++)
        dots[r] = row_dot_bw(rows + r * dim, dim, q16);
}

/* ---- int8 with AVX-512 VNNI ---- */

static inline AVX512_VNNI __m512i dp64(__m512i acc, __m512i row, __m512i q) {
    const __m512i bias = _mm512_set1_epi8((char)0x80);
    return _mm512_dpbusd_epi32(acc, _mm512_xor_si512(row, bias), q);
}

AVX512_VNNI void scan_kernel_i8_avx512_vnni(const int8_t *rows, size_t n, size_t dim,
                                            const int8_t *query, int32_t *dots) {
    int32_t query_sum = 0;
    for (size_t i = 0; i < dim; i++)
        query_sum += query[i];
    const int32_t bias = 128 * query_sum;

    size_t full = dim & ~(size_t)63;
    /* dim - full is 0, 16, 32 or 48: the tail's byte mask. */
    __mmask64 tail = full == dim ? 0 : (((__mmask64)1 << (dim - full)) - 1);
    __m512i q_tail = _mm512_maskz_loadu_epi8(tail, query + full);

    size_t r = 0;
    for (; r + 4 <= n; r += 4) {
        const int8_t *a = rows + r * dim, *b = a + dim, *c = b + dim, *d = c + dim;
        __m512i sa = _mm512_setzero_si512(), sb = sa, sc = sa, sd = sa;
        for (size_t i = 0; i < full; i += 64) {
            __m512i q = _mm512_loadu_si512(query + i);
            sa = dp64(sa, _mm512_loadu_si512(a + i), q);
            sb = dp64(sb, _mm512_loadu_si512(b + i), q);
            sc = dp64(sc, _mm512_loadu_si512(c + i), q);
            sd = dp64(sd, _mm512_loadu_si512(d + i), q);
        }
        if (tail) {
            /* Masked-off row bytes read as 0, become 128 after the flip, and
             * meet a 0 in q_tail: they add nothing. */
            sa = dp64(sa, _mm512_maskz_loadu_epi8(tail, a + full), q_tail);
            sb = dp64(sb, _mm512_maskz_loadu_epi8(tail, b + full), q_tail);
            sc = dp64(sc, _mm512_maskz_loadu_epi8(tail, c + full), q_tail);
            sd = dp64(sd, _mm512_maskz_loadu_epi8(tail, d + full), q_tail);
        }
        dots[r] = _mm512_reduce_add_epi32(sa) - bias;
        dots[r + 1] = _mm512_reduce_add_epi32(sb) - bias;
        dots[r + 2] = _mm512_reduce_add_epi32(sc) - bias;
        dots[r + 3] = _mm512_reduce_add_epi32(sd) - bias;
    }
    for (; r < n; r++) {
        const int8_t *a = rows + r * dim;
        __m512i sa = _mm512_setzero_si512();
        for (size_t i = 0; i < full; i += 64)
            sa = dp64(sa, _mm512_loadu_si512(a + i), _mm512_loadu_si512(query + i));
        if (tail)
            sa = dp64(sa, _mm512_maskz_loadu_epi8(tail, a + full), q_tail);
        dots[r] = _mm512_reduce_add_epi32(sa) - bias;
    }
}

#endif
