/* Decoding (PNG of every colour type and depth, JPEG), colour conversion,
 * resizing, and the rejection of broken or absurd files. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fercl/data.h"
#include "fixtures.h"
#include "testutil.h"

static char path_buf[1024];
static const char *tmp_path(const char *name) {
  snprintf(path_buf, sizeof path_buf, "%s/%s", fx_dir("decode"), name);
  return path_buf;
}

START_TEST(png_gray8_exact) {
  uint16_t s[12] = {0, 1, 2, 3, 50, 100, 150, 200, 252, 253, 254, 255};
  fx_write_png(tmp_path("g8.png"), 4, 3, FX_GRAY, 8, s, NULL, 0);
  fc_image im;
  fc_image_info info;
  FC_CHECK_OK(fc_image_load(tmp_path("g8.png"), NULL, &im, &info));
  ck_assert_int_eq(im.channels, 1);
  ck_assert_int_eq(im.width, 4);
  ck_assert_int_eq(im.height, 3);
  ck_assert_int_eq(info.channels, 1);
  ck_assert_int_eq(info.bit_depth, 8);
  ck_assert_str_eq(info.format, "png");
  for (int i = 0; i < 12; i++) ck_assert_int_eq(im.data[i], s[i]);
  fc_image_free(&im);
}
END_TEST

START_TEST(png_gray16_reduced) {
  /* 16-bit samples scale to 8 bits: v * 255 / 65535 rounded; 257 k -> k. */
  uint16_t s[4] = {0, 65535, 257 * 100, 257 * 7};
  fx_write_png(tmp_path("g16.png"), 2, 2, FX_GRAY, 16, s, NULL, 0);
  fc_image im;
  fc_image_info info;
  FC_CHECK_OK(fc_image_load(tmp_path("g16.png"), NULL, &im, &info));
  ck_assert_int_eq(info.bit_depth, 16);
  ck_assert_int_eq(im.data[0], 0);
  ck_assert_int_eq(im.data[1], 255);
  ck_assert_int_eq(im.data[2], 100);
  ck_assert_int_eq(im.data[3], 7);
  fc_image_free(&im);
}
END_TEST

START_TEST(png_rgb_to_gray_luma601) {
  /* red, green, blue, white: (19595 R + 38470 G + 7471 B + 32768) >> 16 */
  uint16_t s[12] = {255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255};
  fx_write_png(tmp_path("rgb.png"), 4, 1, FX_RGB, 8, s, NULL, 0);
  fc_decode_request req = {.channels = 1};
  fc_image im;
  fc_image_info info;
  FC_CHECK_OK(fc_image_load(tmp_path("rgb.png"), &req, &im, &info));
  ck_assert_int_eq(info.channels, 3);
  ck_assert_int_eq(im.channels, 1);
  ck_assert_int_eq(im.data[0], 76);
  ck_assert_int_eq(im.data[1], 150);
  ck_assert_int_eq(im.data[2], 29);
  ck_assert_int_eq(im.data[3], 255);
  fc_image_free(&im);
  /* Kept as RGB: planar layout, plane R then G then B. */
  FC_CHECK_OK(fc_image_load(tmp_path("rgb.png"), NULL, &im, NULL));
  ck_assert_int_eq(im.channels, 3);
  const uint8_t want[12] = {255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255};
  ck_assert_mem_eq(im.data, want, 12);
  fc_image_free(&im);
}
END_TEST

