/* Picture ops (fercl/ops_vision.h): PReLU, ceil max-pool, crop + resize and
 * affine warp, device vs reference on awkward shapes, guard bands included. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "op_registry.h"
#include "ops/ref/ref_vision.h"

static const int shapes[][4] = {{1, 1, 1, 1},   {2, 3, 7, 7},   {3, 5, 31, 31},
                                {1, 2, 33, 63}, {2, 3, 12, 13}, {1, 10, 63, 33}};
#define N_SHAPES (sizeof shapes / sizeof shapes[0])

void fc_test_prelu(fc_device *dev) {
  fc_test_rng rng = fc_test_rng_make(901);
  for (size_t si = 0; si < N_SHAPES; si++)
    for (int li = 0; li < 2; li++) {
      fc_shape4 s = {shapes[si][0], shapes[si][1], shapes[si][2], shapes[si][3],
                     li ? FC_LAYOUT_CNHW : FC_LAYOUT_NCHW};
      size_t n = fc_shape4_count(s);
      if (fc_test_over_budget(n)) continue;
      float *x = fc_test_alloc_floats(n), *y = fc_test_alloc_floats(n),
            *a = fc_test_alloc_floats(s.c);
      double *xd = fc_test_alloc_doubles(n), *yd = fc_test_alloc_doubles(n),
             *ad = fc_test_alloc_doubles(s.c);
      fc_test_fill_uniform(&rng, x, xd, n, -2, 2);
      fc_test_fill_uniform(&rng, a, ad, s.c, -0.5, 1);
      fc_gbuf gx = fc_gbuf_from_floats(dev, "x", x, n),
              ga = fc_gbuf_from_floats(dev, "slope", a, s.c);
      fc_gbuf gy = fc_gbuf_alloc(dev, "y", n, 4);
      char what[96];
      snprintf(what, sizeof what, "prelu %dx%dx%dx%d %s", s.n, s.c, s.h, s.w, li ? "CNHW" : "NCHW");
      FC_CHECK_OK(fc_prelu_forward(dev, s, gx.view, ga.view, gy.view));
      fc_ref_prelu_forward(s, xd, ad, yd);
      fc_gbuf_download(dev, &gy, y);
      fc_test_expect_close(what, y, yd, n, FC_NMSE_FORWARD);
      /* In place. */
      FC_CHECK_OK(fc_prelu_forward(dev, s, gx.view, ga.view, gx.view));
      fc_gbuf_download(dev, &gx, y);
      fc_test_expect_close(what, y, yd, n, FC_NMSE_FORWARD);
      fc_gbuf_free(&gx), fc_gbuf_free(&ga), fc_gbuf_free(&gy);
      free(x), free(y), free(a), free(xd), free(yd), free(ad);
    }
  fc_shape4 bad = {1, 3, 40, 40, FC_LAYOUT_NCHW}; /* more than the buffer holds */
  fc_gbuf g = fc_gbuf_alloc(dev, "x", 8, 4);
  ck_assert_int_eq(fc_prelu_forward(dev, bad, g.view, g.view, g.view), FC_ERR_INVALID_ARG);
  fc_gbuf_free(&g);
}

