/* test_ops --perf: times ops on their declarative cases (op_cases.c) and on
 * the shapes training runs (the model's convolutions: the list `fer-cl bench`
 * and `fer-cl tune` time, src/perf). Prints; asserts nothing about time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fercl/train.h"
#include "op_cases.h"
#include "op_registry.h"
#include "perf/perf_internal.h"

/* Outside Check (no test is running): a failure ends the program with its message. */
#define PERF_OK(expr)                                                       \
  do {                                                                      \
    if ((expr) != FC_OK) {                                                  \
      fprintf(stderr, "test_ops --perf: %s: %s\n", #expr, fc_last_error()); \
      exit(1);                                                              \
    }                                                                       \
  } while (0)

typedef struct conv_pass_ctx {
  const fc_conv2d_desc *d;
  int pass;
  const fc_perf_conv_buffers *buf;
} conv_pass_ctx;

static fc_status conv_pass(fc_device *dev, void *p) {
  conv_pass_ctx *c = p;
  return fc_perf_conv_pass(dev, c->d, c->pass, c->buf);
}

static void time_conv(fc_device *dev, const char *label, const fc_perf_conv *cv) {
  static const char *const passes[] = {"fwd", "bwd-x", "bwd-w"};
  fc_perf_conv_buffers buf;
  PERF_OK(fc_perf_conv_buffers_alloc(dev, cv, 1, "perf", &buf));
  double flops = fc_perf_conv_flops(&cv->d);
  for (int pass = 0; pass < 3; pass++) {
    if (pass == 1 && !cv->need_dx) continue;
    conv_pass_ctx c = {&cv->d, pass, &buf};
    double min_ms = 0, median_ms = 0;
    int reps = 0;
    PERF_OK(fc_perf_time(dev, conv_pass, &c, fc_perf_case_budget_s(), &min_ms, &median_ms, &reps));
    const fc_conv2d_desc *d = &cv->d;
    char shape[64];
    snprintf(shape, sizeof shape, "n%d %dx%dx%d -> %d k%d s%d", d->n, d->c_in, d->h, d->w, d->c_out,
             d->kh, d->stride);
    printf("conv2d %-40s %-28s %-5s %9.3f ms (median %9.3f) %8.1f GFLOP/s\n", label, shape,
           passes[pass], min_ms, median_ms, flops / (min_ms * 1e-3) * 1e-9);
    fflush(stdout);
  }
  fc_perf_conv_buffers_free(&buf);
}

void fc_perf_conv2d(fc_device *dev) {
  for (size_t i = 0; i < fc_conv_case_count; i++) {
    fc_perf_conv cv = {fc_conv_case_desc(&fc_conv_cases[i], FC_LAYOUT_CNHW), "", 1, 1};
    time_conv(dev, fc_conv_cases[i].note, &cv);
  }
  /* The default recipe's model's convolutions at a training batch. */
  fc_train_config recipe;
  fc_train_config_default(&recipe);
  fc_net_config cfg = recipe.net;
  fc_perf_conv convs[FC_PERF_MAX_CONVS];
  int n = 0;
  PERF_OK(fc_perf_conv_shapes(&cfg, fc_perf_case_batch(), convs, &n));
  for (int i = 0; i < n; i++) {
    char label[64];
    snprintf(label, sizeof label, "%s %s (x%d)", cfg.arch, convs[i].name, convs[i].count);
    time_conv(dev, label, &convs[i]);
  }
}
