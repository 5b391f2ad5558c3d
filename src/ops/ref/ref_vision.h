/* Plain-C references of the picture ops (fercl/ops_vision.h), same arguments
 * with host arrays. The float ones compute in double; the uint8 ones (warp)
 * follow the kernel's float arithmetic so their rounding matches exactly. */
#ifndef FERCL_OPS_REF_VISION_H
#define FERCL_OPS_REF_VISION_H

#include <stdint.h>

#include "fercl/ops_vision.h"

void fc_ref_prelu_forward(fc_shape4 s, const double *x, const double *slope, double *y);
void fc_ref_maxpool2d_ceil_forward(fc_shape4 in, int k, int stride, const double *x, double *y,
                                   int32_t *argmax);
void fc_ref_crop_resize(fc_resize_mode mode, const uint8_t *src, int channels, int h, int w,
                        const int32_t *boxes, int n, int oh, int ow, double scale, double shift,
                        double *y);
void fc_ref_affine_warp(const uint8_t *src, int in_channels, int h, int w, const float *m, int n,
                        int out_channels, int oh, int ow, uint8_t *y);

#endif