START_TEST(png_rgba_and_gray_alpha_drop_alpha) {
  uint16_t s[8] = {10, 20, 30, 0, 200, 100, 50, 255};
  fx_write_png(tmp_path("rgba.png"), 2, 1, FX_RGBA, 8, s, NULL, 0);
  fc_image im;
  fc_image_info info;
  FC_CHECK_OK(fc_image_load(tmp_path("rgba.png"), NULL, &im, &info));
  ck_assert_int_eq(info.has_alpha, 1);
  ck_assert_int_eq(im.channels, 3);
  const uint8_t want[6] = {10, 200, 20, 100, 30, 50};
  ck_assert_mem_eq(im.data, want, 6);
  fc_image_free(&im);
  uint16_t ga[4] = {77, 0, 99, 255};
  fx_write_png(tmp_path("ga.png"), 2, 1, FX_GRAY_ALPHA, 8, ga, NULL, 0);
  FC_CHECK_OK(fc_image_load(tmp_path("ga.png"), NULL, &im, &info));
  ck_assert_int_eq(im.channels, 1);
  ck_assert_int_eq(im.data[0], 77);
  ck_assert_int_eq(im.data[1], 99);
  fc_image_free(&im);
}
END_TEST

START_TEST(png_interlaced_16bit_rgba) {
  /* Adam7, 16 bits, alpha: every transform at once. 257 k -> k. */
  enum { W = 9, H = 7 };
  uint16_t s[W * H * 4];
  for (int i = 0; i < W * H; i++) {
    s[4 * i] = (uint16_t)(257 * (i % 256));
    s[4 * i + 1] = (uint16_t)(257 * ((3 * i) % 256));
    s[4 * i + 2] = 65535;
    s[4 * i + 3] = (uint16_t)(i * 1000);
  }
  fx_png_interlace = 1;
  fx_write_png(tmp_path("i16.png"), W, H, FX_RGBA, 16, s, NULL, 0);
  fx_png_interlace = 0;
  fc_image im;
  fc_image_info info;
  FC_CHECK_OK(fc_image_load(tmp_path("i16.png"), NULL, &im, &info));
  ck_assert_int_eq(info.bit_depth, 16);
  ck_assert_int_eq(info.has_alpha, 1);
  ck_assert_int_eq(im.channels, 3);
  for (int i = 0; i < W * H; i++) {
    ck_assert_int_eq(im.data[i], i % 256);
    ck_assert_int_eq(im.data[W * H + i], (3 * i) % 256);
    ck_assert_int_eq(im.data[2 * W * H + i], 255);
  }
  fc_image_free(&im);
}
END_TEST

START_TEST(png_palette_expanded) {
  const uint8_t pal[9] = {255, 0, 0, 0, 0, 255, 40, 40, 40};
  uint16_t s[3] = {2, 0, 1};
  fx_write_png(tmp_path("pal.png"), 3, 1, FX_PALETTE, 8, s, pal, 3);
  fc_image im;
  FC_CHECK_OK(fc_image_load(tmp_path("pal.png"), NULL, &im, NULL));
  ck_assert_int_eq(im.channels, 3);
  const uint8_t want[9] = {40, 255, 0, 40, 0, 0, 40, 0, 255};
  ck_assert_mem_eq(im.data, want, 9);
  fc_image_free(&im);
  fc_decode_request req = {.channels = 1};
  FC_CHECK_OK(fc_image_load(tmp_path("pal.png"), &req, &im, NULL));
  ck_assert_int_eq(im.data[0], 40);
  ck_assert_int_eq(im.data[1], 76);
  ck_assert_int_eq(im.data[2], 29);
  fc_image_free(&im);
}
END_TEST

START_TEST(gray_to_rgb_replicates) {
  uint16_t s[2] = {12, 240};
  fx_write_png(tmp_path("g2.png"), 2, 1, FX_GRAY, 8, s, NULL, 0);
  fc_decode_request req = {.channels = 3};
  fc_image im;
  FC_CHECK_OK(fc_image_load(tmp_path("g2.png"), &req, &im, NULL));
  const uint8_t want[6] = {12, 240, 12, 240, 12, 240};
  ck_assert_mem_eq(im.data, want, 6);
  fc_image_free(&im);
}
END_TEST

