/* fer-cl bench: parses the options, runs fc_bench_run (src/perf/bench.c) and
 * prints what it measures as it comes, then JSON with --json. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "fercl/fileio.h"
#include "fercl/json.h"
#include "fercl/log.h"
#include "fercl/net.h"
#include "fercl/perf.h"
#include "fercl/profile.h"
#include "fercl/train.h"

/* ---- options ---- */

static const char *faces_photo, *faces_portrait, *faces_detector;
static int as_json, train_mode, quick, profile_opt, no_clblast, no_ssl, no_supervised;
static int ssl_batch, ssl_mu, lae_kernel; /* the default recipe's unless given (fc_cmd_bench) */
static int arch_choice = 1, stem_choice = 0, channels = 3, input_size = 112, batch = 64, steps = 5;
static double width = 1.0, budget_ms = 300;
static const char *out_dir = ".";
static const char *only; /* comma-separated section names, NULL = all */

/* Option tables and command specs keep one entry a line. */
// clang-format off
static const fc_option bench_options[] = {
    FC_OPTION_FLAG("json", &as_json, "print the results as JSON on stdout (progress goes to stderr)"),
    FC_OPTION_FLAG("train", &train_mode, "benchmark training steps (images/s) instead of the device and op sections"),
    FC_CLI_MODEL_SHAPE_OPTIONS(&arch_choice, &stem_choice, &channels, &input_size,
                               "model for the conv shapes and --train"),
    FC_OPTION_DOUBLE("width", &width, "W", "channel multiplier", 1.0 / 64, 8),
    FC_OPTION_INT("batch", &batch, "B", "batch of the conv shapes and the supervised step", 1, 4096),
    FC_OPTION_INT("steps", &steps, "N", "timed training steps after one warm-up step", 1, 10000),
    FC_OPTION_FLAG("no-ssl", &no_ssl, "--train: skip the semi-supervised step"),
    FC_OPTION_FLAG("no-supervised", &no_supervised, "--train: skip the supervised step"),
    FC_OPTION_INT("ssl-batch", &ssl_batch, "B", "labelled batch of the semi-supervised step", 1, 4096),
    FC_OPTION_INT("mu", &ssl_mu, "M", "semi-supervised step: unlabelled batch = M x labelled", 1, 64),
    FC_OPTION_INT("lae-kernel", &lae_kernel, "K", "semi-supervised step: attention convolution size", 3, 7),
    FC_OPTION_DOUBLE("budget-ms", &budget_ms, "MS", "time spent repeating each measurement", 1, 60000),
    FC_OPTION_STRING("only", &only, "LIST", "sections to run, comma-separated: peak (with bandwidth), latency, gemm, conv, ops, faces"),
    FC_OPTION_STRING("faces-photo", &faces_photo, "FILE", "faces section: the photo (default: synthetic faces on 640x480)"),
    FC_OPTION_STRING("faces-portrait", &faces_portrait, "FILE", "faces section: the portrait (default: a synthetic 256x256 face)"),
    FC_OPTION_STRING("detector", &faces_detector, "FILE", "faces section: MTCNN weights (tools/get-face-detector)"),
    FC_OPTION_FLAG("quick", &quick, "fewer sizes and a smaller time budget"),
    FC_OPTION_FLAG("no-clblast", &no_clblast, "skip CLBlast's GEMMs (its kernels take a while to build on PoCL)"),
    FC_OPTION_FLAG("profile", &profile_opt, "per-kernel profile of the timed runs: CSV, Chrome trace, per-layer summary"),
    FC_OPTION_STRING("out", &out_dir, "DIR", "folder for --profile's bench-profile.csv and bench-profile.trace.json"),
    {0}};

static const fc_args_spec bench_spec = {
    .command = "bench",
    .usage = "[--device N] [--json] [--train --arch A --channels C --input S --batch B]",
    .summary =
        "Measure the device (peak FLOP/s, bandwidth, launch latency, transfers) and fer-cl's\n"
        "GEMM, convolutions and memory-bound ops on it; with --train, training images/s.",
    .details =
        "Numbers are min and median of repeated runs. The GEMM section compares fer-cl's own\n"
        "kernel, CLBlast as shipped, CLBlast with `fer-cl tune`'s parameters (if tuned) and,\n"
        "when the host has one, the host BLAS (OpenBLAS via dlopen) for reference.\n"
        "--train times a plain supervised step (forward, cross-entropy, backward, SGD) of the\n"
        "model without attention or feature dropout (torchvision's ResNet with --stem imagenet),\n"
        "then a full semi-supervised step of the default recipe on synthetic faces (labelled\n"
        "batch 32 + 3 x 32 unlabelled through the student, teacher on the 96 weak views, LAE k 3,\n"
        "feature dropout; change with --ssl-batch, --mu, --lae-kernel) on the model given.",
    .options = bench_options,
    .global_options = fc_cli_global_options};
