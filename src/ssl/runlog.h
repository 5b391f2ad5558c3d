/* The per-step record of a training run: kept in memory, written to
 * DIR/log.csv (atomically, so a kill never leaves half a file), read back on
 * resume, and drawn as DIR/curves.png at the end. */
#ifndef FERCL_SSL_RUNLOG_H
#define FERCL_SSL_RUNLOG_H

#include <stdint.h>

#include "fercl/status.h"

#define FC_RUNLOG_MAX_CLASSES 64

typedef struct fc_log_row {
  int64_t step; /* 1-based: the row after optimizer step `step` */
  double epoch, lr;
  double loss, loss_s, loss_u, loss_n;
  double mask_rate, mean_conf, pl_precision;
  double neg_per_sample, neg_precision;
  int snl_k;
  double images_per_s;
  double val_acc, val_mca, val_f1; /* NaN except at evaluations */
  float tau[FC_RUNLOG_MAX_CLASSES];
} fc_log_row;

typedef struct fc_runlog {
  fc_log_row *rows;
  int64_t count, capacity;
  int classes;
  char class_names[FC_RUNLOG_MAX_CLASSES][64];
} fc_runlog;

fc_status fc_runlog_init(fc_runlog *log, int classes, char *const *class_names);
void fc_runlog_free(fc_runlog *log);
fc_status fc_runlog_append(fc_runlog *log, const fc_log_row *row);
/* The row of step, or NULL. */
fc_log_row *fc_runlog_find(fc_runlog *log, int64_t step);
fc_status fc_runlog_write_csv(const fc_runlog *log, const char *path);
/* Reads rows with step <= up_to_step from a log.csv written by this module. */
fc_status fc_runlog_read_csv(fc_runlog *log, const char *path, int64_t up_to_step);
/* Loss parts, validation accuracy, thresholds, mask rate / pseudo-label precision. */
fc_status fc_runlog_plot(const fc_runlog *log, const char *path, const char *title);

#endif
