/*
 * scan_avx2: the AVX2 + FMA kernels of the scan (x86-64 only).
 *
 * Compiled for any x86-64 and only called after scan_isa_supported() has
 * seen AVX2 and FMA, so every function here carries the target attribute
 * instead of the whole file being built with -mavx2.
 *
 * float32: a row's 16 canonical partial sums (scan.h) live in two 8-lane
 * registers, lanes 0-7 and 8-15, so the fused multiply-adds and the final
 * tree are exactly the scalar kernel's.  Four rows go together so that
 * eight independent FMA chains hide the FMA latency and each query load
 * serves four rows.
 *
 * int8: row bytes are sign-extended to 16 bits and multiplied with the
 * 16-bit query by vpmaddwd, which adds pairs into 32-bit lanes exactly
 * (|128 * 4095 * 2| is far from overflow).  Four rows' sums are reduced
 * together and turned into scores with one conversion and two multiplies,
 * rounded exactly as the scalar kernel rounds them.  Rows SCAN_PREFETCH_ROWS
 * ahead are prefetched (see scan.h).
 *
 * 4-bit: a 32-byte load is one group of 64 dims; masking and shifting give
 * the low nibbles (dims 0-31 of the group) and the high ones (32-63) as
 * unsigned bytes 0..15, which vpmaddubsw multiplies with the int8 query and
 * adds in pairs into int16 (at most 2 * 15 * 127, no saturation).  The two
 * halves are added in int16 (at most 4 * 15 * 127) and widened by vpmaddwd
 * against ones.  No byte widening as in the int8 kernel, and half the
 * bytes: the prefilter scan reads and computes half as much.
 */
#if defined(__x86_64__)

#include "retriever/scan.h"

#include <immintrin.h>

#define AVX2 __attribute__((target("avx2,fma")))

/* The canonical tree over lanes 0-7 (lo) and 8-15 (hi). */
static inline AVX2 float reduce16(__m256 lo, __m256 hi) {
    __m256 t8 = _mm256_add_ps(lo, hi);
    __m128 t4 = _mm_add_ps(_mm256_castps256_ps128(t8), _mm256_extractf128_ps(t8, 1));
    __m128 t2 = _mm_add_ps(t4, _mm_movehl_ps(t4, t4));
    __m128 t1 = _mm_add_ss(t2, _mm_shuffle_ps(t2, t2, _MM_SHUFFLE(1, 1, 1, 1)));
    return _mm_cvtss_f32(t1);
}

AVX2 void scan_kernel_f32_avx2(const float *rows, size_t n, size_t dim, const float *query,
                               float *scores) {
    size_t r = 0;
    for (; r + 4 <= n; r += 4) {
        const float *a = rows + r * dim, *b = a + dim, *c = b + dim, *d = c + dim;
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, b0 = a0, b1 = a0;
        __m256 c0 = a0, c1 = a0, d0 = a0, d1 = a0;
        for (size_t i = 0; i < dim; i += 16) {
            __m256 q0 = _mm256_loadu_ps(query + i), q1 = _mm256_loadu_ps(query + i + 8);
            a0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), q0, a0);
            a1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), q1, a1);
            b0 = _mm256_fmadd_ps(_mm256_loadu_ps(b + i), q0, b0);
            b1 = _mm256_fmadd_ps(_mm256_loadu_ps(b + i + 8), q1, b1);
            c0 = _mm256_fmadd_ps(_mm256_loadu_ps(c + i), q0, c0);
            c1 = _mm256_fmadd_ps(_mm256_loadu_ps(c + i + 8), q1, c1);
            d0 = _mm256_fmadd_ps(_mm256_loadu_ps(d + i), q0, d0);
            d1 = _mm256_fmadd_ps(_mm256_loadu_ps(d + i + 8), q1, d1);
        }
        scores[r] = reduce16(a0, a1);
        scores[r + 1] = reduce16(b0, b1);
        scores[r + 2] = reduce16(c0, c1);
        scores[r + 3] = reduce16(d0, d1);
    }
    for (; r < n; r++) {
        const float *a = rows + r * dim;
        __m256 a0 = _mm256_setzero_ps(), a1 = a0;
        for (size_t i = 0; i < dim; i += 16) {
            a0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(query + i), a0);
            a1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(query + i + 8), a1);
        }
        scores[r] = reduce16(a0, a1);
    }
}

/* The four horizontal sums of a, b, c, d, as one vector [a, b, c, d]. */
static inline AVX2 __m128i reduce4_i32(__m256i a, __m256i b, __m256i c, __m256i d) {
    __m256i abcd = _mm256_hadd_epi32(_mm256_hadd_epi32(a, b), _mm256_hadd_epi32(c, d));
    return _mm_add_epi32(_mm256_castsi256_si128(abcd), _mm256_extracti128_si256(abcd, 1));
}

/* scores[0..3] = (float)dots * scales[0..3] * query_scale, rounded as the scalar kernel does. */
static inline AVX2 void score4(__m128i dots, const float *scales, float query_scale,
                               float *scores) {
    __m128 s = _mm_mul_ps(_mm_cvtepi32_ps(dots), _mm_loadu_ps(scales));
    _mm_storeu_ps(scores, _mm_mul_ps(s, _mm_set1_ps(query_scale)));
}

