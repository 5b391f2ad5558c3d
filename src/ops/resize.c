/* Host side of cl/resize.cl: crop + resize of a uint8 image into float maps. */
#include "fercl/ops_vision.h"
#include "ops/spatial.h"

fc_status fc_crop_resize(fc_device *dev, fc_resize_mode mode, fc_view src, int channels, int h,
                         int w, fc_view boxes, int n, int oh, int ow, float scale, float shift,
                         fc_view y) {
  const char *op = "crop_resize";
  if (mode != FC_RESIZE_AREA && mode != FC_RESIZE_BILINEAR)
    return fc_errorf(FC_ERR_INVALID_ARG, "%s: unknown mode %d", op, (int)mode);
  if (channels < 1 || h < 1 || w < 1 || n < 1 || oh < 1 || ow < 1)
    return fc_errorf(FC_ERR_INVALID_ARG,
                     "%s: channels %d, image %dx%d, %d boxes, output %dx%d; all must be ≥ 1", op,
                     channels, h, w, n, oh, ow);
  FC_TRY(fc_ops_check_bytes(op, "src", src, (size_t)channels * h * w));
  FC_TRY(fc_ops_check_view(op, "boxes", boxes, (size_t)n * 4));
  size_t count = (size_t)n * oh * ow;
  FC_TRY(fc_ops_check_view(op, "y", y, count * channels));
  cl_kernel kernel = NULL;
  FC_TRY(fc_device_kernel(dev, "resize", "", "crop_resize", &kernel));
  const fc_kernel_arg args[] = {
      FC_ARG_VIEW_MEM(src),   FC_ARG_VIEW_OFF(src),   FC_ARG_INT(h),      FC_ARG_INT(w),
      FC_ARG_VIEW_MEM(boxes), FC_ARG_VIEW_OFF(boxes), FC_ARG_VIEW_MEM(y), FC_ARG_VIEW_OFF(y),
      FC_ARG_INT(oh),         FC_ARG_INT(ow),         FC_ARG_UINT(count), FC_ARG_UINT(channels),
      FC_ARG_INT(mode),       FC_ARG_FLOAT(scale),    FC_ARG_FLOAT(shift)};
  return fc_ops_launch_2d(dev, kernel, op, count, (size_t)channels, args, FC_NARGS(args));
}
