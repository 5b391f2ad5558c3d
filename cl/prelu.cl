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
