/* Host side of cl/snl.cl: selective negative learning's negative sets and their hits
 * (METHOD §5). */
#include "ops/op_checks.h"
#include "ops/ref/rng.h"

fc_status fc_snl_negatives(fc_device *dev, int batch, int classes, const fc_snl_params *prm,
                           fc_view q, fc_view mask, fc_view student_probs, fc_view negatives,
                           fc_view counts) {
  const char *op = "snl_negatives";
  FC_TRY(fc_ops_check_rows(op, batch, classes));
  const size_t bc = (size_t)batch * classes;
  if (!prm) return fc_errorf(FC_ERR_INVALID_ARG, "%s: no parameters given", op);
  switch (prm->mode) {
  case FC_SNL_THRESH:
  case FC_SNL_RANDOM:
    if (!(prm->tau_n >= 0.0f && prm->tau_n <= 1.0f))
      return fc_errorf(FC_ERR_INVALID_ARG, "%s: tau_n = %g must be in [0, 1]", op,
                       (double)prm->tau_n);
    break;
  case FC_SNL_TOPK:
    if (prm->k < 1 || prm->k > classes)
      return fc_errorf(FC_ERR_INVALID_ARG, "%s: top-k with k = %d; k must be 1..%d", op, prm->k,
                       classes);
    if (prm->cap != prm->cap)
      return fc_errorf(FC_ERR_INVALID_ARG, "%s: the student cap is NaN", op);
    FC_TRY(fc_ops_check_view(op, "student_probs", student_probs, bc));
    break;
  default:
    return fc_errorf(FC_ERR_INVALID_ARG, "%s: unknown mode %d (thresh, topk or random)", op,
                     (int)prm->mode);
  }
  FC_TRY(fc_ops_check_view(op, "q", q, bc));
  FC_TRY(fc_ops_check_optional_view(op, "mask", mask, (size_t)batch));
  FC_TRY(FC_OPS_CHECK_VIEWS(op, {"negatives", negatives, bc}, {"counts", counts, (size_t)batch}));
  const fc_view sp = prm->mode == FC_SNL_TOPK ? student_probs : q; /* unread otherwise */
  const fc_kernel_arg args[] = {FC_ARG_VIEW(q),
                                FC_ARG_OPTIONAL_VIEW(mask, q.mem),
                                FC_ARG_VIEW(sp),
                                FC_ARG_UINT(batch),
                                FC_ARG_UINT(classes),
                                FC_ARG_INT(prm->mode),
                                FC_ARG_FLOAT(prm->tau_n),
                                FC_ARG_UINT(prm->mode == FC_SNL_TOPK ? prm->k : 0),
                                FC_ARG_FLOAT(prm->cap),
                                FC_ARG_UINT((uint32_t)prm->seed),
                                FC_ARG_UINT((uint32_t)(prm->seed >> 32)),
                                FC_ARG_UINT((uint32_t)prm->step),
                                FC_ARG_UINT((uint32_t)(prm->step >> 32)),
                                FC_ARG_UINT(fc_philox_stream(FC_RNG_STREAM_SNL, 0)),
                                FC_ARG_VIEW(negatives),
                                FC_ARG_VIEW(counts)};
  return fc_ops_run_1d(dev, "snl", "snl_negatives", op, (size_t)batch, args, FC_NARGS(args));
}

fc_status fc_snl_hits(fc_device *dev, int batch, int classes, fc_view negatives, fc_view labels,
                      fc_view hits) {
  const char *op = "snl_hits";
  FC_TRY(fc_ops_check_rows(op, batch, classes));
  FC_TRY(FC_OPS_CHECK_VIEWS(op, {"negatives", negatives, (size_t)batch * classes},
                            {"labels", labels, (size_t)batch}, {"hits", hits, (size_t)batch}));
  const fc_kernel_arg args[] = {FC_ARG_VIEW(negatives), FC_ARG_VIEW(labels), FC_ARG_UINT(batch),
                                FC_ARG_UINT(classes), FC_ARG_VIEW(hits)};
  return fc_ops_run_1d(dev, "snl", "snl_hits", op, (size_t)batch, args, FC_NARGS(args));
}
