/* Batch normalisation over (N, H, W) per channel, with fused epilogues, and
 * the deterministic per-channel sums it is built on.
 *
 * Reductions are two-pass: the M = N·H·W elements of channel c are split into
 * `parts` interleaved slices (slice j holds elements j, j + parts, ...); pass 1
 * writes one partial sum per (slice, channel) to part[c·parts + j], pass 2 sums
 * a channel's partials in order. `parts` depends only on M, so the result is
 * the same on every run and device. Interleaving keeps neighbouring work-items
 * on neighbouring addresses (vector lanes on CPUs, coalescing on GPUs).
 * Element e of channel c is at n·sn + c·sc + p with e = n·HW + p. */

#define FC_BN_PLAIN 0
#define FC_BN_RELU 1
#define FC_BN_ADD_RELU 2

/* The generic and CPU kernels of the apply and dx passes take the same arguments (the host
 * launches either, src/ops/batchnorm.c); m = N·H·W, the elements of a channel. */
#define BN_APPLY_ARGS                                                                       \
  __global const float *x, const uint x_off, const uint sn, const uint sc, const uint hw,   \
      const uint m, const uint parts, const uint channels, __global const float *mean,      \
      const uint mean_off, __global const float *stat, const uint stat_off,                 \
      const int stat_is_var, const float eps, __global const float *gamma,                  \
      const uint gamma_off, __global const float *beta, const uint beta_off,                \
      const int epilogue, __global const float *res, const uint res_off, __global float *y, \
      const uint y_off, const uint slice
#define BN_BACKWARD_DX_ARGS                                                               \
  __global const float *x, const uint x_off, __global const float *dy, const uint dy_off, \
      __global const float *y, const uint y_off, const uint sn, const uint sc,            \
      const uint hw, const uint m, const uint parts, const uint channels,                 \
      __global const float *mean, const uint mean_off, __global const float *invstd,      \
      const uint invstd_off, __global const float *gamma, const uint gamma_off,           \
      __global const float *sums, const uint sums_off, const int relu_mask,               \
      __global float *dx, const uint dx_off, const uint slice

/* part[c·parts + j] = Σ_slice x            (centered = 0)
 *                   = Σ_slice (x − mean)²  (centered = 1) */
__kernel void bn_partial_sums(__global const float *x, const uint x_off, const uint sn,
                              const uint sc, const uint hw, const uint m, const uint parts,
                              const uint channels, __global const float *mean,
                              const uint mean_off, const int centered, __global float *part,
                              const uint part_off) {
  const uint j = get_global_id(0), c = get_global_id(1);
  if (j >= parts || c >= channels) return;
  const float mu = centered ? mean[mean_off + c] : 0.0f;
  /* Slice j: elements j, j + parts, ...; e = n·HW + p tracked incrementally. */
  const uint dn = parts / hw, dp = parts - dn * hw;
  uint n = j / hw, p = j - n * hw;
  float acc = 0.0f;
  for (uint e = j; e < m; e += parts) {
    const float v = x[x_off + n * sn + c * sc + p] - mu;
    acc += centered ? v * v : v;
    n += dn;
    p += dp;
    if (p >= hw) {
      p -= hw;
      n++;
    }
  }
  part[part_off + c * parts + j] = acc;
}

/* out[c] = (accumulate ? out[c] : 0) + scale · Σ_j part[c·parts + j] */
__kernel void bn_finalize_sum(__global const float *part, const uint part_off, const uint parts,
                              const uint channels, const float scale, const int accumulate,
                              __global float *out, const uint out_off) {
  const uint c = get_global_id(0);
  if (c >= channels) return;
  float acc = 0.0f;
  for (uint j = 0; j < parts; j++) acc += part[part_off + c * parts + j];
  const float old = accumulate ? out[out_off + c] : 0.0f;
  out[out_off + c] = old + scale * acc;
}

/* From the centered partials: invstd = 1/sqrt(var + eps) with the biased variance;
 * running statistics (optional) with the unbiased one, like PyTorch. */
