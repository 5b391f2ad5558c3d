/* Host side of cl/prelu.cl. */
#include "fercl/ops_vision.h"
#include "ops/spatial.h"

fc_status fc_prelu_forward(fc_device *dev, fc_shape4 s, fc_view x, fc_view slope, fc_view y) {
  const char *op = "prelu_forward";
  FC_TRY(fc_ops_check_shape4(op, s, "x"));
  FC_TRY(fc_ops_check_view(op, "x", x, fc_shape4_count(s)));
  FC_TRY(fc_ops_check_view(op, "y", y, fc_shape4_count(s)));
  FC_TRY(fc_ops_check_view(op, "slope", slope, (size_t)s.c));
  cl_kernel kernel = NULL;
  int cpu = dev->cpu_kernels; /* plane variant (cl/prelu.cl) */
  FC_TRY(fc_device_kernel(dev, "prelu", "", cpu ? "prelu_forward_cpu" : "prelu_forward", &kernel));
  size_t hw = (size_t)s.h * s.w, count = (size_t)s.n * hw;
  const fc_kernel_arg args[] = {FC_ARG_VIEW_MEM(x),
                                FC_ARG_VIEW_OFF(x),
                                FC_ARG_VIEW_MEM(y),
                                FC_ARG_VIEW_OFF(y),
                                FC_ARG_VIEW_MEM(slope),
                                FC_ARG_VIEW_OFF(slope),
                                FC_ARG_UINT(fc_shape4_stride_n(s)),
                                FC_ARG_UINT(fc_shape4_stride_c(s)),
                                FC_ARG_UINT(hw),
                                FC_ARG_UINT(count),
                                FC_ARG_UINT(s.c)};
  return fc_ops_launch_2d(dev, kernel, op, cpu ? (size_t)s.n : count, (size_t)s.c, args,
                          FC_NARGS(args));
}
