/* Inverted dropout. The mask is recomputed from (seed, element index) with
 * the prelude's Philox, so forward and backward share it without storing it:
 * both are y = x · scale where element i is kept, else 0. */
__kernel void dropout_apply(__global const float *x, const uint x_off, __global float *y,
                            const uint y_off, const uint n, const uint keep_below,
                            const float scale, const uint seed_lo, const uint seed_hi) {
  const uint i = get_global_id(0);
  if (i >= n) return;
  const uint r = fc_rng_u32(seed_lo, seed_hi, i, 0u) >> 8;
  y[y_off + i] = r < keep_below ? x[x_off + i] * scale : 0.0f;
}
