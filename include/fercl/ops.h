/* fer-cl: differentiable operations on an OpenCL device.
 *
 * Every op is a pair of plain functions, X_forward / X_backward, that only
 * enqueue work on the device's in-order queue (no host waits, no allocation,
 * no compilation once the op's kernels were built by a first call). Tensors
 * are views into device buffers: (cl_mem, offset in elements), so parameters,
 * gradients and activations can live in a few flat buffers with named views.
 *
 * Activations are 4-D. Two layouts are supported where it matters:
 *   FC_LAYOUT_NCHW  — element (n,c,h,w) at ((n*C + c)*H + h)*W + w (PyTorch's)
 *   FC_LAYOUT_CNHW  — element (n,c,h,w) at ((c*N + n)*H + h)*W + w
 * CNHW keeps each channel of the whole batch contiguous: a convolution over
 * the batch is ONE large GEMM (C_out × K) · (K × N·H·W), its weight gradient
 * one GEMM with a deterministic reduction over the batch, and batch-norm
 * statistics are contiguous sums. The network uses CNHW internally. */
#ifndef FERCL_OPS_H
#define FERCL_OPS_H

/* OpenCL 1.2 API: what every vendor's loader and driver provide. */
#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>
#include <stddef.h>
#include <stdint.h>

#include "fercl/api.h"
#include "fercl/device.h"
#include "fercl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A tensor's storage: a device buffer and an offset counted in elements. */
typedef struct fc_view {
  cl_mem mem;
  size_t offset;
} fc_view;

static inline fc_view fc_view_of(cl_mem mem, size_t offset) {
  fc_view v = {mem, offset};
  return v;
}
static inline fc_view fc_view_add(fc_view v, size_t elements) {
  v.offset += elements;
  return v;
}
/* A view with mem == NULL means "absent" (e.g. no bias). */
static inline int fc_view_present(fc_view v) { return v.mem != NULL; }

typedef enum fc_layout { FC_LAYOUT_NCHW = 0, FC_LAYOUT_CNHW = 1 } fc_layout;

typedef struct fc_shape4 {
  int n, c, h, w;
  fc_layout layout;
} fc_shape4;

static inline size_t fc_shape4_count(fc_shape4 s) {
  return (size_t)s.n * (size_t)s.c * (size_t)s.h * (size_t)s.w;
}
/* Distance between consecutive samples / channels, in elements. */
static inline size_t fc_shape4_stride_n(fc_shape4 s) {
  return s.layout == FC_LAYOUT_NCHW ? (size_t)s.c * s.h * s.w : (size_t)s.h * s.w;
}
static inline size_t fc_shape4_stride_c(fc_shape4 s) {
  return s.layout == FC_LAYOUT_NCHW ? (size_t)s.h * s.w : (size_t)s.n * s.h * s.w;
}

/* ---- element-wise (cl/eltwise.cl) ---- */

/* y = max(x, 0); y may alias x. */
FC_API fc_status fc_relu_forward(fc_device *dev, fc_view x, fc_view y, size_t n);
/* dx = dy where y > 0, else 0 (y is the forward output); dx may alias dy. */
FC_API fc_status fc_relu_backward(fc_device *dev, fc_view y, fc_view dy, fc_view dx, size_t n);
/* y = a + b (residual add); y may alias a or b. Its backward is the identity
 * for both inputs, so callers route dy to both branches without a kernel. */
FC_API fc_status fc_add_forward(fc_device *dev, fc_view a, fc_view b, fc_view y, size_t n);
/* y = alpha * x + beta * y  (beta = 0 ignores y's old content, even NaN). */
FC_API fc_status fc_axpby(fc_device *dev, float alpha, fc_view x, float beta, fc_view y, size_t n);
/* y[i] = value */
FC_API fc_status fc_fill(fc_device *dev, fc_view y, float value, size_t n);

/* ---- matrix multiply (src/ops/gemm.c) ---- */

/* Row-major C[m×n] = alpha · op(A)[m×k] · op(B)[k×n] + beta · C, with op = transpose
 * when trans_* is nonzero; ld* are row strides of the stored matrices. */
