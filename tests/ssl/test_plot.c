/* Plots: canvas primitives, font, PNG round trip, line charts and the
 * confusion heatmap, checked pixel by pixel after reading the PNG back. */
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../testutil.h"
#include "fercl/fileio.h"
#include "ssl/plot.h"
#include "ssl/runlog.h"

/* ---- helpers --------------------------------------------------------------- */

typedef struct image {
  int width, height;
  uint8_t *rgb;
} image;

/* Reads a PNG back with libpng's simplified API, as 8-bit RGB. */
static void read_png(const char *path, image *img) {
  png_image pi;
  memset(&pi, 0, sizeof pi);
  pi.version = PNG_IMAGE_VERSION;
  ck_assert_msg(png_image_begin_read_from_file(&pi, path), "cannot read %s: %s", path, pi.message);
  pi.format = PNG_FORMAT_RGB;
  img->width = (int)pi.width;
  img->height = (int)pi.height;
  img->rgb = malloc(PNG_IMAGE_SIZE(pi));
  ck_assert_ptr_nonnull(img->rgb);
  ck_assert_msg(png_image_finish_read(&pi, NULL, img->rgb, 0, NULL), "decoding %s: %s", path,
                pi.message);
}

static fc_rgb pixel(const image *img, int x, int y) {
  ck_assert(x >= 0 && y >= 0 && x < img->width && y < img->height);
  const uint8_t *p = img->rgb + ((size_t)y * (size_t)img->width + (size_t)x) * 3;
  return (fc_rgb){p[0], p[1], p[2]};
}

static int same(fc_rgb a, fc_rgb b) { return a.r == b.r && a.g == b.g && a.b == b.b; }

#define CK_RGB(got, want)                                                                       \
  do {                                                                                          \
    fc_rgb g_ = (got), w_ = (want);                                                             \
    ck_assert_msg(same(g_, w_), "%s = (%d,%d,%d), expected (%d,%d,%d)", #got, g_.r, g_.g, g_.b, \
                  w_.r, w_.g, w_.b);                                                            \
  } while (0)

static char *temp_path(const char *name) {
  static char buf[8][600];
  static int next = 0;
  char *p = buf[next++ % 8];
  snprintf(p, 600, "%s/%s", fc_test_temp_dir(), name);
  return p;
}

/* Rows in column x, between y0 and y1, that have exactly colour c. */
static int count_in_column(const image *img, int x, int y0, int y1, fc_rgb c, int *first) {
  int n = 0;
  *first = -1;
  for (int y = y0; y <= y1; y++)
    if (same(pixel(img, x, y), c)) {
      if (*first < 0) *first = y;
      n++;
    }
  return n;
}

static void canvas_to_image(const fc_canvas *c, const char *name, image *img) {
  const char *path = temp_path(name);
  FC_CHECK_OK(fc_canvas_write_png(c, path));
  read_png(path, img);
}

/* ---- canvas, font, PNG --------------------------------------------------------- */

START_TEST(png_round_trip_keeps_size_and_pixels) {
  fc_canvas c;
  FC_CHECK_OK(fc_canvas_create(&c, 37, 23, (fc_rgb){10, 20, 30}));
  fc_canvas_set(&c, 0, 0, (fc_rgb){255, 0, 0});
  fc_canvas_set(&c, 36, 22, (fc_rgb){0, 255, 0});
  fc_canvas_fill_rect(&c, 10, 5, 12, 7, (fc_rgb){1, 2, 3});
  fc_canvas_set(&c, -1, 3, (fc_rgb){0, 0, 255}); /* outside: ignored */
  fc_canvas_set(&c, 37, 3, (fc_rgb){0, 0, 255});
  image img;
  canvas_to_image(&c, "round.png", &img);
  ck_assert_int_eq(img.width, 37);
  ck_assert_int_eq(img.height, 23);
  CK_RGB(pixel(&img, 0, 0), ((fc_rgb){255, 0, 0}));
  CK_RGB(pixel(&img, 36, 22), ((fc_rgb){0, 255, 0}));
  CK_RGB(pixel(&img, 11, 6), ((fc_rgb){1, 2, 3}));
  CK_RGB(pixel(&img, 13, 6), ((fc_rgb){10, 20, 30}));
  CK_RGB(pixel(&img, 0, 3), ((fc_rgb){10, 20, 30}));
  CK_RGB(pixel(&img, 36, 3), ((fc_rgb){10, 20, 30}));
  free(img.rgb);
  fc_canvas_free(&c);
}
END_TEST

START_TEST(png_write_failure_names_the_path) {
  fc_canvas c;
  FC_CHECK_OK(fc_canvas_create(&c, 4, 4, FC_PLOT_BACKGROUND));
  const char *bad = "/nonexistent-fercl-dir/x.png";
  fc_status st = fc_canvas_write_png(&c, bad);
  ck_assert_int_eq(st, FC_ERR_IO);
  ck_assert_msg(strstr(fc_last_error(), bad) != NULL, "message: %s", fc_last_error());
  fc_canvas_free(&c);
}
END_TEST

START_TEST(canvas_limits_are_refused) {
  fc_canvas c;
  ck_assert_int_eq(fc_canvas_create(&c, 0, 10, FC_PLOT_BACKGROUND), FC_ERR_LIMIT);
  ck_assert_int_eq(fc_canvas_create(&c, 10, FC_PLOT_MAX_SIDE + 1, FC_PLOT_BACKGROUND),
                   FC_ERR_LIMIT);
  ck_assert_ptr_null(c.pixels);
}
END_TEST

