/* Line-chart panels and the confusion-matrix heatmap, drawn on an fc_canvas. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fercl/metrics.h"
#include "ssl/plot.h"

/* ---- colours ------------------------------------------------------------- */

fc_rgb fc_plot_palette(int i) {
  /* Ten hues that stay distinct from each other and from the grey axes. */
  static const fc_rgb palette[FC_PLOT_PALETTE_SIZE] = {
      {31, 119, 180}, {255, 127, 14},  {44, 160, 44},   {214, 39, 40},  {148, 103, 189},
      {140, 86, 75},  {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207}};
  if (i < 0) i = -i;
  return palette[i % FC_PLOT_PALETTE_SIZE];
}

fc_rgb fc_plot_heat_color(double value) {
  static const fc_rgb stops[] = {
      {255, 255, 255}, {198, 219, 239}, {107, 174, 214}, {33, 113, 181}, {8, 48, 107}};
  const int last = (int)(sizeof stops / sizeof stops[0]) - 1;
  if (!(value > 0.0)) value = 0.0; /* also NaN */
  if (value > 1.0) value = 1.0;
  double pos = value * last;
  int i = (int)pos;
  if (i >= last) return stops[last];
  double f = pos - i;
  fc_rgb a = stops[i], b = stops[i + 1];
  return (fc_rgb){(uint8_t)lround(a.r + (b.r - a.r) * f), (uint8_t)lround(a.g + (b.g - a.g) * f),
                  (uint8_t)lround(a.b + (b.b - a.b) * f)};
}

static int same_rgb(fc_rgb a, fc_rgb b) { return a.r == b.r && a.g == b.g && a.b == b.b; }

/* ---- text helpers --------------------------------------------------------- */

#define LABEL_MAX 64 /* characters of a legend entry, tick label or class name */

/* Copies at most max_chars code points of s into buf (cut at a UTF-8 boundary). */
static void cut_text(const char *s, size_t max_chars, char *buf, size_t size) {
  size_t i = 0, chars = 0;
  if (!s) s = "";
  while (s[i] && i + 1 < size) {
    if (((unsigned char)s[i] & 0xC0) != 0x80) {
      if (chars == max_chars) break;
      chars++;
    }
    i++;
  }
  while (i > 0 && s[i] && ((unsigned char)s[i] & 0xC0) == 0x80) i--; /* partial sequence */
  memcpy(buf, s, i);
  buf[i] = '\0';
}

static void text_centered(fc_canvas *c, int cx, int y, const char *text, int scale, fc_rgb color) {
  fc_canvas_text(c, cx - fc_text_width(text, scale) / 2, y, text, scale, color);
}

/* Titles: the font drawn twice, one pixel apart, reads as bold. */
static void title_centered(fc_canvas *c, int cx, int y, const char *text, int scale, fc_rgb color) {
  int x = cx - (fc_text_width(text, scale) + 1) / 2;
  fc_canvas_text(c, x, y, text, scale, color);
  fc_canvas_text(c, x + 1, y, text, scale, color);
}

static void text_right(fc_canvas *c, int right, int y, const char *text, int scale, fc_rgb color) {
  fc_canvas_text(c, right - fc_text_width(text, scale) + 1, y, text, scale, color);
}

/* Cap height: the glyph rows above the baseline; used to centre text on a point. */
static int cap_height(int scale) { return 7 * scale; }

/* ---- numbers on axes ------------------------------------------------------ */

/* 1, 2 or 5 times a power of ten, near range / target. */
static double nice_step(double range, int target) {
  if (!(range > 0.0) || !isfinite(range)) return 1.0;
  if (target < 1) target = 1;
  double raw = range / target;
  double mag = pow(10.0, floor(log10(raw)));
  double f = raw / mag;
  double nice = f <= 1.0 ? 1.0 : f <= 2.0 ? 2.0 : f <= 5.0 ? 5.0 : 10.0;
  return nice * mag;
}

/* Drops a trailing ".0..." and turns "2e-05" into "2e-5". */
static void tidy_number(char *s) {
  char *e = strchr(s, 'e');
  char exp_part[16] = "";
  if (e) {
    int ev = atoi(e + 1);
    snprintf(exp_part, sizeof exp_part, "e%d", ev);
    *e = '\0';
  }
  if (strchr(s, '.')) {
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == '0') s[--n] = '\0';
    if (n > 0 && s[n - 1] == '.') s[--n] = '\0';
  }
  if (strcmp(s, "-0") == 0) strcpy(s, "0");
  strcat(s, exp_part);
}

/* A tick label for value on an axis whose ticks are step apart. Uses k/M
 * suffixes for large values and exponents for tiny or huge ones. */
static void format_tick(double value, double step, double axis_max_abs, char *buf, size_t size) {
  if (fabs(value) < step * 1e-6 || value == 0.0) {
    snprintf(buf, size, "0");
    return;
  }
  if (axis_max_abs >= 1e10 || (axis_max_abs < 1e-3 && axis_max_abs > 0.0)) {
    snprintf(buf, size, "%.2e", value);
    tidy_number(buf);
    return;
  }
  double div = 1.0;
  const char *suffix = "";
  if (axis_max_abs >= 1e7) {
    div = 1e6;
    suffix = "M";
  } else if (axis_max_abs >= 1e4) {
    div = 1e3;
    suffix = "k";
  }
  double s = step / div;
  int decimals = s >= 1.0 ? 0 : (int)ceil(-log10(s) - 1e-9);
  if (decimals > 9) decimals = 9;
  snprintf(buf, size, "%.*f", decimals, value / div);
  tidy_number(buf);
  if (strcmp(buf, "0") != 0) strncat(buf, suffix, size - strlen(buf) - 1);
}

