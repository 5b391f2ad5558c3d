/* Host side of cl/dta.cl: confidences, threshold masks, DTA thresholds, distribution
 * alignment, the confident histogram (METHOD §3-§4). */
#include "ops/op_checks.h"

static fc_status check_tau_range(const char *op, float tau_min, float tau_max) {
  if (!(tau_min >= 0.0f && tau_min <= tau_max && tau_max <= 1.0f))
    return fc_errorf(FC_ERR_INVALID_ARG,
                     "%s: thresholds need 0 <= tau_min (%g) <= tau_max (%g) <= 1", op,
                     (double)tau_min, (double)tau_max);
  return FC_OK;
}

fc_status fc_confidence(fc_device *dev, int batch, int classes, fc_view q, fc_view conf,
                        fc_view argmax) {
  const char *op = "confidence";
  FC_TRY(fc_ops_check_rows(op, batch, classes));
  FC_TRY(FC_OPS_CHECK_VIEWS(op, {"q", q, (size_t)batch * classes}, {"conf", conf, (size_t)batch},
                            {"argmax", argmax, (size_t)batch}));
  const fc_kernel_arg args[] = {FC_ARG_VIEW(q), FC_ARG_UINT(batch), FC_ARG_UINT(classes),
                                FC_ARG_VIEW(conf), FC_ARG_VIEW(argmax)};
  return fc_ops_run_1d(dev, "dta", "dta_confidence", op, (size_t)batch, args, FC_NARGS(args));
}

fc_status fc_threshold_mask(fc_device *dev, int batch, int classes, fc_view conf, fc_view argmax,
                            fc_view tau, fc_view mask) {
  const char *op = "threshold_mask";
  FC_TRY(fc_ops_check_rows(op, batch, classes));
  FC_TRY(FC_OPS_CHECK_VIEWS(op, {"conf", conf, (size_t)batch}, {"argmax", argmax, (size_t)batch},
                            {"tau", tau, (size_t)classes}, {"mask", mask, (size_t)batch}));
  const fc_kernel_arg args[] = {FC_ARG_VIEW(conf),  FC_ARG_VIEW(argmax),  FC_ARG_VIEW(tau),
                                FC_ARG_UINT(batch), FC_ARG_UINT(classes), FC_ARG_VIEW(mask)};
  return fc_ops_run_1d(dev, "dta", "dta_threshold_mask", op, (size_t)batch, args, FC_NARGS(args));
}

fc_status fc_batch_confidence_stats(fc_device *dev, int batch, int classes, fc_view q, fc_view conf,
                                    fc_view stats) {
  const char *op = "batch_confidence_stats";
  FC_TRY(fc_ops_check_rows(op, batch, classes));
  FC_TRY(FC_OPS_CHECK_VIEWS(op, {"q", q, (size_t)batch * classes}, {"conf", conf, (size_t)batch},
                            {"stats", stats, 1 + (size_t)classes}));
  const fc_kernel_arg args[] = {FC_ARG_VIEW(q), FC_ARG_VIEW(conf), FC_ARG_UINT(batch),
                                FC_ARG_UINT(classes), FC_ARG_VIEW(stats)};
  return fc_ops_run_1d(dev, "dta", "dta_batch_stats", op, 1 + (size_t)classes, args,
                       FC_NARGS(args));
}

static fc_status dta_launch(fc_device *dev, const char *op, int classes, fc_view stats, float m,
                            const fc_dta_params *prm, int init, fc_view state) {
  if (classes <= 0)
    return fc_errorf(FC_ERR_INVALID_ARG, "%s: classes %d must be positive", op, classes);
  if (!prm) return fc_errorf(FC_ERR_INVALID_ARG, "%s: no parameters given", op);
  FC_TRY(check_tau_range(op, prm->tau_min, prm->tau_max));
  FC_TRY(fc_ops_check_view(op, "state", state, fc_dta_state_size(classes)));
  const fc_kernel_arg args[] = {FC_ARG_MEM(init ? state.mem : stats.mem),
                                FC_ARG_UINT(init ? 0 : stats.offset),
                                FC_ARG_UINT(classes),
                                FC_ARG_FLOAT(m),
                                FC_ARG_FLOAT(prm->tau_min),
                                FC_ARG_FLOAT(prm->tau_max),
                                FC_ARG_UINT(init != 0),
                                FC_ARG_UINT(prm->rescale != 0),
                                FC_ARG_VIEW(state)};
  return fc_ops_run_1d(dev, "dta", "dta_update", op, 1, args, FC_NARGS(args));
}

