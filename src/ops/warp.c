/* Host side of cl/warp.cl: affine warp of a uint8 image into uint8 crops. */
#include "fercl/ops_vision.h"
#include "ops/op_checks.h"

fc_status fc_affine_warp(fc_device *dev, fc_view src, int in_channels, int h, int w, fc_view m,
                         int n, int out_channels, int oh, int ow, fc_view y) {
  const char *op = "affine_warp";
  if (in_channels < 1 || h < 1 || w < 1 || n < 1 || oh < 1 || ow < 1)
    return fc_errorf(FC_ERR_INVALID_ARG,
                     "%s: channels %d, image %dx%d, %d outputs of %dx%d; all must be ≥ 1", op,
                     in_channels, h, w, n, oh, ow);
  if (out_channels != in_channels && !(out_channels == 1 && in_channels == 3))
    return fc_errorf(FC_ERR_INVALID_ARG,
                     "%s: %d output channels from %d input channels (same, or 1 from 3)", op,
                     out_channels, in_channels);
  FC_TRY(fc_ops_check_bytes(op, "src", src, (size_t)in_channels * h * w));
  FC_TRY(fc_ops_check_view(op, "m", m, (size_t)n * 6));
  size_t count = (size_t)n * oh * ow;
  FC_TRY(fc_ops_check_bytes(op, "y", y, count * out_channels));
  const fc_kernel_arg args[] = {
      FC_ARG_VIEW_MEM(src), FC_ARG_VIEW_OFF(src),     FC_ARG_INT(in_channels), FC_ARG_INT(h),
      FC_ARG_INT(w),        FC_ARG_VIEW_MEM(m),       FC_ARG_VIEW_OFF(m),      FC_ARG_VIEW_MEM(y),
      FC_ARG_VIEW_OFF(y),   FC_ARG_INT(out_channels), FC_ARG_INT(oh),          FC_ARG_INT(ow),
      FC_ARG_UINT(count)};
  return fc_ops_run_1d(dev, "warp", "affine_warp", op, count, args, FC_NARGS(args));
}