/* 16 bytes at p, sign-extended to 16 x int16. */
static inline AVX2 __m256i load_i8_as_i16(const int8_t *p) {
    return _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)p));
}

AVX2 void scan_kernel_i8_avx2(const int8_t *rows, size_t n, size_t dim, const int16_t *q16,
                              const float *scales, float query_scale, float *scores) {
    size_t r = 0;
    for (; r + 4 <= n; r += 4) {
        const int8_t *a = rows + r * dim, *b = a + dim, *c = b + dim, *d = c + dim;
        __m256i sa = _mm256_setzero_si256(), sb = sa, sc = sa, sd = sa;
        if (r + SCAN_PREFETCH_ROWS + 4 <= n)
            for (size_t o = 0; o < 4 * dim; o += 64)
                _mm_prefetch((const char *)(a + SCAN_PREFETCH_ROWS * dim) + o, _MM_HINT_T0);
        for (size_t i = 0; i < dim; i += 16) {
            __m256i q = _mm256_load_si256((const __m256i *)(q16 + i));
            sa = _mm256_add_epi32(sa, _mm256_madd_epi16(load_i8_as_i16(a + i), q));
            sb = _mm256_add_epi32(sb, _mm256_madd_epi16(load_i8_as_i16(b + i), q));
            sc = _mm256_add_epi32(sc, _mm256_madd_epi16(load_i8_as_i16(c + i), q));
            sd = _mm256_add_epi32(sd, _mm256_madd_epi16(load_i8_as_i16(d + i), q));
        }
        score4(reduce4_i32(sa, sb, sc, sd), scales + r, query_scale, scores + r);
    }
    for (; r < n; r++) {
        const int8_t *a = rows + r * dim;
        __m256i sa = _mm256_setzero_si256();
        for (size_t i = 0; i < dim; i += 16)
            sa = _mm256_add_epi32(sa,
                                  _mm256_madd_epi16(load_i8_as_i16(a + i),
                                                    _mm256_load_si256((const __m256i *)(q16 + i))));
        int32_t dot = _mm_cvtsi128_si32(reduce4_i32(
            sa, _mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256()));
        scores[r] = (float)dot * scales[r] * query_scale;
    }
}

/* The dot products of one 4-bit group (32 bytes at p: 64 nibbles) with the
 * query's matching 64 values, as 8 int32 partial sums. */
static inline AVX2 __m256i dot_group_i4(const uint8_t *p, __m256i q_low, __m256i q_high) {
    const __m256i nibble = _mm256_set1_epi8(0x0f);
    __m256i x = _mm256_loadu_si256((const __m256i *)p);
    __m256i low = _mm256_and_si256(x, nibble);
    __m256i high = _mm256_and_si256(_mm256_srli_epi16(x, 4), nibble);
    __m256i pairs =
        _mm256_add_epi16(_mm256_maddubs_epi16(low, q_low), _mm256_maddubs_epi16(high, q_high));
    return _mm256_madd_epi16(pairs, _mm256_set1_epi16(1));
}

AVX2 void scan_kernel_i4_avx2(const uint8_t *rows, size_t n, size_t dim, const int8_t *q8,
                              int32_t query_sum, const float *scales, float query_scale,
                              float *scores) {
    size_t stride = SCAN_I4_ROW_BYTES(dim);
    __m128i offset = _mm_set1_epi32(8 * query_sum);
    size_t r = 0;
    for (; r + 4 <= n; r += 4) {
        const uint8_t *a = rows + r * stride, *b = a + stride, *c = b + stride, *d = c + stride;
        __m256i sa = _mm256_setzero_si256(), sb = sa, sc = sa, sd = sa;
        if (r + SCAN_PREFETCH_ROWS + 4 <= n)
            for (size_t o = 0; o < 4 * stride; o += 64)
                _mm_prefetch((const char *)(a + SCAN_PREFETCH_ROWS * stride) + o, _MM_HINT_T0);
        for (size_t g = 0; g < stride; g += 32) {
            __m256i ql = _mm256_load_si256((const __m256i *)(q8 + 2 * g));
            __m256i qh = _mm256_load_si256((const __m256i *)(q8 + 2 * g + 32));
            sa = _mm256_add_epi32(sa, dot_group_i4(a + g, ql, qh));
            sb = _mm256_add_epi32(sb, dot_group_i4(b + g, ql, qh));
            sc = _mm256_add_epi32(sc, dot_group_i4(c + g, ql, qh));
            sd = _mm256_add_epi32(sd, dot_group_i4(d + g, ql, qh));
        }
        __m128i dots = _mm_sub_epi32(reduce4_i32(sa, sb, sc, sd), offset);
        score4(dots, scales + r, query_scale, scores + r);
    }
    for (; r < n; r++) {
        const uint8_t *a = rows + r * stride;
        __m256i sa = _mm256_setzero_si256();
        for (size_t g = 0; g < stride; g += 32)
            sa = _mm256_add_epi32(
                sa, dot_group_i4(a + g, _mm256_load_si256((const __m256i *)(q8 + 2 * g)),
                                 _mm256_load_si256((const __m256i *)(q8 + 2 * g + 32))));
        int32_t dot = _mm_cvtsi128_si32(reduce4_i32(
            sa, _mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256()));
        scores[r] = (float)(dot - 8 * query_sum) * scales[r] * query_scale;
    }
}

#endif
