/* Faces drawn on their picture (fer-cl faces / predict --annotate), with the plot canvas of
 * src/ssl (plot_canvas.c, plot_font.c). */
#include <math.h>

#include "fercl/face.h"
#include "ssl/plot.h"

fc_status fc_face_annotate_png(const char *path, const fc_image *rgb, const fc_face *faces, int n,
                               const char *const *labels) {
  if (rgb->channels != 3)
    return fc_errorf(FC_ERR_INVALID_ARG, "fc_face_annotate_png: %s: needs an RGB picture", path);
  fc_canvas cv;
  FC_TRY(fc_canvas_create(&cv, rgb->width, rgb->height, (fc_rgb){0, 0, 0}));
  size_t plane = (size_t)rgb->width * rgb->height;
  for (size_t i = 0; i < plane; i++) {
    cv.pixels[3 * i] = rgb->data[i];
    cv.pixels[3 * i + 1] = rgb->data[plane + i];
    cv.pixels[3 * i + 2] = rgb->data[2 * plane + i];
  }
  int side = rgb->width > rgb->height ? rgb->width : rgb->height;
  int thick = side / 400 + 1, scale = side / 500 + 1;
  for (int i = 0; i < n; i++) {
    const fc_face *f = &faces[i];
    fc_rgb col = fc_plot_palette(i);
    double x0 = f->box[0], y0 = f->box[1], x1 = f->box[2], y1 = f->box[3];
    fc_canvas_line(&cv, x0, y0, x1, y0, thick, col);
    fc_canvas_line(&cv, x1, y0, x1, y1, thick, col);
    fc_canvas_line(&cv, x1, y1, x0, y1, thick, col);
    fc_canvas_line(&cv, x0, y1, x0, y0, thick, col);
    for (int k = 0; k < 5 && f->score > 0; k++) {
      int px = (int)lround(f->landmarks[2 * k]), py = (int)lround(f->landmarks[2 * k + 1]);
      fc_canvas_fill_rect(&cv, px - thick, py - thick, px + thick, py + thick, col);
    }
    const char *text = labels && labels[i] ? labels[i] : "";
    if (*text) {
      int tw = fc_text_width(text, scale), th = fc_text_height(scale);
      int tx = (int)x0, ty = (int)y0 - th - 2 * thick;
      if (ty < 0) ty = (int)y1 + thick;
      fc_canvas_fill_rect(&cv, tx, ty, tx + tw + 2, ty + th + 1, col);
      fc_canvas_text(&cv, tx + 1, ty + 1, text, scale, (fc_rgb){255, 255, 255});
    }
  }
  fc_status st = fc_canvas_write_png(&cv, path);
  fc_canvas_free(&cv);
  return st;
}