START_TEST(jpeg_gray_and_rgb) {
  /* Flat 16x16 blocks survive JPEG at quality 100 to within a few levels
   * away from the block edges (chroma is subsampled and smoothed there). */
  enum { S = 32 };
  uint8_t g[S * S], rgb[S * S * 3];
  for (int y = 0; y < S; y++)
    for (int x = 0; x < S; x++) {
      int block = (y / 16) * 2 + x / 16;
      g[y * S + x] = (uint8_t)(40 + 50 * block);
      rgb[3 * (y * S + x)] = (uint8_t)(200 - 40 * block);
      rgb[3 * (y * S + x) + 1] = (uint8_t)(60 + 30 * block);
      rgb[3 * (y * S + x) + 2] = 90;
    }
  fx_write_jpeg(tmp_path("g.jpg"), S, S, 1, g, 100);
  fx_write_jpeg(tmp_path("c.JPG"), S, S, 3, rgb, 100);
  fc_image im;
  fc_image_info info;
  FC_CHECK_OK(fc_image_load(tmp_path("g.jpg"), NULL, &im, &info));
  ck_assert_str_eq(info.format, "jpeg");
  ck_assert_int_eq(info.channels, 1);
  ck_assert_int_eq(im.channels, 1);
  for (int i = 0; i < S * S; i++) ck_assert_int_le(abs(im.data[i] - g[i]), 2);
  fc_image_free(&im);
  FC_CHECK_OK(fc_image_load(tmp_path("c.JPG"), NULL, &im, &info));
  ck_assert_int_eq(info.channels, 3);
  ck_assert_int_eq(im.channels, 3);
  for (int y = 0; y < S; y++)
    for (int x = 0; x < S; x++) {
      int ex = x % 16, ey = y % 16;
      if (ex < 3 || ex > 12 || ey < 3 || ey > 12) continue;
      for (int c = 0; c < 3; c++)
        ck_assert_int_le(abs(im.data[c * S * S + y * S + x] - rgb[3 * (y * S + x) + c]), 3);
    }
  fc_image_free(&im);
  /* Gray from a colour JPEG is its luma (Y), to within rounding. */
  fc_decode_request req = {.channels = 1};
  FC_CHECK_OK(fc_image_load(tmp_path("c.JPG"), &req, &im, NULL));
  ck_assert_int_eq(im.channels, 1);
  for (int i = 0; i < S * S; i++) {
    int luma = (19595 * rgb[3 * i] + 38470 * rgb[3 * i + 1] + 7471 * rgb[3 * i + 2] + 32768) >> 16;
    ck_assert_int_le(abs(im.data[i] - luma), 3);
  }
  fc_image_free(&im);
}
END_TEST

START_TEST(jpeg_large_shrinks_close_to_area_average) {
  /* 64x64 of four flat quadrants decoded straight to 16x16 (the IDCT does part of it). */
  uint8_t g[64 * 64];
  for (int y = 0; y < 64; y++)
    for (int x = 0; x < 64; x++) g[y * 64 + x] = (uint8_t)((y < 32 ? 30 : 150) + (x < 32 ? 0 : 60));
  fx_write_jpeg(tmp_path("big.jpg"), 64, 64, 1, g, 95);
  fc_decode_request req = {.channels = 1, .height = 16, .width = 16};
  fc_image im;
  FC_CHECK_OK(fc_image_load(tmp_path("big.jpg"), &req, &im, NULL));
  ck_assert_int_eq(im.width, 16);
  ck_assert_int_eq(im.height, 16);
  ck_assert_int_le(abs(im.data[2 * 16 + 2] - 30), 4);
  ck_assert_int_le(abs(im.data[2 * 16 + 13] - 90), 4);
  ck_assert_int_le(abs(im.data[13 * 16 + 2] - 150), 4);
  ck_assert_int_le(abs(im.data[13 * 16 + 13] - 210), 4);
  fc_image_free(&im);
}
END_TEST

