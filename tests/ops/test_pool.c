/* max-pool and global average pool: device vs reference in both layouts
 * (ties, NaN, overlapping windows), reference gradients by finite differences. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "op_registry.h"
#include "ops/ref/ref.h"

static const int shapes[][4] = {{1, 3, 7, 7},   {3, 5, 31, 31}, {3, 2, 33, 33},
                                {1, 2, 63, 63}, {3, 3, 1, 1},   {3, 5, 7, 33}};
#define N_SHAPES (sizeof shapes / sizeof shapes[0])
/* k, stride, pad: torchvision's stem, 2×2, overlapping stride 1, a wide window. */
static const int windows[][3] = {{3, 2, 1}, {2, 2, 0}, {3, 1, 1}, {5, 3, 2}, {2, 1, 0}};
#define N_WINDOWS (sizeof windows / sizeof windows[0])

static fc_shape4 shape_of(const int *s, int li) {
  fc_shape4 r = {s[0], s[1], s[2], s[3], li ? FC_LAYOUT_CNHW : FC_LAYOUT_NCHW};
  return r;
}

static void run_maxpool(fc_device *dev, fc_test_rng *rng, fc_shape4 in, const int *win, int ties) {
  int k = win[0], st = win[1], pad = win[2];
  fc_shape4 out = fc_pool2d_out_shape(in, k, st, pad);
  size_t nx = fc_shape4_count(in), ny = fc_shape4_count(out);
  float *x = fc_test_alloc_floats(nx), *dx = fc_test_alloc_floats(nx);
  float *y = fc_test_alloc_floats(ny), *dy = fc_test_alloc_floats(ny);
  double *xd = fc_test_alloc_doubles(nx), *dxd = fc_test_alloc_doubles(nx);
  double *yd = fc_test_alloc_doubles(ny), *dyd = fc_test_alloc_doubles(ny);
  int32_t *am = calloc(ny, sizeof *am), *amd = calloc(ny, sizeof *amd);
  ck_assert_ptr_nonnull(am);
  ck_assert_ptr_nonnull(amd);
  fc_test_fill_uniform(rng, x, xd, nx, -1, 1);
  if (ties) /* three levels only: most windows hold several maxima */
    for (size_t i = 0; i < nx; i++) x[i] = (float)(xd[i] = floor(xd[i] * 1.5));
  fc_test_fill_uniform(rng, dy, dyd, ny, -1, 1);
  fc_gbuf gx = fc_gbuf_from_floats(dev, "x", x, nx);
  fc_gbuf gy = fc_gbuf_alloc(dev, "y", ny, sizeof(float));
  fc_gbuf ga = fc_gbuf_alloc(dev, "argmax", ny, sizeof(int32_t));
  fc_gbuf gdy = fc_gbuf_from_floats(dev, "dy", dy, ny);
  fc_gbuf gdx = fc_gbuf_alloc(dev, "dx", nx, sizeof(float));
  char what[192];
  snprintf(what, sizeof what, "maxpool2d k=%d s=%d p=%d n=%d c=%d %dx%d %s%s", k, st, pad, in.n,
           in.c, in.h, in.w, in.layout == FC_LAYOUT_NCHW ? "NCHW" : "CNHW", ties ? " ties" : "");
  FC_CHECK_OK(fc_maxpool2d_forward(dev, in, k, st, pad, gx.view, gy.view, ga.view));
  fc_ref_maxpool2d_forward(in, k, st, pad, xd, yd, amd);
  fc_gbuf_download(dev, &gy, y);
  fc_gbuf_download(dev, &ga, am);
  fc_test_expect_close(what, y, yd, ny, 0.0);
  fc_test_expect_equal_i32(what, am, amd, ny);
  FC_CHECK_OK(fc_maxpool2d_backward(dev, in, k, st, pad, ga.view, gdy.view, gdx.view));
  fc_ref_maxpool2d_backward(in, k, st, pad, amd, dyd, dxd);
  fc_gbuf_download(dev, &gdx, dx);
  fc_test_expect_close(what, dx, dxd, nx, FC_NMSE_FORWARD);
  fc_gbuf_free(&gx), fc_gbuf_free(&gy), fc_gbuf_free(&ga), fc_gbuf_free(&gdy), fc_gbuf_free(&gdx);
  free(x), free(dx), free(y), free(dy), free(xd), free(dxd), free(yd), free(dyd), free(am);
  free(amd);
}