__kernel void bn_finalize_var(__global const float *part, const uint part_off, const uint parts,
                              const uint channels, const uint m, const float eps,
                              const float momentum, __global const float *mean,
                              const uint mean_off, __global float *invstd, const uint invstd_off,
                              const int update_running, __global float *run_mean,
                              const uint run_mean_off, __global float *run_var,
                              const uint run_var_off) {
  const uint c = get_global_id(0);
  if (c >= channels) return;
  float acc = 0.0f;
  for (uint j = 0; j < parts; j++) acc += part[part_off + c * parts + j];
  const float var = acc / (float)m;
  invstd[invstd_off + c] = 1.0f / sqrt(var + eps);
  if (update_running) {
    const float unbiased = acc / (float)(m - 1u);
    run_mean[run_mean_off + c] =
        (1.0f - momentum) * run_mean[run_mean_off + c] + momentum * mean[mean_off + c];
    run_var[run_var_off + c] = (1.0f - momentum) * run_var[run_var_off + c] + momentum * unbiased;
  }
}

/* y = epilogue(gamma·(x − mean)·invstd + beta), one work-item per (n·HW + p, c).
 * stat_is_var: `stat` holds the running variance (inference) instead of invstd. */
/* parts and slice: unused, for the same arguments as bn_apply_cpu. */
__kernel void bn_apply(BN_APPLY_ARGS) {
  const uint q = get_global_id(0), c = get_global_id(1);
  if (q >= m || c >= channels) return;
  const uint n = q / hw, at = n * sn + c * sc + (q - n * hw);
  const float s = stat[stat_off + c];
  const float invstd = stat_is_var ? 1.0f / sqrt(s + eps) : s;
  float v = (x[x_off + at] - mean[mean_off + c]) * (gamma[gamma_off + c] * invstd) +
            beta[beta_off + c];
  if (epilogue == FC_BN_ADD_RELU) v += res[res_off + at];
  if (epilogue != FC_BN_PLAIN) v = fmax(v, 0.0f);
  y[y_off + at] = v;
}

/* Backward pass 1: per slice, Σ g and Σ g·xhat with g = dy (masked by y > 0 when
 * relu_mask), xhat = (x − mean)·invstd. Writes part[c·parts + j] and
 * part[(channels + c)·parts + j]. */
__kernel void bn_backward_partials(__global const float *x, const uint x_off,
                                   __global const float *dy, const uint dy_off,
                                   __global const float *y, const uint y_off, const uint sn,
                                   const uint sc, const uint hw, const uint m, const uint parts,
                                   const uint channels, __global const float *mean,
                                   const uint mean_off, __global const float *invstd,
                                   const uint invstd_off, const int relu_mask,
                                   __global float *part, const uint part_off) {
  const uint j = get_global_id(0), c = get_global_id(1);
  if (j >= parts || c >= channels) return;
  const float mu = mean[mean_off + c], is = invstd[invstd_off + c];
  const uint dn = parts / hw, dp = parts - dn * hw;
  uint n = j / hw, p = j - n * hw;
  float sum_g = 0.0f, sum_gx = 0.0f;
  for (uint e = j; e < m; e += parts) {
    const uint at = n * sn + c * sc + p;
    float g = dy[dy_off + at];
    if (relu_mask && !(y[y_off + at] > 0.0f)) g = 0.0f;
    sum_g += g;
    sum_gx += g * ((x[x_off + at] - mu) * is);
    n += dn;
    p += dp;
    if (p >= hw) {
      p -= hw;
      n++;
    }
  }
  part[part_off + c * parts + j] = sum_g;
  part[part_off + (channels + c) * parts + j] = sum_gx;
}

/* Backward pass 2: dbeta = Σ g, dgamma = Σ g·xhat (accumulated on request), and
 * the batch means of both for the dx pass: sums[c], sums[channels + c]. */
__kernel void bn_backward_finalize(__global const float *part, const uint part_off,
                                   const uint parts, const uint channels, const uint m,
                                   const int accumulate, __global float *dgamma,
                                   const uint dgamma_off, __global float *dbeta,
                                   const uint dbeta_off, __global float *sums,
                                   const uint sums_off) {
  const uint c = get_global_id(0);
  if (c >= channels) return;
  float sum_g = 0.0f, sum_gx = 0.0f;
  for (uint j = 0; j < parts; j++) {
    sum_g += part[part_off + c * parts + j];
    sum_gx += part[part_off + (channels + c) * parts + j];
  }
  dbeta[dbeta_off + c] = (accumulate ? dbeta[dbeta_off + c] : 0.0f) + sum_g;
  dgamma[dgamma_off + c] = (accumulate ? dgamma[dgamma_off + c] : 0.0f) + sum_gx;
  sums[sums_off + c] = sum_g / (float)m;
  sums[sums_off + channels + c] = sum_gx / (float)m;
}

