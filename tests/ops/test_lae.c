/* Local attention enhancement (LAE): device vs reference on awkward shapes and both layouts,
 * ties in the channel max, accumulation and aliasing; finite differences of the
 * reference backward for F, W and b. */
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "op_registry.h"
#include "ops/ref/ref.h"

typedef struct lae_case {
  int n, c, h, w, k;
} lae_case;

static const lae_case cases[] = {
    {1, 1, 1, 1, 3},  {3, 5, 7, 7, 3},  {1, 63, 7, 7, 7}, {3, 5, 33, 33, 7},
    {2, 1, 33, 7, 3}, {3, 63, 1, 7, 7}, {1, 5, 7, 33, 3},
};

/* One case in one layout; `quantize` draws x from {-1, 0, 0.5, 1} so channel maxima tie. */
static void run_case(fc_device *dev, lae_case tc, fc_layout layout, int quantize,
                     fc_test_rng *rng) {
  fc_shape4 s = {tc.n, tc.c, tc.h, tc.w, layout};
  const int k = tc.k;
  const size_t n = fc_shape4_count(s), nw = 2 * (size_t)k * k;
  if (fc_test_over_budget(n)) return;
  const size_t ns = fc_lae_saved_size(s), nws = fc_lae_workspace_size(s, k);
  float *x = fc_test_alloc_floats(n), *dy = fc_test_alloc_floats(n), *w = fc_test_alloc_floats(nw);
  float b[1], out = 0;
  size_t no = n > ns ? n : ns;
  float *o = fc_test_alloc_floats(no > nw ? no : nw);
  double *xd = fc_test_alloc_doubles(n), *dyd = fc_test_alloc_doubles(n),
         *wd = fc_test_alloc_doubles(nw);
  double bd[1], *yd = fc_test_alloc_doubles(n), *sd = fc_test_alloc_doubles(ns);
  double *dxd = fc_test_alloc_doubles(n), *dwd = fc_test_alloc_doubles(nw), dbd[1];
  fc_test_fill_uniform(rng, x, xd, n, -1.0, 1.0);
  if (quantize) {
    static const float levels[4] = {-1.0f, 0.0f, 0.5f, 1.0f};
    for (size_t i = 0; i < n; i++) xd[i] = x[i] = levels[fc_test_rng_u64(rng) % 4];
  }
  fc_test_fill_uniform(rng, dy, dyd, n, -1.0, 1.0);
  fc_test_fill_uniform(rng, w, wd, nw, -0.5, 0.5);
  fc_test_fill_uniform(rng, b, bd, 1, -0.5, 0.5);
  char what[160];
  snprintf(what, sizeof what, "lae N=%d C=%d H=%d W=%d k=%d %s%s", tc.n, tc.c, tc.h, tc.w, k,
           layout == FC_LAYOUT_NCHW ? "NCHW" : "CNHW", quantize ? " (ties)" : "");

  fc_gbuf gx = fc_gbuf_from_floats(dev, "x", x, n), gw = fc_gbuf_from_floats(dev, "w", w, nw);
  fc_gbuf gb = fc_gbuf_from_floats(dev, "b", b, 1), gdy = fc_gbuf_from_floats(dev, "dy", dy, n);
  fc_gbuf gy = fc_gbuf_alloc(dev, "y", n, 4), gs = fc_gbuf_alloc(dev, "saved", ns, 4);
  fc_gbuf gdx = fc_gbuf_alloc(dev, "dx", n, 4), gdw = fc_gbuf_alloc(dev, "dw", nw, 4);
  fc_gbuf gdb = fc_gbuf_alloc(dev, "db", 1, 4), gws = fc_gbuf_alloc(dev, "workspace", nws, 4);

  FC_CHECK_OK(fc_lae_forward(dev, s, k, gx.view, gw.view, gb.view, gy.view, gs.view));
  fc_ref_lae_forward(s, k, xd, wd, bd, yd, sd);
  char msg[220];
  fc_test_expect_download(dev, &gy, o, yd, n, FC_NMSE_FORWARD, "%s: y", what);
  fc_gbuf_download(dev, &gs, o);
  const size_t nhw = ns / 4;
  snprintf(msg, sizeof msg, "%s: saved maps and gate", what);
  fc_test_expect_close(msg, o, sd, 3 * nhw, FC_NMSE_FORWARD);
  for (size_t i = 0; i < nhw; i++)
    ck_assert_msg(o[3 * nhw + i] == (float)sd[3 * nhw + i],
                  "%s: argmax channel of pixel %zu: device %g, reference %g", what, i,
                  (double)o[3 * nhw + i], sd[3 * nhw + i]);

  FC_CHECK_OK(fc_lae_backward(dev, s, k, gx.view, gw.view, gs.view, gdy.view, gdx.view, gdw.view,
                              gdb.view, 0, gws.view));
  fc_ref_lae_backward(s, k, xd, wd, sd, dyd, dxd, dwd, dbd);
  fc_test_expect_download(dev, &gdx, o, dxd, n, FC_NMSE_FORWARD, "%s: dx", what);
  fc_test_expect_download(dev, &gdw, o, dwd, nw, FC_NMSE_FORWARD, "%s: dw", what);
  fc_test_expect_download(dev, &gdb, &out, dbd, 1, FC_NMSE_FORWARD, "%s: db", what);

  /* accumulate: a second backward adds the same gradients once more. */
  FC_CHECK_OK(fc_lae_backward(dev, s, k, gx.view, gw.view, gs.view, gdy.view, gdx.view, gdw.view,
                              gdb.view, 1, gws.view));
  for (size_t i = 0; i < nw; i++) dwd[i] *= 2.0;
  dbd[0] *= 2.0;
  fc_test_expect_download(dev, &gdw, o, dwd, nw, FC_NMSE_FORWARD, "%s: dw accumulated", what);
  fc_test_expect_download(dev, &gdb, &out, dbd, 1, FC_NMSE_FORWARD, "%s: db accumulated", what);

  /* dx aliasing dy. */
  FC_CHECK_OK(fc_lae_backward(dev, s, k, gx.view, gw.view, gs.view, gdy.view, gdy.view, gdw.view,
                              gdb.view, 0, gws.view));
  fc_test_expect_download(dev, &gdy, o, dxd, n, FC_NMSE_FORWARD, "%s: dx in place of dy", what);

  fc_gbuf_free(&gx), fc_gbuf_free(&gw), fc_gbuf_free(&gb), fc_gbuf_free(&gdy), fc_gbuf_free(&gy);
  fc_gbuf_free(&gs), fc_gbuf_free(&gdx), fc_gbuf_free(&gdw), fc_gbuf_free(&gdb), fc_gbuf_free(&gws);
  free(x), free(dy), free(w), free(o), free(xd), free(dyd), free(wd), free(yd), free(sd);
  free(dxd), free(dwd);
}

