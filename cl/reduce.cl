/* Small reductions and the logging gather. Inputs here are short (per-sample
 * vectors, a handful of scalars): one work-item does the work in index order, so
 * results are deterministic and the launch is the only cost. */

/* out[0] = scale · Σ x (float input). */
__kernel void sum_f32(__global const float *x, const uint x_off, const uint n, const float scale,
                      __global float *out, const uint out_off) {
  if (get_global_id(0) != 0) return;
  float acc = 0.0f;
  for (uint i = 0; i < n; i++) acc += x[x_off + i];
  out[out_off] = scale * acc;
}

/* out[0] = scale · Σ x (int32 input, summed exactly in 64 bits). */
__kernel void sum_i32(__global const int *x, const uint x_off, const uint n, const float scale,
                      __global float *out, const uint out_off) {
  if (get_global_id(0) != 0) return;
  long acc = 0;
  for (uint i = 0; i < n; i++) acc += x[x_off + i];
  out[out_off] = scale * (float)acc;
}

/* Copies up to four runs of 32-bit words, one after another, into dst. */
__kernel void gather4(__global const uint *s0, const uint o0, const uint n0,
                      __global const uint *s1, const uint o1, const uint n1,
                      __global const uint *s2, const uint o2, const uint n2,
                      __global const uint *s3, const uint o3, const uint n3, __global uint *dst,
                      const uint d_off) {
  if (get_global_id(0) != 0) return;
  uint d = d_off;
  for (uint i = 0; i < n0; i++) dst[d++] = s0[o0 + i];
  for (uint i = 0; i < n1; i++) dst[d++] = s1[o1 + i];
  for (uint i = 0; i < n2; i++) dst[d++] = s2[o2 + i];
  for (uint i = 0; i < n3; i++) dst[d++] = s3[o3 + i];
}
