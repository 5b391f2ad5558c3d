/* Augmentation of planar uint8 images: the RandAugment op pool (PIL's
 * definitions unless noted), the weak view (flip + reflect-padded shift) and
 * the strong view (RandAugment + Cutout). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/internal.h"

static const char *const op_names[FC_AUG_OP_COUNT] = {
    "AutoContrast", "Brightness", "Color",  "Contrast", "Equalize", "Identity",   "Posterize",
    "Rotate",       "Sharpness",  "ShearX", "ShearY",   "Solarize", "TranslateX", "TranslateY"};

const char *fc_aug_op_name(fc_aug_op op) {
  return (int)op >= 0 && op < FC_AUG_OP_COUNT ? op_names[op] : "unknown";
}

static inline size_t plane_size(const fc_image *im) {
  return (size_t)im->height * (size_t)im->width;
}

/* v = round(d + f (v - d)) against a degenerate image d (scratch). Written
 * without branches so the compiler can vectorise it. */
static void blend_with(fc_image *im, const uint8_t *degenerate, float f) {
  size_t n = plane_size(im) * (size_t)im->channels;
  uint8_t *p = im->data;
  for (size_t i = 0; i < n; i++) {
    float d = degenerate[i];
    float v = d + f * ((float)p[i] - d);
    v = v < 0.0f ? 0.0f : v; /* min/max instructions, unlike fminf's NaN rules */
    v = v > 255.0f ? 255.0f : v;
    p[i] = (uint8_t)(v + 0.5f);
  }
}

/* The same blend against a constant degenerate value, as a table. */
static void blend_constant(fc_image *im, float d, float f) {
  uint8_t lut[256];
  for (int v = 0; v < 256; v++) {
    float x = d + f * ((float)v - d);
    x = x < 0.0f ? 0.0f : x;
    x = x > 255.0f ? 255.0f : x;
    lut[v] = (uint8_t)(x + 0.5f);
  }
  size_t n = plane_size(im) * (size_t)im->channels;
  for (size_t i = 0; i < n; i++) im->data[i] = lut[im->data[i]];
}

static void apply_lut(uint8_t *p, size_t n, const uint8_t *lut) {
  for (size_t i = 0; i < n; i++) p[i] = lut[p[i]];
}

static void autocontrast(fc_image *im) {
  size_t n = plane_size(im);
  for (int c = 0; c < im->channels; c++) {
    uint8_t *p = im->data + (size_t)c * n;
    int lo = 255, hi = 0;
    for (size_t i = 0; i < n; i++) {
      if (p[i] < lo) lo = p[i];
      if (p[i] > hi) hi = p[i];
    }
    if (hi <= lo) continue;
    /* Integer arithmetic: the maximum maps to exactly 255 (PIL's float
     * form can give 254 there). */
    uint8_t lut[256];
    for (int v = 0; v < 256; v++) {
      int x = (v - lo) * 255 / (hi - lo);
      lut[v] = (uint8_t)(x < 0 ? 0 : x > 255 ? 255 : x);
    }
    apply_lut(p, n, lut);
  }
}

static void equalize(fc_image *im) {
  size_t n = plane_size(im);
  for (int c = 0; c < im->channels; c++) {
    uint8_t *p = im->data + (size_t)c * n;
    size_t h[256] = {0};
    for (size_t i = 0; i < n; i++) h[p[i]]++;
    size_t last = 0, nonzero = 0;
    for (int v = 0; v < 256; v++)
      if (h[v]) {
        last = h[v];
        nonzero++;
      }
    if (nonzero <= 1) continue;
    size_t step = (n - last) / 255;
    if (!step) continue;
    uint8_t lut[256];
    size_t acc = step / 2;
    for (int v = 0; v < 256; v++) {
      size_t q = acc / step;
      lut[v] = (uint8_t)(q > 255 ? 255 : q);
      acc += h[v];
    }
    apply_lut(p, n, lut);
  }
}

/* The image as luma, one plane, into out. */
static void luma_plane(const fc_image *im, uint8_t *out) {
  size_t n = plane_size(im);
  if (im->channels == 1) {
    memcpy(out, im->data, n);
    return;
  }
  for (size_t i = 0; i < n; i++)
    out[i] = fc_luma601(im->data[i], im->data[n + i], im->data[2 * n + i]);
}