FC_API fc_status fc_gemm(fc_device *dev, int trans_a, int trans_b, size_t m, size_t n, size_t k,
                         float alpha, fc_view a, size_t lda, fc_view b, size_t ldb, float beta,
                         fc_view c, size_t ldc);
/* `batch` independent GEMMs; matrix i starts stride_* elements after matrix i-1
 * (a stride of 0 reuses the same matrix, e.g. shared weights). */
FC_API fc_status fc_gemm_strided_batched(fc_device *dev, int trans_a, int trans_b, size_t m,
                                         size_t n, size_t k, float alpha, fc_view a, size_t lda,
                                         size_t stride_a, fc_view b, size_t ldb, size_t stride_b,
                                         float beta, fc_view c, size_t ldc, size_t stride_c,
                                         size_t batch);

/* ==== the backbone's ops: im2col, conv2d, batchnorm, pooling, linear, dropout,
 * input conversion. Workspace sizes are counted in floats (view elements). ==== */

/* Element (n,c,h,w) of a 4-D activation with strides sn, sc (fc_shape4_stride_n/_c)
 * is at n·sn + c·sc + h·W + w: the ops below take any of the two layouts. */

/* ---- conv2d (cl/conv2d.cl, src/ops/conv2d.c; im2col / col2im in src/ops/im2col.c) ---- */

/* A 2-D convolution: groups 1, dilation 1, the same stride and padding on both axes.
 * Weights are [c_out][c_in][kh][kw] (PyTorch's), bias [c_out]. x, y and their
 * gradients are in `layout`; y is (n, c_out, OH, OW) with OH = (h + 2·pad − kh)/stride + 1. */
typedef struct fc_conv2d_desc {
  int n, c_in, h, w;
  int c_out, kh, kw;
  int stride, pad;
  fc_layout layout;
} fc_conv2d_desc;

/* FC_ERR_INVALID_ARG naming the bad field when the descriptor cannot describe a convolution. */
FC_API fc_status fc_conv2d_check(const fc_conv2d_desc *d);
FC_API int fc_conv2d_out_h(const fc_conv2d_desc *d);
FC_API int fc_conv2d_out_w(const fc_conv2d_desc *d);
FC_API fc_shape4 fc_conv2d_in_shape(const fc_conv2d_desc *d);
FC_API fc_shape4 fc_conv2d_out_shape(const fc_conv2d_desc *d);

/* Column matrix of samples n0 .. n0+count−1: col[K][ld_col] with K = c_in·kh·kw rows
 * (row (c·kh + i)·kw + j) and count·OH·OW columns ((n − n0)·OH·OW + oh·OW + ow).
 * Padding reads as 0. ld_col ≥ count·OH·OW. */
FC_API fc_status fc_im2col(fc_device *dev, const fc_conv2d_desc *d, fc_view x, int n0, int count,
                           fc_view col, size_t ld_col);
/* The adjoint: dx of samples n0 .. n0+count−1 (overwritten) = the sum of the column
 * entries each pixel contributed to, gathered in a fixed order (deterministic). */
FC_API fc_status fc_col2im(fc_device *dev, const fc_conv2d_desc *d, fc_view col, size_t ld_col,
                           int n0, int count, fc_view dx);

/* Workspace (floats) for the conv2d ops when they may process up to max_chunk_samples
 * samples per im2col (0 or ≥ n: the whole batch at once). Larger chunks mean fewer,
 * larger GEMMs. The ops accept any workspace of at least fc_conv2d_workspace_size(d, 1)
 * floats and choose the chunking from the size they are given. 0 for a descriptor
 * fc_conv2d_check rejects. Backward-weights with a bias also needs
 * fc_channel_sum_workspace_size(output shape), which this size includes. */
FC_API size_t fc_conv2d_workspace_size(const fc_conv2d_desc *d, int max_chunk_samples);
/* y = conv(x, w) + b (b optional: mem == NULL). */
FC_API fc_status fc_conv2d_forward(fc_device *dev, const fc_conv2d_desc *d, fc_view x, fc_view w,
                                   fc_view b, fc_view y, fc_view workspace, size_t workspace_size);
