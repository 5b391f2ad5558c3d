/* Fully connected layer: device vs reference, reference gradients. */
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "op_registry.h"
#include "ops/ref/ref.h"

/* n, in, out: degenerate, odd, the ResNet-18 head (512 → 7). */
static const int shapes[][3] = {{1, 1, 1}, {3, 7, 5}, {33, 31, 7}, {3, 512, 7}, {63, 5, 33}};
#define N_SHAPES (sizeof shapes / sizeof shapes[0])

void fc_test_linear(fc_device *dev) {
  fc_test_rng rng = fc_test_rng_make(401);
  for (size_t si = 0; si < N_SHAPES; si++)
    for (int variant = 0; variant < 2; variant++) {
      int n = shapes[si][0], in = shapes[si][1], out = shapes[si][2];
      int with_bias = variant == 0, with_dx = variant == 0;
      size_t nx = (size_t)n * in, nw = (size_t)out * in, ny = (size_t)n * out;
      if (fc_test_over_budget(fc_test_gemm_largest((size_t)n, (size_t)out, (size_t)in))) continue;
      float *x = fc_test_alloc_floats(nx), *w = fc_test_alloc_floats(nw);
      float *b = fc_test_alloc_floats(out), *dy = fc_test_alloc_floats(ny);
      float *got = fc_test_alloc_floats(nx > nw ? (nx > ny ? nx : ny) : (nw > ny ? nw : ny));
      double *xd = fc_test_alloc_doubles(nx), *wd = fc_test_alloc_doubles(nw);
      double *bd = fc_test_alloc_doubles(out), *dyd = fc_test_alloc_doubles(ny);
      double *yd = fc_test_alloc_doubles(ny), *dxd = fc_test_alloc_doubles(nx);
      double *dwd = fc_test_alloc_doubles(nw), *dbd = fc_test_alloc_doubles(out);
      fc_test_fill_uniform(&rng, x, xd, nx, -1, 1);
      fc_test_fill_uniform(&rng, w, wd, nw, -0.5, 0.5);
      fc_test_fill_uniform(&rng, b, bd, out, -1, 1);
      fc_test_fill_uniform(&rng, dy, dyd, ny, -1, 1);
      fc_gbuf gx = fc_gbuf_from_floats(dev, "x", x, nx), gw = fc_gbuf_from_floats(dev, "w", w, nw);
      fc_gbuf gb = fc_gbuf_from_floats(dev, "b", b, out),
              gdy = fc_gbuf_from_floats(dev, "dy", dy, ny);
      fc_gbuf gy = fc_gbuf_alloc(dev, "y", ny, 4), gdx = fc_gbuf_alloc(dev, "dx", nx, 4);
      fc_gbuf gdw = fc_gbuf_alloc(dev, "dw", nw, 4), gdb = fc_gbuf_alloc(dev, "db", out, 4);
      fc_view none = fc_view_of(NULL, 0);
      char what[128];
      snprintf(what, sizeof what, "linear n=%d in=%d out=%d%s", n, in, out,
               with_bias ? " bias" : "");

      FC_CHECK_OK(fc_linear_forward(dev, n, in, out, gx.view, gw.view, with_bias ? gb.view : none,
                                    gy.view));
      fc_ref_linear_forward(n, in, out, xd, wd, with_bias ? bd : NULL, yd);
      fc_gbuf_download(dev, &gy, got);
      fc_test_expect_close(what, got, yd, ny, FC_NMSE_FORWARD);

      FC_CHECK_OK(fc_linear_backward(dev, n, in, out, gx.view, gw.view, gdy.view,
                                     with_dx ? gdx.view : none, gdw.view,
                                     with_bias ? gdb.view : none, 0));
      fc_ref_linear_backward(n, in, out, xd, wd, dyd, dxd, dwd, dbd);
      if (with_dx) {
        fc_gbuf_download(dev, &gdx, got);
        fc_test_expect_close(what, got, dxd, nx, FC_NMSE_FORWARD);
      }
      fc_gbuf_download(dev, &gdw, got);
      fc_test_expect_close(what, got, dwd, nw, FC_NMSE_FORWARD);
      if (with_bias) {
        fc_gbuf_download(dev, &gdb, got);
        fc_test_expect_close(what, got, dbd, out, FC_NMSE_FORWARD);
      }
      /* accumulate adds to dw and db. */
      FC_CHECK_OK(fc_linear_backward(dev, n, in, out, gx.view, gw.view, gdy.view, none, gdw.view,
                                     with_bias ? gdb.view : none, 1));
      for (size_t i = 0; i < nw; i++) dwd[i] *= 2;
      for (int i = 0; i < out; i++) dbd[i] *= 2;
      fc_gbuf_download(dev, &gdw, got);
      fc_test_expect_close(what, got, dwd, nw, FC_NMSE_FORWARD);
      if (with_bias) {
        fc_gbuf_download(dev, &gdb, got);
        fc_test_expect_close(what, got, dbd, out, FC_NMSE_FORWARD);
      }
      fc_gbuf_free(&gx), fc_gbuf_free(&gw), fc_gbuf_free(&gb), fc_gbuf_free(&gdy);
      fc_gbuf_free(&gy), fc_gbuf_free(&gdx), fc_gbuf_free(&gdw), fc_gbuf_free(&gdb);
      free(x), free(w), free(b), free(dy), free(got), free(xd), free(wd), free(bd), free(dyd);
      free(yd), free(dxd), free(dwd), free(dbd);
    }
}

typedef struct linear_fd_ctx {
  int n, in, out;
} linear_fd_ctx;

static void linear_fd_forward(void *ctx, double *const *v, double *out) {
  linear_fd_ctx *l = ctx;
  fc_ref_linear_forward(l->n, l->in, l->out, v[0], v[1], v[2], out);
}

void fc_test_linear_grad(fc_device *dev) {
  (void)dev;
  fc_test_rng rng = fc_test_rng_make(402);
  linear_fd_ctx l = {3, 7, 5};
  size_t nx = (size_t)l.n * l.in, nw = (size_t)l.out * l.in, ny = (size_t)l.n * l.out;
  double *x = fc_test_alloc_doubles(nx), *w = fc_test_alloc_doubles(nw);
  double *b = fc_test_alloc_doubles(l.out), *dy = fc_test_alloc_doubles(ny);
  double *dx = fc_test_alloc_doubles(nx), *dw = fc_test_alloc_doubles(nw);
  double *db = fc_test_alloc_doubles(l.out);
  fc_test_fill_uniform(&rng, NULL, x, nx, -1, 1);
  fc_test_fill_uniform(&rng, NULL, w, nw, -1, 1);
  fc_test_fill_uniform(&rng, NULL, b, l.out, -1, 1);
  fc_test_fill_uniform(&rng, NULL, dy, ny, -1, 1);
  fc_ref_linear_backward(l.n, l.in, l.out, x, w, dy, dx, dw, db);
  const fc_fd_input fd_in[] = {{"x", x, nx, dx}, {"w", w, nw, dw}, {"b", b, (size_t)l.out, db}};
  fc_test_fd("linear", linear_fd_forward, &l, fd_in, 3, dy, ny, 1e-7, 40, 403);
  free(x), free(w), free(b), free(dy), free(dx), free(dw), free(db);
}
