/* Input conversion (uint8 images → normalised floats) and layout transposes. */

/* y(n, c, p) = v·scale[c] + shift[c] with v the byte at src[(n·C + c)·HW + p],
 * scale = 1/(255·std), shift = −mean/std (C ≤ 4: per-channel values are
 * arguments, so no buffer is needed). One work-item per (n·HW + p, c). */
__kernel void input_from_u8(__global const uchar *src, const uint src_off, const uint hw,
                            const uint count, const uint channels, const float scale0,
                            const float scale1, const float scale2, const float scale3,
                            const float shift0, const float shift1, const float shift2,
                            const float shift3, __global float *y, const uint y_off,
                            const uint sn, const uint sc) {
  const uint q = get_global_id(0), c = get_global_id(1);
  if (q >= count || c >= channels) return;
  const uint n = q / hw, p = q - n * hw;
  const float scale = c == 0 ? scale0 : c == 1 ? scale1 : c == 2 ? scale2 : scale3;
  const float shift = c == 0 ? shift0 : c == 1 ? shift1 : c == 2 ? shift2 : shift3;
  const float v = (float)src[src_off + (n * channels + c) * hw + p];
  y[y_off + n * sn + c * sc + p] = v * scale + shift;
}

/* y(n, c, p) = x(n, c, p) between any two (sn, sc) layouts; one work-item per
 * (n·HW + p, c). */
__kernel void layout_convert(__global const float *x, const uint x_off, const uint sn,
                             const uint sc, __global float *y, const uint y_off, const uint osn,
                             const uint osc, const uint hw, const uint count,
                             const uint channels) {
  const uint q = get_global_id(0), c = get_global_id(1);
  if (q >= count || c >= channels) return;
  const uint n = q / hw, p = q - n * hw;
  y[y_off + n * osn + c * osc + p] = x[x_off + n * sn + c * sc + p];
}
