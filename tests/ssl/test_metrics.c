/* Metrics: confusion accumulation and hand-computed accuracy, mean class
 * accuracy, macro-F1, per-class precision/recall/F1, text and JSON output. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fercl/metrics.h"
#include "../testutil.h"

#define EPS 1e-12
#define CK_NEAR(got, want)                                                                      \
  ck_assert_msg(fabs((double)(got) - (double)(want)) < EPS, "%s = %.15g, expected %.15g", #got, \
                (double)(got), (double)(want))

/* The 3-class example worked by hand in the comments below. */
static fc_confusion *example_matrix(void) {
  /* true 0: predicted 0,0,0,1   true 1: predicted 1,2   true 2: predicted 2,2,0,0
   * matrix rows (true) x columns (predicted):
   *   [3 1 0]
   *   [0 1 1]
   *   [2 0 2] */
  static const int32_t t[10] = {0, 0, 0, 0, 1, 1, 2, 2, 2, 2};
  static const int32_t p[10] = {0, 0, 0, 1, 1, 2, 2, 2, 0, 0};
  fc_confusion *cm = NULL;
  FC_CHECK_OK(fc_confusion_create(3, &cm));
  FC_CHECK_OK(fc_confusion_add_array(cm, t, p, 10));
  return cm;
}

START_TEST(accumulates_counts) {
  fc_confusion *cm = example_matrix();
  ck_assert_int_eq(fc_confusion_num_classes(cm), 3);
  ck_assert_uint_eq(fc_confusion_total(cm), 10);
  static const uint64_t want[9] = {3, 1, 0, 0, 1, 1, 2, 0, 2};
  const uint64_t *got = fc_confusion_counts(cm);
  for (int i = 0; i < 9; i++) ck_assert_uint_eq(got[i], want[i]);
  ck_assert_uint_eq(fc_confusion_count(cm, 2, 0), 2);
  ck_assert_uint_eq(fc_confusion_count(cm, 3, 0), 0); /* out of range reads as 0 */
  FC_CHECK_OK(fc_confusion_add(cm, 1, 0));
  ck_assert_uint_eq(fc_confusion_count(cm, 1, 0), 1);
  ck_assert_uint_eq(fc_confusion_total(cm), 11);
  fc_confusion_reset(cm);
  ck_assert_uint_eq(fc_confusion_total(cm), 0);
  for (int i = 0; i < 9; i++) ck_assert_uint_eq(fc_confusion_counts(cm)[i], 0);
  fc_confusion_free(cm);
}
END_TEST

START_TEST(metrics_match_hand_computation) {
  fc_confusion *cm = example_matrix();
  fc_metrics m;
  FC_CHECK_OK(fc_metrics_compute(cm, &m));
  ck_assert_int_eq(m.num_classes, 3);
  ck_assert_uint_eq(m.total, 10);
  /* trace 3+1+2 = 6 of 10 */
  CK_NEAR(m.accuracy, 0.6);
  /* support 4, 2, 4; predicted (column sums) 5, 2, 3 */
  ck_assert_uint_eq(m.per_class[0].support, 4);
  ck_assert_uint_eq(m.per_class[1].support, 2);
  ck_assert_uint_eq(m.per_class[2].support, 4);
  ck_assert_uint_eq(m.per_class[0].predicted, 5);
  ck_assert_uint_eq(m.per_class[1].predicted, 2);
  ck_assert_uint_eq(m.per_class[2].predicted, 3);
  /* precision TP/predicted: 3/5, 1/2, 2/3; recall TP/support: 3/4, 1/2, 2/4 */
  CK_NEAR(m.per_class[0].precision, 0.6);
  CK_NEAR(m.per_class[1].precision, 0.5);
  CK_NEAR(m.per_class[2].precision, 2.0 / 3.0);
  CK_NEAR(m.per_class[0].recall, 0.75);
  CK_NEAR(m.per_class[1].recall, 0.5);
  CK_NEAR(m.per_class[2].recall, 0.5);
  /* F1 = 2TP/(2TP+FP+FN): 6/9, 2/4, 4/7 */
  CK_NEAR(m.per_class[0].f1, 6.0 / 9.0);
  CK_NEAR(m.per_class[1].f1, 0.5);
  CK_NEAR(m.per_class[2].f1, 4.0 / 7.0);
  CK_NEAR(m.macro_f1, (6.0 / 9.0 + 0.5 + 4.0 / 7.0) / 3.0);
  CK_NEAR(m.mean_class_accuracy, (0.75 + 0.5 + 0.5) / 3.0);
  ck_assert_int_eq(m.classes_with_support, 3);
  fc_metrics_free(&m);
  ck_assert_ptr_null(m.per_class);
  fc_confusion_free(cm);
}
END_TEST

