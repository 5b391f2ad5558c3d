/* Max-pool (PyTorch's tie and NaN rules) and global average pool. */
#include <math.h>

#include "ops/ref/ref.h"

static size_t at4(fc_shape4 s, int n, int c, int y, int x) {
  return (size_t)n * fc_shape4_stride_n(s) + (size_t)c * fc_shape4_stride_c(s) + (size_t)y * s.w +
         x;
}

void fc_ref_maxpool2d_forward(fc_shape4 in, int k, int stride, int pad, const double *x, double *y,
                              int32_t *argmax) {
  fc_shape4 out = fc_pool2d_out_shape(in, k, stride, pad);
  for (int n = 0; n < in.n; n++)
    for (int c = 0; c < in.c; c++)
      for (int p = 0; p < out.h; p++)
        for (int q = 0; q < out.w; q++) {
          double best = -INFINITY;
          int32_t best_i = -1;
          for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++) {
              int yy = p * stride - pad + i, xx = q * stride - pad + j;
              if (yy < 0 || yy >= in.h || xx < 0 || xx >= in.w) continue;
              double v = x[at4(in, n, c, yy, xx)];
              if (best_i < 0 || v > best || isnan(v)) {
                best = v;
                best_i = yy * in.w + xx;
              }
            }
          y[at4(out, n, c, p, q)] = best;
          argmax[at4(out, n, c, p, q)] = best_i;
        }
}

void fc_ref_maxpool2d_backward(fc_shape4 in, int k, int stride, int pad, const int32_t *argmax,
                               const double *dy, double *dx) {
  fc_shape4 out = fc_pool2d_out_shape(in, k, stride, pad);
  for (size_t i = 0; i < fc_shape4_count(in); i++) dx[i] = 0.0;
  for (int n = 0; n < in.n; n++)
    for (int c = 0; c < in.c; c++)
      for (int p = 0; p < out.h; p++)
        for (int q = 0; q < out.w; q++) {
          int32_t a = argmax[at4(out, n, c, p, q)];
          dx[at4(in, n, c, a / in.w, a % in.w)] += dy[at4(out, n, c, p, q)];
        }
}

void fc_ref_global_avgpool_forward(fc_shape4 in, const double *x, double *y) {
  for (int n = 0; n < in.n; n++)
    for (int c = 0; c < in.c; c++) {
      double sum = 0.0;
      for (int yy = 0; yy < in.h; yy++)
        for (int xx = 0; xx < in.w; xx++) sum += x[at4(in, n, c, yy, xx)];
      y[(size_t)n * in.c + c] = sum / ((double)in.h * in.w);
    }
}

void fc_ref_global_avgpool_backward(fc_shape4 in, const double *dy, double *dx) {
  for (int n = 0; n < in.n; n++)
    for (int c = 0; c < in.c; c++)
      for (int yy = 0; yy < in.h; yy++)
        for (int xx = 0; xx < in.w; xx++)
          dx[at4(in, n, c, yy, xx)] = dy[(size_t)n * in.c + c] / ((double)in.h * in.w);
}