void fc_test_maxpool2d_ceil(fc_device *dev) {
  static const int windows[][2] = {{2, 2}, {3, 2}, {3, 3}, {2, 1}, {1, 1}};
  fc_test_rng rng = fc_test_rng_make(902);
  /* PyTorch's ceil_mode shapes: 10x10 (3,2) → 5x5, 11x11 (3,2) → 5x5, 23 (3,2) → 11, 7 (2,2) → 4. */
  fc_shape4 t = {1, 1, 10, 11, FC_LAYOUT_NCHW};
  fc_shape4 o = fc_maxpool2d_ceil_out_shape(t, 3, 2);
  ck_assert_msg(o.h == 5 && o.w == 5, "ceil 3/2 of 10x11: %dx%d", o.h, o.w);
  t.h = 23, t.w = 7;
  o = fc_maxpool2d_ceil_out_shape(t, 3, 2);
  ck_assert_msg(o.h == 11 && o.w == 3, "ceil 3/2 of 23x7: %dx%d", o.h, o.w);
  o = fc_maxpool2d_ceil_out_shape(t, 2, 2);
  ck_assert_msg(o.h == 12 && o.w == 4, "ceil 2/2 of 23x7: %dx%d", o.h, o.w);
  for (size_t si = 0; si < N_SHAPES; si++)
    for (size_t wi = 0; wi < sizeof windows / sizeof windows[0]; wi++)
      for (int li = 0; li < 2; li++)
        for (int ties = 0; ties < 2; ties++) {
          fc_shape4 in = {shapes[si][0], shapes[si][1], shapes[si][2], shapes[si][3],
                          li ? FC_LAYOUT_CNHW : FC_LAYOUT_NCHW};
          int k = windows[wi][0], st = windows[wi][1];
          if (in.h < k || in.w < k || fc_test_over_budget(fc_shape4_count(in))) continue;
          fc_shape4 out = fc_maxpool2d_ceil_out_shape(in, k, st);
          size_t nx = fc_shape4_count(in), ny = fc_shape4_count(out);
          float *x = fc_test_alloc_floats(nx), *y = fc_test_alloc_floats(ny);
          double *xd = fc_test_alloc_doubles(nx), *yd = fc_test_alloc_doubles(ny);
          int32_t *am = calloc(ny, 4), *amd = calloc(ny, 4);
          ck_assert_ptr_nonnull(am);
          ck_assert_ptr_nonnull(amd);
          fc_test_fill_uniform(&rng, x, xd, nx, -1, 1);
          if (ties)
            for (size_t i = 0; i < nx; i++) x[i] = (float)(xd[i] = floor(xd[i] * 1.5));
          fc_gbuf gx = fc_gbuf_from_floats(dev, "x", x, nx), gy = fc_gbuf_alloc(dev, "y", ny, 4);
          fc_gbuf ga = fc_gbuf_alloc(dev, "argmax", ny, 4);
          char what[128];
          snprintf(what, sizeof what, "maxpool2d_ceil k=%d s=%d %dx%dx%dx%d %s%s", k, st, in.n,
                   in.c, in.h, in.w, li ? "CNHW" : "NCHW", ties ? " ties" : "");
          FC_CHECK_OK(fc_maxpool2d_ceil_forward(dev, in, k, st, gx.view, gy.view, ga.view));
          fc_ref_maxpool2d_ceil_forward(in, k, st, xd, yd, amd);
          fc_gbuf_download(dev, &gy, y);
          fc_gbuf_download(dev, &ga, am);
          fc_test_expect_close(what, y, yd, ny, 0.0);
          fc_test_expect_equal_i32(what, am, amd, ny);
          fc_gbuf_free(&gx), fc_gbuf_free(&gy), fc_gbuf_free(&ga);
          free(x), free(y), free(xd), free(yd), free(am), free(amd);
        }
  fc_shape4 small = {1, 1, 2, 2, FC_LAYOUT_NCHW};
  fc_gbuf g = fc_gbuf_alloc(dev, "x", 16, 4);
  ck_assert_int_eq(fc_maxpool2d_ceil_forward(dev, small, 3, 2, g.view, g.view, g.view),
                   FC_ERR_INVALID_ARG);
  fc_gbuf_free(&g);
}

/* A uint8 image in a float-sized guarded buffer, starting 1 byte in (odd offset). */
typedef struct byte_image {
  fc_gbuf buf;
  fc_view view;
  uint8_t *host; /* the whole payload; the image is host + 1 */
} byte_image;

static byte_image byte_image_make(fc_device *dev, fc_test_rng *rng, size_t n) {
  byte_image b;
  size_t words = (n + 1 + 3) / 4;
  b.host = calloc(words, 4);
  ck_assert_ptr_nonnull(b.host);
  for (size_t i = 0; i < n; i++) b.host[1 + i] = (uint8_t)(fc_test_rng_u64(rng) & 0xff);
  b.buf = fc_gbuf_alloc(dev, "image", words, 4);
  fc_gbuf_upload(dev, &b.buf, b.host);
  b.view = fc_view_of(b.buf.mem, b.buf.view.offset * 4 + 1);
  return b;
}

static void byte_image_free(fc_device *dev, byte_image *b) {
  fc_gbuf_download(dev, &b->buf, b->host); /* guard bands */
  fc_gbuf_free(&b->buf);
  free(b->host);
}

