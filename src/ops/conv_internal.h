/* Shared by src/ops/im2col.c and src/ops/conv2d.c. */
#ifndef FERCL_OPS_CONV_INTERNAL_H
#define FERCL_OPS_CONV_INTERNAL_H

#include "ops/ops_internal.h"

size_t fc_conv2d_weight_count(const fc_conv2d_desc *d);
/* Kernel `name` of the cl/conv2d.cl program. */
fc_status fc_conv2d_kernel(fc_device *dev, const char *name, cl_kernel *out);

/* Stride-1 "same" convolution on channel-contiguous activations: the shifted-copy
 * kernels of cl/conv2d.cl (im2col_panels_s1, col2im_s1) apply. */
int fc_conv2d_shift_eligible(const fc_conv2d_desc *d);

#endif