START_TEST(truncated_jpeg_rejected) {
  uint8_t g[32 * 32];
  for (int i = 0; i < 32 * 32; i++) g[i] = fx_pattern(i % 32, i / 32, 1);
  size_t n = 0;
  uint8_t *b = fx_jpeg_bytes(32, 32, 1, g, 90, &n);
  fc_image im;
  fc_status st = fc_image_decode(b, n / 2, "half.jpg", NULL, &im, NULL);
  ck_assert_int_eq(st, FC_ERR_FORMAT);
  ck_assert_ptr_nonnull(strstr(fc_last_error(), "half.jpg"));
  ck_assert_ptr_nonnull(strstr(fc_last_error(), "truncated"));
  ck_assert_ptr_null(im.data);
  /* The whole file still decodes: the failure was the truncation. */
  FC_CHECK_OK(fc_image_decode(b, n, "whole.jpg", NULL, &im, NULL));
  fc_image_free(&im);
  /* Only the signature: the header itself is missing. */
  st = fc_image_decode(b, 4, "stub.jpg", NULL, &im, NULL);
  ck_assert_int_eq(st, FC_ERR_FORMAT);
  ck_assert_ptr_nonnull(strstr(fc_last_error(), "stub.jpg"));
  free(b);
}
END_TEST

START_TEST(bad_png_rejected) {
  uint16_t s[64];
  for (int i = 0; i < 64; i++) s[i] = (uint16_t)(i * 3);
  fx_write_png(tmp_path("ok.png"), 8, 8, FX_GRAY, 8, s, NULL, 0);
  FILE *fp = fopen(tmp_path("ok.png"), "rb");
  uint8_t buf[4096];
  size_t n = fread(buf, 1, sizeof buf, fp);
  fclose(fp);
  fc_image im;
  /* A flipped byte inside IDAT (its CRC no longer matches). */
  uint8_t *bad = malloc(n);
  memcpy(bad, buf, n);
  size_t idat = 0;
  for (size_t i = 8; i + 4 < n; i++)
    if (!memcmp(bad + i, "IDAT", 4)) idat = i;
  ck_assert(idat > 0);
  bad[idat + 6] ^= 0x55;
  fc_status st = fc_image_decode(bad, n, "flipped.png", NULL, &im, NULL);
  ck_assert_int_eq(st, FC_ERR_FORMAT);
  ck_assert_ptr_nonnull(strstr(fc_last_error(), "flipped.png: corrupt PNG"));
  /* Cut short in the middle of the data. */
  st = fc_image_decode(buf, idat + 8, "short.png", NULL, &im, NULL);
  ck_assert_int_eq(st, FC_ERR_FORMAT);
  ck_assert_ptr_nonnull(strstr(fc_last_error(), "short.png"));
  /* Not an image at all, and empty. */
  st = fc_image_decode("hello, world", 12, "notes.png", NULL, &im, NULL);
  ck_assert_int_eq(st, FC_ERR_FORMAT);
  ck_assert_ptr_nonnull(strstr(fc_last_error(), "not a PNG or JPEG"));
  st = fc_image_decode("", 0, "empty.jpg", NULL, &im, NULL);
  ck_assert_int_eq(st, FC_ERR_FORMAT);
  ck_assert_ptr_nonnull(strstr(fc_last_error(), "empty"));
  /* A missing file names itself. */
  st = fc_image_load(tmp_path("missing.png"), NULL, &im, NULL);
  ck_assert_int_eq(st, FC_ERR_IO);
  ck_assert_ptr_nonnull(strstr(fc_last_error(), "missing.png"));
  free(bad);
}
END_TEST

static uint32_t crc32_of(const uint8_t *p, size_t n) {
  uint32_t c = 0xffffffffu;
  for (size_t i = 0; i < n; i++) {
    c ^= p[i];
    for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
  }
  return ~c;
}

static void put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

