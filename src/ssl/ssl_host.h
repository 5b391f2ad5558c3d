/* Host-side bookkeeping of the semi-supervised method: learning-rate
 * schedule, the DTA variants that need per-sample or per-epoch state
 * (flexmatch, adacm), and the adaptive k of top-k SNL. The per-step work
 * (freematch-fer thresholds, masks, negative sets, losses) runs on the device. */
#ifndef FERCL_SSL_HOST_H
#define FERCL_SSL_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "fercl/status.h"
#include "fercl/train.h"

/* Learning rate at step t (0-based) of total: linear warm-up, then cosine
 * decay to 0 as in FixMatch (lr·cos(7πt / 16T)) or constant. */
double fc_lr_at(const fc_train_config *cfg, int64_t step, int64_t total);

/* Teacher momentum at step t: min(m, 1 − 1/(t+1)) (Mean Teacher's warm-up). */
double fc_ema_momentum_at(double m, int64_t step);

/* ---- flexmatch: per-sample latest confident prediction over the pool ---- */
typedef struct fc_flexmatch {
  int classes;
  int64_t pool;       /* dataset index range [0, pool) */
  int8_t *selected;   /* per dataset index: class, or -1 */
  int64_t counts[64]; /* samples currently selected per class */
  int64_t unused;     /* samples never confidently predicted */
  double tau;
} fc_flexmatch;

fc_status fc_flexmatch_init(fc_flexmatch *f, int classes, int64_t dataset_count, int64_t pool_count,
                            double tau);
void fc_flexmatch_free(fc_flexmatch *f);
/* Records one batch of teacher predictions (dataset indices, confidences, argmax). */
void fc_flexmatch_update(fc_flexmatch *f, const int64_t *index, const float *conf,
                         const int32_t *argmax, int n);
/* τ[c] = τ · β(c) / (2 − β(c)), β(c) = σ(c) / max(max σ, unused). */
void fc_flexmatch_thresholds(const fc_flexmatch *f, float *tau);

/* ---- adacm: per-epoch thresholds from labelled confidences ---- */
typedef struct fc_adacm {
  int classes;
  double sum[64];
  int64_t count[64];
  int epoch;
  float tau[64];
} fc_adacm;

void fc_adacm_init(fc_adacm *a, int classes);
/* Student probabilities [n][C] on labelled samples with their labels. */
void fc_adacm_update(fc_adacm *a, const float *probs, const int32_t *labels, int n);
/* Closes an epoch: τ[c] = max(0.8, 0.97 · mean confidence of correctly
 * classified labelled samples of class c · sigmoid(epoch)); classes without
 * any keep their threshold. */
void fc_adacm_end_epoch(fc_adacm *a);

/* ---- top-k SNL: k from a running window of the teacher label's rank ---- */
#define FC_SNL_WINDOW 2048
typedef struct fc_snl_window {
  int classes;
  uint8_t ranks[FC_SNL_WINDOW]; /* 1..C */
  int filled, next;
  int64_t hist[65];
} fc_snl_window;

void fc_snl_window_init(fc_snl_window *w, int classes);
/* Adds the rank of label[b] among probs[b][·] (1 = the student's top class). */
void fc_snl_window_add(fc_snl_window *w, const float *probs, const int32_t *labels, int n);
/* Smallest k with ≥ 99 % of the window's ranks ≤ k; C while fewer than 1024
 * samples were seen (no negatives early on). */
int fc_snl_window_k(const fc_snl_window *w);

#endif