START_TEST(empty_class_and_single_prediction_follow_zero_division_0) {
  /* Everything predicted as class 0; class 2 never occurs:
   *   [2 0 0]
   *   [3 0 0]
   *   [0 0 0] */
  fc_confusion *cm = NULL;
  FC_CHECK_OK(fc_confusion_create(3, &cm));
  static const int32_t t[5] = {0, 0, 1, 1, 1};
  static const int32_t p[5] = {0, 0, 0, 0, 0};
  FC_CHECK_OK(fc_confusion_add_array(cm, t, p, 5));
  fc_metrics m;
  FC_CHECK_OK(fc_metrics_compute(cm, &m));
  CK_NEAR(m.accuracy, 0.4);
  CK_NEAR(m.per_class[0].precision, 0.4); /* 2 of 5 predictions right */
  CK_NEAR(m.per_class[0].recall, 1.0);
  CK_NEAR(m.per_class[0].f1, 4.0 / 7.0);
  CK_NEAR(m.per_class[1].precision, 0.0); /* never predicted: 0, not NaN */
  CK_NEAR(m.per_class[1].recall, 0.0);
  CK_NEAR(m.per_class[1].f1, 0.0);
  CK_NEAR(m.per_class[2].precision, 0.0); /* no support, no predictions */
  CK_NEAR(m.per_class[2].recall, 0.0);
  CK_NEAR(m.per_class[2].f1, 0.0);
  ck_assert_uint_eq(m.per_class[2].support, 0);
  /* macro-F1 averages all 3 classes; mean class accuracy only the 2 with support. */
  CK_NEAR(m.macro_f1, (4.0 / 7.0) / 3.0);
  ck_assert_int_eq(m.classes_with_support, 2);
  CK_NEAR(m.mean_class_accuracy, 0.5);
  fc_metrics_free(&m);

  /* Perfect predictions of one class only. */
  uint64_t only[4] = {0, 0, 0, 7};
  FC_CHECK_OK(fc_metrics_from_counts(only, 2, &m));
  CK_NEAR(m.accuracy, 1.0);
  CK_NEAR(m.mean_class_accuracy, 1.0);
  CK_NEAR(m.macro_f1, 0.5); /* class 0: F1 0 by zero_division; class 1: 1 */
  fc_metrics_free(&m);

  /* No samples: all zeros, never NaN. */
  fc_confusion_reset(cm);
  FC_CHECK_OK(fc_metrics_compute(cm, &m));
  ck_assert_uint_eq(m.total, 0);
  CK_NEAR(m.accuracy, 0.0);
  CK_NEAR(m.mean_class_accuracy, 0.0);
  CK_NEAR(m.macro_f1, 0.0);
  ck_assert_int_eq(m.classes_with_support, 0);
  fc_metrics_free(&m);
  fc_confusion_free(cm);
}
END_TEST

START_TEST(bad_labels_are_refused_without_partial_counts) {
  fc_confusion *cm = NULL;
  ck_assert_int_eq(fc_confusion_create(0, &cm), FC_ERR_INVALID_ARG);
  ck_assert_ptr_null(cm);
  ck_assert_int_eq(fc_confusion_create(FC_CONFUSION_MAX_CLASSES + 1, &cm), FC_ERR_INVALID_ARG);
  FC_CHECK_OK(fc_confusion_create(4, &cm));
  ck_assert_int_eq(fc_confusion_add(cm, 4, 0), FC_ERR_INVALID_ARG);
  ck_assert_int_eq(fc_confusion_add(cm, 0, -1), FC_ERR_INVALID_ARG);
  int32_t t[3] = {0, 1, 2}, p[3] = {0, 1, 9};
  ck_assert_int_eq(fc_confusion_add_array(cm, t, p, 3), FC_ERR_INVALID_ARG);
  ck_assert_msg(strstr(fc_last_error(), "predicted label 9 at index 2") != NULL, "%s",
                fc_last_error());
  ck_assert_uint_eq(fc_confusion_total(cm), 0);
  t[1] = -3;
  p[2] = 2;
  ck_assert_int_eq(fc_confusion_add_array(cm, t, p, 3), FC_ERR_INVALID_ARG);
  ck_assert_msg(strstr(fc_last_error(), "true label -3 at index 1") != NULL, "%s", fc_last_error());
  ck_assert_uint_eq(fc_confusion_total(cm), 0);
  ck_assert_int_eq(fc_confusion_add_array(cm, NULL, p, 3), FC_ERR_INVALID_ARG);
  FC_CHECK_OK(fc_confusion_add_array(cm, NULL, NULL, 0));
  fc_confusion_free(cm);
}
END_TEST

/* Runs a writer into a memory stream and returns what it wrote (free it). */
static char *capture_text(const fc_confusion *cm, const char *const *names, int kind) {
  char *buf = NULL;
  size_t size = 0;
  FILE *f = open_memstream(&buf, &size);
  ck_assert_ptr_nonnull(f);
  if (kind == 1)
    FC_CHECK_OK(fc_metrics_write_json(f, cm, names));
  else if (kind == 2)
    FC_CHECK_OK(fc_metrics_write_report(f, cm, names));
  else
    FC_CHECK_OK(fc_confusion_write_text(f, cm, names));
  fclose(f);
  return buf;
}

