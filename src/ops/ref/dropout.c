/* Inverted dropout with the device's counter-based mask. */
#include "ops/ref/ref.h"

static double mask_scale(size_t i, double p_drop, uint64_t seed) {
  if (p_drop >= 1.0) return 0.0;
  uint32_t keep_below = fc_dropout_keep_threshold(p_drop);
  uint32_t r = fc_ref_rng_u32(seed, (uint32_t)i, 0) >> 8;
  return r < keep_below ? 1.0 / (1.0 - p_drop) : 0.0;
}

void fc_ref_dropout_forward(const double *x, double *y, size_t n, double p_drop, uint64_t seed,
                            int training) {
  for (size_t i = 0; i < n; i++) y[i] = training ? x[i] * mask_scale(i, p_drop, seed) : x[i];
}

void fc_ref_dropout_backward(const double *dy, double *dx, size_t n, double p_drop, uint64_t seed) {
  for (size_t i = 0; i < n; i++) dx[i] = dy[i] * mask_scale(i, p_drop, seed);
}
