/* fer-cl synth: write the synthetic face set as a folder-per-class PNG dataset. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "fercl/data.h"

static const char *out_dir = NULL;
static int count = 7000;
static int val_count = -1;
static int size = 48;
static int channels = 1;
static int seed = 1;
static int threads = 0;

/* Option tables and command specs keep one entry a line. */
// clang-format off
static const fc_option synth_options[] = {
    {.name = "out", .short_name = 'o', .type = FC_OPT_STRING, .target = &out_dir, .arg_name = "DIR",
     .help = "output folder (DIR/train/<class>/*.png, DIR/val/<class>/*.png)"},
    FC_OPTION_INT("count", &count, "N", "training images (spread evenly over the 7 classes)", 7, 5000000),
    FC_OPTION_INT("val-count", &val_count, "N", "validation images (-1 = count / 5)", -1, 5000000),
    FC_OPTION_INT("size", &size, "S", "image side in pixels", 8, 1024),
    FC_OPTION_INT("channels", &channels, "C", "1 (gray) or 3 (RGB)", 1, 3),
    FC_OPTION_INT("seed", &seed, "N", "random seed; the same seed gives the same images", 0, 2147483647.0),
    FC_OPTION_INT("threads", &threads, "N", "drawing threads (0 = all CPUs)", 0, 256),
    {0}};

static const fc_args_spec synth_spec = {
    .command = "synth",
    .usage = "--out DIR [--count N] [--size S] [--channels C] [--seed N]",
    .summary = "Draw synthetic faces of the 7 expressions (FER2013's class names) as a PNG folder dataset.",
    .details = "The same faces are what 'fer-cl train' uses when no --data is given; 'fer-cl data stats --data DIR'\n"
               "reads the written folder back.",
    .options = synth_options,
    .global_options = fc_cli_global_options};
// clang-format on

int fc_cmd_synth(int argc, char **argv) {
  int rc = fc_cli_parse_no_args(&synth_spec, argc, argv, "; use --out DIR");
  if (rc >= 0) return rc;
  if (!out_dir) {
    fprintf(stderr, "fer-cl: error: fer-cl synth needs --out DIR\n");
    return 2;
  }
  if (channels == 2) {
    fprintf(stderr, "fer-cl: error: --channels must be 1 or 3\n");
    return 2;
  }
  /* Into an empty or new folder only: same-named images would be replaced
   * and old ones mixed with the new set. */
  DIR *d = opendir(out_dir);
  if (d) {
    const char *entry = NULL;
    for (struct dirent *e; !entry && (e = readdir(d));)
      if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) entry = e->d_name;
    if (entry) {
      fprintf(stderr,
              "fer-cl: error: %s is not empty (it holds %s): fer-cl synth writes into a new or "
              "empty folder only, "
              "so a dataset never mixes two sets; choose another --out or empty it\n",
              out_dir, entry);
      closedir(d);
      return 2;
    }
    closedir(d);
  }
  fc_synth_config cfg;
  fc_synth_config_default(&cfg);
  cfg.train_count = count;
  cfg.val_count = val_count >= 0 ? val_count : count / 5;
  cfg.height = cfg.width = size;
  cfg.channels = channels;
  cfg.seed = (uint64_t)seed;
  cfg.threads = threads;
  fc_dataset *ds = NULL;
  fc_status st = fc_synth_generate(&cfg, &ds);
  if (st == FC_OK) st = fc_dataset_write_folder(ds, out_dir);
  if (st != FC_OK) {
    fc_dataset_free(ds);
    return fc_cli_fail(st);
  }
  printf("wrote %lld synthetic faces (%lld train, %lld val, %dx%d, %d channel%s, seed %d) to %s\n",
         (long long)ds->count, (long long)cfg.train_count, (long long)cfg.val_count, size, size,
         channels, channels == 1 ? "" : "s", seed, out_dir);
  fc_dataset_free(ds);
  return 0;
}
