/* Host side of the column kernels of cl/conv2d.cl: convolution geometry, im2col and col2im. */
#include "ops/conv_internal.h"
#include "ops/spatial.h"

fc_status fc_conv2d_check(const fc_conv2d_desc *d) {
  if (!d) return fc_errorf(FC_ERR_INVALID_ARG, "conv2d: descriptor is NULL");
  if (d->n < 1 || d->c_in < 1 || d->h < 1 || d->w < 1 || d->c_out < 1)
    return fc_errorf(FC_ERR_INVALID_ARG,
                     "conv2d: n=%d c_in=%d h=%d w=%d c_out=%d; each must be at least 1", d->n,
                     d->c_in, d->h, d->w, d->c_out);
  if (d->kh < 1 || d->kw < 1 || d->stride < 1 || d->pad < 0)
    return fc_errorf(FC_ERR_INVALID_ARG,
                     "conv2d: kernel %dx%d stride %d pad %d; kernel and stride must be at "
                     "least 1, padding at least 0",
                     d->kh, d->kw, d->stride, d->pad);
  if (d->h + 2 * d->pad < d->kh || d->w + 2 * d->pad < d->kw)
    return fc_errorf(FC_ERR_INVALID_ARG,
                     "conv2d: a %dx%d kernel does not fit a %dx%d input padded by %d", d->kh, d->kw,
                     d->h, d->w, d->pad);
  if (d->layout != FC_LAYOUT_NCHW && d->layout != FC_LAYOUT_CNHW)
    return fc_errorf(FC_ERR_INVALID_ARG, "conv2d: unknown layout %d", (int)d->layout);
  FC_TRY(fc_ops_check_u32("conv2d", fc_shape4_count(fc_conv2d_in_shape(d)), "input size"));
  FC_TRY(fc_ops_check_u32("conv2d", fc_shape4_count(fc_conv2d_out_shape(d)), "output size"));
  return fc_ops_check_u32("conv2d", fc_conv2d_weight_count(d), "weight count");
}

int fc_conv2d_out_h(const fc_conv2d_desc *d) { return (d->h + 2 * d->pad - d->kh) / d->stride + 1; }
int fc_conv2d_out_w(const fc_conv2d_desc *d) { return (d->w + 2 * d->pad - d->kw) / d->stride + 1; }

fc_shape4 fc_conv2d_in_shape(const fc_conv2d_desc *d) {
  fc_shape4 s = {d->n, d->c_in, d->h, d->w, d->layout};
  return s;
}

fc_shape4 fc_conv2d_out_shape(const fc_conv2d_desc *d) {
  fc_shape4 s = {d->n, d->c_out, fc_conv2d_out_h(d), fc_conv2d_out_w(d), d->layout};
  return s;
}

size_t fc_conv2d_weight_count(const fc_conv2d_desc *d) {
  return (size_t)d->c_out * d->c_in * d->kh * d->kw;
}

fc_status fc_conv2d_kernel(fc_device *dev, const char *name, cl_kernel *out) {
  return fc_device_kernel(dev, "conv2d", "", name, out);
}

/* What im2col and col2im check: the descriptor, samples n0..n0+count−1 of the batch, the
 * column matrix (its columns and ld_col), then the image view (x or dx: the whole batch)
 * and the column view. */
static fc_status check_chunk(const char *op, const fc_conv2d_desc *d, int n0, int count,
                             size_t ld_col, const char *image_name, fc_view image, fc_view col,
                             size_t *columns) {
  FC_TRY(fc_conv2d_check(d));
  if (n0 < 0 || count < 1 || n0 > d->n - count)
    return fc_errorf(FC_ERR_INVALID_ARG, "%s: samples %d..%d are outside the batch of %d", op, n0,
                     n0 + count - 1, d->n);
  *columns = (size_t)count * fc_conv2d_out_h(d) * fc_conv2d_out_w(d);
  if (ld_col < *columns)
    return fc_errorf(FC_ERR_INVALID_ARG, "%s: ld_col %zu is smaller than the %zu columns", op,
                     ld_col, *columns);
  size_t k = (size_t)d->c_in * d->kh * d->kw;
  FC_TRY(fc_ops_check_u32(op, (k - 1) * ld_col + *columns, "column matrix size"));
  FC_TRY(fc_ops_check_view(op, image_name, image, fc_shape4_count(fc_conv2d_in_shape(d))));
  return fc_ops_check_view(op, "col", col, (k - 1) * ld_col + *columns);
}

