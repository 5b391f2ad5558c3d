/* Matrix multiply through CLBlast (row-major, single precision). */
#include <clblast_c.h>
#include <stdio.h>

#include "ops/ops_internal.h"

static fc_status clblast_error(fc_device *dev, CLBlastStatusCode code, const char *what,
                               size_t m, size_t n, size_t k) {
  if (code == CLBlastSuccess) return FC_OK;
  if (code < 0 && code > -1000) {
    char ctx[256];
    snprintf(ctx, sizeof ctx, "CLBlast %s (m=%zu n=%zu k=%zu)", what, m, n, k);
    return fc_cl_error(dev, (cl_int)code, ctx);
  }
  return fc_errorf(FC_ERR_OPENCL, "CLBlast %s (m=%zu n=%zu k=%zu) failed on %s with status %d",
                   what, m, n, k, dev->info.name, (int)code);
}

fc_status fc_gemm(fc_device *dev, int trans_a, int trans_b, size_t m, size_t n, size_t k,
                  float alpha, fc_view a, size_t lda, fc_view b, size_t ldb, float beta, fc_view c,
                  size_t ldc) {
  if (m == 0 || n == 0) return FC_OK;
  CLBlastStatusCode code = CLBlastSgemm(
      CLBlastLayoutRowMajor, trans_a ? CLBlastTransposeYes : CLBlastTransposeNo,
      trans_b ? CLBlastTransposeYes : CLBlastTransposeNo, m, n, k, alpha, a.mem, a.offset, lda,
      b.mem, b.offset, ldb, beta, c.mem, c.offset, ldc, &dev->queue, NULL);
  return clblast_error(dev, code, "SGEMM", m, n, k);
}

fc_status fc_gemm_strided_batched(fc_device *dev, int trans_a, int trans_b, size_t m, size_t n,
                                  size_t k, float alpha, fc_view a, size_t lda, size_t stride_a,
                                  fc_view b, size_t ldb, size_t stride_b, float beta, fc_view c,
                                  size_t ldc, size_t stride_c, size_t batch) {
  if (m == 0 || n == 0 || batch == 0) return FC_OK;
  CLBlastStatusCode code = CLBlastSgemmStridedBatched(
      CLBlastLayoutRowMajor, trans_a ? CLBlastTransposeYes : CLBlastTransposeNo,
      trans_b ? CLBlastTransposeYes : CLBlastTransposeNo, m, n, k, alpha, a.mem, a.offset, lda,
      stride_a, b.mem, b.offset, ldb, stride_b, beta, c.mem, c.offset, ldc, stride_c, batch,
      &dev->queue, NULL);
  return clblast_error(dev, code, "SGEMM strided-batched", m, n, k);
}
