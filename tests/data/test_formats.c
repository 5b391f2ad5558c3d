/* Dataset formats: folder per class (with and without splits), FER2013 CSV,
 * RAF-DB, AffectNet, unlabelled folders; detection; broken inputs. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fercl/data.h"
#include "fercl/log.h"
#include "fixtures.h"
#include "testutil.h"

/* ---- log capture ---- */
static char logged[65536];
static int warnings;
static void capture(fc_log_level level, const char *message, void *user) {
  (void)user;
  if (level == FC_LOG_WARN) warnings++;
  strncat(logged, message, sizeof logged - strlen(logged) - 2);
  strcat(logged, "\n");
}
static void capture_logs(void) {
  logged[0] = '\0';
  warnings = 0;
  fc_log_set_level(FC_LOG_INFO);
  fc_log_set_sink(capture, NULL);
}

static void gray_png(const char *path, int w, int h, int seed) {
  uint16_t s[64 * 64];
  for (int i = 0; i < w * h; i++) s[i] = fx_pattern(i % w, i / w, seed);
  fx_write_png(path, w, h, FX_GRAY, 8, s, NULL, 0);
}

static void gray_jpeg(const char *path, int w, int h, int value) {
  uint8_t p[64 * 64];
  memset(p, value, (size_t)(w * h));
  fx_write_jpeg(path, w, h, 1, p, 95);
}

static fc_data_options opts(int channels, int size) {
  fc_data_options o;
  fc_data_options_default(&o);
  o.channels = channels;
  o.height = o.width = size;
  o.threads = 2;
  return o;
}

/* ---- folder per class ---- */

