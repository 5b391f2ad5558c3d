/* Declarative op cases, in the style of ggml's test-backend-ops: each case is
 * a shape and a note, written once and used by every runner of test_ops —
 * the device-vs-reference checks (default) and the timings (--perf). A perf
 * runner also times the shapes of the model training runs
 * (src/perf/perf_internal.h: fc_perf_conv_shapes, the list `fer-cl bench` and
 * `fer-cl tune` time). */
#ifndef FERCL_TESTS_OPS_OP_CASES_H
#define FERCL_TESTS_OPS_OP_CASES_H

#include <stddef.h>

#include "fercl/ops.h"
#include "harness.h"

/* A convolution case; the layout is chosen by the runner (both are checked). */
typedef struct fc_conv_case {
  int n, c_in, h, w, c_out, k, stride, pad;
  const char *note;
} fc_conv_case;

extern const fc_conv_case fc_conv_cases[]; /* awkward shapes, every kernel program */
extern const size_t fc_conv_case_count;
extern const fc_conv_case fc_conv_grad_cases[]; /* finite differences on the reference */
extern const size_t fc_conv_grad_case_count;
extern const fc_conv_case fc_conv_engine_cases[]; /* each GEMM engine and kernel path */
extern const size_t fc_conv_engine_case_count;

fc_conv2d_desc fc_conv_case_desc(const fc_conv_case *c, fc_layout layout);

/* The conv2d correctness runner: forward, backward-data, backward-weights
 * (and its accumulate mode) against the reference, with a workspace for
 * `chunk` samples; tag (or NULL) goes into failure messages. */
void fc_test_conv2d_case(fc_device *dev, fc_test_rng *rng, const fc_conv2d_desc *d, int chunk,
                         int with_bias, const char *tag);

/* --perf: the time budget of one measurement (s) and the batch of the model's
 * shapes; FERCL_PERF_BUDGET_MS and FERCL_PERF_BATCH override them. */
double fc_perf_case_budget_s(void);
int fc_perf_case_batch(void);

/* The GEMM correctness runner: C = alpha·op(A)·op(B) + beta·C against the
 * reference, leading dimensions padded by pad[0..2] (A, B, C) and pad[3] spare
 * elements after A and B; tag (or NULL) goes into failure messages. */
void fc_test_gemm_case(fc_device *dev, fc_test_rng *rng, int ta, int tb, size_t m, size_t n,
                       size_t k, const size_t pad[4], float alpha, float beta, const char *tag);

#endif
