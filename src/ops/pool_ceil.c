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
  return fc_maxpool2d_launch(dev, op, in, out, k, stride, 0, x, y, argmax);
}