START_TEST(folder_with_splits_every_png_kind_and_jpeg) {
  const char *root = fx_dir("folder");
  fx_mkdirs("%s/train/b_cls", root);
  fx_mkdirs("%s/train/a_cls/nested", root);
  fx_mkdirs("%s/train/C_cls", root);
  fx_mkdirs("%s/val/a_cls", root);
  char p[1024];
  /* a_cls: 8-bit gray, 16-bit gray, JPEG (upper-case extension), one nested */
  snprintf(p, sizeof p, "%s/train/a_cls/x1.png", root);
  gray_png(p, 8, 8, 1);
  uint16_t s16[64];
  for (int i = 0; i < 64; i++) s16[i] = (uint16_t)(257 * 200);
  snprintf(p, sizeof p, "%s/train/a_cls/x2.png", root);
  fx_write_png(p, 8, 8, FX_GRAY, 16, s16, NULL, 0);
  snprintf(p, sizeof p, "%s/train/a_cls/x3.JPG", root);
  gray_jpeg(p, 16, 16, 90);
  snprintf(p, sizeof p, "%s/train/a_cls/nested/x4.Jpeg", root);
  gray_jpeg(p, 8, 8, 10);
  snprintf(p, sizeof p, "%s/train/a_cls/readme.txt", root);
  fx_write_text(p, "not an image");
  snprintf(p, sizeof p, "%s/train/a_cls/.hidden.png", root);
  fx_write_text(p, "hidden files are ignored");
  /* b_cls: RGB, RGBA, palette */
  uint16_t rgb[8 * 8 * 4];
  for (int i = 0; i < 64; i++) {
    rgb[3 * i] = 255;
    rgb[3 * i + 1] = 0;
    rgb[3 * i + 2] = 0;
  }
  snprintf(p, sizeof p, "%s/train/b_cls/red.PNG", root);
  fx_write_png(p, 8, 8, FX_RGB, 8, rgb, NULL, 0);
  for (int i = 0; i < 64; i++) {
    rgb[4 * i] = 0;
    rgb[4 * i + 1] = 255;
    rgb[4 * i + 2] = 0;
    rgb[4 * i + 3] = 128;
  }
  snprintf(p, sizeof p, "%s/train/b_cls/green_alpha.png", root);
  fx_write_png(p, 8, 8, FX_RGBA, 8, rgb, NULL, 0);
  const uint8_t pal[6] = {0, 0, 255, 255, 255, 255};
  uint16_t idx[64];
  for (int i = 0; i < 64; i++) idx[i] = 0;
  snprintf(p, sizeof p, "%s/train/b_cls/blue_palette.png", root);
  fx_write_png(p, 8, 8, FX_PALETTE, 8, idx, pal, 2);
  snprintf(p, sizeof p, "%s/train/C_cls/c.png", root);
  gray_png(p, 8, 8, 3);
  snprintf(p, sizeof p, "%s/val/a_cls/v.png", root);
  gray_png(p, 8, 8, 4);

  fc_data_options o = opts(1, 8);
  fc_data_format f;
  FC_CHECK_OK(fc_data_format_detect(root, &f));
  ck_assert_int_eq(f, FC_DATA_FOLDER);
  fc_dataset *ds = NULL;
  FC_CHECK_OK(fc_dataset_load(root, &o, &ds));
  /* Classes sorted by bytes, as Python's sorted(): upper case first. */
  ck_assert_int_eq(ds->class_count, 3);
  ck_assert_str_eq(ds->class_names[0], "C_cls");
  ck_assert_str_eq(ds->class_names[1], "a_cls");
  ck_assert_str_eq(ds->class_names[2], "b_cls");
  ck_assert_int_eq(ds->count, 9);
  ck_assert_int_eq(ds->channels, 1);
  ck_assert_int_eq(ds->height, 8);
  /* Order: split, class, path. */
  const char *want_src[9] = {
      "train/C_cls/c.png",           "train/a_cls/nested/x4.Jpeg", "train/a_cls/x1.png",
      "train/a_cls/x2.png",          "train/a_cls/x3.JPG",         "train/b_cls/blue_palette.png",
      "train/b_cls/green_alpha.png", "train/b_cls/red.PNG",        "val/a_cls/v.png"};
  const int want_label[9] = {0, 1, 1, 1, 1, 2, 2, 2, 1};
  for (int i = 0; i < 9; i++) {
    ck_assert_str_eq(ds->sources[i], want_src[i]);
    ck_assert_int_eq(ds->labels[i], want_label[i]);
    ck_assert_int_eq(ds->splits[i], i == 8 ? FC_SPLIT_VAL : FC_SPLIT_TRAIN);
  }
  /* Pixel checks: 16-bit 257*200 -> 200; the 16x16 JPEG shrunk to 8x8; the
   * red/green/blue images as luma 76/150/29 (alpha dropped). */
  ck_assert_int_eq(fc_dataset_image(ds, 3)[0], 200);
  ck_assert_int_eq(ds->file_width[4], 16);
  ck_assert_int_le(abs(fc_dataset_image(ds, 4)[27] - 90), 2);
  ck_assert_int_eq(fc_dataset_image(ds, 7)[5], 76);
  ck_assert_int_eq(fc_dataset_image(ds, 6)[5], 150);
  ck_assert_int_eq(fc_dataset_image(ds, 5)[5], 29);
  ck_assert_int_eq(ds->file_channels[5], 3);
  ck_assert_int_eq(fc_dataset_image(ds, 0)[9], fx_pattern(1, 1, 3));
  ck_assert_int_eq(ds->problem_count, 0);
  fc_dataset_free(ds);

  /* Same set as RGB: gray replicated, colours kept. */
  o = opts(3, 8);
  FC_CHECK_OK(fc_dataset_load(root, &o, &ds));
  ck_assert_int_eq(ds->channels, 3);
  const uint8_t *red = fc_dataset_image(ds, 7);
  ck_assert_int_eq(red[0], 255);
  ck_assert_int_eq(red[64], 0);
  ck_assert_int_eq(red[128], 0);
  fc_dataset_free(ds);
}
END_TEST

START_TEST(folder_without_splits_and_native_size) {
  const char *root = fx_dir("flat");
  fx_mkdirs("%s/happy", root);
  fx_mkdirs("%s/sad", root);
  char p[1024];
  snprintf(p, sizeof p, "%s/happy/1.png", root);
  gray_png(p, 6, 4, 1);
  snprintf(p, sizeof p, "%s/sad/1.png", root);
  gray_png(p, 12, 8, 2); /* resized to the first image's 6x4 */
  fc_data_options o;
  fc_data_options_default(&o);
  fc_dataset *ds = NULL;
  FC_CHECK_OK(fc_dataset_load(root, &o, &ds));
  ck_assert_int_eq(ds->count, 2);
  ck_assert_int_eq(ds->width, 6);
  ck_assert_int_eq(ds->height, 4);
  ck_assert_int_eq(ds->channels, 1);
  ck_assert_int_eq(ds->splits[1], FC_SPLIT_TRAIN);
  ck_assert_str_eq(ds->sources[1], "sad/1.png");
  ck_assert_int_eq(ds->file_width[1], 12);
  fc_dataset_free(ds);
}
END_TEST