/* Backward pass 3: dx = gamma·invstd·(g − mean(g) − xhat·mean(g·xhat)). */
/* parts and slice: unused, for the same arguments as bn_backward_dx_cpu. */
__kernel void bn_backward_dx(BN_BACKWARD_DX_ARGS) {
  const uint q = get_global_id(0), c = get_global_id(1);
  if (q >= m || c >= channels) return;
  const uint n = q / hw, at = n * sn + c * sc + (q - n * hw);
  const float is = invstd[invstd_off + c];
  float g = dy[dy_off + at];
  if (relu_mask && !(y[y_off + at] > 0.0f)) g = 0.0f;
  const float xhat = (x[x_off + at] - mean[mean_off + c]) * is;
  dx[dx_off + at] = gamma[gamma_off + c] * is *
                    (g - sums[sums_off + c] - xhat * sums[sums_off + channels + c]);
}

/* ---- CPU variants ----
 * On CPUs a work-item runs alone through its loop, so interleaved slices make
 * every load touch a new cache line (~0.5 GB/s measured on PoCL). Here slice j
 * of channel c is the CONTIGUOUS element range [j·slice, (j+1)·slice) (in
 * e = n·HW + p order), walked as runs of consecutive addresses with float8
 * vectors; the elementwise passes use the same slices. Still one fixed
 * summation order per shape, so results are reproducible (they differ in the
 * last bits from the GPU variant, which sums in another fixed order). */

/* Calls BODY(ptr offset, run length) for each run of consecutive addresses of
 * slice [e0, e1) of channel c. */
#define BN_FOR_RUNS(e0, e1, hw, sn, sc, c, BODY)        \
  {                                                     \
    uint n_ = (e0) / (hw), p_ = (e0)-n_ * (hw);         \
    for (uint e_ = (e0); e_ < (e1);) {                  \
      const uint run_ = min((hw)-p_, (e1)-e_);          \
      const uint at_ = n_ * (sn) + (c) * (sc) + p_;     \
      BODY(at_, run_)                                   \
      e_ += run_;                                       \
      n_++;                                             \
      p_ = 0;                                           \
    }                                                   \
  }

float bn_hsum8(const float8 v) {
  const float4 a = v.lo + v.hi;
  const float2 b = a.lo + a.hi;
  return b.x + b.y;
}

__kernel void bn_partial_sums_cpu(__global const float *x, const uint x_off, const uint sn,
                                  const uint sc, const uint hw, const uint m, const uint parts,
                                  const uint channels, __global const float *mean,
                                  const uint mean_off, const int centered, __global float *part,
                                  const uint part_off, const uint slice) {
  const uint j = get_global_id(0), c = get_global_id(1);
  if (j >= parts || c >= channels) return;
  const float mu = centered ? mean[mean_off + c] : 0.0f;
  const uint e0 = j * slice, e1 = min(m, e0 + slice);
  float8 acc8 = 0.0f;
  float acc = 0.0f;
#define BN_SUM_BODY(at, run)                                 \
  __global const float *src = x + x_off + (at);              \
  uint i = 0;                                                \
  for (; i + 8 <= (run); i += 8) {                           \
    const float8 v = vload8(0, src + i) - mu;                \
    acc8 = centered ? fma(v, v, acc8) : acc8 + v;            \
  }                                                          \
  for (; i < (run); i++) {                                   \
    const float v = src[i] - mu;                             \
    acc = centered ? fma(v, v, acc) : acc + v;               \
  }
  BN_FOR_RUNS(e0, e1, hw, sn, sc, c, BN_SUM_BODY)
  part[part_off + c * parts + j] = bn_hsum8(acc8) + acc;
}

__kernel void bn_apply_cpu(BN_APPLY_ARGS) {
  const uint j = get_global_id(0), c = get_global_id(1);
  if (j >= parts || c >= channels) return;
  const float s = stat[stat_off + c];
  const float invstd = stat_is_var ? 1.0f / sqrt(s + eps) : s;
  const float scale = gamma[gamma_off + c] * invstd;
  const float mu = mean[mean_off + c], b = beta[beta_off + c];
  const uint e0 = j * slice, e1 = min(m, e0 + slice);
  /* Same arithmetic as bn_apply: (x − mean)·(gamma·invstd) + beta. */
#define BN_APPLY_BODY(at, run)                                           \
  uint i = 0;                                                            \
  for (; i + 8 <= (run); i += 8) {                                       \
    float8 v = (vload8(0, x + x_off + (at) + i) - mu) * scale + b;       \
    if (epilogue == FC_BN_ADD_RELU) v += vload8(0, res + res_off + (at) + i); \
    if (epilogue != FC_BN_PLAIN) v = fmax(v, 0.0f);                      \
    vstore8(v, 0, y + y_off + (at) + i);                                 \
  }                                                                      \
  for (; i < (run); i++) {                                               \
    float v = (x[x_off + (at) + i] - mu) * scale + b;                    \
    if (epilogue == FC_BN_ADD_RELU) v += res[res_off + (at) + i];        \
    if (epilogue != FC_BN_PLAIN) v = fmax(v, 0.0f);                      \
    y[y_off + (at) + i] = v;                                             \
  }
  BN_FOR_RUNS(e0, e1, hw, sn, sc, c, BN_APPLY_BODY)
}

