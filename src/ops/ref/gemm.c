#include "ops/ref/ref.h"

void fc_ref_gemm(int trans_a, int trans_b, size_t m, size_t n, size_t k, double alpha,
                 const double *a, size_t lda, const double *b, size_t ldb, double beta, double *c,
                 size_t ldc) {
  for (size_t i = 0; i < m; i++) {
    for (size_t j = 0; j < n; j++) {
      double acc = 0.0;
      for (size_t p = 0; p < k; p++) {
        double av = trans_a ? a[p * lda + i] : a[i * lda + p];
        double bv = trans_b ? b[j * ldb + p] : b[p * ldb + j];
        acc += av * bv;
      }
      c[i * ldc + j] = alpha * acc + (beta != 0.0 ? beta * c[i * ldc + j] : 0.0);
    }
  }
}