START_TEST(folder_errors_name_the_problem) {
  const char *root = fx_dir("empty_class");
  fx_mkdirs("%s/train/angry", root);
  fx_mkdirs("%s/train/calm", root);
  char p[1024];
  snprintf(p, sizeof p, "%s/train/angry/1.png", root);
  gray_png(p, 4, 4, 1);
  snprintf(p, sizeof p, "%s/train/calm/notes.txt", root);
  fx_write_text(p, "x");
  fc_data_options o = opts(1, 4);
  fc_dataset *ds = NULL;
  ck_assert_int_eq(fc_dataset_load(root, &o, &ds), FC_ERR_FORMAT);
  ck_assert_ptr_null(ds);
  ck_assert_ptr_nonnull(strstr(fc_last_error(), "train/calm has no images"));

  /* A val class that train does not have. */
  root = fx_dir("val_extra");
  fx_mkdirs("%s/train/angry", root);
  fx_mkdirs("%s/val/bored", root);
  snprintf(p, sizeof p, "%s/train/angry/1.png", root);
  gray_png(p, 4, 4, 1);
  snprintf(p, sizeof p, "%s/val/bored/1.png", root);
  gray_png(p, 4, 4, 1);
  ck_assert_int_eq(fc_dataset_load(root, &o, &ds), FC_ERR_FORMAT);
  ck_assert_ptr_nonnull(strstr(fc_last_error(), "'bored' does not exist in the training split"));

  /* Nothing recognisable. */
  root = fx_dir("nothing");
  snprintf(p, sizeof p, "%s/readme.md", root);
  fx_write_text(p, "hi");
  ck_assert_int_eq(fc_dataset_load(root, &o, &ds), FC_ERR_FORMAT);
  ck_assert_ptr_nonnull(strstr(fc_last_error(), "cannot tell the layout"));

  /* Loose images without classes: points at the unlabelled option. */
  root = fx_dir("loose");
  snprintf(p, sizeof p, "%s/a.png", root);
  gray_png(p, 4, 4, 1);
  ck_assert_int_eq(fc_dataset_load(root, &o, &ds), FC_ERR_FORMAT);
  ck_assert_ptr_nonnull(strstr(fc_last_error(), "unlabel"));

  /* A path that does not exist. */
  snprintf(p, sizeof p, "%s/no/such/place", fc_test_temp_dir());
  ck_assert_int_eq(fc_dataset_load(p, &o, &ds), FC_ERR_NOT_FOUND);
  ck_assert_ptr_nonnull(strstr(fc_last_error(), "no/such/place"));

  /* val without train */
  root = fx_dir("only_val");
  fx_mkdirs("%s/val/a", root);
  snprintf(p, sizeof p, "%s/val/a/1.png", root);
  gray_png(p, 4, 4, 1);
  ck_assert_int_eq(fc_dataset_load(root, &o, &ds), FC_ERR_FORMAT);
  ck_assert_ptr_nonnull(strstr(fc_last_error(), "no train/ folder"));
}
END_TEST

