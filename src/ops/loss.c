/* Host side of cl/loss.cl: softmax, weighted cross-entropy, negative-learning loss. */
#include "ops/op_checks.h"

static fc_status kernel(fc_device *dev, const char *name, cl_kernel *k) {
  return fc_device_kernel(dev, "loss", "", name, k);
}

static fc_status check_norm(const char *op, float b_norm) {
  if (!(b_norm > 0.0f))
    return fc_errorf(FC_ERR_INVALID_ARG, "%s: normaliser b_norm = %g must be positive", op,
                     (double)b_norm);
  return FC_OK;
}

/* What softmax_xent_forward and _backward check first: rows, b_norm, then `what` (logits
 * or probs) [B][C], labels [B] and the optional weights [B]. */
static fc_status check_xent(const char *op, int batch, int classes, float b_norm, const char *what,
                            fc_view rows, fc_view labels, fc_view weights) {
  FC_TRY(fc_ops_check_rows(op, batch, classes));
  FC_TRY(check_norm(op, b_norm));
  const size_t B = (size_t)batch;
  FC_TRY(fc_ops_check_view(op, what, rows, B * classes));
  FC_TRY(fc_ops_check_view(op, "labels", labels, B));
  return fc_ops_check_optional_view(op, "weights", weights, B);
}

fc_status fc_softmax_forward(fc_device *dev, int batch, int classes, fc_view logits,
                             fc_view probs) {
  const char *op = "softmax_forward";
  FC_TRY(fc_ops_check_rows(op, batch, classes));
  const size_t bc = (size_t)batch * classes;
  FC_TRY(fc_ops_check_view(op, "logits", logits, bc));
  FC_TRY(fc_ops_check_view(op, "probs", probs, bc));
  cl_kernel k;
  FC_TRY(kernel(dev, "softmax_rows", &k));
  const fc_kernel_arg args[] = {FC_ARG_VIEW(logits), FC_ARG_UINT(batch), FC_ARG_UINT(classes),
                                FC_ARG_VIEW(probs)};
  return fc_launch_1d(dev, k, op, (size_t)batch, args, FC_NARGS(args));
}

fc_status fc_softmax_xent_forward(fc_device *dev, int batch, int classes, fc_view logits,
                                  fc_view labels, fc_view weights, float b_norm, fc_view probs,
                                  fc_view loss_per_sample, fc_view loss) {
  const char *op = "softmax_xent_forward";
  FC_TRY(check_xent(op, batch, classes, b_norm, "logits", logits, labels, weights));
  const size_t B = (size_t)batch, bc = B * classes;
  FC_TRY(FC_OPS_CHECK_VIEWS(op, {"probs", probs, bc}, {"loss_per_sample", loss_per_sample, B},
                            {"loss", loss, 1}));
  cl_kernel kr, ks;
  FC_TRY(kernel(dev, "xent_rows", &kr));
  FC_TRY(kernel(dev, "xent_sum", &ks));
  const fc_kernel_arg rows[] = {FC_ARG_VIEW(logits), FC_ARG_VIEW(labels),
                                FC_ARG_UINT(batch),  FC_ARG_UINT(classes),
                                FC_ARG_VIEW(probs),  FC_ARG_VIEW(loss_per_sample)};
  FC_TRY(fc_launch_1d(dev, kr, "xent_rows", B, rows, FC_NARGS(rows)));
  const fc_kernel_arg sum[] = {
      FC_ARG_VIEW(loss_per_sample), FC_ARG_VIEW(labels),  FC_ARG_OPTIONAL_VIEW(weights, labels.mem),
      FC_ARG_UINT(batch),           FC_ARG_FLOAT(b_norm), FC_ARG_VIEW(loss)};
  return fc_launch_1d(dev, ks, "xent_sum", 1, sum, FC_NARGS(sum));
}

