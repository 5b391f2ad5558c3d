/* GEMM through CLBlast against the reference, all transpose combinations. */
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "op_cases.h"
#include "op_registry.h"
#include "ops/ref/ref.h"

typedef struct gemm_shape {
  size_t m, n, k;
} gemm_shape;

static const gemm_shape shapes[] = {{1, 1, 1},     {7, 31, 33},   {63, 1, 17},
                                    {33, 65, 129}, {64, 49, 576}, {33, 48, 65}};

void fc_test_gemm_case(fc_device *dev, fc_test_rng *rng, int ta, int tb, size_t m, size_t n,
                       size_t k, const size_t pad[4], float alpha, float beta, const char *tag) {
  size_t lda = (ta ? m : k) + pad[0], ldb = (tb ? k : n) + pad[1], ldc = n + pad[2];
  size_t na = (ta ? k : m) * lda + pad[3], nb = (tb ? n : k) * ldb + pad[3], nc = m * ldc;
  float *a = fc_test_alloc_floats(na), *b = fc_test_alloc_floats(nb), *c = fc_test_alloc_floats(nc);
  double *ad = fc_test_alloc_doubles(na), *bd = fc_test_alloc_doubles(nb),
         *cd = fc_test_alloc_doubles(nc);
  fc_test_fill_uniform(rng, a, ad, na, -1, 1);
  fc_test_fill_uniform(rng, b, bd, nb, -1, 1);
  fc_test_fill_uniform(rng, c, cd, nc, -1, 1);
  fc_gbuf ga = fc_gbuf_from_floats(dev, "A", a, na);
  fc_gbuf gb = fc_gbuf_from_floats(dev, "B", b, nb);
  fc_gbuf gc = fc_gbuf_from_floats(dev, "C", c, nc);
  FC_CHECK_OK(fc_gemm(dev, ta, tb, m, n, k, alpha, ga.view, lda, gb.view, ldb, beta, gc.view, ldc));
  fc_ref_gemm(ta, tb, m, n, k, alpha, ad, lda, bd, ldb, beta, cd, ldc);
  fc_test_expect_download(dev, &gc, c, cd, nc, FC_NMSE_FORWARD,
                          "gemm%s%s%s m=%zu n=%zu k=%zu ta=%d tb=%d", tag ? " [" : "",
                          tag ? tag : "", tag ? "]" : "", m, n, k, ta, tb);
  fc_gbuf_free(&ga), fc_gbuf_free(&gb), fc_gbuf_free(&gc);
  free(a), free(b), free(c), free(ad), free(bd), free(cd);
}

void fc_test_gemm(fc_device *dev) {
  fc_test_rng rng = fc_test_rng_make(11);
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
    if (fc_test_over_budget(fc_test_gemm_largest(shapes[s].m, shapes[s].n, shapes[s].k))) continue;
    for (int ta = 0; ta < 2; ta++) {
      for (int tb = 0; tb < 2; tb++) {
        size_t m = shapes[s].m, n = shapes[s].n, k = shapes[s].k;
        fc_test_gemm_case(dev, &rng, ta, tb, m, n, k, (size_t[]){3, 1, 2, 0}, 0.75f, 0.5f, NULL);
      }
    }
  }
  /* Strided batched with a shared A (stride 0), as convolution uses it. */
  size_t m = 5, n = 7, k = 9, batch = 3;
  float *a = fc_test_alloc_floats(m * k), *b = fc_test_alloc_floats(batch * k * n),
        *c = fc_test_alloc_floats(batch * m * n);
  double *ad = fc_test_alloc_doubles(m * k), *bd = fc_test_alloc_doubles(batch * k * n),
         *cd = fc_test_alloc_doubles(batch * m * n);
  fc_test_fill_uniform(&rng, a, ad, m * k, -1, 1);
  fc_test_fill_uniform(&rng, b, bd, batch * k * n, -1, 1);
  fc_gbuf ga = fc_gbuf_from_floats(dev, "A", a, m * k);
  fc_gbuf gb = fc_gbuf_from_floats(dev, "B", b, batch * k * n);
  fc_gbuf gc = fc_gbuf_alloc(dev, "C", batch * m * n, sizeof(float));
  FC_CHECK_OK(fc_gemm_strided_batched(dev, 0, 0, m, n, k, 1.0f, ga.view, k, 0, gb.view, n, k * n,
                                      0.0f, gc.view, n, m * n, batch));
  for (size_t i = 0; i < batch; i++)
    fc_ref_gemm(0, 0, m, n, k, 1.0, ad, k, bd + i * k * n, n, 0.0, cd + i * m * n, n);
  fc_gbuf_download(dev, &gc, c);
  fc_test_expect_close("gemm strided batched", c, cd, batch * m * n, FC_NMSE_FORWARD);
  fc_gbuf_free(&ga), fc_gbuf_free(&gb), fc_gbuf_free(&gc);
  free(a), free(b), free(c), free(ad), free(bd), free(cd);
}

typedef struct gemm_fd_ctx {
  size_t m, n, k;
} gemm_fd_ctx;

static void gemm_fd_forward(void *ctx, double *const *in, double *out) {
  gemm_fd_ctx *g = ctx;
  fc_ref_gemm(0, 0, g->m, g->n, g->k, 1.0, in[0], g->k, in[1], g->n, 0.0, out, g->n);
}

void fc_test_gemm_grad(fc_device *dev) {
  (void)dev;
  /* C = A·B: dA = dC·Bᵀ and dB = Aᵀ·dC, computed with the reference GEMM itself. */
  gemm_fd_ctx g = {7, 5, 9};
  fc_test_rng rng = fc_test_rng_make(12);
  double *a = fc_test_alloc_doubles(g.m * g.k), *b = fc_test_alloc_doubles(g.k * g.n);
  double *dc = fc_test_alloc_doubles(g.m * g.n);
  double *da = fc_test_alloc_doubles(g.m * g.k), *db = fc_test_alloc_doubles(g.k * g.n);
  fc_test_fill_uniform(&rng, NULL, a, g.m * g.k, -1, 1);
  fc_test_fill_uniform(&rng, NULL, b, g.k * g.n, -1, 1);
  fc_test_fill_uniform(&rng, NULL, dc, g.m * g.n, -1, 1);
  fc_ref_gemm(0, 1, g.m, g.k, g.n, 1.0, dc, g.n, b, g.n, 0.0, da, g.k);
  fc_ref_gemm(1, 0, g.k, g.n, g.m, 1.0, a, g.k, dc, g.n, 0.0, db, g.n);
  const fc_fd_input fd_in[] = {{"A", a, g.m * g.k, da}, {"B", b, g.k * g.n, db}};
  fc_test_fd("gemm", gemm_fd_forward, &g, fd_in, 2, dc, g.m * g.n, 1e-7, 40, 13);
  free(a), free(b), free(dc), free(da), free(db);
}
