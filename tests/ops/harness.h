/* The op test harness, in the style of ggml's test-backend-ops:
 * every op runs on the OpenCL device and on its double-precision C reference
 * with the same random inputs; outputs are compared by normalized error;
 * device buffers carry guard bands that must survive the kernel; every
 * reference backward is checked against central finite differences. */
#ifndef FERCL_TESTS_OPS_HARNESS_H
#define FERCL_TESTS_OPS_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "device/runtime.h"
#include "fercl/ops.h"
#include "testutil.h"

/* ---- deterministic random numbers (splitmix64) ---- */
typedef struct fc_test_rng {
  uint64_t state;
} fc_test_rng;

fc_test_rng fc_test_rng_make(uint64_t seed);
uint64_t fc_test_rng_u64(fc_test_rng *rng);
double fc_test_rng_uniform(fc_test_rng *rng, double lo, double hi);
/* Standard normal. */
double fc_test_rng_normal(fc_test_rng *rng);
/* Fills host arrays (float for the device, double copy for the reference). */
void fc_test_fill_uniform(fc_test_rng *rng, float *f, double *d, size_t n, double lo, double hi);
/* Uniform in ±[margin, hi]: keeps values away from 0, for ops with a kink there (ReLU, max). */
void fc_test_fill_away_from_zero(fc_test_rng *rng, float *f, double *d, size_t n, double margin,
                                 double hi);

/* Teacher probabilities [B][C] (C <= 16) with ties: softmax of random logits in
 * ±spread, rounded to multiples of 1/64 (rows need not sum to 1 exactly). */
void fc_test_fill_probs(fc_test_rng *rng, float *q, int B, int C, double spread);

/* ---- guarded device buffers ----
 * The buffer holds `guard` sentinel elements, then the n payload elements, then
 * `guard` more sentinels. The payload starts as a NaN pattern too, so an element
 * the kernel forgets to write shows up as a mismatch. */
#define FC_GUARD_ELEMENTS 64

typedef struct fc_gbuf {
  const char *name;
  cl_mem mem;
  size_t n;         /* payload elements */
  size_t elem_size; /* 4 for float/int32/uint32 */
  fc_view view;     /* the payload */
} fc_gbuf;

fc_gbuf fc_gbuf_alloc(fc_device *dev, const char *name, size_t n, size_t elem_size);
void fc_gbuf_free(fc_gbuf *b);
void fc_gbuf_upload(fc_device *dev, const fc_gbuf *b, const void *host);
/* Downloads the payload and fails the test if a guard element changed. */
void fc_gbuf_download(fc_device *dev, const fc_gbuf *b, void *host);
/* Convenience: allocate and upload a float array in one call. */
fc_gbuf fc_gbuf_from_floats(fc_device *dev, const char *name, const float *host, size_t n);

/* ---- comparisons ---- */

/* mse(a - ref) / mse(ref); when ref is all zero, mse(a). */
double fc_test_nmse(const float *a, const double *ref, size_t n);
/* Fails unless nmse <= bound; the message names the case and the worst element. */
void fc_test_expect_close(const char *what, const float *dev_out, const double *ref, size_t n,
                          double bound);
/* Downloads a device output into out (fc_gbuf_download) and compares it with
 * ref (fc_test_expect_close); the case is named by a printf format. */
void fc_test_expect_download(fc_device *dev, const fc_gbuf *g, float *out, const double *ref,
                             size_t n, double bound, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
/* Exact equality for integer outputs. */
void fc_test_expect_equal_i32(const char *what, const int32_t *dev_out, const int32_t *ref,
                              size_t n);

/* Default bound for forward passes (mse(a-b)/mse(b)). */
#define FC_NMSE_FORWARD 1e-7

/* ---- finite differences on the reference ----
 * forward(ctx, inputs, output) computes the op in double. The check forms
 * L = sum_i dout[i] * output[i] and compares, for up to max_probes random
 * elements of each input, the analytic gradient grads[k][j] (from the
 * reference backward) with (L(x + h e_j) - L(x - h e_j)) / 2h. */
typedef void (*fc_fd_forward_fn)(void *ctx, double *const *inputs, double *output);

typedef struct fc_fd_spec {
  const char *what;
  void *ctx;
  fc_fd_forward_fn forward;
  int n_inputs;
  double *const *inputs; /* perturbed in place, then restored */
  const size_t *input_sizes;
  const char *const *input_names;
  double *const *grads; /* analytic gradients; NULL entry = input not checked */
  const double *dout;
  size_t n_out;
  double h;       /* step, e.g. 1e-6 */
  double tol;     /* |a - n| <= tol * max(1, |a|, |n|) */
  int max_probes; /* per input */
  uint64_t seed;
} fc_fd_spec;

void fc_test_fd_check(const fc_fd_spec *spec);

/* One input of a check: values (perturbed in place, then restored), element
 * count, analytic gradient (NULL: not checked). */
typedef struct fc_fd_input {
  const char *name;
  double *x;
  size_t n;
  double *grad;
} fc_fd_input;
#define FC_FD_MAX_INPUTS 8

/* fc_test_fd_check with the step every op uses (h = 1e-6). */
void fc_test_fd(const char *what, fc_fd_forward_fn forward, void *ctx, const fc_fd_input *inputs,
                int n_inputs, const double *dout, size_t n_out, double tol, int max_probes,
                uint64_t seed);

/* ---- case budget (the Oclgrind stage) ----
 * FERCL_TEST_MAX_ELEMENTS=N: a device case whose largest tensor has more than N
 * elements is skipped and counted; unset, every case runs. The simulator runs
 * kernels about 10^4 times slower than PoCL, so tools/oclgrind.sh keeps only
 * the small awkward shapes (1, 7, 31, 33, 63...). */
int fc_test_over_budget(size_t elements);
long fc_test_skipped_cases(void);
/* The largest of A (m×k), B (k×n) and C (m×n). */
size_t fc_test_gemm_largest(size_t m, size_t n, size_t k);

/* Narrowing/widening helpers. */
void fc_test_to_double(const float *f, double *d, size_t n);
double *fc_test_alloc_doubles(size_t n);
float *fc_test_alloc_floats(size_t n);

#endif