// clang-format on

/* ---- printing as results come ---- */

static FILE *human; /* stdout, or stderr with --json */

static void print_section(void *user, const char *title) {
  (void)user;
  fprintf(human, "\n%s\n", title);
}

static void print_result(void *user, const fc_bench_result *r) {
  (void)user;
  if (r->unit && strcmp(r->unit, "us") == 0) {
    fprintf(human, "  %-52s %9.2f us  (median %.2f)\n", r->name, r->min_ms * 1e3,
            r->median_ms * 1e3);
  } else {
    char pct[32] = "";
    if (r->pct_peak >= 0) snprintf(pct, sizeof pct, "%5.1f%% of peak", r->pct_peak);
    fprintf(human, "  %-52s %9.3f ms  (median %9.3f)  %9.1f %-7s %s\n", r->name, r->min_ms,
            r->median_ms, r->rate, r->unit ? r->unit : "", pct);
  }
  fflush(human);
}

static void print_train(void *user, const fc_bench_train_result *r) {
  (void)user;
  fprintf(human, "  %-52s %8.3f s/step (median %.3f)  %8.1f img/s  (plan + warm-up %.1f s)\n",
          r->what, r->min_s, r->median_s, r->images / r->min_s, r->plan_s);
  fflush(human);
}

static void print_note(void *user, const char *line) {
  (void)user;
  fputs(line, human);
}

static fc_status model_config(fc_net_config *cfg) {
  fc_net_config_default(cfg);
  FC_TRY(fc_net_config_set_arch(cfg, fc_cli_arch_names[arch_choice]));
  cfg->in_channels = channels;
  cfg->input_size = input_size;
  cfg->width = width;
  cfg->stem = stem_choice == 1 ? FC_STEM_SMALL : FC_STEM_IMAGENET;
  return fc_net_config_check(cfg);
}

/* ---- output ---- */

/* ,"key":value */
static void json_number(FILE *o, const char *key, double value) {
  fprintf(o, ",\"%s\":", key);
  fc_json_write_number(o, value);
}

static void json_string(FILE *o, const char *key, const char *value) {
  fprintf(o, ",\"%s\":", key);
  fc_json_write_string(o, value);
}

static void print_json(const fc_device *dev, const fc_bench_report *rep) {
  FILE *o = stdout;
  fprintf(o, "{\"device\":");
  const fc_device_info *info = fc_device_get_info(dev);
  fc_json_write_string(o, info->name);
  json_string(o, "platform", info->platform_version);
  json_string(o, "driver", info->driver_version);
  fc_perf_tuning_info tuning;
  fc_perf_tuning_info_get(dev, &tuning);
  json_string(o, "gemm", tuning.gemm);
  fprintf(o, ",\"tuned\":%s", tuning.tuned ? "true" : "false");
  fprintf(o, ",\"peak\":{\"fma_scalar_gflops\":");
  fc_json_write_number(o, rep->peak_scalar);
  json_number(o, "fma_vector_gflops", rep->peak_vector);
  json_number(o, "copy_gbps", rep->peak_bw);
  fprintf(o, "},\"results\":[");
  for (int i = 0; i < rep->n_results; i++) {
    const fc_bench_result *r = &rep->results[i];
    fprintf(o, "%s\n {\"section\":", i ? "," : "");
    fc_json_write_string(o, r->section);
    json_string(o, "name", r->name);
    json_number(o, "min_ms", r->min_ms);
    json_number(o, "median_ms", r->median_ms);
    fprintf(o, ",\"reps\":%d", r->reps);
    if (r->unit && strcmp(r->unit, "us") != 0) {
      json_number(o, "rate", r->rate);
      json_string(o, "unit", r->unit);
    }
    if (r->pct_peak >= 0) json_number(o, "pct_peak", r->pct_peak);
    fprintf(o, "}");
  }
  fprintf(o, "],\"train\":[");
  for (int i = 0; i < rep->n_train; i++) {
    const fc_bench_train_result *r = &rep->train[i];
    fprintf(o, "%s\n {\"what\":", i ? "," : "");
    fc_json_write_string(o, r->what);
    fprintf(o,
            ",\"arch\":\"%s\",\"channels\":%d,\"input\":%d,\"stem\":\"%s\",\"width\":%g,\"images_"
            "per_step\":%d",
            fc_cli_arch_names[arch_choice], channels, input_size, fc_cli_stem_names[stem_choice],
            width, r->images);
    json_number(o, "min_s", r->min_s);
    json_number(o, "median_s", r->median_s);
    json_number(o, "mean_s", r->mean_s);
    json_number(o, "images_per_s", r->images / r->min_s);
    json_number(o, "images_per_s_median", r->images / r->median_s);
    json_number(o, "plan_s", r->plan_s);
    fprintf(o, "}");
  }
  fprintf(o, "]}\n");
}

