#include "op_cases.h"

#include <stdlib.h>

const fc_conv_case fc_conv_cases[] = {
    {1, 3, 7, 7, 5, 3, 1, 1, "basic block 3x3"},
    {3, 5, 31, 31, 4, 3, 2, 1, "stage entry 3x3 s2"},
    {3, 3, 33, 33, 5, 7, 2, 3, "ResNet stem"},
    {1, 5, 1, 1, 3, 1, 1, 0, "pointwise, no im2col"},
    {3, 5, 7, 7, 4, 1, 1, 0, "pointwise over a batch"},
    {3, 4, 7, 7, 6, 1, 2, 0, "downsampling shortcut"},
    {3, 2, 33, 31, 1, 7, 1, 3, "local attention 7x7, 2 -> 1"},
    {3, 2, 7, 7, 1, 3, 1, 1, "local attention 3x3"},
    {1, 3, 63, 63, 4, 3, 2, 0, "63 with padding 0 (generic program)"},
    {3, 5, 7, 7, 3, 3, 1, 0, "padding 0, stride 1 (generic)"},
    {3, 3, 1, 1, 4, 3, 1, 1, "spatial 1 under a padded 3x3"},
    {3, 2, 31, 31, 3, 5, 3, 2, "odd geometry (generic)"},
    /* Small planes with a batch of 16 or more: batch panels that skip the taps
     * in the padding (conv_tap), a partial last block of samples. */
    {33, 16, 2, 2, 64, 3, 1, 1, "forward on batch panels"},
    {32, 64, 3, 3, 16, 3, 1, 1, "backward-data on batch panels"},
    {17, 16, 4, 3, 5, 5, 1, 2, "batch panels, 5x5"},
    {20, 16, 1, 1, 6, 3, 1, 1, "batch panels, spatial 1"},
    {31, 3, 5, 5, 33, 3, 1, 1, "batch panels, odd channels both ways"},
    /* Strided forward convolutions on batch panels (conv_tap). */
    {17, 3, 9, 9, 5, 3, 2, 1, "batch panels, 3x3 stride 2"},
    {33, 3, 11, 13, 7, 7, 2, 3, "batch panels, stem 7x7 stride 2"},
};
const size_t fc_conv_case_count = sizeof fc_conv_cases / sizeof fc_conv_cases[0];

/* Small enough for finite differences on the reference. */
const fc_conv_case fc_conv_grad_cases[] = {
    {2, 3, 5, 6, 2, 3, 2, 1, "3x3 s2 over a 5x6 plane"},
    {2, 2, 4, 4, 3, 1, 1, 0, "pointwise"},
    {1, 2, 7, 5, 2, 7, 1, 3, "7x7 over a 7x5 plane"},
};
const size_t fc_conv_grad_case_count = sizeof fc_conv_grad_cases / sizeof fc_conv_grad_cases[0];

/* Each GEMM engine and kernel path (test_gemm_variants.c): implicit GEMM
 * (stride-1 same convolutions), explicit column matrices with 16-wide panels
 * (shifted copies, 16-column im2col) or other widths (per-element im2col),
 * CLBlast. */
const fc_conv_case fc_conv_engine_cases[] = {
    {3, 5, 9, 7, 7, 3, 1, 1, "stride-1 same: shifted copies, 9x7 planes"},
    {3, 3, 11, 11, 4, 3, 2, 1, "stride 2"},
    {3, 4, 6, 6, 5, 1, 2, 0, "strided 1x1 shortcut"},
    {2, 2, 13, 13, 3, 7, 2, 3, "stem-like"},
    {3, 6, 5, 5, 9, 1, 1, 0, "pointwise"},
    {2, 16, 9, 7, 7, 3, 1, 1, "channels a multiple of 16: channel-last weight gradient"},
    {4, 16, 32, 32, 13, 3, 1, 1, "... over several launches of pixels"},
    {3, 32, 5, 5, 13, 1, 1, 0, "... pointwise"},
    {2, 3, 1, 2, 4, 3, 2, 1, "windows reaching past a 1x2 image (col2im bounds)"},
    {2, 3, 4, 3, 2, 5, 3, 2, "stride 3"},
    {33, 16, 2, 2, 64, 3, 1, 1, "small plane, batch panels that skip padded taps"},
};
const size_t fc_conv_engine_case_count =
    sizeof fc_conv_engine_cases / sizeof fc_conv_engine_cases[0];

fc_conv2d_desc fc_conv_case_desc(const fc_conv_case *c, fc_layout layout) {
  fc_conv2d_desc d = {c->n, c->c_in, c->h, c->w, c->c_out, c->k, c->k, c->stride, c->pad, layout};
  return d;
}

double fc_perf_case_budget_s(void) {
  const char *v = getenv("FERCL_PERF_BUDGET_MS");
  double ms = v && atof(v) > 0 ? atof(v) : 200;
  return ms * 1e-3;
}

int fc_perf_case_batch(void) {
  const char *v = getenv("FERCL_PERF_BATCH");
  return v && atoi(v) > 0 ? atoi(v) : 16;
}