START_TEST(absurd_dimensions_refused_before_allocating) {
  /* A PNG whose valid IHDR claims 100000 x 100000 (and nothing else). */
  uint8_t png[8 + 25];
  memcpy(png, "\x89PNG\r\n\x1a\n", 8);
  put32(png + 8, 13);
  memcpy(png + 12, "IHDR", 4);
  put32(png + 16, 100000);
  put32(png + 20, 100000);
  png[24] = 8;
  png[25] = 0;
  png[26] = png[27] = png[28] = 0;
  put32(png + 29, crc32_of(png + 12, 17));
  fc_image im;
  fc_status st = fc_image_decode(png, sizeof png, "huge.png", NULL, &im, NULL);
  ck_assert_int_eq(st, FC_ERR_LIMIT);
  ck_assert_ptr_nonnull(strstr(fc_last_error(), "huge.png"));
  ck_assert_ptr_nonnull(strstr(fc_last_error(), "100000x100000"));
  /* Within the per-side limit but over the pixel budget: 9000 x 9000. */
  put32(png + 16, 9000);
  put32(png + 20, 9000);
  put32(png + 29, crc32_of(png + 12, 17));
  ck_assert_int_eq(fc_image_decode(png, sizeof png, "big.png", NULL, &im, NULL), FC_ERR_LIMIT);
  /* A JPEG whose SOF claims 60000 x 60000. */
  uint8_t g[64] = {0};
  size_t n = 0;
  uint8_t *j = fx_jpeg_bytes(8, 8, 1, g, 90, &n);
  size_t sof = 0;
  for (size_t i = 2; i + 8 < n; i++)
    if (j[i] == 0xFF && j[i + 1] == 0xC0) sof = i;
  ck_assert(sof > 0);
  j[sof + 5] = 0xEA; /* height = 0xEA60 = 60000 */
  j[sof + 6] = 0x60;
  j[sof + 7] = 0xEA; /* width */
  j[sof + 8] = 0x60;
  st = fc_image_decode(j, n, "huge.jpg", NULL, &im, NULL);
  ck_assert_int_eq(st, FC_ERR_LIMIT);
  ck_assert_ptr_nonnull(strstr(fc_last_error(), "60000x60000"));
  free(j);
}
END_TEST

START_TEST(resize_area_and_bilinear_known_answers) {
  fc_image src, dst;
  /* 4x4 -> 2x2: the mean of each 2x2 block. */
  const uint8_t s44[16] = {10, 20, 100, 100, 30, 40, 100, 100, 0, 0, 255, 255, 0, 4, 255, 251};
  FC_CHECK_OK(fc_image_alloc(&src, 1, 4, 4));
  memcpy(src.data, s44, 16);
  FC_CHECK_OK(fc_image_alloc(&dst, 1, 2, 2));
  FC_CHECK_OK(fc_image_resize(&src, &dst));
  ck_assert_int_eq(dst.data[0], 25); /* (10+20+30+40)/4 */
  ck_assert_int_eq(dst.data[1], 100);
  ck_assert_int_eq(dst.data[2], 1);   /* 4/4 */
  ck_assert_int_eq(dst.data[3], 254); /* (255+255+255+251)/4 = 254 */
  fc_image_free(&src);
  fc_image_free(&dst);
  /* 3 -> 2 along x: out0 = (2/3) in0 + (1/3) in1, out1 = (1/3) in1 + (2/3) in2. */
  FC_CHECK_OK(fc_image_alloc(&src, 1, 1, 3));
  src.data[0] = 0;
  src.data[1] = 90;
  src.data[2] = 180;
  FC_CHECK_OK(fc_image_alloc(&dst, 1, 1, 2));
  FC_CHECK_OK(fc_image_resize(&src, &dst));
  ck_assert_int_eq(dst.data[0], 30);
  ck_assert_int_eq(dst.data[1], 150);
  fc_image_free(&src);
  fc_image_free(&dst);
  /* 2 -> 4 bilinear, half-pixel centres: sources -0.25 (clamped), 0.25, 0.75, 1.25 (clamped). */
  FC_CHECK_OK(fc_image_alloc(&src, 1, 2, 2));
  const uint8_t s22[4] = {0, 100, 200, 40};
  memcpy(src.data, s22, 4);
  FC_CHECK_OK(fc_image_alloc(&dst, 1, 4, 4));
  FC_CHECK_OK(fc_image_resize(&src, &dst));
  /* rows 1 and 2 mix rows 0 and 3 with weights 3/4 : 1/4 and 1/4 : 3/4 */
  const uint8_t want[16] = {0, 25, 75, 100, 50, 59, 76, 85, 150, 126, 79, 55, 200, 160, 80, 40};
  ck_assert_mem_eq(dst.data, want, 16);
  fc_image_free(&src);
  fc_image_free(&dst);
}
END_TEST

