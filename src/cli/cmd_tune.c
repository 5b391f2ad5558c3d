/* fer-cl tune: parses the options and runs fc_tune_run (src/perf/tune.c),
 * which measures GEMM and kernel parameters on this device and stores the
 * winners in the user's cache folder, where every later device open finds
 * them. Progress goes to stderr, the summary to stdout. */
#include <stdio.h>

#include "cli/cli.h"
#include "fercl/net.h"
#include "fercl/perf.h"

static int quick, restart, no_clblast, tune_batch = 16;
static int arch_choice = 1, stem_choice = 0, channels = 3, input_size = 112;

/* Option tables and command specs keep one entry a line. */
// clang-format off
static const fc_option tune_options[] = {
    FC_OPTION_FLAG("quick", &quick, "fewer candidates (about a minute on PoCL)"),
    FC_OPTION_FLAG("restart", &restart, "ignore the measurements of an interrupted earlier run"),
    FC_OPTION_FLAG("no-clblast", &no_clblast, "do not try CLBlast (keeps fer-cl's GEMM)"),
    FC_CLI_MODEL_SHAPE_OPTIONS(&arch_choice, &stem_choice, &channels, &input_size,
                               "model whose convolutions are timed"),
    FC_OPTION_INT("batch", &tune_batch, "B", "batch of the timed convolutions", 1, 1024),
    {0}};

static const fc_args_spec tune_spec = {
    .command = "tune",
    .usage = "[--device N] [--quick] [--restart]",
    .summary =
        "Tune GEMM and kernel parameters for this device; the result is stored in the user's\n"
        "cache folder and used automatically by train, eval, predict and bench.",
    .details =
        "The score is the time of every convolution of the model (forward and both backward\n"
        "passes) at a small batch. Progress is saved after each measurement: an interrupted\n"
        "run continues where it stopped (--restart starts over). Delete the printed file to\n"
        "return to the defaults; FERCL_GEMM=clblast|fercl overrides the engine.",
    .options = tune_options,
    .global_options = fc_cli_global_options};
// clang-format on

static void progress(void *user, const char *text) {
  (void)user;
  fputs(text, stderr);
  fflush(stderr);
}

int fc_cmd_tune(int argc, char **argv) {
  int rc = fc_cli_parse_no_args(&tune_spec, argc, argv, "");
  if (rc >= 0) return rc;
  fc_tune_config cfg = {.batch = tune_batch,
                        .quick = quick,
                        .restart = restart,
                        .no_clblast = no_clblast,
                        .progress = progress};
  fc_net_config_default(&cfg.model);
  fc_status st = fc_net_config_set_arch(&cfg.model, fc_cli_arch_names[arch_choice]);
  cfg.model.in_channels = channels;
  cfg.model.input_size = input_size;
  cfg.model.stem = stem_choice ? FC_STEM_SMALL : FC_STEM_IMAGENET;
  fc_device *dev = NULL;
  if (st == FC_OK) st = fc_device_open_selected(fc_cli.device, 0, &dev);
  if (st != FC_OK) return fc_cli_fail(st);
  char device_name[256];
  snprintf(device_name, sizeof device_name, "%s", fc_device_get_info(dev)->name);
  double started = fc_cli_now_s();
  fc_tune_result res;
  st = fc_tune_run(dev, &cfg, &res);
  fc_device_close(dev);
  if (st != FC_OK) return fc_cli_fail(st);
  printf("tuned %s: GEMM %s, element-wise work-groups of %d\n", device_name, res.gemm, res.ops_wg);
  printf("convolutions at batch %d: %.1f ms with the best of fer-cl's GEMM%s\n", tune_batch,
         res.fercl_ms, res.clblast_faster ? " (CLBlast was faster)" : "");
  printf("saved to %s (used automatically from now on; delete it to return to the defaults)\n",
         res.path);
  printf("tuning took %.0f s\n", fc_cli_now_s() - started);
  return 0;
}
