/* The workloads bench and tune time (perf_internal.h). */
#include <stdio.h>
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

void fc_perf_tuning_info_get(const fc_device *device, fc_perf_tuning_info *out) {
  memset(out, 0, sizeof *out);
  fc_gemm_params_describe(&device->tuning.gemm, out->gemm, sizeof out->gemm);
  out->tuned = device->tuning.tuned;
  snprintf(out->source, sizeof out->source, "%s", device->tuning.source);
}