/* dx = the gradient w.r.t. x (overwritten). */
FC_API fc_status fc_conv2d_backward_data(fc_device *dev, const fc_conv2d_desc *d, fc_view dy,
                                         fc_view w, fc_view dx, fc_view workspace,
                                         size_t workspace_size);
/* dw (and db if present) = gradients w.r.t. w and b; added to their content when
 * accumulate is nonzero, else overwritten. Sums over the batch in a fixed order. */
FC_API fc_status fc_conv2d_backward_weights(fc_device *dev, const fc_conv2d_desc *d, fc_view x,
                                            fc_view dy, fc_view dw, fc_view db, int accumulate,
                                            fc_view workspace, size_t workspace_size);

/* ---- batch normalisation over (N, H, W) per channel (cl/batchnorm.cl) ---- */

/* What follows the normalisation in the same kernel:
 *   FC_BN_PLAIN     y = bn(x)
 *   FC_BN_RELU      y = max(bn(x), 0)
 *   FC_BN_ADD_RELU  y = max(bn(x) + residual, 0)   (the end of a ResNet basic block) */
typedef enum fc_bn_epilogue { FC_BN_PLAIN = 0, FC_BN_RELU = 1, FC_BN_ADD_RELU = 2 } fc_bn_epilogue;

/* Synchronised batch norm (data-parallel ranks, fer-cl train --sync-bn): this
 * process holds one of `ranks` equal parts of a global batch, and sum(user, v, n)
 * adds the host array v over every rank in place. Training forward then sums
 * the per-channel sums (for the mean, then the centred squares) over the ranks,
 * and backward the sums of dy and dy·x̂, so every rank normalises with the
 * global batch's statistics and N ranks compute what one process would on the
 * whole batch. Each sum is a host round trip: it waits for the device. host:
 * scratch of at least 2·C doubles (no allocation inside a step). */
typedef struct fc_bn_sync {
  int ranks;
  fc_status (*sum)(void *user, double *values, size_t n);
  void *user;
  double *host;
  size_t host_len;
} fc_bn_sync;

/* Parameters and running statistics, all [C]. running_* may be absent in training
 * (then not updated). Defaults like PyTorch: momentum 0.1, eps 1e-5. sync: NULL
 * (the batch is all there is) or the ranks to share statistics with. */
typedef struct fc_batchnorm_params {
  fc_view gamma, beta;
  fc_view running_mean, running_var;
  float momentum, eps;
  const fc_bn_sync *sync;
} fc_batchnorm_params;

/* Workspace (floats) for training forward and backward on this shape. */
FC_API size_t fc_batchnorm_workspace_size(fc_shape4 s);
/* Training: normalises with the batch statistics (biased variance), saves the batch
 * mean and 1/sqrt(var + eps) ([C] each) for backward, and updates the running
 * statistics: running = (1 − momentum)·running + momentum·batch, with the UNBIASED
 * batch variance (PyTorch). Needs N·H·W ≥ 2. residual: FC_BN_ADD_RELU only (same
 * shape as x). y may alias x only when no backward follows. */
FC_API fc_status fc_batchnorm_forward_train(fc_device *dev, fc_shape4 s, fc_view x,
                                            const fc_batchnorm_params *p, fc_view save_mean,
                                            fc_view save_invstd, fc_bn_epilogue epilogue,
                                            fc_view residual, fc_view y, fc_view workspace,
                                            size_t workspace_size);
/* Inference: normalises with the running statistics. y may alias x. */
FC_API fc_status fc_batchnorm_forward_infer(fc_device *dev, fc_shape4 s, fc_view x,
                                            const fc_batchnorm_params *p, fc_bn_epilogue epilogue,
                                            fc_view residual, fc_view y);
