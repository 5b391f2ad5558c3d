/* The workloads bench and tune time (perf_internal.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "device/runtime.h"
#include "fercl/perf.h"
#include "net/graph.h"
#include "perf/perf_internal.h"

double fc_perf_now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

fc_status fc_perf_time(fc_device *dev, fc_perf_fn fn, void *ctx, double budget_s, double *min_ms,
                       double *median_ms, int *reps_out) {
  FC_TRY(fn(dev, ctx)); /* warm-up: builds kernels */
  FC_TRY(fc_device_finish(dev));
  /* Time a second run to choose the repetition count. */
  double t0 = fc_perf_now_s();
  FC_TRY(fn(dev, ctx));
  FC_TRY(fc_device_finish(dev));
  double one = fc_perf_now_s() - t0;
  int reps = one > 0 ? (int)(budget_s / one) : 50;
  if (reps < 3) reps = 3;
  if (reps > 50) reps = 50;
  double t[50];
  for (int r = 0; r < reps; r++) {
    t0 = fc_perf_now_s();
    FC_TRY(fn(dev, ctx));
    FC_TRY(fc_device_finish(dev));
    t[r] = (fc_perf_now_s() - t0) * 1e3;
  }
  qsort(t, (size_t)reps, sizeof t[0], cmp_double);
  *min_ms = t[0];
  *median_ms = t[reps / 2];
  if (reps_out) *reps_out = reps;
  return FC_OK;
}

fc_status fc_perf_conv_shapes(const fc_net_config *cfg, int batch, fc_perf_conv *out, int *n) {
  *n = 0;
  fc_graph g;
  memset(&g, 0, sizeof g);
  FC_TRY(fc_graph_build(cfg, &g));
  for (int i = 0; i < g.n_layers; i++) {
    const fc_layer *l = &g.layers[i];
    if (l->kind != FC_LAYER_CONV) continue;
    const fc_slot *xs = &g.slots[l->x], *ys = &g.slots[l->y];
    fc_conv2d_desc d = {batch, xs->c, xs->h,     xs->w,  ys->c,
                        l->k,  l->k,  l->stride, l->pad, FC_LAYOUT_CNHW};
    int found = -1;
    for (int j = 0; j < *n && found < 0; j++)
      if (memcmp(&out[j].d, &d, sizeof d) == 0 && out[j].need_dx == (l->x > 0)) found = j;
    if (found >= 0) {
      out[found].count++;
      continue;
    }
    if (*n == FC_PERF_MAX_CONVS) break;
    fc_perf_conv *c = &out[(*n)++];
    memset(c, 0, sizeof *c);
    c->d = d;
    c->count = 1;
    c->need_dx = l->x > 0;
    memcpy(c->name, l->name, sizeof c->name);
  }
  fc_graph_free(&g);
  return FC_OK;
}

#define CONV_WS_CAP ((size_t)32 << 20)

size_t fc_perf_conv_workspace(const fc_conv2d_desc *d) {
  size_t full = fc_conv2d_workspace_size(d, 0), one = fc_conv2d_workspace_size(d, 1);
  return full < CONV_WS_CAP ? full : (one > CONV_WS_CAP ? one : CONV_WS_CAP);
}

double fc_perf_conv_flops(const fc_conv2d_desc *d) {
  double nw = (double)d->c_out * d->c_in * d->kh * d->kw;
  return 2.0 * nw * (double)(fc_shape4_count(fc_conv2d_out_shape(d)) / (size_t)d->c_out);
}