static void color(fc_image *im, float f, uint8_t *scratch) {
  if (im->channels != 3) return; /* gray: its own grayscale */
  size_t n = plane_size(im);
  luma_plane(im, scratch);
  memcpy(scratch + n, scratch, n);
  memcpy(scratch + 2 * n, scratch, n);
  blend_with(im, scratch, f);
}

static void contrast(fc_image *im, float f, uint8_t *scratch) {
  size_t n = plane_size(im);
  luma_plane(im, scratch);
  uint64_t sum = 0;
  for (size_t i = 0; i < n; i++) sum += scratch[i];
  int mean = (int)((double)sum / (double)n + 0.5);
  blend_constant(im, (float)mean, f);
}

static void sharpness(fc_image *im, float f, uint8_t *scratch) {
  const int H = im->height, W = im->width;
  size_t n = plane_size(im);
  memcpy(scratch, im->data, n * (size_t)im->channels); /* border pixels stay as they are */
  for (int c = 0; c < im->channels; c++) {
    const uint8_t *p = im->data + (size_t)c * n;
    uint8_t *s = scratch + (size_t)c * n;
    for (int y = 1; y < H - 1; y++)
      for (int x = 1; x < W - 1; x++) {
        const uint8_t *q = p + (size_t)y * W + x;
        int sum =
            q[-W - 1] + q[-W] + q[-W + 1] + q[-1] + 5 * q[0] + q[1] + q[W - 1] + q[W] + q[W + 1];
        s[(size_t)y * W + x] = (uint8_t)((sum + 6) / 13); /* round(sum / 13) */
      }
  }
  blend_with(im, scratch, f);
}

/* Nearest-neighbour resampling through an affine map of pixel centres:
 * source = (a x + b y + c, d x + e y + f) with x, y relative to the centre. */
static void affine_nearest(fc_image *im, double a, double b, double c, double d, double e, double f,
                           uint8_t fill, uint8_t *scratch) {
  const int H = im->height, W = im->width, C = im->channels;
  size_t n = plane_size(im);
  memcpy(scratch, im->data, n * (size_t)C);
  const double cx = W * 0.5, cy = H * 0.5;
  /* A tiny epsilon keeps exact pixel centres (x.5 +- 1e-16) stable. */
  const double eps = 1e-9;
  for (int y = 0; y < H; y++) {
    double py = y + 0.5 - cy, px0 = 0.5 - cx;
    /* Walk the row incrementally: source moves by (a, d) per pixel. */
    double sx = a * px0 + b * py + c + cx + eps, sy = d * px0 + e * py + f + cy + eps;
    for (int x = 0; x < W; x++, sx += a, sy += d) {
      size_t o = (size_t)y * W + x;
      if (sx < 0 || sy < 0 || sx >= W || sy >= H) {
        for (int ch = 0; ch < C; ch++) im->data[(size_t)ch * n + o] = fill;
      } else {
        size_t s = (size_t)(int)sy * W + (size_t)(int)sx;
        for (int ch = 0; ch < C; ch++) im->data[(size_t)ch * n + o] = scratch[(size_t)ch * n + s];
      }
    }
  }
}

static void translate(fc_image *im, int dx, int dy, uint8_t fill, uint8_t *scratch) {
  const int H = im->height, W = im->width;
  size_t n = plane_size(im);
  memcpy(scratch, im->data, n * (size_t)im->channels);
  /* Destination columns [x0, x1) come from source columns shifted by dx. */
  int x0 = dx > 0 ? dx : 0, x1 = dx < 0 ? W + dx : W;
  if (x0 > W) x0 = W;
  if (x1 < 0) x1 = 0;
  for (int ch = 0; ch < im->channels; ch++)
    for (int y = 0; y < H; y++) {
      uint8_t *dst = im->data + (size_t)ch * n + (size_t)y * W;
      int sy = y - dy;
      if (sy < 0 || sy >= H || x1 <= x0) {
        memset(dst, fill, (size_t)W);
        continue;
      }
      const uint8_t *src = scratch + (size_t)ch * n + (size_t)sy * W;
      memset(dst, fill, (size_t)x0);
      memcpy(dst + x0, src + x0 - dx, (size_t)(x1 - x0));
      memset(dst + x1, fill, (size_t)(W - x1));
    }
}

