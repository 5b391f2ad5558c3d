/* Every augmentation op on a small image with a hand-computed answer. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fercl/data.h"
#include "testutil.h"

static uint8_t scratch[4096];

static fc_image make(int c, int h, int w, const uint8_t *v) {
  fc_image im;
  FC_CHECK_OK(fc_image_alloc(&im, c, h, w));
  memcpy(im.data, v, (size_t)(c * h * w));
  return im;
}

static void expect(fc_image *im, const uint8_t *want) {
  size_t n = (size_t)im->channels * im->height * im->width;
  for (size_t i = 0; i < n; i++)
    ck_assert_msg(im->data[i] == want[i], "pixel %zu: got %d, want %d", i, im->data[i], want[i]);
  fc_image_free(im);
}

#define OP(img, op, param) fc_augment_apply_op(&(img), (op), (param), 0, scratch)

START_TEST(autocontrast) {
  /* lo 50, hi 150: (v - 50) * 2.55, truncated: 100 -> 127.5 -> 127 */
  fc_image a = make(1, 2, 2, (const uint8_t[]){50, 100, 150, 100});
  OP(a, FC_AUG_AUTOCONTRAST, 0);
  expect(&a, (const uint8_t[]){0, 127, 255, 127});
  /* per channel; a flat channel stays as it is */
  fc_image b = make(3, 1, 2, (const uint8_t[]){0, 51, 7, 7, 100, 200});
  OP(b, FC_AUG_AUTOCONTRAST, 0);
  expect(&b, (const uint8_t[]){0, 255, 7, 7, 0, 255});
}
END_TEST

START_TEST(brightness) {
  fc_image a = make(1, 1, 4, (const uint8_t[]){10, 100, 200, 255});
  OP(a, FC_AUG_BRIGHTNESS, 1.5);
  expect(&a, (const uint8_t[]){15, 150, 255, 255});
  fc_image b = make(1, 1, 4, (const uint8_t[]){10, 100, 200, 255});
  OP(b, FC_AUG_BRIGHTNESS, 0.5);
  expect(&b, (const uint8_t[]){5, 50, 100, 128}); /* 127.5 rounds up */
}
END_TEST

START_TEST(color) {
  /* one red pixel: luma 76; f = 0 gives grey, f = 2 doubles the distance from it */
  fc_image a = make(3, 1, 1, (const uint8_t[]){255, 0, 0});
  OP(a, FC_AUG_COLOR, 0.0);
  expect(&a, (const uint8_t[]){76, 76, 76});
  fc_image b = make(3, 1, 1, (const uint8_t[]){200, 100, 100}); /* luma 130 (129.9) */
  OP(b, FC_AUG_COLOR, 2.0);
  expect(&b, (const uint8_t[]){255, 70, 70}); /* 130 + 2 * 70 = 270 -> 255; 130 - 60 */
  /* grayscale: identity */
  fc_image g = make(1, 1, 3, (const uint8_t[]){1, 2, 3});
  OP(g, FC_AUG_COLOR, 0.0);
  expect(&g, (const uint8_t[]){1, 2, 3});
}
END_TEST

START_TEST(contrast) {
  /* mean 15.25 -> 15 */
  fc_image a = make(1, 1, 4, (const uint8_t[]){0, 10, 20, 31});
  OP(a, FC_AUG_CONTRAST, 0.0);
  expect(&a, (const uint8_t[]){15, 15, 15, 15});
  fc_image b = make(1, 1, 4, (const uint8_t[]){0, 10, 20, 31});
  OP(b, FC_AUG_CONTRAST, 2.0);
  expect(&b, (const uint8_t[]){0, 5, 25, 47});
  /* RGB: the mean of the luma; white + black -> luma mean 127.5 -> 128 */
  fc_image c = make(3, 1, 2, (const uint8_t[]){255, 0, 255, 0, 255, 0});
  OP(c, FC_AUG_CONTRAST, 0.5);
  expect(&c, (const uint8_t[]){192, 64, 192, 64, 192, 64}); /* 128 +- 63.75 */
}
END_TEST

