/* Random feature-map dropout (METHOD §2, RFD), DropBlock-style: per sample, with
 * probability p, one bh×bw block fully inside the map is zeroed across all channels
 * and the rest of the sample is scaled by HW / (HW − bh·bw).
 * params [N][4] int: dropped, y0, x0, 0. Draws use fc_rng (cl/prelude.cl). */

/* One work-item per sample: word 0 decides (integer compare against the host's
 * threshold = p·2^24), words 1 and 2 place the block. */
__kernel void rfd_draw(const uint N, const uint H, const uint W, const uint bh, const uint bw,
                       const uint threshold, const uint key0, const uint key1, const uint step_lo,
                       const uint step_hi, const uint stream, __global int *params,
                       const uint p_off) {
  const uint n = get_global_id(0);
  if (n >= N) return;
  uint r[4];
  fc_philox(n, step_lo, step_hi, stream, key0, key1, r);
  const int drop = (r[0] >> 8) < threshold && bh * bw < H * W;
  __global int *prm = params + p_off + 4 * n;
  prm[0] = drop;
  prm[1] = (int)fc_philox_below(r[1], H - bh + 1);
  prm[2] = (int)fc_philox_below(r[2], W - bw + 1);
  prm[3] = 0;
}

/* One work-item per element (n, c, p): forward (x → y) and backward (dy → dx) alike,
 * since the op is linear with a fixed mask. dst may alias src. */
__kernel void rfd_apply(__global const float *src, const uint src_off, __global const int *params,
                        const uint p_off, const uint N, const uint C, const uint H, const uint W,
                        const uint sn, const uint sc, const uint bh, const uint bw,
                        const float scale, __global float *dst, const uint dst_off) {
  const uint i = get_global_id(0);
  const uint HW = H * W;
  if (i >= N * C * HW) return;
  const uint n = i / (C * HW), r = i - n * (C * HW), c = r / HW, p = r - c * HW;
  const uint e = n * sn + c * sc + p;
  __global const int *prm = params + p_off + 4 * n;
  float v = src[src_off + e];
  if (prm[0]) {
    const uint y = p / W, x = p - y * W;
    const uint y0 = (uint)prm[1], x0 = (uint)prm[2];
    const int inside = y >= y0 && y < y0 + bh && x >= x0 && x < x0 + bw;
    v = inside ? 0.0f : v * scale;
  }
  dst[dst_off + e] = v;
}
