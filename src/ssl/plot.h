/* A small raster plotting library for training reports: an RGB canvas with
 * a built-in bitmap font, multi-panel line charts and a confusion-matrix
 * heatmap, written to PNG (libpng, temp-then-rename).
 *
 * Internal API (src/ssl): the trainer calls fc_plot_curves_png and
 * fc_plot_confusion_png; the canvas and *_render functions are exposed for
 * tests and for composing other figures. */
#ifndef FERCL_SSL_PLOT_H
#define FERCL_SSL_PLOT_H

#include <stddef.h>
#include <stdint.h>

#include "fercl/metrics.h"
#include "fercl/status.h"

/* Largest canvas side we agree to allocate (a 8192 x 8192 RGB canvas is 192 MiB). */
#define FC_PLOT_MAX_SIDE 8192

/* ---- canvas ------------------------------------------------------------ */

typedef struct fc_rgb {
  uint8_t r, g, b;
} fc_rgb;

typedef struct fc_canvas {
  int width, height;
  uint8_t *pixels; /* width * height * 3 bytes, row-major RGB, top row first */
  int clip_x0, clip_y0, clip_x1, clip_y1; /* drawing stays inside (inclusive) */
} fc_canvas;

fc_status fc_canvas_create(fc_canvas *canvas, int width, int height, fc_rgb background);
void fc_canvas_free(fc_canvas *canvas);

/* Drawing clips to the clip rectangle (the whole canvas unless set); nothing
 * here fails. */
void fc_canvas_set_clip(fc_canvas *canvas, int x0, int y0, int x1, int y1);
void fc_canvas_reset_clip(fc_canvas *canvas);
void fc_canvas_set(fc_canvas *canvas, int x, int y, fc_rgb color);
fc_rgb fc_canvas_get(const fc_canvas *canvas, int x, int y); /* black outside */
/* Inclusive rectangle [x0,x1] x [y0,y1], corners in any order. */
void fc_canvas_fill_rect(fc_canvas *canvas, int x0, int y0, int x1, int y1, fc_rgb color);
void fc_canvas_rect_outline(fc_canvas *canvas, int x0, int y0, int x1, int y1, fc_rgb color);
/* A straight line of the given thickness (1 or more pixels) between two
 * points, clipped to the canvas; coordinates may lie far outside it. */
void fc_canvas_line(fc_canvas *canvas, double x0, double y0, double x1, double y1, int thickness,
                    fc_rgb color);
/* The same drawn dash pixels on, dash pixels off (0: solid). */
void fc_canvas_line_dashed(fc_canvas *canvas, double x0, double y0, double x1, double y1,
                           int thickness, int dash, fc_rgb color);

/* The general pattern: on for dash pixels in slot phase of every cycle
 * slots (cycle 2, phase 0: the dashes above), in step with the absolute
 * coordinate along the line's major axis. */
void fc_canvas_line_pattern(fc_canvas *canvas, double x0, double y0, double x1, double y1,
                            int thickness, int dash, int cycle, int phase, fc_rgb color);

/* Writes the canvas as an 8-bit RGB PNG through fc_file_write_atomic. */
fc_status fc_canvas_write_png(const fc_canvas *canvas, const char *path);

/* ---- text ---------------------------------------------------------------- */

/* The built-in font: 5x7 glyphs (lowercase descenders take 2 more rows) in a
 * cell of FC_FONT_ADVANCE x FC_FONT_LINE pixels at scale 1. Covers printable
 * ASCII 32..126 plus a few UTF-8 letters used in reports (τ, μ, ±, °, ·, —);
 * accented Latin letters (U+00C0..U+017F) are drawn as their base letter;
 * Greek and Cyrillic letters are spelled in Latin letters ("гнев" as
 * "gnev"), anything else as its code point ("<4E2D>"), never as a box
 * (fc_text_width counts what is drawn). */
#define FC_FONT_ADVANCE 6
#define FC_FONT_LINE 11

/* Width and height in pixels of a single-line string at an integer scale >= 1. */
int fc_text_width(const char *text, int scale);
int fc_text_height(int scale);
/* Draws text with its top-left corner at (x, y). */
void fc_canvas_text(fc_canvas *canvas, int x, int y, const char *text, int scale, fc_rgb color);
/* The same rotated 90 degrees counter-clockwise (reads bottom to top); (x, y)
 * is the top-left corner of the rotated box, fc_text_height wide and
 * fc_text_width tall. */
