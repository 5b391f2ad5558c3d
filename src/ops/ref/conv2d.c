/* Direct convolution loops: independent of the device's im2col + GEMM route. */
#include "ops/ref/ref.h"

static size_t at4(fc_shape4 s, int n, int c, int y, int x) {
  return (size_t)n * fc_shape4_stride_n(s) + (size_t)c * fc_shape4_stride_c(s) + (size_t)y * s.w +
         x;
}

static size_t wat(const fc_conv2d_desc *d, int co, int ci, int i, int j) {
  return (((size_t)co * d->c_in + ci) * d->kh + i) * d->kw + j;
}

void fc_ref_conv2d_forward(const fc_conv2d_desc *d, const double *x, const double *w,
                           const double *b, double *y) {
  fc_shape4 is = fc_conv2d_in_shape(d), os = fc_conv2d_out_shape(d);
  for (int n = 0; n < d->n; n++)
    for (int co = 0; co < d->c_out; co++)
      for (int p = 0; p < os.h; p++)
        for (int q = 0; q < os.w; q++) {
          double acc = b ? b[co] : 0.0;
          for (int ci = 0; ci < d->c_in; ci++)
            for (int i = 0; i < d->kh; i++)
              for (int j = 0; j < d->kw; j++) {
                int yy = p * d->stride - d->pad + i, xx = q * d->stride - d->pad + j;
                if (yy < 0 || yy >= d->h || xx < 0 || xx >= d->w) continue;
                acc += w[wat(d, co, ci, i, j)] * x[at4(is, n, ci, yy, xx)];
              }
          y[at4(os, n, co, p, q)] = acc;
        }
}

void fc_ref_conv2d_backward_data(const fc_conv2d_desc *d, const double *dy, const double *w,
                                 double *dx) {
  fc_shape4 is = fc_conv2d_in_shape(d), os = fc_conv2d_out_shape(d);
  for (size_t i = 0; i < fc_shape4_count(is); i++) dx[i] = 0.0;
  for (int n = 0; n < d->n; n++)
    for (int co = 0; co < d->c_out; co++)
      for (int p = 0; p < os.h; p++)
        for (int q = 0; q < os.w; q++) {
          double g = dy[at4(os, n, co, p, q)];
          for (int ci = 0; ci < d->c_in; ci++)
            for (int i = 0; i < d->kh; i++)
              for (int j = 0; j < d->kw; j++) {
                int yy = p * d->stride - d->pad + i, xx = q * d->stride - d->pad + j;
                if (yy < 0 || yy >= d->h || xx < 0 || xx >= d->w) continue;
                dx[at4(is, n, ci, yy, xx)] += w[wat(d, co, ci, i, j)] * g;
              }
        }
}

void fc_ref_conv2d_backward_weights(const fc_conv2d_desc *d, const double *x, const double *dy,
                                    double *dw, double *db) {
  fc_shape4 is = fc_conv2d_in_shape(d), os = fc_conv2d_out_shape(d);
  for (size_t i = 0; i < (size_t)d->c_out * d->c_in * d->kh * d->kw; i++) dw[i] = 0.0;
  if (db)
    for (int co = 0; co < d->c_out; co++) db[co] = 0.0;
  for (int n = 0; n < d->n; n++)
    for (int co = 0; co < d->c_out; co++)
      for (int p = 0; p < os.h; p++)
        for (int q = 0; q < os.w; q++) {
          double g = dy[at4(os, n, co, p, q)];
          if (db) db[co] += g;
          for (int ci = 0; ci < d->c_in; ci++)
            for (int i = 0; i < d->kh; i++)
              for (int j = 0; j < d->kw; j++) {
                int yy = p * d->stride - d->pad + i, xx = q * d->stride - d->pad + j;
                if (yy < 0 || yy >= d->h || xx < 0 || xx >= d->w) continue;
                dw[wat(d, co, ci, i, j)] += g * x[at4(is, n, ci, yy, xx)];
              }
        }
}
