/* The labelled split: class balance with short classes, K per class,
 * determinism, the unlabelled complement, and the list file round trip. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fercl/data.h"
#include "fercl/log.h"
#include "fixtures.h"
#include "testutil.h"

/* A dataset of 1x1 images: counts[c] training images of class c (interleaved),
 * then `val` validation images and `extra` unlabelled ones. */
static fc_dataset *make_ds(const int *counts, int classes, int val, int extra) {
  fc_dataset *ds = calloc(1, sizeof *ds);
  int64_t n = val + extra;
  for (int c = 0; c < classes; c++) n += counts[c];
  ds->root = strdup("memory");
  ds->channels = ds->height = ds->width = 1;
  ds->class_count = classes;
  ds->class_names = calloc((size_t)classes, sizeof(char *));
  for (int c = 0; c < classes; c++) {
    char name[16];
    snprintf(name, sizeof name, "class%d", c);
    ds->class_names[c] = strdup(name);
  }
  ds->pixels = calloc((size_t)n, 1);
  ds->labels = calloc((size_t)n, sizeof(int32_t));
  ds->splits = calloc((size_t)n, 1);
  ds->sources = calloc((size_t)n, sizeof(char *));
  ds->file_width = calloc((size_t)n, sizeof(int32_t));
  ds->file_height = calloc((size_t)n, sizeof(int32_t));
  ds->file_channels = calloc((size_t)n, 1);
  int left[64];
  memcpy(left, counts, sizeof(int) * (size_t)classes);
  int64_t i = 0;
  for (int more = 1; more;) { /* round-robin so classes interleave in index order */
    more = 0;
    for (int c = 0; c < classes; c++) {
      if (!left[c]) continue;
      left[c]--;
      more = 1;
      ds->labels[i] = c;
      ds->splits[i] = FC_SPLIT_TRAIN;
      char src[64];
      snprintf(src, sizeof src, "train/class%d/%lld.png", c, (long long)i);
      ds->sources[i++] = strdup(src);
    }
  }
  for (int k = 0; k < val; k++, i++) {
    ds->labels[i] = k % classes;
    ds->splits[i] = FC_SPLIT_VAL;
    char src[64];
    snprintf(src, sizeof src, "val/%d.png", k);
    ds->sources[i] = strdup(src);
  }
  for (int k = 0; k < extra; k++, i++) {
    ds->labels[i] = -1;
    ds->splits[i] = FC_SPLIT_UNLABELED;
    char src[64];
    snprintf(src, sizeof src, "extra/%d.png", k);
    ds->sources[i] = strdup(src);
  }
  ds->count = i;
  return ds;
}

static void per_class(const fc_dataset *ds, const fc_index_list *l, int64_t *counts) {
  fc_dataset_class_counts(ds, l, counts);
}

START_TEST(balanced_with_a_short_class) {
  const int counts[7] = {100, 100, 100, 5, 100, 100, 100};
  fc_dataset *ds = make_ds(counts, 7, 10, 3);
  fc_label_split_config cfg;
  fc_label_split_config_default(&cfg);
  cfg.labels = 70;
  cfg.seed = 42;
  fc_index_list l, u;
  FC_CHECK_OK(fc_label_split(ds, &cfg, &l, &u));
  /* quota 10; class 3 gives 5 minus a margin of 1 = 4; its 6 missing labels
   * go one each to the other six classes. */
  int64_t got[7];
  per_class(ds, &l, got);
  const int64_t want[7] = {11, 11, 11, 4, 11, 11, 11};
  for (int c = 0; c < 7; c++) ck_assert_int_eq(got[c], want[c]);
  ck_assert_int_eq(l.count, 70);
  /* u = the other training images + the unlabelled extras; never val. */
  ck_assert_int_eq(u.count, 605 - 70 + 3);
  uint8_t *seen = calloc((size_t)ds->count, 1);
  for (int64_t k = 0; k < l.count; k++) {
    ck_assert_int_eq(ds->splits[l.index[k]], FC_SPLIT_TRAIN);
    if (k) ck_assert_int_gt(l.index[k], l.index[k - 1]);
    seen[l.index[k]]++;
  }
  int extras = 0;
  for (int64_t k = 0; k < u.count; k++) {
    ck_assert_int_ne(ds->splits[u.index[k]], FC_SPLIT_VAL);
    extras += ds->splits[u.index[k]] == FC_SPLIT_UNLABELED;
    seen[u.index[k]]++;
  }
  ck_assert_int_eq(extras, 3);
  for (int64_t i = 0; i < ds->count; i++)
    ck_assert_int_eq(seen[i], ds->splits[i] == FC_SPLIT_VAL ? 0 : 1);
  free(seen);
  fc_index_list_free(&l);
  fc_index_list_free(&u);
  fc_dataset_free(ds);
}
END_TEST

