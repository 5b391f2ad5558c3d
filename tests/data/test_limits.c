/* What a file may make fer-cl allocate or read: sizes claimed by headers and
 * rows are refused before anything is allocated, and chunks the decoder does
 * not need are skipped unread. (The sanitizer stage of tools/test.sh also
 * fails any single allocation above 1 GiB.) */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fercl/data.h"
#include "fercl/fileio.h"
#include "fercl/log.h"
#include "fixtures.h"
#include "testutil.h"

static uint32_t crc32_bytes(const uint8_t *p, size_t n) {
  uint32_t c = 0xffffffffu;
  for (size_t i = 0; i < n; i++) {
    c ^= p[i];
    for (int k = 0; k < 8; k++) c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
  }
  return c ^ 0xffffffffu;
}

static void put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

/* A small gray PNG's bytes (written by the fixtures' libpng writer). */
static uint8_t *small_png(size_t *size) {
  char path[1024];
  snprintf(path, sizeof path, "%s/small.png", fx_dir("limits"));
  uint16_t s[12 * 10];
  for (int i = 0; i < 12 * 10; i++) s[i] = fx_pattern(i % 12, i / 12, 3);
  fx_write_png(path, 12, 10, FX_GRAY, 8, s, NULL, 0);
  char *data = NULL;
  FC_CHECK_OK(fc_file_read_all(path, 1 << 20, &data, size));
  return (uint8_t *)data;
}

/* png with a chunk inserted at offset `at` (declared length `length`, with
 * `n` bytes of data actually present, and a valid CRC when they are all there). */
static uint8_t *with_chunk(const uint8_t *png, size_t size, size_t at, const char *type,
                           uint32_t length, const uint8_t *data, size_t n, size_t *out_size) {
  uint8_t *out = malloc(size + 12 + n);
  memcpy(out, png, at);
  uint8_t *c = out + at;
  put32(c, length);
  memcpy(c + 4, type, 4);
  memcpy(c + 8, data, n);
  put32(c + 8 + n, crc32_bytes(c + 4, 4 + n));
  memcpy(c + 12 + n, png + at, size - at);
  *out_size = size + 12 + n;
  return out;
}

START_TEST(png_chunk_claiming_gigabytes_is_not_allocated) {
  size_t size = 0;
  uint8_t *png = small_png(&size);
  const size_t after_ihdr = 8 + 25;
  const uint8_t text[] = "Comment\0a 111-byte file once made libpng allocate 1.8 GB";
  /* Before the image data, and after it: claims 1.8 GB, holds 58 bytes. */
  size_t positions[2] = {after_ihdr, size - 12 /* before IEND */};
  for (int i = 0; i < 2; i++) {
    size_t n = 0;
    uint8_t *bad = with_chunk(png, size, positions[i], "tEXt", 0x70000000u, text, sizeof text, &n);
    fc_image im;
    fc_status st = fc_image_decode(bad, n, "bomb.png", NULL, &im, NULL);
    ck_assert_msg(st == FC_ERR_FORMAT, "position %d: %s: %s", i, fc_status_name(st),
                  fc_last_error());
    ck_assert_ptr_nonnull(strstr(fc_last_error(), "bomb.png: corrupt PNG"));
    ck_assert_ptr_null(im.data);
    free(bad);
  }
  free(png);
}
END_TEST

START_TEST(png_ancillary_chunks_are_skipped_not_decoded) {
  size_t size = 0;
  uint8_t *png = small_png(&size);
  fc_image plain;
  FC_CHECK_OK(fc_image_decode(png, size, "plain.png", NULL, &plain, NULL));
  /* Text, compressed text and an ICC profile whose compressed data is garbage,
   * gamma and physical size: the pixels do not change. */
  static const uint8_t ztxt[] = "Title\0\0\x78\x9c garbage that does not inflate";
  static const uint8_t iccp[] = "profile\0\0\x78\x9c\xff\xff\xff\xff";
  static const uint8_t gama[] = {0, 0, 0xb1, 0x8f};
  static const uint8_t phys[] = {0, 0, 0x0b, 0x13, 0, 0, 0x0b, 0x13, 1};
  struct {
    const char *type;
    const uint8_t *data;
    size_t n;
  } chunks[] = {{"zTXt", ztxt, sizeof ztxt - 1},
                {"iCCP", iccp, sizeof iccp - 1},
                {"gAMA", gama, 4},
                {"pHYs", phys, 9}};
  uint8_t *cur = png;
  size_t cur_size = size;
  for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
    size_t n = 0;
    uint8_t *next = with_chunk(cur, cur_size, 8 + 25, chunks[i].type, (uint32_t)chunks[i].n,
                               chunks[i].data, chunks[i].n, &n);
    if (cur != png) free(cur);
    cur = next;
    cur_size = n;
  }
  fc_image im;
  FC_CHECK_OK(fc_image_decode(cur, cur_size, "chunks.png", NULL, &im, NULL));
  ck_assert_int_eq(im.width, plain.width);
  ck_assert_int_eq(im.height, plain.height);
  ck_assert_mem_eq(im.data, plain.data, (size_t)im.width * (size_t)im.height);
  fc_image_free(&im);
  fc_image_free(&plain);
  free(cur);
  free(png);
}
END_TEST