START_TEST(equalize) {
  /* 32x32: 512 of 10, 256 of 20, 256 of 30. PIL's rule: step = (1024 - 256) // 255 = 3,
   * lut[v] = (1 + pixels below v) // 3: 10 -> 0, 20 -> 513 // 3 = 171, 30 -> 769 // 3 = 256 -> 255 */
  uint8_t v[1024];
  for (int i = 0; i < 1024; i++) v[i] = i < 512 ? 10 : i < 768 ? 20 : 30;
  fc_image a = make(1, 32, 32, v);
  OP(a, FC_AUG_EQUALIZE, 0);
  ck_assert_int_eq(a.data[0], 0);
  ck_assert_int_eq(a.data[600], 171);
  ck_assert_int_eq(a.data[1000], 255);
  fc_image_free(&a);
  /* Too few pixels for a step: unchanged. */
  fc_image b = make(1, 1, 4, (const uint8_t[]){0, 0, 1, 3});
  OP(b, FC_AUG_EQUALIZE, 0);
  expect(&b, (const uint8_t[]){0, 0, 1, 3});
}
END_TEST

START_TEST(identity_and_posterize) {
  fc_image a = make(1, 1, 4, (const uint8_t[]){0x12, 0xff, 0x80, 0x0f});
  OP(a, FC_AUG_IDENTITY, 0);
  expect(&a, (const uint8_t[]){0x12, 0xff, 0x80, 0x0f});
  fc_image b = make(1, 1, 4, (const uint8_t[]){0x12, 0xff, 0x80, 0x0f});
  OP(b, FC_AUG_POSTERIZE, 4);
  expect(&b, (const uint8_t[]){0x10, 0xf0, 0x80, 0x00});
  fc_image c = make(1, 1, 4, (const uint8_t[]){0x12, 0xff, 0x80, 0x0f});
  OP(c, FC_AUG_POSTERIZE, 1);
  expect(&c, (const uint8_t[]){0x00, 0x80, 0x80, 0x00});
  fc_image d = make(1, 1, 4, (const uint8_t[]){0x12, 0xff, 0x80, 0x0f});
  OP(d, FC_AUG_POSTERIZE, 8);
  expect(&d, (const uint8_t[]){0x12, 0xff, 0x80, 0x0f});
}
END_TEST

START_TEST(rotate) {
  /* 90 degrees counter-clockwise: the right column becomes the top row. */
  fc_image a = make(1, 3, 3, (const uint8_t[]){1, 2, 3, 4, 5, 6, 7, 8, 9});
  OP(a, FC_AUG_ROTATE, 90);
  expect(&a, (const uint8_t[]){3, 6, 9, 2, 5, 8, 1, 4, 7});
  fc_image b = make(1, 3, 3, (const uint8_t[]){1, 2, 3, 4, 5, 6, 7, 8, 9});
  OP(b, FC_AUG_ROTATE, -90);
  expect(&b, (const uint8_t[]){7, 4, 1, 8, 5, 2, 9, 6, 3});
  /* 4x2 turned by 90: what leaves the frame is filled (fill 0 here). */
  fc_image c = make(1, 2, 4, (const uint8_t[]){1, 2, 3, 4, 5, 6, 7, 8});
  OP(c, FC_AUG_ROTATE, 90);
  expect(&c, (const uint8_t[]){0, 3, 7, 0, 0, 2, 6, 0});
  /* fill value honoured, every channel */
  fc_image d =
      make(2, 2, 4, (const uint8_t[]){1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 13, 14, 15, 16, 17, 18});
  fc_augment_apply_op(&d, FC_AUG_ROTATE, 90, 128, scratch);
  expect(&d, (const uint8_t[]){128, 3, 7, 128, 128, 2, 6, 128, 128, 13, 17, 128, 128, 12, 16, 128});
}
END_TEST

START_TEST(sharpness) {
  /* centre 36 among 10s: smoothed centre (8*10 + 5*36) / 13 = 20; borders kept */
  const uint8_t v[9] = {10, 10, 10, 10, 36, 10, 10, 10, 10};
  fc_image a = make(1, 3, 3, v);
  OP(a, FC_AUG_SHARPNESS, 0.0);
  expect(&a, (const uint8_t[]){10, 10, 10, 10, 20, 10, 10, 10, 10});
  fc_image b = make(1, 3, 3, v);
  OP(b, FC_AUG_SHARPNESS, 2.0);
  expect(&b, (const uint8_t[]){10, 10, 10, 10, 52, 10, 10, 10, 10});
}
END_TEST

