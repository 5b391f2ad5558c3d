/* Reference SNL negative sets and hits, drawing with the C twin of fc_rng. Comparisons
 * use the same float values as the device, so integer outputs must match exactly. */
#include "ops/ref/ref.h"
#include "ops/ref/rng.h"

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
