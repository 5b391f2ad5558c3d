/* Helpers shared by the ops on 4-D activations (conv, batchnorm, pooling, convert). */
#ifndef FERCL_OPS_SPATIAL_H
#define FERCL_OPS_SPATIAL_H

#include "ops/ops_internal.h"

/* FC_ERR_INVALID_ARG unless every extent is ≥ 1 and the layout is known;
 * FC_ERR_LIMIT when the element count does not fit the kernels' uint indices. */
fc_status fc_ops_check_shape4(const char *op, fc_shape4 s, const char *what);
/* FC_ERR_LIMIT when view.offset + count does not fit a uint index. */
fc_status fc_ops_check_view(const char *op, fc_view v, size_t count, const char *what);
/* FC_ERR_INVALID_ARG when a required view is absent. */
fc_status fc_ops_require_view(const char *op, fc_view v, const char *what);

/* 2-D launch over (g0, g1) with work-groups of (device 1-D size, 1): dim 0
 * indexes elements within a channel (n·HW + p), dim 1 the channel. */
fc_status fc_ops_launch_2d(fc_device *dev, cl_kernel k, const char *tag, size_t g0, size_t g1,
                           const fc_kernel_arg *args, int nargs);

#endif