START_TEST(remainder_goes_to_classes_with_most_room) {
  const int counts[4] = {50, 80, 80, 30};
  fc_dataset *ds = make_ds(counts, 4, 0, 0);
  fc_label_split_config cfg;
  fc_label_split_config_default(&cfg);
  cfg.labels = 42; /* share 10, remainder 2: classes 1 and 2 have the most room */
  fc_index_list l, u;
  FC_CHECK_OK(fc_label_split(ds, &cfg, &l, &u));
  int64_t got[4];
  per_class(ds, &l, got);
  ck_assert_int_eq(got[0], 10);
  ck_assert_int_eq(got[1], 11);
  ck_assert_int_eq(got[2], 11);
  ck_assert_int_eq(got[3], 10);
  fc_index_list_free(&l);
  fc_index_list_free(&u);
  /* Two short classes in cascade: caps 50-5=45, 72, 72, 30-3=27; N=200:
   * share 50 -> classes 0 and 3 saturate (45 + 27), the rest 128 -> 64 each. */
  cfg.labels = 200;
  FC_CHECK_OK(fc_label_split(ds, &cfg, &l, &u));
  per_class(ds, &l, got);
  ck_assert_int_eq(got[0], 45);
  ck_assert_int_eq(got[1], 64);
  ck_assert_int_eq(got[2], 64);
  ck_assert_int_eq(got[3], 27);
  fc_index_list_free(&l);
  fc_index_list_free(&u);
  /* More than the caps allow: a clear error. */
  cfg.labels = 217;
  ck_assert_int_eq(fc_label_split(ds, &cfg, &l, &u), FC_ERR_INVALID_ARG);
  ck_assert_ptr_nonnull(strstr(fc_last_error(), "at most 216"));
  fc_dataset_free(ds);
}
END_TEST

START_TEST(per_class_and_all) {
  const int counts[3] = {20, 4, 20};
  fc_dataset *ds = make_ds(counts, 3, 5, 0);
  fc_label_split_config cfg;
  fc_label_split_config_default(&cfg);
  cfg.labels_per_class = 5;
  fc_log_set_level(FC_LOG_ERROR);
  fc_index_list l, u;
  FC_CHECK_OK(fc_label_split(ds, &cfg, &l, &u));
  int64_t got[3];
  per_class(ds, &l, got);
  ck_assert_int_eq(got[0], 5);
  ck_assert_int_eq(got[1], 3); /* 4 minus the margin */
  ck_assert_int_eq(got[2], 5);
  fc_index_list_free(&l);
  fc_index_list_free(&u);
  /* Neither N nor K: every training image is labelled. */
  cfg.labels_per_class = 0;
  FC_CHECK_OK(fc_label_split(ds, &cfg, &l, &u));
  ck_assert_int_eq(l.count, 44);
  ck_assert_int_eq(u.count, 0);
  fc_index_list_free(&l);
  fc_index_list_free(&u);
  fc_dataset_free(ds);
}
END_TEST

static int same_list(const fc_index_list *a, const fc_index_list *b) {
  return a->count == b->count && !memcmp(a->index, b->index, sizeof(int64_t) * (size_t)a->count);
}

