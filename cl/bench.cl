/* Micro-benchmarks for `fer-cl bench`: peak FMA rate, memory bandwidth and
 * launch latency (clpeak-like). Not used by training. */

/* One round of the 8 independent FMA chains x0..x7 (scalar or vector). */
#define FMA_ROUND(a, b) \
  do { \
    x0 = fma(x0, a, b); x1 = fma(x1, a, b); x2 = fma(x2, a, b); x3 = fma(x3, a, b);  \
    x4 = fma(x4, a, b); x5 = fma(x5, a, b); x6 = fma(x6, a, b); x7 = fma(x7, a, b);  \
  } while (0)

/* Peak FMA, scalar: 8 independent chains of `iters` FMAs (16 flops per round
 * per work-item), enough chains to cover FMA latency on CPUs and GPUs. */
__kernel void peak_fma_scalar(__global float *out, const int iters, const float a, const float b) {
  const uint gid = get_global_id(0);
  float x0 = (float)gid * 1e-9f, x1 = x0 + 0.1f, x2 = x0 + 0.2f, x3 = x0 + 0.3f;
  float x4 = x0 + 0.4f, x5 = x0 + 0.5f, x6 = x0 + 0.6f, x7 = x0 + 0.7f;
  for (int i = 0; i < iters; i++) {
    FMA_ROUND(a, b);
  }
  out[gid] = x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7;
}

/* Peak FMA, float8 vectors: 8 chains × 8 lanes (128 flops per round). */
__kernel void peak_fma_vector(__global float *out, const int iters, const float a, const float b) {
  const uint gid = get_global_id(0);
  const float8 va = (float8)(a), vb = (float8)(b);
  float8 x0 = (float8)((float)gid * 1e-9f) + (float8)(0, 1, 2, 3, 4, 5, 6, 7) * 0.01f;
  float8 x1 = x0 + 0.1f, x2 = x0 + 0.2f, x3 = x0 + 0.3f, x4 = x0 + 0.4f, x5 = x0 + 0.5f;
  float8 x6 = x0 + 0.6f, x7 = x0 + 0.7f;
  for (int i = 0; i < iters; i++) {
    FMA_ROUND(va, vb);
  }
  const float8 s = x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7;
  out[gid] = s.s0 + s.s1 + s.s2 + s.s3 + s.s4 + s.s5 + s.s6 + s.s7;
}

/* Read bandwidth: out[gid] = sum of this work-item's share of x (n floats, a
 * multiple of 8). CPUs: a contiguous chunk per work-item (whole cache lines,
 * hardware prefetch); GPUs: interleaved float8 loads (coalesced). */
__kernel void bw_read(__global const float *x, const uint n8, __global float *out) {
  const uint gid = get_global_id(0), gsize = get_global_size(0);
  float8 acc = 0.0f;
#if FC_DEVICE_CPU
  const uint per = (n8 + gsize - 1) / gsize;
  const uint begin = gid * per, end = min(n8, begin + per);
  for (uint i = begin; i < end; i++) acc += vload8(i, x);
#else
  for (uint i = gid; i < n8; i += gsize) acc += vload8(i, x);
#endif
  out[gid] = acc.s0 + acc.s1 + acc.s2 + acc.s3 + acc.s4 + acc.s5 + acc.s6 + acc.s7;
}

/* Write bandwidth: 8 floats per work-item. */
__kernel void bw_write(__global float *y, const uint n8, const float value) {
  const uint i = get_global_id(0);
  if (i < n8) vstore8((float8)(value), i, y);
}

/* Copy bandwidth: 8 floats per work-item. */
__kernel void bw_copy(__global const float *x, __global float *y, const uint n8) {
  const uint i = get_global_id(0);
  if (i < n8) vstore8(vload8(i, x), i, y);
}

/* Launch latency. */
__kernel void empty_kernel(__global float *unused) {
  if (get_global_id(0) == 0xffffffffu) unused[0] = 0.0f;
}
