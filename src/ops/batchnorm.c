/* Host side of cl/batchnorm.cl: batch normalisation and per-channel sums. */
#include "ops/spatial.h"

/* Elements per reduction slice; the slice count depends only on N·H·W, which
 * keeps the summation order (and so the result) fixed for a given shape. */
#define SLICE_ELEMENTS 1024

static size_t per_channel(fc_shape4 s) { return (size_t)s.n * s.h * s.w; }
static size_t slices(fc_shape4 s) { return (per_channel(s) + SLICE_ELEMENTS - 1) / SLICE_ELEMENTS; }

size_t fc_channel_sum_workspace_size(fc_shape4 s) {
  return slices(s) * (size_t)(s.c > 0 ? s.c : 0);
}

size_t fc_batchnorm_workspace_size(fc_shape4 s) {
  size_t c = (size_t)(s.c > 0 ? s.c : 0);
  return 2 * slices(s) * c + 2 * c;
}

static fc_status bn_kernel(fc_device *dev, const char *name, cl_kernel *k) {
  return fc_device_kernel(dev, "batchnorm", "", name, k);
}

/* CPUs get the contiguous-slice variants (cl/batchnorm.cl, "CPU variants"). */
static int use_cpu_variant(const fc_device *dev) { return dev->cpu_kernels; }

static fc_status check_workspace(const char *op, fc_view ws, size_t ws_size, size_t need) {
  if (!ws.mem || ws_size < need)
    return fc_errorf(FC_ERR_INVALID_ARG,
                     "%s: the workspace holds %zu floats, %zu are needed; size it with the op's "
                     "_workspace_size function",
                     op, ws.mem ? ws_size : 0, need);
  return fc_ops_check_view(op, "workspace", ws, need);
}

/* Pass 1 of a channel reduction: part[c·slices + j]. */
static fc_status partial_sums(fc_device *dev, fc_shape4 s, fc_view x, fc_view mean, int centered,
                              fc_view part) {
  cl_kernel k = NULL;
  int cpu = use_cpu_variant(dev);
  FC_TRY(bn_kernel(dev, cpu ? "bn_partial_sums_cpu" : "bn_partial_sums", &k));
  if (!centered) mean = part; /* unused; any valid buffer */
  size_t parts = slices(s);
  const fc_kernel_arg args[] = {FC_ARG_VIEW(x),
                                FC_ARG_UINT(fc_shape4_stride_n(s)),
                                FC_ARG_UINT(fc_shape4_stride_c(s)),
                                FC_ARG_UINT((size_t)s.h * s.w),
                                FC_ARG_UINT(per_channel(s)),
                                FC_ARG_UINT(parts),
                                FC_ARG_UINT(s.c),
                                FC_ARG_VIEW(mean),
                                FC_ARG_INT(centered),
                                FC_ARG_VIEW(part),
                                FC_ARG_UINT(SLICE_ELEMENTS)};
  return fc_ops_launch_2d(dev, k, "channel_partial_sums", parts, (size_t)s.c, args,
                          FC_NARGS(args) - (cpu ? 0 : 1));
}

/* out[c] = scale · Σ_j part[c·parts + j] (+ out[c]). */
static fc_status finalize_parts(fc_device *dev, size_t parts, int channels, fc_view part,
                                float scale, int accumulate, fc_view out) {
  cl_kernel k = NULL;
  FC_TRY(bn_kernel(dev, "bn_finalize_sum", &k));
  const fc_kernel_arg args[] = {FC_ARG_VIEW(part),           FC_ARG_UINT(parts),
                                FC_ARG_UINT(channels),       FC_ARG_FLOAT(scale),
                                FC_ARG_INT(accumulate != 0), FC_ARG_VIEW(out)};
  return fc_launch_1d(dev, k, "channel_finalize_sum", (size_t)channels, args, FC_NARGS(args));
}

