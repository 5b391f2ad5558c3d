/* Host side of cl/rfd.cl: random feature-map dropout (RFD). */
#include "ops/op_checks.h"
#include "ops/ref/rng.h"

int fc_rfd_default_block(int h) { return (h + 2) / 3; }

static fc_status check(const char *op, fc_shape4 s, int block, fc_view params) {
  FC_TRY(fc_ops_check_shape4(op, s, "shape"));
  if (block < 1)
    return fc_errorf(FC_ERR_INVALID_ARG, "%s: block size %d must be at least 1", op, block);
  return fc_ops_check_view(op, "params", params, 4 * (size_t)s.n);
}

static fc_status apply(fc_device *dev, const char *tag, fc_shape4 s, int block, fc_view params,
                       fc_view src, fc_view dst) {
  const cl_uint bh = (cl_uint)(block < s.h ? block : s.h),
                bw = (cl_uint)(block < s.w ? block : s.w);
  const size_t hw = (size_t)s.h * s.w, kept = hw - (size_t)bh * bw;
  /* A full-map block is never dropped (rfd_draw), so the scale is then unused. */
  const float scale = kept ? (float)((double)hw / (double)kept) : 1.0f;
  cl_kernel k;
  FC_TRY(fc_device_kernel(dev, "rfd", "", "rfd_apply", &k));
  const fc_kernel_arg args[] = {FC_ARG_VIEW(src),
                                FC_ARG_VIEW(params),
                                FC_ARG_UINT(s.n),
                                FC_ARG_UINT(s.c),
                                FC_ARG_UINT(s.h),
                                FC_ARG_UINT(s.w),
                                FC_ARG_UINT(fc_shape4_stride_n(s)),
                                FC_ARG_UINT(fc_shape4_stride_c(s)),
                                FC_ARG_UINT(bh),
                                FC_ARG_UINT(bw),
                                FC_ARG_FLOAT(scale),
                                FC_ARG_VIEW(dst)};
  return fc_launch_1d(dev, k, tag, fc_shape4_count(s), args, FC_NARGS(args));
}

fc_status fc_rfd_forward(fc_device *dev, fc_shape4 s, int block, float p, uint64_t seed,
                         uint64_t step, uint32_t layer, fc_view x, fc_view y, fc_view params) {
  const char *op = "rfd_forward";
  FC_TRY(check(op, s, block, params));
  if (!(p >= 0.0f && p <= 1.0f))
    return fc_errorf(FC_ERR_INVALID_ARG, "%s: drop probability %g must be in [0, 1]", op,
                     (double)p);
  FC_TRY(fc_ops_check_view(op, "x", x, fc_shape4_count(s)));
  FC_TRY(fc_ops_check_view(op, "y", y, fc_shape4_count(s)));
  const cl_uint bh = (cl_uint)(block < s.h ? block : s.h),
                bw = (cl_uint)(block < s.w ? block : s.w);
  cl_kernel k;
  FC_TRY(fc_device_kernel(dev, "rfd", "", "rfd_draw", &k));
  const fc_kernel_arg draw[] = {FC_ARG_UINT(s.n),
                                FC_ARG_UINT(s.h),
                                FC_ARG_UINT(s.w),
                                FC_ARG_UINT(bh),
                                FC_ARG_UINT(bw),
                                FC_ARG_UINT(fc_philox_prob_threshold(p)),
                                FC_ARG_UINT((uint32_t)seed),
                                FC_ARG_UINT((uint32_t)(seed >> 32)),
                                FC_ARG_UINT((uint32_t)step),
                                FC_ARG_UINT((uint32_t)(step >> 32)),
                                FC_ARG_UINT(fc_philox_stream(FC_RNG_STREAM_RFD, layer)),
                                FC_ARG_VIEW(params)};
  FC_TRY(fc_launch_1d(dev, k, "rfd_draw", (size_t)s.n, draw, FC_NARGS(draw)));
  return apply(dev, "rfd_forward", s, block, params, x, y);
}

fc_status fc_rfd_backward(fc_device *dev, fc_shape4 s, int block, fc_view params, fc_view dy,
                          fc_view dx) {
  const char *op = "rfd_backward";
  FC_TRY(check(op, s, block, params));
  FC_TRY(fc_ops_check_view(op, "dy", dy, fc_shape4_count(s)));
  FC_TRY(fc_ops_check_view(op, "dx", dx, fc_shape4_count(s)));
  return apply(dev, "rfd_backward", s, block, params, dy, dx);
}
