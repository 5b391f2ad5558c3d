/* Host side of cl/optim.cl: SGD, Adam/AdamW, EMA, gradient zeroing. */
#include <math.h>

#include "ops/op_checks.h"

static fc_status kernel(fc_device *dev, const char *name, cl_kernel *k) {
  return fc_device_kernel(dev, "optim", "", name, k);
}

/* Segments inside [0, n) and pairwise disjoint (an overlap would step twice). */
static fc_status check_segments(const char *op, const fc_optim_segment *seg, int count, size_t n) {
  if (count < 0 || (count > 0 && !seg))
    return fc_errorf(FC_ERR_INVALID_ARG, "%s: bad segment list (%d segments)", op, count);
  for (int i = 0; i < count; i++) {
    if (seg[i].offset > n || seg[i].count > n - seg[i].offset)
      return fc_errorf(FC_ERR_INVALID_ARG,
                       "%s: segment %d [%zu, %zu) lies outside the %zu parameters", op, i,
                       seg[i].offset, seg[i].offset + seg[i].count, n);
    for (int j = 0; j < i; j++)
      if (seg[i].offset < seg[j].offset + seg[j].count &&
          seg[j].offset < seg[i].offset + seg[i].count)
        return fc_errorf(FC_ERR_INVALID_ARG, "%s: segments %d and %d overlap", op, j, i);
  }
  return FC_OK;
}

static fc_status check_views(const char *op, size_t n, const fc_view *views,
                             const char *const *names, int count) {
  FC_TRY(fc_ops_check_u32(op, n, "parameter count"));
  for (int i = 0; i < count; i++) FC_TRY(fc_ops_check_view(op, names[i], views[i], n));
  return FC_OK;
}

static fc_status check_step(const char *op, float lr, uint64_t step) {
  if (!isfinite(lr) || lr < 0.0f)
    return fc_errorf(FC_ERR_INVALID_ARG, "%s: learning rate %g must be finite and >= 0", op,
                     (double)lr);
  if (step == 0) return fc_errorf(FC_ERR_INVALID_ARG, "%s: step counts from 1, got 0", op);
  return FC_OK;
}

fc_status fc_sgd_step(fc_device *dev, const fc_sgd_config *cfg, const fc_optim_segment *segments,
                      int n_segments, size_t n, fc_view params, fc_view grads, fc_view momentum_buf,
                      float lr, uint64_t step) {
  const char *op = "sgd_step";
  if (!cfg) return fc_errorf(FC_ERR_INVALID_ARG, "%s: no configuration given", op);
  FC_TRY(check_step(op, lr, step));
  if (cfg->momentum < 0.0f || cfg->weight_decay < 0.0f)
    return fc_errorf(FC_ERR_INVALID_ARG, "%s: momentum %g and weight decay %g must be >= 0", op,
                     (double)cfg->momentum, (double)cfg->weight_decay);
  if (cfg->nesterov && (cfg->momentum <= 0.0f || cfg->dampening != 0.0f))
    return fc_errorf(FC_ERR_INVALID_ARG,
                     "%s: nesterov momentum requires momentum > 0 and dampening 0", op);
  FC_TRY(check_segments(op, segments, n_segments, n));
  const fc_view v[] = {params, grads, momentum_buf};
  const char *const names[] = {"params", "grads", "momentum buffer"};
  FC_TRY(check_views(op, n, v, names, cfg->momentum != 0.0f ? 3 : 2));
  const fc_view buf = cfg->momentum != 0.0f ? momentum_buf : grads; /* unread without momentum */
  cl_kernel k;
  FC_TRY(kernel(dev, "sgd_step", &k));
  const fc_optim_segment whole = {0, n, 1};
  if (!segments) segments = &whole, n_segments = 1;
  for (int s = 0; s < n_segments; s++) {
    const size_t o = segments[s].offset;
    const fc_view ps = fc_view_add(params, o), gs = fc_view_add(grads, o),
                  bs = fc_view_add(buf, cfg->momentum != 0.0f ? o : 0);
    const fc_kernel_arg args[] = {FC_ARG_VIEW_MEM(ps),
                                  FC_ARG_VIEW_OFF(ps),
                                  FC_ARG_VIEW_MEM(gs),
                                  FC_ARG_VIEW_OFF(gs),
                                  FC_ARG_VIEW_MEM(bs),
                                  FC_ARG_VIEW_OFF(bs),
                                  FC_ARG_UINT(segments[s].count),
                                  FC_ARG_FLOAT(lr),
                                  FC_ARG_FLOAT(segments[s].decay ? cfg->weight_decay : 0.0f),
                                  FC_ARG_FLOAT(cfg->momentum),
                                  FC_ARG_FLOAT(cfg->dampening),
                                  FC_ARG_UINT(cfg->nesterov != 0),
                                  FC_ARG_UINT(step == 1)};
    FC_TRY(fc_launch_1d(dev, k, op, segments[s].count, args, FC_NARGS(args)));
  }
  return FC_OK;
}

