/* Plain-C double-precision references of every op, mirroring
 * include/fercl/ops.h. The device kernels are tested against these, and these
 * are tested against central finite differences. Same argument order and
 * layouts as the device ops, with host arrays instead of views. */
#ifndef FERCL_OPS_REF_H
#define FERCL_OPS_REF_H

#include <stddef.h>
#include <stdint.h>

#include "fercl/ops.h"

/* ---- element-wise ---- */
void fc_ref_relu_forward(const double *x, double *y, size_t n);
void fc_ref_relu_backward(const double *y, const double *dy, double *dx, size_t n);
void fc_ref_add_forward(const double *a, const double *b, double *y, size_t n);

/* ---- matrix multiply ---- */
void fc_ref_gemm(int trans_a, int trans_b, size_t m, size_t n, size_t k, double alpha,
                 const double *a, size_t lda, const double *b, size_t ldb, double beta, double *c,
                 size_t ldc);

/* ======== opsb: attention, RFD, losses, selection, optimizers ======== */
/* Integer tensors (labels, argmax, negatives, counts, RFD params) are int32_t, as on
 * the device; float tensors are double. */

/* ---- spatial attention (saved: 4·N·H·W doubles, the device layout) ---- */
void fc_ref_spatial_attention_forward(fc_shape4 s, int k, const double *x, const double *w,
                                      const double *b, double *y, double *saved);
/* Overwrites dx, dw [2k²], db [1]. */
void fc_ref_spatial_attention_backward(fc_shape4 s, int k, const double *x, const double *w,
                                       const double *saved, const double *dy, double *dx,
                                       double *dw, double *db);

/* ---- random feature-map dropout ---- */
void fc_ref_rfd_draw(fc_shape4 s, int block, float p, uint64_t seed, uint64_t step,
                     uint32_t layer, int32_t *params);
/* Forward (x → y) and backward (dy → dx) alike. */
void fc_ref_rfd_apply(fc_shape4 s, int block, const int32_t *params, const double *src,
                      double *dst);

/* ---- softmax and losses (C <= 1024) ---- */
void fc_ref_softmax_forward(int B, int C, const double *z, double *p);
/* w may be NULL (all 1). */
void fc_ref_softmax_xent_forward(int B, int C, const double *z, const int32_t *labels,
                                 const double *w, double b_norm, double *p,
                                 double *loss_per_sample, double *loss);
void fc_ref_softmax_xent_backward(int B, int C, const double *p, const int32_t *labels,
                                  const double *w, double b_norm, double lambda, double *dz);
/* mask may be NULL (all 0). */
void fc_ref_nl_loss_forward(int B, int C, const double *z, const int32_t *neg, const double *mask,
                            double eps, double b_norm, double *loss_per_sample, double *loss);
void fc_ref_nl_loss_backward(int B, int C, const double *z, const int32_t *neg,
                             const double *mask, double eps, double b_norm, double lambda,
                             double *dz);

/* ---- selection, SNL, DTA ---- */
void fc_ref_confidence(int B, int C, const double *q, double *conf, int32_t *argmax);
void fc_ref_threshold_mask(int B, int C, const double *conf, const int32_t *argmax,
                           const double *tau, double *mask);
/* mask may be NULL; student_probs is read in TOPK mode only. */
void fc_ref_snl_negatives(int B, int C, const fc_snl_params *prm, const double *q,
                          const double *mask, const double *student_probs, int32_t *neg,
                          int32_t *counts);
void fc_ref_snl_hits(int B, int C, const int32_t *neg, const int32_t *labels, int32_t *hits);
void fc_ref_batch_confidence_stats(int B, int C, const double *q, const double *conf,
                                   double *stats);
void fc_ref_dta_freematch_init(int C, double tau_min, double tau_max, double *state);
void fc_ref_dta_freematch_update(int C, const double *stats, double m, double tau_min,
                                 double tau_max, double *state);
void fc_ref_confident_histogram(int B, int C, const double *conf, const int32_t *argmax,
                                double tau_fixed, int32_t *hist);

/* ---- optimizers: one segment, weight decay multiplied by wd_scale (0 or 1) ---- */
void fc_ref_sgd_step(const fc_sgd_config *cfg, double wd_scale, size_t n, double *p,
                     const double *g, double *buf, double lr, uint64_t step);
void fc_ref_adam_step(const fc_adam_config *cfg, double wd_scale, size_t n, double *p,
                      const double *g, double *m, double *v, double lr, uint64_t step);
void fc_ref_ema_update(double *teacher, const double *student, size_t n, double m);
/* ======== end of the opsb block ======== */

#endif
