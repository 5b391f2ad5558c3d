/* The supervised-only comparison at the end of a run on the synthetic faces. */
#ifndef FERCL_CLI_TRAIN_BASELINE_H
#define FERCL_CLI_TRAIN_BASELINE_H

#include <stdio.h>

#include "fercl/device.h"
#include "fercl/train.h"

/* Trains run_cfg again with --supervised-only on the labelled faces of the
 * finished run in run_dir (its labels.txt), for the run's steps, in a
 * temporary folder that is removed afterwards; baseline gets its result. */
fc_status fc_cli_train_baseline(fc_device *dev, const fc_train_config *run_cfg, const char *run_dir,
                                const fc_train_result *run, fc_train_result *baseline);

/* The two accuracies side by side: the run's last lines. */
void fc_cli_print_baseline(FILE *out, const fc_train_result *run, const fc_train_result *baseline);

#endif
