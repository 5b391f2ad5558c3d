/* What bench and tune share (src/perf/): the convolutions of a model, the one
 * description of that workload both time. */
#ifndef FERCL_PERF_PERF_INTERNAL_H
#define FERCL_PERF_PERF_INTERNAL_H

#include "fercl/net.h"
#include "fercl/ops.h"

/* One convolution shape of a model at a batch: the first layer that has it,
 * how many layers have it, whether its input needs a gradient (not the
 * network input). */
typedef struct fc_perf_conv {
  fc_conv2d_desc d;
  char name[48];
  int count;
  int need_dx;
} fc_perf_conv;

#define FC_PERF_MAX_CONVS 64

/* The model's unique convolutions in layer order (at most FC_PERF_MAX_CONVS). */
fc_status fc_perf_conv_shapes(const fc_net_config *cfg, int batch, fc_perf_conv *out, int *n);

/* Workspace floats a timed convolution gets: all samples at once up to 32 Mi
 * floats, as the network's plans. */
size_t fc_perf_conv_workspace(const fc_conv2d_desc *d);

/* Multiply-adds x 2 of one convolution. */
double fc_perf_conv_flops(const fc_conv2d_desc *d);

#endif