/* A label for a value on a log axis (10^k, 2*10^k, 5*10^k). */
static void format_log_tick(double value, char *buf, size_t size) {
  double a = fabs(value);
  if (a >= 1e-3 && a < 1e5) {
    int decimals = a >= 1.0 ? 0 : (int)ceil(-log10(a) - 1e-9);
    snprintf(buf, size, "%.*f", decimals, value);
  } else {
    snprintf(buf, size, "%.0e", value);
  }
  tidy_number(buf);
}

#define MAX_TICKS 64

typedef struct axis_ticks {
  int n;
  double value[MAX_TICKS];          /* in axis space (log10 of y on a log axis) */
  char label[MAX_TICKS][LABEL_MAX]; /* empty: a tick without a label */
} axis_ticks;

/* Linear ticks at multiples of step inside [lo, hi]. */
static void linear_ticks(double lo, double hi, double step, axis_ticks *t) {
  t->n = 0;
  if (!(step > 0.0) || !isfinite(lo) || !isfinite(hi)) return;
  double k0 = ceil(lo / step - 1e-9), k1 = floor(hi / step + 1e-9);
  if (!isfinite(k0) || !isfinite(k1) || k1 - k0 > MAX_TICKS - 1) return;
  double max_abs = fmax(fabs(lo), fabs(hi));
  for (double k = k0; k <= k1 && t->n < MAX_TICKS; k += 1.0) {
    double v = k * step;
    t->value[t->n] = v;
    format_tick(v, step, max_abs, t->label[t->n], LABEL_MAX);
    t->n++;
  }
}

/* Ticks on a log axis spanning decades [lo, hi] (log10 space). */
static void log_ticks(double lo, double hi, int target, axis_ticks *t) {
  t->n = 0;
  double span = hi - lo;
  if (!(span > 0.0) || !isfinite(span)) return;
  if (span <= 2.5) {
    /* Short ranges: 1, 2, 5 in every decade, all labelled. */
    static const double mult[3] = {1.0, 2.0, 5.0};
    for (double d = floor(lo); d <= ceil(hi) && t->n < MAX_TICKS; d += 1.0)
      for (int m = 0; m < 3 && t->n < MAX_TICKS; m++) {
        double v = d + log10(mult[m]);
        if (v < lo - 1e-9 || v > hi + 1e-9) continue;
        t->value[t->n] = v;
        format_log_tick(pow(10.0, v), t->label[t->n], LABEL_MAX);
        t->n++;
      }
    return;
  }
  double every = ceil(span / (target > 0 ? target : 1));
  if (every < 1.0) every = 1.0;
  for (double d = ceil(lo / every - 1e-9) * every; d <= hi + 1e-9 && t->n < MAX_TICKS; d += every) {
    t->value[t->n] = d;
    format_log_tick(pow(10.0, d), t->label[t->n], LABEL_MAX);
    t->n++;
  }
}

/* ---- frames --------------------------------------------------------------- */

double fc_plot_frame_px(const fc_plot_frame *f, double x) {
  return f->x0 + (x - f->x_min) / (f->x_max - f->x_min) * (f->x1 - f->x0);
}

double fc_plot_frame_py(const fc_plot_frame *f, double y) {
  double v = f->log_y ? (y > 0.0 ? log10(y) : -INFINITY) : y;
  double lo = f->log_y ? log10(f->y_min) : f->y_min;
  double hi = f->log_y ? log10(f->y_max) : f->y_max;
  return f->y1 - (v - lo) / (hi - lo) * (f->y1 - f->y0);
}

/* ---- line charts ----------------------------------------------------------- */

#define FONT_SCALE 2      /* tick labels, legends, axis labels */
#define TITLE_SCALE 2     /* panel titles */
#define FIG_TITLE_SCALE 3 /* the title above all panels */
#define TICK_LEN 6
#define PAD 14
#define MAX_PANELS 64
#define MAX_SERIES 1024

static double series_x(const fc_plot_series *s, size_t i) { return s->x ? s->x[i] : (double)i; }

/* A point is drawn when x and y are finite (and y > 0 on a log axis). */
static int point_valid(const fc_plot_series *s, size_t i, int log_y) {
  double x = series_x(s, i), y = s->y[i];
  return isfinite(x) && isfinite(y) && (!log_y || y > 0.0);
}

/* Widens a degenerate range [v, v] around v. */
static void widen(double *lo, double *hi) {
  if (*hi > *lo) return;
  double d = fabs(*lo) * 0.1;
  if (!(d > 0.0) || !isfinite(d)) d = 1.0;
  *lo -= d;
  *hi += d;
}

typedef struct panel_range {
  int has_data;
  double x_min, x_max, y_min, y_max; /* y in axis space (log10 on a log axis) */
} panel_range;

