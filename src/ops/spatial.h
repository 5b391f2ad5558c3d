/* Helpers shared by the ops on 4-D activations (conv, batchnorm, pooling, convert). */
#ifndef FERCL_OPS_SPATIAL_H
#define FERCL_OPS_SPATIAL_H

#include "ops/op_checks.h"

/* 2-D launch over (g0, g1) with work-groups of (device 1-D size, 1): dim 0
 * indexes elements within a channel (n·HW + p), dim 1 the channel. */
fc_status fc_ops_launch_2d(fc_device *dev, cl_kernel k, const char *tag, size_t g0, size_t g1,
                           const fc_kernel_arg *args, int nargs);

/* Enqueues cl/pool.cl's max-pool from `in` to `out` (shapes and views already checked;
 * windows keep to the part inside the input, so floor and ceil modes share it). */
fc_status fc_maxpool2d_launch(fc_device *dev, const char *op, fc_shape4 in, fc_shape4 out, int k,
                              int stride, int pad, fc_view x, fc_view y, fc_view argmax);

#endif
