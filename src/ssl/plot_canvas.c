/* The RGB canvas behind the plots: pixels, rectangles, clipped lines, PNG output. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/png_write.h"
#include "ssl/plot.h"

fc_status fc_canvas_create(fc_canvas *canvas, int width, int height, fc_rgb background) {
  if (!canvas) return fc_errorf(FC_ERR_INVALID_ARG, "fc_canvas_create: canvas is NULL");
  memset(canvas, 0, sizeof *canvas);
  if (width < 1 || height < 1 || width > FC_PLOT_MAX_SIDE || height > FC_PLOT_MAX_SIDE)
    return fc_errorf(FC_ERR_LIMIT, "image size %d x %d: each side must be 1 to %d pixels", width,
                     height, FC_PLOT_MAX_SIDE);
  size_t n = (size_t)width * (size_t)height;
  canvas->pixels = malloc(n * 3);
  if (!canvas->pixels)
    return fc_errorf(FC_ERR_NOMEM, "out of memory for a %d x %d image", width, height);
  canvas->width = width;
  canvas->height = height;
  fc_canvas_reset_clip(canvas);
  for (size_t i = 0; i < n; i++) {
    canvas->pixels[3 * i] = background.r;
    canvas->pixels[3 * i + 1] = background.g;
    canvas->pixels[3 * i + 2] = background.b;
  }
  return FC_OK;
}

void fc_canvas_free(fc_canvas *canvas) {
  if (!canvas) return;
  free(canvas->pixels);
  memset(canvas, 0, sizeof *canvas);
}

void fc_canvas_reset_clip(fc_canvas *canvas) {
  if (!canvas) return;
  canvas->clip_x0 = 0;
  canvas->clip_y0 = 0;
  canvas->clip_x1 = canvas->width - 1;
  canvas->clip_y1 = canvas->height - 1;
}

/* Puts the smaller of two corner coordinates first. */
static void order_pair(int *lo, int *hi) {
  if (*lo > *hi) {
    int t = *lo;
    *lo = *hi;
    *hi = t;
  }
}

void fc_canvas_set_clip(fc_canvas *canvas, int x0, int y0, int x1, int y1) {
  if (!canvas) return;
  order_pair(&x0, &x1);
  order_pair(&y0, &y1);
  canvas->clip_x0 = x0 < 0 ? 0 : x0;
  canvas->clip_y0 = y0 < 0 ? 0 : y0;
  canvas->clip_x1 = x1 >= canvas->width ? canvas->width - 1 : x1;
  canvas->clip_y1 = y1 >= canvas->height ? canvas->height - 1 : y1;
}

void fc_canvas_set(fc_canvas *canvas, int x, int y, fc_rgb color) {
  if (!canvas || x < canvas->clip_x0 || y < canvas->clip_y0 || x > canvas->clip_x1 ||
      y > canvas->clip_y1)
    return;
  uint8_t *p = canvas->pixels + ((size_t)y * (size_t)canvas->width + (size_t)x) * 3;
  p[0] = color.r;
  p[1] = color.g;
  p[2] = color.b;
}

fc_rgb fc_canvas_get(const fc_canvas *canvas, int x, int y) {
  if (!canvas || x < 0 || y < 0 || x >= canvas->width || y >= canvas->height)
    return (fc_rgb){0, 0, 0};
  const uint8_t *p = canvas->pixels + ((size_t)y * (size_t)canvas->width + (size_t)x) * 3;
  return (fc_rgb){p[0], p[1], p[2]};
}

void fc_canvas_fill_rect(fc_canvas *canvas, int x0, int y0, int x1, int y1, fc_rgb color) {
  if (!canvas) return;
  order_pair(&x0, &x1);
  order_pair(&y0, &y1);
  if (x0 < canvas->clip_x0) x0 = canvas->clip_x0;
  if (y0 < canvas->clip_y0) y0 = canvas->clip_y0;
  if (x1 > canvas->clip_x1) x1 = canvas->clip_x1;
  if (y1 > canvas->clip_y1) y1 = canvas->clip_y1;
  for (int y = y0; y <= y1; y++) {
    uint8_t *p = canvas->pixels + ((size_t)y * (size_t)canvas->width + (size_t)x0) * 3;
    for (int x = x0; x <= x1; x++, p += 3) {
      p[0] = color.r;
      p[1] = color.g;
      p[2] = color.b;
    }
  }
}

