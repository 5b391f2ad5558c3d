/* Host side of cl/convert.cl. */
#include <math.h>

#include "ops/spatial.h"

fc_status fc_input_from_u8(fc_device *dev, fc_shape4 out, fc_view src, const float *mean,
                           const float *std, fc_view y) {
  const char *op = "input_from_u8";
  FC_TRY(fc_ops_check_shape4(op, out, "output"));
  if (out.c > FC_INPUT_MAX_CHANNELS)
    return fc_errorf(FC_ERR_UNSUPPORTED, "%s: %d channels; input images have at most %d", op, out.c,
                     FC_INPUT_MAX_CHANNELS);
  if (!mean || !std) return fc_errorf(FC_ERR_INVALID_ARG, "%s: mean and std are required", op);
  float scale[FC_INPUT_MAX_CHANNELS] = {0}, shift[FC_INPUT_MAX_CHANNELS] = {0};
  for (int c = 0; c < out.c; c++) {
    if (!(std[c] > 0.0f) || !isfinite(std[c]) || !isfinite(mean[c]))
      return fc_errorf(FC_ERR_INVALID_ARG,
                       "%s: channel %d has mean %g, std %g; std must be positive and finite", op, c,
                       (double)mean[c], (double)std[c]);
    scale[c] = (float)(1.0 / (255.0 * std[c]));
    shift[c] = (float)(-(double)mean[c] / std[c]);
  }
  size_t count = fc_shape4_count(out);
  FC_TRY(fc_ops_check_bytes(op, "source bytes", src, count));
  FC_TRY(fc_ops_check_view(op, "y", y, count));
  cl_kernel k = NULL;
  FC_TRY(fc_device_kernel(dev, "convert", "", "input_from_u8", &k));
  size_t hw = (size_t)out.h * out.w, q = (size_t)out.n * hw;
  const fc_kernel_arg args[] = {FC_ARG_VIEW_MEM(src),
                                FC_ARG_VIEW_OFF(src),
                                FC_ARG_UINT(hw),
                                FC_ARG_UINT(q),
                                FC_ARG_UINT(out.c),
                                FC_ARG_FLOAT(scale[0]),
                                FC_ARG_FLOAT(scale[1]),
                                FC_ARG_FLOAT(scale[2]),
                                FC_ARG_FLOAT(scale[3]),
                                FC_ARG_FLOAT(shift[0]),
                                FC_ARG_FLOAT(shift[1]),
                                FC_ARG_FLOAT(shift[2]),
                                FC_ARG_FLOAT(shift[3]),
                                FC_ARG_VIEW_MEM(y),
                                FC_ARG_VIEW_OFF(y),
                                FC_ARG_UINT(fc_shape4_stride_n(out)),
                                FC_ARG_UINT(fc_shape4_stride_c(out))};
  return fc_ops_launch_2d(dev, k, op, q, (size_t)out.c, args, FC_NARGS(args));
}

fc_status fc_layout_convert(fc_device *dev, fc_shape4 in, fc_view x, fc_layout out_layout,
                            fc_view y) {
  const char *op = "layout_convert";
  FC_TRY(fc_ops_check_shape4(op, in, "x"));
  if (out_layout != FC_LAYOUT_NCHW && out_layout != FC_LAYOUT_CNHW)
    return fc_errorf(FC_ERR_INVALID_ARG, "%s: unknown output layout %d", op, (int)out_layout);
  fc_shape4 out = in;
  out.layout = out_layout;
  size_t count = fc_shape4_count(in);
  FC_TRY(fc_ops_check_view(op, "x", x, count));
  FC_TRY(fc_ops_check_view(op, "y", y, count));
  if (x.mem == y.mem && x.offset < y.offset + count && y.offset < x.offset + count)
    return fc_errorf(FC_ERR_INVALID_ARG, "%s: x and y overlap; a transpose needs two buffers", op);
  cl_kernel k = NULL;
  FC_TRY(fc_device_kernel(dev, "convert", "", "layout_convert", &k));
  size_t hw = (size_t)in.h * in.w, q = (size_t)in.n * hw;
  const fc_kernel_arg args[] = {FC_ARG_VIEW_MEM(x),
                                FC_ARG_VIEW_OFF(x),
                                FC_ARG_UINT(fc_shape4_stride_n(in)),
                                FC_ARG_UINT(fc_shape4_stride_c(in)),
                                FC_ARG_VIEW_MEM(y),
                                FC_ARG_VIEW_OFF(y),
                                FC_ARG_UINT(fc_shape4_stride_n(out)),
                                FC_ARG_UINT(fc_shape4_stride_c(out)),
                                FC_ARG_UINT(hw),
                                FC_ARG_UINT(q),
                                FC_ARG_UINT(in.c)};
  return fc_ops_launch_2d(dev, k, op, q, (size_t)in.c, args, FC_NARGS(args));
}
