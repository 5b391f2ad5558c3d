/* Crop + resize of a planar uint8 image into float NCHW maps, one work-item
 * per (n·OH·OW + output pixel, c). boxes[n] = x0, y0, x1, y1 (exclusive). mode 0: area (adaptive average pool,
 * PyTorch's interpolate "area"); mode 1: bilinear, align_corners=False. */
__kernel void crop_resize(__global const uchar *src, const uint src_off, const int h,
                          const int w, __global const int *boxes, const uint b_off,
                          __global float *y, const uint y_off, const int oh, const int ow,
                          const uint count, const uint channels, const int mode,
                          const float scale, const float shift) {
  const uint q = get_global_id(0), c = get_global_id(1);
  if (q >= count || c >= channels) return;
  const uint plane = (uint)(oh * ow);
  const uint n = q / plane, r = q - n * plane;
  const int oy = (int)(r / (uint)ow), ox = (int)r - oy * ow;
  __global const int *b = boxes + b_off + 4 * n;
  /* Clamped to the image and at least one pixel: a bad box never reads outside. */
  const int bx = clamp(b[0], 0, w - 1), by = clamp(b[1], 0, h - 1);
  const int bw = clamp(b[2], bx + 1, w) - bx, bh = clamp(b[3], by + 1, h) - by;
  __global const uchar *img = src + src_off + (size_t)c * (size_t)h * (size_t)w;
  float v;
  if (mode == 0) {
    const int y0 = (oy * bh) / oh, y1 = ((oy + 1) * bh + oh - 1) / oh;
    const int x0 = (ox * bw) / ow, x1 = ((ox + 1) * bw + ow - 1) / ow;
    float acc = 0.0f;
    for (int yy = y0; yy < y1; yy++) {
      __global const uchar *row = img + (size_t)(by + yy) * (size_t)w + bx;
      for (int xx = x0; xx < x1; xx++) acc += (float)row[xx];
    }
    v = acc / (float)((y1 - y0) * (x1 - x0));
  } else {
    const float sy = max(((float)oy + 0.5f) * (float)bh / (float)oh - 0.5f, 0.0f);
    const float sx = max(((float)ox + 0.5f) * (float)bw / (float)ow - 0.5f, 0.0f);
    const int ya = min((int)sy, bh - 1), xa = min((int)sx, bw - 1);
    const int yb = min(ya + 1, bh - 1), xb = min(xa + 1, bw - 1);
    const float ly = sy - (float)ya, lx = sx - (float)xa;
    __global const uchar *ra = img + (size_t)(by + ya) * (size_t)w + bx;
    __global const uchar *rb = img + (size_t)(by + yb) * (size_t)w + bx;
    const float top = (1.0f - lx) * (float)ra[xa] + lx * (float)ra[xb];
    const float bot = (1.0f - lx) * (float)rb[xa] + lx * (float)rb[xb];
    v = (1.0f - ly) * top + ly * bot;
  }
  y[y_off + (n * channels + c) * plane + r] = scale * v + shift;
}