void fc_test_maxpool2d(fc_device *dev) {
  fc_test_rng rng = fc_test_rng_make(301);
  for (size_t si = 0; si < N_SHAPES; si++)
    for (size_t wi = 0; wi < N_WINDOWS; wi++)
      for (int li = 0; li < 2; li++) {
        fc_shape4 in = shape_of(shapes[si], li);
        const int *win = windows[wi];
        if (in.h + 2 * win[2] < win[0] || in.w + 2 * win[2] < win[0]) continue;
        if (fc_test_over_budget(fc_shape4_count(in))) continue;
        run_maxpool(dev, &rng, in, win, 0);
        run_maxpool(dev, &rng, in, win, 1);
      }

  /* NaN propagates and is the argmax, like PyTorch. */
  fc_shape4 in = {1, 1, 4, 4, FC_LAYOUT_NCHW};
  float x[16];
  for (int i = 0; i < 16; i++) x[i] = (float)i;
  x[5] = NAN;
  fc_gbuf gx = fc_gbuf_from_floats(dev, "x", x, 16);
  fc_gbuf gy = fc_gbuf_alloc(dev, "y", 4, sizeof(float));
  fc_gbuf ga = fc_gbuf_alloc(dev, "argmax", 4, sizeof(int32_t));
  FC_CHECK_OK(fc_maxpool2d_forward(dev, in, 2, 2, 0, gx.view, gy.view, ga.view));
  float y[4];
  int32_t a[4];
  fc_gbuf_download(dev, &gy, y);
  fc_gbuf_download(dev, &ga, a);
  ck_assert_msg(isnan(y[0]) && a[0] == 5, "NaN window: y %g argmax %d", (double)y[0], (int)a[0]);
  ck_assert_msg(y[1] == 7.0f && a[1] == 7, "window 1: y %g argmax %d", (double)y[1], (int)a[1]);
  /* Refusal: padding larger than half the window. */
  ck_assert_int_eq(fc_maxpool2d_forward(dev, in, 2, 2, 2, gx.view, gy.view, ga.view),
                   FC_ERR_INVALID_ARG);
  fc_gbuf_free(&gx), fc_gbuf_free(&gy), fc_gbuf_free(&ga);
}

typedef struct pool_fd_ctx {
  fc_shape4 in;
  int k, stride, pad;
  int32_t *argmax;
} pool_fd_ctx;

static void maxpool_fd_forward(void *ctx, double *const *in, double *out) {
  pool_fd_ctx *p = ctx;
  fc_ref_maxpool2d_forward(p->in, p->k, p->stride, p->pad, in[0], out, p->argmax);
}

void fc_test_maxpool2d_grad(fc_device *dev) {
  (void)dev;
  fc_test_rng rng = fc_test_rng_make(302);
  for (size_t wi = 0; wi < N_WINDOWS; wi++)
    for (int li = 0; li < 2; li++) {
      pool_fd_ctx p = {{2, 3, 7, 6, li ? FC_LAYOUT_CNHW : FC_LAYOUT_NCHW},
                       windows[wi][0],
                       windows[wi][1],
                       windows[wi][2],
                       NULL};
      fc_shape4 out = fc_pool2d_out_shape(p.in, p.k, p.stride, p.pad);
      size_t nx = fc_shape4_count(p.in), ny = fc_shape4_count(out);
      double *x = fc_test_alloc_doubles(nx), *dx = fc_test_alloc_doubles(nx);
      double *y = fc_test_alloc_doubles(ny), *dy = fc_test_alloc_doubles(ny);
      p.argmax = calloc(ny, sizeof(int32_t));
      ck_assert_ptr_nonnull(p.argmax);
      /* Distinct values 0.01 apart (a shuffled ramp): no ties within ±h. */
      for (size_t i = 0; i < nx; i++) x[i] = 0.01 * (double)i;
      for (size_t i = nx - 1; i > 0; i--) {
        size_t j = fc_test_rng_u64(&rng) % (i + 1);
        double t = x[i];
        x[i] = x[j];
        x[j] = t;
      }
      fc_test_fill_uniform(&rng, NULL, dy, ny, -1, 1);
      maxpool_fd_forward(&p, (double *const[]){x}, y);
      fc_ref_maxpool2d_backward(p.in, p.k, p.stride, p.pad, p.argmax, dy, dx);
      const fc_fd_input fd_in[] = {{"x", x, nx, dx}};
      fc_test_fd("maxpool2d", maxpool_fd_forward, &p, fd_in, 1, dy, ny, 1e-7, 84, 303);
      free(x), free(dx), free(y), free(dy), free(p.argmax);
    }
}

