/* im2col / col2im for 2-D convolution, and the conv bias broadcast.
 *
 * Activations are read and written through (sn, sc) strides, so one kernel
 * serves NCHW and CNHW. The column matrix has K = C·KH·KW rows (row
 * (c·KH + i)·KW + j) and one column per output pixel of the chunk:
 * (n − n0)·OH·OW + oh·OW + ow, row stride ld.
 *
 * Geometry comes as kernel arguments: one program serves every convolution.
 * Pinning it with -D constants was measured on PoCL (ResNet-18 shapes) and
 * gained nothing — im2col is memory-bound and a few % of a convolution. */

/* One work-item per (output column q, input channel c): writes the KH·KW rows
 * of channel c in column q. x_off already points at sample n0. */
__kernel void im2col(__global const float *x, const uint x_off, const uint sn, const uint sc,
                     const int h, const int w, const int oh, const int ow, const uint columns,
                     const uint channels, const int kh, const int kw, const int stride,
                     const int pad, __global float *col, const uint col_off, const uint ld) {
  const uint q = get_global_id(0), c = get_global_id(1);
  if (q >= columns || c >= channels) return;
  const uint plane = (uint)(oh * ow);
  const uint n = q / plane, r = q - n * plane;
  const int y = (int)(r / (uint)ow), xo = (int)r - y * ow;
  const int iy0 = y * stride - pad, ix0 = xo * stride - pad;
  __global const float *src = x + x_off + n * sn + c * sc;
  uint out = col_off + c * (uint)(kh * kw) * ld + q;
  for (int i = 0; i < kh; i++) {
    const int iy = iy0 + i;
    const int row_ok = iy >= 0 && iy < h;
    for (int j = 0; j < kw; j++) {
      const int ix = ix0 + j;
      col[out] = (row_ok && ix >= 0 && ix < w) ? src[iy * w + ix] : 0.0f;
      out += ld;
    }
  }
}

/* One work-item per (input pixel q of the chunk, channel c): gathers every
 * column entry the pixel was copied to, in (i, j) order — deterministic, no
 * atomics. dx_off already points at sample n0. */
__kernel void col2im(__global const float *col, const uint col_off, const uint ld,
                     const int h, const int w, const int oh, const int ow, const uint pixels,
                     const uint channels, const int kh, const int kw, const int stride,
                     const int pad, __global float *dx, const uint dx_off, const uint sn,
                     const uint sc) {
  const uint q = get_global_id(0), c = get_global_id(1);
  if (q >= pixels || c >= channels) return;
  const uint plane = (uint)(h * w);
  const uint n = q / plane, r = q - n * plane;
  const int iy = (int)(r / (uint)w), ix = (int)r - iy * w;
  const uint col_n = n * (uint)(oh * ow);
  const uint row_c = c * (uint)(kh * kw);
  float acc = 0.0f;
  /* Output oh covers iy with kernel row i = iy + PAD − oh·STRIDE: walk the rows
   * congruent to (iy + PAD) mod STRIDE. */
  for (int i = (iy + pad) % stride; i < kh; i += stride) {
    const int ty = iy + pad - i;
    if (ty < 0) break;
    const int y = ty / stride;
    if (y >= oh) continue;
    for (int j = (ix + pad) % stride; j < kw; j += stride) {
      const int tx = ix + pad - j;
      if (tx < 0) break;
      const int xo = tx / stride;
      if (xo >= ow) continue;
      acc += col[col_off + (row_c + (uint)(i * kw + j)) * ld + col_n + (uint)(y * ow + xo)];
    }
  }
  dx[dx_off + n * sn + c * sc + r] = acc;
}

/* y(n, c, p) += b[c] over a whole activation; one work-item per (n·HW + p, c). */
__kernel void channel_bias_add(__global float *y, const uint y_off, const uint sn, const uint sc,
                               const uint hw, const uint count, const uint channels,
                               __global const float *b, const uint b_off) {
  const uint q = get_global_id(0), c = get_global_id(1);
  if (q >= count || c >= channels) return;
  const uint n = q / hw, p = q - n * hw;
  y[y_off + n * sn + c * sc + p] += b[b_off + c];
}
