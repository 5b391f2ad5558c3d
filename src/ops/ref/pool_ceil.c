/* Max-pool with ceil rounding: windows clipped to the input. */
#include <math.h>

#include "ops/ref/ref_vision.h"

void fc_ref_maxpool2d_ceil_forward(fc_shape4 in, int k, int stride, const double *x, double *y,
                                   int32_t *argmax) {
  fc_shape4 out = fc_maxpool2d_ceil_out_shape(in, k, stride);
  for (int n = 0; n < in.n; n++)
    for (int c = 0; c < in.c; c++) {
      const double *src =
          x + (size_t)n * fc_shape4_stride_n(in) + (size_t)c * fc_shape4_stride_c(in);
      size_t o = (size_t)n * fc_shape4_stride_n(out) + (size_t)c * fc_shape4_stride_c(out);
      for (int p = 0; p < out.h; p++)
        for (int q = 0; q < out.w; q++, o++) {
          double best = 0;
          int32_t best_i = -1;
          for (int yy = p * stride; yy < p * stride + k && yy < in.h; yy++)
            for (int xx = q * stride; xx < q * stride + k && xx < in.w; xx++) {
              double v = src[yy * in.w + xx];
              if (best_i < 0 || v > best || isnan(v)) best = v, best_i = yy * in.w + xx;
            }
          y[o] = best;
          argmax[o] = best_i;
        }
    }
}