void fc_test_global_avgpool(fc_device *dev) {
  fc_test_rng rng = fc_test_rng_make(304);
  for (size_t si = 0; si < N_SHAPES; si++)
    for (int li = 0; li < 2; li++) {
      fc_shape4 in = shape_of(shapes[si], li);
      size_t nx = fc_shape4_count(in), ny = (size_t)in.n * in.c;
      if (fc_test_over_budget(nx)) continue;
      float *x = fc_test_alloc_floats(nx), *y = fc_test_alloc_floats(ny);
      float *dy = fc_test_alloc_floats(ny), *dx = fc_test_alloc_floats(nx);
      double *xd = fc_test_alloc_doubles(nx), *yd = fc_test_alloc_doubles(ny);
      double *dyd = fc_test_alloc_doubles(ny), *dxd = fc_test_alloc_doubles(nx);
      fc_test_fill_uniform(&rng, x, xd, nx, -1, 2);
      fc_test_fill_uniform(&rng, dy, dyd, ny, -1, 1);
      fc_gbuf gx = fc_gbuf_from_floats(dev, "x", x, nx), gy = fc_gbuf_alloc(dev, "y", ny, 4);
      fc_gbuf gdy = fc_gbuf_from_floats(dev, "dy", dy, ny), gdx = fc_gbuf_alloc(dev, "dx", nx, 4);
      char what[128];
      snprintf(what, sizeof what, "global_avgpool n=%d c=%d %dx%d %s", in.n, in.c, in.h, in.w,
               li ? "CNHW" : "NCHW");
      FC_CHECK_OK(fc_global_avgpool_forward(dev, in, gx.view, gy.view));
      fc_ref_global_avgpool_forward(in, xd, yd);
      fc_gbuf_download(dev, &gy, y);
      fc_test_expect_close(what, y, yd, ny, FC_NMSE_FORWARD);
      FC_CHECK_OK(fc_global_avgpool_backward(dev, in, gdy.view, gdx.view));
      fc_ref_global_avgpool_backward(in, dyd, dxd);
      fc_gbuf_download(dev, &gdx, dx);
      fc_test_expect_close(what, dx, dxd, nx, FC_NMSE_FORWARD);
      fc_gbuf_free(&gx), fc_gbuf_free(&gy), fc_gbuf_free(&gdy), fc_gbuf_free(&gdx);
      free(x), free(y), free(dy), free(dx), free(xd), free(yd), free(dyd), free(dxd);
    }
}

static void gap_fd_forward(void *ctx, double *const *in, double *out) {
  fc_ref_global_avgpool_forward(*(fc_shape4 *)ctx, in[0], out);
}

void fc_test_global_avgpool_grad(fc_device *dev) {
  (void)dev;
  fc_test_rng rng = fc_test_rng_make(305);
  for (int li = 0; li < 2; li++) {
    fc_shape4 in = {3, 2, 3, 5, li ? FC_LAYOUT_CNHW : FC_LAYOUT_NCHW};
    size_t nx = fc_shape4_count(in), ny = (size_t)in.n * in.c;
    double *x = fc_test_alloc_doubles(nx), *dx = fc_test_alloc_doubles(nx);
    double *dy = fc_test_alloc_doubles(ny);
    fc_test_fill_uniform(&rng, NULL, x, nx, -1, 1);
    fc_test_fill_uniform(&rng, NULL, dy, ny, -1, 1);
    fc_ref_global_avgpool_backward(in, dy, dx);
    const fc_fd_input fd_in[] = {{"x", x, nx, dx}};
    fc_test_fd("global_avgpool", gap_fd_forward, &in, fd_in, 1, dy, ny, 1e-7, 90, 306);
    free(x), free(dx), free(dy);
  }
}