void fc_canvas_rect_outline(fc_canvas *canvas, int x0, int y0, int x1, int y1, fc_rgb color) {
  fc_canvas_fill_rect(canvas, x0, y0, x1, y0, color);
  fc_canvas_fill_rect(canvas, x0, y1, x1, y1, color);
  fc_canvas_fill_rect(canvas, x0, y0, x0, y1, color);
  fc_canvas_fill_rect(canvas, x1, y0, x1, y1, color);
}

/* Liang-Barsky: clips the segment to [xmin,xmax] x [ymin,ymax]; 0 when it
 * misses the box entirely. Also rejects NaN coordinates. */
static int clip_segment(double *x0, double *y0, double *x1, double *y1, double xmin, double ymin,
                        double xmax, double ymax) {
  if (!isfinite(*x0) || !isfinite(*y0) || !isfinite(*x1) || !isfinite(*y1)) return 0;
  double dx = *x1 - *x0, dy = *y1 - *y0;
  double p[4] = {-dx, dx, -dy, dy};
  double q[4] = {*x0 - xmin, xmax - *x0, *y0 - ymin, ymax - *y0};
  double t0 = 0.0, t1 = 1.0;
  for (int i = 0; i < 4; i++) {
    if (p[i] == 0.0) {
      if (q[i] < 0.0) return 0;
    } else {
      double t = q[i] / p[i];
      if (p[i] < 0.0) {
        if (t > t1) return 0;
        if (t > t0) t0 = t;
      } else {
        if (t < t0) return 0;
        if (t < t1) t1 = t;
      }
    }
  }
  double ox = *x0, oy = *y0;
  *x0 = ox + t0 * dx;
  *y0 = oy + t0 * dy;
  *x1 = ox + t1 * dx;
  *y1 = oy + t1 * dy;
  return 1;
}

void fc_canvas_line_dashed(fc_canvas *canvas, double x0, double y0, double x1, double y1,
                           int thickness, int dash, fc_rgb color) {
  fc_canvas_line_pattern(canvas, x0, y0, x1, y1, thickness, dash, 2, 0, color);
}

void fc_canvas_line_pattern(fc_canvas *canvas, double x0, double y0, double x1, double y1,
                            int thickness, int dash, int cycle, int phase, fc_rgb color) {
  if (cycle < 2) cycle = 2;
  if (!canvas) return;
  if (thickness < 1) thickness = 1;
  double margin = thickness + 1;
  if (!clip_segment(&x0, &y0, &x1, &y1, canvas->clip_x0 - margin, canvas->clip_y0 - margin,
                    canvas->clip_x1 + margin, canvas->clip_y1 + margin))
    return;
  /* Bresenham between rounded endpoints; every step stamps a square brush. */
  int ax = (int)lround(x0), ay = (int)lround(y0), bx = (int)lround(x1), by = (int)lround(y1);
  int dx = abs(bx - ax), dy = -abs(by - ay);
  int sx = ax < bx ? 1 : -1, sy = ay < by ? 1 : -1;
  int err = dx + dy;
  int lo = -(thickness - 1) / 2, hi = thickness / 2;
  int major_is_x = dx >= -dy;
  for (;;) {
    /* The dash pattern follows the absolute coordinate along the major axis,
     * so it stays in phase across the many short segments of a curve. */
    int along = major_is_x ? ax : ay;
    int on = dash <= 0 || ((along + (1 << 20)) / dash) % cycle == phase;
    if (on) fc_canvas_fill_rect(canvas, ax + lo, ay + lo, ax + hi, ay + hi, color);
    if (ax == bx && ay == by) break;
    int e2 = 2 * err;
    if (e2 >= dy) {
      err += dy;
      ax += sx;
    }
    if (e2 <= dx) {
      err += dx;
      ay += sy;
    }
  }
}

void fc_canvas_line(fc_canvas *canvas, double x0, double y0, double x1, double y1, int thickness,
                    fc_rgb color) {
  fc_canvas_line_dashed(canvas, x0, y0, x1, y1, thickness, 0, color);
}

/* ---- PNG ----------------------------------------------------------------- */

fc_status fc_canvas_write_png(const fc_canvas *canvas, const char *path) {
  if (!canvas || !canvas->pixels || !path)
    return fc_errorf(FC_ERR_INVALID_ARG, "fc_canvas_write_png: NULL canvas or path");
  return fc_png_write(path, canvas->pixels, canvas->width, canvas->height, 3);
}