START_TEST(lines_hit_their_endpoints_and_clip) {
  fc_canvas c;
  fc_rgb ink = {200, 0, 0};
  FC_CHECK_OK(fc_canvas_create(&c, 50, 40, FC_PLOT_BACKGROUND));
  fc_canvas_line(&c, 5, 5, 45, 35, 1, ink);
  CK_RGB(fc_canvas_get(&c, 5, 5), ink);
  CK_RGB(fc_canvas_get(&c, 45, 35), ink);
  CK_RGB(fc_canvas_get(&c, 25, 20), ink);
  CK_RGB(fc_canvas_get(&c, 45, 5), FC_PLOT_BACKGROUND);
  /* Far outside coordinates are clipped, not walked pixel by pixel. */
  fc_canvas_line(&c, -1e12, 10, 1e12, 10, 1, ink);
  for (int x = 0; x < 50; x++) CK_RGB(fc_canvas_get(&c, x, 10), ink);
  fc_canvas_line(&c, NAN, 0, 10, 10, 1, (fc_rgb){0, 0, 0}); /* dropped */
  /* A clip rectangle confines drawing. */
  fc_canvas_set_clip(&c, 10, 20, 20, 30);
  fc_canvas_line(&c, 0, 25, 49, 25, 3, (fc_rgb){0, 0, 200});
  CK_RGB(fc_canvas_get(&c, 15, 25), ((fc_rgb){0, 0, 200}));
  CK_RGB(fc_canvas_get(&c, 15, 24), ((fc_rgb){0, 0, 200})); /* thickness 3 */
  CK_RGB(fc_canvas_get(&c, 9, 25), FC_PLOT_BACKGROUND);
  CK_RGB(fc_canvas_get(&c, 21, 25), FC_PLOT_BACKGROUND);
  fc_canvas_free(&c);
}
END_TEST

START_TEST(font_covers_printable_ascii_with_distinct_glyphs) {
  uint8_t rows[95][9];
  for (int ch = 32; ch <= 126; ch++) {
    ck_assert_msg(fc_font_glyph((uint32_t)ch, rows[ch - 32]), "no glyph for '%c'", ch);
    int lit = 0;
    for (int r = 0; r < 9; r++) {
      ck_assert_msg((rows[ch - 32][r] & ~0x1F) == 0, "'%c' wider than 5", ch);
      lit += rows[ch - 32][r] != 0;
    }
    ck_assert_msg(ch == ' ' ? lit == 0 : lit > 0, "'%c' has %d lit rows", ch, lit);
  }
  for (int a = 0; a < 95; a++)
    for (int b = a + 1; b < 95; b++)
      ck_assert_msg(memcmp(rows[a], rows[b], 9) != 0, "'%c' and '%c' look the same", a + 32,
                    b + 32);
  /* Only g, j, p, q, y and a few marks use the descender rows. */
  const char *desc = ",;_gjpqy";
  for (int ch = 33; ch <= 126; ch++) {
    int uses = rows[ch - 32][7] || rows[ch - 32][8];
    ck_assert_msg(uses == (strchr(desc, ch) != NULL), "'%c' descender use %d", ch, uses);
  }
  uint8_t tau[9];
  ck_assert(fc_font_glyph(0x03C4, tau));  /* τ */
  ck_assert(!fc_font_glyph(0x4E2D, tau)); /* not in the font: a box */
}
END_TEST

START_TEST(text_draws_glyph_pixels_at_scale) {
  fc_canvas c;
  FC_CHECK_OK(fc_canvas_create(&c, 40, 30, FC_PLOT_BACKGROUND));
  ck_assert_int_eq(fc_text_width("AB", 1), 11);
  ck_assert_int_eq(fc_text_width("AB", 2), 22);
  ck_assert_int_eq(fc_text_width("τ1", 1), 11); /* counts code points, not bytes */
  ck_assert_int_eq(fc_text_width("", 3), 0);
  ck_assert_int_eq(fc_text_height(2), 18);
  fc_canvas_text(&c, 3, 4, "T", 2, FC_PLOT_TEXT);
  uint8_t rows[9];
  fc_font_glyph('T', rows);
  for (int r = 0; r < 9; r++)
    for (int col = 0; col < 5; col++) {
      int lit = (rows[r] >> (4 - col)) & 1;
      for (int dy = 0; dy < 2; dy++)
        for (int dx = 0; dx < 2; dx++)
          CK_RGB(fc_canvas_get(&c, 3 + col * 2 + dx, 4 + r * 2 + dy),
                 lit ? FC_PLOT_TEXT : FC_PLOT_BACKGROUND);
    }
  /* Rotated: the glyph's top row becomes its left column, read bottom to top. */
  fc_canvas_fill_rect(&c, 0, 0, 39, 29, FC_PLOT_BACKGROUND);
  fc_canvas_text_up(&c, 10, 10, "L", 1, FC_PLOT_TEXT);
  fc_font_glyph('L', rows);
  for (int r = 0; r < 9; r++)
    for (int col = 0; col < 5; col++) {
      int lit = (rows[r] >> (4 - col)) & 1;
      CK_RGB(fc_canvas_get(&c, 10 + r, 10 + 4 - col), lit ? FC_PLOT_TEXT : FC_PLOT_BACKGROUND);
    }
  fc_canvas_free(&c);
}
END_TEST

/* ---- line charts ------------------------------------------------------------- */

