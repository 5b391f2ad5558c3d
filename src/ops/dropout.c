/* Host side of cl/dropout.cl. */
#include <math.h>

#include "ops/spatial.h"

uint32_t fc_dropout_keep_threshold(double p_drop) {
  double keep = 1.0 - p_drop;
  if (!(keep > 0.0)) return 0;
  if (keep >= 1.0) return 1u << 24;
  return (uint32_t)floor(keep * 16777216.0 + 0.5); /* 24-bit uniforms below this are kept */
}

static fc_status apply(fc_device *dev, const char *op, fc_view x, fc_view y, size_t n, float p_drop,
                       uint64_t seed) {
  if (!(p_drop >= 0.0f && p_drop <= 1.0f))
    return fc_errorf(FC_ERR_INVALID_ARG, "%s: drop probability %g is outside [0, 1]", op,
                     (double)p_drop);
  FC_TRY(fc_ops_check_view(op, "input", x, n));
  FC_TRY(fc_ops_check_view(op, "output", y, n));
  if (n == 0) return FC_OK;
  float scale = p_drop < 1.0f ? (float)(1.0 / (1.0 - (double)p_drop)) : 0.0f;
  cl_kernel k = NULL;
  FC_TRY(fc_device_kernel(dev, "dropout", "", "dropout_apply", &k));
  const fc_kernel_arg args[] = {FC_ARG_VIEW_MEM(x),
                                FC_ARG_VIEW_OFF(x),
                                FC_ARG_VIEW_MEM(y),
                                FC_ARG_VIEW_OFF(y),
                                FC_ARG_UINT(n),
                                FC_ARG_UINT(fc_dropout_keep_threshold(p_drop)),
                                FC_ARG_FLOAT(scale),
                                FC_ARG_UINT((uint32_t)seed),
                                FC_ARG_UINT((uint32_t)(seed >> 32))};
  return fc_launch_1d(dev, k, op, n, args, FC_NARGS(args));
}

fc_status fc_dropout_forward(fc_device *dev, fc_view x, fc_view y, size_t n, float p_drop,
                             uint64_t seed, int training) {
  const char *op = "dropout_forward";
  if (training) return apply(dev, op, x, y, n, p_drop, seed);
  FC_TRY(fc_ops_check_view(op, "x", x, n));
  FC_TRY(fc_ops_check_view(op, "y", y, n));
  if (n == 0 || (x.mem == y.mem && x.offset == y.offset)) return FC_OK;
  return fc_buffer_copy(dev, x.mem, x.offset * sizeof(float), y.mem, y.offset * sizeof(float),
                        n * sizeof(float));
}

fc_status fc_dropout_backward(fc_device *dev, fc_view dy, fc_view dx, size_t n, float p_drop,
                              uint64_t seed) {
  return apply(dev, "dropout_backward", dy, dx, n, p_drop, seed);
}