/* Backward of the training forward: x, the saved statistics, and for epilogues with a
 * ReLU the forward output y (its mask). Writes dx (may alias dy, except with
 * FC_BN_ADD_RELU), dgamma and dbeta ([C]; added to when accumulate is nonzero).
 * FC_BN_ADD_RELU also writes d_residual, the gradient of the residual input (may alias
 * dy; must not alias dx). */
FC_API fc_status fc_batchnorm_backward(fc_device *dev, fc_shape4 s, fc_view x, fc_view dy,
                                       const fc_batchnorm_params *p, fc_view save_mean,
                                       fc_view save_invstd, fc_bn_epilogue epilogue, fc_view y,
                                       fc_view d_residual, fc_view dx, fc_view dgamma,
                                       fc_view dbeta, int accumulate, fc_view workspace,
                                       size_t workspace_size);

/* out[c] (+)= sum of x over (N, H, W), deterministic two-pass (conv bias gradients). */
FC_API size_t fc_channel_sum_workspace_size(fc_shape4 s);
FC_API fc_status fc_channel_sum(fc_device *dev, fc_shape4 s, fc_view x, fc_view out, int accumulate,
                                fc_view workspace, size_t workspace_size);

/* ---- pooling (cl/pool.cl) ---- */

/* Output shape of a k×k window with stride and padding (floor mode, like PyTorch's
 * default); the layout is the input's. */
FC_API fc_shape4 fc_pool2d_out_shape(fc_shape4 in, int k, int stride, int pad);
/* Max-pool; padding never wins (needs pad ≤ k/2). argmax (int32, shaped like y) holds
 * the winner's index h·W + w within its input plane; ties go to the first maximum in
 * scan order and NaN propagates, like PyTorch. */
FC_API fc_status fc_maxpool2d_forward(fc_device *dev, fc_shape4 in, int k, int stride, int pad,
                                      fc_view x, fc_view y, fc_view argmax);
/* dx (overwritten) gathers, per input pixel, dy of the outputs that selected it, in a
 * fixed order (windows may overlap). */
FC_API fc_status fc_maxpool2d_backward(fc_device *dev, fc_shape4 in, int k, int stride, int pad,
                                       fc_view argmax, fc_view dy, fc_view dx);
/* y[n][c] (row-major [N][C]) = mean over (H, W) of x. */
FC_API fc_status fc_global_avgpool_forward(fc_device *dev, fc_shape4 in, fc_view x, fc_view y);
FC_API fc_status fc_global_avgpool_backward(fc_device *dev, fc_shape4 in, fc_view dy, fc_view dx);

/* ---- fully connected layer (cl/linear.cl + GEMM) ---- */

/* y[n][out] = x[n][in] · wᵀ + b, w [out][in] (PyTorch's), b optional. */
FC_API fc_status fc_linear_forward(fc_device *dev, int n, int in, int out, fc_view x, fc_view w,
                                   fc_view b, fc_view y);
/* dx [n][in] (optional, overwritten), dw [out][in], db [out] (optional); dw and db are
 * added to when accumulate is nonzero. db is a fixed-order column sum. */
FC_API fc_status fc_linear_backward(fc_device *dev, int n, int in, int out, fc_view x, fc_view w,
                                    fc_view dy, fc_view dx, fc_view dw, fc_view db, int accumulate);

/* ---- dropout (cl/dropout.cl) ---- */

/* Training: inverted dropout, y = x / (1 − p_drop) where kept, else 0. Element i is kept
 * when the 24-bit uniform from Philox(seed, counter (i, 0, 0, 0)) is below 1 − p_drop
 * (see cl/prelude.cl; bit-exact C twin in src/ops/ref/rng.c), so masks are reproducible
 * and backward recomputes the mask instead of storing it. Inference: y = x. y may
 * alias x. p_drop in [0, 1]. */
FC_API fc_status fc_dropout_forward(fc_device *dev, fc_view x, fc_view y, size_t n, float p_drop,
                                    uint64_t seed, int training);
/* dx = dy · mask / (1 − p_drop), the mask of the training forward with the same seed. */
FC_API fc_status fc_dropout_backward(fc_device *dev, fc_view dy, fc_view dx, size_t n, float p_drop,
                                     uint64_t seed);