static void data_range(const fc_plot_panel *p, panel_range *r) {
  r->has_data = 0;
  r->x_min = r->y_min = INFINITY;
  r->x_max = r->y_max = -INFINITY;
  for (int k = 0; k < p->n_series; k++) {
    const fc_plot_series *s = &p->series[k];
    if (!s->y) continue;
    for (size_t i = 0; i < s->n; i++) {
      if (!point_valid(s, i, p->log_y)) continue;
      double x = series_x(s, i), y = p->log_y ? log10(s->y[i]) : s->y[i];
      r->has_data = 1;
      if (x < r->x_min) r->x_min = x;
      if (x > r->x_max) r->x_max = x;
      if (y < r->y_min) r->y_min = y;
      if (y > r->y_max) r->y_max = y;
    }
  }
  if (!r->has_data) {
    r->x_min = 0.0;
    r->x_max = 1.0;
    r->y_min = 0.0;
    r->y_max = 1.0;
  }
  widen(&r->x_min, &r->x_max);
  if (p->log_y && r->y_max <= r->y_min) {
    r->y_min -= 0.5;
    r->y_max += 0.5;
  }
  widen(&r->y_min, &r->y_max);
  /* Ranges so wide that their difference overflows are drawn as [-1e300, 1e300]. */
  if (!isfinite(r->x_max - r->x_min)) {
    r->x_min = fmax(r->x_min, -1e300);
    r->x_max = fmin(r->x_max, 1e300);
  }
  if (!isfinite(r->y_max - r->y_min)) {
    r->y_min = fmax(r->y_min, -1e300);
    r->y_max = fmin(r->y_max, 1e300);
  }
}

/* Streams a series through per-pixel-column buckets: consecutive points that
 * land in one column become a vertical stroke from their min to max, and
 * neighbouring columns are joined last-to-first. Exact for small n and
 * O(n + pixels) for huge n. An isolated point is drawn as a dot. */
typedef struct column_bucket {
  int active, connected_in;
  long col;
  double first, last, min, max;
} column_bucket;

typedef struct series_pen {
  fc_canvas *canvas;
  int thickness, dash, cycle, phase; /* on for dash pixels in slot phase of every cycle */
  fc_rgb color;
  column_bucket cur;
  int can_connect; /* the previous bucket ended without a gap */
  long prev_col;
  double prev_last;
} series_pen;

static void finish_bucket(series_pen *pen, int has_out) {
  column_bucket *b = &pen->cur;
  if (!b->active) return;
  if (b->max > b->min)
    fc_canvas_line_pattern(pen->canvas, (double)b->col, b->min, (double)b->col, b->max,
                           pen->thickness, pen->dash, pen->cycle, pen->phase, pen->color);
  if (!b->connected_in && !has_out) {
    int r = pen->thickness / 2 + 2;
    int cy = (int)lround(fmax(-1e6, fmin(1e6, 0.5 * (b->min + b->max))));
    fc_canvas_fill_rect(pen->canvas, (int)b->col - r, cy - r, (int)b->col + r, cy + r, pen->color);
  }
  pen->prev_col = b->col;
  pen->prev_last = b->last;
  b->active = 0;
}

static void pen_point(series_pen *pen, double px, double py) {
  /* Keep coordinates in a range where rounding and clipping are exact. */
  px = fmax(-1e6, fmin(1e6, px));
  py = fmax(-1e9, fmin(1e9, py));
  long col = lround(px);
  column_bucket *b = &pen->cur;
  if (b->active && col == b->col) {
    if (py < b->min) b->min = py;
    if (py > b->max) b->max = py;
    b->last = py;
    return;
  }
  if (b->active) {
    finish_bucket(pen, 1);
    pen->can_connect = 1;
  }
  b->active = 1;
  b->col = col;
  b->first = b->last = b->min = b->max = py;
  b->connected_in = pen->can_connect;
  if (pen->can_connect)
    fc_canvas_line_pattern(pen->canvas, (double)pen->prev_col, pen->prev_last, (double)col, py,
                           pen->thickness, pen->dash, pen->cycle, pen->phase, pen->color);
}

static void pen_gap(series_pen *pen) {
  finish_bucket(pen, 0);
  pen->can_connect = 0;
}

/* Series past the palette reuse its colours with dashes of 4, 8 or 12 pixels. */
static int series_dash(int index) {
  if (index < FC_PLOT_PALETTE_SIZE) return 0;
  return 4 + 4 * ((index / FC_PLOT_PALETTE_SIZE - 1) % 3);
}

/* interleave_of > 1: the series of an interleave panel take turns along the line,
 * INTERLEAVE_DASH pixels each, so lines that coincide show every colour. */
#define INTERLEAVE_DASH 7

static void draw_series(fc_canvas *c, const fc_plot_frame *f, const fc_plot_series *s, int index,
                        int thickness, int interleave_of) {
  if (!s->y || s->n == 0) return;
  series_pen pen = {.canvas = c,
                    .thickness = thickness,
                    .dash = series_dash(index),
                    .cycle = 2,
                    .color = fc_plot_palette(index)};
  if (interleave_of > 1) {
    pen.dash = INTERLEAVE_DASH;
    pen.cycle = interleave_of;
    pen.phase = index % interleave_of;
  }
  for (size_t i = 0; i < s->n; i++) {
    if (!point_valid(s, i, f->log_y)) {
      pen_gap(&pen);
      continue;
    }
    pen_point(&pen, fc_plot_frame_px(f, series_x(s, i)), fc_plot_frame_py(f, s->y[i]));
  }
  pen_gap(&pen);
}

/* Legend entries: the series with a non-empty label. */
typedef struct legend_layout {
  int scale; /* of its text: FONT_SCALE, or 1 when that does not fit */
  int n, columns, rows;
  int entry_w, row_h, w, h;
} legend_layout;