static void fer_row(FILE *fp, int emotion, int pixels) {
  fprintf(fp, "%d,", emotion);
  for (int i = 0; i < pixels; i++) fprintf(fp, "%s%d", i ? " " : "", i % 256);
  fprintf(fp, ",Training\n");
}

START_TEST(fer2013_rows_cannot_claim_more_pixels) {
  char path[1024];
  snprintf(path, sizeof path, "%s/fer2013.csv", fx_dir("limits_fer"));
  FILE *fp = fopen(path, "w");
  fprintf(fp, "emotion,pixels,Usage\n");
  fer_row(fp, 1, 2304);
  fer_row(fp, 2, 200000); /* a row claiming a 447x447 image: skipped, nothing allocated for it */
  fclose(fp);
  fc_data_options o;
  fc_data_options_default(&o);
  o.threads = 1;
  fc_log_set_level(FC_LOG_ERROR);
  fc_dataset *ds = NULL;
  FC_CHECK_OK(fc_dataset_load(path, &o, &ds));
  ck_assert_int_eq(ds->count, 1);
  ck_assert_int_eq(ds->problem_count, 1);
  ck_assert_ptr_nonnull(
      strstr(ds->problems[0].message, "line 3: 200000 pixel values, expected 2304"));
  fc_dataset_free(ds);
  /* A line past the 1 MiB cap is not read into memory at all. */
  fp = fopen(path, "w");
  fprintf(fp, "emotion,pixels,Usage\n");
  fer_row(fp, 1, 400000);
  fclose(fp);
  ck_assert_int_eq(fc_dataset_load(path, &o, &ds), FC_ERR_FORMAT);
  ck_assert_msg(strstr(fc_last_error(), "line 2: longer than 1048576 bytes") != NULL, "%s",
                fc_last_error());
}
END_TEST

START_TEST(decoded_set_above_max_bytes_refused_before_decoding) {
  char path[1024];
  snprintf(path, sizeof path, "%s/fer2013.csv", fx_dir("limits_bytes"));
  FILE *fp = fopen(path, "w");
  fprintf(fp, "emotion,pixels,Usage\n");
  for (int i = 0; i < 3; i++) fer_row(fp, i, 2304);
  fclose(fp);
  fc_data_options o;
  fc_data_options_default(&o);
  o.threads = 1;
  o.height = o.width = 1024; /* 3 MiB for 3 images */
  o.max_bytes = 2u << 20;
  fc_dataset *ds = NULL;
  ck_assert_int_eq(fc_dataset_load(path, &o, &ds), FC_ERR_LIMIT);
  ck_assert_msg(strstr(fc_last_error(), "3 images of 1x1024x1024") != NULL, "%s", fc_last_error());
  ck_assert_ptr_null(ds);
}
END_TEST

START_TEST(rafdb_list_cannot_name_files_elsewhere) {
  const char *root = fx_dir("limits_rafdb");
  fx_mkdirs("%s/EmoLabel", root);
  fx_mkdirs("%s/Image/aligned", root);
  char path[1024];
  snprintf(path, sizeof path, "%s/EmoLabel/list_patition_label.txt", root);
  fx_write_text(path, "train_00001.jpg 1\ntrain/../../../../etc/passwd 2\n");
  fc_dataset *ds = NULL;
  fc_data_options o;
  fc_data_options_default(&o);
  o.format = FC_DATA_RAFDB;
  ck_assert_int_eq(fc_dataset_load(root, &o, &ds), FC_ERR_FORMAT);
  ck_assert_msg(strstr(fc_last_error(),
                       "line 2: 'train/../../../../etc/passwd' is not a plain file name") != NULL,
                "%s", fc_last_error());
}
END_TEST

FC_TEST_MAIN("limits", 0, "readers", 0, png_chunk_claiming_gigabytes_is_not_allocated,
             png_ancillary_chunks_are_skipped_not_decoded, fer2013_rows_cannot_claim_more_pixels,
             decoded_set_above_max_bytes_refused_before_decoding,
             rafdb_list_cannot_name_files_elsewhere)
