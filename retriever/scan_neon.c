/*
 * scan_neon: the arm64 Advanced SIMD kernels of the scan.
 *
 * NEON is part of the arm64 baseline, so nothing is detected at run time.
 *
 * float32: a row's 16 canonical partial sums (scan.h) live in four 4-lane
 * registers (lanes 0-3, 4-7, 8-11, 12-15) and are accumulated with fused
 * multiply-add (vfmaq_f32), then reduced in the scalar kernel's tree:
 * j + j+8 is (v0 + v2, v1 + v3), j + j+4 adds those two, then j + j+2 and
 * j + j+1 within the last register.  Four rows go together for sixteen
 * independent FMA chains.
 *
 * int8: row bytes are widened to 16 bits (vmovl) and multiplied with the
 * 16-bit query into 32-bit lanes (vmlal_s16); exact for any int8 row and
 * query within +-4095.  (The sdot instruction takes int8 on both sides, so
 * it does not apply to the finer query.)  Four rows' sums are combined with
 * pairwise adds and turned into scores with the scalar kernel's roundings;
 * rows SCAN_PREFETCH_ROWS ahead are prefetched (see scan.h).
 */
#if defined(__aarch64__)

#include "retriever/scan.h"

#include <arm_neon.h>

static inline float reduce16(float32x4_t v0, float32x4_t v1, float32x4_t v2, float32x4_t v3) {
    float32x4_t t8_lo = vaddq_f32(v0, v2); /* lanes 0-3 of j + j+8 */
    float32x4_t t8_hi = vaddq_f32(v1, v3); /* lanes 4-7 */
    float32x4_t t4 = vaddq_f32(t8_lo, t8_hi);
    float32x2_t t2 = vadd_f32(vget_low_f32(t4), vget_high_f32(t4));
    return vget_lane_f32(t2, 0) + vget_lane_f32(t2, 1);
}

void scan_kernel_f32_neon(const float *rows, size_t n, size_t dim, const float *query,
                          float *scores) {
    size_t r = 0;
    for (; r + 4 <= n; r += 4) {
        const float *p[4] = {rows + r * dim, rows + (r + 1) * dim, rows + (r + 2) * dim,
                             rows + (r + 3) * dim};
        float32x4_t s[4][4];
        for (int x = 0; x < 4; x++)
            for (int l = 0; l < 4; l++)
                s[x][l] = vdupq_n_f32(0.0f);
        for (size_t i = 0; i < dim; i += 16) {
            float32x4_t q0 = vld1q_f32(query + i), q1 = vld1q_f32(query + i + 4);
            float32x4_t q2 = vld1q_f32(query + i + 8), q3 = vld1q_f32(query + i + 12);
            for (int x = 0; x < 4; x++) {
                s[x][0] = vfmaq_f32(s[x][0], vld1q_f32(p[x] + i), q0);
                s[x][1] = vfmaq_f32(s[x][1], vld1q_f32(p[x] + i + 4), q1);
                s[x][2] = vfmaq_f32(s[x][2], vld1q_f32(p[x] + i + 8), q2);
                s[x][3] = vfmaq_f32(s[x][3], vld1q_f32(p[x] + i + 12), q3);
            }
        }
        for (int x = 0; x < 4; x++)
            scores[r + x] = reduce16(s[x][0], s[x][1], s[x][2], s[x][3]);
    }
    for (; r < n; r++) {
        const float *a = rows + r * dim;
        float32x4_t s0 = vdupq_n_f32(0.0f), s1 = s0, s2 = s0, s3 = s0;
        for (size_t i = 0; i < dim; i += 16) {
            s0 = vfmaq_f32(s0, vld1q_f32(a + i), vld1q_f32(query + i));
            s1 = vfmaq_f32(s1, vld1q_f32(a + i + 4), vld1q_f32(query + i + 4));
            s2 = vfmaq_f32(s2, vld1q_f32(a + i + 8), vld1q_f32(query + i + 8));
            s3 = vfmaq_f32(s3, vld1q_f32(a + i + 12), vld1q_f32(query + i + 12));
        }
        scores[r] = reduce16(s0, s1, s2, s3);
    }
}

/* Adds the 16 products of a[0..15] and q[0..15] into the four lanes of acc. */
static inline int32x4_t dot16(int32x4_t acc, int8x16_t a, const int16_t *q) {
    int16x8_t lo = vmovl_s8(vget_low_s8(a)), hi = vmovl_high_s8(a);
    int16x8_t q0 = vld1q_s16(q), q1 = vld1q_s16(q + 8);
    acc = vmlal_s16(acc, vget_low_s16(lo), vget_low_s16(q0));
    acc = vmlal_high_s16(acc, lo, q0);
    acc = vmlal_s16(acc, vget_low_s16(hi), vget_low_s16(q1));
    return vmlal_high_s16(acc, hi, q1);
}

void scan_kernel_i8_neon(const int8_t *rows, size_t n, size_t dim, const int16_t *query,
                         const float *scales, float query_scale, float *scores) {
    size_t r = 0;
    for (; r + 4 <= n; r += 4) {
        const int8_t *a = rows + r * dim, *b = a + dim, *c = b + dim, *d = c + dim;
        int32x4_t sa = vdupq_n_s32(0), sb = sa, sc = sa, sd = sa;
        if (r + SCAN_PREFETCH_ROWS + 4 <= n)
            for (size_t o = 0; o < 4 * dim; o += 64)
                __builtin_prefetch(a + SCAN_PREFETCH_ROWS * dim + o);
        for (size_t i = 0; i < dim; i += 16) {
            sa = dot16(sa, vld1q_s8(a + i), query + i);
            sb = dot16(sb, vld1q_s8(b + i), query + i);
            sc = dot16(sc, vld1q_s8(c + i), query + i);
            sd = dot16(sd, vld1q_s8(d + i), query + i);
        }
        /* Pairwise adds leave [a, b, c, d]; then the scalar kernel's roundings. */
        int32x4_t dots = vpaddq_s32(vpaddq_s32(sa, sb), vpaddq_s32(sc, sd));
        float32x4_t s = vmulq_f32(vcvtq_f32_s32(dots), vld1q_f32(scales + r));
        vst1q_f32(scores + r, vmulq_n_f32(s, query_scale));
    }
    for (; r < n; r++) {
        const int8_t *a = rows + r * dim;
        int32x4_t sa = vdupq_n_s32(0);
        for (size_t i = 0; i < dim; i += 16)
            sa = dot16(sa, vld1q_s8(a + i), query + i);
        scores[r] = (float)vaddvq_s32(sa) * scales[r] * query_scale;
    }
}

#endif
