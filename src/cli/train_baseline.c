/* fer-cl train on the built-in synthetic faces ends with a measured answer
 * to "what do the unlabelled faces add?": the same labelled faces, model,
 * seed and number of steps trained again with --supervised-only, and both
 * teachers' validation accuracy side by side (README "The default run"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/train_baseline.h"
#include "fercl/fileio.h"
#include "fercl/log.h"

fc_status fc_cli_train_baseline(fc_device *dev, const fc_train_config *run_cfg, const char *run_dir,
                                const fc_train_result *run, fc_train_result *baseline) {
  memset(baseline, 0, sizeof *baseline);
  fc_train_config cfg = *run_cfg;
  char split[1200];
  snprintf(split, sizeof split, "%s/labels.txt", run_dir);
  cfg.supervised_only = 1;
  cfg.split_file = split; /* exactly the run's labelled faces */
  cfg.steps = (int)run->steps_done;
  cfg.epochs = 0;
  cfg.eval_every = 0; /* once, at the end, like the run's last evaluation */
  cfg.save_every = 0;
  cfg.progress = NULL;
  cfg.progress_user = NULL;
  cfg.before_writing = NULL;
  cfg.profile = 0;
  char dir[1100];
  fc_status made = fc_make_temp_dir("fer-cl-baseline", dir, sizeof dir);
  if (made != FC_OK) return fc_error_context(made, "supervised-only baseline");
  cfg.out = dir;
  fc_log(FC_LOG_INFO,
         "supervised-only baseline: the same %lld steps on the labelled faces alone (--no-baseline "
         "skips it)",
         (long long)run->steps_done);
  fc_status st = fc_train_run(dev, &cfg, NULL, baseline);
  fc_remove_temp_dir(dir);
  if (st == FC_ERR_INTERRUPTED) { /* Ctrl-C: no comparison; its folder is gone, the run is whole */
    baseline->interrupted = 1;
    return FC_OK;
  }
  if (st != FC_OK) return fc_error_context(st, "supervised-only baseline");
  return FC_OK;
}

void fc_cli_print_baseline(FILE *out, const fc_train_result *run, const fc_train_result *baseline) {
  fprintf(out,
          "what the %lld unlabelled faces add (the same %lld labelled faces, model, seed and %lld "
          "steps; "
          "teacher on the validation split):\n",
          (long long)run->unlabeled_count, (long long)run->labeled_count,
          (long long)run->steps_done);
  fprintf(out, "  semi-supervised (this run)                     accuracy %.4f  macro-F1 %.4f\n",
          run->final_accuracy, run->final_macro_f1);
  fprintf(
      out,
      "  supervised only (--supervised-only, just now)  accuracy %.4f  macro-F1 %.4f  (%.0f s)\n",
      baseline->final_accuracy, baseline->final_macro_f1, baseline->seconds);
}