START_TEST(curves_draw_lines_where_the_frame_says) {
  /* Panel 0: series 0 rises 0 -> 1, series 1 is flat at 0.25, y fixed to [0,1].
   * Panel 1: one series with a NaN gap. */
  double x[11], rise[11], flat[11], gappy[11];
  for (int i = 0; i <= 10; i++) {
    x[i] = i * 10.0;
    rise[i] = i / 10.0;
    flat[i] = 0.25;
    gappy[i] = (i == 5) ? NAN : 3.0;
  }
  /* No labels here: no legend covers the lines this test inspects. */
  fc_plot_series s0[2] = {{.x = x, .y = rise, .n = 11}, {.x = x, .y = flat, .n = 11}};
  fc_plot_series s1[1] = {{.label = "gappy", .x = x, .y = gappy, .n = 11}};
  fc_plot_panel panels[2] = {
      {.title = "two", .series = s0, .n_series = 2, .fixed_y = 1, .y_min = 0.0, .y_max = 1.0},
      {.title = "gap", .x_label = "step", .y_label = "value", .series = s1, .n_series = 1}};
  fc_plot_options opts = {.width = 1000, .height = 400, .line_width = 1};
  const char *path = temp_path("curves.png");
  fc_canvas c;
  fc_plot_frame f[2];
  FC_CHECK_OK(fc_plot_curves_render(&c, panels, 2, &opts, f));
  FC_CHECK_OK(fc_canvas_write_png(&c, path));
  fc_canvas_free(&c);
  image img;
  read_png(path, &img);
  ck_assert_int_eq(img.width, 1000);
  ck_assert_int_eq(img.height, 400);
  CK_RGB(pixel(&img, 0, 0), FC_PLOT_BACKGROUND);
  CK_RGB(pixel(&img, 999, 399), FC_PLOT_BACKGROUND);

  /* Frames: side by side, the plot areas are inside the image and ordered. */
  ck_assert(f[0].x0 > 0 && f[0].x1 < 500 && f[1].x0 > 500 && f[1].x1 < 1000);
  ck_assert(f[0].y0 > 0 && f[0].y1 < 400 && f[0].y1 - f[0].y0 > 200);
  ck_assert(f[0].y_min == 0.0 && f[0].y_max == 1.0 && f[0].x_min == 0.0 && f[0].x_max == 100.0);
  /* The axis frame surrounds the plot area. */
  CK_RGB(pixel(&img, f[0].x0 - 1, (f[0].y0 + f[0].y1) / 2), FC_PLOT_AXIS);
  CK_RGB(pixel(&img, (f[0].x0 + f[0].x1) / 2, f[0].y1 + 1), FC_PLOT_AXIS);

  /* The flat series is a horizontal line a quarter of the way up, in colour 1;
   * check a stretch of columns away from the legend. */
  int y_flat = (int)lround(f[0].y1 - 0.25 * (f[0].y1 - f[0].y0));
  for (int xx = f[0].x0 + 2; xx < f[0].x1 - 2; xx += 7) {
    int first;
    int n = count_in_column(&img, xx, f[0].y0, f[0].y1, fc_plot_palette(1), &first);
    ck_assert_msg(n == 1 && first == y_flat,
                  "column %d: %d pixels of colour 1 from row %d, "
                  "expected 1 at row %d",
                  xx, n, first, y_flat);
  }
  /* The rising series passes through its data points in colour 0. */
  for (int i = 1; i < 5; i++) {
    int px = (int)lround(fc_plot_frame_px(&f[0], x[i]));
    int py = (int)lround(fc_plot_frame_py(&f[0], rise[i]));
    int first;
    int n = count_in_column(&img, px, py - 1, py + 1, fc_plot_palette(0), &first);
    ck_assert_msg(n >= 1, "point %d: nothing of colour 0 near (%d,%d)", i, px, py);
  }
  /* Panel 1 is constant 3: the line sits in the middle rows, and the NaN at
   * x=50 leaves a gap from x=40 to x=60. */
  int mid_y = (int)lround(fc_plot_frame_py(&f[1], 3.0));
  ck_assert(f[1].y_min < 3.0 && f[1].y_max > 3.0);
  int first;
  int px = (int)lround(fc_plot_frame_px(&f[1], 20.0));
  ck_assert_int_eq(count_in_column(&img, px, f[1].y0, f[1].y1, fc_plot_palette(0), &first), 1);
  ck_assert_int_eq(first, mid_y);
  for (double xv = 42.0; xv <= 58.0; xv += 2.0) {
    px = (int)lround(fc_plot_frame_px(&f[1], xv));
    ck_assert_msg(count_in_column(&img, px, f[1].y0, f[1].y1, fc_plot_palette(0), &first) == 0,
                  "x=%g (column %d) should be a gap", xv, px);
  }
  free(img.rgb);
}
END_TEST

START_TEST(legend_goes_to_an_empty_corner) {
  /* A diagonal from bottom-left to top-right leaves the other two corners free. */
  double y[2] = {0.0, 1.0};
  fc_plot_series s[12];
  for (int k = 0; k < 12; k++)
    s[k] = (fc_plot_series){.label = k ? "other" : "diagonal", .y = y, .n = 2};
  fc_plot_panel p = {.series = s, .n_series = 1, .fixed_y = 1, .y_min = 0, .y_max = 1};
  fc_canvas c;
  fc_plot_frame f;
  FC_CHECK_OK(fc_plot_curves_render(&c, &p, 1, NULL, &f));
  fc_rgb border = {190, 190, 190};
  int tl = same(fc_canvas_get(&c, f.x0 + 6, f.y0 + 6), border);
  int br = same(fc_canvas_get(&c, f.x1 - 6, f.y1 - 6), border);
  int tr = same(fc_canvas_get(&c, f.x1 - 6, f.y0 + 6), border);
  int bl = same(fc_canvas_get(&c, f.x0 + 6, f.y1 - 6), border);
  ck_assert_msg(tl + br == 1 && tr + bl == 0, "legend corners tl %d br %d tr %d bl %d", tl, br, tr,
                bl);
  fc_canvas_free(&c);
  /* Twelve series: colours cycle, later ones dashed; the legend still fits. */
  p.n_series = 12;
  FC_CHECK_OK(fc_plot_curves_render(&c, &p, 1, NULL, &f));
  fc_canvas_free(&c);
}
END_TEST

START_TEST(curves_log_axis_places_decades_evenly) {
  double y[4] = {1e-3, 1e-2, 1e-1, 1.0};
  fc_plot_series s = {.label = "loss", .y = y, .n = 4}; /* x = 0..3 */
  fc_plot_panel p = {.title = "log", .series = &s, .n_series = 1, .log_y = 1};
  fc_canvas c;
  fc_plot_frame f;
  FC_CHECK_OK(fc_plot_curves_render(&c, &p, 1, NULL, &f));
  ck_assert(f.log_y);
  ck_assert(fabs(log10(f.y_min) + 3.0) < 1e-9 && fabs(log10(f.y_max)) < 1e-9);
  /* Points one decade apart are the same number of rows apart. */
  double d1 = fc_plot_frame_py(&f, 1e-3) - fc_plot_frame_py(&f, 1e-2);
  double d2 = fc_plot_frame_py(&f, 1e-1) - fc_plot_frame_py(&f, 1.0);
  ck_assert(fabs(d1 - d2) < 1e-6 && d1 > 10);
  for (int i = 0; i < 4; i++) {
    int px = (int)lround(fc_plot_frame_px(&f, i)), py = (int)lround(fc_plot_frame_py(&f, y[i]));
    CK_RGB(fc_canvas_get(&c, px == f.x1 ? px - 1 : px, py == f.y0 ? py + 1 : py),
           fc_plot_palette(0));
  }
  fc_canvas_free(&c);
}
END_TEST