fc_status fc_adam_step(fc_device *dev, const fc_adam_config *cfg, const fc_optim_segment *segments,
                       int n_segments, size_t n, fc_view params, fc_view grads, fc_view m,
                       fc_view v, float lr, uint64_t step) {
  const char *op = cfg && cfg->decoupled ? "adamw_step" : "adam_step";
  if (!cfg) return fc_errorf(FC_ERR_INVALID_ARG, "%s: no configuration given", op);
  FC_TRY(check_step(op, lr, step));
  if (!(cfg->beta1 >= 0.0f && cfg->beta1 < 1.0f && cfg->beta2 >= 0.0f && cfg->beta2 < 1.0f))
    return fc_errorf(FC_ERR_INVALID_ARG, "%s: betas (%g, %g) must be in [0, 1)", op,
                     (double)cfg->beta1, (double)cfg->beta2);
  if (!(cfg->eps >= 0.0f) || !(cfg->weight_decay >= 0.0f))
    return fc_errorf(FC_ERR_INVALID_ARG, "%s: eps %g and weight decay %g must be >= 0", op,
                     (double)cfg->eps, (double)cfg->weight_decay);
  FC_TRY(check_segments(op, segments, n_segments, n));
  const fc_view views[] = {params, grads, m, v};
  const char *const names[] = {"params", "grads", "first moment m", "second moment v"};
  FC_TRY(check_views(op, n, views, names, 4));
  /* Bias corrections in double on the host, as PyTorch computes them in Python floats. */
  const double t = (double)step;
  const double bc1 = 1.0 - pow((double)cfg->beta1, t), bc2 = 1.0 - pow((double)cfg->beta2, t);
  const float step_size = (float)((double)lr / bc1), inv_sqrt_bc2 = (float)(1.0 / sqrt(bc2));
  cl_kernel k;
  FC_TRY(kernel(dev, "adam_step", &k));
  const fc_optim_segment whole = {0, n, 1};
  if (!segments) segments = &whole, n_segments = 1;
  for (int s = 0; s < n_segments; s++) {
    const size_t o = segments[s].offset;
    const float wd = segments[s].decay ? cfg->weight_decay : 0.0f;
    const fc_view ps = fc_view_add(params, o), gs = fc_view_add(grads, o), ms = fc_view_add(m, o),
                  vs = fc_view_add(v, o);
    const fc_kernel_arg args[] = {FC_ARG_VIEW_MEM(ps),
                                  FC_ARG_VIEW_OFF(ps),
                                  FC_ARG_VIEW_MEM(gs),
                                  FC_ARG_VIEW_OFF(gs),
                                  FC_ARG_VIEW_MEM(ms),
                                  FC_ARG_VIEW_OFF(ms),
                                  FC_ARG_VIEW_MEM(vs),
                                  FC_ARG_VIEW_OFF(vs),
                                  FC_ARG_UINT(segments[s].count),
                                  FC_ARG_FLOAT(step_size),
                                  FC_ARG_FLOAT(inv_sqrt_bc2),
                                  FC_ARG_FLOAT(cfg->beta1),
                                  FC_ARG_FLOAT(cfg->beta2),
                                  FC_ARG_FLOAT(cfg->eps),
                                  FC_ARG_FLOAT(cfg->decoupled ? 0.0f : wd),
                                  FC_ARG_FLOAT(cfg->decoupled ? 1.0f - lr * wd : 1.0f)};
    FC_TRY(fc_launch_1d(dev, k, op, segments[s].count, args, FC_NARGS(args)));
  }
  return FC_OK;
}

fc_status fc_ema_update(fc_device *dev, fc_view teacher, fc_view student, size_t n, float m) {
  const char *op = "ema_update";
  if (!(m >= 0.0f && m <= 1.0f))
    return fc_errorf(FC_ERR_INVALID_ARG, "%s: momentum m = %g must be in [0, 1]", op, (double)m);
  const fc_view views[] = {teacher, student};
  const char *const names[] = {"teacher", "student"};
  FC_TRY(check_views(op, n, views, names, 2));
  cl_kernel k;
  FC_TRY(kernel(dev, "ema_update", &k));
  const fc_kernel_arg args[] = {FC_ARG_VIEW_MEM(teacher), FC_ARG_VIEW_OFF(teacher),
                                FC_ARG_VIEW_MEM(student), FC_ARG_VIEW_OFF(student),
                                FC_ARG_UINT(n),           FC_ARG_FLOAT(m)};
  return fc_launch_1d(dev, k, op, n, args, FC_NARGS(args));
}

fc_status fc_zero_grad(fc_device *dev, fc_view grads, size_t n) {
  FC_TRY(check_views("zero_grad", n, &grads, (const char *const[]){"grads"}, 1));
  return fc_fill(dev, grads, 0.0f, n);
}