START_TEST(corrupt_image_skipped_or_fatal_in_strict_mode) {
  const char *root = fx_dir("corrupt");
  fx_mkdirs("%s/a", root);
  fx_mkdirs("%s/b", root);
  char p[1024];
  for (int i = 0; i < 6; i++) {
    snprintf(p, sizeof p, "%s/%s/%d.png", root, i % 2 ? "b" : "a", i);
    gray_png(p, 4, 4, i);
  }
  /* A truncated JPEG and a file that only claims to be a PNG. */
  uint8_t g[256];
  memset(g, 77, sizeof g);
  size_t n = 0;
  uint8_t *jpg = fx_jpeg_bytes(16, 16, 1, g, 90, &n);
  snprintf(p, sizeof p, "%s/a/broken.jpg", root);
  fx_write_bytes(p, jpg, n / 2);
  free(jpg);
  snprintf(p, sizeof p, "%s/b/fake.png", root);
  fx_write_text(p, "this is text");
  capture_logs();
  fc_data_options o = opts(1, 4);
  fc_dataset *ds = NULL;
  FC_CHECK_OK(fc_dataset_load(root, &o, &ds));
  fc_log_set_sink(NULL, NULL);
  ck_assert_int_eq(ds->count, 6);
  ck_assert_int_eq(ds->problem_count, 2);
  ck_assert_str_eq(ds->problems[0].source, "a/broken.jpg");
  ck_assert_ptr_nonnull(strstr(ds->problems[0].message, "truncated"));
  ck_assert_str_eq(ds->problems[1].source, "b/fake.png");
  ck_assert_ptr_nonnull(strstr(logged, "skipping a/broken.jpg"));
  ck_assert_ptr_nonnull(strstr(logged, "skipping b/fake.png"));
  ck_assert_ptr_nonnull(strstr(logged, "2 of 8 images could not be read"));
  /* The survivors are intact and in order. */
  ck_assert_str_eq(ds->sources[3], "b/1.png");
  ck_assert_int_eq(fc_dataset_image(ds, 3)[5], fx_pattern(1, 1, 1));
  fc_dataset_free(ds);
  /* Strict: the first bad file (in listing order) stops the load. */
  o.strict = 1;
  ck_assert_int_eq(fc_dataset_load(root, &o, &ds), FC_ERR_FORMAT);
  ck_assert_ptr_null(ds);
  ck_assert_ptr_nonnull(strstr(fc_last_error(), "broken.jpg"));
  ck_assert_ptr_nonnull(strstr(fc_last_error(), "strict"));
}
END_TEST

START_TEST(decode_threads_do_not_change_the_result) {
  const char *root = fx_dir("threads");
  char p[1024];
  for (int c = 0; c < 3; c++) {
    fx_mkdirs("%s/c%d", root, c);
    for (int i = 0; i < 20; i++) {
      snprintf(p, sizeof p, "%s/c%d/%02d.png", root, c, i);
      gray_png(p, 10, 10, c * 100 + i);
    }
  }
  snprintf(p, sizeof p, "%s/c1/bad.png", root);
  fx_write_text(p, "bad");
  fc_log_set_level(FC_LOG_ERROR);
  fc_dataset *a = NULL, *b = NULL;
  fc_data_options o = opts(1, 7);
  o.threads = 1;
  FC_CHECK_OK(fc_dataset_load(root, &o, &a));
  o.threads = 4;
  FC_CHECK_OK(fc_dataset_load(root, &o, &b));
  ck_assert_int_eq(a->count, 60);
  ck_assert_int_eq(b->count, 60);
  ck_assert_mem_eq(a->pixels, b->pixels, 60 * 49);
  ck_assert_mem_eq(a->labels, b->labels, 60 * sizeof(int32_t));
  for (int i = 0; i < 60; i++) ck_assert_str_eq(a->sources[i], b->sources[i]);
  fc_dataset_free(a);
  fc_dataset_free(b);
}
END_TEST

/* ---- FER2013 CSV ---- */

static void fer_row(FILE *fp, int emotion, int pixels, int seed, const char *usage) {
  fprintf(fp, "%d,", emotion);
  for (int i = 0; i < pixels; i++)
    fprintf(fp, "%s%d", i ? " " : "", fx_pattern(i % 48, i / 48, seed));
  fprintf(fp, ",%s\n", usage);
}