START_TEST(curves_survive_degenerate_series) {
  double one_x = 7.0, one_y = 0.5;
  double flat[5] = {2, 2, 2, 2, 2};
  double nan5[5] = {NAN, NAN, INFINITY, -INFINITY, NAN};
  double neg[3] = {-1.0, 0.0, -5.0};
  double wild[4] = {-1e300, 1e300, 0.0, 1.0};
  fc_plot_series single = {.label = "single", .x = &one_x, .y = &one_y, .n = 1};
  fc_plot_series constant = {.label = "constant", .y = flat, .n = 5};
  fc_plot_series empty = {.label = "empty", .y = NULL, .n = 0};
  fc_plot_series all_nan = {.label = "nan", .y = nan5, .n = 5};
  fc_plot_series nonpos = {.label = "nonpositive", .y = neg, .n = 3};
  fc_plot_series huge = {.label = "huge range", .y = wild, .n = 4};
  fc_plot_panel panels[] = {
      {.title = "single point", .series = &single, .n_series = 1},
      {.title = "constant", .series = &constant, .n_series = 1},
      {.title = "empty", .series = &empty, .n_series = 1},
      {.title = "no series"},
      {.title = "all NaN", .series = &all_nan, .n_series = 1},
      {.title = "log of nonpositive", .series = &nonpos, .n_series = 1, .log_y = 1},
      {.title = "huge range", .series = &huge, .n_series = 1},
      {.title = NULL, .series = &constant, .n_series = 1, .fixed_y = 1, .y_min = 5, .y_max = 6},
  };
  int n = (int)(sizeof panels / sizeof panels[0]);
  fc_plot_frame f[8];
  fc_canvas c;
  FC_CHECK_OK(fc_plot_curves_render(&c, panels, n, &(fc_plot_options){.title = "edge cases"}, f));
  /* A single point becomes a dot at its place. */
  int px = (int)lround(fc_plot_frame_px(&f[0], 7.0)),
      py = (int)lround(fc_plot_frame_py(&f[0], 0.5));
  ck_assert(px > f[0].x0 && px < f[0].x1 && py > f[0].y0 && py < f[0].y1);
  CK_RGB(fc_canvas_get(&c, px, py), fc_plot_palette(0));
  /* A constant series gets a real range around its value. */
  ck_assert(f[1].y_min < 2.0 && f[1].y_max > 2.0);
  py = (int)lround(fc_plot_frame_py(&f[1], 2.0));
  CK_RGB(fc_canvas_get(&c, (f[1].x0 + f[1].x1) / 2, py), fc_plot_palette(0));
  /* Panels without data keep a drawable frame. */
  for (int i = 2; i <= 5; i++) ck_assert(f[i].x1 > f[i].x0 && f[i].y_max > f[i].y_min);
  ck_assert(f[5].y_min > 0.0);
  FC_CHECK_OK(fc_canvas_write_png(&c, temp_path("edge.png")));
  if (getenv("FERCL_PLOT_SAMPLES")) {
    char path[600];
    snprintf(path, sizeof path, "%s/edge_cases.png", getenv("FERCL_PLOT_SAMPLES"));
    FC_CHECK_OK(fc_canvas_write_png(&c, path));
  }
  fc_canvas_free(&c);
}
END_TEST

START_TEST(curves_downsample_huge_series_to_its_envelope) {
  /* 2 million points alternating 0 and 1 with a spike to 5: every column's
   * stroke spans 0..1, and the spike still shows. */
  size_t n = 2000000;
  double *y = malloc(n * sizeof *y);
  ck_assert_ptr_nonnull(y);
  for (size_t i = 0; i < n; i++) y[i] = (double)(i % 2);
  y[n / 2] = 5.0;
  fc_plot_series s = {.label = "noisy", .y = y, .n = n};
  fc_plot_panel p = {
      .title = "huge", .series = &s, .n_series = 1, .fixed_y = 1, .y_min = -1, .y_max = 6};
  fc_canvas c;
  fc_plot_frame f;
  FC_CHECK_OK(fc_plot_curves_render(&c, &p, 1, &(fc_plot_options){.line_width = 1}, &f));
  int top = (int)lround(fc_plot_frame_py(&f, 1.0)), bottom = (int)lround(fc_plot_frame_py(&f, 0.0));
  for (int x = f.x0 + 5; x < f.x0 + 200; x += 13)
    for (int yy = top; yy <= bottom; yy++) CK_RGB(fc_canvas_get(&c, x, yy), fc_plot_palette(0));
  int spike_x = (int)lround(fc_plot_frame_px(&f, (double)(n / 2)));
  int spike_y = (int)lround(fc_plot_frame_py(&f, 5.0));
  CK_RGB(fc_canvas_get(&c, spike_x, spike_y), fc_plot_palette(0));
  fc_canvas_free(&c);
  free(y);
}
END_TEST

START_TEST(curves_reject_bad_arguments) {
  fc_canvas c;
  fc_plot_panel p = {.title = "t"};
  ck_assert_int_eq(fc_plot_curves_render(&c, NULL, 1, NULL, NULL), FC_ERR_INVALID_ARG);
  ck_assert_int_eq(fc_plot_curves_render(&c, &p, 0, NULL, NULL), FC_ERR_INVALID_ARG);
  fc_plot_panel bad_range = {.title = "bad", .fixed_y = 1, .y_min = 1, .y_max = 1};
  ck_assert_int_eq(fc_plot_curves_render(&c, &bad_range, 1, NULL, NULL), FC_ERR_INVALID_ARG);
  ck_assert_msg(strstr(fc_last_error(), "bad") != NULL, "%s", fc_last_error());
  fc_plot_panel bad_log = {.title = "l", .log_y = 1, .fixed_y = 1, .y_min = 0, .y_max = 1};
  ck_assert_int_eq(fc_plot_curves_render(&c, &bad_log, 1, NULL, NULL), FC_ERR_INVALID_ARG);
  fc_plot_series no_y = {.label = "x", .n = 3};
  fc_plot_panel missing = {.title = "m", .series = &no_y, .n_series = 1};
  ck_assert_int_eq(fc_plot_curves_render(&c, &missing, 1, NULL, NULL), FC_ERR_INVALID_ARG);
  ck_assert_int_eq(fc_plot_curves_render(&c, &p, 1, &(fc_plot_options){.width = 100000}, NULL),
                   FC_ERR_LIMIT);
  ck_assert_int_eq(
      fc_plot_curves_render(&c, &p, 1, &(fc_plot_options){.width = 50, .height = 50}, NULL),
      FC_ERR_INVALID_ARG);
  ck_assert_ptr_null(c.pixels);
  const char *bad = "/nonexistent-fercl-dir/curves.png";
  ck_assert_int_eq(fc_plot_curves_png(bad, &p, 1, NULL), FC_ERR_IO);
  ck_assert_msg(strstr(fc_last_error(), bad) != NULL, "%s", fc_last_error());
}
END_TEST