/* The integer threshold the kernels compare against (shared by the reference). */
FC_API uint32_t fc_dropout_keep_threshold(double p_drop);

/* ---- input conversion and layout transpose (cl/convert.cl) ---- */

#define FC_INPUT_MAX_CHANNELS 4
/* uint8 images [N][C][H][W] (src's offset counts bytes) → float
 * y = (v/255 − mean[c]) / std[c], written in out's layout. C ≤ FC_INPUT_MAX_CHANNELS;
 * mean and std are host arrays of C values. */
FC_API fc_status fc_input_from_u8(fc_device *dev, fc_shape4 out, fc_view src, const float *mean,
                                  const float *std, fc_view y);
/* y = x re-laid out from in.layout to out_layout (e.g. NCHW ↔ CNHW); y must not alias x. */
FC_API fc_status fc_layout_convert(fc_device *dev, fc_shape4 in, fc_view x, fc_layout out_layout,
                                   fc_view y);
/* ======== the method's ops: LAE, RFD, losses, DTA, SNL, optimizers ========
 * Conventions of this block: batch B and classes C are ints > 0; per-sample
 * vectors are [B], class matrices [B][C] row-major; float tensors are fc_views of
 * float buffers, "int32" ones of int buffers. Reductions run in a fixed order
 * (no float atomics), so every result is bit-reproducible on a given device.
 * Gradients of parameters/logits are overwritten, or added to the existing content
 * when `accumulate` is nonzero (several losses or passes feeding one tensor). */

/* ---- local attention enhancement, LAE (cl/lae.cl; these were formerly named
 * fc_spatial_attention_*) ----
 * Residual spatial attention over a feature map F of shape (N, C, H, W), either layout:
 *   M = [mean_c F ; max_c F]        two maps per sample
 *   A = sigmoid(conv_k(M) + b)      weight w [1][2][k][k] (input channel 0 = mean,
 *                                   1 = max), bias b [1], stride 1, zero padding k/2
 *   y = F ⊙ (1 + A)                 A broadcast over channels
 * k is odd, 1..15. `saved` (fc_lae_saved_size floats) is written by the
 * forward pass and read by the backward pass: M as [N][2][H][W], then A as [N][H][W],
 * then the first maximal channel of each pixel as [N][H][W] (stored as floats).
 * y must not alias x. */
FC_API size_t fc_lae_saved_size(fc_shape4 shape);
FC_API fc_status fc_lae_forward(fc_device *dev, fc_shape4 shape, int k, fc_view x, fc_view w,
                                fc_view b, fc_view y, fc_view saved);
/* Scratch floats the backward pass needs. */
FC_API size_t fc_lae_workspace_size(fc_shape4 shape, int k);
/* dx (overwritten; may alias dy) gets the direct path and the paths through the mean
 * and the max (the max's gradient goes to the first maximal channel); dw [2k²] and
 * db [1] are overwritten or accumulated. */
FC_API fc_status fc_lae_backward(fc_device *dev, fc_shape4 shape, int k, fc_view x, fc_view w,
                                 fc_view saved, fc_view dy, fc_view dx, fc_view dw, fc_view db,
                                 int accumulate, fc_view workspace);

/* ---- random feature-map dropout, RFD (cl/rfd.cl) ----
 * Training only (the teacher and evaluation do not call it). Per sample n, with
 * probability p, one bh×bw block (bh = min(block, H), bw = min(block, W)) is zeroed
 * across all channels, placed fully inside the map so exactly bh·bw pixels go, and the
 * rest of that sample is scaled by HW / (HW − bh·bw). A block that would cover the whole
 * map (e.g. H = W = 1) is never dropped. Samples not dropped pass unchanged.
 * The decision and position are drawn with fc_rng (Philox-4x32-10) keyed by `seed`,
 * counter (n, step, FC_RNG_STREAM_RFD << 24 | layer): reproducible from
 * (seed, step, layer, sample) and identical to the C reference. `params` ([N][4] int32:
 * dropped 0/1, y0, x0, 0) is written by forward and read by backward.
 * y may alias x; dx may alias dy. */