void fc_test_crop_resize(fc_device *dev) {
  /* image sizes, output sizes: down (MTCNN's pyramid), up (small crops), odd ratios */
  static const int images[][3] = {{3, 31, 33}, {1, 1, 1}, {3, 63, 17}, {2, 12, 12}};
  static const int outs[][2] = {{24, 24}, {12, 12}, {1, 1}, {7, 33}, {48, 48}};
  fc_test_rng rng = fc_test_rng_make(903);
  for (size_t ii = 0; ii < sizeof images / sizeof images[0]; ii++)
    for (size_t oi = 0; oi < sizeof outs / sizeof outs[0]; oi++)
      for (int mode = 0; mode < 2; mode++) {
        int c = images[ii][0], h = images[ii][1], w = images[ii][2];
        int oh = outs[oi][0], ow = outs[oi][1], n = 5;
        if (fc_test_over_budget((size_t)n * c * oh * ow) || fc_test_over_budget((size_t)c * h * w))
          continue;
        byte_image img = byte_image_make(dev, &rng, (size_t)c * h * w);
        int32_t boxes[5 * 4];
        float fboxes[5 * 4];
        for (int i = 0; i < n; i++) {
          int x0 = (int)(fc_test_rng_u64(&rng) % (uint64_t)w),
              y0 = (int)(fc_test_rng_u64(&rng) % (uint64_t)h);
          boxes[4 * i] = x0, boxes[4 * i + 1] = y0;
          boxes[4 * i + 2] = x0 + 1 + (int)(fc_test_rng_u64(&rng) % (uint64_t)(w - x0));
          boxes[4 * i + 3] = y0 + 1 + (int)(fc_test_rng_u64(&rng) % (uint64_t)(h - y0));
        }
        /* The whole image, and one box hanging outside (clamped by the kernel). */
        boxes[0] = 0, boxes[1] = 0, boxes[2] = w, boxes[3] = h;
        boxes[4] = -5, boxes[5] = h - 1, boxes[6] = w + 9, boxes[7] = h + 3;
        memcpy(fboxes, boxes, sizeof boxes);
        size_t ny = (size_t)n * c * oh * ow;
        float *y = fc_test_alloc_floats(ny);
        double *yd = fc_test_alloc_doubles(ny);
        fc_gbuf gb = fc_gbuf_from_floats(dev, "boxes", fboxes, 4 * (size_t)n);
        fc_gbuf_upload(dev, &gb, boxes); /* int32 bits */
        fc_gbuf gy = fc_gbuf_alloc(dev, "y", ny, 4);
        char what[128];
        snprintf(what, sizeof what, "crop_resize %s %dx%dx%d → %dx%d", mode ? "bilinear" : "area",
                 c, h, w, oh, ow);
        FC_CHECK_OK(fc_crop_resize(dev, (fc_resize_mode)mode, img.view, c, h, w, gb.view, n, oh, ow,
                                   0.0078125f, -127.5f * 0.0078125f, gy.view));
        fc_ref_crop_resize((fc_resize_mode)mode, img.host + 1, c, h, w, boxes, n, oh, ow, 0.0078125,
                           -127.5 * 0.0078125, yd);
        fc_gbuf_download(dev, &gy, y);
        fc_test_expect_close(what, y, yd, ny, FC_NMSE_FORWARD);
        byte_image_free(dev, &img);
        fc_gbuf_free(&gb), fc_gbuf_free(&gy);
        free(y), free(yd);
      }
  /* Area mode is an average: a constant image stays constant at any size. */
  fc_test_rng r2 = fc_test_rng_make(904);
  byte_image img = byte_image_make(dev, &r2, 7 * 9);
  memset(img.host + 1, 77, 63);
  fc_gbuf_upload(dev, &img.buf, img.host);
  int32_t box[4] = {0, 0, 9, 7};
  fc_gbuf gb = fc_gbuf_alloc(dev, "boxes", 4, 4);
  fc_gbuf_upload(dev, &gb, box);
  fc_gbuf gy = fc_gbuf_alloc(dev, "y", 5 * 4, 4);
  FC_CHECK_OK(
      fc_crop_resize(dev, FC_RESIZE_AREA, img.view, 1, 7, 9, gb.view, 1, 5, 4, 1, 0, gy.view));
  float y[20];
  fc_gbuf_download(dev, &gy, y);
  for (int i = 0; i < 20; i++)
    ck_assert_msg(y[i] == 77.0f, "constant image: y[%d] = %g", i, (double)y[i]);
  ck_assert_int_eq(
      fc_crop_resize(dev, FC_RESIZE_AREA, img.view, 1, 7, 9, gb.view, 1, 0, 4, 1, 0, gy.view),
      FC_ERR_INVALID_ARG);
  byte_image_free(dev, &img);
  fc_gbuf_free(&gb), fc_gbuf_free(&gy);
}

