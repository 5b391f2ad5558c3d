/* Fully connected layer: CLBlast GEMMs plus the bias kernels of cl/linear.cl. */
#include "ops/spatial.h"

static fc_status check_linear(const char *op, int n, int in, int out, fc_view x, fc_view w) {
  if (n < 1 || in < 1 || out < 1)
    return fc_errorf(FC_ERR_INVALID_ARG, "%s: n=%d in=%d out=%d; each must be at least 1", op, n,
                     in, out);
  FC_TRY(fc_ops_check_view(op, "x", x, (size_t)n * in));
  return fc_ops_check_view(op, "weights (or their gradient)", w, (size_t)out * in);
}

fc_status fc_linear_forward(fc_device *dev, int n, int in, int out, fc_view x, fc_view w, fc_view b,
                            fc_view y) {
  const char *op = "linear_forward";
  FC_TRY(check_linear(op, n, in, out, x, w));
  FC_TRY(fc_ops_check_view(op, "y", y, (size_t)n * out));
  FC_TRY(fc_gemm(dev, 0, 1, (size_t)n, (size_t)out, (size_t)in, 1.0f, x, (size_t)in, w, (size_t)in,
                 0.0f, y, (size_t)out));
  if (!fc_view_present(b)) return FC_OK;
  FC_TRY(fc_ops_check_view(op, "bias", b, (size_t)out));
  cl_kernel k = NULL;
  FC_TRY(fc_device_kernel(dev, "linear", "", "linear_bias_add", &k));
  const fc_kernel_arg args[] = {FC_ARG_VIEW_MEM(y), FC_ARG_VIEW_OFF(y), FC_ARG_VIEW_MEM(b),
                                FC_ARG_VIEW_OFF(b), FC_ARG_UINT(n),     FC_ARG_UINT(out)};
  return fc_ops_launch_2d(dev, k, "linear_bias", (size_t)out, (size_t)n, args, FC_NARGS(args));
}

fc_status fc_linear_backward(fc_device *dev, int n, int in, int out, fc_view x, fc_view w,
                             fc_view dy, fc_view dx, fc_view dw, fc_view db, int accumulate) {
  const char *op = "linear_backward";
  FC_TRY(check_linear(op, n, in, out, x, w));
  FC_TRY(fc_ops_check_view(op, "dy", dy, (size_t)n * out));
  FC_TRY(fc_ops_check_view(op, "dw", dw, (size_t)out * in));
  if (fc_view_present(dx)) {
    FC_TRY(fc_ops_check_view(op, "dx", dx, (size_t)n * in));
    FC_TRY(fc_gemm(dev, 0, 0, (size_t)n, (size_t)in, (size_t)out, 1.0f, dy, (size_t)out, w,
                   (size_t)in, 0.0f, dx, (size_t)in));
  }
  FC_TRY(fc_gemm(dev, 1, 0, (size_t)out, (size_t)in, (size_t)n, 1.0f, dy, (size_t)out, x,
                 (size_t)in, accumulate ? 1.0f : 0.0f, dw, (size_t)in));
  if (!fc_view_present(db)) return FC_OK;
  FC_TRY(fc_ops_check_view(op, "db", db, (size_t)out));
  cl_kernel k = NULL;
  FC_TRY(fc_device_kernel(dev, "linear", "", "linear_bias_grad", &k));
  const fc_kernel_arg args[] = {
      FC_ARG_VIEW_MEM(dy),         FC_ARG_VIEW_OFF(dy), FC_ARG_UINT(n),     FC_ARG_UINT(out),
      FC_ARG_INT(accumulate != 0), FC_ARG_VIEW_MEM(db), FC_ARG_VIEW_OFF(db)};
  return fc_launch_1d(dev, k, "linear_bias_grad", (size_t)out, args, FC_NARGS(args));
}