FC_API int fc_rfd_default_block(int h); /* ⌈h/3⌉ */
FC_API fc_status fc_rfd_forward(fc_device *dev, fc_shape4 shape, int block, float p, uint64_t seed,
                                uint64_t step, uint32_t layer, fc_view x, fc_view y,
                                fc_view params);
/* dx = dy with the same block zeroed and the same scale. */
FC_API fc_status fc_rfd_backward(fc_device *dev, fc_shape4 shape, int block, fc_view params,
                                 fc_view dy, fc_view dx);

/* ---- softmax and losses (cl/loss.cl) ---- logits/probabilities [B][C] float. */

/* probs = softmax(logits) per row (max-subtracted); probs may alias logits. */
FC_API fc_status fc_softmax_forward(fc_device *dev, int batch, int classes, fc_view logits,
                                    fc_view probs);

/* Weighted softmax cross-entropy. labels int32 [B], −1 = no label (weight 0);
 * weights float [B] (0 = masked out), or absent (mem NULL) for all 1.
 * Forward writes probs [B][C], loss_per_sample [B] = CE(z_b, y_b) (0 for label −1,
 * NaN for a label outside −1..C−1 so a bad label shows in the log) and
 * loss [1] = Σ_b w_b·CE_b / b_norm (the unscaled loss part, for logging).
 * probs may alias logits. */
FC_API fc_status fc_softmax_xent_forward(fc_device *dev, int batch, int classes, fc_view logits,
                                         fc_view labels, fc_view weights, float b_norm,
                                         fc_view probs, fc_view loss_per_sample, fc_view loss);
/* dlogits = lambda·w_b·(probs − onehot(y_b)) / b_norm; rows without a valid label get 0. */
FC_API fc_status fc_softmax_xent_backward(fc_device *dev, int batch, int classes, fc_view probs,
                                          fc_view labels, fc_view weights, float b_norm,
                                          float lambda, fc_view dlogits, int accumulate);

/* METHOD §5's default eps for the negative-learning loss. */
#define FC_NL_LOSS_EPS 1e-7f

/* Negative-learning loss (METHOD §5) on the student's logits:
 *   ℓ_b = Σ_{c: neg[b][c] ≠ 0} −log(1 − p_b(c) + eps),  p = softmax(logits)
 *   loss = Σ_b (1 − mask_b)·ℓ_b / b_norm
 * negatives int32 [B][C] (0/1); mask float [B], or absent for all 0. 1 − p_b(c) is
 * computed as Σ_{j≠c} p_b(j) so it keeps its precision when p → 1. Forward writes
 * loss_per_sample [B] = ℓ_b (unmasked) and loss [1]. */
FC_API fc_status fc_nl_loss_forward(fc_device *dev, int batch, int classes, fc_view logits,
                                    fc_view negatives, fc_view mask, float eps, float b_norm,
                                    fc_view loss_per_sample, fc_view loss);
/* dlogits = lambda · ∂loss/∂logits (through the softmax). */
FC_API fc_status fc_nl_loss_backward(fc_device *dev, int batch, int classes, fc_view logits,
                                     fc_view negatives, fc_view mask, float eps, float b_norm,
                                     float lambda, fc_view dlogits, int accumulate);

/* ---- DTA: selection and thresholds on the device (cl/dta.cl, src/ops/dta.c) ----
 * q: the teacher's probabilities [B][C]. Orders over classes break ties towards the
 * lowest index (argmax, top-2, top-k). */

/* conf [B] float = max_c q_b(c); argmax [B] int32 = first maximal class. */
FC_API fc_status fc_confidence(fc_device *dev, int batch, int classes, fc_view q, fc_view conf,
                               fc_view argmax);
/* mask [B] float = 1 when conf_b ≥ tau[argmax_b] (tau float [C] on the device), else 0. */
FC_API fc_status fc_threshold_mask(fc_device *dev, int batch, int classes, fc_view conf,
                                   fc_view argmax, fc_view tau, fc_view mask);

