/* im2col / col2im and conv2d: device vs reference on awkward shapes, both
 * layouts, workspaces that force chunking; reference gradients by finite
 * differences. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "op_cases.h"
#include "op_registry.h"
#include "ops/ref/ref.h"

#define N_CASES fc_conv_case_count

static fc_conv2d_desc case_desc(size_t ci, fc_layout layout) {
  return fc_conv_case_desc(&fc_conv_cases[ci], layout);
}

/* Elements of the largest of x, y and the column matrix (fc_test_over_budget). */
static size_t conv_largest_tensor(const fc_conv2d_desc *d) {
  size_t nx = fc_shape4_count(fc_conv2d_in_shape(d)), ny = fc_shape4_count(fc_conv2d_out_shape(d));
  size_t cols = (size_t)d->c_in * d->kh * d->kw * (ny / (size_t)d->c_out);
  size_t m = nx > ny ? nx : ny;
  return m > cols ? m : cols;
}

static const char *layout_name(fc_layout l) { return l == FC_LAYOUT_NCHW ? "NCHW" : "CNHW"; }

static void describe_tagged(char *out, size_t size, const char *what, const char *tag,
                            const fc_conv2d_desc *d, int chunk) {
  snprintf(out, size, "%s%s%s%s n=%d c_in=%d %dx%d c_out=%d k=%dx%d s=%d p=%d %s chunk=%d", what,
           tag ? " [" : "", tag ? tag : "", tag ? "]" : "", d->n, d->c_in, d->h, d->w, d->c_out,
           d->kh, d->kw, d->stride, d->pad, layout_name(d->layout), chunk);
}

static void describe(char *out, size_t size, const char *what, const fc_conv2d_desc *d, int chunk) {
  describe_tagged(out, size, what, NULL, d, chunk);
}

/* Copies the elements of samples n0..n0+count-1 of a tensor (shape s) into a compact
 * array in sample order, so partial results can be compared. */
static size_t gather_samples_f(fc_shape4 s, const float *full, int n0, int count, float *out) {
  size_t k = 0, hw = (size_t)s.h * s.w;
  for (int n = n0; n < n0 + count; n++)
    for (int c = 0; c < s.c; c++)
      for (size_t p = 0; p < hw; p++)
        out[k++] = full[n * fc_shape4_stride_n(s) + c * fc_shape4_stride_c(s) + p];
  return k;
}
static void gather_samples_d(fc_shape4 s, const double *full, int n0, int count, double *out) {
  size_t k = 0, hw = (size_t)s.h * s.w;
  for (int n = n0; n < n0 + count; n++)
    for (int c = 0; c < s.c; c++)
      for (size_t p = 0; p < hw; p++)
        out[k++] = full[n * fc_shape4_stride_n(s) + c * fc_shape4_stride_c(s) + p];
}

