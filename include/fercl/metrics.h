/* fer-cl: classification metrics over a confusion matrix.
 *
 * An fc_confusion accumulates (true label, predicted label) pairs for a fixed
 * set of classes 0..C-1; fc_metrics_compute turns the counts into top-1
 * accuracy, mean class accuracy, macro-F1 and per-class precision, recall,
 * F1 and support.
 *
 * Degenerate classes follow scikit-learn with zero_division=0 and an explicit
 * label set (labels=range(C)):
 *   precision[c] = TP / (TP + FP), 0 when nothing was predicted as c;
 *   recall[c]    = TP / (TP + FN), 0 when c has no support (no true samples);
 *   f1[c]        = 2TP / (2TP + FP + FN), 0 when that denominator is 0
 *                  (c neither occurs nor is predicted);
 *   macro_f1     = mean of f1[c] over all C classes (f1_score(average="macro",
 *                  labels=range(C), zero_division=0));
 *   mean_class_accuracy = mean of recall[c] over the classes WITH support
 *                  (balanced_accuracy_score: a class absent from the ground
 *                  truth has no accuracy to average, so it is left out);
 *   accuracy     = trace / total.
 * With no samples at all, every number is 0. */
#ifndef FERCL_METRICS_H
#define FERCL_METRICS_H

#include <stdint.h>
#include <stdio.h>

#include "fercl/api.h"
#include "fercl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Most classes a confusion matrix accepts (the matrix is C*C counts). */
#define FC_CONFUSION_MAX_CLASSES 4096

typedef struct fc_confusion fc_confusion;

/* An all-zero C x C matrix; num_classes in 1..FC_CONFUSION_MAX_CLASSES.
 * Free with fc_confusion_free. */
FC_API fc_status fc_confusion_create(int num_classes, fc_confusion **out);
FC_API void fc_confusion_free(fc_confusion *cm);

/* Counts one sample. Labels outside 0..C-1 give FC_ERR_INVALID_ARG and
 * leave the matrix unchanged. */
FC_API fc_status fc_confusion_add(fc_confusion *cm, int true_label, int predicted);
/* Counts n samples. Every label is checked first: on a bad one nothing is
 * counted and the message names its index and value. */
FC_API fc_status fc_confusion_add_array(fc_confusion *cm, const int32_t *true_labels,
                                        const int32_t *predicted, size_t n);
/* Back to all zeros (same number of classes). */
FC_API void fc_confusion_reset(fc_confusion *cm);

FC_API int fc_confusion_num_classes(const fc_confusion *cm);
/* Samples counted so far. */
FC_API uint64_t fc_confusion_total(const fc_confusion *cm);
/* Count of samples of class true_label predicted as predicted; 0 when out of range. */
FC_API uint64_t fc_confusion_count(const fc_confusion *cm, int true_label, int predicted);
/* The C*C counts, row-major: counts[true * C + predicted]. Valid until the
 * matrix is freed. */
FC_API const uint64_t *fc_confusion_counts(const fc_confusion *cm);

typedef struct fc_class_metrics {
  double precision;
  double recall;
  double f1;
  uint64_t support;   /* true samples of this class (row sum) */
  uint64_t predicted; /* samples predicted as this class (column sum) */
} fc_class_metrics;

typedef struct fc_metrics {
  int num_classes;
  uint64_t total;
  double accuracy;
  double mean_class_accuracy;
  double macro_f1;
  int classes_with_support;    /* how many classes mean_class_accuracy averages */
  fc_class_metrics *per_class; /* num_classes entries, owned: fc_metrics_free */
} fc_metrics;

/* Computes every metric from the matrix (rules at the top of this header). */
FC_API fc_status fc_metrics_compute(const fc_confusion *cm, fc_metrics *out);
/* The same from raw row-major counts (counts[true * C + predicted]). */
FC_API fc_status fc_metrics_from_counts(const uint64_t *counts, int num_classes, fc_metrics *out);
FC_API void fc_metrics_free(fc_metrics *m);

/* Writes the matrix as aligned text: rows are true classes, columns are
 * predicted classes, plus a "total" column (support). class_names may be
 * NULL (classes are numbered) or hold num_classes names (NULL entries are
 * numbered too); names longer than 24 characters are cut. Example:
 *   true \ pred  angry  happy    sad  total
 *         angry     50      2      1     53
 *         happy      3     80      0     83
 *           sad      4      1     41     46
 * FC_ERR_IO when the stream reports an error. */
FC_API fc_status fc_confusion_write_text(FILE *out, const fc_confusion *cm,
                                         const char *const *class_names);

/* Writes a per-class report (names as in fc_confusion_write_text) and the
 * summary line, numbers with 4 decimals. Example:
 *      class  precision  recall      f1  support
 *      angry     0.7407  0.7407  0.7407      162
 *      happy     0.9288  0.9288  0.9288     1185
 *   accuracy 0.8130  mean class accuracy 0.7140  macro-F1 0.7220  (n = 3012)
 * FC_ERR_IO when the stream reports an error. */
FC_API fc_status fc_metrics_write_report(FILE *out, const fc_confusion *cm,
                                         const char *const *class_names);

/* Writes one JSON object with every metric and the matrix:
 * {"num_classes":C,"total":N,"accuracy":..,"mean_class_accuracy":..,
 *  "macro_f1":..,"classes_with_support":K,
 *  "classes":[{"name":"angry","precision":..,"recall":..,"f1":..,
 *              "support":..,"predicted":..},...],
 *  "confusion":[[..C counts..],...]}
 * class_names as in fc_confusion_write_text (numbered names are "0", "1"...,
 * never cut). No trailing newline. FC_ERR_IO when the stream reports an error. */
FC_API fc_status fc_metrics_write_json(FILE *out, const fc_confusion *cm,
                                       const char *const *class_names);

/* Writes counts (row-major, counts[true * C + predicted], fc_confusion_counts)
 * as a PNG heatmap with a title (src/ssl/plot.c: fc_plot_confusion_render). */
FC_API fc_status fc_plot_confusion_png(const char *path, const uint64_t *counts, int num_classes,
                                       const char *const *class_names, const char *title);

#ifdef __cplusplus
}
#endif
#endif