START_TEST(fer2013_csv) {
  char path[1024];
  snprintf(path, sizeof path, "%s/fer2013.csv", fx_dir("fer_csv"));
  FILE *fp = fopen(path, "w");
  fprintf(fp, "emotion,pixels,Usage\n");
  fer_row(fp, 0, 2304, 1, "Training");
  fer_row(fp, 3, 2304, 2, "Training");
  fer_row(fp, 6, 2304, 3, "PublicTest");
  fer_row(fp, 5, 2303, 4, "Training"); /* a pixel short: skipped */
  fer_row(fp, 1, 2304, 5, "PrivateTest");
  fclose(fp);
  fc_data_format f;
  FC_CHECK_OK(fc_data_format_detect(path, &f));
  ck_assert_int_eq(f, FC_DATA_FER2013_CSV);
  capture_logs();
  fc_data_options o;
  fc_data_options_default(&o);
  fc_dataset *ds = NULL;
  FC_CHECK_OK(fc_dataset_load(path, &o, &ds));
  fc_log_set_sink(NULL, NULL);
  ck_assert_int_eq(ds->count, 4);
  ck_assert_int_eq(ds->channels, 1);
  ck_assert_int_eq(ds->height, 48);
  ck_assert_int_eq(ds->class_count, 7);
  const char *names[7] = {"angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"};
  for (int c = 0; c < 7; c++) ck_assert_str_eq(ds->class_names[c], names[c]);
  ck_assert_int_eq(ds->labels[1], 3);
  ck_assert_int_eq(ds->splits[0], FC_SPLIT_TRAIN);
  ck_assert_int_eq(ds->splits[2], FC_SPLIT_VAL);
  ck_assert_int_eq(ds->splits[3], FC_SPLIT_TEST);
  ck_assert_str_eq(ds->sources[2], "fer2013.csv:4");
  for (int i = 0; i < 2304; i++)
    ck_assert_int_eq(fc_dataset_image(ds, 1)[i], fx_pattern(i % 48, i / 48, 2));
  ck_assert_int_eq(ds->problem_count, 1);
  ck_assert_ptr_nonnull(
      strstr(ds->problems[0].message, "line 5: 2303 pixel values, expected 2304"));
  ck_assert_ptr_nonnull(strstr(logged, "skipping fer2013.csv:5"));
  fc_dataset_free(ds);
  /* Strict mode makes the short row fatal. */
  o.strict = 1;
  ck_assert_int_eq(fc_dataset_load(path, &o, &ds), FC_ERR_FORMAT);
  ck_assert_ptr_nonnull(strstr(fc_last_error(), "line 5"));
  o.strict = 0;
  /* 24x24 RGB from the same CSV: resized and replicated. */
  o.channels = 3;
  o.height = o.width = 24;
  FC_CHECK_OK(fc_dataset_load(path, &o, &ds));
  ck_assert_int_eq(ds->channels, 3);
  ck_assert_mem_eq(fc_dataset_image(ds, 0), fc_dataset_image(ds, 0) + 576, 576);
  fc_dataset_free(ds);
}
END_TEST

/* A CSV saved by Excel or Notepad starts with a UTF-8 byte order mark: the
 * header still names the emotion column, every row keeps its label. */
START_TEST(fer2013_csv_with_byte_order_mark) {
  char path[1024];
  snprintf(path, sizeof path, "%s/fer2013.csv", fx_dir("fer_csv_bom"));
  FILE *fp = fopen(path, "w");
  fprintf(fp,
          "\xEF\xBB\xBF"
          "emotion,pixels,Usage\n");
  fer_row(fp, 2, 2304, 1, "Training");
  fer_row(fp, 4, 2304, 2, "PublicTest");
  fclose(fp);
  fc_data_format f;
  FC_CHECK_OK(fc_data_format_detect(path, &f));
  ck_assert_int_eq(f, FC_DATA_FER2013_CSV);
  fc_data_options o;
  fc_data_options_default(&o);
  fc_dataset *ds = NULL;
  FC_CHECK_OK(fc_dataset_load(path, &o, &ds));
  ck_assert_int_eq(ds->count, 2);
  ck_assert_int_eq(ds->labels[0], 2);
  ck_assert_int_eq(ds->labels[1], 4);
  ck_assert_int_eq(ds->splits[1], FC_SPLIT_VAL);
  fc_dataset_free(ds);
}
END_TEST

