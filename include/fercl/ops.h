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

#include <CL/cl.h>
#include <stddef.h>
#include <stdint.h>

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
fc_status fc_relu_forward(fc_device *dev, fc_view x, fc_view y, size_t n);
/* dx = dy where y > 0, else 0 (y is the forward output); dx may alias dy. */
fc_status fc_relu_backward(fc_device *dev, fc_view y, fc_view dy, fc_view dx, size_t n);
/* y = a + b (residual add); y may alias a or b. Its backward is the identity
 * for both inputs, so callers route dy to both branches without a kernel. */
fc_status fc_add_forward(fc_device *dev, fc_view a, fc_view b, fc_view y, size_t n);
/* y = alpha * x + beta * y  (beta = 0 ignores y's old content, even NaN). */
fc_status fc_axpby(fc_device *dev, float alpha, fc_view x, float beta, fc_view y, size_t n);
/* y[i] = value */
fc_status fc_fill(fc_device *dev, fc_view y, float value, size_t n);

/* ---- matrix multiply (src/ops/gemm.c) ---- */

/* Row-major C[m×n] = alpha · op(A)[m×k] · op(B)[k×n] + beta · C, with op = transpose
 * when trans_* is nonzero; ld* are row strides of the stored matrices. */
fc_status fc_gemm(fc_device *dev, int trans_a, int trans_b, size_t m, size_t n, size_t k,
                  float alpha, fc_view a, size_t lda, fc_view b, size_t ldb, float beta, fc_view c,
                  size_t ldc);
/* `batch` independent GEMMs; matrix i starts stride_* elements after matrix i-1
 * (a stride of 0 reuses the same matrix, e.g. shared weights). */
fc_status fc_gemm_strided_batched(fc_device *dev, int trans_a, int trans_b, size_t m, size_t n,
                                  size_t k, float alpha, fc_view a, size_t lda, size_t stride_a,
                                  fc_view b, size_t ldb, size_t stride_b, float beta, fc_view c,
                                  size_t ldc, size_t stride_c, size_t batch);

#ifdef __cplusplus
}
#endif
#endif
