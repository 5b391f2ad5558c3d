/* log.csv and curves.png of a training run. */
#include "ssl/runlog.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fercl/fileio.h"
#include "ssl/plot.h"

fc_status fc_runlog_init(fc_runlog *log, int classes, char *const *class_names) {
  memset(log, 0, sizeof *log);
  if (classes < 1 || classes > FC_RUNLOG_MAX_CLASSES)
    return fc_errorf(FC_ERR_LIMIT, "the run log supports 1..%d classes", FC_RUNLOG_MAX_CLASSES);
  log->classes = classes;
  for (int c = 0; c < classes; c++)
    snprintf(log->class_names[c], sizeof log->class_names[c], "%s", class_names[c]);
  return FC_OK;
}

void fc_runlog_free(fc_runlog *log) {
  free(log->rows);
  log->rows = NULL;
  log->count = log->capacity = 0;
}

fc_status fc_runlog_append(fc_runlog *log, const fc_log_row *row) {
  if (log->count == log->capacity) {
    int64_t cap = log->capacity ? log->capacity * 2 : 1024;
    fc_log_row *r = realloc(log->rows, (size_t)cap * sizeof *r);
    if (!r) return fc_errorf(FC_ERR_NOMEM, "out of memory for the run log");
    log->rows = r;
    log->capacity = cap;
  }
  log->rows[log->count++] = *row;
  return FC_OK;
}

fc_log_row *fc_runlog_find(fc_runlog *log, int64_t step) {
  for (int64_t i = log->count - 1; i >= 0; i--)
    if (log->rows[i].step == step) return &log->rows[i];
  return NULL;
}

static const char *const fixed_columns =
    "step,epoch,lr,loss,loss_s,loss_u,loss_n,mask_rate,mean_conf,pl_precision,neg_per_sample,neg_"
    "precision,"
    "snl_k,images_per_s,val_acc,val_mca,val_f1";

static void put_number(fc_atomic_file *f, double v, char *buf, size_t size) {
  int n = isfinite(v) ? snprintf(buf, size, ",%.6g", v) : snprintf(buf, size, ",");
  fc_atomic_file_write(f, buf, (size_t)n);
}

fc_status fc_runlog_write_csv(const fc_runlog *log, const char *path) {
  fc_atomic_file f;
  FC_TRY(fc_atomic_file_open(&f, path));
  char buf[256];
  fc_atomic_file_write(&f, fixed_columns, strlen(fixed_columns));
  for (int c = 0; c < log->classes; c++) {
    /* RFC 4180: a name with a comma, quote or line break is quoted, quotes doubled. */
    const char *name = log->class_names[c];
    int quoted = name[strcspn(name, ",\"\r\n")] != '\0';
    fc_atomic_file_write(&f, quoted ? ",\"tau_" : ",tau_", quoted ? 6 : 5);
    for (const char *p = name; *p; p++) {
      fc_atomic_file_write(&f, p, 1);
      if (*p == '"') fc_atomic_file_write(&f, p, 1);
    }
    if (quoted) fc_atomic_file_write(&f, "\"", 1);
  }
  fc_atomic_file_write(&f, "\n", 1);
  for (int64_t i = 0; i < log->count; i++) {
    const fc_log_row *r = &log->rows[i];
    int n = snprintf(buf, sizeof buf, "%lld", (long long)r->step);
    fc_atomic_file_write(&f, buf, (size_t)n);
    const double v[] = {r->epoch,         r->lr,
                        r->loss,          r->loss_s,
                        r->loss_u,        r->loss_n,
                        r->mask_rate,     r->mean_conf,
                        r->pl_precision,  r->neg_per_sample,
                        r->neg_precision, (double)r->snl_k,
                        r->images_per_s,  r->val_acc,
                        r->val_mca,       r->val_f1};
    for (size_t k = 0; k < sizeof v / sizeof v[0]; k++) put_number(&f, v[k], buf, sizeof buf);
    for (int c = 0; c < log->classes; c++) put_number(&f, r->tau[c], buf, sizeof buf);
    fc_atomic_file_write(&f, "\n", 1);
  }
  return fc_atomic_file_commit(&f);
}

static double field(char **p) {
  char *s = *p, *end = NULL;
  if (*s == ',' || *s == '\n' || *s == '\0') {
    if (*s == ',') (*p)++;
    return NAN;
  }
  double v = strtod(s, &end);
  if (end == s) v = NAN;
  while (*end && *end != ',' && *end != '\n') end++;
  if (*end == ',') end++;
  *p = end;
  return v;
}

fc_status fc_runlog_read_csv(fc_runlog *log, const char *path, int64_t up_to_step) {
  char *text = NULL;
  size_t size = 0;
  FC_TRY(fc_file_read_all(path, (size_t)1 << 30, &text, &size));
  char *line = strchr(text, '\n');
  if (!line || strncmp(text, fixed_columns, strlen(fixed_columns)) != 0) {
    free(text);
    return fc_errorf(FC_ERR_FORMAT, "%s is not a fer-cl run log", path);
  }
  line++;
  fc_status st = FC_OK;
  while (*line && st == FC_OK) {
    char *next = strchr(line, '\n');
    if (next) *next = '\0';
    fc_log_row r;
    memset(&r, 0, sizeof r);
    char *p = line;
    double step = field(&p);
    /* Compared as doubles: a corrupt step (1e300) must not reach the int64 cast. */
    if (step >= 1 && step <= (double)up_to_step) {
      r.step = (int64_t)step;
      r.epoch = field(&p);
      r.lr = field(&p);
      r.loss = field(&p);
      r.loss_s = field(&p);
      r.loss_u = field(&p);
      r.loss_n = field(&p);
      r.mask_rate = field(&p);
      r.mean_conf = field(&p);
      r.pl_precision = field(&p);
      r.neg_per_sample = field(&p);
      r.neg_precision = field(&p);
      double k = field(&p);
      r.snl_k = k >= 0 && k <= FC_RUNLOG_MAX_CLASSES ? (int)k : 0;
      r.images_per_s = field(&p);
      r.val_acc = field(&p);
      r.val_mca = field(&p);
      r.val_f1 = field(&p);
      for (int c = 0; c < log->classes; c++) r.tau[c] = (float)field(&p);
      st = fc_runlog_append(log, &r);
    }
    if (!next) break;
    line = next + 1;
  }
  free(text);
  return st;
}

