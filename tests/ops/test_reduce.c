/* Short sums (float and int32) and the gather of logging scalars into one buffer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "op_registry.h"

void fc_test_sum_gather(fc_device *dev) {
  fc_test_rng rng = fc_test_rng_make(601);
  static const size_t sizes[] = {1, 33, 1000};
  for (int si = 0; si < 3; si++) {
    const size_t n = sizes[si];
    if (fc_test_over_budget(n)) continue;
    float *x = fc_test_alloc_floats(n), out[2];
    int32_t *xi = calloc(n, 4);
    double sum = 0.0, isum = 0.0;
    fc_test_fill_uniform(&rng, x, NULL, n, -1, 1);
    for (size_t i = 0; i < n; i++) {
      sum += x[i];
      xi[i] = (int32_t)(fc_test_rng_u64(&rng) % 7) - 2;
      isum += xi[i];
    }
    fc_gbuf gx = fc_gbuf_from_floats(dev, "x", x, n), gi = fc_gbuf_alloc(dev, "xi", n, 4);
    fc_gbuf go = fc_gbuf_alloc(dev, "out", 2, 4);
    fc_gbuf_upload(dev, &gi, xi);
    FC_CHECK_OK(fc_sum(dev, gx.view, n, 0, 0.5f, go.view));
    FC_CHECK_OK(fc_sum(dev, gi.view, n, 1, 0.25f, fc_view_add(go.view, 1)));
    fc_gbuf_download(dev, &go, out);
    double want[2] = {0.5 * sum, 0.25 * isum};
    char what[64];
    snprintf(what, sizeof what, "sum n=%zu", n);
    fc_test_expect_close(what, out, want, 1, FC_NMSE_FORWARD);
    ck_assert_msg(out[1] == (float)want[1], "int sum n=%zu: %g vs %g", n, (double)out[1], want[1]);
    fc_gbuf_free(&gx), fc_gbuf_free(&gi), fc_gbuf_free(&go);
    free(x), free(xi);
  }

  /* Six items from three buffers (floats and int32 copied bit for bit) into one. */
  float a[10];
  int32_t b[5] = {7, -3, 1 << 30, 0, 42};
  float c[3] = {1.5f, -2.25f, 3e-30f};
  fc_test_fill_uniform(&rng, a, NULL, 10, -5, 5);
  fc_gbuf ga = fc_gbuf_from_floats(dev, "a", a, 10), gb = fc_gbuf_alloc(dev, "b", 5, 4);
  fc_gbuf gc = fc_gbuf_from_floats(dev, "c", c, 3), gd = fc_gbuf_alloc(dev, "dst", 14, 4);
  fc_gbuf_upload(dev, &gb, b);
  const fc_gather_item items[6] = {{fc_view_add(ga.view, 3), 1}, {gb.view, 2},
                                   {fc_view_add(ga.view, 0), 7}, {gc.view, 3},
                                   {fc_view_add(gb.view, 4), 1}, {fc_view_add(ga.view, 9), 0}};
  FC_CHECK_OK(fc_gather_words(dev, items, 6, fc_view_add(gd.view, 0)));
  uint32_t got[14], want[14];
  memcpy(&want[0], &a[3], 4);
  memcpy(&want[1], b, 8);
  memcpy(&want[3], a, 28);
  memcpy(&want[10], c, 12);
  memcpy(&want[13], &b[4], 4);
  fc_gbuf_download(dev, &gd, got);
  for (int i = 0; i < 14; i++)
    ck_assert_msg(got[i] == want[i], "gather word %d: %08x, expected %08x", i, got[i], want[i]);
  ck_assert_int_eq(fc_gather_words(dev, items, 6, fc_view_add(gd.view, 100)), FC_ERR_INVALID_ARG);
  fc_gbuf_free(&ga), fc_gbuf_free(&gb), fc_gbuf_free(&gc), fc_gbuf_free(&gd);
}
