/* Reference local attention enhancement (LAE) in double precision; saved has the device layout. */
#include <math.h>
#include <string.h>

#include "ops/ref/ref.h"

static size_t at(fc_shape4 s, int n, int c, size_t p) {
  return (size_t)n * fc_shape4_stride_n(s) + (size_t)c * fc_shape4_stride_c(s) + p;
}

void fc_ref_lae_forward(fc_shape4 s, int k, const double *x, const double *w, const double *b,
                        double *y, double *saved) {
  const size_t HW = (size_t)s.h * s.w, NHW = (size_t)s.n * HW;
  double *m = saved, *a = saved + 2 * NHW, *arg = saved + 3 * NHW;
  const int pad = k / 2;
  for (int n = 0; n < s.n; n++) {
    for (size_t p = 0; p < HW; p++) {
      double sum = 0.0, best = x[at(s, n, 0, p)];
      int best_c = 0;
      for (int c = 0; c < s.c; c++) {
        double v = x[at(s, n, c, p)];
        sum += v;
        if (v > best) {
          best = v;
          best_c = c;
        }
      }
      m[(2 * (size_t)n) * HW + p] = sum / s.c;
      m[(2 * (size_t)n + 1) * HW + p] = best;
      arg[(size_t)n * HW + p] = best_c;
    }
    for (int yy = 0; yy < s.h; yy++) {
      for (int xx = 0; xx < s.w; xx++) {
        double acc = b[0];
        for (int ci = 0; ci < 2; ci++)
          for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++) {
              int sy = yy + ky - pad, sx = xx + kx - pad;
              if (sy < 0 || sy >= s.h || sx < 0 || sx >= s.w) continue;
              acc +=
                  w[(ci * k + ky) * k + kx] * m[(2 * (size_t)n + ci) * HW + (size_t)sy * s.w + sx];
            }
        a[(size_t)n * HW + (size_t)yy * s.w + xx] = 1.0 / (1.0 + exp(-acc));
      }
    }
    for (int c = 0; c < s.c; c++)
      for (size_t p = 0; p < HW; p++)
        y[at(s, n, c, p)] = x[at(s, n, c, p)] * (1.0 + a[(size_t)n * HW + p]);
  }
}

void fc_ref_lae_backward(fc_shape4 s, int k, const double *x, const double *w, const double *saved,
                         const double *dy, double *dx, double *dw, double *db) {
  const size_t HW = (size_t)s.h * s.w, NHW = (size_t)s.n * HW;
  const double *m = saved, *a = saved + 2 * NHW, *arg = saved + 3 * NHW;
  const int pad = k / 2;
  memset(dw, 0, 2 * (size_t)k * k * sizeof *dw);
  db[0] = 0.0;
  for (int n = 0; n < s.n; n++) {
    for (size_t p = 0; p < HW; p++) /* the direct path first: the scatter below adds to it */
      for (int c = 0; c < s.c; c++)
        dx[at(s, n, c, p)] = dy[at(s, n, c, p)] * (1.0 + a[(size_t)n * HW + p]);
    for (size_t p = 0; p < HW; p++) {
      double da = 0.0;
      const double an = a[(size_t)n * HW + p];
      for (int c = 0; c < s.c; c++) da += dy[at(s, n, c, p)] * x[at(s, n, c, p)];
      const double ds = da * an * (1.0 - an);
      const int yy = (int)(p / (size_t)s.w), xx = (int)(p % (size_t)s.w);
      db[0] += ds;
      /* Scatter ds through the convolution: to the weights and to the maps M. */
      for (int ci = 0; ci < 2; ci++)
        for (int ky = 0; ky < k; ky++)
          for (int kx = 0; kx < k; kx++) {
            int sy = yy + ky - pad, sx = xx + kx - pad;
            if (sy < 0 || sy >= s.h || sx < 0 || sx >= s.w) continue;
            size_t q = (size_t)sy * s.w + sx;
            double wv = w[(ci * k + ky) * k + kx];
            dw[(ci * k + ky) * k + kx] += ds * m[(2 * (size_t)n + ci) * HW + q];
            if (ci == 0) {
              for (int c = 0; c < s.c; c++) dx[at(s, n, c, q)] += ds * wv / s.c;
            } else {
              dx[at(s, n, (int)arg[(size_t)n * HW + q], q)] += ds * wv;
            }
          }
    }
  }
}