/* ---- confusion heatmap --------------------------------------------------------- */

START_TEST(heatmap_cells_are_coloured_by_row_share) {
  /* Row 0: all on the diagonal; row 1: split 50/50; row 2: no samples. */
  uint64_t counts[9] = {10, 0, 0, 3, 3, 0, 0, 0, 0};
  const char *names[3] = {"cat", "dog", NULL};
  const char *path = temp_path("confusion.png");
  FC_CHECK_OK(fc_plot_confusion_png(path, counts, 3, names, "pets"));
  fc_canvas c;
  fc_plot_heat_layout L;
  FC_CHECK_OK(fc_plot_confusion_render(&c, counts, 3, names, "pets", &L));
  image img;
  read_png(path, &img);
  ck_assert_int_eq(img.width, c.width);
  ck_assert_int_eq(img.height, c.height);
  ck_assert(L.cell_text && L.cell >= 40);
  CK_RGB(pixel(&img, 0, 0), FC_PLOT_BACKGROUND);
  /* Sample each cell just inside its top-left corner, away from the text. */
#define CELL(t, p) pixel(&img, L.x0 + (p)*L.cell + 3, L.y0 + (t)*L.cell + 3)
  CK_RGB(CELL(0, 0), fc_plot_heat_color(1.0));
  CK_RGB(CELL(0, 1), fc_plot_heat_color(0.0));
  CK_RGB(CELL(1, 0), fc_plot_heat_color(0.5));
  CK_RGB(CELL(1, 1), fc_plot_heat_color(0.5));
  CK_RGB(CELL(1, 2), fc_plot_heat_color(0.0));
  fc_rgb no_support = CELL(2, 2);
  ck_assert(!same(no_support, fc_plot_heat_color(0.0)) && !same(no_support, FC_PLOT_BACKGROUND));
#undef CELL
  /* The full cell has white text (its count) somewhere in it; the empty one has dark text. */
  int white = 0, dark = 0;
  for (int y = L.y0; y < L.y0 + L.cell; y++)
    for (int x = L.x0; x < L.x0 + L.cell; x++)
      white += same(pixel(&img, x, y), (fc_rgb){255, 255, 255});
  for (int y = L.y0; y < L.y0 + L.cell; y++)
    for (int x = L.x0 + L.cell; x < L.x0 + 2 * L.cell; x++)
      dark += same(pixel(&img, x, y), FC_PLOT_TEXT);
  ck_assert_msg(white > 20 && dark > 20, "white %d dark %d", white, dark);
  /* The colour map runs from white to dark blue. */
  CK_RGB(fc_plot_heat_color(0.0), ((fc_rgb){255, 255, 255}));
  CK_RGB(fc_plot_heat_color(-3.0), ((fc_rgb){255, 255, 255}));
  CK_RGB(fc_plot_heat_color(NAN), ((fc_rgb){255, 255, 255}));
  fc_rgb full = fc_plot_heat_color(1.0);
  ck_assert(full.b > full.r && full.b > full.g && full.r < 60);
  free(img.rgb);
  fc_canvas_free(&c);
}
END_TEST

START_TEST(heatmap_handles_many_and_few_classes) {
  fc_canvas c;
  fc_plot_heat_layout L;
  uint64_t one = 0;
  FC_CHECK_OK(fc_plot_confusion_render(&c, &one, 1, NULL, NULL, &L));
  fc_canvas_free(&c);
  int C = 200;
  uint64_t *counts = calloc((size_t)C * C, sizeof *counts);
  ck_assert_ptr_nonnull(counts);
  for (int k = 0; k < C; k++) counts[(size_t)k * C + k] = 1000000000000ull;
  FC_CHECK_OK(fc_plot_confusion_render(&c, counts, C, NULL, "many", &L));
  ck_assert(!L.cell_text);
  ck_assert(c.width <= FC_PLOT_MAX_SIDE && c.height <= FC_PLOT_MAX_SIDE);
  CK_RGB(fc_canvas_get(&c, L.x0 + 5 * L.cell + L.cell / 2, L.y0 + 5 * L.cell + L.cell / 2),
         fc_plot_heat_color(1.0));
  fc_canvas_free(&c);
  free(counts);
  ck_assert_int_eq(fc_plot_confusion_render(&c, &one, 0, NULL, NULL, NULL), FC_ERR_INVALID_ARG);
  ck_assert_int_eq(fc_plot_confusion_render(&c, NULL, 3, NULL, NULL, NULL), FC_ERR_INVALID_ARG);
  ck_assert_int_eq(fc_plot_confusion_render(&c, &one, FC_PLOT_MAX_CLASSES + 1, NULL, NULL, NULL),
                   FC_ERR_INVALID_ARG);
  const char *bad = "/nonexistent-fercl-dir/confusion.png";
  ck_assert_int_eq(fc_plot_confusion_png(bad, &one, 1, NULL, "x"), FC_ERR_IO);
  ck_assert_msg(strstr(fc_last_error(), bad) != NULL, "%s", fc_last_error());
}
END_TEST

/* ---- samples for eyes ------------------------------------------------------------ */

/* With FERCL_PLOT_SAMPLES=DIR, writes DIR/curves.png and DIR/confusion.png
 * from training-like data, to look at. Always renders them (no crash). */