#define SWATCH_W 26

static void legend_measure(const fc_plot_panel *p, int max_h, int scale, legend_layout *L) {
  memset(L, 0, sizeof *L);
  L->scale = scale;
  int widest = 0;
  char buf[LABEL_MAX * 4];
  for (int k = 0; k < p->n_series; k++) {
    const char *label = p->series[k].label;
    if (!label || !label[0]) continue;
    cut_text(label, 32, buf, sizeof buf);
    int w = fc_text_width(buf, scale);
    if (w > widest) widest = w;
    L->n++;
  }
  if (L->n == 0) return;
  L->row_h = fc_text_height(scale) + 3 * scale;
  L->entry_w = SWATCH_W + 4 * scale + widest + 7 * scale;
  int fit_rows = (max_h - 12) / L->row_h;
  if (fit_rows < 1) fit_rows = 1;
  L->columns = (L->n + fit_rows - 1) / fit_rows;
  L->rows = (L->n + L->columns - 1) / L->columns;
  L->w = L->columns * L->entry_w + 6;
  L->h = L->rows * L->row_h + 10;
}

static void legend_draw(fc_canvas *c, const fc_plot_panel *p, const legend_layout *L, int x,
                        int y) {
  fc_canvas_fill_rect(c, x, y, x + L->w - 1, y + L->h - 1, FC_PLOT_BACKGROUND);
  fc_canvas_rect_outline(c, x, y, x + L->w - 1, y + L->h - 1, (fc_rgb){190, 190, 190});
  char buf[LABEL_MAX * 4];
  int e = 0;
  for (int k = 0; k < p->n_series; k++) {
    const char *label = p->series[k].label;
    if (!label || !label[0]) continue;
    int col = e / L->rows, row = e % L->rows;
    int ex = x + 8 + col * L->entry_w, ey = y + 6 + row * L->row_h;
    int mid = ey + cap_height(L->scale) / 2;
    fc_canvas_line_dashed(c, ex, mid, ex + SWATCH_W - 1, mid, 3, series_dash(k) ? 5 : 0,
                          fc_plot_palette(k));
    cut_text(label, 32, buf, sizeof buf);
    fc_canvas_text(c, ex + SWATCH_W + 4 * L->scale, ey, buf, L->scale, FC_PLOT_TEXT);
    e++;
  }
}

/* Counts drawn (non-background, non-grid) pixels under a rectangle. */
static long ink_under(const fc_canvas *c, int x0, int y0, int x1, int y1) {
  long n = 0;
  for (int y = y0; y <= y1; y++)
    for (int x = x0; x <= x1; x++) {
      fc_rgb v = fc_canvas_get(c, x, y);
      if (!same_rgb(v, FC_PLOT_BACKGROUND) && !same_rgb(v, FC_PLOT_GRID)) n++;
    }
  return n;
}

/* Legend placement: in a corner of the plot area, or to its right. */
#define LEGEND_GAP 10

/* Draws one panel inside the box [bx, bx+bw) x [by, by+bh). The legend goes
 * in the corner of the plot area that hides no data; when every corner
 * would hide some, nothing is drawn for it and 1 is returned: the caller
 * draws the panel again with legend_outside, which narrows the plot area
 * and puts the legend to its right. */