fc_status fc_dta_freematch_init(fc_device *dev, int classes, const fc_dta_params *params,
                                fc_view state) {
  return dta_launch(dev, "dta_freematch_init", classes, state, 0.0f, params, 1, state);
}

fc_status fc_dta_freematch_update(fc_device *dev, int classes, fc_view stats, float m,
                                  const fc_dta_params *params, fc_view state) {
  const char *op = "dta_freematch_update";
  if (!(m >= 0.0f && m <= 1.0f))
    return fc_errorf(FC_ERR_INVALID_ARG, "%s: momentum m = %g must be in [0, 1]", op, (double)m);
  if (classes > 0) FC_TRY(fc_ops_check_view(op, "stats", stats, 1 + (size_t)classes));
  return dta_launch(dev, op, classes, stats, m, params, 0, state);
}

fc_status fc_dist_align_update(fc_device *dev, int batch, int classes, fc_view q, float m,
                               fc_view state) {
  const char *op = "dist_align_update";
  FC_TRY(fc_ops_check_rows(op, batch, classes));
  if (!(m >= 0.0f && m <= 1.0f))
    return fc_errorf(FC_ERR_INVALID_ARG, "%s: momentum m = %g must be in [0, 1]", op, (double)m);
  FC_TRY(FC_OPS_CHECK_VIEWS(op, {"q", q, (size_t)batch * classes},
                            {"state", state, fc_dist_align_state_size(classes)}));
  const fc_kernel_arg args[] = {FC_ARG_VIEW(q), FC_ARG_UINT(batch), FC_ARG_UINT(classes),
                                FC_ARG_FLOAT(m), FC_ARG_VIEW(state)};
  return fc_ops_run_1d(dev, "dta", "dta_align_update", op, (size_t)classes, args, FC_NARGS(args));
}

fc_status fc_dist_align_apply(fc_device *dev, int batch, int classes, fc_view q, fc_view state,
                              fc_view out) {
  const char *op = "dist_align_apply";
  FC_TRY(fc_ops_check_rows(op, batch, classes));
  FC_TRY(FC_OPS_CHECK_VIEWS(op, {"q", q, (size_t)batch * classes},
                            {"state", state, fc_dist_align_state_size(classes)},
                            {"out", out, (size_t)batch * classes}));
  const fc_kernel_arg args[] = {FC_ARG_VIEW(q), FC_ARG_UINT(batch), FC_ARG_UINT(classes),
                                FC_ARG_VIEW(state), FC_ARG_VIEW(out)};
  return fc_ops_run_1d(dev, "dta", "dta_align_apply", op, (size_t)batch, args, FC_NARGS(args));
}

fc_status fc_confident_histogram(fc_device *dev, int batch, int classes, fc_view conf,
                                 fc_view argmax, float tau_fixed, fc_view hist) {
  const char *op = "confident_histogram";
  FC_TRY(fc_ops_check_rows(op, batch, classes));
  FC_TRY(FC_OPS_CHECK_VIEWS(op, {"conf", conf, (size_t)batch}, {"argmax", argmax, (size_t)batch},
                            {"hist", hist, (size_t)classes}));
  const fc_kernel_arg args[] = {FC_ARG_VIEW(conf),    FC_ARG_VIEW(argmax),     FC_ARG_UINT(batch),
                                FC_ARG_UINT(classes), FC_ARG_FLOAT(tau_fixed), FC_ARG_VIEW(hist)};
  return fc_ops_run_1d(dev, "dta", "dta_histogram", op, (size_t)classes, args, FC_NARGS(args));
}
