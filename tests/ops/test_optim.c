/* Optimizers against a C reference of PyTorch's update rules, over several steps with
 * a changing learning rate, decay / no-decay segments and an element outside every
 * segment; the EMA teacher update and gradient zeroing. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "op_registry.h"
#include "ops/ref/ref.h"

static const size_t sizes[] = {1, 33, 4099};
#define STEPS 6

/* Segments for n: [0, n/2) with decay, [n/2 + 1, n) without; element n/2 untouched.
 * n = 1: NULL (everything, with decay). */
static int make_segments(size_t n, fc_optim_segment seg[2]) {
  if (n == 1) return 0;
  seg[0] = (fc_optim_segment){0, n / 2, 1};
  seg[1] = (fc_optim_segment){n / 2 + 1, n - n / 2 - 1, 0};
  return 2;
}

/* Reference update of the same segments: wd_scale 1 or 0, or untouched. */
static int ref_decay_of(size_t n, size_t i) {
  if (n == 1) return 1;
  return i < n / 2 ? 1 : i == n / 2 ? -1 : 0;
}

static double lr_at(int t) { return 0.05 * (0.5 + 0.5 * cos(3.14159 * t / STEPS)); }

typedef enum { OPT_SGD, OPT_ADAM } opt_kind;

static void run_optimizer(fc_device *dev, opt_kind kind, const fc_sgd_config *sgd,
                          const fc_adam_config *adam, const char *name) {
  fc_test_rng rng = fc_test_rng_make(501);
  for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
    const size_t n = sizes[si];
    if (fc_test_over_budget(n)) continue;
    fc_optim_segment seg[2];
    const int nseg = make_segments(n, seg);
    float *p = fc_test_alloc_floats(n), *g = fc_test_alloc_floats(n), *o = fc_test_alloc_floats(n);
    double *pd = fc_test_alloc_doubles(n), *gd = fc_test_alloc_doubles(n);
    double *s1 = fc_test_alloc_doubles(n), *s2 = fc_test_alloc_doubles(n);
    fc_test_fill_uniform(&rng, p, pd, n, -1, 1);
    fc_gbuf gp = fc_gbuf_from_floats(dev, "params", p, n), gg = fc_gbuf_alloc(dev, "grads", n, 4);
    fc_gbuf gs1 = fc_gbuf_alloc(dev, "state1", n, 4), gs2 = fc_gbuf_alloc(dev, "state2", n, 4);
    FC_CHECK_OK(fc_zero_grad(dev, gs1.view, n)); /* states start at zero, like PyTorch's */
    FC_CHECK_OK(fc_zero_grad(dev, gs2.view, n));
    for (int t = 1; t <= STEPS; t++) {
      fc_test_fill_uniform(&rng, g, gd, n, -1, 1);
      fc_gbuf_upload(dev, &gg, g);
      const float lr = (float)lr_at(t);
      if (kind == OPT_SGD)
        FC_CHECK_OK(fc_sgd_step(dev, sgd, nseg ? seg : NULL, nseg, n, gp.view, gg.view, gs1.view,
                                lr, (uint64_t)t));
      else
        FC_CHECK_OK(fc_adam_step(dev, adam, nseg ? seg : NULL, nseg, n, gp.view, gg.view, gs1.view,
                                 gs2.view, lr, (uint64_t)t));
      for (size_t i = 0; i < n; i++) {
        int decay = ref_decay_of(n, i);
        if (decay < 0) continue;
        if (kind == OPT_SGD)
          fc_ref_sgd_step(sgd, decay, 1, pd + i, gd + i, s1 + i, lr, (uint64_t)t);
        else
          fc_ref_adam_step(adam, decay, 1, pd + i, gd + i, s1 + i, s2 + i, lr, (uint64_t)t);
      }
    }
    char what[96];
    snprintf(what, sizeof what, "%s n=%zu after %d steps: params", name, n, STEPS);
    fc_gbuf_download(dev, &gp, o);
    fc_test_expect_close(what, o, pd, n, FC_NMSE_FORWARD);
    if (n > 1) ck_assert_msg(o[n / 2] == p[n / 2], "%s: element outside every segment moved", what);
    if (kind == OPT_ADAM || sgd->momentum != 0.0f) {
      snprintf(what, sizeof what, "%s n=%zu: first state", name, n);
      fc_gbuf_download(dev, &gs1, o);
      fc_test_expect_close(what, o, s1, n, FC_NMSE_FORWARD);
    }
    if (kind == OPT_ADAM) {
      snprintf(what, sizeof what, "%s n=%zu: second state", name, n);
      fc_gbuf_download(dev, &gs2, o);
      fc_test_expect_close(what, o, s2, n, FC_NMSE_FORWARD);
    }
    fc_gbuf_free(&gp), fc_gbuf_free(&gg), fc_gbuf_free(&gs1), fc_gbuf_free(&gs2);
    free(p), free(g), free(o), free(pd), free(gd), free(s1), free(s2);
  }
}