/* --only: known section names, none empty; and not with --train. Sets *wanted
 * (FC_BENCH_*: bit i is sections[i]). */
static fc_status check_only(unsigned *wanted) {
  static const char *const sections[] = {"peak", "latency", "gemm", "conv", "ops", "faces", NULL};
  *wanted = FC_BENCH_ALL;
  if (!only) return FC_OK;
  if (train_mode)
    return fc_errorf(FC_ERR_USAGE,
                     "--only picks device and op sections; --train runs training steps only");
  *wanted = 0;
  for (const char *p = only;;) {
    const char *e = strchr(p, ',');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    int found = -1;
    for (int i = 0; sections[i] && found < 0; i++)
      if (strlen(sections[i]) == len && !strncmp(sections[i], p, len)) found = i;
    if (found < 0 && len == 0)
      return fc_errorf(
          FC_ERR_USAGE,
          "--only: an empty section name in '%s' (use peak, latency, gemm, conv, ops, faces, "
          "comma-separated)",
          only);
    if (found < 0)
      return fc_errorf(FC_ERR_USAGE,
                       "--only: unknown section '%.*s' (use peak, latency, gemm, conv, ops, faces)",
                       (int)len, p);
    *wanted |= 1u << found;
    if (!e) return FC_OK;
    p = e + 1;
  }
}

int fc_cmd_bench(int argc, char **argv) {
  fc_bench_config bc;
  fc_bench_config_default(&bc);
  ssl_batch = bc.ssl_batch;
  ssl_mu = bc.ssl_mu;
  lae_kernel = bc.lae_kernel;
  int rc = fc_cli_parse_no_args(&bench_spec, argc, argv, NULL);
  if (rc >= 0) return rc;
  /* Every argument is checked before the device opens and any work starts. */
  fc_status st = check_only(&bc.sections);
  if (st == FC_OK) st = model_config(&bc.model);
  if (st != FC_OK) return fc_cli_fail(st);
  bc.batch = batch;
  bc.steps = steps;
  bc.train = train_mode;
  bc.no_ssl = no_ssl;
  bc.no_supervised = no_supervised;
  bc.ssl_batch = ssl_batch;
  bc.ssl_mu = ssl_mu;
  bc.lae_kernel = lae_kernel;
  bc.budget_ms = budget_ms;
  bc.quick = quick;
  bc.no_clblast = no_clblast;
  bc.faces_photo = faces_photo;
  bc.faces_portrait = faces_portrait;
  bc.faces_detector = faces_detector;
  bc.sink = (fc_bench_sink){print_section, print_result, print_train, print_note, NULL};
  human = as_json ? stderr : stdout;
  fc_device *dev = NULL;
  st = fc_device_open_selected(fc_cli.device, profile_opt ? FC_DEVICE_OPEN_PROFILING : 0, &dev);
  if (st != FC_OK) return fc_cli_fail(st);
  const fc_device_info *info = fc_device_get_info(dev);
  fc_perf_tuning_info tuning;
  fc_perf_tuning_info_get(dev, &tuning);
  fprintf(human, "device: %s (%s; %u compute units @ %u MHz)\n", info->name, info->platform_version,
          info->compute_units, info->max_clock_mhz);
  fprintf(human, "gemm: %s, %s\n", tuning.gemm,
          tuning.tuned ? tuning.source : "default parameters (run fer-cl tune to tune)");
  fc_profile *profile = NULL;
  if (profile_opt) st = fc_profile_create(dev, &profile);
  bc.profile = profile;
  fc_bench_report rep;
  memset(&rep, 0, sizeof rep);
  if (st == FC_OK) st = fc_bench_run(dev, &bc, &rep);
  if (st == FC_OK && profile) {
    char csv[1100], trace[1100];
    snprintf(csv, sizeof csv, "%s/bench-profile.csv", out_dir);
    snprintf(trace, sizeof trace, "%s/bench-profile.trace.json", out_dir);
    st = fc_mkdir_p(out_dir);
    if (st == FC_OK) st = fc_profile_write(profile, csv, trace);
    if (st == FC_OK) {
      fprintf(human, "\n");
      fc_profile_print_summary(profile, human);
      fprintf(human, "\nprofile written to %s and %s (open the trace in ui.perfetto.dev)\n", csv,
              trace);
    }
  }
  if (st == FC_OK && as_json) print_json(dev, &rep);
  fc_profile_free(profile);
  fc_device_close(dev);
  fc_bench_report_free(&rep);
  if (st != FC_OK) return fc_cli_fail(st);
  return 0;
}
