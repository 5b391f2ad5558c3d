/* What bench and tune share (src/perf/): the convolutions of a model, the one
 * description of that workload both time. */
#ifndef FERCL_PERF_PERF_INTERNAL_H
#define FERCL_PERF_PERF_INTERNAL_H

#include "fercl/net.h"
#include "fercl/ops.h"

typedef fc_status (*fc_perf_fn)(fc_device *dev, void *ctx);

/* Times fn: a warm-up run (builds kernels), then repetitions filling budget_s
 * (at least 3, at most 50), each waited for on its own; min and median in ms. */
fc_status fc_perf_time(fc_device *dev, fc_perf_fn fn, void *ctx, double budget_s, double *min_ms,
                       double *median_ms, int *reps);

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

/* cblas_sgemm of a host BLAS, the comparison of bench's GEMM section and tools/bench_gemm. */
typedef void (*fc_cblas_sgemm_fn)(int, int, int, int, int, int, float, const float *, int,
                                  const float *, int, float, float *, int);
/* The cblas_sgemm of the first library of libs (NULL-terminated) that dlopen finds and that
 * has one; *which names that library. NULL when none. */
fc_cblas_sgemm_fn fc_host_sgemm(const char *const *libs, const char **which);

/* Workspace floats a timed convolution gets: all samples at once up to 32 Mi
 * floats, as the network's plans. */
size_t fc_perf_conv_workspace(const fc_conv2d_desc *d);

/* Multiply-adds x 2 of one convolution. */
double fc_perf_conv_flops(const fc_conv2d_desc *d);

/* Zeroed buffers for the largest of `n` convolutions ("<what> x", ...). */
typedef struct fc_perf_conv_buffers {
  cl_mem x, y, w, ws;
  size_t ws_floats;
} fc_perf_conv_buffers;
fc_status fc_perf_conv_buffers_alloc(fc_device *dev, const fc_perf_conv *convs, int n,
                                     const char *what, fc_perf_conv_buffers *out);
void fc_perf_conv_buffers_free(fc_perf_conv_buffers *b);

/* One pass of a convolution, as training runs it: 0 forward, 1 backward-data,
 * 2 backward-weights. */
fc_status fc_perf_conv_pass(fc_device *dev, const fc_conv2d_desc *d, int pass,
                            const fc_perf_conv_buffers *b);

/* Training-mode batch norm + ReLU of shape s, its parameters and statistics in
 * `small` (8·C floats): forward x → y, or backward (x, dy, y) → dx. */
fc_status fc_perf_bn_relu(fc_device *dev, fc_shape4 s, int backward, fc_view x, fc_view y,
                          fc_view dy, fc_view dx, fc_view small, fc_view ws, size_t ws_floats);

#endif