/* ---- SNL: negative sets (cl/snl.cl, src/ops/snl.c) ---- */
typedef enum fc_snl_mode {
  FC_SNL_THRESH = 0, /* classes with q < tau_n, never the teacher's top-2 */
  FC_SNL_TOPK = 1,   /* classes outside the teacher's top-k, except student p > cap */
  FC_SNL_RANDOM = 2  /* one class drawn uniformly from the THRESH set */
} fc_snl_mode;

typedef struct fc_snl_params {
  fc_snl_mode mode;
  float tau_n;   /* THRESH, RANDOM: negatives have q < tau_n (METHOD default 0.05) */
  int k;         /* TOPK: 1..C */
  float cap;     /* TOPK: a class with student p > cap is never a negative (τ_max²) */
  uint64_t seed; /* RANDOM: fc_rng key; counter (sample, step, FC_RNG_STREAM_SNL << 24) */
  uint64_t step;
} fc_snl_params;

/* Builds the negative sets: negatives [B][C] int32 0/1 and counts [B] int32 (number of
 * negatives per sample). Samples with mask_b ≠ 0 get none (mask float [B], or absent:
 * every sample eligible). student_probs [B][C] is read in TOPK mode only (absent
 * otherwise). */
FC_API fc_status fc_snl_negatives(fc_device *dev, int batch, int classes,
                                  const fc_snl_params *params, fc_view q, fc_view mask,
                                  fc_view student_probs, fc_view negatives, fc_view counts);
/* For logging SNL's precision: hits [B] int32 = 1 when the true label (int32 [B];
 * −1 or out of range: 0) is among the sample's negatives. */
FC_API fc_status fc_snl_hits(fc_device *dev, int batch, int classes, fc_view negatives,
                             fc_view labels, fc_view hits);

/* ---- DTA, continued ----
 * DTA (METHOD §4). stats [1 + C] float: stats[0] = mean_b conf_b,
 * stats[1 + c] = mean_b q_b(c). */
FC_API fc_status fc_batch_confidence_stats(fc_device *dev, int batch, int classes, fc_view q,
                                           fc_view conf, fc_view stats);
/* freematch-fer state, owned by the trainer: [g, p̃(0..C−1), τ(0..C−1)] floats. */
static inline size_t fc_dta_state_size(int classes) { return 1 + 2 * (size_t)classes; }
static inline fc_view fc_dta_tau(fc_view state, int classes) {
  return fc_view_add(state, 1 + (size_t)classes);
}
/* How τ comes from the state, with β(c) = p̃(c)/max p̃:
 *   rescale 0 (freematch-fer):      τ(c) = clamp(g·β(c), tau_min, tau_max)
 *   rescale 1 (freematch-rescaled): τ(c) = tau_min + (tau_max − tau_min)·g·β(c)
 * (needs 0 ≤ tau_min ≤ tau_max ≤ 1). */
typedef struct fc_dta_params {
  float tau_min, tau_max;
  int rescale;
} fc_dta_params;
/* g = 1/C, p̃(c) = 1/C, τ as above. */
FC_API fc_status fc_dta_freematch_init(fc_device *dev, int classes, const fc_dta_params *params,
                                       fc_view state);
/* g ← m·g + (1−m)·stats[0]; p̃(c) ← m·p̃(c) + (1−m)·stats[1+c]; τ recomputed as above. */
FC_API fc_status fc_dta_freematch_update(fc_device *dev, int classes, fc_view stats, float m,
                                         const fc_dta_params *params, fc_view state);

/* Distribution alignment (ReMixMatch), state [prior(0..C−1), p̄(0..C−1)] floats owned
 * by the trainer: prior = the labelled set's class frequencies, p̄ = running mean of the
 * teacher's (unaligned) predictions, starting at 1/C. */
static inline size_t fc_dist_align_state_size(int classes) { return 2 * (size_t)classes; }
/* p̄(c) ← m·p̄(c) + (1−m)·mean_b q_b(c). */
FC_API fc_status fc_dist_align_update(fc_device *dev, int batch, int classes, fc_view q, float m,
                                      fc_view state);
