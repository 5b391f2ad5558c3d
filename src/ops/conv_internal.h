/* Shared by src/ops/im2col.c and src/ops/conv2d.c. */
#ifndef FERCL_OPS_CONV_INTERNAL_H
#define FERCL_OPS_CONV_INTERNAL_H

#include "ops/ops_internal.h"

size_t fc_conv2d_weight_count(const fc_conv2d_desc *d);
/* Kernel arguments the column kernels of cl/conv2d.cl share: the input's sample and
 * channel strides (shape s), its plane and the output plane; the window (input
 * channels, kernel, stride, padding). */
#define FC_ARG_CONV_PLANES(d, s)                                                              \
  FC_ARG_UINT(fc_shape4_stride_n(s)), FC_ARG_UINT(fc_shape4_stride_c(s)), FC_ARG_INT((d)->h), \
      FC_ARG_INT((d)->w), FC_ARG_INT(fc_conv2d_out_h(d)), FC_ARG_INT(fc_conv2d_out_w(d))
#define FC_ARG_CONV_WINDOW(d)                                                                \
  FC_ARG_UINT((d)->c_in), FC_ARG_INT((d)->kh), FC_ARG_INT((d)->kw), FC_ARG_INT((d)->stride), \
      FC_ARG_INT((d)->pad)

/* Kernel `name` of the cl/conv2d.cl program. */
fc_status fc_conv2d_kernel(fc_device *dev, const char *name, cl_kernel *out);

/* Stride-1 "same" convolution on channel-contiguous activations: the shifted-copy
 * kernels of cl/conv2d.cl (im2col_panels_s1, col2im_s1) apply. */
int fc_conv2d_shift_eligible(const fc_conv2d_desc *d);

#endif