fc_status fc_softmax_xent_backward(fc_device *dev, int batch, int classes, fc_view probs,
                                   fc_view labels, fc_view weights, float b_norm, float lambda,
                                   fc_view dlogits, int accumulate) {
  const char *op = "softmax_xent_backward";
  FC_TRY(check_xent(op, batch, classes, b_norm, "probs", probs, labels, weights));
  const size_t bc = (size_t)batch * classes;
  FC_TRY(fc_ops_check_view(op, "dlogits", dlogits, bc));
  cl_kernel k;
  FC_TRY(kernel(dev, "xent_backward", &k));
  const fc_kernel_arg args[] = {
      FC_ARG_VIEW(probs),   FC_ARG_VIEW(labels),         FC_ARG_OPTIONAL_VIEW(weights, labels.mem),
      FC_ARG_UINT(batch),   FC_ARG_UINT(classes),        FC_ARG_FLOAT(lambda / b_norm),
      FC_ARG_VIEW(dlogits), FC_ARG_UINT(accumulate != 0)};
  return fc_launch_1d(dev, k, op, bc, args, FC_NARGS(args));
}

static fc_status check_nl(const char *op, int batch, int classes, fc_view logits, fc_view negatives,
                          fc_view mask, float eps, float b_norm) {
  FC_TRY(fc_ops_check_rows(op, batch, classes));
  FC_TRY(check_norm(op, b_norm));
  if (!(eps > 0.0f && eps < 1.0f))
    return fc_errorf(FC_ERR_INVALID_ARG, "%s: eps = %g must be in (0, 1)", op, (double)eps);
  const size_t bc = (size_t)batch * classes;
  FC_TRY(fc_ops_check_view(op, "logits", logits, bc));
  FC_TRY(fc_ops_check_view(op, "negatives", negatives, bc));
  return fc_ops_check_optional_view(op, "mask", mask, (size_t)batch);
}

fc_status fc_nl_loss_forward(fc_device *dev, int batch, int classes, fc_view logits,
                             fc_view negatives, fc_view mask, float eps, float b_norm,
                             fc_view loss_per_sample, fc_view loss) {
  const char *op = "nl_loss_forward";
  FC_TRY(check_nl(op, batch, classes, logits, negatives, mask, eps, b_norm));
  FC_TRY(fc_ops_check_view(op, "loss_per_sample", loss_per_sample, (size_t)batch));
  FC_TRY(fc_ops_check_view(op, "loss", loss, 1));
  cl_kernel kr, ks;
  FC_TRY(kernel(dev, "nl_rows", &kr));
  FC_TRY(kernel(dev, "nl_sum", &ks));
  const fc_kernel_arg rows[] = {FC_ARG_VIEW(logits), FC_ARG_VIEW(negatives),
                                FC_ARG_UINT(batch),  FC_ARG_UINT(classes),
                                FC_ARG_FLOAT(eps),   FC_ARG_VIEW(loss_per_sample)};
  FC_TRY(fc_launch_1d(dev, kr, "nl_rows", (size_t)batch, rows, FC_NARGS(rows)));
  const fc_kernel_arg sum[] = {FC_ARG_VIEW(loss_per_sample), FC_ARG_OPTIONAL_VIEW(mask, logits.mem),
                               FC_ARG_UINT(batch), FC_ARG_FLOAT(b_norm), FC_ARG_VIEW(loss)};
  return fc_launch_1d(dev, ks, "nl_sum", 1, sum, FC_NARGS(sum));
}

fc_status fc_nl_loss_backward(fc_device *dev, int batch, int classes, fc_view logits,
                              fc_view negatives, fc_view mask, float eps, float b_norm,
                              float lambda, fc_view dlogits, int accumulate) {
  const char *op = "nl_loss_backward";
  FC_TRY(check_nl(op, batch, classes, logits, negatives, mask, eps, b_norm));
  FC_TRY(fc_ops_check_view(op, "dlogits", dlogits, (size_t)batch * classes));
  cl_kernel k;
  FC_TRY(kernel(dev, "nl_backward", &k));
  const fc_kernel_arg args[] = {FC_ARG_VIEW(logits),
                                FC_ARG_VIEW(negatives),
                                FC_ARG_OPTIONAL_VIEW(mask, logits.mem),
                                FC_ARG_UINT(batch),
                                FC_ARG_UINT(classes),
                                FC_ARG_FLOAT(eps),
                                FC_ARG_FLOAT(lambda / b_norm),
                                FC_ARG_VIEW(dlogits),
                                FC_ARG_UINT(accumulate != 0)};
  return fc_launch_1d(dev, k, op, (size_t)batch, args, FC_NARGS(args));
}