static int draw_panel(fc_canvas *c, const fc_plot_panel *p, int bx, int by, int bw, int bh,
                      int thickness, int legend_outside, fc_plot_frame *out_frame) {
  char buf[LABEL_MAX * 4];
  panel_range r;
  data_range(p, &r);
  if (p->fixed_y) {
    r.y_min = p->log_y ? log10(p->y_min) : p->y_min;
    r.y_max = p->log_y ? log10(p->y_max) : p->y_max;
  }

  int text_h = fc_text_height(FONT_SCALE);
  int top = by + PAD;
  if (p->title && p->title[0]) top += fc_text_height(TITLE_SCALE) + 10;
  int bottom = by + bh - 1 - PAD - TICK_LEN - 6 - text_h;
  if (p->x_label && p->x_label[0]) bottom -= text_h + 8;
  int plot_h = bottom - top + 1;
  if (plot_h < 20) plot_h = 20;

  /* y ticks first: their labels decide the left margin. */
  axis_ticks yt;
  int y_target = plot_h / 55;
  if (y_target < 2) y_target = 2;
  if (p->log_y) {
    if (!p->fixed_y) {
      r.y_min = floor(r.y_min + 1e-9);
      r.y_max = ceil(r.y_max - 1e-9);
      if (r.y_max <= r.y_min) r.y_max = r.y_min + 1.0;
    }
    log_ticks(r.y_min, r.y_max, y_target, &yt);
  } else {
    double step = nice_step(r.y_max - r.y_min, y_target);
    if (!p->fixed_y) {
      double lo = floor(r.y_min / step + 1e-9) * step, hi = ceil(r.y_max / step - 1e-9) * step;
      if (isfinite(lo) && isfinite(hi) && hi > lo) {
        r.y_min = lo;
        r.y_max = hi;
      }
    }
    linear_ticks(r.y_min, r.y_max, step, &yt);
  }
  int y_label_w = 0;
  for (int i = 0; i < yt.n; i++) {
    int w = fc_text_width(yt.label[i], FONT_SCALE);
    if (w > y_label_w) y_label_w = w;
  }
  int left = bx + PAD + y_label_w + TICK_LEN + 6;
  if (p->y_label && p->y_label[0]) left += text_h + 8;
  int right = bx + bw - 1 - PAD - 20; /* room for half of the last x label */
  legend_layout outside;
  memset(&outside, 0, sizeof outside);
  if (legend_outside) {
    legend_measure(p, plot_h, FONT_SCALE, &outside);
    if (outside.w > (right - left) * 2 / 5) legend_measure(p, plot_h, 1, &outside);
    if (outside.n > 0 && outside.w <= (right - left) / 2)
      right -= outside.w + LEGEND_GAP;
    else
      outside.n = 0;
  }
  if (right - left < 20) right = left + 20;

  fc_plot_frame f = {.x0 = left,
                     .y0 = top,
                     .x1 = right,
                     .y1 = top + plot_h - 1,
                     .x_min = r.x_min,
                     .x_max = r.x_max,
                     .y_min = p->log_y ? pow(10.0, r.y_min) : r.y_min,
                     .y_max = p->log_y ? pow(10.0, r.y_max) : r.y_max,
                     .log_y = p->log_y};
  int plot_w = f.x1 - f.x0 + 1;

  axis_ticks xt;
  int x_target = plot_w / 130;
  if (x_target < 2) x_target = 2;
  double x_step = nice_step(r.x_max - r.x_min, x_target);
  if (p->integer_x && x_step < 1) x_step = 1; /* steps, epochs: no 1.5 */
  linear_ticks(r.x_min, r.x_max, x_step, &xt);

  /* Grid, then data clipped to the plot area, then the frame on top. */
  for (int i = 0; i < yt.n; i++) {
    double v = yt.value[i];
    int py = (int)lround(f.y1 - (v - r.y_min) / (r.y_max - r.y_min) * (f.y1 - f.y0));
    fc_canvas_fill_rect(c, f.x0, py, f.x1, py, FC_PLOT_GRID);
  }
  for (int i = 0; i < xt.n; i++) {
    int px = (int)lround(fc_plot_frame_px(&f, xt.value[i]));
    fc_canvas_fill_rect(c, px, f.y0, px, f.y1, FC_PLOT_GRID);
  }
  fc_canvas_set_clip(c, f.x0, f.y0, f.x1, f.y1);
  for (int k = 0; k < p->n_series; k++) draw_series(c, &f, &p->series[k], k, thickness, 0);
  if (p->interleave && p->n_series > 1) /* again, each series on its share of every stretch */
    for (int k = 0; k < p->n_series; k++)
      draw_series(c, &f, &p->series[k], k, thickness, p->n_series);
  fc_canvas_reset_clip(c);
  fc_canvas_rect_outline(c, f.x0 - 1, f.y0 - 1, f.x1 + 1, f.y1 + 1, FC_PLOT_AXIS);

  for (int i = 0; i < yt.n; i++) {
    double v = yt.value[i];
    int py = (int)lround(f.y1 - (v - r.y_min) / (r.y_max - r.y_min) * (f.y1 - f.y0));
    fc_canvas_fill_rect(c, f.x0 - 1 - TICK_LEN, py, f.x0 - 2, py, FC_PLOT_AXIS);
    text_right(c, f.x0 - TICK_LEN - 6, py - cap_height(FONT_SCALE) / 2, yt.label[i], FONT_SCALE,
               FC_PLOT_TEXT);
  }
  for (int i = 0; i < xt.n; i++) {
    int px = (int)lround(fc_plot_frame_px(&f, xt.value[i]));
    fc_canvas_fill_rect(c, px, f.y1 + 2, px, f.y1 + 1 + TICK_LEN, FC_PLOT_AXIS);
    text_centered(c, px, f.y1 + TICK_LEN + 6, xt.label[i], FONT_SCALE, FC_PLOT_TEXT);
  }
  if (p->x_label && p->x_label[0]) {
    cut_text(p->x_label, LABEL_MAX, buf, sizeof buf);
    text_centered(c, (f.x0 + f.x1) / 2, f.y1 + TICK_LEN + 6 + text_h + 8, buf, FONT_SCALE,
                  FC_PLOT_TEXT);
  }
  if (p->y_label && p->y_label[0]) {
    cut_text(p->y_label, LABEL_MAX, buf, sizeof buf);
    int w = fc_text_width(buf, FONT_SCALE);
    fc_canvas_text_up(c, bx + PAD, (f.y0 + f.y1) / 2 - w / 2, buf, FONT_SCALE, FC_PLOT_TEXT);
  }
  if (p->title && p->title[0]) {
    cut_text(p->title, LABEL_MAX, buf, sizeof buf);
    title_centered(c, (f.x0 + f.x1) / 2, by + PAD, buf, TITLE_SCALE, FC_PLOT_TEXT);
  }
  if (!r.has_data) {
    text_centered(c, (f.x0 + f.x1) / 2, (f.y0 + f.y1) / 2 - cap_height(FONT_SCALE) / 2, "no data",
                  FONT_SCALE, (fc_rgb){150, 150, 150});
  }

  if (legend_outside) {
    if (outside.n > 0) legend_draw(c, p, &outside, f.x1 + 2 + LEGEND_GAP, f.y0);
    if (out_frame) *out_frame = f;
    return 0;
  }
  /* The legend goes in a corner of the plot area that hides no data. */
  legend_layout L;
  legend_measure(p, (f.y1 - f.y0) * 3 / 4, FONT_SCALE, &L);
  if (L.w >= plot_w - 8) /* many series (classes): smaller text, the full height */
    legend_measure(p, f.y1 - f.y0 - 12, 1, &L);
  if (L.n > 0) {
    long best = -1;
    int bxl = 0, byl = 0;
    if (L.w < plot_w - 8 && L.h < f.y1 - f.y0 - 8) {
      int xs[2] = {f.x1 - 6 - L.w + 1, f.x0 + 6};
      int ys[2] = {f.y0 + 6, f.y1 - 6 - L.h + 1};
      for (int yi = 0; yi < 2; yi++)
        for (int xi = 0; xi < 2; xi++) {
          long ink = ink_under(c, xs[xi], ys[yi], xs[xi] + L.w - 1, ys[yi] + L.h - 1);
          if (best < 0 || ink < best) {
            best = ink;
            bxl = xs[xi];
            byl = ys[yi];
          }
        }
    }
    if (best != 0) return 1; /* every corner hides data (or none fits): outside */
    legend_draw(c, p, &L, bxl, byl);
  }
  if (out_frame) *out_frame = f;
  return 0;
}