void fc_test_im2col(fc_device *dev) {
  fc_test_rng rng = fc_test_rng_make(101);
  for (size_t ci = 0; ci < N_CASES; ci++) {
    for (int li = 0; li < 2; li++) {
      fc_conv2d_desc d = case_desc(ci, li ? FC_LAYOUT_CNHW : FC_LAYOUT_NCHW);
      fc_shape4 is = fc_conv2d_in_shape(&d);
      size_t nx = fc_shape4_count(is), k = (size_t)d.c_in * d.kh * d.kw;
      size_t plane = (size_t)fc_conv2d_out_h(&d) * fc_conv2d_out_w(&d);
      if (fc_test_over_budget(nx > k * d.n * plane ? nx : k * d.n * plane)) continue;
      /* The last sample alone, then the whole batch; ld one wider than needed. */
      int ranges[2][2] = {{d.n - 1, 1}, {0, d.n}};
      for (int r = 0; r < 2; r++) {
        int n0 = ranges[r][0], count = ranges[r][1];
        size_t cols = (size_t)count * plane, ld = cols + 1, ncol = k * ld;
        char what[256];
        describe(what, sizeof what, "im2col", &d, count);
        float *x = fc_test_alloc_floats(nx), *col = fc_test_alloc_floats(ncol);
        double *xd = fc_test_alloc_doubles(nx), *cold = fc_test_alloc_doubles(ncol);
        fc_test_fill_uniform(&rng, x, xd, nx, -1, 1);
        fc_gbuf gx = fc_gbuf_from_floats(dev, "x", x, nx);
        fc_gbuf gcol = fc_gbuf_alloc(dev, "col", ncol, sizeof(float));
        FC_CHECK_OK(fc_im2col(dev, &d, gx.view, n0, count, gcol.view, ld));
        fc_gbuf_download(dev, &gcol, col);
        fc_ref_im2col(&d, xd, n0, count, cold, ld);
        for (size_t row = 0; row < k; row++) /* the ld gap stays untouched */
          ck_assert_msg(isnan(col[row * ld + cols]), "%s: wrote past the columns of row %zu", what,
                        row);
        for (size_t row = 0; row < k; row++) { /* compare the payload only */
          memmove(col + row * cols, col + row * ld, cols * sizeof(float));
          memmove(cold + row * cols, cold + row * ld, cols * sizeof(double));
        }
        fc_test_expect_close(what, col, cold, k * cols, 0.0);

        /* col2im of random columns into the same samples; other samples untouched. */
        describe(what, sizeof what, "col2im", &d, count);
        fc_test_fill_uniform(&rng, col, cold, ncol, -1, 1);
        fc_gbuf_upload(dev, &gcol, col);
        fc_gbuf gdx = fc_gbuf_alloc(dev, "dx", nx, sizeof(float));
        FC_CHECK_OK(fc_col2im(dev, &d, gcol.view, ld, n0, count, gdx.view));
        float *dx = fc_test_alloc_floats(nx), *part = fc_test_alloc_floats(nx);
        double *dxd = fc_test_alloc_doubles(nx), *partd = fc_test_alloc_doubles(nx);
        fc_gbuf_download(dev, &gdx, dx);
        fc_ref_col2im(&d, cold, ld, n0, count, dxd);
        size_t m = gather_samples_f(is, dx, n0, count, part);
        gather_samples_d(is, dxd, n0, count, partd);
        fc_test_expect_close(what, part, partd, m, FC_NMSE_FORWARD);
        if (n0 > 0) {
          size_t others = gather_samples_f(is, dx, 0, n0, part);
          for (size_t i = 0; i < others; i++)
            ck_assert_msg(isnan(part[i]), "%s: wrote outside its samples (element %zu)", what, i);
        }
        fc_gbuf_free(&gx), fc_gbuf_free(&gcol), fc_gbuf_free(&gdx);
        free(x), free(col), free(xd), free(cold), free(dx), free(part), free(dxd), free(partd);
      }
    }
  }
}

typedef struct im2col_fd_ctx {
  fc_conv2d_desc d;
  size_t ld;
} im2col_fd_ctx;

static void im2col_fd_forward(void *ctx, double *const *in, double *out) {
  im2col_fd_ctx *c = ctx;
  fc_ref_im2col(&c->d, in[0], 0, c->d.n, out, c->ld);
}

/* col2im is the adjoint of im2col: the gradient of <im2col(x), dcol> w.r.t. x. */
void fc_test_im2col_grad(fc_device *dev) {
  (void)dev;
  fc_test_rng rng = fc_test_rng_make(102);
  for (int li = 0; li < 2; li++) {
    im2col_fd_ctx c = {{2, 3, 5, 6, 1, 3, 3, 2, 1, li ? FC_LAYOUT_CNHW : FC_LAYOUT_NCHW}, 0};
    size_t nx = fc_shape4_count(fc_conv2d_in_shape(&c.d));
    c.ld = (size_t)c.d.n * fc_conv2d_out_h(&c.d) * fc_conv2d_out_w(&c.d);
    size_t ncol = (size_t)c.d.c_in * c.d.kh * c.d.kw * c.ld;
    double *x = fc_test_alloc_doubles(nx), *dcol = fc_test_alloc_doubles(ncol);
    double *dx = fc_test_alloc_doubles(nx);
    fc_test_fill_uniform(&rng, NULL, x, nx, -1, 1);
    fc_test_fill_uniform(&rng, NULL, dcol, ncol, -1, 1);
    fc_ref_col2im(&c.d, dcol, c.ld, 0, c.d.n, dx);
    const fc_fd_input fd_in[] = {{"x", x, nx, dx}};
    fc_test_fd("im2col", im2col_fd_forward, &c, fd_in, 1, dcol, ncol, 1e-7, 60, 103);
    free(x), free(dcol), free(dx);
  }
}

/* Downloads a device output and compares it with the reference. */
static void expect_output(fc_device *dev, const fc_gbuf *g, float *out, const double *ref, size_t n,
                          const char *what, const char *tag, const fc_conv2d_desc *d, int chunk) {
  char msg[256];
  fc_gbuf_download(dev, g, out);
  describe_tagged(msg, sizeof msg, what, tag, d, chunk);
  fc_test_expect_close(msg, out, ref, n, FC_NMSE_FORWARD);
}

