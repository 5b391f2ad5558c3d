/* Host side of cl/pool.cl: max-pool and global average pool. */
#include "ops/spatial.h"

/* A tensor's batch and channel strides and plane size, as the pool kernels take them. */
#define POOL_PLANES(s)                                                                       \
  FC_ARG_UINT(fc_shape4_stride_n(s)), FC_ARG_UINT(fc_shape4_stride_c(s)), FC_ARG_INT((s).h), \
      FC_ARG_INT((s).w)

fc_shape4 fc_pool2d_out_shape(fc_shape4 in, int k, int stride, int pad) {
  fc_shape4 out = in;
  if (k < 1 || stride < 1) {
    out.h = out.w = 0;
    return out;
  }
  out.h = (in.h + 2 * pad - k) / stride + 1;
  out.w = (in.w + 2 * pad - k) / stride + 1;
  return out;
}

static fc_status check_pool(const char *op, fc_shape4 in, int k, int stride, int pad) {
  FC_TRY(fc_ops_check_shape4(op, in, "x"));
  if (k < 1 || stride < 1 || pad < 0 || pad > k / 2)
    return fc_errorf(FC_ERR_INVALID_ARG,
                     "%s: window %d stride %d pad %d; need k ≥ 1, stride ≥ 1 and 0 ≤ pad ≤ k/2 "
                     "(so no window is padding only)",
                     op, k, stride, pad);
  if (in.h + 2 * pad < k || in.w + 2 * pad < k)
    return fc_errorf(FC_ERR_INVALID_ARG,
                     "%s: a %dx%d window does not fit a %dx%d input padded by %d", op, k, k, in.h,
                     in.w, pad);
  return FC_OK;
}

fc_status fc_maxpool2d_launch(fc_device *dev, const char *op, fc_shape4 in, fc_shape4 out, int k,
                              int stride, int pad, fc_view x, fc_view y, fc_view argmax) {
  cl_kernel kernel = NULL;
  int cpu = dev->cpu_kernels; /* row variant (cl/pool.cl) */
  const char *name = !cpu                                ? "maxpool_forward"
                     : k == 3 && stride == 2 && pad == 1 ? "maxpool3s2_forward_cpu"
                                                         : "maxpool_forward_cpu";
  FC_TRY(fc_device_kernel(dev, "pool", "", name, &kernel));
  size_t count = (size_t)out.n * out.h * out.w;
  const fc_kernel_arg args[] = {
      FC_ARG_VIEW(x),     POOL_PLANES(in),   FC_ARG_VIEW(y), FC_ARG_VIEW(argmax), POOL_PLANES(out),
      FC_ARG_UINT(count), FC_ARG_UINT(in.c), FC_ARG_INT(k),  FC_ARG_INT(stride),  FC_ARG_INT(pad)};
  /* The CPU variants take a work-item per output row (the rest would return at once). */
  return fc_ops_launch_2d(dev, kernel, op, cpu ? (size_t)out.n * out.h : count, (size_t)in.c, args,
                          FC_NARGS(args));
}

fc_status fc_maxpool2d_forward(fc_device *dev, fc_shape4 in, int k, int stride, int pad, fc_view x,
                               fc_view y, fc_view argmax) {
  const char *op = "maxpool2d_forward";
  FC_TRY(check_pool(op, in, k, stride, pad));
  fc_shape4 out = fc_pool2d_out_shape(in, k, stride, pad);
  FC_TRY(fc_ops_check_view(op, "x", x, fc_shape4_count(in)));
  FC_TRY(fc_ops_check_view(op, "y", y, fc_shape4_count(out)));
  FC_TRY(fc_ops_check_view(op, "argmax", argmax, fc_shape4_count(out)));
  return fc_maxpool2d_launch(dev, op, in, out, k, stride, pad, x, y, argmax);
}

