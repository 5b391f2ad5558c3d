/* DTA on the device: confidence/argmax, threshold masks, DTA statistics and the
 * freematch-fer state update, distribution alignment, flexmatch's histogram. Integer
 * outputs must equal the reference exactly: a hand-made batch with answers written
 * down below, plus random batches with many ties. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "op_registry.h"
#include "ops/ref/ref.h"

/* ---- confidence, threshold mask, histogram ---- */

static void run_confidence(fc_device *dev, int B, int C, const float *q, const float *tau,
                           float tau_fixed, const char *what) {
  size_t n = (size_t)B * C;
  double *qd = fc_test_alloc_doubles(n), *taud = fc_test_alloc_doubles(C);
  double *confd = fc_test_alloc_doubles(B), *maskd = fc_test_alloc_doubles(B);
  float *conf = fc_test_alloc_floats(B), *mask = fc_test_alloc_floats(B);
  int32_t *arg = calloc(B, 4), *argd = calloc(B, 4), *hist = calloc(C, 4), *histd = calloc(C, 4);
  fc_test_to_double(q, qd, n);
  fc_test_to_double(tau, taud, C);
  fc_gbuf gq = fc_gbuf_from_floats(dev, "q", q, n), gt = fc_gbuf_from_floats(dev, "tau", tau, C);
  fc_gbuf gc = fc_gbuf_alloc(dev, "conf", B, 4), ga = fc_gbuf_alloc(dev, "argmax", B, 4);
  fc_gbuf gm = fc_gbuf_alloc(dev, "mask", B, 4), gh = fc_gbuf_alloc(dev, "hist", C, 4);
  FC_CHECK_OK(fc_confidence(dev, B, C, gq.view, gc.view, ga.view));
  FC_CHECK_OK(fc_threshold_mask(dev, B, C, gc.view, ga.view, gt.view, gm.view));
  FC_CHECK_OK(fc_confident_histogram(dev, B, C, gc.view, ga.view, tau_fixed, gh.view));
  fc_ref_confidence(B, C, qd, confd, argd);
  fc_ref_threshold_mask(B, C, confd, argd, taud, maskd);
  fc_ref_confident_histogram(B, C, confd, argd, (double)tau_fixed, histd);
  fc_gbuf_download(dev, &gc, conf), fc_gbuf_download(dev, &ga, arg);
  fc_gbuf_download(dev, &gm, mask), fc_gbuf_download(dev, &gh, hist);
  char msg[160];
  snprintf(msg, sizeof msg, "%s: argmax", what);
  fc_test_expect_equal_i32(msg, arg, argd, B);
  snprintf(msg, sizeof msg, "%s: histogram", what);
  fc_test_expect_equal_i32(msg, hist, histd, C);
  for (int b = 0; b < B; b++) {
    ck_assert_msg(conf[b] == (float)confd[b], "%s: conf[%d] %g vs %g", what, b, (double)conf[b],
                  confd[b]);
    ck_assert_msg(mask[b] == (float)maskd[b], "%s: mask[%d] %g vs %g", what, b, (double)mask[b],
                  maskd[b]);
  }
  fc_gbuf_free(&gq), fc_gbuf_free(&gt), fc_gbuf_free(&gc), fc_gbuf_free(&ga), fc_gbuf_free(&gm);
  fc_gbuf_free(&gh);
  free(qd), free(taud), free(confd), free(maskd), free(conf), free(mask), free(arg), free(argd);
  free(hist), free(histd);
}