static fc_status finalize_sum(fc_device *dev, fc_shape4 s, fc_view part, float scale,
                              int accumulate, fc_view out) {
  return finalize_parts(dev, slices(s), s.c, part, scale, accumulate, out);
}

/* --sync-bn: v[0..n) (on the device) = scale · Σ over ranks of (v · local_scale),
 * through the host: the device finishes what it has queued first. */
static fc_status sync_sum(fc_device *dev, const fc_bn_sync *sync, fc_view v, size_t n,
                          double local_scale, double scale) {
  if (!sync->sum || !sync->host || sync->host_len < 2 * n)
    return fc_errorf(FC_ERR_INVALID_ARG,
                     "batchnorm: the --sync-bn scratch holds %zu values, %zu are needed",
                     sync->host ? sync->host_len : 0, 2 * n);
  float *f = (float *)(void *)(sync->host + n); /* floats in the upper half */
  FC_TRY(fc_buffer_read(dev, v.mem, v.offset * 4, n * 4, f, 1));
  for (size_t i = 0; i < n; i++) sync->host[i] = (double)f[i] * local_scale;
  FC_TRY(sync->sum(sync->user, sync->host, n));
  for (size_t i = 0; i < n; i++) f[i] = (float)(sync->host[i] * scale);
  return fc_buffer_write(dev, v.mem, v.offset * 4, n * 4, f, 1);
}

fc_status fc_channel_sum(fc_device *dev, fc_shape4 s, fc_view x, fc_view out, int accumulate,
                         fc_view ws, size_t ws_size) {
  const char *op = "channel_sum";
  FC_TRY(fc_ops_check_shape4(op, s, "x"));
  FC_TRY(fc_ops_check_view(op, "x", x, fc_shape4_count(s)));
  FC_TRY(fc_ops_check_view(op, "out", out, (size_t)s.c));
  FC_TRY(check_workspace(op, ws, ws_size, fc_channel_sum_workspace_size(s)));
  FC_TRY(partial_sums(dev, s, x, ws, 0, ws));
  return finalize_sum(dev, s, ws, 1.0f, accumulate, out);
}

static fc_status check_params(const char *op, fc_shape4 s, const fc_batchnorm_params *p,
                              int running) {
  if (!p) return fc_errorf(FC_ERR_INVALID_ARG, "%s: parameters are NULL", op);
  size_t c = (size_t)s.c;
  FC_TRY(fc_ops_check_view(op, "gamma", p->gamma, c));
  FC_TRY(fc_ops_check_view(op, "beta", p->beta, c));
  if (running) {
    FC_TRY(fc_ops_check_view(op, "running_mean", p->running_mean, c));
    FC_TRY(fc_ops_check_view(op, "running_var", p->running_var, c));
  }
  if (!(p->eps > 0.0f))
    return fc_errorf(FC_ERR_INVALID_ARG, "%s: eps = %g must be positive (PyTorch uses 1e-5)", op,
                     (double)p->eps);
  return FC_OK;
}

static fc_status check_epilogue(const char *op, fc_bn_epilogue epi) {
  if (epi != FC_BN_PLAIN && epi != FC_BN_RELU && epi != FC_BN_ADD_RELU)
    return fc_errorf(FC_ERR_INVALID_ARG, "%s: unknown epilogue %d", op, (int)epi);
  return FC_OK;
}

