/* The RGB canvas behind the plots: pixels, rectangles, clipped lines, PNG output. */
#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "fercl/fileio.h"
#include "fercl/log.h"
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

void fc_canvas_set_clip(fc_canvas *canvas, int x0, int y0, int x1, int y1) {
  if (!canvas) return;
  if (x0 > x1) { int t = x0; x0 = x1; x1 = t; }
  if (y0 > y1) { int t = y0; y0 = y1; y1 = t; }
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
  if (x0 > x1) { int t = x0; x0 = x1; x1 = t; }
  if (y0 > y1) { int t = y0; y0 = y1; y1 = t; }
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

typedef struct png_memory {
  unsigned char *data;
  size_t size, capacity;
  int out_of_memory;
} png_memory;

typedef struct png_failure {
  jmp_buf jump;
  char message[256];
} png_failure;

static void png_memory_write(png_structp png, png_bytep data, size_t length) {
  png_memory *mem = png_get_io_ptr(png);
  if (length > mem->capacity - mem->size) {
    size_t cap = mem->capacity ? mem->capacity : 65536;
    while (cap - mem->size < length) cap *= 2;
    unsigned char *grown = realloc(mem->data, cap);
    if (!grown) {
      mem->out_of_memory = 1;
      png_error(png, "out of memory for the encoded image");
    }
    mem->data = grown;
    mem->capacity = cap;
  }
  memcpy(mem->data + mem->size, data, length);
  mem->size += length;
}

static void png_memory_flush(png_structp png) { (void)png; }

static void png_on_error(png_structp png, png_const_charp message) {
  png_failure *failure = png_get_error_ptr(png);
  snprintf(failure->message, sizeof failure->message, "%s", message);
  longjmp(failure->jump, 1);
}

static void png_on_warning(png_structp png, png_const_charp message) {
  (void)png;
  fc_log(FC_LOG_DEBUG, "libpng: %s", message);
}

/* Encodes into mem; separate from the file write so setjmp guards only libpng. */
static fc_status encode_png(const fc_canvas *canvas, png_memory *mem, png_bytep *rows) {
  png_failure failure;
  failure.message[0] = '\0';
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &failure, png_on_error,
                                            png_on_warning);
  if (!png) return fc_errorf(FC_ERR_NOMEM, "cannot start the PNG encoder (out of memory)");
  png_infop info = png_create_info_struct(png);
  if (!info) {
    png_destroy_write_struct(&png, NULL);
    return fc_errorf(FC_ERR_NOMEM, "cannot start the PNG encoder (out of memory)");
  }
  if (setjmp(failure.jump)) {
    png_destroy_write_struct(&png, &info);
    return fc_errorf(mem->out_of_memory ? FC_ERR_NOMEM : FC_ERR_INTERNAL, "PNG encoder: %s",
                     failure.message);
  }
  png_set_write_fn(png, mem, png_memory_write, png_memory_flush);
  png_set_IHDR(png, info, (png_uint_32)canvas->width, (png_uint_32)canvas->height, 8,
               PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  png_write_image(png, rows);
  png_write_end(png, info);
  png_destroy_write_struct(&png, &info);
  return FC_OK;
}

fc_status fc_canvas_write_png(const fc_canvas *canvas, const char *path) {
  if (!canvas || !canvas->pixels || !path)
    return fc_errorf(FC_ERR_INVALID_ARG, "fc_canvas_write_png: NULL canvas or path");
  png_bytep *rows = malloc((size_t)canvas->height * sizeof *rows);
  if (!rows) return fc_errorf(FC_ERR_NOMEM, "out of memory writing %s", path);
  for (int y = 0; y < canvas->height; y++)
    rows[y] = canvas->pixels + (size_t)y * (size_t)canvas->width * 3;
  png_memory mem = {0};
  fc_status st = encode_png(canvas, &mem, rows);
  free(rows);
  if (st != FC_OK) {
    free(mem.data);
    return fc_error_context(st, "writing %s", path);
  }
  st = fc_file_write_atomic(path, mem.data, mem.size); /* its message names the path */
  free(mem.data);
  return st;
}