void fc_test_confidence(fc_device *dev) {
  /* Hand-made: ties go to the lowest index; conf equal to τ passes (≥). */
  const float q[4 * 4] = {0.25f, 0.25f, 0.25f, 0.25f,  /* argmax 0, conf .25 */
                          0.1f,  0.4f,  0.4f,  0.1f,   /* argmax 1, conf .4 = τ[1] */
                          0.05f, 0.05f, 0.1f,  0.8f,   /* argmax 3, conf .8 < τ[3] */
                          0.0f,  0.0f,  0.96f, 0.04f}; /* argmax 2, conf .96 */
  const float tau[4] = {0.3f, 0.4f, 0.5f, 0.9f};
  float conf[4], mask[4];
  int32_t arg[4], hist[4];
  fc_gbuf gq = fc_gbuf_from_floats(dev, "q", q, 16), gt = fc_gbuf_from_floats(dev, "tau", tau, 4);
  fc_gbuf gc = fc_gbuf_alloc(dev, "conf", 4, 4), ga = fc_gbuf_alloc(dev, "argmax", 4, 4);
  fc_gbuf gm = fc_gbuf_alloc(dev, "mask", 4, 4), gh = fc_gbuf_alloc(dev, "hist", 4, 4);
  FC_CHECK_OK(fc_confidence(dev, 4, 4, gq.view, gc.view, ga.view));
  FC_CHECK_OK(fc_threshold_mask(dev, 4, 4, gc.view, ga.view, gt.view, gm.view));
  FC_CHECK_OK(fc_confident_histogram(dev, 4, 4, gc.view, ga.view, 0.4f, gh.view));
  fc_gbuf_download(dev, &gc, conf), fc_gbuf_download(dev, &ga, arg);
  fc_gbuf_download(dev, &gm, mask), fc_gbuf_download(dev, &gh, hist);
  const int32_t want_arg[4] = {0, 1, 3, 2}, want_hist[4] = {0, 1, 1, 1};
  const float want_conf[4] = {0.25f, 0.4f, 0.8f, 0.96f}, want_mask[4] = {0, 1, 0, 1};
  fc_test_expect_equal_i32("hand-made argmax", arg, want_arg, 4);
  fc_test_expect_equal_i32("hand-made histogram (tau 0.4)", hist, want_hist, 4);
  for (int b = 0; b < 4; b++) {
    ck_assert_msg(conf[b] == want_conf[b], "hand-made conf[%d] = %g", b, (double)conf[b]);
    ck_assert_msg(mask[b] == want_mask[b], "hand-made mask[%d] = %g", b, (double)mask[b]);
  }
  fc_gbuf_free(&gq), fc_gbuf_free(&gt), fc_gbuf_free(&gc), fc_gbuf_free(&ga), fc_gbuf_free(&gm);
  fc_gbuf_free(&gh);

  fc_test_rng rng = fc_test_rng_make(401);
  static const int batches[] = {1, 3, 31, 33}, classes[] = {7, 8};
  for (int bi = 0; bi < 4; bi++)
    for (int ci = 0; ci < 2; ci++) {
      int B = batches[bi], C = classes[ci];
      float *qr = fc_test_alloc_floats((size_t)B * C), taur[8];
      fc_test_fill_probs(&rng, qr, B, C, 2.5);
      for (int c = 0; c < C; c++)
        taur[c] = (float)(floor(fc_test_rng_uniform(&rng, 0.2, 0.6) * 64) / 64);
      char what[64];
      snprintf(what, sizeof what, "confidence B=%d C=%d", B, C);
      run_confidence(dev, B, C, qr, taur, 0.375f, what);
      free(qr);
    }
}

/* ---- DTA ---- */

/* freematch-fer (rescale 0) or freematch-rescaled (rescale 1) against the reference over
 * eight updates from random batches; floor as given. Returns how many thresholds ended
 * strictly inside (tau_min, tau_max) and writes the final thresholds to tau_out [C]. */