static fc_status check_panels(const fc_plot_panel *panels, int n_panels) {
  if (!panels || n_panels < 1 || n_panels > MAX_PANELS)
    return fc_errorf(FC_ERR_INVALID_ARG, "curves plot: %d panels; give 1 to %d panels", n_panels,
                     MAX_PANELS);
  for (int i = 0; i < n_panels; i++) {
    const fc_plot_panel *p = &panels[i];
    const char *name = p->title ? p->title : "(untitled)";
    if (p->n_series < 0 || p->n_series > MAX_SERIES || (p->n_series > 0 && !p->series))
      return fc_errorf(FC_ERR_INVALID_ARG, "curves plot: panel %d \"%s\" has %d series%s (0 to %d)",
                       i, name, p->n_series, p->n_series > 0 && !p->series ? " but no array" : "",
                       MAX_SERIES);
    for (int k = 0; k < p->n_series; k++)
      if (p->series[k].n > 0 && !p->series[k].y)
        return fc_errorf(FC_ERR_INVALID_ARG,
                         "curves plot: panel %d \"%s\" series %d has %zu points "
                         "but no y values",
                         i, name, k, p->series[k].n);
    if (p->fixed_y) {
      int ok = isfinite(p->y_min) && isfinite(p->y_max) && p->y_max > p->y_min &&
               (!p->log_y || p->y_min > 0.0);
      if (!ok)
        return fc_errorf(FC_ERR_INVALID_ARG,
                         "curves plot: panel %d \"%s\" y range [%g, %g] must be "
                         "finite and increasing%s",
                         i, name, p->y_min, p->y_max,
                         p->log_y ? ", and positive on a log axis" : "");
    }
  }
  return FC_OK;
}

fc_status fc_plot_curves_render(fc_canvas *canvas, const fc_plot_panel *panels, int n_panels,
                                const fc_plot_options *opts, fc_plot_frame *frames) {
  if (!canvas) return fc_errorf(FC_ERR_INVALID_ARG, "fc_plot_curves_render: canvas is NULL");
  memset(canvas, 0, sizeof *canvas);
  FC_TRY(check_panels(panels, n_panels));
  fc_plot_options o = {0};
  if (opts) o = *opts;
  if (o.columns <= 0) o.columns = n_panels >= 2 ? 2 : 1;
  if (o.columns > n_panels) o.columns = n_panels;
  int rows = (n_panels + o.columns - 1) / o.columns;
  int title_h = o.title && o.title[0] ? fc_text_height(FIG_TITLE_SCALE) + 2 * PAD : 0;
  if (o.width <= 0) o.width = 760 * o.columns;
  if (o.height <= 0) o.height = 480 * rows + title_h;
  if (o.line_width <= 0) o.line_width = 2;
  if (o.line_width > 16) o.line_width = 16;
  if (o.width > FC_PLOT_MAX_SIDE || o.height > FC_PLOT_MAX_SIDE)
    return fc_errorf(FC_ERR_LIMIT,
                     "curves plot: %d x %d pixels is above the %d-pixel limit; use "
                     "fewer panels per row or a smaller size",
                     o.width, o.height, FC_PLOT_MAX_SIDE);
  int panel_w = o.width / o.columns, panel_h = (o.height - title_h) / rows;
  if (panel_w < 240 || panel_h < 180)
    return fc_errorf(FC_ERR_INVALID_ARG,
                     "curves plot: %d x %d pixels leave %d x %d per panel; "
                     "each panel needs at least 240 x 180",
                     o.width, o.height, panel_w, panel_h);
  FC_TRY(fc_canvas_create(canvas, o.width, o.height, FC_PLOT_BACKGROUND));
  if (title_h) {
    char buf[LABEL_MAX * 4];
    cut_text(o.title, 2 * LABEL_MAX, buf, sizeof buf);
    title_centered(canvas, o.width / 2, PAD, buf, FIG_TITLE_SCALE, FC_PLOT_TEXT);
  }
  for (int i = 0; i < n_panels; i++) {
    int col = i % o.columns, row = i / o.columns;
    int x = col * panel_w, y = title_h + row * panel_h;
    if (draw_panel(canvas, &panels[i], x, y, panel_w, panel_h, o.line_width, 0,
                   frames ? &frames[i] : NULL)) {
      fc_canvas_fill_rect(canvas, x, y, x + panel_w - 1, y + panel_h - 1, FC_PLOT_BACKGROUND);
      draw_panel(canvas, &panels[i], x, y, panel_w, panel_h, o.line_width, 1,
                 frames ? &frames[i] : NULL);
    }
  }
  return FC_OK;
}

