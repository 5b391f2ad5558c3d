/* Reference confidences, threshold masks and DTA state updates. Comparisons use
 * the same float values as the device, so integer outputs must match exactly. */
#include "ops/ref/ref.h"

void fc_ref_confidence(int B, int C, const double *q, double *conf, int32_t *argmax) {
  for (int b = 0; b < B; b++) {
    const double *qr = q + (size_t)b * C;
    int best = 0;
    for (int c = 1; c < C; c++)
      if (qr[c] > qr[best]) best = c;
    conf[b] = qr[best];
    argmax[b] = best;
  }
}

void fc_ref_threshold_mask(int B, int C, const double *conf, const int32_t *argmax,
                           const double *tau, double *mask) {
  for (int b = 0; b < B; b++) {
    int a = argmax[b];
    mask[b] = (a >= 0 && a < C && conf[b] >= tau[a]) ? 1.0 : 0.0;
  }
}

void fc_ref_batch_confidence_stats(int B, int C, const double *q, const double *conf,
                                   double *stats) {
  for (int j = 0; j <= C; j++) {
    double acc = 0.0;
    for (int b = 0; b < B; b++) acc += j == 0 ? conf[b] : q[(size_t)b * C + j - 1];
    stats[j] = acc / B;
  }
}

static void dta_tau(int C, double tau_min, double tau_max, int rescale, double *st) {
  double mx = st[1];
  for (int c = 1; c < C; c++) mx = st[1 + c] > mx ? st[1 + c] : mx;
  for (int c = 0; c < C; c++) {
    double gb = mx > 0.0 ? st[0] * st[1 + c] / mx : 1.0;
    if (rescale)
      st[1 + C + c] = tau_min + (tau_max - tau_min) * (gb < 0.0 ? 0.0 : gb > 1.0 ? 1.0 : gb);
    else
      st[1 + C + c] = mx > 0.0 ? (gb < tau_min ? tau_min : gb > tau_max ? tau_max : gb) : tau_max;
  }
}

void fc_ref_dta_freematch_init(int C, double tau_min, double tau_max, int rescale, double *state) {
  for (int c = 0; c <= C; c++) state[c] = 1.0 / C;
  dta_tau(C, tau_min, tau_max, rescale, state);
}

void fc_ref_dta_freematch_update(int C, const double *stats, double m, double tau_min,
                                 double tau_max, int rescale, double *state) {
  state[0] = m * state[0] + (1.0 - m) * stats[0];
  for (int c = 0; c < C; c++) state[1 + c] = m * state[1 + c] + (1.0 - m) * stats[1 + c];
  dta_tau(C, tau_min, tau_max, rescale, state);
}

void fc_ref_dist_align_update(int B, int C, const double *q, double m, double *state) {
  double *pbar = state + C;
  for (int c = 0; c < C; c++) {
    double acc = 0.0;
    for (int b = 0; b < B; b++) acc += q[(size_t)b * C + c];
    pbar[c] = m * pbar[c] + (1.0 - m) * acc / B;
  }
}

void fc_ref_dist_align_apply(int B, int C, const double *q, const double *state, double *out) {
  const double *prior = state, *pbar = state + C;
  for (int b = 0; b < B; b++) {
    const double *qr = q + (size_t)b * C;
    double *orow = out + (size_t)b * C, sum = 0.0;
    for (int c = 0; c < C; c++) sum += qr[c] * prior[c] / (pbar[c] > 1e-6 ? pbar[c] : 1e-6);
    for (int c = 0; c < C; c++)
      orow[c] = sum > 0.0 ? qr[c] * prior[c] / (pbar[c] > 1e-6 ? pbar[c] : 1e-6) / sum : qr[c];
  }
}

void fc_ref_confident_histogram(int B, int C, const double *conf, const int32_t *argmax,
                                double tau_fixed, int32_t *hist) {
  for (int c = 0; c < C; c++) hist[c] = 0;
  for (int b = 0; b < B; b++)
    if (argmax[b] >= 0 && argmax[b] < C && conf[b] >= tau_fixed) hist[argmax[b]]++;
}