static int run_dta(fc_device *dev, fc_test_rng *rng, int C, float tmin, float tmax, int rescale,
                   double *tau_out) {
  static const int batches[] = {1, 3, 31, 33};
  const size_t ns = fc_dta_state_size(C);
  const fc_dta_params prm = {tmin, tmax, rescale};
  double *st = fc_test_alloc_doubles(ns);
  float *o = fc_test_alloc_floats(ns);
  fc_gbuf gst = fc_gbuf_alloc(dev, "state", ns, 4), gstats = fc_gbuf_alloc(dev, "stats", 1 + C, 4);
  FC_CHECK_OK(fc_dta_freematch_init(dev, C, &prm, gst.view));
  fc_ref_dta_freematch_init(C, tmin, tmax, rescale, st);
  fc_gbuf_download(dev, &gst, o);
  fc_test_expect_close("dta init", o, st, ns, FC_NMSE_FORWARD);
  for (int c = 0; c < C; c++) {
    if (rescale) /* g·β = 1/C at the start: a seventh of the way up from the floor */
      ck_assert_float_eq_tol(o[1 + C + c], tmin + (tmax - tmin) / (float)C, 1e-6f);
    else if (C > 1)
      ck_assert(o[1 + C + c] == tmin); /* 1/C < tau_min */
  }
  for (int it = 0; it < 8; it++) {
    const int B = batches[it % 4];
    size_t n = (size_t)B * C;
    float *q = fc_test_alloc_floats(n), *so = fc_test_alloc_floats(1 + C);
    double *qd = fc_test_alloc_doubles(n), *confd = fc_test_alloc_doubles(B);
    double *statsd = fc_test_alloc_doubles(1 + C);
    int32_t *argd = calloc(B, 4);
    /* Peaked rows (some confident) so thresholds move off the clamp. */
    fc_test_fill_probs(rng, q, B, C, 4.0 + it);
    fc_test_to_double(q, qd, n);
    fc_gbuf gq = fc_gbuf_from_floats(dev, "q", q, n), gc = fc_gbuf_alloc(dev, "conf", B, 4);
    fc_gbuf ga = fc_gbuf_alloc(dev, "argmax", B, 4);
    FC_CHECK_OK(fc_confidence(dev, B, C, gq.view, gc.view, ga.view));
    FC_CHECK_OK(fc_batch_confidence_stats(dev, B, C, gq.view, gc.view, gstats.view));
    /* A small m so eight steps move the state far from its start. */
    const float m = it < 4 ? 0.5f : 0.999f;
    FC_CHECK_OK(fc_dta_freematch_update(dev, C, gstats.view, m, &prm, gst.view));
    fc_ref_confidence(B, C, qd, confd, argd);
    fc_ref_batch_confidence_stats(B, C, qd, confd, statsd);
    fc_ref_dta_freematch_update(C, statsd, m, tmin, tmax, rescale, st);
    char what[80];
    snprintf(what, sizeof what, "dta stats B=%d C=%d", B, C);
    fc_gbuf_download(dev, &gstats, so);
    fc_test_expect_close(what, so, statsd, 1 + C, FC_NMSE_FORWARD);
    snprintf(what, sizeof what, "dta state (rescale %d) after update %d, C=%d", rescale, it, C);
    fc_gbuf_download(dev, &gst, o);
    fc_test_expect_close(what, o, st, ns, FC_NMSE_FORWARD);
    for (int c = 0; c < C; c++) ck_assert(o[1 + C + c] >= tmin && o[1 + C + c] <= tmax);
    fc_gbuf_free(&gq), fc_gbuf_free(&gc), fc_gbuf_free(&ga);
    free(q), free(so), free(qd), free(confd), free(statsd), free(argd);
  }
  int inside = 0;
  for (int c = 0; c < C; c++) {
    inside += st[1 + C + c] > tmin && st[1 + C + c] < tmax;
    tau_out[c] = st[1 + C + c];
  }
  fc_gbuf_free(&gst), fc_gbuf_free(&gstats);
  free(st), free(o);
  return inside;
}