void fc_test_lae(fc_device *dev) {
  fc_test_rng rng = fc_test_rng_make(101);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    for (int layout = 0; layout < 2; layout++) run_case(dev, cases[i], (fc_layout)layout, 0, &rng);
  run_case(dev, (lae_case){3, 5, 7, 7, 3}, FC_LAYOUT_CNHW, 1, &rng);
  run_case(dev, (lae_case){2, 63, 7, 7, 7}, FC_LAYOUT_NCHW, 1, &rng);

  /* Bad arguments are refused with a message, not launched. */
  fc_shape4 s = {1, 1, 4, 4, FC_LAYOUT_NCHW};
  fc_gbuf g = fc_gbuf_alloc(dev, "any", 64, 4);
  ck_assert_int_eq(fc_lae_forward(dev, s, 4, g.view, g.view, g.view, g.view, g.view),
                   FC_ERR_INVALID_ARG);
  s.h = 40; /* x needs 1600 elements; the buffer holds 64 + guards */
  ck_assert_int_eq(fc_lae_forward(dev, s, 3, g.view, g.view, g.view, g.view, g.view),
                   FC_ERR_INVALID_ARG);
  fc_gbuf_free(&g);
}

typedef struct lae_fd_ctx {
  fc_shape4 s;
  int k;
  double *saved;
} lae_fd_ctx;

static void lae_fd_forward(void *ctx, double *const *in, double *out) {
  lae_fd_ctx *c = ctx;
  fc_ref_lae_forward(c->s, c->k, in[0], in[1], in[2], out, c->saved);
}

void fc_test_lae_grad(fc_device *dev) {
  (void)dev;
  fc_test_rng rng = fc_test_rng_make(102);
  for (int layout = 0; layout < 2; layout++) {
    for (int k = 3; k <= 7; k += 4) {
      lae_fd_ctx ctx = {{2, 5, 5, 6, (fc_layout)layout}, k, NULL};
      const size_t n = fc_shape4_count(ctx.s), nw = 2 * (size_t)k * k;
      double *x = fc_test_alloc_doubles(n), *w = fc_test_alloc_doubles(nw), b[1];
      double *y = fc_test_alloc_doubles(n), *dy = fc_test_alloc_doubles(n);
      double *dx = fc_test_alloc_doubles(n), *dw = fc_test_alloc_doubles(nw), db[1];
      ctx.saved = fc_test_alloc_doubles(fc_lae_saved_size(ctx.s));
      /* Channels on distinct levels 0.2 apart (±0.05 noise): the max never switches
       * channel within the finite-difference step. */
      const size_t hw = (size_t)ctx.s.h * ctx.s.w;
      for (int nn = 0; nn < ctx.s.n; nn++)
        for (size_t p = 0; p < hw; p++) {
          int shift = (int)(fc_test_rng_u64(&rng) % (uint64_t)ctx.s.c);
          for (int c = 0; c < ctx.s.c; c++) {
            size_t e = nn * fc_shape4_stride_n(ctx.s) + c * fc_shape4_stride_c(ctx.s) + p;
            x[e] = 0.2 * ((c + shift) % ctx.s.c) - 0.4 + fc_test_rng_uniform(&rng, -0.05, 0.05);
          }
        }
      fc_test_fill_uniform(&rng, NULL, w, nw, -0.8, 0.8);
      fc_test_fill_uniform(&rng, NULL, b, 1, -0.5, 0.5);
      fc_test_fill_uniform(&rng, NULL, dy, n, -1.0, 1.0);
      fc_ref_lae_forward(ctx.s, k, x, w, b, y, ctx.saved);
      fc_ref_lae_backward(ctx.s, k, x, w, ctx.saved, dy, dx, dw, db);
      const fc_fd_input fd_in[] = {{"F", x, n, dx}, {"W", w, nw, dw}, {"b", b, 1, db}};
      fc_test_fd(layout ? "lae CNHW" : "lae NCHW", lae_fd_forward, &ctx, fd_in, 3, dy, n, 1e-6, 120,
                 103 + (uint64_t)k);
      free(x), free(w), free(y), free(dy), free(dx), free(dw), free(ctx.saved);
    }
  }
}
