/* Synthetic faces: deterministic, balanced, any size and channel count,
 * written as a PNG folder dataset that the folder loader reads back
 * identically, and learnable but not trivial. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fercl/data.h"
#include "fixtures.h"
#include "testutil.h"

static fc_synth_config small(void) {
  fc_synth_config c;
  fc_synth_config_default(&c);
  c.train_count = 140;
  c.val_count = 30;
  c.threads = 2;
  return c;
}

START_TEST(deterministic_and_balanced) {
  fc_synth_config c = small();
  fc_dataset *a = NULL, *b = NULL, *d = NULL;
  FC_CHECK_OK(fc_synth_generate(&c, &a));
  c.threads = 3;
  FC_CHECK_OK(fc_synth_generate(&c, &b));
  ck_assert_int_eq(a->count, 170);
  ck_assert_mem_eq(a->pixels, b->pixels, 170 * 48 * 48);
  ck_assert_mem_eq(a->labels, b->labels, 170 * sizeof(int32_t));
  c.seed = 2;
  FC_CHECK_OK(fc_synth_generate(&c, &d));
  ck_assert(memcmp(a->pixels, d->pixels, 170 * 48 * 48));
  const char *names[7] = {"angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"};
  ck_assert_int_eq(a->class_count, 7);
  for (int k = 0; k < 7; k++) ck_assert_str_eq(a->class_names[k], names[k]);
  int count[2][7] = {{0}};
  for (int64_t i = 0; i < a->count; i++) {
    ck_assert_int_le(a->splits[i], 1);
    count[a->splits[i]][a->labels[i]]++;
  }
  for (int k = 0; k < 7; k++) ck_assert_int_eq(count[0][k], 20);
  for (int k = 0; k < 7; k++) ck_assert_int_ge(count[1][k], 4); /* 30 over 7 classes */
  ck_assert_str_eq(a->sources[0], "train/angry/000000.png");
  ck_assert_str_eq(a->sources[20], "train/disgust/000001.png");
  /* An image is a pure function of (seed, index, label): render agrees. */
  fc_image im;
  c.seed = 1;
  FC_CHECK_OK(fc_synth_render(&c, 1, 1, &im));
  ck_assert_mem_eq(im.data, fc_dataset_image(a, 20), 48 * 48);
  fc_image_free(&im);
  fc_dataset_free(a);
  fc_dataset_free(b);
  fc_dataset_free(d);
}
END_TEST

START_TEST(sizes_and_channels) {
  fc_synth_config c = small();
  const int sizes[][3] = {{40, 56, 1}, {112, 112, 3}, {8, 8, 1}, {48, 48, 3}};
  for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
    c.height = sizes[k][0];
    c.width = sizes[k][1];
    c.channels = sizes[k][2];
    for (int label = 0; label < 7; label++) {
      fc_image im;
      FC_CHECK_OK(fc_synth_render(&c, 100 + label, label, &im));
      ck_assert_int_eq(im.height, c.height);
      ck_assert_int_eq(im.width, c.width);
      ck_assert_int_eq(im.channels, c.channels);
      int lo = 255, hi = 0;
      for (int i = 0; i < c.channels * c.height * c.width; i++) {
        if (im.data[i] < lo) lo = im.data[i];
        if (im.data[i] > hi) hi = im.data[i];
      }
      ck_assert_int_gt(hi - lo, 40); /* a picture, not a flat field */
      fc_image_free(&im);
    }
  }
  fc_image im;
  c.height = 4;
  ck_assert_int_eq(fc_synth_render(&c, 0, 0, &im), FC_ERR_INVALID_ARG);
  c.height = 48;
  ck_assert_int_eq(fc_synth_render(&c, 0, 7, &im), FC_ERR_INVALID_ARG);
  c.channels = 2;
  ck_assert_int_eq(fc_synth_render(&c, 0, 0, &im), FC_ERR_INVALID_ARG);
}
END_TEST