START_TEST(text_rendering_aligns_columns) {
  fc_confusion *cm = example_matrix();
  static const char *const names[3] = {"cat", "dog", "bird"};
  char *text = capture_text(cm, names, 0);
  const char *want =
      "true \\ pred    cat    dog   bird  total\n"
      "        cat      3      1      0      4\n"
      "        dog      0      1      1      2\n"
      "       bird      2      0      2      4\n";
  ck_assert_str_eq(text, want);
  free(text);
  /* Long names widen the columns; missing names are numbers. */
  static const char *const long_names[3] = {"a-very-long-class-name-that-is-cut-here", NULL, "x"};
  text = capture_text(cm, long_names, 0);
  const char *want2 =
      "             true \\ pred  a-very-long-class-name-t                         1               "
      "          x                     total\n"
      "a-very-long-class-name-t                         3                         1                "
      "         0                         4\n"
      "                       1                         0                         1                "
      "         1                         2\n"
      "                       x                         2                         0                "
      "         2                         4\n";
  ck_assert_str_eq(text, want2);
  free(text);
  fc_confusion_free(cm);
}
END_TEST

START_TEST(report_lists_per_class_numbers) {
  fc_confusion *cm = example_matrix();
  static const char *const names[3] = {"cat", "dog", "bird"};
  char *text = capture_text(cm, names, 2);
  /* Values from metrics_match_hand_computation, rounded to 4 decimals. */
  const char *want =
      "class  precision  recall      f1  support\n"
      "  cat     0.6000  0.7500  0.6667        4\n"
      "  dog     0.5000  0.5000  0.5000        2\n"
      " bird     0.6667  0.5000  0.5714        4\n"
      "accuracy 0.6000  mean class accuracy 0.5833  macro-F1 0.5794  (n = 10)\n";
  ck_assert_str_eq(text, want);
  free(text);
  fc_confusion_free(cm);
}
END_TEST

START_TEST(json_rendering_holds_every_metric) {
  /* true 0 1 1, predicted 0 1 0:  [[1,0],[1,1]] */
  fc_confusion *cm = NULL;
  FC_CHECK_OK(fc_confusion_create(2, &cm));
  FC_CHECK_OK(fc_confusion_add(cm, 0, 0));
  FC_CHECK_OK(fc_confusion_add(cm, 1, 1));
  FC_CHECK_OK(fc_confusion_add(cm, 1, 0));
  static const char *const names[2] = {"a\"b", NULL};
  char *json = capture_text(cm, names, 1);
  const char *want =
      "{\"num_classes\":2,\"total\":3,\"accuracy\":0.666666667,\"mean_class_accuracy\":0.75,"
      "\"macro_f1\":0.666666667,\"classes_with_support\":2,\"classes\":["
      "{\"name\":\"a\\\"b\",\"precision\":0.5,\"recall\":1,\"f1\":0.666666667,\"support\":1,"
      "\"predicted\":2},"
      "{\"name\":\"1\",\"precision\":1,\"recall\":0.5,\"f1\":0.666666667,\"support\":2,"
      "\"predicted\":1}],"
      "\"confusion\":[[1,0],[1,1]]}";
  ck_assert_str_eq(json, want);
  free(json);
  fc_confusion_free(cm);
}
END_TEST

START_TEST(stream_errors_are_reported) {
  fc_confusion *cm = example_matrix();
  FILE *ro = fopen("/dev/null", "r"); /* writes to a read-only stream fail */
  ck_assert_ptr_nonnull(ro);
  ck_assert_int_eq(fc_confusion_write_text(ro, cm, NULL), FC_ERR_IO);
  ck_assert_int_eq(fc_metrics_write_json(ro, cm, NULL), FC_ERR_IO);
  ck_assert_int_eq(fc_metrics_write_report(ro, cm, NULL), FC_ERR_IO);
  fclose(ro);
  ck_assert_int_eq(fc_metrics_write_json(stdout, NULL, NULL), FC_ERR_INVALID_ARG);
  fc_confusion_free(cm);
}
END_TEST

static Suite *metrics_suite(void) {
  Suite *s = suite_create("metrics");
  FC_TEST_CASE(s, "metrics", 0, accumulates_counts, metrics_match_hand_computation,
               empty_class_and_single_prediction_follow_zero_division_0,
               bad_labels_are_refused_without_partial_counts, text_rendering_aligns_columns,
               report_lists_per_class_numbers, json_rendering_holds_every_metric,
               stream_errors_are_reported);
  return s;
}

int main(void) { return fc_test_run_suite(metrics_suite(), 0); }