fc_status fc_maxpool2d_backward(fc_device *dev, fc_shape4 in, int k, int stride, int pad,
                                fc_view argmax, fc_view dy, fc_view dx) {
  const char *op = "maxpool2d_backward";
  FC_TRY(check_pool(op, in, k, stride, pad));
  fc_shape4 out = fc_pool2d_out_shape(in, k, stride, pad);
  FC_TRY(fc_ops_check_view(op, "dx", dx, fc_shape4_count(in)));
  FC_TRY(fc_ops_check_view(op, "dy", dy, fc_shape4_count(out)));
  FC_TRY(fc_ops_check_view(op, "argmax", argmax, fc_shape4_count(out)));
  cl_kernel kernel = NULL;
  int cpu = dev->cpu_kernels; /* plane variant (cl/pool.cl) */
  FC_TRY(fc_device_kernel(dev, "pool", "", cpu ? "maxpool_backward_cpu" : "maxpool_backward",
                          &kernel));
  size_t count = (size_t)in.n * in.h * in.w;
  const fc_kernel_arg args[] = {FC_ARG_VIEW(argmax), FC_ARG_VIEW(dy), POOL_PLANES(out),
                                FC_ARG_VIEW(dx),     POOL_PLANES(in), FC_ARG_UINT(count),
                                FC_ARG_UINT(in.c),   FC_ARG_INT(k),   FC_ARG_INT(stride),
                                FC_ARG_INT(pad)};
  return fc_ops_launch_2d(dev, kernel, op, cpu ? (size_t)in.n : count, (size_t)in.c, args,
                          FC_NARGS(args));
}

/* What global_avgpool_forward and _backward check: the input shape, the input-sized view
 * (x or dx) and the N·C one (y or dy). */
static fc_status check_global_avgpool(const char *op, fc_shape4 in, const char *plane_name,
                                      fc_view planes, const char *mean_name, fc_view means) {
  FC_TRY(fc_ops_check_shape4(op, in, "x"));
  FC_TRY(fc_ops_check_view(op, plane_name, planes, fc_shape4_count(in)));
  return fc_ops_check_view(op, mean_name, means, (size_t)in.n * in.c);
}

fc_status fc_global_avgpool_forward(fc_device *dev, fc_shape4 in, fc_view x, fc_view y) {
  const char *op = "global_avgpool_forward";
  FC_TRY(check_global_avgpool(op, in, "x", x, "y", y));
  cl_kernel kernel = NULL;
  FC_TRY(fc_device_kernel(dev, "pool", "", "global_avgpool_forward", &kernel));
  const fc_kernel_arg args[] = {FC_ARG_VIEW(x),
                                FC_ARG_UINT(fc_shape4_stride_n(in)),
                                FC_ARG_UINT(fc_shape4_stride_c(in)),
                                FC_ARG_UINT((size_t)in.h * in.w),
                                FC_ARG_UINT(in.n),
                                FC_ARG_UINT(in.c),
                                FC_ARG_VIEW(y)};
  return fc_ops_launch_2d(dev, kernel, op, (size_t)in.n, (size_t)in.c, args, FC_NARGS(args));
}

fc_status fc_global_avgpool_backward(fc_device *dev, fc_shape4 in, fc_view dy, fc_view dx) {
  const char *op = "global_avgpool_backward";
  FC_TRY(check_global_avgpool(op, in, "dx", dx, "dy", dy));
  cl_kernel kernel = NULL;
  FC_TRY(fc_device_kernel(dev, "pool", "", "global_avgpool_backward", &kernel));
  size_t hw = (size_t)in.h * in.w, count = (size_t)in.n * hw;
  const fc_kernel_arg args[] = {FC_ARG_VIEW(dy),
                                FC_ARG_VIEW(dx),
                                FC_ARG_UINT(fc_shape4_stride_n(in)),
                                FC_ARG_UINT(fc_shape4_stride_c(in)),
                                FC_ARG_UINT(hw),
                                FC_ARG_UINT(count),
                                FC_ARG_UINT(in.c)};
  return fc_ops_launch_2d(dev, kernel, op, count, (size_t)in.c, args, FC_NARGS(args));
}