fc_status fc_perf_conv_buffers_alloc(fc_device *dev, const fc_perf_conv *convs, int n,
                                     const char *what, fc_perf_conv_buffers *out) {
  memset(out, 0, sizeof *out);
  size_t max_x = 1, max_y = 1, max_w = 1, max_ws = 1;
  for (int i = 0; i < n; i++) {
    const fc_conv2d_desc *d = &convs[i].d;
    size_t nx = fc_shape4_count(fc_conv2d_in_shape(d)),
           ny = fc_shape4_count(fc_conv2d_out_shape(d));
    size_t nw = (size_t)d->c_out * d->c_in * d->kh * d->kw;
    size_t ws = fc_perf_conv_workspace(d);
    if (nx > max_x) max_x = nx;
    if (ny > max_y) max_y = ny;
    if (nw > max_w) max_w = nw;
    if (ws > max_ws) max_ws = ws;
  }
  out->ws_floats = max_ws;
  char label[64];
  snprintf(label, sizeof label, "%s x", what);
  FC_TRY(fc_buffer_alloc(dev, max_x * 4, label, &out->x));
  snprintf(label, sizeof label, "%s y", what);
  FC_TRY(fc_buffer_alloc(dev, max_y * 4, label, &out->y));
  snprintf(label, sizeof label, "%s w", what);
  FC_TRY(fc_buffer_alloc(dev, max_w * 4, label, &out->w));
  snprintf(label, sizeof label, "%s workspace", what);
  FC_TRY(fc_buffer_alloc(dev, max_ws * 4, label, &out->ws));
  FC_TRY(fc_buffer_fill_zero(dev, out->x, 0, max_x * 4));
  FC_TRY(fc_buffer_fill_zero(dev, out->y, 0, max_y * 4));
  return fc_buffer_fill_zero(dev, out->w, 0, max_w * 4);
}

void fc_perf_conv_buffers_free(fc_perf_conv_buffers *b) {
  fc_buffer_release(&b->x), fc_buffer_release(&b->y), fc_buffer_release(&b->w);
  fc_buffer_release(&b->ws);
}

fc_status fc_perf_conv_pass(fc_device *dev, const fc_conv2d_desc *d, int pass,
                            const fc_perf_conv_buffers *b) {
  fc_view none = {0};
  fc_view x = fc_view_of(b->x, 0), y = fc_view_of(b->y, 0), w = fc_view_of(b->w, 0);
  fc_view ws = fc_view_of(b->ws, 0);
  if (pass == 0) return fc_conv2d_forward(dev, d, x, w, none, y, ws, b->ws_floats);
  if (pass == 1) return fc_conv2d_backward_data(dev, d, y, w, x, ws, b->ws_floats);
  return fc_conv2d_backward_weights(dev, d, x, y, w, none, 0, ws, b->ws_floats);
}

fc_status fc_perf_bn_relu(fc_device *dev, fc_shape4 s, int backward, fc_view x, fc_view y,
                          fc_view dy, fc_view dx, fc_view sm, fc_view ws, size_t ws_floats) {
  fc_view none = {0};
  size_t C = (size_t)s.c;
  fc_batchnorm_params bp = {
      sm, fc_view_add(sm, C), fc_view_add(sm, 2 * C), fc_view_add(sm, 3 * C), 0.1f, 1e-5f, NULL};
  fc_view mean = fc_view_add(sm, 4 * C), invstd = fc_view_add(sm, 5 * C);
  if (!backward)
    return fc_batchnorm_forward_train(dev, s, x, &bp, mean, invstd, FC_BN_RELU, none, y, ws,
                                      ws_floats);
  return fc_batchnorm_backward(dev, s, x, dy, &bp, mean, invstd, FC_BN_RELU, y, none, dx,
                               fc_view_add(sm, 6 * C), fc_view_add(sm, 7 * C), 0, ws, ws_floats);
}

void fc_perf_tuning_info_get(const fc_device *device, fc_perf_tuning_info *out) {
  memset(out, 0, sizeof *out);
  fc_gemm_params_describe(&device->tuning.gemm, out->gemm, sizeof out->gemm);
  out->tuned = device->tuning.tuned;
  snprintf(out->source, sizeof out->source, "%s", device->tuning.source);
}
