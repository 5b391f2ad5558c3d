/* Affine warp reference, in the kernel's float arithmetic (uint8 output must match exactly). */
#include <math.h>

#include "ops/ref/ref_vision.h"

static uint8_t sample(const uint8_t *img, int h, int w, float sx, float sy) {
  float cx = fminf(fmaxf(sx, 0.0f), (float)(w - 1)), cy = fminf(fmaxf(sy, 0.0f), (float)(h - 1));
  int xa = (int)cx, ya = (int)cy;
  int xb = xa + 1 < w ? xa + 1 : w - 1, yb = ya + 1 < h ? ya + 1 : h - 1;
  float lx = cx - (float)xa, ly = cy - (float)ya;
  float top = (1.0f - lx) * (float)img[ya * w + xa] + lx * (float)img[ya * w + xb];
  float bot = (1.0f - lx) * (float)img[yb * w + xa] + lx * (float)img[yb * w + xb];
  int v = (int)((1.0f - ly) * top + ly * bot + 0.5f);
  return (uint8_t)(v > 255 ? 255 : v);
}

void fc_ref_affine_warp(const uint8_t *src, int in_channels, int h, int w, const float *m, int n,
                        int out_channels, int oh, int ow, uint8_t *y) {
  size_t hw = (size_t)h * w, plane = (size_t)oh * ow;
  for (int i = 0; i < n; i++) {
    const float *a = m + 6 * i;
    for (int oy = 0; oy < oh; oy++)
      for (int ox = 0; ox < ow; ox++) {
        float sx = a[0] * (float)ox + a[1] * (float)oy + a[2];
        float sy = a[3] * (float)ox + a[4] * (float)oy + a[5];
        uint8_t *dst = y + (size_t)i * out_channels * plane + (size_t)oy * ow + ox;
        if (out_channels == 1 && in_channels == 3) {
          uint32_t r = sample(src, h, w, sx, sy), g = sample(src + hw, h, w, sx, sy),
                   b = sample(src + 2 * hw, h, w, sx, sy);
          *dst = (uint8_t)((19595u * r + 38470u * g + 7471u * b + 32768u) >> 16);
        } else {
          for (int c = 0; c < out_channels; c++)
            dst[c * plane] = sample(src + c * hw, h, w, sx, sy);
        }
      }
  }
}
