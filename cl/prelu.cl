/* PReLU: y = x where x >= 0, else slope[c]·x. One work-item per
 * (n·HW + p, c); activations addressed through (sn, sc) strides. */
__kernel void prelu_forward(__global const float *x, const uint x_off, __global float *y,
                            const uint y_off, __global const float *slope, const uint s_off,
                            const uint sn, const uint sc, const uint hw, const uint count,
                            const uint channels) {
  const uint q = get_global_id(0), c = get_global_id(1);
  if (q >= count || c >= channels) return;
  const uint n = q / hw;
  const uint at = n * sn + c * sc + (q - n * hw);
  const float v = x[x_off + at];
  y[y_off + at] = v >= 0.0f ? v : slope[s_off + c] * v;
}

/* CPU variant (same arguments): one work-item per plane (n, c), float8 over its pixels. */
__kernel void prelu_forward_cpu(__global const float *x, const uint x_off, __global float *y,
                                const uint y_off, __global const float *slope, const uint s_off,
                                const uint sn, const uint sc, const uint hw, const uint count,
                                const uint channels) {
  const uint n = get_global_id(0), c = get_global_id(1);
  if (n >= count / hw || c >= channels) return;
  __global const float *src = x + x_off + n * sn + c * sc;
  __global float *dst = y + y_off + n * sn + c * sc;
  const float a = slope[s_off + c];
  uint p = 0;
  for (; p + 8 <= hw; p += 8) {
    const float8 v = vload8(0, src + p);
    vstore8(select(a * v, v, v >= (float8)(0.0f)), 0, dst + p);
  }
  for (; p < hw; p++) {
    const float v = src[p];
    dst[p] = v >= 0.0f ? v : a * v;
  }
}
