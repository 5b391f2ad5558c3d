/* Host side of cl/lae.cl: local attention enhancement (LAE), a residual spatial attention. */
#include "ops/op_checks.h"

/* Pixels per partial sum of the weight gradient: fixed, so the summation order
 * (and the result) depends only on the shape. */
#define LAE_CHUNK 256u

static size_t pixels(fc_shape4 s) { return (size_t)s.n * s.h * s.w; }
static size_t chunks(fc_shape4 s) { return (pixels(s) + LAE_CHUNK - 1) / LAE_CHUNK; }

size_t fc_lae_saved_size(fc_shape4 shape) { return 4 * pixels(shape); }

size_t fc_lae_workspace_size(fc_shape4 shape, int k) {
  size_t taps = 2 * (size_t)k * (size_t)k + 1;
  return 3 * pixels(shape) + taps * chunks(shape); /* ds, dM, partials */
}

static fc_status check_common(const char *op, fc_shape4 s, int k, fc_view x, fc_view w) {
  FC_TRY(fc_ops_check_shape4(op, s, "shape"));
  if (k < 1 || k > 15 || k % 2 == 0)
    return fc_errorf(FC_ERR_INVALID_ARG, "%s: kernel size %d must be odd, 1..15", op, k);
  FC_TRY(fc_ops_check_u32(op, 4 * pixels(s), "saved size"));
  FC_TRY(fc_ops_check_view(op, "x", x, fc_shape4_count(s)));
  return fc_ops_check_view(op, "w", w, 2 * (size_t)k * k);
}

static fc_status kernel(fc_device *dev, const char *name, cl_kernel *k) {
  return fc_device_kernel(dev, "lae", "", name, k);
}

fc_status fc_lae_forward(fc_device *dev, fc_shape4 s, int k, fc_view x, fc_view w, fc_view b,
                         fc_view y, fc_view saved) {
  const char *op = "lae_forward";
  FC_TRY(check_common(op, s, k, x, w));
  FC_TRY(fc_ops_check_view(op, "b", b, 1));
  FC_TRY(fc_ops_check_view(op, "y", y, fc_shape4_count(s)));
  FC_TRY(fc_ops_check_view(op, "saved", saved, fc_lae_saved_size(s)));
  const cl_uint N = (cl_uint)s.n, C = (cl_uint)s.c, H = (cl_uint)s.h, W = (cl_uint)s.w;
  const cl_uint HW = H * W, sn = (cl_uint)fc_shape4_stride_n(s),
                sc = (cl_uint)fc_shape4_stride_c(s);
  cl_kernel kp, kg, ka;
  FC_TRY(kernel(dev, "lae_pool", &kp));
  FC_TRY(kernel(dev, "lae_gate", &kg));
  FC_TRY(kernel(dev, "lae_apply", &ka));

  const fc_kernel_arg pool[] = {FC_ARG_VIEW(x),    FC_ARG_UINT(N),  FC_ARG_UINT(C),
                                FC_ARG_UINT(HW),   FC_ARG_UINT(sn), FC_ARG_UINT(sc),
                                FC_ARG_VIEW(saved)};
  FC_TRY(fc_launch_1d(dev, kp, "lae_pool", pixels(s), pool, FC_NARGS(pool)));
  const fc_kernel_arg gate[] = {FC_ARG_VIEW(w), FC_ARG_VIEW(b), FC_ARG_UINT(N),    FC_ARG_UINT(H),
                                FC_ARG_UINT(W), FC_ARG_UINT(k), FC_ARG_VIEW(saved)};
  FC_TRY(fc_launch_1d(dev, kg, "lae_gate", pixels(s), gate, FC_NARGS(gate)));
  const fc_kernel_arg apply[] = {FC_ARG_VIEW(x),  FC_ARG_VIEW(saved), FC_ARG_UINT(N),
                                 FC_ARG_UINT(C),  FC_ARG_UINT(HW),    FC_ARG_UINT(sn),
                                 FC_ARG_UINT(sc), FC_ARG_VIEW(y)};
  return fc_launch_1d(dev, ka, "lae_apply", fc_shape4_count(s), apply, FC_NARGS(apply));
}