void fc_augment_apply_op(fc_image *im, fc_aug_op op, double param, uint8_t fill, uint8_t *scratch) {
  size_t n = plane_size(im) * (size_t)im->channels;
  switch (op) {
  case FC_AUG_AUTOCONTRAST: autocontrast(im); break;
  case FC_AUG_BRIGHTNESS: blend_constant(im, 0.0f, (float)param); break;
  case FC_AUG_COLOR: color(im, (float)param, scratch); break;
  case FC_AUG_CONTRAST: contrast(im, (float)param, scratch); break;
  case FC_AUG_EQUALIZE: equalize(im); break;
  case FC_AUG_IDENTITY: break;
  case FC_AUG_POSTERIZE: {
    int bits = (int)param;
    if (bits < 1) bits = 1;
    if (bits >= 8) break;
    uint8_t mask = (uint8_t)(0xff << (8 - bits));
    for (size_t i = 0; i < n; i++) im->data[i] &= mask;
    break;
  }
  case FC_AUG_ROTATE: {
    double t = param * M_PI / 180.0, cs = cos(t), sn = sin(t);
    /* Counter-clockwise on screen (y down): source = (cos x - sin y, sin x + cos y). */
    affine_nearest(im, cs, -sn, 0, sn, cs, 0, fill, scratch);
    break;
  }
  case FC_AUG_SHARPNESS: sharpness(im, (float)param, scratch); break;
  case FC_AUG_SHEAR_X: affine_nearest(im, 1, param, 0, 0, 1, 0, fill, scratch); break;
  case FC_AUG_SHEAR_Y: affine_nearest(im, 1, 0, 0, param, 1, 0, fill, scratch); break;
  case FC_AUG_SOLARIZE: {
    int t = (int)param;
    uint8_t lut[256];
    for (int v = 0; v < 256; v++) lut[v] = (uint8_t)(v >= t ? 255 - v : v);
    apply_lut(im->data, n, lut);
    break;
  }
  case FC_AUG_TRANSLATE_X: translate(im, (int)lround(param), 0, fill, scratch); break;
  case FC_AUG_TRANSLATE_Y: translate(im, 0, (int)lround(param), fill, scratch); break;
  default: break;
  }
}

void fc_augment_flip(fc_image *im) {
  const int W = im->width;
  for (int ch = 0; ch < im->channels; ch++)
    for (int y = 0; y < im->height; y++) {
      uint8_t *row = im->data + ((size_t)ch * im->height + (size_t)y) * (size_t)W;
      for (int a = 0, b = W - 1; a < b; a++, b--) {
        uint8_t t = row[a];
        row[a] = row[b];
        row[b] = t;
      }
    }
}

static inline int reflect(int i, int n) {
  if (n == 1) return 0;
  while (i < 0 || i >= n) i = i < 0 ? -i : 2 * n - 2 - i;
  return i;
}

void fc_augment_shift_reflect(fc_image *im, int dx, int dy, uint8_t *scratch) {
  if (dx == 0 && dy == 0) return;
  const int H = im->height, W = im->width;
  size_t n = plane_size(im);
  memcpy(scratch, im->data, n * (size_t)im->channels);
  int map_stack[512];
  int *map = W <= 512 ? map_stack : malloc(sizeof(int) * (size_t)W);
  if (!map) return; /* out of memory: leave the image unshifted */
  for (int x = 0; x < W; x++) map[x] = reflect(x - dx, W);
  for (int ch = 0; ch < im->channels; ch++)
    for (int y = 0; y < H; y++) {
      const uint8_t *src = scratch + (size_t)ch * n + (size_t)reflect(y - dy, H) * W;
      uint8_t *dst = im->data + (size_t)ch * n + (size_t)y * W;
      if (dx == 0)
        memcpy(dst, src, (size_t)W);
      else
        for (int x = 0; x < W; x++) dst[x] = src[map[x]];
    }
  if (map != map_stack) free(map);
}

