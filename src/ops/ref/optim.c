/* Reference optimizer steps, written from PyTorch's documented update rules
 * (torch.optim.SGD, Adam, AdamW), in double precision. */
#include <math.h>

#include "ops/ref/ref.h"

void fc_ref_sgd_step(const fc_sgd_config *cfg, double wd_scale, size_t n, double *p,
                     const double *g, double *buf, double lr, uint64_t step) {
  const double wd = cfg->weight_decay * wd_scale, mu = cfg->momentum;
  for (size_t i = 0; i < n; i++) {
    double d = g[i] + wd * p[i];
    if (mu != 0.0) {
      buf[i] = step == 1 ? d : mu * buf[i] + (1.0 - cfg->dampening) * d;
      d = cfg->nesterov ? d + mu * buf[i] : buf[i];
    }
    p[i] -= lr * d;
  }
}

void fc_ref_adam_step(const fc_adam_config *cfg, double wd_scale, size_t n, double *p,
                      const double *g, double *m, double *v, double lr, uint64_t step) {
  const double wd = cfg->weight_decay * wd_scale, b1 = cfg->beta1, b2 = cfg->beta2;
  const double bc1 = 1.0 - pow(b1, (double)step), bc2 = 1.0 - pow(b2, (double)step);
  for (size_t i = 0; i < n; i++) {
    double d = g[i];
    if (cfg->decoupled)
      p[i] *= 1.0 - lr * wd;
    else
      d += wd * p[i];
    m[i] = b1 * m[i] + (1.0 - b1) * d;
    v[i] = b2 * v[i] + (1.0 - b2) * d * d;
    double m_hat = m[i] / bc1, v_hat = v[i] / bc2;
    p[i] -= lr * m_hat / (sqrt(v_hat) + cfg->eps);
  }
}

void fc_ref_ema_update(double *teacher, const double *student, size_t n, double m) {
  for (size_t i = 0; i < n; i++) teacher[i] = m * teacher[i] + (1.0 - m) * student[i];
}