fc_status fc_lae_backward(fc_device *dev, fc_shape4 s, int k, fc_view x, fc_view w, fc_view saved,
                          fc_view dy, fc_view dx, fc_view dw, fc_view db, int accumulate,
                          fc_view workspace) {
  const char *op = "lae_backward";
  FC_TRY(check_common(op, s, k, x, w));
  FC_TRY(fc_ops_check_view(op, "saved", saved, fc_lae_saved_size(s)));
  FC_TRY(fc_ops_check_view(op, "dy", dy, fc_shape4_count(s)));
  FC_TRY(fc_ops_check_view(op, "dx", dx, fc_shape4_count(s)));
  FC_TRY(fc_ops_check_view(op, "dw", dw, 2 * (size_t)k * k));
  FC_TRY(fc_ops_check_view(op, "db", db, 1));
  FC_TRY(fc_ops_check_view(op, "workspace", workspace, fc_lae_workspace_size(s, k)));
  const cl_uint N = (cl_uint)s.n, C = (cl_uint)s.c, H = (cl_uint)s.h, W = (cl_uint)s.w;
  const cl_uint HW = H * W, sn = (cl_uint)fc_shape4_stride_n(s),
                sc = (cl_uint)fc_shape4_stride_c(s);
  const cl_uint ds_off = (cl_uint)workspace.offset, dm_off = ds_off + (cl_uint)pixels(s),
                part_off = dm_off + 2 * (cl_uint)pixels(s);
  const cl_uint nch = (cl_uint)chunks(s), taps = 2 * (cl_uint)k * (cl_uint)k;
  cl_kernel kg, km, ki, kp, ks;
  FC_TRY(kernel(dev, "lae_bwd_gate", &kg));
  FC_TRY(kernel(dev, "lae_bwd_maps", &km));
  FC_TRY(kernel(dev, "lae_bwd_input", &ki));
  FC_TRY(kernel(dev, "lae_bwd_wpart", &kp));
  FC_TRY(kernel(dev, "lae_bwd_wsum", &ks));
  cl_mem wsm = workspace.mem;

  const fc_kernel_arg gate[] = {
      FC_ARG_VIEW(x),  FC_ARG_VIEW(dy), FC_ARG_VIEW(saved), FC_ARG_UINT(N),  FC_ARG_UINT(C),
      FC_ARG_UINT(HW), FC_ARG_UINT(sn), FC_ARG_UINT(sc),    FC_ARG_MEM(wsm), FC_ARG_UINT(ds_off)};
  FC_TRY(fc_launch_1d(dev, kg, "lae_bwd_gate", pixels(s), gate, FC_NARGS(gate)));
  const fc_kernel_arg maps[] = {FC_ARG_VIEW(w),      FC_ARG_UINT(N),     FC_ARG_UINT(H),
                                FC_ARG_UINT(W),      FC_ARG_UINT(k),     FC_ARG_MEM(wsm),
                                FC_ARG_UINT(ds_off), FC_ARG_UINT(dm_off)};
  FC_TRY(fc_launch_1d(dev, km, "lae_bwd_maps", pixels(s), maps, FC_NARGS(maps)));
  const fc_kernel_arg part[] = {FC_ARG_VIEW(saved),    FC_ARG_MEM(wsm), FC_ARG_UINT(ds_off),
                                FC_ARG_UINT(part_off), FC_ARG_UINT(N),  FC_ARG_UINT(H),
                                FC_ARG_UINT(W),        FC_ARG_UINT(k),  FC_ARG_UINT(LAE_CHUNK),
                                FC_ARG_UINT(nch)};
  FC_TRY(fc_launch_1d(dev, kp, "lae_bwd_wpart", (size_t)(taps + 1) * nch, part, FC_NARGS(part)));
  const fc_kernel_arg sum[] = {FC_ARG_MEM(wsm),
                               FC_ARG_UINT(part_off),
                               FC_ARG_UINT(k),
                               FC_ARG_UINT(nch),
                               FC_ARG_VIEW(dw),
                               FC_ARG_VIEW(db),
                               FC_ARG_UINT(accumulate != 0)};
  FC_TRY(fc_launch_1d(dev, ks, "lae_bwd_wsum", taps + 1, sum, FC_NARGS(sum)));
  /* Last: dx may alias dy, which the gate gradient above still had to read. */
  const fc_kernel_arg input[] = {
      FC_ARG_VIEW(dy), FC_ARG_VIEW(saved), FC_ARG_MEM(wsm), FC_ARG_UINT(dm_off), FC_ARG_UINT(N),
      FC_ARG_UINT(C),  FC_ARG_UINT(HW),    FC_ARG_UINT(sn), FC_ARG_UINT(sc),     FC_ARG_VIEW(dx)};
  return fc_launch_1d(dev, ki, "lae_bwd_input", fc_shape4_count(s), input, FC_NARGS(input));
}
