#include "harness.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

fc_test_rng fc_test_rng_make(uint64_t seed) {
  fc_test_rng r = {seed ^ 0x9e3779b97f4a7c15ULL};
  return r;
}

uint64_t fc_test_rng_u64(fc_test_rng *rng) {
  uint64_t z = (rng->state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

double fc_test_rng_uniform(fc_test_rng *rng, double lo, double hi) {
  double u = (double)(fc_test_rng_u64(rng) >> 11) * (1.0 / 9007199254740992.0);
  return lo + (hi - lo) * u;
}

double fc_test_rng_normal(fc_test_rng *rng) {
  double u1 = fc_test_rng_uniform(rng, 1e-12, 1.0), u2 = fc_test_rng_uniform(rng, 0.0, 1.0);
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

void fc_test_fill_uniform(fc_test_rng *rng, float *f, double *d, size_t n, double lo, double hi) {
  for (size_t i = 0; i < n; i++) {
    float v = (float)fc_test_rng_uniform(rng, lo, hi);
    if (f) f[i] = v;
    if (d) d[i] = v; /* the reference sees exactly the float the device sees */
  }
}

void fc_test_fill_away_from_zero(fc_test_rng *rng, float *f, double *d, size_t n, double margin,
                                 double hi) {
  for (size_t i = 0; i < n; i++) {
    double mag = fc_test_rng_uniform(rng, margin, hi);
    float v = (float)((fc_test_rng_u64(rng) & 1) ? mag : -mag);
    if (f) f[i] = v;
    if (d) d[i] = v;
  }
}

static const uint32_t sentinel = 0x7fbadbadu; /* a quiet NaN with a recognisable payload */

fc_gbuf fc_gbuf_alloc(fc_device *dev, const char *name, size_t n, size_t elem_size) {
  fc_gbuf b = {0};
  b.name = name;
  b.n = n;
  b.elem_size = elem_size;
  size_t total = (n + 2 * FC_GUARD_ELEMENTS) * elem_size;
  FC_CHECK_OK(fc_buffer_alloc(dev, total, name, &b.mem));
  uint32_t *fill = malloc(total);
  ck_assert_ptr_nonnull(fill);
  for (size_t i = 0; i < total / 4; i++) fill[i] = sentinel;
  FC_CHECK_OK(fc_buffer_write(dev, b.mem, 0, total, fill, 1));
  free(fill);
  b.view = fc_view_of(b.mem, FC_GUARD_ELEMENTS * elem_size / 4);
  return b;
}

void fc_gbuf_free(fc_gbuf *b) { fc_buffer_release(&b->mem); }

void fc_gbuf_upload(fc_device *dev, const fc_gbuf *b, const void *host) {
  FC_CHECK_OK(
      fc_buffer_write(dev, b->mem, FC_GUARD_ELEMENTS * b->elem_size, b->n * b->elem_size, host, 1));
}

void fc_gbuf_download(fc_device *dev, const fc_gbuf *b, void *host) {
  size_t total = (b->n + 2 * FC_GUARD_ELEMENTS) * b->elem_size;
  unsigned char *all = malloc(total);
  ck_assert_ptr_nonnull(all);
  FC_CHECK_OK(fc_buffer_read(dev, b->mem, 0, total, all, 1));
  size_t guard_bytes = FC_GUARD_ELEMENTS * b->elem_size;
  for (size_t i = 0; i < guard_bytes / 4; i++) {
    uint32_t before, after;
    memcpy(&before, all + 4 * i, 4);
    memcpy(&after, all + guard_bytes + b->n * b->elem_size + 4 * i, 4);
    ck_assert_msg(before == sentinel, "%s: guard band BEFORE the buffer overwritten at word -%zu",
                  b->name, guard_bytes / 4 - i);
    ck_assert_msg(after == sentinel, "%s: guard band AFTER the buffer overwritten at word +%zu",
                  b->name, i);
  }
  memcpy(host, all + guard_bytes, b->n * b->elem_size);
  free(all);
}

fc_gbuf fc_gbuf_from_floats(fc_device *dev, const char *name, const float *host, size_t n) {
  fc_gbuf b = fc_gbuf_alloc(dev, name, n, sizeof(float));
  fc_gbuf_upload(dev, &b, host);
  return b;
}

double fc_test_nmse(const float *a, const double *ref, size_t n) {
  double err = 0.0, norm = 0.0;
  for (size_t i = 0; i < n; i++) {
    double d = (double)a[i] - ref[i];
    err += d * d;
    norm += ref[i] * ref[i];
  }
  if (n == 0) return 0.0;
  if (isnan(err)) return INFINITY;
  return norm > 0.0 ? err / norm : err / (double)n;
}

void fc_test_expect_close(const char *what, const float *dev_out, const double *ref, size_t n,
                          double bound) {
  double nmse = fc_test_nmse(dev_out, ref, n);
  if (nmse <= bound) return;
  size_t worst = 0;
  double worst_err = -1.0;
  for (size_t i = 0; i < n; i++) {
    double e = fabs((double)dev_out[i] - ref[i]);
    if (isnan(e)) e = INFINITY;
    if (e > worst_err) {
      worst_err = e;
      worst = i;
    }
  }
  ck_abort_msg("%s: nmse %.3g > %.3g; worst element %zu: device %.9g, reference %.9g", what, nmse,
               bound, worst, n ? (double)dev_out[worst] : 0.0, n ? ref[worst] : 0.0);
}

void fc_test_expect_equal_i32(const char *what, const int32_t *dev_out, const int32_t *ref,
                              size_t n) {
  for (size_t i = 0; i < n; i++)
    ck_assert_msg(dev_out[i] == ref[i], "%s: element %zu: device %d, reference %d", what, i,
                  (int)dev_out[i], (int)ref[i]);
}

static double loss_of(const fc_fd_spec *s, double *out) {
  s->forward(s->ctx, s->inputs, out);
  double l = 0.0;
  for (size_t i = 0; i < s->n_out; i++) l += s->dout[i] * out[i];
  return l;
}

void fc_test_fd_check(const fc_fd_spec *s) {
  double *out = fc_test_alloc_doubles(s->n_out);
  fc_test_rng rng = fc_test_rng_make(s->seed);
  for (int k = 0; k < s->n_inputs; k++) {
    if (!s->grads[k]) continue;
    size_t size = s->input_sizes[k];
    int probes = size < (size_t)s->max_probes ? (int)size : s->max_probes;
    for (int p = 0; p < probes; p++) {
      size_t j = size <= (size_t)s->max_probes ? (size_t)p : fc_test_rng_u64(&rng) % size;
      double saved = s->inputs[k][j];
      s->inputs[k][j] = saved + s->h;
      double lp = loss_of(s, out);
      s->inputs[k][j] = saved - s->h;
      double lm = loss_of(s, out);
      s->inputs[k][j] = saved;
      double numeric = (lp - lm) / (2.0 * s->h);
      double analytic = s->grads[k][j];
      double scale = fmax(1.0, fmax(fabs(numeric), fabs(analytic)));
      ck_assert_msg(fabs(numeric - analytic) <= s->tol * scale,
                    "%s: d/d%s[%zu]: analytic %.10g, finite difference %.10g", s->what,
                    s->input_names ? s->input_names[k] : "input", j, analytic, numeric);
    }
  }
  free(out);
}

void fc_test_to_double(const float *f, double *d, size_t n) {
  for (size_t i = 0; i < n; i++) d[i] = f[i];
}

double *fc_test_alloc_doubles(size_t n) {
  double *p = calloc(n ? n : 1, sizeof *p);
  ck_assert_ptr_nonnull(p);
  return p;
}

float *fc_test_alloc_floats(size_t n) {
  float *p = calloc(n ? n : 1, sizeof *p);
  ck_assert_ptr_nonnull(p);
  return p;
}

static long skipped_cases;

int fc_test_over_budget(size_t elements) {
  const char *env = getenv("FERCL_TEST_MAX_ELEMENTS");
  if (!env || !*env) return 0;
  if ((double)elements <= strtod(env, NULL)) return 0;
  skipped_cases++;
  return 1;
}

long fc_test_skipped_cases(void) { return skipped_cases; }

size_t fc_test_gemm_largest(size_t m, size_t n, size_t k) {
  size_t a = m * k, b = k * n, c = m * n;
  size_t ab = a > b ? a : b;
  return ab > c ? ab : c;
}

void fc_test_fd(const char *what, fc_fd_forward_fn forward, void *ctx, const fc_fd_input *inputs,
                int n_inputs, const double *dout, size_t n_out, double tol, int max_probes,
                uint64_t seed) {
  ck_assert_msg(n_inputs > 0 && n_inputs <= FC_FD_MAX_INPUTS, "%s: %d inputs", what, n_inputs);
  double *x[FC_FD_MAX_INPUTS], *grads[FC_FD_MAX_INPUTS];
  size_t sizes[FC_FD_MAX_INPUTS];
  const char *names[FC_FD_MAX_INPUTS];
  for (int i = 0; i < n_inputs; i++) {
    x[i] = inputs[i].x;
    grads[i] = inputs[i].grad;
    sizes[i] = inputs[i].n;
    names[i] = inputs[i].name;
  }
  fc_fd_spec spec = {.what = what,
                     .ctx = ctx,
                     .forward = forward,
                     .n_inputs = n_inputs,
                     .inputs = x,
                     .input_sizes = sizes,
                     .input_names = names,
                     .grads = grads,
                     .dout = dout,
                     .n_out = n_out,
                     .h = 1e-6,
                     .tol = tol,
                     .max_probes = max_probes,
                     .seed = seed};
  fc_test_fd_check(&spec);
}

/* Teacher probabilities with ties: softmax of random logits, then rounded to
 * multiples of 1/64 (rows need not sum to 1 exactly; the ops do not care). */
void fc_test_fill_probs(fc_test_rng *rng, float *q, int B, int C, double spread) {
  for (int b = 0; b < B; b++) {
    double z[16], s = 0;
    for (int c = 0; c < C; c++) s += (z[c] = exp(fc_test_rng_uniform(rng, -spread, spread)));
    for (int c = 0; c < C; c++) q[(size_t)b * C + c] = (float)(floor(z[c] / s * 64.0 + 0.5) / 64.0);
  }
}

void fc_test_expect_download(fc_device *dev, const fc_gbuf *g, float *out, const double *ref,
                             size_t n, double bound, const char *fmt, ...) {
  char what[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  fc_gbuf_download(dev, g, out);
  fc_test_expect_close(what, out, ref, n, bound);
}
