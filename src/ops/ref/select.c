/* Reference selection ops, SNL negative sets and DTA state updates. Comparisons use
 * the same float values as the device, so integer outputs must match exactly. */
#include "ops/ref/ref.h"
#include "ops/ref/rng.h"

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

/* Position of class c in the order (value descending, index ascending). */
static int rank_of(const double *qr, int C, int c) {
  int r = 0;
  for (int j = 0; j < C; j++) r += qr[j] > qr[c] || (qr[j] == qr[c] && j < c);
  return r;
}

void fc_ref_snl_negatives(int B, int C, const fc_snl_params *prm, const double *q,
                          const double *mask, const double *student_probs, int32_t *neg,
                          int32_t *counts) {
  /* The device compares float values: round the thresholds as it does. */
  const double tau_n = (float)prm->tau_n, cap = (float)prm->cap;
  for (int b = 0; b < B; b++) {
    const double *qr = q + (size_t)b * C;
    int32_t *nr = neg + (size_t)b * C;
    int eligible = !mask || mask[b] == 0.0, total = 0;
    for (int c = 0; c < C; c++) {
      int is_neg = 0;
      if (eligible) {
        int r = rank_of(qr, C, c);
        if (prm->mode == FC_SNL_TOPK)
          is_neg = r >= prm->k && !(student_probs[(size_t)b * C + c] > cap);
        else
          is_neg = qr[c] < tau_n && r >= 2;
      }
      nr[c] = is_neg;
      total += is_neg;
    }
    if (prm->mode == FC_SNL_RANDOM && total > 0) {
      uint32_t r[4];
      fc_philox((uint32_t)b, (uint32_t)prm->step, (uint32_t)(prm->step >> 32),
                    fc_philox_stream(FC_RNG_STREAM_SNL, 0), (uint32_t)prm->seed,
                    (uint32_t)(prm->seed >> 32), r);
      int pick = (int)fc_philox_below(r[0], (uint32_t)total), seen = 0;
      for (int c = 0; c < C; c++) {
        if (!nr[c]) continue;
        nr[c] = seen == pick;
        seen++;
      }
      total = 1;
    }
    counts[b] = total;
  }
}

void fc_ref_snl_hits(int B, int C, const int32_t *neg, const int32_t *labels, int32_t *hits) {
  for (int b = 0; b < B; b++)
    hits[b] = (labels[b] >= 0 && labels[b] < C) ? neg[(size_t)b * C + labels[b]] != 0 : 0;
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