START_TEST(deterministic_seeded_and_nested) {
  const int counts[7] = {300, 40, 300, 500, 350, 340, 220};
  fc_dataset *ds = make_ds(counts, 7, 0, 0);
  fc_label_split_config cfg;
  fc_label_split_config_default(&cfg);
  cfg.labels = 700;
  cfg.seed = 7;
  fc_index_list a, b, c, ua, ub, uc;
  FC_CHECK_OK(fc_label_split(ds, &cfg, &a, &ua));
  FC_CHECK_OK(fc_label_split(ds, &cfg, &b, &ub));
  ck_assert(same_list(&a, &b));
  ck_assert(same_list(&ua, &ub));
  cfg.seed = 8;
  FC_CHECK_OK(fc_label_split(ds, &cfg, &c, &uc));
  ck_assert(!same_list(&a, &c));
  fc_index_list_free(&b);
  fc_index_list_free(&ub);
  fc_index_list_free(&c);
  fc_index_list_free(&uc);
  /* A smaller N with the same seed is a subset of the larger one. */
  cfg.seed = 7;
  cfg.labels = 350;
  FC_CHECK_OK(fc_label_split(ds, &cfg, &b, &ub));
  uint8_t *in_a = calloc((size_t)ds->count, 1);
  for (int64_t k = 0; k < a.count; k++) in_a[a.index[k]] = 1;
  for (int64_t k = 0; k < b.count; k++) ck_assert(in_a[b.index[k]]);
  /* Not simply the first images of each class. */
  int64_t first_block = 0;
  for (int64_t k = 0; k < a.count; k++) first_block += a.index[k] < 700;
  ck_assert_int_lt(first_block, 400);
  free(in_a);
  fc_index_list_free(&a);
  fc_index_list_free(&ua);
  fc_index_list_free(&b);
  fc_index_list_free(&ub);
  fc_dataset_free(ds);
}
END_TEST

START_TEST(list_file_round_trip) {
  const int counts[3] = {30, 30, 30};
  fc_dataset *ds = make_ds(counts, 3, 6, 2);
  fc_label_split_config cfg;
  fc_label_split_config_default(&cfg);
  cfg.labels = 12;
  fc_index_list l, u, l2, u2;
  FC_CHECK_OK(fc_label_split(ds, &cfg, &l, &u));
  char path[1024];
  snprintf(path, sizeof path, "%s/labelled.txt", fx_dir("split"));
  FC_CHECK_OK(fc_label_split_write(path, ds, &l));
  FC_CHECK_OK(fc_label_split_read(path, ds, &l2, &u2));
  ck_assert(same_list(&l, &l2));
  ck_assert(same_list(&u, &u2));
  fc_index_list_free(&l2);
  fc_index_list_free(&u2);
  /* The file is text: a header and source<TAB>label<TAB>class. */
  char *text = NULL;
  FILE *fp = fopen(path, "rb");
  text = calloc(1, 65536);
  ck_assert(fread(text, 1, 65535, fp) > 0);
  fclose(fp);
  ck_assert(text[0] == '#');
  char line[128];
  snprintf(line, sizeof line, "\n%s\t%d\tclass%d\n", ds->sources[l.index[0]],
           ds->labels[l.index[0]], ds->labels[l.index[0]]);
  ck_assert_ptr_nonnull(strstr(text, line));
  free(text);
  /* Broken files are refused with the line named. */
  fx_write_text(path, "# x\ntrain/class0/0.png\t1\tclass1\n");
  ck_assert_int_eq(fc_label_split_read(path, ds, &l2, &u2), FC_ERR_MISMATCH);
  ck_assert_ptr_nonnull(
      strstr(fc_last_error(), "line 2: 'train/class0/0.png' has label 1 in the file but 0"));
  fx_write_text(path, "train/class0/0.png\t0\tclass0\nval/1.png\t1\tclass1\n");
  ck_assert_int_eq(fc_label_split_read(path, ds, &l2, &u2), FC_ERR_MISMATCH);
  ck_assert_ptr_nonnull(
      strstr(fc_last_error(), "line 2: 'val/1.png' is not in the training split"));
  fx_write_text(path, "train/class0/0.png\t0\tclass0\ntrain/class0/0.png\t0\tclass0\n");
  ck_assert_int_eq(fc_label_split_read(path, ds, &l2, &u2), FC_ERR_FORMAT);
  ck_assert_ptr_nonnull(strstr(fc_last_error(), "listed twice"));
  fx_write_text(path, "no tab here\n");
  ck_assert_int_eq(fc_label_split_read(path, ds, &l2, &u2), FC_ERR_FORMAT);
  ck_assert_ptr_nonnull(strstr(fc_last_error(), "line 1"));
  fc_index_list_free(&l);
  fc_index_list_free(&u);
  fc_dataset_free(ds);
}
END_TEST

FC_TEST_MAIN("data-split", 0, "split", 0, balanced_with_a_short_class,
             remainder_goes_to_classes_with_most_room, per_class_and_all,
             deterministic_seeded_and_nested, list_file_round_trip)