static fc_status apply(fc_device *dev, fc_shape4 s, fc_view x, fc_view mean, fc_view stat,
                       int stat_is_var, const fc_batchnorm_params *p, fc_bn_epilogue epi,
                       fc_view res, fc_view y) {
  cl_kernel k = NULL;
  int cpu = use_cpu_variant(dev);
  FC_TRY(bn_kernel(dev, cpu ? "bn_apply_cpu" : "bn_apply", &k));
  if (epi != FC_BN_ADD_RELU) res = x; /* unused */
  size_t hw = (size_t)s.h * s.w, count = (size_t)s.n * hw;
  /* Both variants take the same arguments; the CPU one runs a work-item per
   * slice of SLICE_ELEMENTS values, the GPU one a work-item per value. */
  const fc_kernel_arg args[] = {FC_ARG_VIEW(x),
                                FC_ARG_UINT(fc_shape4_stride_n(s)),
                                FC_ARG_UINT(fc_shape4_stride_c(s)),
                                FC_ARG_UINT(hw),
                                FC_ARG_UINT(count),
                                FC_ARG_UINT(slices(s)),
                                FC_ARG_UINT(s.c),
                                FC_ARG_VIEW(mean),
                                FC_ARG_VIEW(stat),
                                FC_ARG_INT(stat_is_var),
                                FC_ARG_FLOAT(p->eps),
                                FC_ARG_VIEW(p->gamma),
                                FC_ARG_VIEW(p->beta),
                                FC_ARG_INT(epi),
                                FC_ARG_VIEW(res),
                                FC_ARG_VIEW(y),
                                FC_ARG_UINT(SLICE_ELEMENTS)};
  return fc_ops_launch_2d(dev, k, "batchnorm_apply", cpu ? slices(s) : count, (size_t)s.c, args,
                          FC_NARGS(args));
}

fc_status fc_batchnorm_forward_train(fc_device *dev, fc_shape4 s, fc_view x,
                                     const fc_batchnorm_params *p, fc_view save_mean,
                                     fc_view save_invstd, fc_bn_epilogue epi, fc_view res,
                                     fc_view y, fc_view ws, size_t ws_size) {
  const char *op = "batchnorm_forward_train";
  FC_TRY(fc_ops_check_shape4(op, s, "x"));
  FC_TRY(check_epilogue(op, epi));
  size_t m = per_channel(s), count = fc_shape4_count(s);
  if (m < 2)
    return fc_errorf(FC_ERR_INVALID_ARG,
                     "%s: training needs at least 2 values per channel, but N·H·W = 1 "
                     "(shape n=%d h=%d w=%d); use a larger batch or inference mode",
                     op, s.n, s.h, s.w);
  if (!p) return fc_errorf(FC_ERR_INVALID_ARG, "%s: parameters are NULL", op);
  int running = fc_view_present(p->running_mean) || fc_view_present(p->running_var);
  FC_TRY(check_params(op, s, p, running));
  FC_TRY(fc_ops_check_view(op, "x", x, count));
  FC_TRY(fc_ops_check_view(op, "y", y, count));
  FC_TRY(fc_ops_check_view(op, "save_mean", save_mean, (size_t)s.c));
  FC_TRY(fc_ops_check_view(op, "save_invstd", save_invstd, (size_t)s.c));
  if (epi == FC_BN_ADD_RELU) FC_TRY(fc_ops_check_view(op, "residual", res, count));
  FC_TRY(check_workspace(op, ws, ws_size, slices(s) * (size_t)s.c));

  const fc_bn_sync *sync = p->sync && p->sync->ranks > 1 ? p->sync : NULL;
  size_t var_parts = slices(s), var_m = m;
  FC_TRY(partial_sums(dev, s, x, ws, 0, ws));
  if (!sync) {
    FC_TRY(finalize_sum(dev, s, ws, (float)(1.0 / (double)m), 0, save_mean));
    FC_TRY(partial_sums(dev, s, x, save_mean, 1, ws));
  } else {
    /* The global batch's mean, then its centred squares: the same two passes
     * with each rank's channel sums added up between them. */
    var_m = m * (size_t)sync->ranks;
    FC_TRY(finalize_sum(dev, s, ws, 1.0f, 0, save_mean));
    FC_TRY(sync_sum(dev, sync, save_mean, (size_t)s.c, 1.0, 1.0 / (double)var_m));
    FC_TRY(partial_sums(dev, s, x, save_mean, 1, ws));
    FC_TRY(finalize_sum(dev, s, ws, 1.0f, 0, save_invstd));
    FC_TRY(sync_sum(dev, sync, save_invstd, (size_t)s.c, 1.0, 1.0));
    FC_TRY(fc_buffer_copy(dev, save_invstd.mem, save_invstd.offset * 4, ws.mem, ws.offset * 4,
                          (size_t)s.c * 4));
    var_parts = 1; /* bn_finalize_var reads the one global sum per channel */
  }
  cl_kernel k = NULL;
  FC_TRY(bn_kernel(dev, "bn_finalize_var", &k));
  fc_view rm = running ? p->running_mean : save_mean, rv = running ? p->running_var : save_invstd;
  const fc_kernel_arg args[] = {
      FC_ARG_VIEW(ws),        FC_ARG_UINT(var_parts),   FC_ARG_UINT(s.c),
      FC_ARG_UINT(var_m),     FC_ARG_FLOAT(p->eps),     FC_ARG_FLOAT(p->momentum),
      FC_ARG_VIEW(save_mean), FC_ARG_VIEW(save_invstd), FC_ARG_INT(running),
      FC_ARG_VIEW(rm),        FC_ARG_VIEW(rv)};
  FC_TRY(fc_launch_1d(dev, k, "batchnorm_stats", (size_t)s.c, args, FC_NARGS(args)));
  return apply(dev, s, x, save_mean, save_invstd, 0, p, epi, res, y);
}

