/* Confusion-matrix accumulation and the metrics derived from it. */
#include "fercl/metrics.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"

struct fc_confusion {
  int num_classes;
  uint64_t total;
  uint64_t *counts; /* [true * C + predicted] */
};

fc_status fc_confusion_create(int num_classes, fc_confusion **out) {
  if (!out) return fc_errorf(FC_ERR_INVALID_ARG, "fc_confusion_create: out is NULL");
  *out = NULL;
  if (num_classes < 1 || num_classes > FC_CONFUSION_MAX_CLASSES)
    return fc_errorf(FC_ERR_INVALID_ARG,
                     "confusion matrix: %d classes requested; use 1 to %d classes", num_classes,
                     FC_CONFUSION_MAX_CLASSES);
  fc_confusion *cm = calloc(1, sizeof *cm);
  size_t cells = (size_t)num_classes * (size_t)num_classes;
  if (cm) cm->counts = calloc(cells, sizeof *cm->counts);
  if (!cm || !cm->counts) {
    free(cm);
    return fc_errorf(FC_ERR_NOMEM, "out of memory for a %d-class confusion matrix", num_classes);
  }
  cm->num_classes = num_classes;
  *out = cm;
  return FC_OK;
}

void fc_confusion_free(fc_confusion *cm) {
  if (!cm) return;
  free(cm->counts);
  free(cm);
}

static int label_ok(const fc_confusion *cm, long long label) {
  return label >= 0 && label < cm->num_classes;
}

fc_status fc_confusion_add(fc_confusion *cm, int true_label, int predicted) {
  if (!cm) return fc_errorf(FC_ERR_INVALID_ARG, "fc_confusion_add: matrix is NULL");
  if (!label_ok(cm, true_label) || !label_ok(cm, predicted))
    return fc_errorf(FC_ERR_INVALID_ARG,
                     "confusion matrix: label pair (true %d, predicted %d) is outside the %d "
                     "classes 0..%d",
                     true_label, predicted, cm->num_classes, cm->num_classes - 1);
  cm->counts[(size_t)true_label * (size_t)cm->num_classes + (size_t)predicted]++;
  cm->total++;
  return FC_OK;
}

fc_status fc_confusion_add_array(fc_confusion *cm, const int32_t *true_labels,
                                 const int32_t *predicted, size_t n) {
  if (!cm) return fc_errorf(FC_ERR_INVALID_ARG, "fc_confusion_add_array: matrix is NULL");
  if (n == 0) return FC_OK;
  if (!true_labels || !predicted)
    return fc_errorf(FC_ERR_INVALID_ARG,
                     "fc_confusion_add_array: %zu samples but a label array is NULL", n);
  /* Validate everything first so a bad batch leaves the matrix as it was. */
  for (size_t i = 0; i < n; i++) {
    const int32_t pair[2] = {true_labels[i], predicted[i]};
    for (int which = 0; which < 2; which++)
      if (!label_ok(cm, pair[which]))
        return fc_errorf(
            FC_ERR_INVALID_ARG,
            "confusion matrix: %s label %" PRId32 " at index %zu is outside the %d classes 0..%d",
            which ? "predicted" : "true", pair[which], i, cm->num_classes, cm->num_classes - 1);
  }
  size_t c = (size_t)cm->num_classes;
  for (size_t i = 0; i < n; i++) cm->counts[(size_t)true_labels[i] * c + (size_t)predicted[i]]++;
  cm->total += n;
  return FC_OK;
}

void fc_confusion_reset(fc_confusion *cm) {
  if (!cm) return;
  memset(cm->counts, 0, (size_t)cm->num_classes * (size_t)cm->num_classes * sizeof *cm->counts);
  cm->total = 0;
}

int fc_confusion_num_classes(const fc_confusion *cm) { return cm ? cm->num_classes : 0; }

uint64_t fc_confusion_total(const fc_confusion *cm) { return cm ? cm->total : 0; }

uint64_t fc_confusion_count(const fc_confusion *cm, int true_label, int predicted) {
  if (!cm || !label_ok(cm, true_label) || !label_ok(cm, predicted)) return 0;
  return cm->counts[(size_t)true_label * (size_t)cm->num_classes + (size_t)predicted];
}

const uint64_t *fc_confusion_counts(const fc_confusion *cm) { return cm ? cm->counts : NULL; }

/* a / b with scikit-learn's zero_division=0. */
static double safe_ratio(double a, double b) { return b > 0.0 ? a / b : 0.0; }