START_TEST(sample_training_report) {
  enum { STEPS = 20000, EVALS = 41, C = 7 };
  static const char *const names[C] = {"angry",   "disgust", "fear",    "happy",
                                       "neutral", "sad",     "surprise"};
  double *step = malloc(STEPS * sizeof *step), *sup = malloc(STEPS * sizeof *sup);
  double *unsup = malloc(STEPS * sizeof *unsup), *snl = malloc(STEPS * sizeof *snl);
  double *total = malloc(STEPS * sizeof *total), *mask = malloc(STEPS * sizeof *mask);
  double *tau = malloc((size_t)C * STEPS * sizeof *tau);
  ck_assert(step && sup && unsup && snl && total && mask && tau);
  unsigned seed = 12345;
  for (int i = 0; i < STEPS; i++) {
    seed = seed * 1103515245u + 12345u;
    double noise = ((seed >> 16) & 0x7fff) / 32768.0 - 0.5;
    step[i] = i;
    sup[i] = 1.9 * exp(-i / 3000.0) + 0.05 + 0.08 * noise;
    unsup[i] = 0.6 * (1 - exp(-i / 1500.0)) * exp(-i / 9000.0) + 0.1 + 0.05 * noise;
    snl[i] = i < 800 ? NAN : 0.3 * exp(-i / 6000.0) + 0.02 + 0.02 * noise;
    total[i] = sup[i] + unsup[i] + (isnan(snl[i]) ? 0 : snl[i]);
    mask[i] = 0.95 * (1 - exp(-i / 4000.0)) + 0.03 * noise;
    for (int k = 0; k < C; k++)
      tau[(size_t)k * STEPS + i] =
          1.0 / C + (0.9 - 0.05 * k - 1.0 / C) * (1 - exp(-i / (1500.0 + 400.0 * k)));
  }
  double eval_x[EVALS], top1[EVALS], mca[EVALS], f1[EVALS];
  for (int e = 0; e < EVALS; e++) {
    eval_x[e] = e * 500.0;
    top1[e] = 0.72 - 0.55 * exp(-e / 8.0);
    mca[e] = top1[e] - 0.06;
    f1[e] = top1[e] - 0.08;
  }
  top1[20] = NAN; /* a missing evaluation */
  fc_plot_series loss[4] = {{.label = "total", .x = step, .y = total, .n = STEPS},
                            {.label = "supervised CE", .x = step, .y = sup, .n = STEPS},
                            {.label = "pseudo-label CE", .x = step, .y = unsup, .n = STEPS},
                            {.label = "SNL", .x = step, .y = snl, .n = STEPS}};
  fc_plot_series acc[3] = {{.label = "top-1", .x = eval_x, .y = top1, .n = EVALS},
                           {.label = "mean class acc.", .x = eval_x, .y = mca, .n = EVALS},
                           {.label = "macro-F1", .x = eval_x, .y = f1, .n = EVALS}};
  fc_plot_series thr[C];
  for (int k = 0; k < C; k++)
    thr[k] =
        (fc_plot_series){.label = names[k], .x = step, .y = tau + (size_t)k * STEPS, .n = STEPS};
  fc_plot_series mr = {.label = "mask rate", .x = step, .y = mask, .n = STEPS};
  fc_plot_panel panels[4] = {
      {.title = "loss", .x_label = "step", .series = loss, .n_series = 4, .log_y = 1},
      {.title = "accuracy (teacher, test set)",
       .x_label = "step",
       .series = acc,
       .n_series = 3,
       .fixed_y = 1,
       .y_min = 0,
       .y_max = 1},
      {.title = "thresholds τ[c] per class",
       .x_label = "step",
       .series = thr,
       .n_series = C,
       .fixed_y = 1,
       .y_min = 0,
       .y_max = 1},
      {.title = "mask rate",
       .x_label = "step",
       .y_label = "share of U kept",
       .series = &mr,
       .n_series = 1,
       .fixed_y = 1,
       .y_min = 0,
       .y_max = 1}};
  const char *dir = getenv("FERCL_PLOT_SAMPLES");
  char path[600];
  snprintf(path, sizeof path, "%s/curves.png", dir ? dir : fc_test_temp_dir());
  FC_CHECK_OK(fc_plot_curves_png(
      path, panels, 4, &(fc_plot_options){.title = "fer-cl run: RAF-DB, 100 labels/class"}));
  image img;
  read_png(path, &img);
  ck_assert_int_eq(img.width, 1520);
  free(img.rgb);

  uint64_t counts[C * C] = {
      120, 3,  10, 5,    12,  9,   3,   /* angry */
      8,   40, 5,  6,    9,   14,  2,   /* disgust */
      9,   1,  70, 4,    8,   18,  21,  /* fear */
      6,   2,  3,  1100, 40,  15,  19,  /* happy */
      10,  5,  6,  45,   520, 60,  9,   /* neutral */
      12,  6,  19, 22,   70,  330, 6,   /* sad */
      4,   1,  25, 14,   11,  5,   270, /* surprise */
  };
  snprintf(path, sizeof path, "%s/confusion.png", dir ? dir : fc_test_temp_dir());
  FC_CHECK_OK(fc_plot_confusion_png(path, counts, C, names, "teacher on RAF-DB test, step 20000"));
  free(step);
  free(sup);
  free(unsup);
  free(snl);
  free(total);
  free(mask);
  free(tau);
}
END_TEST

/* Pixels of colour col in [x0,x1] x [y0,y1]. */
static long count_colour(const fc_canvas *c, int x0, int y0, int x1, int y1, fc_rgb col) {
  long n = 0;
  for (int y = y0; y <= y1; y++)
    for (int x = x0; x <= x1; x++) n += same(fc_canvas_get(c, x, y), col);
  return n;
}

/* The bounding box of the legend (its grey border) on the canvas; 0 when none. */
static int legend_box(const fc_canvas *c, int *x0, int *y0, int *x1, int *y1) {
  fc_rgb border = {190, 190, 190};
  *x0 = *y0 = 1 << 30;
  *x1 = *y1 = -1;
  for (int y = 0; y < c->height; y++)
    for (int x = 0; x < c->width; x++)
      if (same(fc_canvas_get(c, x, y), border)) {
        if (x < *x0) *x0 = x;
        if (x > *x1) *x1 = x;
        if (y < *y0) *y0 = y;
        if (y > *y1) *y1 = y;
      }
  return *x1 >= 0;
}

/* Pixels of series colours (the first n of the palette) in a rectangle. */
static long series_ink(const fc_canvas *c, int n, int x0, int y0, int x1, int y1) {
  long ink = 0;
  for (int k = 0; k < n && k < FC_PLOT_PALETTE_SIZE; k++)
    ink += count_colour(c, x0, y0, x1, y1, fc_plot_palette(k));
  return ink;
}

