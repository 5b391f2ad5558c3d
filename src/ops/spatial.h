/* Helpers shared by the ops on 4-D activations (conv, batchnorm, pooling, convert). */
#ifndef FERCL_OPS_SPATIAL_H
#define FERCL_OPS_SPATIAL_H

#include "ops/op_checks.h"


/* 2-D launch over (g0, g1) with work-groups of (device 1-D size, 1): dim 0
 * indexes elements within a channel (n·HW + p), dim 1 the channel. */
fc_status fc_ops_launch_2d(fc_device *dev, cl_kernel k, const char *tag, size_t g0, size_t g1,
                           const fc_kernel_arg *args, int nargs);

#endif
