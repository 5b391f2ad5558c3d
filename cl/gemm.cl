/* fer-cl's own SGEMM for CPU devices (PoCL): packed panels + a register-tiled
 * micro-kernel.
 *
 * C[M×N] = alpha · op(A)[M×K] · op(B)[K×N] + beta · C, in three kinds of launch:
 *   gemm_pack_p / gemm_pack_k  copy A (or B) into panels: the logical matrix X
 *       [P×K] (P = M for A, N for B) becomes ceil(P/W) panels of [K][W] floats,
 *       out[((p/W)·kp + k)·W + p%W], zero-padded beyond P. Reading through two
 *       strides (sp, sk) covers both transposes; _p walks p fastest (use when
 *       sp = 1), _k walks k fastest (when sk = 1), so consecutive work-items read
 *       consecutive memory and PoCL vectorizes the copy.
 *   gemm_panel  one work-item computes GEMM_MR × (8·GEMM_NV) tiles of C from A
 *       panels and a B panel: per k, GEMM_NV float8 loads of B, GEMM_MR
 *       broadcasts of A and GEMM_MR·GEMM_NV fused multiply-adds into float8
 *       accumulators that stay in registers (6 × 16 is the classic AVX2 shape:
 *       12 accumulators + 2 B vectors + 1 broadcast = 15 of 16 ymm registers).
 *       Packed panels are contiguous, so the loop is streaming loads and FMAs
 *       with no strides, TLB misses or bounds checks; edges are zero-padded in
 *       the panels and masked only when storing.
 * Explicit float8 (not PoCL's work-item vectorization) because the tile must
 * stay in registers across the k loop, which a per-work-item scalar tile would
 * not. Each output is one fixed-order sum: deterministic.
 * The im2col kernels (cl/conv2d.cl) write convolution column matrices straight
 * into the B-panel layout. */

#ifndef GEMM_MR
#define GEMM_MR 6
#endif
#ifndef GEMM_NV
#define GEMM_NV 2
#endif
#define GEMM_NR (8 * GEMM_NV)

/* ---- packing ----
 * Work-item (t, k) — or (k block, t) — writes panel t's row k: `width`
 * consecutive floats. _p reads them as a run of consecutive p (sp = 1);
 * _k reads 8 consecutive k of each of the panel's `width` rows (sk = 1) and
 * writes 8 panel rows. Both accept any strides; the unit stride is the fast
 * one. */

__kernel void gemm_pack_p(__global const float *x, const uint x_off, const uint sp,
                          const uint sk, const uint p_count, const uint k_count,
                          const uint p_padded, const uint width, __global float *out,
                          const uint out_off, const uint kp) {
  const uint t = get_global_id(0), k = get_global_id(1); /* consecutive reads along p */
  if (k >= k_count || t * width >= p_padded) return;
  const uint p0 = t * width;
  const uint valid = p_count > p0 ? min(width, p_count - p0) : 0u;
  __global const float *src = x + x_off + p0 * sp + k * sk;
  __global float *dst = out + out_off + (t * kp + k) * width;
  uint j = 0;
  if (sp == 1u)
    for (; j < valid; j++) dst[j] = src[j];
  else
    for (; j < valid; j++) dst[j] = src[j * sp];
  for (; j < width; j++) dst[j] = 0.0f;
}

__kernel void gemm_pack_k(__global const float *x, const uint x_off, const uint sp,
                          const uint sk, const uint p_count, const uint k_count,
                          const uint p_padded, const uint width, __global float *out,
                          const uint out_off, const uint kp) {
  const uint kb = get_global_id(0), t = get_global_id(1);
  const uint k0 = kb * 8u;
  if (k0 >= k_count || t * width >= p_padded) return;
  const uint p0 = t * width;
  const uint valid = p_count > p0 ? min(width, p_count - p0) : 0u;
  const uint kn = min(8u, k_count - k0);
  __global float *dst = out + out_off + (t * kp + k0) * width;
  for (uint j = 0; j < width; j++) {
    float v[8] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
    if (j < valid) {
      __global const float *src = x + x_off + (p0 + j) * sp + k0 * sk;
      if (kn == 8u && sk == 1u) {
        vstore8(vload8(0, src), 0, v);
      } else {
        for (uint kk = 0; kk < kn; kk++) v[kk] = src[kk * sk];
      }
    }
    for (uint kk = 0; kk < kn; kk++) dst[kk * width + j] = v[kk];
  }
}

