/* Crop + resize reference (area = adaptive average pool; bilinear with half-pixel centres). */
#include <math.h>

#include "ops/ref/ref_vision.h"

static int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

void fc_ref_crop_resize(fc_resize_mode mode, const uint8_t *src, int channels, int h, int w,
                        const int32_t *boxes, int n, int oh, int ow, double scale, double shift,
                        double *y) {
  for (int i = 0; i < n; i++) {
    const int32_t *b = boxes + 4 * i;
    int bx = clampi(b[0], 0, w - 1), by = clampi(b[1], 0, h - 1);
    int bw = clampi(b[2], bx + 1, w) - bx, bh = clampi(b[3], by + 1, h) - by;
    for (int c = 0; c < channels; c++) {
      const uint8_t *img = src + (size_t)c * h * w;
      for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++) {
          double v;
          if (mode == FC_RESIZE_AREA) {
            int y0 = (int)floor((double)oy * bh / oh), y1 = (int)ceil((double)(oy + 1) * bh / oh);
            int x0 = (int)floor((double)ox * bw / ow), x1 = (int)ceil((double)(ox + 1) * bw / ow);
            double acc = 0;
            for (int yy = y0; yy < y1; yy++)
              for (int xx = x0; xx < x1; xx++) acc += img[(size_t)(by + yy) * w + bx + xx];
            v = acc / ((double)(y1 - y0) * (x1 - x0));
          } else {
            double sy = fmax((oy + 0.5) * bh / oh - 0.5, 0),
                   sx = fmax((ox + 0.5) * bw / ow - 0.5, 0);
            int ya = (int)sy < bh - 1 ? (int)sy : bh - 1, xa = (int)sx < bw - 1 ? (int)sx : bw - 1;
            int yb = ya + 1 < bh ? ya + 1 : bh - 1, xb = xa + 1 < bw ? xa + 1 : bw - 1;
            double ly = sy - ya, lx = sx - xa;
            const uint8_t *ra = img + (size_t)(by + ya) * w + bx,
                          *rb = img + (size_t)(by + yb) * w + bx;
            v = (1 - ly) * ((1 - lx) * ra[xa] + lx * ra[xb]) +
                ly * ((1 - lx) * rb[xa] + lx * rb[xb]);
          }
          y[(((size_t)i * channels + c) * oh + oy) * ow + ox] = scale * v + shift;
        }
    }
  }
}