START_TEST(decode_with_resize_and_crop) {
  /* 4x4 gray PNG -> 2x2 area average at load; and a crop of its right half. */
  uint16_t s[16];
  for (int i = 0; i < 16; i++) s[i] = (uint16_t)(i * 10);
  fx_write_png(tmp_path("r.png"), 4, 4, FX_GRAY, 8, s, NULL, 0);
  fc_decode_request req = {.channels = 1, .height = 2, .width = 2};
  fc_image im;
  FC_CHECK_OK(fc_image_load(tmp_path("r.png"), &req, &im, NULL));
  /* block means: (0+10+40+50)/4 = 25, (20+30+60+70)/4 = 45, 105, 125 */
  const uint8_t want[4] = {25, 45, 105, 125};
  ck_assert_mem_eq(im.data, want, 4);
  fc_image_free(&im);
  fc_decode_request crop = {.channels = 1, .crop_x = 2, .crop_y = 1, .crop_w = 2, .crop_h = 2};
  FC_CHECK_OK(fc_image_load(tmp_path("r.png"), &crop, &im, NULL));
  ck_assert_int_eq(im.width, 2);
  ck_assert_int_eq(im.height, 2);
  const uint8_t want_crop[4] = {60, 70, 100, 110};
  ck_assert_mem_eq(im.data, want_crop, 4);
  fc_image_free(&im);
  /* A box reaching past the image is clipped. */
  fc_decode_request clip = {.channels = 1, .crop_x = 3, .crop_y = 3, .crop_w = 10, .crop_h = 10};
  FC_CHECK_OK(fc_image_load(tmp_path("r.png"), &clip, &im, NULL));
  ck_assert_int_eq(im.width, 1);
  ck_assert_int_eq(im.data[0], 150);
  fc_image_free(&im);
}
END_TEST

START_TEST(write_png_roundtrip) {
  fc_image im, back;
  FC_CHECK_OK(fc_image_alloc(&im, 3, 5, 7));
  for (int i = 0; i < 3 * 5 * 7; i++) im.data[i] = (uint8_t)(i * 7 + 3);
  FC_CHECK_OK(fc_image_write_png(tmp_path("w.png"), &im));
  FC_CHECK_OK(fc_image_load(tmp_path("w.png"), NULL, &back, NULL));
  ck_assert_int_eq(back.channels, 3);
  ck_assert_int_eq(back.height, 5);
  ck_assert_int_eq(back.width, 7);
  ck_assert_mem_eq(back.data, im.data, 3 * 5 * 7);
  fc_image_free(&im);
  fc_image_free(&back);
}
END_TEST

FC_TEST_MAIN("data-decode", 0, "decode", 0, png_gray8_exact, png_gray16_reduced,
             png_rgb_to_gray_luma601, png_rgba_and_gray_alpha_drop_alpha, png_interlaced_16bit_rgba,
             png_palette_expanded, gray_to_rgb_replicates, jpeg_gray_and_rgb,
             jpeg_large_shrinks_close_to_area_average, truncated_jpeg_rejected, bad_png_rejected,
             absurd_dimensions_refused_before_allocating, resize_area_and_bilinear_known_answers,
             decode_with_resize_and_crop, write_png_roundtrip)
