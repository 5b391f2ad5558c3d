/* Batch normalisation over (N, H, W) per channel, with the fused epilogues. */
#include <math.h>
#include <stdlib.h>

#include "ops/ref/ref.h"

/* Index of element e (0 ≤ e < N·H·W) of channel c. */
static size_t idx(fc_shape4 s, int c, size_t e) {
  size_t hw = (size_t)s.h * s.w;
  return (e / hw) * fc_shape4_stride_n(s) + (size_t)c * fc_shape4_stride_c(s) + e % hw;
}

static double epilogue_of(fc_bn_epilogue epi, double v, double r) {
  if (epi == FC_BN_ADD_RELU) v += r;
  if (epi != FC_BN_PLAIN && v < 0.0) v = 0.0;
  return v;
}

void fc_ref_batchnorm_forward_train(fc_shape4 s, const double *x, const double *gamma,
                                    const double *beta, double *running_mean, double *running_var,
                                    double momentum, double eps, double *save_mean,
                                    double *save_invstd, fc_bn_epilogue epilogue,
                                    const double *residual, double *y) {
  size_t m = (size_t)s.n * s.h * s.w;
  for (int c = 0; c < s.c; c++) {
    double sum = 0.0;
    for (size_t e = 0; e < m; e++) sum += x[idx(s, c, e)];
    double mean = sum / (double)m, sq = 0.0;
    for (size_t e = 0; e < m; e++) {
      double d = x[idx(s, c, e)] - mean;
      sq += d * d;
    }
    double var = sq / (double)m, invstd = 1.0 / sqrt(var + eps);
    save_mean[c] = mean;
    save_invstd[c] = invstd;
    if (running_mean) running_mean[c] = (1.0 - momentum) * running_mean[c] + momentum * mean;
    if (running_var)
      running_var[c] = (1.0 - momentum) * running_var[c] + momentum * sq / (double)(m - 1);
    for (size_t e = 0; e < m; e++) {
      size_t i = idx(s, c, e);
      double v = gamma[c] * (x[i] - mean) * invstd + beta[c];
      y[i] = epilogue_of(epilogue, v, residual ? residual[i] : 0.0);
    }
  }
}

void fc_ref_batchnorm_forward_infer(fc_shape4 s, const double *x, const double *gamma,
                                    const double *beta, const double *running_mean,
                                    const double *running_var, double eps, fc_bn_epilogue epilogue,
                                    const double *residual, double *y) {
  size_t m = (size_t)s.n * s.h * s.w;
  for (int c = 0; c < s.c; c++) {
    double invstd = 1.0 / sqrt(running_var[c] + eps);
    for (size_t e = 0; e < m; e++) {
      size_t i = idx(s, c, e);
      double v = gamma[c] * (x[i] - running_mean[c]) * invstd + beta[c];
      y[i] = epilogue_of(epilogue, v, residual ? residual[i] : 0.0);
    }
  }
}

void fc_ref_batchnorm_backward(fc_shape4 s, const double *x, const double *dy, const double *gamma,
                               const double *save_mean, const double *save_invstd,
                               fc_bn_epilogue epilogue, const double *y, double *d_residual,
                               double *dx, double *dgamma, double *dbeta) {
  size_t m = (size_t)s.n * s.h * s.w;
  for (int c = 0; c < s.c; c++) {
    double sum_dy = 0.0, sum_dy_xhat = 0.0;
    for (size_t e = 0; e < m; e++) {
      size_t i = idx(s, c, e);
      double g = epilogue == FC_BN_PLAIN ? dy[i] : (y[i] > 0.0 ? dy[i] : 0.0);
      if (epilogue == FC_BN_ADD_RELU) d_residual[i] = g;
      sum_dy += g;
      sum_dy_xhat += g * (x[i] - save_mean[c]) * save_invstd[c];
    }
    dgamma[c] = sum_dy_xhat;
    dbeta[c] = sum_dy;
    for (size_t e = 0; e < m; e++) {
      size_t i = idx(s, c, e);
      double g = epilogue == FC_BN_PLAIN ? dy[i] : (y[i] > 0.0 ? dy[i] : 0.0);
      double xhat = (x[i] - save_mean[c]) * save_invstd[c];
      dx[i] = gamma[c] * save_invstd[c] * (g - sum_dy / (double)m - xhat * sum_dy_xhat / (double)m);
    }
  }
}

void fc_ref_channel_sum(fc_shape4 s, const double *x, double *out) {
  size_t m = (size_t)s.n * s.h * s.w;
  for (int c = 0; c < s.c; c++) {
    double sum = 0.0;
    for (size_t e = 0; e < m; e++) sum += x[idx(s, c, e)];
    out[c] = sum;
  }
}