void fc_test_affine_warp(fc_device *dev) {
  static const int cases[][5] = {/* in_c, h, w, out_c, out side */
                                 {3, 31, 33, 3, 48},
                                 {3, 63, 17, 1, 33},
                                 {1, 12, 13, 1, 1},
                                 {3, 1, 1, 1, 7},
                                 {1, 33, 63, 1, 31}};
  fc_test_rng rng = fc_test_rng_make(905);
  for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
    int ic = cases[ci][0], h = cases[ci][1], w = cases[ci][2], oc = cases[ci][3], os = cases[ci][4];
    int n = 4;
    if (fc_test_over_budget((size_t)n * oc * os * os) || fc_test_over_budget((size_t)ic * h * w))
      continue;
    byte_image img = byte_image_make(dev, &rng, (size_t)ic * h * w);
    float m[4 * 6];
    for (int i = 0; i < n; i++) {
      double ang = fc_test_rng_uniform(&rng, -0.6, 0.6), sc = fc_test_rng_uniform(&rng, 0.3, 2.5);
      m[6 * i + 0] = (float)(sc * cos(ang)), m[6 * i + 1] = (float)(-sc * sin(ang));
      m[6 * i + 3] = (float)(sc * sin(ang)), m[6 * i + 4] = (float)(sc * cos(ang));
      m[6 * i + 2] = (float)fc_test_rng_uniform(&rng, -10, w + 10);
      m[6 * i + 5] = (float)fc_test_rng_uniform(&rng, -10, h + 10);
    }
    m[0] = 1, m[1] = 0, m[2] = 0, m[3] = 0, m[4] = 1, m[5] = 0; /* identity: a copy */
    size_t ny = (size_t)n * oc * os * os;
    uint8_t *yd = calloc(ny, 1), *y = calloc((ny + 3) / 4 * 4, 1);
    ck_assert_ptr_nonnull(yd);
    ck_assert_ptr_nonnull(y);
    fc_gbuf gm = fc_gbuf_from_floats(dev, "m", m, 6 * (size_t)n);
    fc_gbuf gy = fc_gbuf_alloc(dev, "y", (ny + 3) / 4, 4);
    FC_CHECK_OK(fc_affine_warp(dev, img.view, ic, h, w, gm.view, n, oc, os, os,
                               fc_view_of(gy.mem, gy.view.offset * 4)));
    fc_ref_affine_warp(img.host + 1, ic, h, w, m, n, oc, os, os, yd);
    fc_gbuf_download(dev, &gy, y);
    /* Contracted multiply-adds may move a value sitting on .5 by one level. */
    for (size_t i = 0; i < ny; i++)
      ck_assert_msg(abs((int)y[i] - (int)yd[i]) <= 1,
                    "affine_warp case %zu: y[%zu] = %d, reference %d", ci, i, y[i], yd[i]);
    if (oc == ic && os <= h && os <= w) /* the identity output is the image's top-left corner */
      for (int c = 0; c < oc; c++)
        for (int p = 0; p < os; p++)
          for (int q = 0; q < os; q++)
            ck_assert_int_eq(y[((size_t)c * os + p) * os + q],
                             img.host[1 + ((size_t)c * h + p) * w + q]);
    byte_image_free(dev, &img);
    fc_gbuf_free(&gm), fc_gbuf_free(&gy);
    free(y), free(yd);
  }
  fc_test_rng r2 = fc_test_rng_make(906);
  byte_image img = byte_image_make(dev, &r2, 16);
  fc_gbuf g = fc_gbuf_alloc(dev, "m", 64, 4);
  ck_assert_int_eq(fc_affine_warp(dev, img.view, 1, 4, 4, g.view, 1, 3, 4, 4, g.view),
                   FC_ERR_INVALID_ARG);
  byte_image_free(dev, &img);
  fc_gbuf_free(&g);
}