/* A training report's panel (760 x 480 of a 2 x 2 figure) with many classes
 * of long names: the legend is still drawn (smaller), and since the lines
 * cross the whole plot it goes beside the plot area, hiding none of them. */
START_TEST(legend_for_many_classes) {
  double y[2] = {0.2, 0.3};
  char names[24][40];
  fc_plot_series s[24];
  for (int k = 0; k < 24; k++) {
    snprintf(names[k], sizeof names[k], "expression number %d", k);
    s[k] = (fc_plot_series){.label = names[k], .y = y, .n = 2};
  }
  fc_plot_panel p[4];
  memset(p, 0, sizeof p);
  for (int i = 0; i < 4; i++)
    p[i] = (fc_plot_panel){.title = "thresholds",
                           .x_label = "step",
                           .series = s,
                           .n_series = i == 2 ? 24 : 1,
                           .fixed_y = 1,
                           .y_min = 0,
                           .y_max = 1};
  fc_canvas c;
  fc_plot_frame f[4];
  FC_CHECK_OK(fc_plot_curves_render(&c, p, 4, NULL, f));
  fc_rgb border = {190, 190, 190};
  /* Panel 2 is the bottom-left one: [0, 760) x [480, 960). */
  ck_assert_msg(count_colour(&c, 0, 480, 759, 959, border) > 100, "no legend for 24 series");
  ck_assert_msg(count_colour(&c, f[2].x0, f[2].y0, f[2].x1, f[2].y1, border) == 0,
                "the legend covers the lines");
  fc_canvas_free(&c);
}
END_TEST

/* Lines through all four corners of the plot (seven classes' thresholds at
 * 0.02 ... 0.98): no corner is free, so the legend goes to the right of the
 * plot area; every class has its entry, and no curve pixel is under it. */
START_TEST(legend_never_hides_data) {
  static const char *const names[12] = {"angry",   "disgust", "fear",     "happy",
                                        "neutral", "sad",     "surprise", "contempt",
                                        "pain",    "bored",   "confused", "proud"};
  double ys[12][2];
  fc_plot_series s[12];
  for (int n_classes = 7; n_classes <= 12; n_classes += 5) {
    for (int k = 0; k < n_classes; k++) {
      ys[k][0] = ys[k][1] = 0.02 + 0.96 * k / (n_classes - 1);
      s[k] = (fc_plot_series){.label = names[k], .y = ys[k], .n = 2};
    }
    fc_plot_panel p = {.title = "thresholds per class",
                       .series = s,
                       .n_series = n_classes,
                       .fixed_y = 1,
                       .y_min = 0,
                       .y_max = 1,
                       .interleave = 1};
    fc_canvas c;
    fc_plot_frame f;
    FC_CHECK_OK(fc_plot_curves_render(&c, &p, 1, NULL, &f));
    /* The scene: series pixels in all four corners of the plot area. */
    ck_assert(series_ink(&c, n_classes, f.x0, f.y0, f.x0 + 60, f.y0 + 40) > 0);
    ck_assert(series_ink(&c, n_classes, f.x1 - 60, f.y0, f.x1, f.y0 + 40) > 0);
    ck_assert(series_ink(&c, n_classes, f.x0, f.y1 - 40, f.x0 + 60, f.y1) > 0);
    ck_assert(series_ink(&c, n_classes, f.x1 - 60, f.y1 - 40, f.x1, f.y1) > 0);
    int lx0, ly0, lx1, ly1;
    ck_assert_msg(legend_box(&c, &lx0, &ly0, &lx1, &ly1), "%d classes: no legend", n_classes);
    ck_assert_msg(lx0 > f.x1, "%d classes: legend [%d, %d] overlaps the plot area [%d, %d]",
                  n_classes, lx0, lx1, f.x0, f.x1);
    ck_assert_int_lt(lx1, c.width);
    /* One entry per class: every class colour (the palette has 10) is in the legend. */
    int shown = 0;
    for (int k = 0; k < n_classes && k < FC_PLOT_PALETTE_SIZE; k++)
      shown += count_colour(&c, lx0, ly0, lx1, ly1, fc_plot_palette(k)) > 0;
    ck_assert_int_eq(shown, n_classes < FC_PLOT_PALETTE_SIZE ? n_classes : FC_PLOT_PALETTE_SIZE);
    /* The coinciding-free lines still take their own colours on the plot. */
    for (int k = 0; k < n_classes && k < FC_PLOT_PALETTE_SIZE; k++) {
      int row = (int)lround(fc_plot_frame_py(&f, ys[k][0]));
      ck_assert(count_colour(&c, f.x0, row - 2, f.x1, row + 2, fc_plot_palette(k)) > 0);
    }
    fc_canvas_free(&c);
  }
}
END_TEST

/* Step axes tick at whole numbers only: a 2-step run has no tick at 1.5. */
START_TEST(integer_x_ticks) {
  double x[2] = {1, 2}, y[2] = {0, 1};
  fc_plot_series s = {.x = x, .y = y, .n = 2};
  fc_plot_panel p = {.series = &s, .n_series = 1, .fixed_y = 1, .y_min = 0, .y_max = 1};
  fc_plot_options o = {.width = 400, .height = 300};
  for (int integer = 0; integer < 2; integer++) {
    p.integer_x = integer;
    fc_canvas c;
    fc_plot_frame f;
    FC_CHECK_OK(fc_plot_curves_render(&c, &p, 1, &o, &f));
    int mid = (int)lround(fc_plot_frame_px(&f, 1.5));
    /* Near the top of the plot, away from the diagonal: grid there only for a tick at 1.5. */
    int grid = same(fc_canvas_get(&c, mid, f.y0 + 3), FC_PLOT_GRID);
    ck_assert_msg(grid == !integer, "integer_x %d: grid line at x = 1.5: %d", integer, grid);
    fc_canvas_free(&c);
  }
}
END_TEST

/* Per-class thresholds that coincide (a fixed threshold) show every class's
 * colour along the one line, not only the last one drawn. */