void fc_test_dta(fc_device *dev) {
  fc_test_rng rng = fc_test_rng_make(403);
  static const int classes[] = {7, 8, 1, 13};
  for (int ci = 0; ci < 4; ci++) {
    const int C = classes[ci];
    double tau[64];
    /* The thresholds left the clamp: the test exercised g·p̃/max p̃. */
    int inside = run_dta(dev, &rng, C, 0.5f, 0.95f, 0, tau);
    if (C > 1)
      ck_assert_msg(inside > 0, "no threshold strictly inside (tau_min, tau_max), C=%d", C);
    /* Rescaled, with a floor (0.8) that clamping pins every class to: the classes stay
     * apart, each strictly above the floor. */
    inside = run_dta(dev, &rng, C, 0.8f, 0.95f, 1, tau);
    if (C > 1) /* one class: β = g = 1, τ = τ_max */
      ck_assert_msg(inside == C, "rescaled: %d of %d thresholds strictly inside (0.8, 0.95)",
                    inside, C);
    if (C > 1) {
      double lo = tau[0], hi = tau[0];
      for (int c = 1; c < C; c++) lo = tau[c] < lo ? tau[c] : lo, hi = tau[c] > hi ? tau[c] : hi;
      ck_assert_msg(hi - lo > 1e-3, "rescaled thresholds do not differ between classes (C=%d)", C);
    }
  }
  /* Hand-made: g = 0.6, p̃ = (0.5, 0.25, 0.25) → β = (1, .5, .5);
   * clamped [0.8, 0.95]: all 0.8; rescaled: 0.8 + 0.15·(0.6, 0.3, 0.3). */
  const float state0[7] = {0.6f, 0.5f, 0.25f, 0.25f, 0, 0, 0}, zero_stats[4] = {0};
  for (int rescale = 0; rescale < 2; rescale++) {
    fc_gbuf gst = fc_gbuf_from_floats(dev, "state", state0, 7);
    fc_gbuf gstats = fc_gbuf_from_floats(dev, "stats", zero_stats, 4);
    const fc_dta_params prm = {0.8f, 0.95f, rescale};
    FC_CHECK_OK(
        fc_dta_freematch_update(dev, 3, gstats.view, 1.0f, &prm, gst.view)); /* m = 1: state kept */
    float o[7];
    fc_gbuf_download(dev, &gst, o);
    const float want[2][3] = {{0.8f, 0.8f, 0.8f}, {0.89f, 0.845f, 0.845f}};
    for (int c = 0; c < 3; c++)
      ck_assert_msg(fabsf(o[4 + c] - want[rescale][c]) < 1e-6f,
                    "hand-made rescale %d: tau[%d] = %g, want %g", rescale, c, (double)o[4 + c],
                    (double)want[rescale][c]);
    fc_gbuf_free(&gst), fc_gbuf_free(&gstats);
  }
  fc_gbuf g = fc_gbuf_alloc(dev, "any", 64, 4);
  const fc_dta_params bad = {0.9f, 0.8f, 1};
  ck_assert_int_eq(fc_dta_freematch_init(dev, 7, &bad, g.view), FC_ERR_INVALID_ARG);
  ck_assert_int_eq(fc_dta_freematch_init(dev, 7, NULL, g.view), FC_ERR_INVALID_ARG);
  fc_gbuf_free(&g);
}

/* ---- distribution alignment ---- */

static void run_dist_align(fc_device *dev, fc_test_rng *rng, int B, int C, int in_place) {
  const size_t n = (size_t)B * C, ns = fc_dist_align_state_size(C);
  float *q = fc_test_alloc_floats(n), *out = fc_test_alloc_floats(n),
        *st = fc_test_alloc_floats(ns);
  double *qd = fc_test_alloc_doubles(n), *outd = fc_test_alloc_doubles(n),
         *std = fc_test_alloc_doubles(ns);
  fc_test_fill_probs(rng, q, B, C, 3.0);
  /* A skewed prior and a running mean far from it, one class with p̄ below the floor. */
  double psum = 0;
  for (int c = 0; c < C; c++) psum += (st[c] = (float)fc_test_rng_uniform(rng, 0.2, 1.0));
  for (int c = 0; c < C; c++) {
    st[c] = (float)(st[c] / psum);
    st[C + c] = c == C - 1 && C > 1 ? 1e-8f : (float)fc_test_rng_uniform(rng, 0.05, 0.5);
  }
  fc_test_to_double(q, qd, n);
  fc_test_to_double(st, std, ns);
  fc_gbuf gq = fc_gbuf_from_floats(dev, "q", q, n), gs = fc_gbuf_from_floats(dev, "state", st, ns);
  fc_gbuf go = fc_gbuf_alloc(dev, "out", n, 4);
  const float m = 0.75f;
  FC_CHECK_OK(fc_dist_align_update(dev, B, C, gq.view, m, gs.view));
  FC_CHECK_OK(fc_dist_align_apply(dev, B, C, gq.view, gs.view, in_place ? gq.view : go.view));
  fc_ref_dist_align_update(B, C, qd, m, std);
  fc_ref_dist_align_apply(B, C, qd, std, in_place ? qd : outd);
  char what[96];
  fc_test_expect_download(dev, &gs, st, std, ns, FC_NMSE_FORWARD, "dist_align state B=%d C=%d", B,
                          C);
  fc_gbuf_download(dev, in_place ? &gq : &go, out);
  snprintf(what, sizeof what, "dist_align apply B=%d C=%d%s", B, C, in_place ? " in place" : "");
  fc_test_expect_close(what, out, in_place ? qd : outd, n, FC_NMSE_FORWARD);
  for (int b = 0; b < B; b++) {
    double s = 0;
    for (int c = 0; c < C; c++) s += out[(size_t)b * C + c];
    ck_assert_msg(fabs(s - 1.0) < 1e-5, "%s: row %d sums to %g", what, b, s);
  }
  fc_gbuf_free(&gq), fc_gbuf_free(&gs), fc_gbuf_free(&go);
  free(q), free(out), free(st), free(qd), free(outd), free(std);
}