void fc_test_conv2d_case(fc_device *dev, fc_test_rng *rng, const fc_conv2d_desc *d, int chunk,
                         int with_bias, const char *tag) {
  fc_shape4 is = fc_conv2d_in_shape(d), os = fc_conv2d_out_shape(d);
  size_t nx = fc_shape4_count(is), ny = fc_shape4_count(os);
  size_t nw = (size_t)d->c_out * d->c_in * d->kh * d->kw, nb = (size_t)d->c_out;
  size_t ws_size = fc_conv2d_workspace_size(d, chunk);
  ck_assert_msg(ws_size >= fc_conv2d_workspace_size(d, 1), "workspace sizes must grow with chunk");
  float *x = fc_test_alloc_floats(nx), *w = fc_test_alloc_floats(nw), *b = fc_test_alloc_floats(nb);
  size_t nout = nx > ny ? nx : ny;
  if (nw > nout) nout = nw;
  if (ws_size > nout) nout = ws_size;
  float *dy = fc_test_alloc_floats(ny), *out = fc_test_alloc_floats(nout);
  double *xd = fc_test_alloc_doubles(nx), *wd = fc_test_alloc_doubles(nw),
         *bd = fc_test_alloc_doubles(nb);
  double *dyd = fc_test_alloc_doubles(ny), *yd = fc_test_alloc_doubles(ny);
  double *dxd = fc_test_alloc_doubles(nx), *dwd = fc_test_alloc_doubles(nw),
         *dbd = fc_test_alloc_doubles(nb);
  fc_test_fill_uniform(rng, x, xd, nx, -1, 1);
  fc_test_fill_uniform(rng, w, wd, nw, -0.5, 0.5);
  fc_test_fill_uniform(rng, b, bd, nb, -1, 1);
  fc_test_fill_uniform(rng, dy, dyd, ny, -1, 1);
  fc_gbuf gx = fc_gbuf_from_floats(dev, "x", x, nx), gw = fc_gbuf_from_floats(dev, "w", w, nw);
  fc_gbuf gb = fc_gbuf_from_floats(dev, "b", b, nb), gdy = fc_gbuf_from_floats(dev, "dy", dy, ny);
  fc_gbuf gy = fc_gbuf_alloc(dev, "y", ny, sizeof(float));
  fc_gbuf gdx = fc_gbuf_alloc(dev, "dx", nx, sizeof(float));
  fc_gbuf gdw = fc_gbuf_alloc(dev, "dw", nw, sizeof(float));
  fc_gbuf gdb = fc_gbuf_alloc(dev, "db", nb, sizeof(float));
  fc_gbuf gws = fc_gbuf_alloc(dev, "workspace", ws_size, sizeof(float));
  fc_view bias = with_bias ? gb.view : fc_view_of(NULL, 0);
  fc_view dbias = with_bias ? gdb.view : fc_view_of(NULL, 0);

  FC_CHECK_OK(fc_conv2d_forward(dev, d, gx.view, gw.view, bias, gy.view, gws.view, ws_size));
  fc_ref_conv2d_forward(d, xd, wd, with_bias ? bd : NULL, yd);
  expect_output(dev, &gy, out, yd, ny, "conv2d_forward", tag, d, chunk);

  FC_CHECK_OK(fc_conv2d_backward_data(dev, d, gdy.view, gw.view, gdx.view, gws.view, ws_size));
  fc_ref_conv2d_backward_data(d, dyd, wd, dxd);
  expect_output(dev, &gdx, out, dxd, nx, "conv2d_backward_data", tag, d, chunk);

  FC_CHECK_OK(
      fc_conv2d_backward_weights(dev, d, gx.view, gdy.view, gdw.view, dbias, 0, gws.view, ws_size));
  fc_ref_conv2d_backward_weights(d, xd, dyd, dwd, with_bias ? dbd : NULL);
  expect_output(dev, &gdw, out, dwd, nw, "conv2d_backward_weights dw", tag, d, chunk);
  if (with_bias)
    expect_output(dev, &gdb, out, dbd, nb, "conv2d_backward_weights db", tag, d, chunk);
  /* accumulate = 1 adds a second copy. */
  FC_CHECK_OK(
      fc_conv2d_backward_weights(dev, d, gx.view, gdy.view, gdw.view, dbias, 1, gws.view, ws_size));
  for (size_t i = 0; i < nw; i++) dwd[i] *= 2.0;
  for (size_t i = 0; i < nb; i++) dbd[i] *= 2.0;
  expect_output(dev, &gdw, out, dwd, nw, "conv2d_backward_weights accumulate dw", tag, d, chunk);
  if (with_bias)
    expect_output(dev, &gdb, out, dbd, nb, "conv2d_backward_weights accumulate db", tag, d, chunk);
  fc_gbuf_download(dev, &gws, out); /* guard bands of the workspace */

  fc_gbuf_free(&gx), fc_gbuf_free(&gw), fc_gbuf_free(&gb), fc_gbuf_free(&gdy), fc_gbuf_free(&gy);
  fc_gbuf_free(&gdx), fc_gbuf_free(&gdw), fc_gbuf_free(&gdb), fc_gbuf_free(&gws);
  free(x), free(w), free(b), free(dy), free(out), free(xd), free(wd), free(bd), free(dyd);
  free(yd), free(dxd), free(dwd), free(dbd);
}