fc_status fc_batchnorm_forward_infer(fc_device *dev, fc_shape4 s, fc_view x,
                                     const fc_batchnorm_params *p, fc_bn_epilogue epi, fc_view res,
                                     fc_view y) {
  const char *op = "batchnorm_forward_infer";
  FC_TRY(fc_ops_check_shape4(op, s, "x"));
  FC_TRY(check_epilogue(op, epi));
  FC_TRY(check_params(op, s, p, 1));
  size_t count = fc_shape4_count(s);
  FC_TRY(fc_ops_check_view(op, "x", x, count));
  FC_TRY(fc_ops_check_view(op, "y", y, count));
  if (epi == FC_BN_ADD_RELU) FC_TRY(fc_ops_check_view(op, "residual", res, count));
  return apply(dev, s, x, p->running_mean, p->running_var, 1, p, epi, res, y);
}

fc_status fc_batchnorm_backward(fc_device *dev, fc_shape4 s, fc_view x, fc_view dy,
                                const fc_batchnorm_params *p, fc_view save_mean,
                                fc_view save_invstd, fc_bn_epilogue epi, fc_view y, fc_view d_res,
                                fc_view dx, fc_view dgamma, fc_view dbeta, int accumulate,
                                fc_view ws, size_t ws_size) {
  const char *op = "batchnorm_backward";
  FC_TRY(fc_ops_check_shape4(op, s, "x"));
  FC_TRY(check_epilogue(op, epi));
  FC_TRY(check_params(op, s, p, 0));
  size_t m = per_channel(s), count = fc_shape4_count(s), c = (size_t)s.c, parts = slices(s);
  FC_TRY(fc_ops_check_view(op, "x", x, count));
  FC_TRY(fc_ops_check_view(op, "dy", dy, count));
  FC_TRY(fc_ops_check_view(op, "dx", dx, count));
  FC_TRY(fc_ops_check_view(op, "save_mean", save_mean, c));
  FC_TRY(fc_ops_check_view(op, "save_invstd", save_invstd, c));
  FC_TRY(fc_ops_check_view(op, "dgamma", dgamma, c));
  FC_TRY(fc_ops_check_view(op, "dbeta", dbeta, c));
  if (epi != FC_BN_PLAIN) FC_TRY(fc_ops_check_view(op, "y (the forward output)", y, count));
  FC_TRY(check_workspace(op, ws, ws_size, fc_batchnorm_workspace_size(s)));

  /* BN → add → ReLU: the residual's gradient is the masked dy, and it is also
   * what flows into the normalisation. */
  int relu_mask = epi == FC_BN_RELU;
  if (epi == FC_BN_ADD_RELU) {
    FC_TRY(fc_ops_check_view(op, "d_residual", d_res, count));
    if (d_res.mem == dx.mem && d_res.offset == dx.offset)
      return fc_errorf(FC_ERR_INVALID_ARG, "%s: d_residual must not alias dx", op);
    FC_TRY(fc_relu_backward(dev, y, dy, d_res, count));
    dy = d_res;
  }
  if (!relu_mask) y = x; /* unused */

  fc_view part = ws, sums = fc_view_add(ws, 2 * parts * c);
  size_t hw = (size_t)s.h * s.w, sn = fc_shape4_stride_n(s), sc = fc_shape4_stride_c(s);
  cl_kernel k = NULL;
  int cpu = use_cpu_variant(dev);
  FC_TRY(bn_kernel(dev, cpu ? "bn_backward_partials_cpu" : "bn_backward_partials", &k));
  const fc_kernel_arg a1[] = {FC_ARG_VIEW(x),           FC_ARG_VIEW(dy),
                              FC_ARG_VIEW(y),           FC_ARG_UINT(sn),
                              FC_ARG_UINT(sc),          FC_ARG_UINT(hw),
                              FC_ARG_UINT(m),           FC_ARG_UINT(parts),
                              FC_ARG_UINT(c),           FC_ARG_VIEW(save_mean),
                              FC_ARG_VIEW(save_invstd), FC_ARG_INT(relu_mask),
                              FC_ARG_VIEW(part),        FC_ARG_UINT(SLICE_ELEMENTS)};
  FC_TRY(fc_ops_launch_2d(dev, k, "batchnorm_backward_partials", parts, c, a1,
                          FC_NARGS(a1) - (cpu ? 0 : 1)));

  FC_TRY(bn_kernel(dev, "bn_backward_finalize", &k));
  const fc_kernel_arg a2[] = {
      FC_ARG_VIEW(part),           FC_ARG_UINT(parts),  FC_ARG_UINT(c),     FC_ARG_UINT(m),
      FC_ARG_INT(accumulate != 0), FC_ARG_VIEW(dgamma), FC_ARG_VIEW(dbeta), FC_ARG_VIEW(sums)};
  FC_TRY(fc_launch_1d(dev, k, "batchnorm_backward_finalize", c, a2, FC_NARGS(a2)));
  /* --sync-bn: dx needs the global batch's means of dy and dy·x̂ (dgamma and
   * dbeta stay this rank's sums: the trainer adds the gradients up). */
  if (p->sync && p->sync->ranks > 1)
    FC_TRY(sync_sum(dev, p->sync, sums, 2 * c, (double)m, 1.0 / ((double)m * p->sync->ranks)));

  FC_TRY(bn_kernel(dev, cpu ? "bn_backward_dx_cpu" : "bn_backward_dx", &k));
  const fc_kernel_arg a3[] = {FC_ARG_VIEW(x),           FC_ARG_VIEW(dy),
                              FC_ARG_VIEW(y),           FC_ARG_UINT(sn),
                              FC_ARG_UINT(sc),          FC_ARG_UINT(hw),
                              FC_ARG_UINT(m),           FC_ARG_UINT(parts),
                              FC_ARG_UINT(c),           FC_ARG_VIEW(save_mean),
                              FC_ARG_VIEW(save_invstd), FC_ARG_VIEW(p->gamma),
                              FC_ARG_VIEW(sums),        FC_ARG_INT(relu_mask),
                              FC_ARG_VIEW(dx),          FC_ARG_UINT(SLICE_ELEMENTS)};
  return fc_ops_launch_2d(dev, k, "batchnorm_backward_dx", cpu ? parts : m, c, a3, FC_NARGS(a3));
}
