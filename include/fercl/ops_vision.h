/* fer-cl: inference ops for pictures (face detection and alignment).
 *
 * Forward only (nothing here is trained), same conventions as fercl/ops.h:
 * views into device buffers, enqueue only, every argument checked first.
 *   PReLU            y = x where x ≥ 0, else slope[c]·x   (cl/prelu.cl)
 *   max-pool, ceil   PyTorch's MaxPool2d(ceil_mode=True)  (cl/pool.cl's kernels)
 *   crop + resize    boxes of a uint8 image → float maps  (cl/resize.cl)
 *   affine warp      uint8 image → uint8 crops            (cl/warp.cl) */
#ifndef FERCL_OPS_VISION_H
#define FERCL_OPS_VISION_H

#include "fercl/api.h"
#include "fercl/ops.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- PReLU (cl/prelu.cl) ----
 * x, y in shape s (either layout; a [N][C] matrix is (N, C, 1, 1) NCHW); slope [C].
 * y may alias x. */
FC_API fc_status fc_prelu_forward(fc_device *dev, fc_shape4 s, fc_view x, fc_view slope, fc_view y);

/* ---- max-pool with ceil rounding (PyTorch's ceil_mode=True, no padding) ----
 * OH = ⌈(H − k)/stride⌉ + 1 (less one when that last window would start past the
 * input): the last window may hang over the edge and takes the maximum of the
 * part inside. Same tie / NaN / argmax rules as fc_maxpool2d_forward. */
FC_API fc_shape4 fc_maxpool2d_ceil_out_shape(fc_shape4 in, int k, int stride);
FC_API fc_status fc_maxpool2d_ceil_forward(fc_device *dev, fc_shape4 in, int k, int stride,
                                           fc_view x, fc_view y, fc_view argmax);

/* ---- crop + resize (cl/resize.cl) ----
 * src: a planar uint8 image [C][H][W] (offset in bytes). boxes: int32 [N][4], per output
 * sample the rectangle x0, y0, x1, y1 (x1, y1 exclusive) of src it is made from; the
 * kernel clamps it to the image and to at least one pixel (x0 to 0..W−1, x1 to x0+1..W). y: float NCHW [N][C][OH][OW] =
 * scale · resized + shift.
 *   FC_RESIZE_AREA      PyTorch's interpolate(mode="area") = adaptive average pooling:
 *                       output (i, j) averages rows ⌊i·h/OH⌋ .. ⌈(i+1)·h/OH⌉ − 1 (same
 *                       for columns) of the box; what facenet-pytorch's MTCNN uses.
 *   FC_RESIZE_BILINEAR  interpolate(mode="bilinear", align_corners=False): half-pixel
 *                       centres, edge samples clamped, no antialiasing. */
typedef enum fc_resize_mode { FC_RESIZE_AREA = 0, FC_RESIZE_BILINEAR = 1 } fc_resize_mode;
FC_API fc_status fc_crop_resize(fc_device *dev, fc_resize_mode mode, fc_view src, int channels,
                                int h, int w, fc_view boxes, int n, int oh, int ow, float scale,
                                float shift, fc_view y);

/* ---- affine warp (cl/warp.cl) ----
 * For each of n outputs, matrix m (float [N][6]) maps an output pixel (x, y) to the
 * source point (m0·x + m1·y + m2, m3·x + m4·y + m5) (pixel centres at integers);
 * the source is sampled bilinearly, coordinates clamped to the image (edge pixels
 * repeat). src: uint8 [C_in][H][W]; y: uint8 [N][C_out][OH][OW], rounded to nearest.
 * C_out = C_in, or C_out = 1 from C_in = 3: ITU-R 601 luma of the rounded RGB
 * samples (as fc_image_decode's gray). */
FC_API fc_status fc_affine_warp(fc_device *dev, fc_view src, int in_channels, int h, int w,
                                fc_view m, int n, int out_channels, int oh, int ow, fc_view y);

#ifdef __cplusplus
}
#endif
#endif