/* out_b(c) = q_b(c)·prior(c)/max(p̄(c), 1e-6), renormalised per row (a row that sums to
 * 0 is copied unchanged). out may alias q. */
FC_API fc_status fc_dist_align_apply(fc_device *dev, int batch, int classes, fc_view q,
                                     fc_view state, fc_view out);
/* flexmatch's per-batch step: hist [C] int32 = #{b : conf_b ≥ tau_fixed, argmax_b = c}. */
FC_API fc_status fc_confident_histogram(fc_device *dev, int batch, int classes, fc_view conf,
                                        fc_view argmax, float tau_fixed, fc_view hist);

/* ---- optimizers over flat parameter buffers (cl/optim.cl) ----
 * params, grads and the optimizer state are views of n floats each, element i of
 * each belonging to the same parameter. Segments say which ranges get weight decay:
 * each (offset, count, decay) range [offset, offset+count) of [0, n) is updated with
 * weight decay when decay ≠ 0 and without when 0 (BN γ/β, biases); elements in no
 * segment are left alone; segments must not overlap. segments NULL = one segment
 * [0, n) with decay. One kernel launch per segment. step counts from 1. */
typedef struct fc_optim_segment {
  size_t offset, count;
  int decay;
} fc_optim_segment;

/* PyTorch SGD: g = grad + wd·θ; buf = g at step 1, else μ·buf + (1−dampening)·g;
 * g = g + μ·buf (nesterov) or buf; θ -= lr·g. momentum 0: buf is not touched. */
typedef struct fc_sgd_config {
  float momentum, dampening, weight_decay;
  int nesterov; /* requires momentum > 0 and dampening 0, as in PyTorch */
} fc_sgd_config;
FC_API fc_status fc_sgd_step(fc_device *dev, const fc_sgd_config *cfg,
                             const fc_optim_segment *segments, int n_segments, size_t n,
                             fc_view params, fc_view grads, fc_view momentum_buf, float lr,
                             uint64_t step);

/* PyTorch Adam (decoupled = 0: g = grad + wd·θ) and AdamW (decoupled ≠ 0:
 * θ ← θ·(1 − lr·wd) first); m, v start zeroed; bias correction with `step`:
 * θ -= lr/(1−β1^t) · m / (√v / √(1−β2^t) + eps). No amsgrad. */
typedef struct fc_adam_config {
  float beta1, beta2, eps, weight_decay;
  int decoupled;
} fc_adam_config;
FC_API fc_status fc_adam_step(fc_device *dev, const fc_adam_config *cfg,
                              const fc_optim_segment *segments, int n_segments, size_t n,
                              fc_view params, fc_view grads, fc_view m, fc_view v, float lr,
                              uint64_t step);

/* EMA teacher: teacher ← m·teacher + (1−m)·student over n floats. */
FC_API fc_status fc_ema_update(fc_device *dev, fc_view teacher, fc_view student, size_t n, float m);
/* grads ← 0 over n floats. */
FC_API fc_status fc_zero_grad(fc_device *dev, fc_view grads, size_t n);

/* ---- small reductions and the logging gather (cl/reduce.cl) ---- */

/* out[0] = scale · Σ_i x[i] in index order (x float, or int32 when x_is_int32),
 * written as a float. For short vectors (per-sample values, counts): one work-item. */
FC_API fc_status fc_sum(fc_device *dev, fc_view x, size_t n, int x_is_int32, float scale,
                        fc_view out);

/* Copies each item's `count` 32-bit words (float or int32, copied bit for bit) into
 * dst, one after another, so the trainer fetches every logging scalar of a step with
 * ONE read of dst. */
typedef struct fc_gather_item {
  fc_view src;
  size_t count;
} fc_gather_item;
FC_API fc_status fc_gather_words(fc_device *dev, const fc_gather_item *items, int n_items,
                                 fc_view dst);

#ifdef __cplusplus
}
#endif
#endif