void fc_canvas_text_up(fc_canvas *canvas, int x, int y, const char *text, int scale, fc_rgb color);
/* The 5x9 bitmap of a code point: bit (4 - col) of rows[row] is set for a
 * lit pixel. Returns 0 (and a box) for a code point the font lacks. */
int fc_font_glyph(uint32_t code_point, uint8_t rows[9]);

/* ---- colours ------------------------------------------------------------- */

#define FC_PLOT_PALETTE_SIZE 10
/* Series colour i (cycles after FC_PLOT_PALETTE_SIZE). */
fc_rgb fc_plot_palette(int i);
/* The heatmap colour of a value in [0,1] (clamped): white to dark blue. */
fc_rgb fc_plot_heat_color(double value);

#define FC_PLOT_BACKGROUND ((fc_rgb){255, 255, 255})
#define FC_PLOT_AXIS ((fc_rgb){40, 40, 40})
#define FC_PLOT_GRID ((fc_rgb){228, 228, 228})
#define FC_PLOT_TEXT ((fc_rgb){20, 20, 20})

/* ---- line charts --------------------------------------------------------- */

typedef struct fc_plot_series {
  const char *label; /* legend text; NULL or "" leaves the series out of the legend */
  const double *x;   /* n values, nondecreasing for the fast path; NULL means 0..n-1 */
  const double *y;   /* n values; NaN/Inf (and y <= 0 on a log axis) are gaps */
  size_t n;
} fc_plot_series;

typedef struct fc_plot_panel {
  const char *title;
  const char *x_label; /* NULL: none */
  const char *y_label; /* NULL: none */
  const fc_plot_series *series;
  int n_series;
  int log_y;   /* logarithmic y axis (decades, 1-2-5 ticks on short ranges) */
  int fixed_y; /* use [y_min, y_max] instead of the data range */
  double y_min, y_max;
  int integer_x;  /* x ticks at whole numbers only (steps) */
  int interleave; /* series that often coincide (per-class thresholds): drawn, then drawn
                          again taking turns along the line, so coinciding lines show every colour */
} fc_plot_panel;

typedef struct fc_plot_options {
  int width, height; /* whole image; 0: 760 x 480 per panel */
  int columns;       /* panels per row; 0: 2 when there are 2 or more panels */
  const char *title; /* drawn above all panels; NULL: none */
  int line_width;    /* series thickness in pixels; 0: 2 */
} fc_plot_options;

/* Where a panel's data landed, for callers and tests: the plot area is
 * [x0,x1] x [y0,y1] in pixels (inclusive, inside the axes), mapping
 * [x_min,x_max] left to right and [y_min,y_max] bottom to top (on log10 of
 * y when log_y). */
typedef struct fc_plot_frame {
  int x0, y0, x1, y1;
  double x_min, x_max, y_min, y_max;
  int log_y;
} fc_plot_frame;

/* The pixel column / row of a data point in a frame (not rounded). */
double fc_plot_frame_px(const fc_plot_frame *frame, double x);
double fc_plot_frame_py(const fc_plot_frame *frame, double y);

/* Creates a canvas (free with fc_canvas_free) and draws the panels on it in
 * a grid; frames (may be NULL) receives n_panels entries. opts may be NULL. */
fc_status fc_plot_curves_render(fc_canvas *canvas, const fc_plot_panel *panels, int n_panels,
                                const fc_plot_options *opts, fc_plot_frame *frames);
/* Renders and writes a PNG at path. */
fc_status fc_plot_curves_png(const char *path, const fc_plot_panel *panels, int n_panels,
                             const fc_plot_options *opts);

/* ---- confusion heatmap ---------------------------------------------------- */

#define FC_PLOT_MAX_CLASSES 512

/* Where the heatmap's cells landed: cell (true t, predicted p) covers
 * x in [x0 + p*cell, x0 + (p+1)*cell - 1], y likewise from y0 with t. */
typedef struct fc_plot_heat_layout {
  int x0, y0, cell;
  int cell_text; /* 1 when counts and percentages are printed in cells */
} fc_plot_heat_layout;

/* Draws counts (row-major, counts[true * C + predicted]) as a heatmap:
 * each cell coloured by its share of its row (row-normalised), with its
 * count and percentage when the cells are big enough, class names along
 * both axes (rows = true, columns = predicted), a colour bar and a title.
 * class_names may be NULL or hold NULL entries (then classes are numbered). */
fc_status fc_plot_confusion_render(fc_canvas *canvas, const uint64_t *counts, int num_classes,
                                   const char *const *class_names, const char *title,
                                   fc_plot_heat_layout *layout);
/* fc_plot_confusion_png (the PNG of this figure) is public: fercl/metrics.h. */

#endif