__kernel void bn_backward_partials_cpu(__global const float *x, const uint x_off,
                                       __global const float *dy, const uint dy_off,
                                       __global const float *y, const uint y_off, const uint sn,
                                       const uint sc, const uint hw, const uint m,
                                       const uint parts, const uint channels,
                                       __global const float *mean, const uint mean_off,
                                       __global const float *invstd, const uint invstd_off,
                                       const int relu_mask, __global float *part,
                                       const uint part_off, const uint slice) {
  const uint j = get_global_id(0), c = get_global_id(1);
  if (j >= parts || c >= channels) return;
  const float mu = mean[mean_off + c], is = invstd[invstd_off + c];
  const uint e0 = j * slice, e1 = min(m, e0 + slice);
  float8 g8 = 0.0f, gx8 = 0.0f;
  float g1 = 0.0f, gx1 = 0.0f;
#define BN_BWD_SUM_BODY(at, run)                                              \
  uint i = 0;                                                                 \
  for (; i + 8 <= (run); i += 8) {                                            \
    float8 g = vload8(0, dy + dy_off + (at) + i);                             \
    if (relu_mask) g = select((float8)(0.0f), g, isgreater(vload8(0, y + y_off + (at) + i), 0.0f)); \
    g8 += g;                                                                  \
    gx8 = fma(g, (vload8(0, x + x_off + (at) + i) - mu) * is, gx8);           \
  }                                                                           \
  for (; i < (run); i++) {                                                    \
    float g = dy[dy_off + (at) + i];                                          \
    if (relu_mask && !(y[y_off + (at) + i] > 0.0f)) g = 0.0f;                 \
    g1 += g;                                                                  \
    gx1 = fma(g, (x[x_off + (at) + i] - mu) * is, gx1);                       \
  }
  BN_FOR_RUNS(e0, e1, hw, sn, sc, c, BN_BWD_SUM_BODY)
  part[part_off + c * parts + j] = bn_hsum8(g8) + g1;
  part[part_off + (channels + c) * parts + j] = bn_hsum8(gx8) + gx1;
}

__kernel void bn_backward_dx_cpu(BN_BACKWARD_DX_ARGS) {
  const uint j = get_global_id(0), c = get_global_id(1);
  if (j >= parts || c >= channels) return;
  const float is = invstd[invstd_off + c], mu = mean[mean_off + c];
  const float gs = gamma[gamma_off + c] * is;
  const float mg = sums[sums_off + c], mgx = sums[sums_off + channels + c];
  const uint e0 = j * slice, e1 = min(m, e0 + slice);
#define BN_DX_BODY(at, run)                                                   \
  uint i = 0;                                                                 \
  for (; i + 8 <= (run); i += 8) {                                            \
    float8 g = vload8(0, dy + dy_off + (at) + i);                             \
    if (relu_mask) g = select((float8)(0.0f), g, isgreater(vload8(0, y + y_off + (at) + i), 0.0f)); \
    const float8 xhat = (vload8(0, x + x_off + (at) + i) - mu) * is;         \
    vstore8(gs * (g - mg - xhat * mgx), 0, dx + dx_off + (at) + i);           \
  }                                                                           \
  for (; i < (run); i++) {                                                    \
    float g = dy[dy_off + (at) + i];                                          \
    if (relu_mask && !(y[y_off + (at) + i] > 0.0f)) g = 0.0f;                 \
    const float xhat = (x[x_off + (at) + i] - mu) * is;                       \
    dx[dx_off + (at) + i] = gs * (g - mg - xhat * mgx);                       \
  }
  BN_FOR_RUNS(e0, e1, hw, sn, sc, c, BN_DX_BODY)
}
