/* Affine warp of a planar uint8 image into uint8 crops, one work-item per
 * (n·OH·OW + output pixel). m[n] = 6 floats mapping output (x, y) to the
 * source point (m0·x + m1·y + m2, m3·x + m4·y + m5); bilinear, coordinates
 * clamped to the image. out_c == 1 with in_c == 3: ITU-R 601 luma of the
 * rounded RGB samples (fc_image_decode's rule). */
static uchar warp_sample(__global const uchar *img, const int h, const int w, const float sx,
                         const float sy) {
  const float cx = clamp(sx, 0.0f, (float)(w - 1)), cy = clamp(sy, 0.0f, (float)(h - 1));
  const int xa = (int)cx, ya = (int)cy;
  const int xb = min(xa + 1, w - 1), yb = min(ya + 1, h - 1);
  const float lx = cx - (float)xa, ly = cy - (float)ya;
  const float top = (1.0f - lx) * (float)img[ya * w + xa] + lx * (float)img[ya * w + xb];
  const float bot = (1.0f - lx) * (float)img[yb * w + xa] + lx * (float)img[yb * w + xb];
  return (uchar)min((int)((1.0f - ly) * top + ly * bot + 0.5f), 255);
}

__kernel void affine_warp(__global const uchar *src, const uint src_off, const int in_c,
                          const int h, const int w, __global const float *m, const uint m_off,
                          __global uchar *y, const uint y_off, const int out_c, const int oh,
                          const int ow, const uint count) {
  const uint q = get_global_id(0);
  if (q >= count) return;
  const uint plane = (uint)(oh * ow);
  const uint n = q / plane, r = q - n * plane;
  const int oy = (int)(r / (uint)ow), ox = (int)r - oy * ow;
  __global const float *a = m + m_off + 6 * n;
  const float sx = a[0] * (float)ox + a[1] * (float)oy + a[2];
  const float sy = a[3] * (float)ox + a[4] * (float)oy + a[5];
  const uint hw = (uint)(h * w);
  __global uchar *dst = y + y_off + n * (uint)out_c * plane + r;
  if (out_c == 1 && in_c == 3) {
    const uint rr = warp_sample(src + src_off, h, w, sx, sy);
    const uint gg = warp_sample(src + src_off + hw, h, w, sx, sy);
    const uint bb = warp_sample(src + src_off + 2 * hw, h, w, sx, sy);
    dst[0] = (uchar)((19595u * rr + 38470u * gg + 7471u * bb + 32768u) >> 16);
    return;
  }
  for (int c = 0; c < out_c; c++)
    dst[(uint)c * plane] = warp_sample(src + src_off + (uint)c * hw, h, w, sx, sy);
}