void fc_test_conv2d(fc_device *dev) {
  fc_test_rng rng = fc_test_rng_make(104);
  for (size_t ci = 0; ci < N_CASES; ci++)
    for (int li = 0; li < 2; li++) {
      fc_conv2d_desc d = case_desc(ci, li ? FC_LAYOUT_CNHW : FC_LAYOUT_NCHW);
      FC_CHECK_OK(fc_conv2d_check(&d));
      if (fc_test_over_budget(conv_largest_tensor(&d))) continue;
      /* Whole batch at once, then chunks of 2 (uneven for n = 3) and of 1. */
      fc_test_conv2d_case(dev, &rng, &d, d.n, (int)(ci % 3 != 1), NULL);
      if (d.n == 3) fc_test_conv2d_case(dev, &rng, &d, 2, 1, NULL);
      if (d.n > 1) fc_test_conv2d_case(dev, &rng, &d, 1, (int)(ci % 2), NULL);
    }

  /* Refusals: a workspace below one sample's column matrix, a bad descriptor. */
  fc_conv2d_desc d = case_desc(1, FC_LAYOUT_CNHW);
  size_t one = fc_conv2d_workspace_size(&d, 1);
  fc_gbuf gws = fc_gbuf_alloc(dev, "workspace", one, sizeof(float));
  fc_gbuf gbig = fc_gbuf_alloc(dev, "tensors", 100000, sizeof(float));
  fc_status st = fc_conv2d_forward(dev, &d, gbig.view, gbig.view, fc_view_of(NULL, 0), gbig.view,
                                   gws.view, one - 1);
  ck_assert_int_eq(st, FC_ERR_INVALID_ARG);
  ck_assert_msg(strstr(fc_last_error(), "fc_conv2d_workspace_size") != NULL, "message: %s",
                fc_last_error());
  fc_conv2d_desc bad = d;
  bad.kh = 40;
  ck_assert_int_eq(fc_conv2d_check(&bad), FC_ERR_INVALID_ARG);
  bad = d;
  bad.stride = 0;
  ck_assert_int_eq(fc_conv2d_check(&bad), FC_ERR_INVALID_ARG);
  fc_gbuf_free(&gws), fc_gbuf_free(&gbig);
}

typedef struct conv_fd_ctx {
  fc_conv2d_desc d;
} conv_fd_ctx;

static void conv_fd_forward(void *ctx, double *const *in, double *out) {
  conv_fd_ctx *c = ctx;
  fc_ref_conv2d_forward(&c->d, in[0], in[1], in[2], out);
}

void fc_test_conv2d_grad(fc_device *dev) {
  (void)dev;
  fc_test_rng rng = fc_test_rng_make(105);
  for (size_t ci = 0; ci < fc_conv_grad_case_count; ci++)
    for (int li = 0; li < 2; li++) {
      fc_layout layout = li ? FC_LAYOUT_CNHW : FC_LAYOUT_NCHW;
      conv_fd_ctx c = {fc_conv_case_desc(&fc_conv_grad_cases[ci], layout)};
      size_t nx = fc_shape4_count(fc_conv2d_in_shape(&c.d));
      size_t ny = fc_shape4_count(fc_conv2d_out_shape(&c.d));
      size_t nw = (size_t)c.d.c_out * c.d.c_in * c.d.kh * c.d.kw, nb = (size_t)c.d.c_out;
      double *x = fc_test_alloc_doubles(nx), *w = fc_test_alloc_doubles(nw);
      double *b = fc_test_alloc_doubles(nb), *dy = fc_test_alloc_doubles(ny);
      double *dx = fc_test_alloc_doubles(nx), *dw = fc_test_alloc_doubles(nw);
      double *db = fc_test_alloc_doubles(nb);
      fc_test_fill_uniform(&rng, NULL, x, nx, -1, 1);
      fc_test_fill_uniform(&rng, NULL, w, nw, -1, 1);
      fc_test_fill_uniform(&rng, NULL, b, nb, -1, 1);
      fc_test_fill_uniform(&rng, NULL, dy, ny, -1, 1);
      fc_ref_conv2d_backward_data(&c.d, dy, w, dx);
      fc_ref_conv2d_backward_weights(&c.d, x, dy, dw, db);
      const fc_fd_input fd_in[] = {{"x", x, nx, dx}, {"w", w, nw, dw}, {"b", b, nb, db}};
      fc_test_fd("conv2d", conv_fd_forward, &c, fd_in, 3, dy, ny, 1e-7, 40, 106 + ci);
      free(x), free(w), free(b), free(dy), free(dx), free(dw), free(db);
    }
}