fc_status fc_im2col(fc_device *dev, const fc_conv2d_desc *d, fc_view x, int n0, int count,
                    fc_view col, size_t ld_col) {
  size_t columns = 0;
  FC_TRY(check_chunk("im2col", d, n0, count, ld_col, "x", x, col, &columns));
  fc_shape4 s = fc_conv2d_in_shape(d);
  cl_kernel kernel = NULL;
  FC_TRY(fc_conv2d_kernel(dev, "im2col", &kernel));
  fc_view xs = fc_view_add(x, (size_t)n0 * fc_shape4_stride_n(s));
  const fc_kernel_arg args[] = {FC_ARG_VIEW(xs),      FC_ARG_CONV_PLANES(d, s),
                                FC_ARG_UINT(columns), FC_ARG_CONV_WINDOW(d),
                                FC_ARG_VIEW(col),     FC_ARG_UINT(ld_col)};
  return fc_ops_launch_2d(dev, kernel, "im2col", columns, (size_t)d->c_in, args, FC_NARGS(args));
}

int fc_conv2d_shift_eligible(const fc_conv2d_desc *d) {
  return d->stride == 1 && fc_conv2d_out_h(d) == d->h && fc_conv2d_out_w(d) == d->w &&
         (d->layout == FC_LAYOUT_CNHW || d->n == 1) && (size_t)d->n * d->h * d->w < 0x7fffff00u;
}

fc_status fc_col2im(fc_device *dev, const fc_conv2d_desc *d, fc_view col, size_t ld_col, int n0,
                    int count, fc_view dx) {
  size_t columns = 0;
  FC_TRY(check_chunk("col2im", d, n0, count, ld_col, "dx", dx, col, &columns));
  fc_shape4 s = fc_conv2d_in_shape(d);
  cl_kernel kernel = NULL;
  fc_view dxs = fc_view_add(dx, (size_t)n0 * fc_shape4_stride_n(s));
  size_t pixels = (size_t)count * d->h * d->w;
  /* CPUs: the shifted-copy or plane variants (GPUs keep the per-pixel gather). */
  if (fc_conv2d_shift_eligible(d) && dev->cpu_kernels) {
    FC_TRY(fc_conv2d_kernel(dev, "col2im_s1", &kernel));
    const fc_kernel_arg args[] = {FC_ARG_VIEW(col),
                                  FC_ARG_UINT(ld_col),
                                  FC_ARG_INT(d->h),
                                  FC_ARG_INT(d->w),
                                  FC_ARG_UINT(pixels),
                                  FC_ARG_UINT(d->c_in),
                                  FC_ARG_INT(d->kh),
                                  FC_ARG_INT(d->kw),
                                  FC_ARG_INT(d->pad),
                                  FC_ARG_VIEW(dxs),
                                  FC_ARG_UINT(fc_shape4_stride_c(s))};
    return fc_ops_launch_2d(dev, kernel, "col2im", (pixels + 15) / 16, (size_t)d->c_in, args,
                            FC_NARGS(args));
  }
  /* By planes on CPUs (cl/conv2d.cl col2im_plane). */
  int cpu = dev->cpu_kernels;
  FC_TRY(fc_conv2d_kernel(dev, cpu ? "col2im_plane" : "col2im", &kernel));
  const fc_kernel_arg args[] = {FC_ARG_VIEW(col),
                                FC_ARG_UINT(ld_col),
                                FC_ARG_INT(d->h),
                                FC_ARG_INT(d->w),
                                FC_ARG_INT(fc_conv2d_out_h(d)),
                                FC_ARG_INT(fc_conv2d_out_w(d)),
                                FC_ARG_UINT(pixels),
                                FC_ARG_CONV_WINDOW(d),
                                FC_ARG_VIEW(dxs),
                                FC_ARG_UINT(fc_shape4_stride_n(s)),
                                FC_ARG_UINT(fc_shape4_stride_c(s))};
  return fc_ops_launch_2d(dev, kernel, "col2im", cpu ? (size_t)count : pixels, (size_t)d->c_in,
                          args, FC_NARGS(args));
}