/* ---- the micro-kernel ---- */

#if GEMM_MR == 4
#define GEMM_ROWS(X) X(0) X(1) X(2) X(3)
#elif GEMM_MR == 5
#define GEMM_ROWS(X) X(0) X(1) X(2) X(3) X(4)
#elif GEMM_MR == 6
#define GEMM_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)
#elif GEMM_MR == 8
#define GEMM_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#elif GEMM_MR == 12
#define GEMM_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#elif GEMM_MR == 16
#define GEMM_ROWS(X) \
  X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15)
#else
#error "GEMM_MR must be 4, 5, 6, 8, 12 or 16"
#endif

#if GEMM_NV == 1
#define GEMM_DECL(i) float8 c##i##_0 = 0.0f;
#define GEMM_LOADB const float8 b0 = vload8(0, bp);
#define GEMM_FMA(i)                     \
  {                                     \
    const float8 a_ = (float8)(ap[i]); \
    c##i##_0 = fma(a_, b0, c##i##_0);   \
  }
#define GEMM_STORE(i) gemm_store8(c, i, n0, M, N, ldc, alpha, beta, m0, c##i##_0, 0);
#elif GEMM_NV == 2 && defined(GEMM_V16)
/* 16 columns as one float16: one 512-bit register per tile row where the
 * device has them (half the instructions of two float8). */