fc_status fc_plot_curves_png(const char *path, const fc_plot_panel *panels, int n_panels,
                             const fc_plot_options *opts) {
  if (!path) return fc_errorf(FC_ERR_INVALID_ARG, "fc_plot_curves_png: path is NULL");
  fc_canvas canvas;
  fc_status st = fc_plot_curves_render(&canvas, panels, n_panels, opts, NULL);
  if (st != FC_OK) return fc_error_context(st, "plotting %s", path);
  st = fc_canvas_write_png(&canvas, path); /* its message names the path */
  fc_canvas_free(&canvas);
  return st;
}

/* ---- confusion heatmap ----------------------------------------------------- */

#define NAME_MAX_CHARS 20
#define NO_SUPPORT_FILL ((fc_rgb){238, 238, 238})

static void class_name(const char *const *names, int k, char *buf, size_t size) {
  if (names && names[k])
    cut_text(names[k], NAME_MAX_CHARS, buf, size);
  else
    snprintf(buf, size, "%d", k);
}

static int count_digits(uint64_t v) {
  int d = 1;
  while (v >= 10) {
    v /= 10;
    d++;
  }
  return d;
}

fc_status fc_plot_confusion_render(fc_canvas *canvas, const uint64_t *counts, int num_classes,
                                   const char *const *class_names, const char *title,
                                   fc_plot_heat_layout *layout) {
  if (!canvas) return fc_errorf(FC_ERR_INVALID_ARG, "fc_plot_confusion_render: canvas is NULL");
  memset(canvas, 0, sizeof *canvas);
  if (!counts) return fc_errorf(FC_ERR_INVALID_ARG, "confusion plot: counts is NULL");
  if (num_classes < 1 || num_classes > FC_PLOT_MAX_CLASSES)
    return fc_errorf(FC_ERR_INVALID_ARG, "confusion plot: %d classes; plot 1 to %d classes",
                     num_classes, FC_PLOT_MAX_CLASSES);
  const int C = num_classes;
  char buf[LABEL_MAX * 4];

  fc_metrics m;
  FC_TRY(fc_metrics_from_counts(counts, C, &m));
  uint64_t max_count = 0;
  for (size_t i = 0; i < (size_t)C * (size_t)C; i++)
    if (counts[i] > max_count) max_count = counts[i];

  /* Cell size: room for the count and "100.0%" when there are few classes,
   * plain colour when there are many. */
  int text_scale = C <= 12 ? 2 : C <= 30 ? 1 : 0;
  int cell;
  if (text_scale) {
    int digits = count_digits(max_count);
    int chars = digits > 6 ? digits : 6;
    int tw = (chars * FC_FONT_ADVANCE - 1) * text_scale;
    int th = 2 * fc_text_height(text_scale) + 2 * text_scale;
    cell = (tw > th ? tw : th) + 8 * text_scale;
  } else {
    cell = 1600 / C;
    if (cell < 5) cell = 5;
  }
  int name_scale = cell >= 24 ? 2 : cell >= 12 ? 1 : 0;
  int name_w = 0;
  int name_h = name_scale ? fc_text_height(name_scale) : 0;
  for (int k = 0; k < C && name_scale; k++) {
    class_name(class_names, k, buf, sizeof buf);
    int w = fc_text_width(buf, name_scale);
    if (w > name_w) name_w = w;
  }
  /* Column names go upright when they fit their cell, else they read upwards. */
  int columns_upright = name_scale && name_w <= cell - 10;
  int x_names_h = !name_scale ? 0 : columns_upright ? name_h : name_w;

  int label_scale = 2, label_h = fc_text_height(label_scale);
  int title_scale = 3;
  int title_h = title && title[0] ? fc_text_height(title_scale) + 10 : 0;
  int subtitle_h = fc_text_height(2) + 16;
  int matrix = cell * C;
  int bar_w = 22, bar_gap = 24, bar_label_w = fc_text_width("100%", 2) + 14;

  int x0 = PAD + label_h + 12 + name_w + 10;
  int y0 = PAD + title_h + subtitle_h;
  int width = x0 + matrix + bar_gap + bar_w + bar_label_w + PAD;
  int height = y0 + matrix + 8 + x_names_h + 12 + label_h + PAD;
  if (title_h) {
    cut_text(title, 2 * LABEL_MAX, buf, sizeof buf);
    int tw = fc_text_width(buf, title_scale) + 2 * PAD;
    if (tw > width) width = tw;
  }
  if (width < 420) width = 420;
  if (width > FC_PLOT_MAX_SIDE || height > FC_PLOT_MAX_SIDE) {
    fc_metrics_free(&m);
    return fc_errorf(FC_ERR_LIMIT,
                     "confusion plot: %d classes need %d x %d pixels, above the "
                     "%d-pixel limit",
                     C, width, height, FC_PLOT_MAX_SIDE);
  }
  fc_status st = fc_canvas_create(canvas, width, height, FC_PLOT_BACKGROUND);
  if (st != FC_OK) {
    fc_metrics_free(&m);
    return st;
  }

  if (title_h) {
    cut_text(title, 2 * LABEL_MAX, buf, sizeof buf);
    title_centered(canvas, width / 2, PAD, buf, title_scale, FC_PLOT_TEXT);
  }
  snprintf(buf, sizeof buf, "n = %llu   accuracy %.1f%%   mean class acc. %.1f%%   macro-F1 %.3f",
           (unsigned long long)m.total, 100.0 * m.accuracy, 100.0 * m.mean_class_accuracy,
           m.macro_f1);
  if (fc_text_width(buf, 2) > width - 2 * PAD)
    snprintf(buf, sizeof buf, "n = %llu  acc %.1f%%", (unsigned long long)m.total,
             100.0 * m.accuracy);
  text_centered(canvas, width / 2, PAD + title_h + 2, buf, 2, (fc_rgb){90, 90, 90});

  /* Cells, separated by 1-pixel white lines when they are big enough. */
  int gap = cell >= 10 ? 1 : 0;
  for (int t = 0; t < C; t++) {
    uint64_t row_sum = m.per_class[t].support;
    for (int p = 0; p < C; p++) {
      uint64_t v = counts[(size_t)t * (size_t)C + (size_t)p];
      double share = row_sum ? (double)v / (double)row_sum : 0.0;
      int cx = x0 + p * cell, cy = y0 + t * cell;
      fc_rgb fill = row_sum ? fc_plot_heat_color(share) : NO_SUPPORT_FILL;
      fc_canvas_fill_rect(canvas, cx + gap, cy + gap, cx + cell - 1 - gap, cy + cell - 1 - gap,
                          fill);
      if (!text_scale) continue;
      fc_rgb ink = share > 0.5 ? (fc_rgb){255, 255, 255} : FC_PLOT_TEXT;
      int line_h = fc_text_height(text_scale) + 2 * text_scale;
      int ty = cy + (cell - line_h - cap_height(text_scale)) / 2;
      snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
      text_centered(canvas, cx + cell / 2, ty, buf, text_scale, ink);
      if (row_sum)
        snprintf(buf, sizeof buf, "%.1f%%", 100.0 * share);
      else
        snprintf(buf, sizeof buf, "-");
      text_centered(canvas, cx + cell / 2, ty + line_h, buf, text_scale, ink);
    }
  }
  fc_canvas_rect_outline(canvas, x0 - 1, y0 - 1, x0 + matrix, y0 + matrix, FC_PLOT_AXIS);

  /* Class names: rows on the left (right-aligned), columns below. */
  for (int k = 0; k < C && name_scale; k++) {
    class_name(class_names, k, buf, sizeof buf);
    int mid = k * cell + cell / 2;
    text_right(canvas, x0 - 10, y0 + mid - cap_height(name_scale) / 2, buf, name_scale,
               FC_PLOT_TEXT);
    if (columns_upright) {
      text_centered(canvas, x0 + mid, y0 + matrix + 8, buf, name_scale, FC_PLOT_TEXT);
    } else {
      /* Rotated names end at the matrix, like labels hanging from the column. */
      fc_canvas_text_up(canvas, x0 + mid - cap_height(name_scale) / 2, y0 + matrix + 8, buf,
                        name_scale, FC_PLOT_TEXT);
    }
  }
  text_centered(canvas, x0 + matrix / 2, y0 + matrix + 8 + x_names_h + 12, "predicted", label_scale,
                FC_PLOT_TEXT);
  int tw = fc_text_width("true", label_scale);
  fc_canvas_text_up(canvas, PAD, y0 + matrix / 2 - tw / 2, "true", label_scale, FC_PLOT_TEXT);

  /* Colour bar: the share of a row, 0% at the bottom. */
  int bx = x0 + matrix + bar_gap;
  for (int y = 0; y < matrix; y++) {
    double v = matrix > 1 ? 1.0 - (double)y / (double)(matrix - 1) : 1.0;
    fc_canvas_fill_rect(canvas, bx, y0 + y, bx + bar_w - 1, y0 + y, fc_plot_heat_color(v));
  }
  fc_canvas_rect_outline(canvas, bx - 1, y0 - 1, bx + bar_w, y0 + matrix, FC_PLOT_AXIS);
  static const char *const bar_labels[3] = {"100%", "50%", "0%"};
  for (int i = 0; i < 3; i++) {
    int y = y0 + (matrix - 1) * i / 2;
    fc_canvas_fill_rect(canvas, bx + bar_w + 1, y, bx + bar_w + 5, y, FC_PLOT_AXIS);
    fc_canvas_text(canvas, bx + bar_w + 10, y - cap_height(2) / 2, bar_labels[i], 2, FC_PLOT_TEXT);
  }

  if (layout)
    *layout = (fc_plot_heat_layout){.x0 = x0, .y0 = y0, .cell = cell, .cell_text = text_scale > 0};
  fc_metrics_free(&m);
  return FC_OK;
}

fc_status fc_plot_confusion_png(const char *path, const uint64_t *counts, int num_classes,
                                const char *const *class_names, const char *title) {
  if (!path) return fc_errorf(FC_ERR_INVALID_ARG, "fc_plot_confusion_png: path is NULL");
  fc_canvas canvas;
  fc_status st = fc_plot_confusion_render(&canvas, counts, num_classes, class_names, title, NULL);
  if (st != FC_OK) return fc_error_context(st, "plotting %s", path);
  st = fc_canvas_write_png(&canvas, path); /* its message names the path */
  fc_canvas_free(&canvas);
  return st;
}