static const uint8_t grid[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

START_TEST(shear) {
  /* out(x, y) = in(x + 0.5 (y - 2)) at pixel centres: rows shift by -0.75,
   * -0.25, +0.25, +0.75 -> the top row moves right, the bottom row left. */
  fc_image a = make(1, 4, 4, grid);
  OP(a, FC_AUG_SHEAR_X, 0.5);
  expect(&a, (const uint8_t[]){0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15, 16, 0});
  fc_image b = make(1, 4, 4, grid);
  OP(b, FC_AUG_SHEAR_Y, 0.5);
  expect(&b, (const uint8_t[]){0, 2, 3, 8, 1, 6, 7, 12, 5, 10, 11, 16, 9, 14, 15, 0});
}
END_TEST

START_TEST(solarize) {
  fc_image a = make(1, 1, 4, (const uint8_t[]){0, 127, 128, 255});
  OP(a, FC_AUG_SOLARIZE, 128);
  expect(&a, (const uint8_t[]){0, 127, 127, 0});
  fc_image b = make(1, 1, 4, (const uint8_t[]){0, 127, 128, 255});
  OP(b, FC_AUG_SOLARIZE, 256);
  expect(&b, (const uint8_t[]){0, 127, 128, 255});
  fc_image c = make(1, 1, 4, (const uint8_t[]){0, 127, 128, 255});
  OP(c, FC_AUG_SOLARIZE, 0);
  expect(&c, (const uint8_t[]){255, 128, 127, 0});
}
END_TEST

START_TEST(translate) {
  fc_image a = make(1, 4, 4, grid);
  OP(a, FC_AUG_TRANSLATE_X, 1.4); /* rounds to 1 */
  expect(&a, (const uint8_t[]){0, 1, 2, 3, 0, 5, 6, 7, 0, 9, 10, 11, 0, 13, 14, 15});
  fc_image b = make(1, 4, 4, grid);
  OP(b, FC_AUG_TRANSLATE_Y, -2);
  expect(&b, (const uint8_t[]){9, 10, 11, 12, 13, 14, 15, 16, 0, 0, 0, 0, 0, 0, 0, 0});
}
END_TEST

START_TEST(flip_shift_cutout) {
  fc_image a = make(1, 2, 3, (const uint8_t[]){1, 2, 3, 4, 5, 6});
  fc_augment_flip(&a);
  expect(&a, (const uint8_t[]){3, 2, 1, 6, 5, 4});
  /* reflect padding (no edge repeat): shift right by 1 -> [2 1 2 3] */
  fc_image b = make(1, 1, 4, (const uint8_t[]){1, 2, 3, 4});
  fc_augment_shift_reflect(&b, 1, 0, scratch);
  expect(&b, (const uint8_t[]){2, 1, 2, 3});
  fc_image c = make(1, 1, 4, (const uint8_t[]){1, 2, 3, 4});
  fc_augment_shift_reflect(&c, -2, 0, scratch);
  expect(&c, (const uint8_t[]){3, 4, 3, 2});
  fc_image d = make(1, 3, 1, (const uint8_t[]){1, 2, 3});
  fc_augment_shift_reflect(&d, 0, 1, scratch);
  expect(&d, (const uint8_t[]){2, 1, 2});
  fc_image e = make(1, 4, 4, grid);
  fc_augment_cutout(&e, 1, 1, 2, 128);
  expect(&e, (const uint8_t[]){1, 2, 3, 4, 5, 128, 128, 8, 9, 128, 128, 12, 13, 14, 15, 16});
  fc_image f = make(1, 4, 4, grid);
  fc_augment_cutout(&f, 3, -1, 3, 0); /* clipped at the borders */
  expect(&f, (const uint8_t[]){1, 2, 3, 0, 5, 6, 7, 0, 9, 10, 11, 12, 13, 14, 15, 16});
}
END_TEST

START_TEST(weak_and_strong_views) {
  fc_augment_config cfg;
  fc_augment_config_default(&cfg);
  uint8_t v[48 * 48];
  for (int i = 0; i < 48 * 48; i++) v[i] = (uint8_t)(i * 7 % 251);
  /* Same rng state: same output. */
  fc_image a = make(1, 48, 48, v), b = make(1, 48, 48, v);
  uint64_t r1 = 99, r2 = 99;
  fc_augment_strong(&a, &cfg, &r1, scratch);
  fc_augment_strong(&b, &cfg, &r2, scratch);
  ck_assert_mem_eq(a.data, b.data, 48 * 48);
  ck_assert(r1 == r2);
  fc_image_free(&a);
  fc_image_free(&b);
  /* Weak with no shift is a flip or nothing; with the default pad, some
   * draws shift (pad 4 at 48). */
  cfg.pad = 0;
  int flips = 0, same = 0;
  for (uint64_t s = 0; s < 64; s++) {
    fc_image w = make(1, 48, 48, v);
    uint64_t r = s;
    fc_augment_weak(&w, &cfg, &r, scratch);
    if (!memcmp(w.data, v, sizeof v)) same++;
    fc_augment_flip(&w);
    if (!memcmp(w.data, v, sizeof v)) flips++;
    fc_image_free(&w);
  }
  ck_assert_int_eq(same + flips, 64);
  ck_assert_int_gt(same, 10);
  ck_assert_int_gt(flips, 10);
  /* Strong with nothing enabled is the identity. */
  cfg.strong_ops = 0;
  cfg.cutout = 0;
  cfg.strong_weak_first = 0;
  fc_image c = make(1, 48, 48, v);
  uint64_t r = 5;
  fc_augment_strong(&c, &cfg, &r, scratch);
  ck_assert_mem_eq(c.data, v, sizeof v);
  fc_image_free(&c);
  /* Many random strong views of an RGB image: all ops, all magnitudes, in bounds. */
  fc_augment_config_default(&cfg);
  cfg.strong_ops = 3;
  uint8_t rgb[3 * 20 * 20];
  for (int i = 0; i < 1200; i++) rgb[i] = (uint8_t)(i * 13);
  int changed = 0;
  for (uint64_t s = 0; s < 400; s++) {
    fc_image x = make(3, 20, 20, rgb);
    uint64_t rr = fc_rng_key(1, 2, s, 3);
    fc_augment_strong(&x, &cfg, &rr, scratch);
    changed += memcmp(x.data, rgb, sizeof rgb) != 0;
    fc_image_free(&x);
  }
  ck_assert_int_gt(changed, 390);
  ck_assert_str_eq(fc_aug_op_name(FC_AUG_SHEAR_Y), "ShearY");
}
END_TEST

START_TEST(permutation_is_a_bijection) {
  const int64_t sizes[] = {1, 2, 3, 7, 64, 1000, 4097};
  for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
    int64_t n = sizes[k];
    uint8_t *seen = calloc((size_t)n, 1);
    int64_t fixed = 0;
    for (int64_t i = 0; i < n; i++) {
      int64_t p = fc_permute(12345 + (uint64_t)k, n, i);
      ck_assert(p >= 0 && p < n);
      ck_assert(!seen[p]);
      seen[p] = 1;
      fixed += p == i;
    }
    if (n >= 64) ck_assert_int_lt(fixed, n / 8); /* actually shuffled */
    free(seen);
  }
  /* fc_rng_below stays in range and covers it */
  uint64_t st = 1;
  int hit[7] = {0};
  for (int i = 0; i < 7000; i++) {
    uint64_t v = fc_rng_below(&st, 7);
    ck_assert(v < 7);
    hit[v]++;
  }
  for (int i = 0; i < 7; i++) ck_assert_int_gt(hit[i], 850);
}
END_TEST

FC_TEST_MAIN("data-augment", 0, "augment", 0, autocontrast, brightness, color, contrast, equalize,
             identity_and_posterize, rotate, sharpness, shear, solarize, translate,
             flip_shift_cutout, weak_and_strong_views, permutation_is_a_bijection)
