/* dropout and the shared Philox RNG: known-answer vectors for the C twin,
 * device masks bit-identical to the reference, keep rates, gradients. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "op_registry.h"
#include "ops/ref/ref.h"

/* Known-answer vectors of Philox-4x32-10 (Random123's kat_vectors). */
static void check_philox_kat(void) {
  static const uint32_t kat[3][10] = {
      {0, 0, 0, 0, 0, 0, 0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u},
      {0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0x408f276du,
       0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu},
      {0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u, 0xa4093822u, 0x299f31d0u, 0xd16cfe09u,
       0x94fdccebu, 0x5001e420u, 0x24126ea1u}};
  for (int t = 0; t < 3; t++) {
    uint32_t out[4];
    fc_ref_philox4x32_10(kat[t], kat[t] + 4, out);
    for (int i = 0; i < 4; i++)
      ck_assert_msg(out[i] == kat[t][6 + i], "philox KAT %d word %d: 0x%08x, expected 0x%08x", t, i,
                    out[i], kat[t][6 + i]);
  }
}

static const size_t sizes[] = {1, 7, 33, 1000, 4099, 65536};
#define N_SIZES (sizeof sizes / sizeof sizes[0])
static const float drops[] = {0.0f, 0.1f, 0.5f, 0.8f, 1.0f};
#define N_DROPS (sizeof drops / sizeof drops[0])

void fc_test_dropout(fc_device *dev) {
  check_philox_kat();
  fc_test_rng rng = fc_test_rng_make(501);
  for (size_t si = 0; si < N_SIZES; si++)
    for (size_t di = 0; di < N_DROPS; di++) {
      size_t n = sizes[si];
      float p = drops[di];
      if (fc_test_over_budget(n)) continue;
      uint64_t seed = 0x0123456789abcdefULL ^ (si * 131 + di);
      float *x = fc_test_alloc_floats(n), *y = fc_test_alloc_floats(n);
      double *xd = fc_test_alloc_doubles(n), *yd = fc_test_alloc_doubles(n);
      /* Nonzero inputs, so a zero output always means "dropped". */
      fc_test_fill_away_from_zero(&rng, x, xd, n, 0.1, 1.0);
      fc_gbuf gx = fc_gbuf_from_floats(dev, "x", x, n), gy = fc_gbuf_alloc(dev, "y", n, 4);
      char what[128];
      snprintf(what, sizeof what, "dropout n=%zu p=%g", n, (double)p);
      FC_CHECK_OK(fc_dropout_forward(dev, gx.view, gy.view, n, p, seed, 1));
      fc_ref_dropout_forward(xd, yd, n, p, seed, 1);
      fc_gbuf_download(dev, &gy, y);
      size_t kept = 0;
      for (size_t i = 0; i < n; i++) {
        ck_assert_msg((y[i] != 0.0f) == (yd[i] != 0.0), "%s: mask differs at %zu", what, i);
        kept += y[i] != 0.0f;
      }
      fc_test_expect_close(what, y, yd, n, FC_NMSE_FORWARD);
      if (n >= 1000) { /* keep rate within 5 standard deviations of 1 − p */
        double q = 1.0 - p, sd = sqrt(n * q * (1 - q));
        ck_assert_msg(fabs((double)kept - n * q) <= 5 * sd + 1e-9, "%s: kept %zu of %zu", what,
                      kept, n);
      }
      /* Backward applies the same mask to dy (here: in place, dx aliasing dy). */
      FC_CHECK_OK(fc_dropout_backward(dev, gx.view, gx.view, n, p, seed));
      fc_ref_dropout_backward(xd, yd, n, p, seed);
      fc_gbuf_download(dev, &gx, y);
      fc_test_expect_close(what, y, yd, n, FC_NMSE_FORWARD);
      /* Inference is the identity. */
      fc_gbuf_upload(dev, &gx, x);
      FC_CHECK_OK(fc_dropout_forward(dev, gx.view, gy.view, n, p, seed, 0));
      fc_gbuf_download(dev, &gy, y);
      fc_test_to_double(x, yd, n);
      fc_test_expect_close(what, y, yd, n, 0.0);
      fc_gbuf_free(&gx), fc_gbuf_free(&gy);
      free(x), free(y), free(xd), free(yd);
    }

  /* Another seed gives another mask. */
  size_t n = 256, differ = 0;
  float *x = fc_test_alloc_floats(n), *a = fc_test_alloc_floats(n), *b = fc_test_alloc_floats(n);
  for (size_t i = 0; i < n; i++) x[i] = 1.0f;
  fc_gbuf gx = fc_gbuf_from_floats(dev, "x", x, n), gy = fc_gbuf_alloc(dev, "y", n, 4);
  FC_CHECK_OK(fc_dropout_forward(dev, gx.view, gy.view, n, 0.5f, 1, 1));
  fc_gbuf_download(dev, &gy, a);
  FC_CHECK_OK(fc_dropout_forward(dev, gx.view, gy.view, n, 0.5f, 2, 1));
  fc_gbuf_download(dev, &gy, b);
  for (size_t i = 0; i < n; i++) differ += a[i] != b[i];
  ck_assert_msg(differ > n / 4, "seeds 1 and 2 give nearly the same mask (%zu differ)", differ);
  ck_assert_int_eq(fc_dropout_forward(dev, gx.view, gy.view, n, 1.5f, 1, 1), FC_ERR_INVALID_ARG);
  fc_gbuf_free(&gx), fc_gbuf_free(&gy);
  free(x), free(a), free(b);
}

typedef struct dropout_fd_ctx {
  size_t n;
  double p;
  uint64_t seed;
} dropout_fd_ctx;

static void dropout_fd_forward(void *ctx, double *const *in, double *out) {
  dropout_fd_ctx *d = ctx;
  fc_ref_dropout_forward(in[0], out, d->n, d->p, d->seed, 1);
}

void fc_test_dropout_grad(fc_device *dev) {
  (void)dev;
  fc_test_rng rng = fc_test_rng_make(502);
  dropout_fd_ctx d = {63, 0.3, 77};
  double *x = fc_test_alloc_doubles(d.n), *dy = fc_test_alloc_doubles(d.n);
  double *dx = fc_test_alloc_doubles(d.n);
  fc_test_fill_uniform(&rng, NULL, x, d.n, -1, 1);
  fc_test_fill_uniform(&rng, NULL, dy, d.n, -1, 1);
  fc_ref_dropout_backward(dy, dx, d.n, d.p, d.seed);
  const fc_fd_input fd_in[] = {{"x", x, d.n, dx}};
  fc_test_fd("dropout", dropout_fd_forward, &d, fd_in, 1, dy, d.n, 1e-7, 63, 503);
  free(x), free(dy), free(dx);
}
