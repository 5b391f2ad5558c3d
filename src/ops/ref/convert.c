/* Input normalisation from uint8 and layout transposes. */
#include "ops/ref/ref.h"

void fc_ref_input_from_u8(fc_shape4 out, const uint8_t *src, const float *mean, const float *std,
                          double *y) {
  size_t hw = (size_t)out.h * out.w;
  for (int n = 0; n < out.n; n++)
    for (int c = 0; c < out.c; c++)
      for (size_t p = 0; p < hw; p++) {
        double v = src[((size_t)n * out.c + c) * hw + p];
        y[(size_t)n * fc_shape4_stride_n(out) + (size_t)c * fc_shape4_stride_c(out) + p] =
            (v / 255.0 - mean[c]) / std[c];
      }
}

void fc_ref_layout_convert(fc_shape4 in, const double *x, fc_layout out_layout, double *y) {
  fc_shape4 out = in;
  out.layout = out_layout;
  size_t hw = (size_t)in.h * in.w;
  for (int n = 0; n < in.n; n++)
    for (int c = 0; c < in.c; c++)
      for (size_t p = 0; p < hw; p++)
        y[(size_t)n * fc_shape4_stride_n(out) + (size_t)c * fc_shape4_stride_c(out) + p] =
            x[(size_t)n * fc_shape4_stride_n(in) + (size_t)c * fc_shape4_stride_c(in) + p];
}