START_TEST(interleaved_series_show_every_colour) {
  double y[2] = {0.5, 0.5};
  fc_plot_series s[7];
  for (int k = 0; k < 7; k++) s[k] = (fc_plot_series){.y = y, .n = 2};
  fc_plot_panel p = {.series = s, .n_series = 7, .fixed_y = 1, .y_min = 0, .y_max = 1};
  for (int interleave = 0; interleave < 2; interleave++) {
    p.interleave = interleave;
    fc_canvas c;
    fc_plot_frame f;
    FC_CHECK_OK(fc_plot_curves_render(&c, &p, 1, NULL, &f));
    int row = (int)lround(fc_plot_frame_py(&f, 0.5));
    int shown = 0;
    for (int k = 0; k < 7; k++)
      shown += count_colour(&c, f.x0, row - 3, f.x1, row + 3, fc_plot_palette(k)) > 0;
    ck_assert_msg(shown == (interleave ? 7 : 1), "interleave %d: %d of 7 colours on the line",
                  interleave, shown);
    fc_canvas_free(&c);
  }
}
END_TEST

/* Accented Latin letters are drawn as their base letters, not as boxes. */
START_TEST(accented_letters_are_not_boxes) {
  uint8_t e[9], e_acute[9], u[9], u_umlaut[9], box[9];
  ck_assert(fc_font_glyph('e', e));
  ck_assert(fc_font_glyph(0x00E9, e_acute)); /* é */
  ck_assert_mem_eq(e, e_acute, 9);
  ck_assert(fc_font_glyph('U', u));
  ck_assert(fc_font_glyph(0x00DC, u_umlaut)); /* Ü */
  ck_assert_mem_eq(u, u_umlaut, 9);
  ck_assert(fc_font_glyph(0x0161, e));    /* š */
  ck_assert(!fc_font_glyph(0x4E2D, box)); /* a CJK character: still a box */
  ck_assert_int_eq(fc_text_width("colère", 1), fc_text_width("colere", 1));
}
END_TEST

/* Letters the font lacks are never silent boxes: Greek and Cyrillic class
 * names are spelled in Latin letters, anything else shows its code point. */
START_TEST(other_scripts_are_spelled_out) {
  struct {
    const char *text, *drawn_as;
  } cases[] = {{"гнев", "gnev"}, {"Злость", "Zlost'"}, {"Ωραίος", "Oraios"},
               {"中", "<4E2D>"}, {"ok \xff", "ok ?"},  {"😀!", "<1F600>!"}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    ck_assert_int_eq(fc_text_width(cases[i].text, 2), fc_text_width(cases[i].drawn_as, 2));
    int w = fc_text_width(cases[i].text, 1) + 4;
    fc_canvas a, b;
    FC_CHECK_OK(fc_canvas_create(&a, w, 12, FC_PLOT_BACKGROUND));
    FC_CHECK_OK(fc_canvas_create(&b, w, 12, FC_PLOT_BACKGROUND));
    fc_canvas_text(&a, 1, 1, cases[i].text, 1, FC_PLOT_TEXT);
    fc_canvas_text(&b, 1, 1, cases[i].drawn_as, 1, FC_PLOT_TEXT);
    ck_assert_msg(!memcmp(a.pixels, b.pixels, (size_t)w * 12 * 3), "'%s' is not drawn as '%s'",
                  cases[i].text, cases[i].drawn_as);
    fc_canvas_free(&a);
    fc_canvas_free(&b);
  }
}
END_TEST

/* log.csv's header is RFC 4180: class names with a comma or a quote are
 * quoted, so every reader sees one column per class; the rows read back. */
START_TEST(run_log_header_quotes_class_names) {
  char *names[3] = {"happy, mostly", "say \"cheese\"", "plain"};
  fc_runlog log;
  FC_CHECK_OK(fc_runlog_init(&log, 3, names));
  fc_log_row row;
  memset(&row, 0, sizeof row);
  row.step = 1;
  row.tau[0] = 0.25f, row.tau[1] = 0.5f, row.tau[2] = 0.75f;
  FC_CHECK_OK(fc_runlog_append(&log, &row));
  char path[1100];
  snprintf(path, sizeof path, "%s/log.csv", fc_test_temp_dir());
  FC_CHECK_OK(fc_runlog_write_csv(&log, path));
  char *text = NULL;
  size_t size = 0;
  FC_CHECK_OK(fc_file_read_all(path, 1 << 20, &text, &size));
  ck_assert_msg(
      strstr(text, ",val_f1,\"tau_happy, mostly\",\"tau_say \"\"cheese\"\"\",tau_plain\n") != NULL,
      "%s", text);
  /* Header fields, counted as RFC 4180 reads them, match the row's. */
  int header_fields = 1, in_quotes = 0;
  const char *p = text;
  for (; *p && *p != '\n'; p++) {
    if (*p == '"')
      in_quotes = !in_quotes;
    else if (*p == ',' && !in_quotes)
      header_fields++;
  }
  int row_fields = 1;
  for (p++; *p && *p != '\n'; p++) row_fields += *p == ',';
  ck_assert_int_eq(header_fields, row_fields);
  free(text);
  fc_runlog_free(&log);
  FC_CHECK_OK(fc_runlog_init(&log, 3, names));
  FC_CHECK_OK(fc_runlog_read_csv(&log, path, 10));
  ck_assert_int_eq(log.count, 1);
  ck_assert(log.rows[0].tau[2] == 0.75f);
  fc_runlog_free(&log);
}
END_TEST

static Suite *plot_suite(void) {
  Suite *s = suite_create("plot");
  FC_TEST_CASE(s, "plot", 0, png_round_trip_keeps_size_and_pixels, png_write_failure_names_the_path,
               canvas_limits_are_refused, lines_hit_their_endpoints_and_clip,
               font_covers_printable_ascii_with_distinct_glyphs, text_draws_glyph_pixels_at_scale,
               curves_draw_lines_where_the_frame_says, legend_goes_to_an_empty_corner,
               curves_log_axis_places_decades_evenly, curves_survive_degenerate_series,
               curves_downsample_huge_series_to_its_envelope, curves_reject_bad_arguments,
               heatmap_cells_are_coloured_by_row_share, heatmap_handles_many_and_few_classes,
               sample_training_report, run_log_header_quotes_class_names, legend_for_many_classes,
               integer_x_ticks, interleaved_series_show_every_colour,
               accented_letters_are_not_boxes, other_scripts_are_spelled_out,
               legend_never_hides_data);
  return s;
}

int main(void) { return fc_test_run_suite(plot_suite(), 0); }
