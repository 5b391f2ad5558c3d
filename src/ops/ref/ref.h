/* Plain-C double-precision references of every op, mirroring
 * include/fercl/ops.h. The device kernels are tested against these, and these
 * are tested against central finite differences. Same argument order and
 * layouts as the device ops, with host arrays instead of views. */
#ifndef FERCL_OPS_REF_H
#define FERCL_OPS_REF_H

#include <stddef.h>

#include "fercl/ops.h"

/* ---- element-wise ---- */
void fc_ref_relu_forward(const double *x, double *y, size_t n);
void fc_ref_relu_backward(const double *y, const double *dy, double *dx, size_t n);
void fc_ref_add_forward(const double *a, const double *b, double *y, size_t n);

/* ---- matrix multiply ---- */
void fc_ref_gemm(int trans_a, int trans_b, size_t m, size_t n, size_t k, double alpha,
                 const double *a, size_t lda, const double *b, size_t ldb, double beta, double *c,
                 size_t ldc);

#endif