void fc_test_dist_align(fc_device *dev) {
  /* Hand-made: prior uniform over 2 classes, p̄ = (0.75, 0.25) after the update with m = 0
   * from the batch's mean; a row (0.6, 0.4) becomes (0.6/0.75, 0.4/0.25)/Σ = (1/3, 2/3). */
  const float q[4] = {0.6f, 0.4f, 0.9f, 0.1f}, st0[4] = {0.5f, 0.5f, 0.5f, 0.5f};
  fc_gbuf gq = fc_gbuf_from_floats(dev, "q", q, 4), gs = fc_gbuf_from_floats(dev, "state", st0, 4);
  FC_CHECK_OK(fc_dist_align_update(dev, 2, 2, gq.view, 0.0f, gs.view));
  FC_CHECK_OK(fc_dist_align_apply(dev, 2, 2, gq.view, gs.view, gq.view));
  float o[4], st[4];
  fc_gbuf_download(dev, &gq, o), fc_gbuf_download(dev, &gs, st);
  ck_assert_float_eq_tol(st[2], 0.75f, 1e-6f);
  ck_assert_float_eq_tol(st[3], 0.25f, 1e-6f);
  ck_assert_float_eq_tol(o[0], 1.0f / 3.0f, 1e-6f);
  ck_assert_float_eq_tol(o[1], 2.0f / 3.0f, 1e-6f);
  ck_assert_float_eq_tol(o[2], 0.75f, 1e-6f); /* (1.2, 0.4)/1.6 */
  ck_assert_float_eq_tol(o[3], 0.25f, 1e-6f);
  /* A row of zeros is copied, not divided by 0. */
  const float zero[2] = {0, 0};
  fc_gbuf gz = fc_gbuf_from_floats(dev, "zero", zero, 2);
  FC_CHECK_OK(fc_dist_align_apply(dev, 1, 2, gz.view, gs.view, gz.view));
  fc_gbuf_download(dev, &gz, o);
  ck_assert(o[0] == 0.0f && o[1] == 0.0f);
  fc_gbuf_free(&gq), fc_gbuf_free(&gs), fc_gbuf_free(&gz);

  fc_test_rng rng = fc_test_rng_make(404);
  static const int batches[] = {1, 3, 31, 33, 63},
                   classes[] = {1, 7, 8, 16}; /* random_probs: C ≤ 16 */
  for (int bi = 0; bi < 5; bi++)
    for (int ci = 0; ci < 4; ci++)
      run_dist_align(dev, &rng, batches[bi], classes[ci], (bi + ci) % 2);

  fc_gbuf g = fc_gbuf_alloc(dev, "any", 64, 4);
  ck_assert_int_eq(fc_dist_align_update(dev, 2, 7, g.view, 1.5f, g.view), FC_ERR_INVALID_ARG);
  ck_assert_int_eq(fc_dist_align_apply(dev, 1000, 7, g.view, g.view, g.view),
                   FC_ERR_INVALID_ARG); /* q too small */
  fc_gbuf_free(&g);
}