void fc_test_sgd(fc_device *dev) {
  const fc_sgd_config plain = {0.0f, 0.0f, 5e-2f, 0};
  const fc_sgd_config damped = {0.9f, 0.1f, 5e-2f, 0};
  const fc_sgd_config nesterov = {0.9f, 0.0f, 5e-2f, 1};
  run_optimizer(dev, OPT_SGD, &plain, NULL, "sgd");
  run_optimizer(dev, OPT_SGD, &damped, NULL, "sgd momentum+dampening");
  run_optimizer(dev, OPT_SGD, &nesterov, NULL, "sgd nesterov");

  fc_gbuf g = fc_gbuf_alloc(dev, "any", 64, 4);
  const fc_sgd_config bad = {0.9f, 0.1f, 0.0f, 1}; /* nesterov with dampening */
  ck_assert_int_eq(fc_sgd_step(dev, &bad, NULL, 0, 64, g.view, g.view, g.view, 0.1f, 1),
                   FC_ERR_INVALID_ARG);
  const fc_optim_segment overlap[2] = {{0, 10, 1}, {5, 10, 0}};
  ck_assert_int_eq(fc_sgd_step(dev, &nesterov, overlap, 2, 64, g.view, g.view, g.view, 0.1f, 1),
                   FC_ERR_INVALID_ARG);
  ck_assert_int_eq(fc_sgd_step(dev, &nesterov, NULL, 0, 64, g.view, g.view, g.view, 0.1f, 0),
                   FC_ERR_INVALID_ARG);
  ck_assert_int_eq(fc_sgd_step(dev, &nesterov, NULL, 0, 1000, g.view, g.view, g.view, 0.1f, 1),
                   FC_ERR_INVALID_ARG);
  fc_gbuf_free(&g);
}

void fc_test_adam(fc_device *dev) {
  const fc_adam_config adam = {0.9f, 0.999f, 1e-8f, 1e-2f, 0};
  const fc_adam_config adamw = {0.9f, 0.999f, 1e-8f, 1e-2f, 1};
  const fc_adam_config fast = {0.5f, 0.75f, 1e-3f, 0.1f, 1};
  run_optimizer(dev, OPT_ADAM, NULL, &adam, "adam");
  run_optimizer(dev, OPT_ADAM, NULL, &adamw, "adamw");
  run_optimizer(dev, OPT_ADAM, NULL, &fast, "adamw betas 0.5/0.75");
}

void fc_test_ema(fc_device *dev) {
  fc_test_rng rng = fc_test_rng_make(502);
  for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
    const size_t n = sizes[si];
    if (fc_test_over_budget(n)) continue;
    float *t = fc_test_alloc_floats(n), *s = fc_test_alloc_floats(n), *o = fc_test_alloc_floats(n);
    double *td = fc_test_alloc_doubles(n), *sd = fc_test_alloc_doubles(n);
    fc_test_fill_uniform(&rng, t, td, n, -1, 1);
    fc_gbuf gt = fc_gbuf_from_floats(dev, "teacher", t, n),
            gs = fc_gbuf_alloc(dev, "student", n, 4);
    const float ms[3] = {0.0f, 0.9f, 0.999f}; /* m = 0: the warm-up's first copy */
    for (int it = 0; it < 3; it++) {
      fc_test_fill_uniform(&rng, s, sd, n, -1, 1);
      fc_gbuf_upload(dev, &gs, s);
      FC_CHECK_OK(fc_ema_update(dev, gt.view, gs.view, n, ms[it]));
      fc_ref_ema_update(td, sd, n, ms[it]);
    }
    char what[64];
    snprintf(what, sizeof what, "ema n=%zu", n);
    fc_gbuf_download(dev, &gt, o);
    fc_test_expect_close(what, o, td, n, FC_NMSE_FORWARD);
    FC_CHECK_OK(fc_zero_grad(dev, gt.view, n));
    fc_gbuf_download(dev, &gt, o);
    for (size_t i = 0; i < n; i++) ck_assert(o[i] == 0.0f);
    ck_assert_int_eq(fc_ema_update(dev, gt.view, gs.view, n, 1.5f), FC_ERR_INVALID_ARG);
    fc_gbuf_free(&gt), fc_gbuf_free(&gs);
    free(t), free(s), free(o), free(td), free(sd);
  }
}
