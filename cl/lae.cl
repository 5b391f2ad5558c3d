/* Spatial attention for local attention enhancement (METHOD §2, LAE):
 *   M = [mean_c F ; max_c F],  A = sigmoid(conv_k(M) + b),  y = F ⊙ (1 + A).
 * F is addressed through its sample and channel strides (sn, sc), so one kernel
 * serves NCHW and CNHW; a pixel p = h·W + w is contiguous in both.
 * saved: M [N][2][HW] at 0, A [N][HW] at 2·N·HW, argmax channel [N][HW] at 3·N·HW.
 * The 2→1-channel k×k convolution is direct: 2k² taps per pixel. */

/* One work-item per (n, p): channel mean, max and first maximal channel. */
__kernel void lae_pool(__global const float *x, const uint x_off, const uint N, const uint C,
                        const uint HW, const uint sn, const uint sc, __global float *saved,
                        const uint s_off) {
  const uint i = get_global_id(0);
  if (i >= N * HW) return;
  const uint n = i / HW, p = i - n * HW;
  __global const float *xp = x + x_off + n * sn + p;
  float best = xp[0], sum = best;
  uint arg = 0;
  for (uint c = 1; c < C; c++) {
    const float v = xp[c * sc];
    sum += v;
    if (v > best) { /* strict: ties keep the first channel */
      best = v;
      arg = c;
    }
  }
  __global float *s = saved + s_off;
  s[(2 * n) * HW + p] = sum / (float)C;
  s[(2 * n + 1) * HW + p] = best;
  s[3 * N * HW + i] = (float)arg;
}

/* One work-item per (n, p): A = sigmoid(b + Σ w·M) over the k×k window. */
__kernel void lae_gate(__global const float *w, const uint w_off, __global const float *b,
                        const uint b_off, const uint N, const uint H, const uint W, const uint K,
                        __global float *saved, const uint s_off) {
  const uint i = get_global_id(0);
  const uint HW = H * W;
  if (i >= N * HW) return;
  const uint n = i / HW, p = i - n * HW;
  const int y = (int)(p / W), x = (int)(p - (p / W) * W), pad = (int)K / 2;
  __global const float *s = saved + s_off;
  float acc = b[b_off];
  for (uint ci = 0; ci < 2; ci++) {
    __global const float *m = s + (2 * n + ci) * HW;
    __global const float *wk = w + w_off + ci * K * K;
    for (int ky = 0; ky < (int)K; ky++) {
      const int yy = y + ky - pad;
      if (yy < 0 || yy >= (int)H) continue;
      for (int kx = 0; kx < (int)K; kx++) {
        const int xx = x + kx - pad;
        if (xx < 0 || xx >= (int)W) continue;
        acc += wk[ky * (int)K + kx] * m[yy * (int)W + xx];
      }
    }
  }
  saved[s_off + 2 * N * HW + i] = 1.0f / (1.0f + exp(-acc));
}

/* One work-item per element, enumerated as (n, c, p): y = x·(1 + A). */
__kernel void lae_apply(__global const float *x, const uint x_off, __global const float *saved,
                         const uint s_off, const uint N, const uint C, const uint HW, const uint sn,
                         const uint sc, __global float *y, const uint y_off) {
  const uint i = get_global_id(0);
  if (i >= N * C * HW) return;
  const uint n = i / (C * HW), r = i - n * (C * HW), c = r / HW, p = r - c * HW;
  const float a = saved[s_off + 2 * N * HW + n * HW + p];
  const uint e = n * sn + c * sc + p;
  y[y_off + e] = x[x_off + e] * (1.0f + a);
}

/* Backward 1, per (n, p): ds = (Σ_c dy·x) · A(1 − A), the gradient at the gate's input. */
__kernel void lae_bwd_gate(__global const float *x, const uint x_off, __global const float *dy,
                            const uint dy_off, __global const float *saved, const uint s_off,
                            const uint N, const uint C, const uint HW, const uint sn, const uint sc,
                            __global float *ws, const uint ds_off) {
  const uint i = get_global_id(0);
  if (i >= N * HW) return;
  const uint n = i / HW, p = i - n * HW;
  const uint base = n * sn + p;
  float da = 0.0f;
  for (uint c = 0; c < C; c++) da += dy[dy_off + base + c * sc] * x[x_off + base + c * sc];
  const float a = saved[s_off + 2 * N * HW + i];
  ws[ds_off + i] = da * a * (1.0f - a);
}