START_TEST(fer2013_csv_errors) {
  const char *dir = fx_dir("fer_bad");
  char path[1024];
  snprintf(path, sizeof path, "%s/labels.csv", dir);
  FILE *fp = fopen(path, "w");
  fprintf(fp, "emotion,pixels,Usage\n");
  fer_row(fp, 2, 2304, 1, "Training");
  fer_row(fp, 7, 2304, 2, "Training");
  fclose(fp);
  fc_dataset *ds = NULL;
  fc_data_options o;
  fc_data_options_default(&o);
  ck_assert_int_eq(fc_dataset_load(path, &o, &ds), FC_ERR_FORMAT);
  ck_assert_ptr_nonnull(strstr(fc_last_error(), "labels.csv line 3: emotion 7 is outside 0..6"));
  /* Unknown usage. */
  fp = fopen(path, "w");
  fprintf(fp, "emotion,pixels,Usage\n");
  fer_row(fp, 2, 2304, 1, "Holdout");
  fclose(fp);
  ck_assert_int_eq(fc_dataset_load(path, &o, &ds), FC_ERR_FORMAT);
  ck_assert_ptr_nonnull(strstr(fc_last_error(), "Usage 'Holdout'"));
  /* Not a FER2013 CSV at all. */
  fp = fopen(path, "w");
  fprintf(fp, "name,age\nbob,3\n");
  fclose(fp);
  o.format = FC_DATA_FER2013_CSV;
  ck_assert_int_eq(fc_dataset_load(path, &o, &ds), FC_ERR_FORMAT);
  ck_assert_ptr_nonnull(strstr(fc_last_error(), "no 'pixels' column"));
  o.format = FC_DATA_AUTO;
  ck_assert_int_eq(fc_dataset_load(path, &o, &ds), FC_ERR_FORMAT);
  ck_assert_ptr_nonnull(strstr(fc_last_error(), "cannot tell which CSV"));
  /* The ICML variant: spaces after commas, other column order; found in a folder. */
  snprintf(path, sizeof path, "%s/icml_face_data.csv", dir);
  fp = fopen(path, "w");
  fprintf(fp, "emotion, Usage, pixels\n4, Training, ");
  for (int i = 0; i < 2304; i++) fprintf(fp, "%s%d", i ? " " : "", i % 256);
  fprintf(fp, "\n");
  fclose(fp);
  remove(path);
  snprintf(path, sizeof path, "%s/fer2013.csv", dir);
  fp = fopen(path, "w");
  fprintf(fp, "emotion, Usage, pixels\n4, Training, ");
  for (int i = 0; i < 2304; i++) fprintf(fp, "%s%d", i ? " " : "", i % 256);
  fprintf(fp, "\n");
  fclose(fp);
  snprintf(path, sizeof path, "%s/labels.csv", dir);
  remove(path);
  FC_CHECK_OK(fc_dataset_load(dir, &o, &ds));
  ck_assert_int_eq(ds->format, FC_DATA_FER2013_CSV);
  ck_assert_int_eq(ds->count, 1);
  ck_assert_int_eq(ds->labels[0], 4);
  ck_assert_int_eq(fc_dataset_image(ds, 0)[300], 300 % 256);
  fc_dataset_free(ds);
}
END_TEST

/* ---- RAF-DB ---- */

START_TEST(rafdb) {
  const char *root = fx_dir("rafdb");
  fx_mkdirs("%s/EmoLabel", root);
  fx_mkdirs("%s/Image/aligned", root);
  char p[1024], list[1024];
  snprintf(list, sizeof list, "%s/EmoLabel/list_patition_label.txt", root);
  fx_write_text(list, "train_00001.jpg 5\ntrain_00002.jpg 1\ntest_0001.jpg 7\ntrain_00003.jpg 2\n");
  snprintf(p, sizeof p, "%s/Image/aligned/train_00001_aligned.jpg", root);
  gray_jpeg(p, 16, 16, 200);
  snprintf(p, sizeof p, "%s/Image/aligned/train_00002_aligned.jpg", root);
  gray_jpeg(p, 16, 16, 100);
  snprintf(p, sizeof p, "%s/Image/aligned/test_0001_aligned.jpg", root);
  gray_jpeg(p, 16, 16, 50);
  /* train_00003 is missing */
  fc_data_format f;
  FC_CHECK_OK(fc_data_format_detect(root, &f));
  ck_assert_int_eq(f, FC_DATA_RAFDB);
  capture_logs();
  fc_data_options o = opts(1, 8);
  fc_dataset *ds = NULL;
  FC_CHECK_OK(fc_dataset_load(root, &o, &ds));
  fc_log_set_sink(NULL, NULL);
  ck_assert_int_eq(ds->count, 3);
  ck_assert_str_eq(ds->class_names[3], "happiness");
  ck_assert_str_eq(ds->class_names[0], "surprise");
  ck_assert_int_eq(ds->labels[0], 4); /* "5" = sadness, index 4 */
  ck_assert_str_eq(ds->class_names[ds->labels[0]], "sadness");
  ck_assert_int_eq(ds->labels[1], 0);
  ck_assert_int_eq(ds->splits[2], FC_SPLIT_TEST);
  ck_assert_int_eq(ds->labels[2], 6);
  ck_assert_str_eq(ds->sources[0], "Image/aligned/train_00001_aligned.jpg");
  ck_assert_int_le(abs(fc_dataset_image(ds, 0)[10] - 200), 2);
  ck_assert_int_eq(ds->problem_count, 1);
  ck_assert_ptr_nonnull(strstr(ds->problems[0].message, "train_00003_aligned.jpg"));
  ck_assert_ptr_nonnull(strstr(logged, "skipping Image/aligned/train_00003_aligned.jpg"));
  fc_dataset_free(ds);
  /* Given the list file itself. */
  FC_CHECK_OK(fc_data_format_detect(list, &f));
  ck_assert_int_eq(f, FC_DATA_RAFDB);
  fc_log_set_level(FC_LOG_ERROR);
  FC_CHECK_OK(fc_dataset_load(list, &o, &ds));
  ck_assert_int_eq(ds->count, 3);
  fc_dataset_free(ds);
  /* Label out of range. */
  fx_write_text(list, "train_00001.jpg 5\ntrain_00002.jpg 8\n");
  ck_assert_int_eq(fc_dataset_load(root, &o, &ds), FC_ERR_FORMAT);
  ck_assert_ptr_nonnull(
      strstr(fc_last_error(), "list_patition_label.txt line 2: label 8 is outside 1..7"));
  fx_write_text(list, "train_00001.jpg\n");
  ck_assert_int_eq(fc_dataset_load(root, &o, &ds), FC_ERR_FORMAT);
  ck_assert_ptr_nonnull(strstr(fc_last_error(), "line 1: expected 'NAME.jpg LABEL'"));
}
END_TEST