/* Exponential moving average so noisy per-step losses read as curves. */
static void smooth(const double *in, double *out, int64_t n, double alpha) {
  double acc = NAN;
  for (int64_t i = 0; i < n; i++) {
    if (isfinite(in[i])) acc = isfinite(acc) ? alpha * acc + (1 - alpha) * in[i] : in[i];
    out[i] = acc;
  }
}

/* A panel of curves over training steps; `share` fixes y to [0, 1]. */
static fc_plot_panel step_panel(const char *title, const fc_plot_series *series, int n_series,
                                int share, int interleave) {
  fc_plot_panel p = {.title = title,
                     .x_label = "step",
                     .integer_x = 1,
                     .series = series,
                     .n_series = n_series,
                     .interleave = interleave};
  if (share) {
    p.fixed_y = 1;
    p.y_min = 0;
    p.y_max = 1;
  }
  return p;
}

fc_status fc_runlog_plot(const fc_runlog *log, const char *path, const char *title) {
  int64_t n = log->count;
  if (n == 0) return FC_OK;
  int C = log->classes;
  size_t cols = 12 + (size_t)C;
  double *buf = malloc((size_t)n * cols * sizeof(double));
  double *evx = malloc((size_t)n * 4 * sizeof(double));
  if (!buf || !evx) {
    free(buf);
    free(evx);
    return fc_errorf(FC_ERR_NOMEM, "out of memory plotting");
  }
  double *x = buf, *raw = buf + n, *loss = buf + 2 * n, *ls = buf + 3 * n, *lu = buf + 4 * n,
         *ln = buf + 5 * n;
  double *mask = buf + 6 * n, *prec = buf + 7 * n, *negp = buf + 8 * n, *tau = buf + 12 * n;
  double *ev_acc = evx + n, *ev_mca = evx + 2 * n, *ev_f1 = evx + 3 * n;
  int64_t ne = 0;
  double alpha = n > 200 ? 0.98 : 0.8;
  for (int64_t i = 0; i < n; i++) x[i] = (double)log->rows[i].step;
#define SMOOTH(field, dst)                                       \
  do {                                                           \
    for (int64_t i = 0; i < n; i++) raw[i] = log->rows[i].field; \
    smooth(raw, dst, n, alpha);                                  \
  } while (0)
  SMOOTH(loss, loss);
  SMOOTH(loss_s, ls);
  SMOOTH(loss_u, lu);
  SMOOTH(loss_n, ln);
  SMOOTH(mask_rate, mask);
  SMOOTH(pl_precision, prec);
  SMOOTH(neg_precision, negp);
#undef SMOOTH
  for (int c = 0; c < C; c++)
    for (int64_t i = 0; i < n; i++) tau[(size_t)c * n + i] = log->rows[i].tau[c];
  for (int64_t i = 0; i < n; i++) {
    if (!isfinite(log->rows[i].val_acc)) continue;
    evx[ne] = x[i];
    ev_acc[ne] = log->rows[i].val_acc;
    ev_mca[ne] = log->rows[i].val_mca;
    ev_f1[ne] = log->rows[i].val_f1;
    ne++;
  }
  fc_plot_series loss_series[] = {{"total", x, loss, (size_t)n},
                                  {"supervised CE", x, ls, (size_t)n},
                                  {"pseudo-label CE", x, lu, (size_t)n},
                                  {"negative learning", x, ln, (size_t)n}};
  fc_plot_series acc_series[] = {{"top-1", evx, ev_acc, (size_t)ne},
                                 {"mean class acc.", evx, ev_mca, (size_t)ne},
                                 {"macro-F1", evx, ev_f1, (size_t)ne}};
  fc_plot_series tau_series[FC_RUNLOG_MAX_CLASSES];
  for (int c = 0; c < C; c++)
    tau_series[c] = (fc_plot_series){log->class_names[c], x, tau + (size_t)c * n, (size_t)n};
  fc_plot_series mask_series[] = {{"mask rate", x, mask, (size_t)n},
                                  {"pseudo-label precision", x, prec, (size_t)n},
                                  {"SNL negative precision", x, negp, (size_t)n}};
  /* Every panel has steps on x; all but the loss plot a share in [0, 1]. */
  fc_plot_panel panels[4] = {
      step_panel("loss (smoothed)", loss_series, 4, 0, 0),
      step_panel("validation (teacher)", acc_series, 3, 1, 1),
      step_panel("thresholds per class", tau_series, C, 1, 1),
      step_panel("unlabelled pool (smoothed)", mask_series, 3, 1, 0),
  };
  panels[0].log_y = 1;
  fc_plot_options opts;
  memset(&opts, 0, sizeof opts);
  opts.title = title;
  fc_status st = fc_plot_curves_png(path, panels, 4, &opts);
  free(buf);
  free(evx);
  return st;
}