void fc_augment_cutout(fc_image *im, int x0, int y0, int size, uint8_t fill) {
  int x1 = x0 + size, y1 = y0 + size;
  if (x0 < 0) x0 = 0;
  if (y0 < 0) y0 = 0;
  if (x1 > im->width) x1 = im->width;
  if (y1 > im->height) y1 = im->height;
  if (x1 <= x0 || y1 <= y0) return;
  size_t n = plane_size(im);
  for (int ch = 0; ch < im->channels; ch++)
    for (int y = y0; y < y1; y++)
      memset(im->data + (size_t)ch * n + (size_t)y * im->width + x0, fill, (size_t)(x1 - x0));
}

void fc_augment_config_default(fc_augment_config *config) {
  config->flip = 1;
  config->pad = -1;
  config->strong_ops = 2;
  config->strong_weak_first = 1;
  config->cutout = 0.5;
  config->fill = 128;
  config->augment_labeled = 1;
}

/* 4 px at 48, 8 px at 112 (METHOD.md), linear in between and beyond. */
static int auto_pad(int side) {
  int p = (int)lround(4.0 + (side - 48) / 16.0);
  if (p > side / 4) p = side / 4;
  return p < 1 ? (side >= 4 ? 1 : 0) : p;
}

void fc_augment_weak(fc_image *im, const fc_augment_config *cfg, uint64_t *rng, uint8_t *scratch) {
  /* Draw every number whether or not it is used: a fixed sequence. */
  int flip = fc_rng_next(rng) >> 63;
  int pad_x = cfg->pad >= 0 ? cfg->pad : auto_pad(im->width);
  int pad_y = cfg->pad >= 0 ? cfg->pad : auto_pad(im->height);
  if (pad_x >= im->width) pad_x = im->width - 1;
  if (pad_y >= im->height) pad_y = im->height - 1;
  int dx = (int)fc_rng_below(rng, (uint64_t)(2 * pad_x + 1)) - pad_x;
  int dy = (int)fc_rng_below(rng, (uint64_t)(2 * pad_y + 1)) - pad_y;
  if (cfg->flip && flip) fc_augment_flip(im);
  fc_augment_shift_reflect(im, dx, dy, scratch);
}

void fc_augment_strong(fc_image *im, const fc_augment_config *cfg, uint64_t *rng,
                       uint8_t *scratch) {
  if (cfg->strong_weak_first) fc_augment_weak(im, cfg, rng, scratch);
  const uint8_t fill = (uint8_t)cfg->fill;
  for (int k = 0; k < cfg->strong_ops; k++) {
    fc_aug_op op = (fc_aug_op)fc_rng_below(rng, FC_AUG_OP_COUNT);
    double v = fc_rng_uniform(rng);
    double sign = (fc_rng_next(rng) >> 63) ? -1.0 : 1.0;
    double param = 0;
    switch (op) {
    case FC_AUG_BRIGHTNESS:
    case FC_AUG_COLOR:
    case FC_AUG_CONTRAST:
    case FC_AUG_SHARPNESS: param = 1.0 + sign * 0.9 * v; break;
    case FC_AUG_ROTATE: param = sign * 30.0 * v; break;
    case FC_AUG_SHEAR_X:
    case FC_AUG_SHEAR_Y: param = sign * 0.3 * v; break;
    case FC_AUG_TRANSLATE_X: param = sign * 0.3 * v * im->width; break;
    case FC_AUG_TRANSLATE_Y: param = sign * 0.3 * v * im->height; break;
    case FC_AUG_POSTERIZE: param = 8 - lround(4.0 * v); break;
    case FC_AUG_SOLARIZE: param = 256 - lround(256.0 * v); break;
    default: break;
    }
    fc_augment_apply_op(im, op, param, fill, scratch);
  }
  if (cfg->cutout > 0) {
    int side = im->width < im->height ? im->width : im->height;
    double v = fc_rng_uniform(rng);
    int size = (int)lround(v * cfg->cutout * side);
    int cx = (int)fc_rng_below(rng, (uint64_t)im->width),
        cy = (int)fc_rng_below(rng, (uint64_t)im->height);
    if (size > 0) fc_augment_cutout(im, cx - size / 2, cy - size / 2, size, fill);
  }
}
