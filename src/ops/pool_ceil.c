/* Max-pool with ceil rounding (PyTorch's ceil_mode=True, no padding). The
 * kernels are cl/pool.cl's max-pool: their windows already keep to the part
 * inside the input, so only the output shape differs from floor mode. */
#include "fercl/ops_vision.h"
#include "ops/spatial.h"

fc_shape4 fc_maxpool2d_ceil_out_shape(fc_shape4 in, int k, int stride) {
  fc_shape4 out = in;
  out.h = out.w = 0;
  if (k < 1 || stride < 1 || in.h < k || in.w < k) return out;
  out.h = (in.h - k + stride - 1) / stride + 1;
  out.w = (in.w - k + stride - 1) / stride + 1;
  /* PyTorch: the last window must start inside the input. */
  if ((out.h - 1) * stride >= in.h) out.h--;
  if ((out.w - 1) * stride >= in.w) out.w--;
  return out;
}

fc_status fc_maxpool2d_ceil_forward(fc_device *dev, fc_shape4 in, int k, int stride, fc_view x,
                                    fc_view y, fc_view argmax) {
  const char *op = "maxpool2d_ceil_forward";
  FC_TRY(fc_ops_check_shape4(op, in, "x"));
  if (k < 1 || stride < 1 || in.h < k || in.w < k)
    return fc_errorf(FC_ERR_INVALID_ARG,
                     "%s: window %d stride %d on a %dx%d input; need k ≥ 1, stride ≥ 1 and the "
                     "window inside the input",
                     op, k, stride, in.h, in.w);
  fc_shape4 out = fc_maxpool2d_ceil_out_shape(in, k, stride);
  FC_TRY(fc_ops_check_view(op, "x", x, fc_shape4_count(in)));
  FC_TRY(fc_ops_check_view(op, "y", y, fc_shape4_count(out)));
  FC_TRY(fc_ops_check_view(op, "argmax", argmax, fc_shape4_count(out)));
  cl_kernel kernel = NULL;
  int cpu = dev->cpu_kernels; /* row variant; never the 3x3/2 pad-1 one */
  FC_TRY(fc_device_kernel(dev, "pool", "", cpu ? "maxpool_forward_cpu" : "maxpool_forward",
                          &kernel));
  size_t count = (size_t)out.n * out.h * out.w;
  const fc_kernel_arg args[] = {FC_ARG_VIEW_MEM(x),
                                FC_ARG_VIEW_OFF(x),
                                FC_ARG_UINT(fc_shape4_stride_n(in)),
                                FC_ARG_UINT(fc_shape4_stride_c(in)),
                                FC_ARG_INT(in.h),
                                FC_ARG_INT(in.w),
                                FC_ARG_VIEW_MEM(y),
                                FC_ARG_VIEW_OFF(y),
                                FC_ARG_VIEW_MEM(argmax),
                                FC_ARG_VIEW_OFF(argmax),
                                FC_ARG_UINT(fc_shape4_stride_n(out)),
                                FC_ARG_UINT(fc_shape4_stride_c(out)),
                                FC_ARG_INT(out.h),
                                FC_ARG_INT(out.w),
                                FC_ARG_UINT(count),
                                FC_ARG_UINT(in.c),
                                FC_ARG_INT(k),
                                FC_ARG_INT(stride),
                                FC_ARG_INT(0)};
  return fc_ops_launch_2d(dev, kernel, op, cpu ? (size_t)out.n * out.h : count, (size_t)in.c,
                          args, FC_NARGS(args));
}