START_TEST(written_folder_reads_back) {
  fc_synth_config c = small();
  c.channels = 3;
  c.height = c.width = 24;
  fc_dataset *a = NULL, *b = NULL;
  FC_CHECK_OK(fc_synth_generate(&c, &a));
  const char *dir = fx_dir("synth_out");
  FC_CHECK_OK(fc_dataset_write_folder(a, dir));
  fc_data_options o;
  fc_data_options_default(&o);
  o.threads = 2;
  FC_CHECK_OK(fc_dataset_load(dir, &o, &b));
  ck_assert_int_eq(b->format, FC_DATA_FOLDER);
  ck_assert_int_eq(b->count, a->count);
  ck_assert_int_eq(b->channels, 3);
  ck_assert_int_eq(b->height, 24);
  for (int k = 0; k < 7; k++) ck_assert_str_eq(a->class_names[k], b->class_names[k]);
  for (int64_t i = 0; i < a->count; i++) {
    ck_assert_str_eq(a->sources[i], b->sources[i]);
    ck_assert_int_eq(a->labels[i], b->labels[i]);
    ck_assert_int_eq(a->splits[i], b->splits[i]);
  }
  ck_assert_mem_eq(a->pixels, b->pixels, (size_t)a->count * fc_dataset_image_bytes(a));
  fc_dataset_free(a);
  fc_dataset_free(b);
}
END_TEST

START_TEST(classes_differ_but_not_trivially) {
  /* The random draws of an image do not depend on its label, so
   * fc_synth_render(i, c) for c = 0..6 is one person in one pose and light
   * making the 7 expressions. (a) The expressions must differ from each
   * other, and only inside the face: the image corners stay equal. (b) The
   * nuisances (person, pose, light, noise) must vary more than the
   * expression does, so that a model has to learn the cues: the same
   * expression on two people differs more than two expressions of one. */
  fc_synth_config c;
  fc_synth_config_default(&c);
  enum { P = 48 * 48, PEOPLE = 40 };
  static uint8_t img[PEOPLE][7][P];
  for (int i = 0; i < PEOPLE; i++)
    for (int y = 0; y < 7; y++) {
      fc_image im;
      FC_CHECK_OK(fc_synth_render(&c, 1000 + i, y, &im));
      memcpy(img[i][y], im.data, P);
      fc_image_free(&im);
    }
  double within_person = 0, within_class = 0;
  int pairs_p = 0, pairs_c = 0;
  for (int i = 0; i < PEOPLE; i++) {
    for (int a = 0; a < 7; a++)
      for (int b = a + 1; b < 7; b++) {
        int differing = 0;
        double d = 0;
        for (int k = 0; k < P; k++) {
          int e = abs(img[i][a][k] - img[i][b][k]);
          differing += e > 8;
          d += e;
        }
        ck_assert_msg(differing >= 4, "person %d: expressions %d and %d look the same", i, a, b);
        within_person += d / P;
        pairs_p++;
      }
    /* corners: background, identical whatever the expression (noise included) */
    for (int y = 1; y < 7; y++) {
      ck_assert_int_eq(img[i][y][0], img[i][0][0]);
      ck_assert_int_eq(img[i][y][P - 1], img[i][0][P - 1]);
    }
  }
  for (int y = 0; y < 7; y++)
    for (int i = 0; i < PEOPLE; i++)
      for (int j = i + 1; j < PEOPLE; j++) {
        double d = 0;
        for (int k = 0; k < P; k++) d += abs(img[i][y][k] - img[j][y][k]);
        within_class += d / P;
        pairs_c++;
      }
  within_person /= pairs_p;
  within_class /= pairs_c;
  printf(
      "mean |difference| per pixel: two expressions of one person %.2f, one expression of two "
      "people %.2f\n",
      within_person, within_class);
  /* The cues are big enough to see at 48x48 (issue 19 item 12: with 1-2
   * pixel cues, 1.7 grey levels apart on average, the default run learned
   * to 0.28); and the nuisances still vary far more than the expression. */
  ck_assert_msg(within_person > 2.5, "expressions of one person differ by %.2f grey levels",
                within_person);
  ck_assert(within_class > 5 * within_person);
}
END_TEST

FC_TEST_MAIN("data-synth", 0, "synth", 0, deterministic_and_balanced, sizes_and_channels,
             written_folder_reads_back, classes_differ_but_not_trivially)
