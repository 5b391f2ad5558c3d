/* Random feature-map dropout (RFD) and its RNG: Philox known answers, device draws
 * identical to the C twin, forward/backward vs reference in both layouts, p = 0 / 1,
 * reproducibility, drop rate; finite differences w.r.t. F with a fixed mask. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "op_registry.h"
#include "ops/ref/ref.h"
#include "ops/ref/rng.h"

/* Random123's published known-answer vectors for Philox-4x32-10. */
static void check_philox_known_answers(void) {
  static const uint32_t kat[3][10] = {
      {0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
      {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0x408f276d,
       0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
      {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, 0xd16cfe09,
       0x94fdcceb, 0x5001e420, 0x24126ea1}};
  for (int i = 0; i < 3; i++) {
    uint32_t out[4];
    fc_philox(kat[i][0], kat[i][1], kat[i][2], kat[i][3], kat[i][4], kat[i][5], out);
    for (int j = 0; j < 4; j++)
      ck_assert_msg(out[j] == kat[i][6 + j], "philox KAT %d word %d: %08x, expected %08x", i, j,
                    out[j], kat[i][6 + j]);
  }
  ck_assert_uint_eq(fc_philox_prob_threshold(0.0f), 0);
  ck_assert_uint_eq(fc_philox_prob_threshold(1.0f), 1u << 24);
  ck_assert_uint_eq(fc_philox_prob_threshold(0.5f), 1u << 23);
  ck_assert_uint_eq(fc_philox_below(0xffffffffu, 7), 6);
  ck_assert_uint_eq(fc_philox_below(0, 7), 0);
}

typedef struct rfd_case {
  int n, c, h, w;
} rfd_case;

static const rfd_case cases[] = {{1, 1, 1, 1},   {3, 5, 7, 7}, {33, 1, 33, 33},
                                 {31, 63, 7, 7}, {3, 5, 1, 7}, {1, 63, 33, 7}};

static void run_case(fc_device *dev, rfd_case tc, fc_layout layout, float p, uint64_t seed,
                     uint64_t step, fc_test_rng *rng) {
  fc_shape4 s = {tc.n, tc.c, tc.h, tc.w, layout};
  const int block = fc_rfd_default_block(tc.h);
  const size_t n = fc_shape4_count(s), np = 4 * (size_t)tc.n;
  if (fc_test_over_budget(n)) return;
  const uint32_t layer = 3;
  float *x = fc_test_alloc_floats(n), *o = fc_test_alloc_floats(n);
  double *xd = fc_test_alloc_doubles(n), *yd = fc_test_alloc_doubles(n);
  int32_t *prm = calloc(np, sizeof *prm), *prm_ref = calloc(np, sizeof *prm_ref);
  ck_assert_ptr_nonnull(prm);
  ck_assert_ptr_nonnull(prm_ref);
  fc_test_fill_uniform(rng, x, xd, n, -1.0, 1.0);
  char what[160], msg[220];
  snprintf(what, sizeof what, "rfd N=%d C=%d H=%d W=%d %s p=%g step=%llu", tc.n, tc.c, tc.h, tc.w,
           layout == FC_LAYOUT_NCHW ? "NCHW" : "CNHW", (double)p, (unsigned long long)step);

  fc_gbuf gx = fc_gbuf_from_floats(dev, "x", x, n), gy = fc_gbuf_alloc(dev, "y", n, 4);
  fc_gbuf gp = fc_gbuf_alloc(dev, "params", np, 4);
  FC_CHECK_OK(fc_rfd_forward(dev, s, block, p, seed, step, layer, gx.view, gy.view, gp.view));
  fc_ref_rfd_draw(s, block, p, seed, step, layer, prm_ref);
  fc_gbuf_download(dev, &gp, prm);
  snprintf(msg, sizeof msg, "%s: params", what);
  fc_test_expect_equal_i32(msg, prm, prm_ref, np);
  const int bh = block < tc.h ? block : tc.h, bw = block < tc.w ? block : tc.w;
  for (int i = 0; i < tc.n; i++) {
    ck_assert_int_ge(prm[4 * i + 1], 0);
    ck_assert_int_le(prm[4 * i + 1], tc.h - bh);
    ck_assert_int_ge(prm[4 * i + 2], 0);
    ck_assert_int_le(prm[4 * i + 2], tc.w - bw);
    if (p == 0.0f || bh * bw == tc.h * tc.w) ck_assert_int_eq(prm[4 * i], 0);
    if (p == 1.0f && bh * bw < tc.h * tc.w) ck_assert_int_eq(prm[4 * i], 1);
  }
  fc_ref_rfd_apply(s, block, prm_ref, xd, yd);
  fc_test_expect_download(dev, &gy, o, yd, n, FC_NMSE_FORWARD, "%s: y", what);
  if (p == 0.0f)
    ck_assert_msg(memcmp(o, x, n * sizeof *o) == 0, "%s: p = 0 changed the input", what);

  /* Backward = the same mask and scale on dy; then in place (dx aliasing dy). */
  FC_CHECK_OK(fc_rfd_backward(dev, s, block, gp.view, gx.view, gy.view));
  fc_test_expect_download(dev, &gy, o, yd, n, FC_NMSE_FORWARD, "%s: dx", what);
  FC_CHECK_OK(fc_rfd_backward(dev, s, block, gp.view, gx.view, gx.view));
  fc_test_expect_download(dev, &gx, o, yd, n, FC_NMSE_FORWARD, "%s: dx in place", what);

  fc_gbuf_free(&gx), fc_gbuf_free(&gy), fc_gbuf_free(&gp);
  free(x), free(o), free(xd), free(yd), free(prm), free(prm_ref);
}

void fc_test_rfd(fc_device *dev) {
  check_philox_known_answers();
  fc_test_rng rng = fc_test_rng_make(201);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    for (int layout = 0; layout < 2; layout++)
      run_case(dev, cases[i], (fc_layout)layout, 0.5f, 0x1234567890abcdefULL, 17 + i, &rng);
  run_case(dev, cases[1], FC_LAYOUT_CNHW, 0.0f, 7, 1, &rng);
  run_case(dev, cases[3], FC_LAYOUT_NCHW, 1.0f, 7, 2, &rng);
  run_case(dev, cases[2], FC_LAYOUT_CNHW, 0.3f, 7, (1ULL << 40) + 5, &rng); /* high step word */

  /* Reproducible from (seed, step, layer); another step or layer draws anew; the drop
   * rate follows p (host twin, 33 samples × 300 steps: sigma 0.0046). */
  fc_shape4 s = {33, 1, 7, 7, FC_LAYOUT_NCHW};
  int32_t a[132], b[132];
  fc_ref_rfd_draw(s, 3, 0.5f, 99, 5, 0, a);
  fc_ref_rfd_draw(s, 3, 0.5f, 99, 5, 0, b);
  ck_assert(memcmp(a, b, sizeof a) == 0);
  fc_ref_rfd_draw(s, 3, 0.5f, 99, 6, 0, b);
  ck_assert(memcmp(a, b, sizeof a) != 0);
  fc_ref_rfd_draw(s, 3, 0.5f, 99, 5, 1, b);
  ck_assert(memcmp(a, b, sizeof a) != 0);
  int dropped = 0, pos_hist[5] = {0};
  for (uint64_t step = 0; step < 300; step++) {
    fc_ref_rfd_draw(s, 3, 0.3f, 42, step, 0, a);
    for (int i = 0; i < 33; i++) dropped += a[4 * i], pos_hist[a[4 * i + 1]]++;
  }
  double rate = dropped / (33.0 * 300.0);
  ck_assert_msg(rate > 0.3 - 0.02 && rate < 0.3 + 0.02, "drop rate %g for p = 0.3", rate);
  for (int i = 0; i < 5; i++) /* y0 uniform over 0..4: expected 1980 each */
    ck_assert_msg(pos_hist[i] > 1780 && pos_hist[i] < 2180, "block row %d drawn %d times", i,
                  pos_hist[i]);

  fc_gbuf g = fc_gbuf_alloc(dev, "any", 64, 4);
  ck_assert_int_eq(fc_rfd_forward(dev, s, 3, 1.5f, 0, 0, 0, g.view, g.view, g.view),
                   FC_ERR_INVALID_ARG);
  ck_assert_int_eq(fc_rfd_forward(dev, s, 0, 0.5f, 0, 0, 0, g.view, g.view, g.view),
                   FC_ERR_INVALID_ARG);
  fc_gbuf_free(&g);
}

typedef struct rfd_fd_ctx {
  fc_shape4 s;
  int block;
  const int32_t *params;
} rfd_fd_ctx;

static void rfd_fd_forward(void *ctx, double *const *in, double *out) {
  rfd_fd_ctx *c = ctx;
  fc_ref_rfd_apply(c->s, c->block, c->params, in[0], out);
}

void fc_test_rfd_grad(fc_device *dev) {
  (void)dev;
  fc_test_rng rng = fc_test_rng_make(202);
  for (int layout = 0; layout < 2; layout++) {
    fc_shape4 s = {4, 3, 7, 6, (fc_layout)layout};
    const size_t n = fc_shape4_count(s);
    int32_t params[16];
    fc_ref_rfd_draw(s, 3, 0.5f, 11, 3, 0, params);
    params[0] = 1, params[4] = 0; /* a dropped and a kept sample, whatever the draw */
    rfd_fd_ctx ctx = {s, 3, params};
    double *x = fc_test_alloc_doubles(n);
    double *dy = fc_test_alloc_doubles(n), *dx = fc_test_alloc_doubles(n);
    fc_test_fill_uniform(&rng, NULL, x, n, -1, 1);
    fc_test_fill_uniform(&rng, NULL, dy, n, -1, 1);
    fc_ref_rfd_apply(s, 3, params, dy, dx); /* backward = the same mask on dy */
    const fc_fd_input fd_in[] = {{"F", x, n, dx}};
    fc_test_fd("rfd (fixed mask)", rfd_fd_forward, &ctx, fd_in, 1, dy, n, 1e-7, 200, 203);
    free(x), free(dy), free(dx);
  }
}
