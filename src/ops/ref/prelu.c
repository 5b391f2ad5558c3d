/* PReLU reference. */
#include "ops/ref/ref_vision.h"

void fc_ref_prelu_forward(fc_shape4 s, const double *x, const double *slope, double *y) {
  size_t hw = (size_t)s.h * s.w;
  for (int n = 0; n < s.n; n++)
    for (int c = 0; c < s.c; c++) {
      size_t base = (size_t)n * fc_shape4_stride_n(s) + (size_t)c * fc_shape4_stride_c(s);
      for (size_t p = 0; p < hw; p++) {
        double v = x[base + p];
        y[base + p] = v >= 0 ? v : slope[c] * v;
      }
    }
}
