/* Input conversion from uint8 and layout transposes: device vs reference. */
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "op_registry.h"
#include "ops/ref/ref.h"

static const int shapes[][4] = {{1, 3, 7, 7}, {3, 1, 33, 31}, {3, 3, 1, 1}, {3, 4, 63, 5}};
#define N_SHAPES (sizeof shapes / sizeof shapes[0])

void fc_test_input_from_u8(fc_device *dev) {
  fc_test_rng rng = fc_test_rng_make(601);
  static const float mean[4] = {0.485f, 0.456f, 0.406f, 0.5f};
  static const float std[4] = {0.229f, 0.224f, 0.225f, 0.25f};
  for (size_t si = 0; si < N_SHAPES; si++)
    for (int li = 0; li < 2; li++) {
      fc_shape4 s = {shapes[si][0], shapes[si][1], shapes[si][2], shapes[si][3],
                     li ? FC_LAYOUT_CNHW : FC_LAYOUT_NCHW};
      size_t n = fc_shape4_count(s);
      if (fc_test_over_budget(n)) continue;
      /* The byte buffer is a float-sized gbuf; bytes start 3 into it (odd offset). */
      size_t words = (n + 3 + 3) / 4;
      uint8_t *bytes = calloc(words, 4);
      ck_assert_ptr_nonnull(bytes);
      for (size_t i = 0; i < n; i++) bytes[3 + i] = (uint8_t)(fc_test_rng_u64(&rng) & 0xff);
      bytes[3] = 0, bytes[3 + n - 1] = 255;
      fc_gbuf gsrc = fc_gbuf_alloc(dev, "bytes", words, 4);
      fc_gbuf_upload(dev, &gsrc, bytes);
      fc_view src = fc_view_of(gsrc.mem, gsrc.view.offset * 4 + 3); /* offsets count bytes */
      fc_gbuf gy = fc_gbuf_alloc(dev, "y", n, 4);
      float *y = fc_test_alloc_floats(n);
      double *yd = fc_test_alloc_doubles(n);
      FC_CHECK_OK(fc_input_from_u8(dev, s, src, mean, std, gy.view));
      fc_ref_input_from_u8(s, bytes + 3, mean, std, yd);
      fc_gbuf_download(dev, &gy, y);
      char what[128];
      snprintf(what, sizeof what, "input_from_u8 n=%d c=%d %dx%d %s", s.n, s.c, s.h, s.w,
               li ? "CNHW" : "NCHW");
      fc_test_expect_close(what, y, yd, n, FC_NMSE_FORWARD);
      fc_gbuf_download(dev, &gsrc, bytes); /* guard bands */
      fc_gbuf_free(&gsrc), fc_gbuf_free(&gy);
      free(bytes), free(y), free(yd);
    }
  fc_shape4 five = {1, 5, 2, 2, FC_LAYOUT_CNHW};
  fc_gbuf g = fc_gbuf_alloc(dev, "y", 20, 4);
  ck_assert_int_eq(fc_input_from_u8(dev, five, g.view, mean, std, g.view), FC_ERR_UNSUPPORTED);
  fc_gbuf_free(&g);
}

void fc_test_layout_convert(fc_device *dev) {
  fc_test_rng rng = fc_test_rng_make(602);
  for (size_t si = 0; si < N_SHAPES; si++)
    for (int li = 0; li < 2; li++) {
      fc_layout from = li ? FC_LAYOUT_CNHW : FC_LAYOUT_NCHW;
      fc_layout to = li ? FC_LAYOUT_NCHW : FC_LAYOUT_CNHW;
      fc_shape4 s = {shapes[si][0], shapes[si][1], shapes[si][2], shapes[si][3], from};
      fc_shape4 t = s;
      t.layout = to;
      if (fc_test_over_budget(fc_shape4_count(s))) continue;
      size_t n = fc_shape4_count(s);
      float *x = fc_test_alloc_floats(n), *y = fc_test_alloc_floats(n);
      double *xd = fc_test_alloc_doubles(n), *yd = fc_test_alloc_doubles(n);
      fc_test_fill_uniform(&rng, x, xd, n, -1, 1);
      fc_gbuf gx = fc_gbuf_from_floats(dev, "x", x, n), gy = fc_gbuf_alloc(dev, "y", n, 4);
      fc_gbuf gz = fc_gbuf_alloc(dev, "z", n, 4);
      char what[128];
      snprintf(what, sizeof what, "layout_convert n=%d c=%d %dx%d from %s", s.n, s.c, s.h, s.w,
               li ? "CNHW" : "NCHW");
      FC_CHECK_OK(fc_layout_convert(dev, s, gx.view, to, gy.view));
      fc_ref_layout_convert(s, xd, to, yd);
      fc_gbuf_download(dev, &gy, y);
      fc_test_expect_close(what, y, yd, n, 0.0);
      /* And back: the round trip is the identity. */
      FC_CHECK_OK(fc_layout_convert(dev, t, gy.view, from, gz.view));
      fc_gbuf_download(dev, &gz, y);
      fc_test_expect_close(what, y, xd, n, 0.0);
      ck_assert_int_eq(fc_layout_convert(dev, s, gx.view, to, gx.view), FC_ERR_INVALID_ARG);
      fc_gbuf_free(&gx), fc_gbuf_free(&gy), fc_gbuf_free(&gz);
      free(x), free(y), free(xd), free(yd);
    }
}
