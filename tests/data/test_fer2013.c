/* The real FER2013 folder copy, when this machine has it:
 * $FERCL_FER2013_DIR, else $FERCL_SOURCE_ROOT/../shared/data/fer2013.
 * Skipped (exit 77) when neither exists. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fercl/data.h"
#include "testutil.h"

static char root[1024];

START_TEST(counts_classes_split_and_loader) {
  fc_data_options o;
  fc_data_options_default(&o);
  fc_dataset *ds = NULL;
  FC_CHECK_OK(fc_dataset_load(root, &o, &ds));
  ck_assert_int_eq(ds->format, FC_DATA_FOLDER);
  ck_assert_int_eq(ds->channels, 1);
  ck_assert_int_eq(ds->height, 48);
  ck_assert_int_eq(ds->width, 48);
  ck_assert_int_eq(ds->problem_count, 0);
  const char *names[7] = {"angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"};
  ck_assert_int_eq(ds->class_count, 7);
  for (int c = 0; c < 7; c++) ck_assert_str_eq(ds->class_names[c], names[c]);
  const int64_t train_want[7] = {3995, 436, 4097, 7215, 4965, 4830, 3171};
  const int64_t val_want[7] = {467, 56, 496, 895, 607, 653, 415};
  fc_index_list train, val;
  FC_CHECK_OK(fc_dataset_split_indices(ds, FC_SPLIT_TRAIN, &train));
  FC_CHECK_OK(fc_dataset_split_indices(ds, FC_SPLIT_VAL, &val));
  ck_assert_int_eq(train.count, 28709);
  ck_assert_int_eq(val.count, 3589);
  int64_t counts[7];
  fc_dataset_class_counts(ds, &train, counts);
  for (int c = 0; c < 7; c++) ck_assert_int_eq(counts[c], train_want[c]);
  fc_dataset_class_counts(ds, &val, counts);
  for (int c = 0; c < 7; c++) ck_assert_int_eq(counts[c], val_want[c]);
  for (int64_t i = 0; i < ds->count; i++) {
    ck_assert_int_eq(ds->file_width[i], 48);
    ck_assert_int_eq(ds->file_channels[i], 1);
  }
  fc_data_norm n;
  FC_CHECK_OK(fc_data_norm_compute(ds, &train, &n));
  printf("FER2013 train mean %.4f std %.4f\n", n.mean[0], n.std[0]);
  fflush(stdout);
  ck_assert(n.mean[0] > 0.45 && n.mean[0] < 0.56);
  /* 4000 labels: disgust (436) keeps 10 %% unlabelled and gives 392. */
  fc_label_split_config sc;
  fc_label_split_config_default(&sc);
  sc.labels = 4000;
  fc_index_list l, u;
  FC_CHECK_OK(fc_label_split(ds, &sc, &l, &u));
  ck_assert_int_eq(l.count, 4000);
  ck_assert_int_eq(u.count, 28709 - 4000);
  fc_dataset_class_counts(ds, &l, counts);
  ck_assert_int_eq(counts[1], 392);
  for (int c = 0; c < 7; c++)
    if (c != 1) ck_assert(counts[c] == 601 || counts[c] == 602);
  /* The loader at the trainer's batch sizes. */
  fc_loader_config lc;
  fc_loader_config_init(&lc, ds, &l, &u, 64, 448);
  lc.threads = 2;
  fc_loader *L = NULL;
  FC_CHECK_OK(fc_loader_create(&lc, &L));
  /* Each step: 8 whole rounds over the 7 classes plus parts of two more;
   * 7 steps: exactly 64 rounds, 64 images of each class. */
  int total[7] = {0};
  for (int64_t t = 0; t < 7; t++) {
    const fc_batch *b;
    FC_CHECK_OK(fc_loader_get(L, t, &b));
    ck_assert_int_eq(b->bytes, (64 + 2 * 448) * 2304);
    int per[7] = {0};
    for (int j = 0; j < 64; j++) per[b->labels[j]]++;
    for (int c = 0; c < 7; c++) {
      ck_assert(per[c] >= 8 && per[c] <= 10);
      total[c] += per[c];
    }
    fc_loader_release(L, b);
  }
  for (int c = 0; c < 7; c++) ck_assert_int_eq(total[c], 64);
  fc_loader_free(L);
  fc_index_list_free(&l);
  fc_index_list_free(&u);
  fc_index_list_free(&train);
  fc_index_list_free(&val);
  fc_dataset_free(ds);
}
END_TEST

int main(void) {
  const char *dir = getenv("FERCL_FER2013_DIR");
  const char *src = getenv("FERCL_SOURCE_ROOT");
  if (dir && *dir)
    snprintf(root, sizeof root, "%s", dir);
  else if (src && *src)
    snprintf(root, sizeof root, "%s/../shared/data/fer2013", src);
  struct stat sb;
  if (!root[0] || stat(root, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
    printf(
        "SKIP: no FER2013 copy (looked at %s); set FERCL_FER2013_DIR to a folder with train/ and "
        "val/\n",
        root[0] ? root
                : "$FERCL_FER2013_DIR and $FERCL_SOURCE_ROOT/../shared/data/fer2013, both unset");
    return 77;
  }
  Suite *s = suite_create("data-fer2013");
  FC_TEST_CASE(s, "fer2013", 300, counts_classes_split_and_loader);
  return fc_test_run_suite(s, 0);
}