#define GEMM_DECL(i) float16 c##i = 0.0f;
#define GEMM_LOADB const float16 b0 = vload16(0, bp);
#define GEMM_FMA(i) c##i = fma((float16)(ap[i]), b0, c##i);
#define GEMM_STORE(i)                                                 \
  gemm_store8(c, i, n0, M, N, ldc, alpha, beta, m0, c##i.lo, 0); \
  gemm_store8(c, i, n0, M, N, ldc, alpha, beta, m0, c##i.hi, 8);
#define GEMM_ROW16(i, v) vstore16(c##i, 0, v);
#elif GEMM_NV == 2
#define GEMM_ROW16(i, v) vstore8(c##i##_0, 0, v); vstore8(c##i##_1, 1, v);
#define GEMM_DECL(i) float8 c##i##_0 = 0.0f, c##i##_1 = 0.0f;
#define GEMM_LOADB const float8 b0 = vload8(0, bp), b1 = vload8(1, bp);
#define GEMM_FMA(i)                     \
  {                                     \
    const float8 a_ = (float8)(ap[i]); \
    c##i##_0 = fma(a_, b0, c##i##_0);   \
    c##i##_1 = fma(a_, b1, c##i##_1);   \
  }
#define GEMM_STORE(i)                                                    \
  gemm_store8(c, i, n0, M, N, ldc, alpha, beta, m0, c##i##_0, 0); \
  gemm_store8(c, i, n0, M, N, ldc, alpha, beta, m0, c##i##_1, 8);
#elif GEMM_NV == 3
#define GEMM_DECL(i) float8 c##i##_0 = 0.0f, c##i##_1 = 0.0f, c##i##_2 = 0.0f;
#define GEMM_LOADB const float8 b0 = vload8(0, bp), b1 = vload8(1, bp), b2 = vload8(2, bp);
#define GEMM_FMA(i)                     \
  {                                     \
    const float8 a_ = (float8)(ap[i]); \
    c##i##_0 = fma(a_, b0, c##i##_0);   \
    c##i##_1 = fma(a_, b1, c##i##_1);   \
    c##i##_2 = fma(a_, b2, c##i##_2);   \
  }
#define GEMM_STORE(i)                                                     \
  gemm_store8(c, i, n0, M, N, ldc, alpha, beta, m0, c##i##_0, 0);  \
  gemm_store8(c, i, n0, M, N, ldc, alpha, beta, m0, c##i##_1, 8);  \
  gemm_store8(c, i, n0, M, N, ldc, alpha, beta, m0, c##i##_2, 16);
#else
#error "GEMM_NV must be 1, 2 or 3"
#endif

/* Row i of the tile, columns n0+j0 .. n0+j0+7 (those inside C):
 * C = alpha·v + beta·C, with beta = 0 never reading C (it may hold NaN). */
void gemm_store8(__global float *c, const int i, const int n0, const int M, const int N,
                 const uint ldc, const float alpha, const float beta, const int m0, const float8 v,
                 const int j0) {
  if (m0 + i >= M) return;
  const int valid = N - (n0 + j0);
  if (valid <= 0) return;
  __global float *row = c + (uint)(m0 + i) * ldc + (uint)(n0 + j0);
  if (valid >= 8) {
    float8 r = alpha * v;
    if (beta != 0.0f) r = fma((float8)beta, vload8(0, row), r);
    vstore8(r, 0, row);
  } else {
    float t[8];
    vstore8(alpha * v, 0, t);
    for (int j = 0; j < valid; j++) row[j] = beta != 0.0f ? fma(beta, row[j], t[j]) : t[j];
  }
}

/* Work-item (tn, g, batch) owns column panel tn of C (GEMM_NR columns) for the
 * tile rows of group g: tiles tm_begin .. tm_end−1 (m_per_group tiles each).
 * It walks k in blocks of kc; inside a block it runs every tile of its rows, so
 * the block's B slice (kc × GEMM_NR floats) is read from memory once and then
 * from L1, and each tile's accumulators live in registers for the whole block.
 * Blocks after the first add to C (beta = 1): C = ((alpha·acc₀ + beta·C) +
 * alpha·acc₁) + …, a fixed order. One launch per GEMM. Panels: A tile tm at
 * a_off + batch·a_batch + tm·a_panel, B tile tn at b_off + batch·b_batch +
 * tn·b_panel; k advances GEMM_MR (resp. b_step) floats: B is packed panels
 * (b_step = GEMM_NR) or a row-major matrix read in place (b_step = ldb). */
__kernel void gemm_panel(const int M, const int N, const int K, const int kc, const float alpha,
                         __global const float *a, const uint a_off, const uint a_panel,
                         const uint a_batch, __global const float *b, const uint b_off,
                         const uint b_panel, const uint b_step, const uint b_batch,
                         const float beta, __global float *cmat, const uint c_off, const uint ldc,
                         const uint c_batch, const int m_per_group) {
  const int tn = get_global_id(0), g = get_global_id(1);
  const uint batch = get_global_id(2);
  const int n0 = tn * GEMM_NR;
  const int m_tiles = (M + GEMM_MR - 1) / GEMM_MR;
  const int tm_begin = g * m_per_group, tm_end = min(m_tiles, tm_begin + m_per_group);
  if (n0 >= N || tm_begin >= tm_end) return;
  __global const float *abase = a + a_off + batch * a_batch;
  __global const float *bbase = b + b_off + batch * b_batch + (uint)tn * b_panel;
  __global float *c = cmat + c_off + batch * c_batch;
  int k0 = 0;
  do {
    const int kb = min(kc, K - k0);
    const float beta_k = k0 == 0 ? beta : 1.0f;
    for (int tm = tm_begin; tm < tm_end; tm++) {
      const int m0 = tm * GEMM_MR;
      __global const float *ap = abase + (uint)tm * a_panel + (uint)k0 * GEMM_MR;
      __global const float *bp = bbase + (uint)k0 * b_step;
      GEMM_ROWS(GEMM_DECL)
      for (int k = 0; k < kb; k++) {
        GEMM_LOADB
        GEMM_ROWS(GEMM_FMA)
        ap += GEMM_MR;
        bp += b_step;
      }
      {
        const float beta = beta_k; /* GEMM_STORE uses `beta` */
        GEMM_ROWS(GEMM_STORE)
      }
    }
    k0 += kb;
  } while (k0 < K);
}

/* ---- implicit GEMM for stride-1 "same" convolutions (CNHW) ----
 * The B operand is the column matrix of a source tensor src [C][N·H·W], never
 * stored: for k row r = (c, i, j) and column q, B[r][q] = src[c][q + s(i,j)]
 * with s(i,j) = (i − pad)·W + (j − pad), zero where the shifted pixel leaves
 * the image (the same masks as cl/conv2d.cl's shifted copies).
 *   forward:        Y = W · cols(x)      src = x
 *   backward-data:  dX = W̃ · cols(dY)    src = dY, W̃ the transposed weights rotated
 *                   by 180° (gemm_pack_wflip): the transposed convolution of a stride-1
 *                   same convolution is such a convolution.
 * (Negated shifts with unrotated weights compute the same but measured ~25%
 * slower on PoCL.) A work-item builds the kc × 16 slice of its column
 * panel in private memory — the im2col of 16 columns, in L1 — and runs every
 * row tile of its group over it, so no column matrix goes through memory. */
#ifndef GEMM_KC_MAX
#define GEMM_KC_MAX 256
#endif

int8 gemm_iota8(void) { return (int8)(0, 1, 2, 3, 4, 5, 6, 7); }

#if GEMM_NV == 2 /* 16-column panels only */
__kernel void conv_panel_s1(const int M, const int N, const int K, const int kc,
                            __global const float *a, const uint a_off, const uint a_panel,
                            __global const float *src, const uint src_off, const uint sc,
                            const int h, const int w, const int kh, const int kw, const int pad,
                            const float beta, __global float *cmat,
                            const uint c_off, const uint ldc, const int m_per_group) {
  const int tn = get_global_id(0), g = get_global_id(1);
  const int n0 = tn * 16;
  const int m_tiles = (M + GEMM_MR - 1) / GEMM_MR;
  const int tm_begin = g * m_per_group, tm_end = min(m_tiles, tm_begin + m_per_group);
  if (n0 >= N || tm_begin >= tm_end) return;
  /* (oy, ox) of the panel's 16 columns, and which exist. */
  int8 oy[2], ox[2], live[2];
  for (int hf = 0; hf < 2; hf++) {
    const int8 q = (int8)(n0 + 8 * hf) + gemm_iota8();
    const int8 r = q % (int8)(h * w);
    oy[hf] = r / (int8)(w);
    ox[hf] = r - oy[hf] * (int8)(w);
    live[hf] = q < (int8)(N);
  }
  const float alpha = 1.0f;
  const int khw = kh * kw;
  /* Masks of the kernel offsets (i, j) for the 16 columns, computed once: up to
   * 7×7 offsets in private memory; larger kernels compute them per row. */
  int8 okm[49][2];
  const int cached = khw <= 49;
  for (int ij = 0; ij < khw && cached; ij++) {
    /* ij − i·kw, not ij % kw: LLVM turns a / and % pair into a "freeze"
     * instruction that Oclgrind 21.10's --uninitialized check aborts on. */
    const int i = ij / kw, dy = i - pad, dx = ij - i * kw - pad;
    for (int hf = 0; hf < 2; hf++) {
      const int8 yy = oy[hf] + (int8)(dy), xx = ox[hf] + (int8)(dx);
      okm[ij][hf] = live[hf] & (yy >= (int8)(0)) & (yy < (int8)(h)) & (xx >= (int8)(0)) &
                    (xx < (int8)(w));
    }
  }
  float bs[GEMM_KC_MAX * 16];
  int k0 = 0;
  do {
    const int kb = min(kc, K - k0);
    /* Build the slice: rows k0 .. k0+kb−1 of the 16 columns. */
    int c = k0 / khw, ij = k0 - c * khw;
    int i = ij / kw, j = ij - i * kw;
    for (int rr = 0; rr < kb; rr++) {
      const int dy = i - pad, dx = j - pad;
      const int at0 = n0 + dy * w + dx;
      __global const float *row = src + src_off + (uint)c * sc;
      for (int hf = 0; hf < 2; hf++) {
        const int at = at0 + 8 * hf;
        int8 ok;
        if (cached) {
          ok = okm[ij][hf];
        } else {
          const int8 yy = oy[hf] + (int8)(dy), xx = ox[hf] + (int8)(dx);
          ok = live[hf] & (yy >= (int8)(0)) & (yy < (int8)(h)) & (xx >= (int8)(0)) &
               (xx < (int8)(w));
        }
        float8 v;
        if (at >= 0 && at + 8 <= N) {
          v = vload8(0, row + at);
        } else {
          float t[8];
          for (int l = 0; l < 8; l++) t[l] = (at + l >= 0 && at + l < N) ? row[at + l] : 0.0f;
          v = vload8(0, t);
        }
        vstore8(select((float8)(0.0f), v, ok), 0, bs + rr * 16 + 8 * hf);
      }
      ij++;
      if (++j == kw) {
        j = 0;
        if (++i == kh) {
          i = 0;
          ij = 0;
          c++;
        }
      }
    }
    const float beta_k = k0 == 0 ? beta : 1.0f;
    for (int tm = tm_begin; tm < tm_end; tm++) {
      const int m0 = tm * GEMM_MR;
      __global const float *ap = a + a_off + (uint)tm * a_panel + (uint)k0 * GEMM_MR;
      const float *bp = bs;
      GEMM_ROWS(GEMM_DECL)
      for (int k = 0; k < kb; k++) {
        GEMM_LOADB
        GEMM_ROWS(GEMM_FMA)
        ap += GEMM_MR;
        bp += GEMM_NR;
      }
      {
        __global float *c = cmat + c_off;
        const float beta = beta_k;
        GEMM_ROWS(GEMM_STORE)
      }
    }
    k0 += kb;
  } while (k0 < K);
}

/* Implicit GEMM on batch panels, for convolutions whose taps often fall in
 * the padding (small planes) and strided ones: a work-item's 16 columns are
 * 16 samples at one output pixel p, so a kernel tap lies inside the image for
 * all of them or for none, and the taps that fall in the padding are skipped
 * instead of multiplied by zeros (on a 2×2 plane 5 of a 3×3 kernel's 9 taps,
 * on 3×3 planes 32 of 81). k runs over the valid taps and, inside each, the
 * channels: A holds the weights tap-major, A[m][ij·C + c] (gemm_pack_wtap),
 * and the source comes in batch panels (conv_batch_panels: xb[(block·H·W +
 * pixel)·C + c][16 samples]), so a tap's A rows and B rows are both
 * contiguous runs of C·16 floats, read in place: no slice is built, and each
 * tile's accumulators stay in registers over the whole K, so C is written
 * once (16 samples are OH·OW floats apart in C, a strided store that per k
 * block would cost as much as the block's FMAs). C columns are
 * q = n·OH·OW + p. Forward: src = x, any stride and padding; backward-data of
 * a stride-1 same convolution: src = dY with the rotated, transposed weights
 * (as conv_panel_s1). Work-item (p + OH·OW·sample block, group). */
__kernel void conv_tap(const int M, const int n_batch, const int channels,
                       __global const float *a, const uint a_off, const uint a_panel,
                       __global const float *xb, const uint xb_off, const int h, const int w,
                       const int oh, const int ow, const int kh, const int kw, const int stride,
                       const int pad, const float beta, __global float *cmat, const uint c_off,
                       const uint ldc, const int m_per_group) {
  const int id = get_global_id(0), g = get_global_id(1);
  const int oplane = oh * ow;
  const int block = id / oplane, p = id - block * oplane, n0 = block * 16;
  const int m_tiles = (M + GEMM_MR - 1) / GEMM_MR;
  const int tm_begin = g * m_per_group, tm_end = min(m_tiles, tm_begin + m_per_group);
  if (n0 >= n_batch || tm_begin >= tm_end) return;
  const int nl = min(16, n_batch - n0);
  const int y = p / ow, x = p - y * ow;
  /* The taps inside the image at p (kernels up to 7×7; the host checks): A
   * and B offsets of their runs. */
  uint a_at[49], b_at[49];
  int taps = 0;
  for (int ij = 0; ij < kh * kw && ij < 49; ij++) {
    const int i = ij / kw, j = ij - i * kw; /* no %: see tools/oclgrind.sh */
    const int iy = y * stride + i - pad, ix = x * stride + j - pad;
    if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
      a_at[taps] = (uint)(ij * channels * GEMM_MR);
      b_at[taps++] = (uint)(block * h * w + iy * w + ix) * (uint)channels * 16u;
    }
  }
  __global const float *bbase = xb + xb_off;
  __global float *cq = cmat + c_off + (uint)(n0 * oplane + p);
  for (int tm = tm_begin; tm < tm_end; tm++) {
    __global const float *abase = a + a_off + (uint)tm * a_panel;
    GEMM_ROWS(GEMM_DECL)
    for (int t = 0; t < taps; t++) {
      __global const float *ap = abase + a_at[t];
      __global const float *bp = bbase + b_at[t];
      for (int k = 0; k < channels; k++) {
        GEMM_LOADB
        GEMM_ROWS(GEMM_FMA)
        ap += GEMM_MR;
        bp += 16;
      }
    }
    const int m0 = tm * GEMM_MR;
#define GEMM_STORE_T(i)                                                              \
  if (m0 + i < M) {                                                                  \
    float v_[16];                                                                    \
    GEMM_ROW16(i, v_)                                                                \
    __global float *r_ = cq + (uint)(m0 + i) * ldc;                                  \
    for (int l = 0; l < nl; l++)                                                     \
      r_[l * oplane] = beta == 0.0f ? v_[l] : fma(beta, r_[l * oplane], v_[l]);      \
  }
    GEMM_ROWS(GEMM_STORE_T)
#undef GEMM_STORE_T
  }
}

/* Batch panels of src [C][N·H·W] for conv_tap: xb[((b·HW + p)·C + c)·16 + l]
 * = src[c][(16·b + l)·HW + p], zero for samples past the batch. Work-item
 * (b·HW + p, c). */
__kernel void conv_batch_panels(__global const float *src, const uint src_off, const uint sc,
                                const int n_batch, const int plane, const int channels,
                                __global float *xb, const uint xb_off) {
  const int id = get_global_id(0), c = get_global_id(1);
  const int block = id / plane, p = id - block * plane, n0 = block * 16;
  if (n0 >= n_batch || c >= channels) return;
  const int nl = min(16, n_batch - n0);
  __global const float *s = src + src_off + (uint)c * sc + (uint)(n0 * plane + p);
  float t[16];
  for (int l = 0; l < 16; l++) t[l] = l < nl ? s[l * plane] : 0.0f;
  __global float *dst = xb + xb_off + ((uint)id * (uint)channels + (uint)c) * 16u;
  vstore8(vload8(0, t), 0, dst);
  vstore8(vload8(1, t), 0, dst + 8);
}

/* Weight gradient of a stride-1 same convolution, dW = dY · colsᵀ, with the
 * source channel-last: xt[q][c] = x[c][q] (gemm_transpose_cl), so the 16 B
 * values of a k step (one pixel q, rows r' = ij·C + c0 .. c0+15, i.e. 16
 * channels at one kernel offset ij) are 16 consecutive floats of xt (pixels
 * whose shifted source leaves the image are skipped): two vector loads and
 * no index arithmetic in the inner loop (the row offsets of a k block are
 * computed once per block). C must be a multiple of 16. The result dW' is in
 * [c_out][ij·C + c] order (contiguous stores); wgrad_permute reorders it into
 * dW. One launch covers
 * columns q_begin .. q_begin+kq−1; A panels (dY, packed) start at that column. */
__kernel void conv_wgrad_s1(const int M, const int channels, const int kq, const int kc,
                            __global const float *a, const uint a_off, const uint a_panel,
                            __global const float *xt, const uint xt_off, const int h, const int w,
                            const int kh, const int kw, const int pad, const int q_begin,
                            const float beta, __global float *dw,
                            const uint dw_off, const int m_per_group) {
  const int tn = get_global_id(0), g = get_global_id(1);
  const int khw = kh * kw;
  const int r0 = tn * 16;
  const int m_tiles = (M + GEMM_MR - 1) / GEMM_MR;
  const int tm_begin = g * m_per_group, tm_end = min(m_tiles, tm_begin + m_per_group);
  if (r0 >= channels * khw || tm_begin >= tm_end) return;
  const int ij = r0 / channels, c0 = r0 - ij * channels;
  const int i = ij / kw, j = ij - i * kw;
  const int dy = i - pad, dx = j - pad, shift = dy * w + dx;
  /* The k block's B slice, copied into private memory: consecutive pixels are
   * C floats apart in xt (a power-of-two stride that would keep few of them in
   * L1's sets), contiguous here. */
  float bs[GEMM_KC_MAX * 16];
  /* Pixels whose shifted source lies in the padding add exact zeros: they are
   * left out of the slice (kept: `live` of them, at block rows qrow[]), so on
   * small planes the work follows the taps that reach the image. */
  int qrow[GEMM_KC_MAX];
  int k0 = 0;
  do {
    const int kb = min(kc, kq - k0);
    int q = q_begin + k0;
    const int plane = h * w;
    int rem = q % plane;
    int oy = rem / w, ox = rem - oy * w;
    int live = 0;
    for (int kk = 0; kk < kb; kk++) {
      const int yy = oy + dy, xx = ox + dx;
      if (yy >= 0 && yy < h && xx >= 0 && xx < w) {
        __global const float *src = xt + xt_off + (uint)(q + shift) * (uint)channels + (uint)c0;
        vstore8(vload8(0, src), 0, bs + live * 16);
        vstore8(vload8(1, src), 0, bs + live * 16 + 8);
        qrow[live++] = kk;
      }
      q++;
      if (++ox == w) {
        ox = 0;
        if (++oy == h) oy = 0;
      }
    }
    const float beta_k = k0 == 0 ? beta : 1.0f;
    for (int tm = tm_begin; tm < tm_end; tm++) {
      const int m0 = tm * GEMM_MR;
      __global const float *ap = a + a_off + (uint)tm * a_panel + (uint)k0 * GEMM_MR;
      GEMM_ROWS(GEMM_DECL)
      const float *bp = bs;
      if (live == kb) {
        for (int k = 0; k < kb; k++) {
          GEMM_LOADB
          GEMM_ROWS(GEMM_FMA)
          ap += GEMM_MR;
          bp += 16;
        }
      } else {
        __global const float *ap0 = ap;
        for (int k = 0; k < live; k++) {
          ap = ap0 + qrow[k] * GEMM_MR;
          GEMM_LOADB
          GEMM_ROWS(GEMM_FMA)
          bp += 16;
        }
      }
      {
        /* Rows of dW' [c_out][ij·C + c] (permuted to dW by wgrad_permute). */
        __global float *c = dw + dw_off;
        const float beta = beta_k;
        const int n0 = r0, N = channels * khw;
        const uint ldc = (uint)N;
        const float alpha = 1.0f;
        GEMM_ROWS(GEMM_STORE)
      }
    }
    k0 += kb;
  } while (k0 < kq);
}

/* dW[o][c·KHW + ij] = (accumulate ? dW : 0) + dW'[o][ij·C + c]. */
__kernel void wgrad_permute(__global const float *dwp, const uint dwp_off, __global float *dw,
                            const uint dw_off, const uint channels, const uint khw,
                            const uint c_out, const int accumulate) {
  const uint e = get_global_id(0), o = get_global_id(1);
  const uint k = channels * khw;
  if (e >= k || o >= c_out) return;
  const uint c = e / khw, ij = e - c * khw;
  const float v = dwp[dwp_off + o * k + ij * channels + c];
  const uint at = dw_off + o * k + e;
  dw[at] = accumulate ? dw[at] + v : v;
}

/* xt[q][c] = x[c][q] (q < cols). Work-item (q, 16-channel block). */
__kernel void gemm_transpose_cl(__global const float *x, const uint x_off, const uint cols,
                                const uint channels, __global float *xt, const uint xt_off) {
  const uint q = get_global_id(0), cb = get_global_id(1);
  if (q >= cols || cb * 16u >= channels) return;
  float t[16];
  for (int l = 0; l < 16; l++) t[l] = x[x_off + (cb * 16u + (uint)l) * cols + q];
  vstore8(vload8(0, t), 0, xt + xt_off + q * channels + cb * 16u);
  vstore8(vload8(1, t), 0, xt + xt_off + q * channels + cb * 16u + 8u);
}
#endif

/* A panels of W̃[c][(o,i,j)] = W[o][c][KH−1−i][KW−1−j] (backward-data's weights:
 * transposed and rotated by 180°, so that with "same" padding 2·pad = K−1 the
 * backward pass is a forward convolution, σ = +1); logical [C_in × C_out·KH·KW];
 * work-item (k = (o, ij), panel t). */
__kernel void gemm_pack_wflip(__global const float *wt, const uint w_off, const uint c_in,
                              const uint c_out, const uint khw, const uint width,
                              __global float *out, const uint out_off) {
  const uint k = get_global_id(0), t = get_global_id(1);
  const uint kdim = c_out * khw;
  if (k >= kdim || t * width >= c_in + width - 1u) return;
  const uint o = k / khw, ij = k - o * khw;
  const uint flipped = khw - 1u - ij; /* (KH−1−i)·KW + (KW−1−j) */
  __global float *dst = out + out_off + (t * kdim + k) * width;
  for (uint l = 0; l < width; l++) {
    const uint c = t * width + l;
    dst[l] = c < c_in ? wt[w_off + (o * c_in + c) * khw + flipped] : 0.0f;
  }
}

/* A panels of the weights with k tap-major (conv_tap): forward
 * A[o][ij·C_in + c] = W[o][c][ij]; backward-data (flip) A[c][ij·C_out + o] =
 * W[o][c][KH·KW−1−ij], the transposed weights rotated by 180°. Work-item
 * (k, panel t). */
__kernel void gemm_pack_wtap(__global const float *wt, const uint w_off, const uint c_in,
                             const uint c_out, const uint khw, const int flip, const uint width,
                             __global float *out, const uint out_off) {
  const uint k = get_global_id(0), t = get_global_id(1);
  const uint rows = flip ? c_in : c_out, inner = flip ? c_out : c_in;
  const uint kdim = inner * khw;
  if (k >= kdim || t * width >= rows + width - 1u) return;
  const uint ij = k / inner, cc = k - ij * inner;
  __global float *dst = out + out_off + (t * kdim + k) * width;
  for (uint l = 0; l < width; l++) {
    const uint r = t * width + l;
    const uint at = flip ? (cc * c_in + r) * khw + (khw - 1u - ij) : (r * c_in + cc) * khw + ij;
    dst[l] = r < rows ? wt[w_off + at] : 0.0f;
  }
}