fc_status fc_metrics_from_counts(const uint64_t *counts, int num_classes, fc_metrics *out) {
  if (!out) return fc_errorf(FC_ERR_INVALID_ARG, "fc_metrics_from_counts: out is NULL");
  memset(out, 0, sizeof *out);
  if (!counts) return fc_errorf(FC_ERR_INVALID_ARG, "fc_metrics_from_counts: counts is NULL");
  if (num_classes < 1 || num_classes > FC_CONFUSION_MAX_CLASSES)
    return fc_errorf(FC_ERR_INVALID_ARG, "metrics: %d classes; use 1 to %d classes", num_classes,
                     FC_CONFUSION_MAX_CLASSES);
  size_t c = (size_t)num_classes;
  out->per_class = calloc(c, sizeof *out->per_class);
  if (!out->per_class)
    return fc_errorf(FC_ERR_NOMEM, "out of memory for metrics of %d classes", num_classes);
  out->num_classes = num_classes;

  uint64_t trace = 0;
  for (size_t t = 0; t < c; t++) {
    for (size_t p = 0; p < c; p++) {
      uint64_t v = counts[t * c + p];
      out->per_class[t].support += v;
      out->per_class[p].predicted += v;
      out->total += v;
    }
    trace += counts[t * c + t];
  }

  double f1_sum = 0.0, recall_sum = 0.0;
  for (size_t k = 0; k < c; k++) {
    fc_class_metrics *m = &out->per_class[k];
    double tp = (double)counts[k * c + k];
    double fp = (double)(m->predicted - counts[k * c + k]);
    double fn = (double)(m->support - counts[k * c + k]);
    m->precision = safe_ratio(tp, tp + fp);
    m->recall = safe_ratio(tp, tp + fn);
    /* 2TP/(2TP+FP+FN) equals the harmonic mean of precision and recall when
     * both are defined, and is 0 (not NaN) when TP = 0. */
    m->f1 = safe_ratio(2.0 * tp, 2.0 * tp + fp + fn);
    f1_sum += m->f1;
    if (m->support > 0) {
      recall_sum += m->recall;
      out->classes_with_support++;
    }
  }
  out->accuracy = safe_ratio((double)trace, (double)out->total);
  out->macro_f1 = f1_sum / (double)num_classes;
  out->mean_class_accuracy = safe_ratio(recall_sum, (double)out->classes_with_support);
  return FC_OK;
}

fc_status fc_metrics_compute(const fc_confusion *cm, fc_metrics *out) {
  if (!cm) {
    if (out) memset(out, 0, sizeof *out);
    return fc_errorf(FC_ERR_INVALID_ARG, "fc_metrics_compute: matrix is NULL");
  }
  return fc_metrics_from_counts(cm->counts, cm->num_classes, out);
}

void fc_metrics_free(fc_metrics *m) {
  if (!m) return;
  free(m->per_class);
  memset(m, 0, sizeof *m);
}

#define TEXT_NAME_MAX 24

/* The display name of class k: the caller's, cut to TEXT_NAME_MAX, or its number. */
static void class_label(const char *const *class_names, int k, char *buf, size_t size,
                        size_t max_len) {
  const char *name = class_names ? class_names[k] : NULL;
  if (name) {
    size_t n = strlen(name);
    if (n > max_len) n = max_len;
    if (n >= size) n = size - 1;
    /* Never cut inside a UTF-8 sequence. */
    if (n < strlen(name))
      while (n > 0 && ((unsigned char)name[n] & 0xC0) == 0x80) n--;
    memcpy(buf, name, n);
    buf[n] = '\0';
  } else {
    snprintf(buf, size, "%d", k);
  }
}

static int digits_u64(uint64_t v) {
  int d = 1;
  while (v >= 10) {
    v /= 10;
    d++;
  }
  return d;
}

static fc_status stream_status(FILE *out, const char *what) {
  if (ferror(out))
    return fc_errorf(FC_ERR_IO, "cannot write the %s: the output stream failed", what);
  return FC_OK;
}

