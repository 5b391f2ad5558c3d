/* Reference softmax, weighted cross-entropy and negative-learning loss (double). */
#include <math.h>

#include "ops/ref/ref.h"

/* e[c] = exp(z[c] − max z); returns Σ e. */
static double shifted_exp(const double *z, int C, double *e) {
  double m = z[0], s = 0.0;
  for (int c = 1; c < C; c++) m = z[c] > m ? z[c] : m;
  for (int c = 0; c < C; c++) s += (e[c] = exp(z[c] - m));
  return s;
}

void fc_ref_softmax_forward(int B, int C, const double *z, double *p) {
  for (int b = 0; b < B; b++) {
    double s = shifted_exp(z + (size_t)b * C, C, p + (size_t)b * C);
    for (int c = 0; c < C; c++) p[(size_t)b * C + c] /= s;
  }
}

void fc_ref_softmax_xent_forward(int B, int C, const double *z, const int32_t *labels,
                                 const double *w, double b_norm, double *p, double *loss_per_sample,
                                 double *loss) {
  double acc = 0.0;
  for (int b = 0; b < B; b++) {
    const double *zr = z + (size_t)b * C;
    double *pr = p + (size_t)b * C;
    double s = shifted_exp(zr, C, pr), m = zr[0];
    for (int c = 1; c < C; c++) m = zr[c] > m ? zr[c] : m;
    for (int c = 0; c < C; c++) pr[c] /= s;
    int y = labels[b];
    double l = y == -1 ? 0.0 : (y < 0 || y >= C) ? NAN : m + log(s) - zr[y];
    loss_per_sample[b] = l;
    if (isnan(l))
      acc += l;
    else if (y >= 0)
      acc += (w ? w[b] : 1.0) * l;
  }
  *loss = acc / b_norm;
}

void fc_ref_softmax_xent_backward(int B, int C, const double *p, const int32_t *labels,
                                  const double *w, double b_norm, double lambda, double *dz) {
  for (int b = 0; b < B; b++) {
    int y = labels[b];
    for (int c = 0; c < C; c++) {
      size_t i = (size_t)b * C + c;
      dz[i] = (y >= 0 && y < C) ? lambda * (w ? w[b] : 1.0) * (p[i] - (c == y)) / b_norm : 0.0;
    }
  }
}

/* 1 − p_c = Σ_{j≠c} e_j / S, summed directly (exact in double for our purposes). */
static double one_minus_p(const double *e, int C, double s, int c) {
  double rest = 0.0;
  for (int j = 0; j < C; j++)
    if (j != c) rest += e[j];
  return rest / s;
}

void fc_ref_nl_loss_forward(int B, int C, const double *z, const int32_t *neg, const double *mask,
                            double eps, double b_norm, double *loss_per_sample, double *loss) {
  double e[1024], acc = 0.0;
  for (int b = 0; b < B; b++) {
    double s = shifted_exp(z + (size_t)b * C, C, e), l = 0.0;
    for (int c = 0; c < C; c++)
      if (neg[(size_t)b * C + c]) l -= log(one_minus_p(e, C, s, c) + eps);
    loss_per_sample[b] = l;
    acc += (mask ? 1.0 - mask[b] : 1.0) * l;
  }
  *loss = acc / b_norm;
}

void fc_ref_nl_loss_backward(int B, int C, const double *z, const int32_t *neg, const double *mask,
                             double eps, double b_norm, double lambda, double *dz) {
  double e[1024];
  for (int b = 0; b < B; b++) {
    const int32_t *nr = neg + (size_t)b * C;
    double s = shifted_exp(z + (size_t)b * C, C, e), sg = 0.0;
    for (int c = 0; c < C; c++)
      if (nr[c]) sg += e[c] / s / (one_minus_p(e, C, s, c) + eps);
    double k = lambda * (mask ? 1.0 - mask[b] : 1.0) / b_norm;
    for (int j = 0; j < C; j++) {
      double gj = nr[j] ? 1.0 / (one_minus_p(e, C, s, j) + eps) : 0.0;
      dz[(size_t)b * C + j] = k * e[j] / s * (gj - sg);
    }
  }
}
