/* Fully connected layer, PyTorch's weight layout [out][in]. */
#include "ops/ref/ref.h"

void fc_ref_linear_forward(int n, int in, int out, const double *x, const double *w,
                           const double *b, double *y) {
  for (int r = 0; r < n; r++)
    for (int o = 0; o < out; o++) {
      double acc = b ? b[o] : 0.0;
      for (int i = 0; i < in; i++) acc += x[(size_t)r * in + i] * w[(size_t)o * in + i];
      y[(size_t)r * out + o] = acc;
    }
}

void fc_ref_linear_backward(int n, int in, int out, const double *x, const double *w,
                            const double *dy, double *dx, double *dw, double *db) {
  if (dx)
    for (int r = 0; r < n; r++)
      for (int i = 0; i < in; i++) {
        double acc = 0.0;
        for (int o = 0; o < out; o++) acc += dy[(size_t)r * out + o] * w[(size_t)o * in + i];
        dx[(size_t)r * in + i] = acc;
      }
  for (int o = 0; o < out; o++)
    for (int i = 0; i < in; i++) {
      double acc = 0.0;
      for (int r = 0; r < n; r++) acc += dy[(size_t)r * out + o] * x[(size_t)r * in + i];
      dw[(size_t)o * in + i] = acc;
    }
  if (db)
    for (int o = 0; o < out; o++) {
      double acc = 0.0;
      for (int r = 0; r < n; r++) acc += dy[(size_t)r * out + o];
      db[o] = acc;
    }
}
