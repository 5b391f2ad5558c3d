/* fer-cl's packed GEMM (cl/gemm.cl), for ops that produce their operands
 * directly in panel form (convolution's im2col) instead of going through
 * fc_gemm's packing copies.
 *
 * Panel layout of a logical matrix X[P×K] with width W: ceil(P/W) panels of
 * [K][W] floats, element (p, k) at ((p/W)·K + k)·W + p%W, zeros beyond P.
 * A is packed with W = fc_gemm_mr (its rows), B with W = fc_gemm_nr (its columns). */
#ifndef FERCL_OPS_GEMM_INTERNAL_H
#define FERCL_OPS_GEMM_INTERNAL_H

#include "ops/ops_internal.h"

/* The widest panel any kernel variant uses: workspace sizes round to this. */
#define FC_GEMM_MAX_WIDTH 24

/* Nonzero when fc_gemm runs fer-cl's packed kernel on this device. */
int fc_gemm_packed_active(const fc_device *dev);
int fc_gemm_mr(const fc_device *dev);
int fc_gemm_nr(const fc_device *dev);

/* Floats of a packed [P×K] matrix with panels of width w. */
static inline size_t fc_gemm_panel_floats(size_t p, size_t k, int w) {
  return (p + (size_t)w - 1) / (size_t)w * (size_t)w * k;
}
/* Upper bound for any variant's width (rounding P up to a width w pads at most
 * w − 1 rows, and a narrower width can pad more than a wider one: 144 rows are
 * 6 panels of 24 but 29 of 5 = 145). */
static inline size_t fc_gemm_panel_floats_max(size_t p, size_t k) {
  return (p + FC_GEMM_MAX_WIDTH - 1) * k;
}

/* Packs X[P×K] (element (p, k) at x + p·sp + k·sk) into panels of width w at
 * out; `batch` matrices, x_batch / out_batch floats apart. */
fc_status fc_gemm_pack(fc_device *dev, fc_view x, size_t sp, size_t sk, size_t p, size_t k, int w,
                       fc_view out, size_t batch, size_t x_batch, size_t out_batch);

/* C[m×n] = alpha·A·B + beta·C from packed A (width fc_gemm_mr, K = k) and packed B
 * (width fc_gemm_nr, K = k); `batch` products with the given strides (floats). */
fc_status fc_gemm_packed(fc_device *dev, size_t m, size_t n, size_t k, float alpha, fc_view ap,
                         fc_view bp, float beta, fc_view c, size_t ldc, size_t batch,
                         size_t a_batch, size_t b_batch, size_t c_batch);

/* Column groups of the packed kernels: split m-tiles so the device gets enough
 * work-items when there are few column panels. */
void fc_gemm_groups(const fc_device *dev, size_t m_tiles, size_t n_tiles, size_t batch,
                    size_t *groups, size_t *per_group);
/* cl/gemm.cl's kernel `name` for the device's variant. */
fc_status fc_gemm_kernel(fc_device *dev, const char *name, cl_kernel *k);

/* The kernel program options of the device's variant ("-DGEMM_MR=6 -DGEMM_NV=2"). */

#endif
