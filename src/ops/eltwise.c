/* Host side of cl/eltwise.cl. */
#include "ops/ops_internal.h"

fc_status fc_ops_check_u32(const char *op, size_t value, const char *what) {
  if (value > 0xffffffffu)
    return fc_errorf(FC_ERR_LIMIT, "%s: %s = %zu does not fit the kernels' 32-bit indices", op,
                     what, value);
  return FC_OK;
}

static fc_status launch_eltwise(fc_device *dev, const char *name, size_t n,
                                const fc_kernel_arg *args, int nargs) {
  FC_TRY(fc_ops_check_u32(name, n, "element count"));
  cl_kernel k = NULL;
  FC_TRY(fc_device_kernel(dev, "eltwise", "", name, &k));
  return fc_launch_1d(dev, k, name, n, args, nargs);
}

fc_status fc_relu_forward(fc_device *dev, fc_view x, fc_view y, size_t n) {
  const fc_kernel_arg args[] = {FC_ARG_VIEW_MEM(x), FC_ARG_VIEW_OFF(x), FC_ARG_VIEW_MEM(y),
                                FC_ARG_VIEW_OFF(y), FC_ARG_UINT(n)};
  return launch_eltwise(dev, "relu_forward", n, args, FC_NARGS(args));
}

fc_status fc_relu_backward(fc_device *dev, fc_view y, fc_view dy, fc_view dx, size_t n) {
  const fc_kernel_arg args[] = {FC_ARG_VIEW_MEM(y),  FC_ARG_VIEW_OFF(y),  FC_ARG_VIEW_MEM(dy),
                                FC_ARG_VIEW_OFF(dy), FC_ARG_VIEW_MEM(dx), FC_ARG_VIEW_OFF(dx),
                                FC_ARG_UINT(n)};
  return launch_eltwise(dev, "relu_backward", n, args, FC_NARGS(args));
}

fc_status fc_add_forward(fc_device *dev, fc_view a, fc_view b, fc_view y, size_t n) {
  const fc_kernel_arg args[] = {FC_ARG_VIEW_MEM(a), FC_ARG_VIEW_OFF(a), FC_ARG_VIEW_MEM(b),
                                FC_ARG_VIEW_OFF(b), FC_ARG_VIEW_MEM(y), FC_ARG_VIEW_OFF(y),
                                FC_ARG_UINT(n)};
  return launch_eltwise(dev, "add_forward", n, args, FC_NARGS(args));
}

fc_status fc_axpby(fc_device *dev, float alpha, fc_view x, float beta, fc_view y, size_t n) {
  const fc_kernel_arg args[] = {FC_ARG_FLOAT(alpha), FC_ARG_VIEW_MEM(x), FC_ARG_VIEW_OFF(x),
                                FC_ARG_FLOAT(beta),  FC_ARG_VIEW_MEM(y), FC_ARG_VIEW_OFF(y),
                                FC_ARG_UINT(n)};
  return launch_eltwise(dev, "axpby", n, args, FC_NARGS(args));
}

fc_status fc_fill(fc_device *dev, fc_view y, float value, size_t n) {
  const fc_kernel_arg args[] = {FC_ARG_VIEW_MEM(y), FC_ARG_VIEW_OFF(y), FC_ARG_FLOAT(value),
                                FC_ARG_UINT(n)};
  return launch_eltwise(dev, "fill", n, args, FC_NARGS(args));
}
