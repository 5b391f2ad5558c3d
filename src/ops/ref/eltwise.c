#include "ops/ref/ref.h"

void fc_ref_relu_forward(const double *x, double *y, size_t n) {
  for (size_t i = 0; i < n; i++) y[i] = x[i] > 0.0 ? x[i] : 0.0;
}

void fc_ref_relu_backward(const double *y, const double *dy, double *dx, size_t n) {
  for (size_t i = 0; i < n; i++) dx[i] = y[i] > 0.0 ? dy[i] : 0.0;
}

void fc_ref_add_forward(const double *a, const double *b, double *y, size_t n) {
  for (size_t i = 0; i < n; i++) y[i] = a[i] + b[i];
}
