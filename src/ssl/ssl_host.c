/* Host-side state of the SSL method: schedule, flexmatch, adacm, top-k window. */
#include "ssl/ssl_host.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

double fc_lr_at(const fc_train_config *cfg, int64_t step, int64_t total) {
  double lr = cfg->lr;
  if (cfg->warmup > 0 && step < cfg->warmup) return lr * (double)(step + 1) / (double)cfg->warmup;
  if (cfg->schedule == FC_SCHEDULE_CONSTANT || total <= 0) return lr;
  double t = (double)(step - cfg->warmup), T = (double)(total - cfg->warmup);
  if (T <= 0) return lr;
  return lr * cos(7.0 * M_PI * t / (16.0 * T));
}

double fc_ema_momentum_at(double m, int64_t step) {
  double warm = 1.0 - 1.0 / (double)(step + 1);
  return warm < m ? warm : m;
}

fc_status fc_flexmatch_init(fc_flexmatch *f, int classes, int64_t dataset_count, int64_t pool_count,
                            double tau) {
  memset(f, 0, sizeof *f);
  if (classes > 64) return fc_errorf(FC_ERR_LIMIT, "flexmatch supports at most 64 classes");
  f->selected = malloc((size_t)(dataset_count > 0 ? dataset_count : 1));
  if (!f->selected) return fc_errorf(FC_ERR_NOMEM, "out of memory for flexmatch state");
  memset(f->selected, -1, (size_t)(dataset_count > 0 ? dataset_count : 1));
  f->classes = classes;
  f->pool = dataset_count;
  f->unused = pool_count;
  f->tau = tau;
  return FC_OK;
}

void fc_flexmatch_free(fc_flexmatch *f) {
  free(f->selected);
  f->selected = NULL;
}

void fc_flexmatch_update(fc_flexmatch *f, const int64_t *index, const float *conf,
                         const int32_t *argmax, int n) {
  for (int b = 0; b < n; b++) {
    int64_t i = index[b];
    if (i < 0 || i >= f->pool || !(conf[b] > f->tau) || argmax[b] < 0 || argmax[b] >= f->classes)
      continue;
    int old = f->selected[i];
    if (old == argmax[b]) continue;
    if (old < 0)
      f->unused--;
    else
      f->counts[old]--;
    f->selected[i] = (int8_t)argmax[b];
    f->counts[argmax[b]]++;
  }
}

void fc_flexmatch_thresholds(const fc_flexmatch *f, float *tau) {
  int64_t denom = f->unused;
  for (int c = 0; c < f->classes; c++)
    if (f->counts[c] > denom) denom = f->counts[c];
  for (int c = 0; c < f->classes; c++) {
    double beta = denom > 0 ? (double)f->counts[c] / (double)denom : 1.0;
    tau[c] = (float)(f->tau * beta / (2.0 - beta));
  }
}

void fc_adacm_init(fc_adacm *a, int classes) {
  memset(a, 0, sizeof *a);
  a->classes = classes;
  for (int c = 0; c < classes; c++) a->tau[c] = 0.8f;
}

void fc_adacm_update(fc_adacm *a, const float *probs, const int32_t *labels, int n) {
  for (int b = 0; b < n; b++) {
    const float *p = probs + (size_t)b * a->classes;
    int best = 0;
    for (int c = 1; c < a->classes; c++)
      if (p[c] > p[best]) best = c;
    if (labels[b] == best) {
      a->sum[best] += p[best];
      a->count[best]++;
    }
  }
}

void fc_adacm_end_epoch(fc_adacm *a) {
  double ramp = 1.0 / (1.0 + exp(-(double)a->epoch));
  for (int c = 0; c < a->classes; c++) {
    if (a->count[c] > 0) {
      double t = 0.97 * (a->sum[c] / (double)a->count[c]) * ramp;
      a->tau[c] = (float)(t > 0.8 ? t : 0.8);
    }
    a->sum[c] = 0;
    a->count[c] = 0;
  }
  a->epoch++;
}

void fc_snl_window_init(fc_snl_window *w, int classes) {
  memset(w, 0, sizeof *w);
  w->classes = classes;
}

void fc_snl_window_add(fc_snl_window *w, const float *probs, const int32_t *labels, int n) {
  for (int b = 0; b < n; b++) {
    const float *p = probs + (size_t)b * w->classes;
    int y = labels[b];
    if (y < 0 || y >= w->classes) continue;
    int rank = 1;
    for (int c = 0; c < w->classes; c++)
      if (p[c] > p[y] || (p[c] == p[y] && c < y)) rank++;
    if (w->filled == FC_SNL_WINDOW)
      w->hist[w->ranks[w->next]]--;
    else
      w->filled++;
    w->ranks[w->next] = (uint8_t)rank;
    w->hist[rank]++;
    w->next = (w->next + 1) % FC_SNL_WINDOW;
  }
}

int fc_snl_window_k(const fc_snl_window *w) {
  if (w->filled < 1024) return w->classes;
  int64_t need = (int64_t)ceil(0.99 * (double)w->filled), seen = 0;
  for (int k = 1; k <= w->classes; k++) {
    seen += w->hist[k];
    if (seen >= need) return k;
  }
  return w->classes;
}
