/* im2col and its adjoint, written as a scatter (the device gathers). */
#include <string.h>

#include "ops/ref/ref.h"

static size_t at(const fc_conv2d_desc *d, int n, int c, int y, int x) {
  fc_shape4 s = fc_conv2d_in_shape(d);
  return (size_t)n * fc_shape4_stride_n(s) + (size_t)c * fc_shape4_stride_c(s) + (size_t)y * d->w +
         x;
}

void fc_ref_im2col(const fc_conv2d_desc *d, const double *x, int n0, int count, double *col,
                   size_t ld_col) {
  int oh = fc_conv2d_out_h(d), ow = fc_conv2d_out_w(d);
  for (int c = 0; c < d->c_in; c++)
    for (int i = 0; i < d->kh; i++)
      for (int j = 0; j < d->kw; j++) {
        double *row = col + ((size_t)(c * d->kh + i) * d->kw + j) * ld_col;
        for (int n = 0; n < count; n++)
          for (int p = 0; p < oh; p++)
            for (int q = 0; q < ow; q++) {
              int y = p * d->stride - d->pad + i, xx = q * d->stride - d->pad + j;
              int inside = y >= 0 && y < d->h && xx >= 0 && xx < d->w;
              row[((size_t)n * oh + p) * ow + q] = inside ? x[at(d, n0 + n, c, y, xx)] : 0.0;
            }
      }
}

void fc_ref_col2im(const fc_conv2d_desc *d, const double *col, size_t ld_col, int n0, int count,
                   double *dx) {
  int oh = fc_conv2d_out_h(d), ow = fc_conv2d_out_w(d);
  for (int n = 0; n < count; n++)
    for (int c = 0; c < d->c_in; c++)
      for (int y = 0; y < d->h; y++)
        for (int xx = 0; xx < d->w; xx++) dx[at(d, n0 + n, c, y, xx)] = 0.0;
  for (int c = 0; c < d->c_in; c++)
    for (int i = 0; i < d->kh; i++)
      for (int j = 0; j < d->kw; j++) {
        const double *row = col + ((size_t)(c * d->kh + i) * d->kw + j) * ld_col;
        for (int n = 0; n < count; n++)
          for (int p = 0; p < oh; p++)
            for (int q = 0; q < ow; q++) {
              int y = p * d->stride - d->pad + i, xx = q * d->stride - d->pad + j;
              if (y >= 0 && y < d->h && xx >= 0 && xx < d->w)
                dx[at(d, n0 + n, c, y, xx)] += row[((size_t)n * oh + p) * ow + q];
            }
      }
}