/* Backward 2, per (n, p): dM[ci] = transposed convolution of ds with w[ci]. */
__kernel void lae_bwd_maps(__global const float *w, const uint w_off, const uint N, const uint H,
                            const uint W, const uint K, __global float *ws, const uint ds_off,
                            const uint dm_off) {
  const uint i = get_global_id(0);
  const uint HW = H * W;
  if (i >= N * HW) return;
  const uint n = i / HW, p = i - n * HW;
  const int Y = (int)(p / W), X = (int)(p - (p / W) * W), pad = (int)K / 2;
  __global const float *ds = ws + ds_off + n * HW;
  float g0 = 0.0f, g1 = 0.0f;
  for (int ky = 0; ky < (int)K; ky++) {
    const int y = Y - ky + pad;
    if (y < 0 || y >= (int)H) continue;
    for (int kx = 0; kx < (int)K; kx++) {
      const int x = X - kx + pad;
      if (x < 0 || x >= (int)W) continue;
      const float d = ds[y * (int)W + x];
      g0 += d * w[w_off + ky * (int)K + kx];
      g1 += d * w[w_off + (int)(K * K) + ky * (int)K + kx];
    }
  }
  ws[dm_off + (2 * n) * HW + p] = g0;
  ws[dm_off + (2 * n + 1) * HW + p] = g1;
}

/* Backward 3, per element: dx = dy·(1 + A) + dM_mean / C + [c = argmax]·dM_max.
 * Reads dy[e] before writing dx[e], so dx may alias dy. */
__kernel void lae_bwd_input(__global const float *dy, const uint dy_off,
                             __global const float *saved, const uint s_off,
                             __global const float *ws, const uint dm_off, const uint N,
                             const uint C, const uint HW, const uint sn, const uint sc,
                             __global float *dx, const uint dx_off) {
  const uint i = get_global_id(0);
  if (i >= N * C * HW) return;
  const uint n = i / (C * HW), r = i - n * (C * HW), c = r / HW, p = r - c * HW;
  const uint np = n * HW + p;
  const float a = saved[s_off + 2 * N * HW + np];
  const uint arg = (uint)saved[s_off + 3 * N * HW + np];
  float g = ws[dm_off + (2 * n) * HW + p] / (float)C;
  if (c == arg) g += ws[dm_off + (2 * n + 1) * HW + p];
  const uint e = n * sn + c * sc + p;
  dx[dx_off + e] = dy[dy_off + e] * (1.0f + a) + g;
}

/* Backward 4, per (tap j, chunk): partial sums of the weight/bias gradients over a
 * fixed chunk of the N·HW pixels. j < 2K²: tap (ci, ky, kx); j = 2K²: the bias. */
__kernel void lae_bwd_wpart(__global const float *saved, const uint s_off, __global float *ws,
                             const uint ds_off, const uint part_off, const uint N, const uint H,
                             const uint W, const uint K, const uint chunk, const uint nchunks) {
  const uint i = get_global_id(0);
  const uint taps = 2 * K * K, HW = H * W, total = N * HW;
  if (i >= (taps + 1) * nchunks) return;
  const uint j = i / nchunks, ch = i - j * nchunks;
  const uint begin = ch * chunk, end = min(total, begin + chunk);
  __global const float *ds = ws + ds_off;
  float acc = 0.0f;
  if (j == taps) {
    for (uint t = begin; t < end; t++) acc += ds[t];
  } else {
    const uint ci = j / (K * K), kk = j - ci * K * K, ky = kk / K, kx = kk - ky * K;
    const int dyo = (int)ky - (int)K / 2, dxo = (int)kx - (int)K / 2;
    for (uint t = begin; t < end; t++) {
      const uint n = t / HW, p = t - n * HW;
      const int yy = (int)(p / W) + dyo, xx = (int)(p - (p / W) * W) + dxo;
      if (yy < 0 || yy >= (int)H || xx < 0 || xx >= (int)W) continue;
      acc += ds[t] * saved[s_off + (2 * n + ci) * HW + (uint)yy * W + (uint)xx];
    }
  }
  ws[part_off + j * nchunks + ch] = acc;
}

/* Backward 5, per output j: sum the chunks in order; dw[j] (j < 2K²) or db. */
__kernel void lae_bwd_wsum(__global const float *ws, const uint part_off, const uint K,
                            const uint nchunks, __global float *dw, const uint dw_off,
                            __global float *db, const uint db_off, const uint accumulate) {
  const uint j = get_global_id(0);
  const uint taps = 2 * K * K;
  if (j > taps) return;
  float acc = 0.0f;
  for (uint ch = 0; ch < nchunks; ch++) acc += ws[part_off + j * nchunks + ch];
  if (j < taps) {
    dw[dw_off + j] = accumulate ? dw[dw_off + j] + acc : acc;
  } else {
    db[db_off] = accumulate ? db[db_off] + acc : acc;
  }
}
