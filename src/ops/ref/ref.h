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

/* ==== the backbone's ops: rng, im2col, conv2d, batchnorm, pool, linear, dropout,
 * convert. Activations are host arrays laid out as the fc_shape4 says. ==== */

/* ---- counter-based RNG: bit-exact twin of cl/prelude.cl's Philox-4x32-10 ---- */
void fc_ref_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);
uint32_t fc_ref_rng_u32(uint64_t seed, uint32_t index, uint32_t stream);

/* ---- im2col / col2im ---- */
/* col[K][ld_col], K = c_in·kh·kw, columns (n − n0)·OH·OW + oh·OW + ow. */
void fc_ref_im2col(const fc_conv2d_desc *d, const double *x, int n0, int count, double *col,
                   size_t ld_col);
/* Adjoint of im2col: dx (samples n0..n0+count) = sum of the columns' contributions. */
void fc_ref_col2im(const fc_conv2d_desc *d, const double *col, size_t ld_col, int n0, int count,
                   double *dx);

/* ---- conv2d (direct loops, independent of im2col) ---- */
void fc_ref_conv2d_forward(const fc_conv2d_desc *d, const double *x, const double *w,
                           const double *b, double *y);
void fc_ref_conv2d_backward_data(const fc_conv2d_desc *d, const double *dy, const double *w,
                                 double *dx);
/* db may be NULL. */
void fc_ref_conv2d_backward_weights(const fc_conv2d_desc *d, const double *x, const double *dy,
                                    double *dw, double *db);

/* ---- batchnorm (+ ReLU / + residual + ReLU) ---- */
/* running_mean/var may be NULL (not updated). residual used by FC_BN_ADD_RELU only. */
void fc_ref_batchnorm_forward_train(fc_shape4 s, const double *x, const double *gamma,
                                    const double *beta, double *running_mean, double *running_var,
                                    double momentum, double eps, double *save_mean,
                                    double *save_invstd, fc_bn_epilogue epilogue,
                                    const double *residual, double *y);
void fc_ref_batchnorm_forward_infer(fc_shape4 s, const double *x, const double *gamma,
                                    const double *beta, const double *running_mean,
                                    const double *running_var, double eps, fc_bn_epilogue epilogue,
                                    const double *residual, double *y);
/* y is the forward output (for the ReLU mask); d_residual (FC_BN_ADD_RELU) receives the
 * gradient of the residual input. */
void fc_ref_batchnorm_backward(fc_shape4 s, const double *x, const double *dy, const double *gamma,
                               const double *save_mean, const double *save_invstd,
                               fc_bn_epilogue epilogue, const double *y, double *d_residual,
                               double *dx, double *dgamma, double *dbeta);
void fc_ref_channel_sum(fc_shape4 s, const double *x, double *out);

/* ---- pooling ---- */
void fc_ref_maxpool2d_forward(fc_shape4 in, int k, int stride, int pad, const double *x, double *y,
                              int32_t *argmax);
void fc_ref_maxpool2d_backward(fc_shape4 in, int k, int stride, int pad, const int32_t *argmax,
                               const double *dy, double *dx);
void fc_ref_global_avgpool_forward(fc_shape4 in, const double *x, double *y);
void fc_ref_global_avgpool_backward(fc_shape4 in, const double *dy, double *dx);

/* ---- linear ---- */
void fc_ref_linear_forward(int n, int in, int out, const double *x, const double *w,
                           const double *b, double *y);
/* dx, db may be NULL. */
void fc_ref_linear_backward(int n, int in, int out, const double *x, const double *w,
                            const double *dy, double *dx, double *dw, double *db);

/* ---- dropout ---- */
void fc_ref_dropout_forward(const double *x, double *y, size_t n, double p_drop, uint64_t seed,
                            int training);
void fc_ref_dropout_backward(const double *dy, double *dx, size_t n, double p_drop, uint64_t seed);

/* ---- input conversion, layout transpose ---- */
/* src: uint8 [N][C][H][W]; y in out's layout. */
void fc_ref_input_from_u8(fc_shape4 out, const uint8_t *src, const float *mean, const float *std,
                          double *y);
void fc_ref_layout_convert(fc_shape4 in, const double *x, fc_layout out_layout, double *y);
/* ======== the method's ops: LAE, RFD, losses, DTA, SNL, optimizers ======== */
/* Integer tensors (labels, argmax, negatives, counts, RFD params) are int32_t, as on
 * the device; float tensors are double. */

/* ---- spatial attention (saved: 4·N·H·W doubles, the device layout) ---- */
void fc_ref_lae_forward(fc_shape4 s, int k, const double *x, const double *w, const double *b,
                        double *y, double *saved);
/* Overwrites dx, dw [2k²], db [1]. */
void fc_ref_lae_backward(fc_shape4 s, int k, const double *x, const double *w, const double *saved,
                         const double *dy, double *dx, double *dw, double *db);

/* ---- random feature-map dropout ---- */
void fc_ref_rfd_draw(fc_shape4 s, int block, float p, uint64_t seed, uint64_t step, uint32_t layer,
                     int32_t *params);
/* Forward (x → y) and backward (dy → dx) alike. */
void fc_ref_rfd_apply(fc_shape4 s, int block, const int32_t *params, const double *src,
                      double *dst);

/* ---- softmax and losses (C <= 1024) ---- */
void fc_ref_softmax_forward(int B, int C, const double *z, double *p);
/* w may be NULL (all 1). */
void fc_ref_softmax_xent_forward(int B, int C, const double *z, const int32_t *labels,
                                 const double *w, double b_norm, double *p, double *loss_per_sample,
                                 double *loss);
void fc_ref_softmax_xent_backward(int B, int C, const double *p, const int32_t *labels,
                                  const double *w, double b_norm, double lambda, double *dz);
/* mask may be NULL (all 0). */
void fc_ref_nl_loss_forward(int B, int C, const double *z, const int32_t *neg, const double *mask,
                            double eps, double b_norm, double *loss_per_sample, double *loss);
void fc_ref_nl_loss_backward(int B, int C, const double *z, const int32_t *neg, const double *mask,
                             double eps, double b_norm, double lambda, double *dz);

/* ---- DTA (ref/dta.c) and SNL (ref/snl.c) ---- */
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
/* rescale: see fc_dta_params. */
void fc_ref_dta_freematch_init(int C, double tau_min, double tau_max, int rescale, double *state);
void fc_ref_dta_freematch_update(int C, const double *stats, double m, double tau_min,
                                 double tau_max, int rescale, double *state);
/* Distribution alignment, state [prior[C], p̄[C]] (fc_dist_align_*). out may alias q. */
void fc_ref_dist_align_update(int B, int C, const double *q, double m, double *state);
void fc_ref_dist_align_apply(int B, int C, const double *q, const double *state, double *out);
void fc_ref_confident_histogram(int B, int C, const double *conf, const int32_t *argmax,
                                double tau_fixed, int32_t *hist);

/* ---- optimizers: one segment, weight decay multiplied by wd_scale (0 or 1) ---- */
void fc_ref_sgd_step(const fc_sgd_config *cfg, double wd_scale, size_t n, double *p,
                     const double *g, double *buf, double lr, uint64_t step);
void fc_ref_adam_step(const fc_adam_config *cfg, double wd_scale, size_t n, double *p,
                      const double *g, double *m, double *v, double lr, uint64_t step);
void fc_ref_ema_update(double *teacher, const double *student, size_t n, double m);

#endif