/* ---- AffectNet ---- */

START_TEST(affectnet) {
  const char *root = fx_dir("affectnet");
  fx_mkdirs("%s/Manually_Annotated_Images/12", root);
  char p[1024];
  /* A 20x20 image: outside the face box 0, inside (x 5..14, y 4..13) 180. */
  uint16_t s[400];
  for (int y = 0; y < 20; y++)
    for (int x = 0; x < 20; x++) s[y * 20 + x] = (x >= 5 && x < 15 && y >= 4 && y < 14) ? 180 : 0;
  for (int i = 0; i < 6; i++) {
    snprintf(p, sizeof p, "%s/Manually_Annotated_Images/12/img%d.png", root, i);
    fx_write_png(p, 20, 20, FX_GRAY, 8, s, NULL, 0);
  }
  snprintf(p, sizeof p, "%s/training.csv", root);
  fx_write_text(p,
                "subDirectory_filePath,face_x,face_y,face_width,face_height,facial_landmarks,"
                "expression,valence,arousal\n"
                "12/img0.png,5,4,10,10,1.0;2.0;3.0,1,0.5,0.2\n"
                "12/img1.png,5,4,10,10,1.0;2.0,8,0,0\n" /* none: ignored */
                "12/img2.png,5,4,10,10,,7,0,0\n"        /* contempt: ignored in 7-class mode */
                "12/img3.png,5,4,10,10,,10,0,0\n"       /* non-face: ignored */
                "12/img4.png,5,4,10,10,\"1;2\",6,-0.5,0.1\n");
  snprintf(p, sizeof p, "%s/validation.csv", root);
  fx_write_text(p, "12/img5.png,5,4,10,10,1;2,0,0,0\n"); /* no header */
  fc_data_format f;
  FC_CHECK_OK(fc_data_format_detect(root, &f));
  ck_assert_int_eq(f, FC_DATA_AFFECTNET);
  fc_data_options o = opts(1, 5);
  fc_dataset *ds = NULL;
  FC_CHECK_OK(fc_dataset_load(root, &o, &ds));
  ck_assert_int_eq(ds->class_count, 7);
  ck_assert_str_eq(ds->class_names[1], "happy");
  ck_assert_str_eq(ds->class_names[6], "anger");
  ck_assert_int_eq(ds->count, 3);
  ck_assert_int_eq(ds->ignored_count, 3);
  ck_assert_int_eq(ds->labels[0], 1);
  ck_assert_int_eq(ds->labels[1], 6);
  ck_assert_int_eq(ds->splits[2], FC_SPLIT_VAL);
  ck_assert_str_eq(ds->sources[0], "12/img0.png");
  /* Cropped to the face box: uniformly 180. */
  for (int i = 0; i < 25; i++) ck_assert_int_eq(fc_dataset_image(ds, 0)[i], 180);
  fc_dataset_free(ds);
  /* 8 classes keep contempt; without cropping the border shows. */
  o.affectnet_classes = 8;
  o.affectnet_crop = 0;
  FC_CHECK_OK(fc_dataset_load(root, &o, &ds));
  ck_assert_int_eq(ds->class_count, 8);
  ck_assert_str_eq(ds->class_names[7], "contempt");
  ck_assert_int_eq(ds->count, 4);
  ck_assert_int_eq(ds->ignored_count, 2);
  ck_assert_int_eq(fc_dataset_image(ds, 0)[0], 0);
  fc_dataset_free(ds);
  /* Expression out of range. */
  snprintf(p, sizeof p, "%s/training.csv", root);
  fx_write_text(
      p,
      "subDirectory_filePath,face_x,face_y,face_width,face_height,facial_landmarks,expression\n"
      "12/img0.png,5,4,10,10,,11\n");
  ck_assert_int_eq(fc_dataset_load(root, &o, &ds), FC_ERR_FORMAT);
  ck_assert_ptr_nonnull(
      strstr(fc_last_error(), "training.csv line 2: expression 11 is outside 0..10"));
}
END_TEST