fc_status fc_confusion_write_text(FILE *out, const fc_confusion *cm,
                                  const char *const *class_names) {
  if (!out || !cm) return fc_errorf(FC_ERR_INVALID_ARG, "fc_confusion_write_text: NULL argument");
  int c = cm->num_classes;
  static const char corner[] = "true \\ pred";
  static const char total_head[] = "total";
  char name[TEXT_NAME_MAX + 1];

  /* Row labels share one width; every count column (and "total") shares
   * another, wide enough for the longest class name and the largest count. */
  int row_w = (int)strlen(corner);
  int col_w = (int)strlen(total_head);
  int count_w = digits_u64(cm->total);
  if (count_w > col_w) col_w = count_w;
  for (int k = 0; k < c; k++) {
    class_label(class_names, k, name, sizeof name, TEXT_NAME_MAX);
    int len = (int)strlen(name);
    if (len > row_w) row_w = len;
    if (len > col_w) col_w = len;
  }

  fprintf(out, "%*s", row_w, corner);
  for (int p = 0; p < c; p++) {
    class_label(class_names, p, name, sizeof name, TEXT_NAME_MAX);
    fprintf(out, "  %*s", col_w, name);
  }
  fprintf(out, "  %*s\n", col_w, total_head);
  for (int t = 0; t < c; t++) {
    class_label(class_names, t, name, sizeof name, TEXT_NAME_MAX);
    fprintf(out, "%*s", row_w, name);
    uint64_t row_sum = 0;
    for (int p = 0; p < c; p++) {
      uint64_t v = cm->counts[(size_t)t * (size_t)c + (size_t)p];
      row_sum += v;
      fprintf(out, "  %*" PRIu64, col_w, v);
    }
    fprintf(out, "  %*" PRIu64 "\n", col_w, row_sum);
  }
  return stream_status(out, "confusion matrix text");
}

fc_status fc_metrics_write_report(FILE *out, const fc_confusion *cm,
                                  const char *const *class_names) {
  if (!out || !cm) return fc_errorf(FC_ERR_INVALID_ARG, "fc_metrics_write_report: NULL argument");
  fc_metrics m;
  FC_TRY(fc_metrics_compute(cm, &m));
  char name[TEXT_NAME_MAX + 1];
  int name_w = (int)strlen("class");
  int support_w = (int)strlen("support");
  if (digits_u64(m.total) > support_w) support_w = digits_u64(m.total);
  for (int k = 0; k < m.num_classes; k++) {
    class_label(class_names, k, name, sizeof name, TEXT_NAME_MAX);
    if ((int)strlen(name) > name_w) name_w = (int)strlen(name);
  }
  fprintf(out, "%*s  precision  recall      f1  %*s\n", name_w, "class", support_w, "support");
  for (int k = 0; k < m.num_classes; k++) {
    const fc_class_metrics *pc = &m.per_class[k];
    class_label(class_names, k, name, sizeof name, TEXT_NAME_MAX);
    fprintf(out, "%*s     %6.4f  %6.4f  %6.4f  %*" PRIu64 "\n", name_w, name, pc->precision,
            pc->recall, pc->f1, support_w, pc->support);
  }
  fprintf(out, "accuracy %.4f  mean class accuracy %.4f  macro-F1 %.4f  (n = %" PRIu64 ")\n",
          m.accuracy, m.mean_class_accuracy, m.macro_f1, m.total);
  fc_metrics_free(&m);
  return stream_status(out, "metrics report");
}

fc_status fc_metrics_write_json(FILE *out, const fc_confusion *cm, const char *const *class_names) {
  if (!out || !cm) return fc_errorf(FC_ERR_INVALID_ARG, "fc_metrics_write_json: NULL argument");
  fc_metrics m;
  FC_TRY(fc_metrics_compute(cm, &m));
  int c = cm->num_classes;
  char name[32];

  fprintf(out, "{\"num_classes\":%d,\"total\":%" PRIu64 ",\"accuracy\":", c, m.total);
  fc_json_write_number(out, m.accuracy);
  fputs(",\"mean_class_accuracy\":", out);
  fc_json_write_number(out, m.mean_class_accuracy);
  fputs(",\"macro_f1\":", out);
  fc_json_write_number(out, m.macro_f1);
  fprintf(out, ",\"classes_with_support\":%d,\"classes\":[", m.classes_with_support);
  for (int k = 0; k < c; k++) {
    const fc_class_metrics *pc = &m.per_class[k];
    fputs(k ? ",{\"name\":" : "{\"name\":", out);
    if (class_names && class_names[k]) {
      fc_json_write_string(out, class_names[k]);
    } else {
      snprintf(name, sizeof name, "%d", k);
      fc_json_write_string(out, name);
    }
    fputs(",\"precision\":", out);
    fc_json_write_number(out, pc->precision);
    fputs(",\"recall\":", out);
    fc_json_write_number(out, pc->recall);
    fputs(",\"f1\":", out);
    fc_json_write_number(out, pc->f1);
    fprintf(out, ",\"support\":%" PRIu64 ",\"predicted\":%" PRIu64 "}", pc->support, pc->predicted);
  }
  fputs("],\"confusion\":[", out);
  for (int t = 0; t < c; t++) {
    fputs(t ? ",[" : "[", out);
    for (int p = 0; p < c; p++)
      fprintf(out, p ? ",%" PRIu64 : "%" PRIu64, cm->counts[(size_t)t * (size_t)c + (size_t)p]);
    fputc(']', out);
  }
  fputs("]}", out);
  fc_metrics_free(&m);
  return stream_status(out, "metrics JSON");
}