/* ---- unlabelled folders ---- */

START_TEST(unlabeled_folder_added_to_pool) {
  const char *root = fx_dir("base");
  fx_mkdirs("%s/x", root);
  char p[1024];
  snprintf(p, sizeof p, "%s/x/1.png", root);
  gray_png(p, 8, 8, 1);
  const char *extra = fx_dir("extra");
  fx_mkdirs("%s/deep/er", extra);
  snprintf(p, sizeof p, "%s/deep/er/b.jpg", extra);
  gray_jpeg(p, 16, 16, 120);
  snprintf(p, sizeof p, "%s/a.png", extra);
  gray_png(p, 4, 4, 2);
  fc_data_options o = opts(1, 8);
  fc_dataset *ds = NULL;
  FC_CHECK_OK(fc_dataset_load(root, &o, &ds));
  FC_CHECK_OK(fc_dataset_add_unlabeled(ds, extra, &o));
  ck_assert_int_eq(ds->count, 3);
  ck_assert_str_eq(ds->sources[1], "a.png");
  ck_assert_str_eq(ds->sources[2], "deep/er/b.jpg");
  ck_assert_int_eq(ds->labels[1], -1);
  ck_assert_int_eq(ds->splits[2], FC_SPLIT_UNLABELED);
  ck_assert_int_le(abs(fc_dataset_image(ds, 2)[20] - 120), 2);
  fc_index_list u;
  FC_CHECK_OK(fc_dataset_split_indices(ds, FC_SPLIT_UNLABELED, &u));
  ck_assert_int_eq(u.count, 2);
  fc_index_list_free(&u);
  /* An empty folder is an error. */
  const char *none = fx_dir("none");
  ck_assert_int_eq(fc_dataset_add_unlabeled(ds, none, &o), FC_ERR_FORMAT);
  ck_assert_ptr_nonnull(strstr(fc_last_error(), "has no images"));
  fc_dataset_free(ds);
  /* As a format of its own. */
  o.format = FC_DATA_UNLABELED;
  FC_CHECK_OK(fc_dataset_load(extra, &o, &ds));
  ck_assert_int_eq(ds->count, 2);
  ck_assert_int_eq(ds->class_count, 0);
  fc_dataset_free(ds);
}
END_TEST

START_TEST(format_names) {
  fc_data_format f;
  FC_CHECK_OK(fc_data_format_parse("fer2013-csv", &f));
  ck_assert_int_eq(f, FC_DATA_FER2013_CSV);
  FC_CHECK_OK(fc_data_format_parse("RAFDB", &f));
  ck_assert_int_eq(f, FC_DATA_RAFDB);
  ck_assert_int_eq(fc_data_format_parse("imagenet", &f), FC_ERR_INVALID_ARG);
  ck_assert_ptr_nonnull(strstr(fc_last_error(), "imagenet"));
  ck_assert_str_eq(fc_data_format_name(FC_DATA_AFFECTNET), "affectnet");
  ck_assert_str_eq(fc_split_name(FC_SPLIT_VAL), "val");
}
END_TEST

FC_TEST_MAIN("data-formats", 0, "formats", 0, folder_with_splits_every_png_kind_and_jpeg,
             folder_without_splits_and_native_size, folder_errors_name_the_problem,
             corrupt_image_skipped_or_fatal_in_strict_mode, decode_threads_do_not_change_the_result,
             fer2013_csv, fer2013_csv_errors, fer2013_csv_with_byte_order_mark, rafdb, affectnet,
             unlabeled_folder_added_to_pool, format_names)
