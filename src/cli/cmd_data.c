/* fer-cl data: inspect a dataset (stats), measure the loader (bench), and
 * make a labelled split (split). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "fercl/data.h"
#include "fercl/json.h"
#include "fercl/log.h"

static const char *data_path = NULL;
static const char *unlabeled_path = NULL;
static int format_choice = 0;
static int size = 0;
static int channels = 0;
static int threads = 0;
static int strict = 0;
static int as_json = 0;
static int affectnet_classes = 7;
static int steps = 50;
static int batch_labeled = 64;
static int batch_unlabeled = 448;
static const char *loader_threads = "0,1,2";
static int seed = 1;
static int labels = 0;
static int labels_per_class = 0;
static const char *out_path = NULL;

static const char *const format_choices[] = {"auto",      "folder",    "fer2013-csv", "rafdb",
                                             "affectnet", "unlabeled", "synth",       NULL};

/* Option tables and command specs keep one entry a line. */
// clang-format off
static const fc_option data_options[] = {
    FC_OPTION_STRING("data", &data_path, "PATH", "dataset folder or file (bench and split default to synthetic faces)"),
    FC_OPTION_CHOICE("format", &format_choice, format_choices, "dataset layout"),
    FC_OPTION_STRING("unlabeled", &unlabeled_path, "DIR", "extra unlabelled images (any layout, recursive)"),
    FC_OPTION_INT("size", &size, "N", "resize to N x N at load (0 = the first image's size)", 0, 4096),
    FC_OPTION_INT("channels", &channels, "C", "1 (gray) or 3 (RGB); 0 = the first image's", 0, 3),
    FC_OPTION_INT("threads", &threads, "N", "decode threads (0 = all CPUs)", 0, 256),
    FC_OPTION_FLAG("strict", &strict, "an unreadable or corrupt image is an error instead of a skip"),
    FC_OPTION_INT("affectnet-classes", &affectnet_classes, "N", "AffectNet: 7 (drop contempt) or 8", 7, 8),
    FC_OPTION_FLAG("json", &as_json, "stats: print JSON"),
    FC_OPTION_INT("steps", &steps, "N", "bench: steps timed per setting", 1, 1000000),
    FC_OPTION_INT("batch-labeled", &batch_labeled, "N", "bench: labelled batch B_l", 0, 65536),
    FC_OPTION_INT("batch-unlabeled", &batch_unlabeled, "N", "bench: unlabelled batch B_u", 0, 65536),
    FC_OPTION_STRING("loader-threads", &loader_threads, "LIST", "bench: producer thread counts to time (0 = built in fc_loader_get)"),
    FC_OPTION_INT("seed", &seed, "N", "split/bench: random seed", 0, 2147483647.0),
    FC_OPTION_INT("labels", &labels, "N", "split: N labelled images, class-balanced", 0, 2147483647.0),
    FC_OPTION_INT("labels-per-class", &labels_per_class, "K", "split: K labelled images per class", 0, 2147483647.0),
    {.name = "out", .short_name = 'o', .type = FC_OPT_STRING, .target = &out_path, .arg_name = "FILE",
     .help = "split: where to write the labelled list"},
    {0}};

static const fc_args_spec data_spec = {
    .command = "data",
    .usage = "stats|bench|split --data PATH [options]",
    .summary = "Inspect a dataset, measure the batch loader, or choose a labelled split.",
    .details = "  stats  counts per split and class, image sizes as stored, unreadable files\n"
               "  bench  loader throughput (weak + strong batches) for each --loader-threads count\n"
               "  split  choose --labels N (or --labels-per-class K) training images and write the list to --out\n"
               "Formats: folder per class (root/<class>/, root/train|val|test/<class>/), FER2013 CSV,\n"
               "RAF-DB (EmoLabel/list_patition_label.txt), AffectNet (training.csv, validation.csv).",
    .options = data_options,
    .global_options = fc_cli_global_options};
// clang-format on

static fc_status load(fc_dataset **ds, int allow_synth) {
  if (!data_path || (format_choice == FC_DATA_SYNTH)) {
    if (!allow_synth && !data_path)
      return fc_errorf(FC_ERR_USAGE, "--data PATH is required (see 'fer-cl data --help')");
    fc_synth_config sc;
    fc_synth_config_default(&sc);
    if (size) sc.height = sc.width = size;
    if (channels) sc.channels = channels;
    sc.seed = (uint64_t)seed;
    sc.threads = threads;
    fc_log(FC_LOG_INFO, "no --data: using %lld synthetic faces",
           (long long)(sc.train_count + sc.val_count));
    return fc_synth_generate(&sc, ds);
  }
  fc_data_options o;
  fc_data_options_default(&o);
  o.format = (fc_data_format)format_choice;
  o.height = o.width = size;
  o.channels = channels;
  o.threads = threads;
  o.strict = strict;
  o.affectnet_classes = affectnet_classes;
  FC_TRY(fc_dataset_load(data_path, &o, ds));
  if (unlabeled_path) {
    fc_status st = fc_dataset_add_unlabeled(*ds, unlabeled_path, &o);
    if (st != FC_OK) {
      fc_dataset_free(*ds);
      *ds = NULL;
      return st;
    }
  }
  return FC_OK;
}

/* ---- stats ---- */

typedef struct size_count {
  int w, h, c;
  int64_t n;
} size_count;

static int by_count(const void *a, const void *b) {
  const size_count *x = a, *y = b;
  return (y->n > x->n) - (y->n < x->n);
}

static int stats(void) {
  fc_dataset *ds = NULL;
  double t0 = fc_cli_now_s();
  fc_status st = load(&ds, 0);
  if (st != FC_OK) return fc_cli_fail(st);
  double load_s = fc_cli_now_s() - t0;
  const int C = ds->class_count;
  int64_t per[FC_SPLIT_COUNT][C + 1], total[FC_SPLIT_COUNT];
  memset(per, 0, sizeof per);
  memset(total, 0, sizeof total);
  for (int64_t i = 0; i < ds->count; i++) {
    int s = ds->splits[i], y = ds->labels[i];
    total[s]++;
    per[s][y >= 0 && y < C ? y : C]++;
  }
  /* Distinct stored sizes, most common first. */
  size_count sizes[64];
  int nsizes = 0, more_sizes = 0;
  for (int64_t i = 0; i < ds->count; i++) {
    int k;
    for (k = 0; k < nsizes; k++)
      if (sizes[k].w == ds->file_width[i] && sizes[k].h == ds->file_height[i] &&
          sizes[k].c == ds->file_channels[i])
        break;
    if (k == nsizes) {
      if (nsizes == 64) {
        more_sizes = 1;
        continue;
      }
      sizes[nsizes++] =
          (size_count){ds->file_width[i], ds->file_height[i], ds->file_channels[i], 0};
    }
    sizes[k].n++;
  }
  qsort(sizes, (size_t)nsizes, sizeof *sizes, by_count);
  fc_index_list train = {0};
  fc_data_norm norm = {0};
  int have_norm = fc_dataset_split_indices(ds, FC_SPLIT_TRAIN, &train) == FC_OK &&
                  train.count > 0 && fc_data_norm_compute(ds, &train, &norm) == FC_OK;
  fc_index_list_free(&train);
  if (as_json) {
    printf("{\n  \"path\": ");
    fc_json_write_string(stdout, ds->root);
    printf(
        ",\n  \"format\": \"%s\",\n  \"decoded\": {\"channels\": %d, \"height\": %d, \"width\": "
        "%d},\n",
        fc_data_format_name(ds->format), ds->channels, ds->height, ds->width);
    printf("  \"classes\": [");
    for (int c = 0; c < C; c++) {
      printf("%s", c ? ", " : "");
      fc_json_write_string(stdout, ds->class_names[c]);
    }
    printf("],\n  \"images\": %lld,\n  \"splits\": {", (long long)ds->count);
    int first = 1;
    for (int s = 0; s < FC_SPLIT_COUNT; s++) {
      if (!total[s]) continue;
      printf("%s\n    \"%s\": {\"images\": %lld, \"per_class\": [", first ? "" : ",",
             fc_split_name((fc_split)s), (long long)total[s]);
      first = 0;
      for (int c = 0; c < C; c++) printf("%s%lld", c ? ", " : "", (long long)per[s][c]);
      printf("], \"unlabeled\": %lld}", (long long)per[s][C]);
    }
    printf("\n  },\n  \"stored_sizes\": [");
    for (int k = 0; k < nsizes; k++)
      printf("%s\n    {\"width\": %d, \"height\": %d, \"channels\": %d, \"images\": %lld}",
             k ? "," : "", sizes[k].w, sizes[k].h, sizes[k].c, (long long)sizes[k].n);
    printf("\n  ],\n  \"ignored_rows\": %lld,\n  \"unreadable\": [", (long long)ds->ignored_count);
    for (int64_t k = 0; k < ds->problem_count; k++) {
      printf("%s\n    {\"source\": ", k ? "," : "");
      fc_json_write_string(stdout, ds->problems[k].source);
      printf(", \"message\": ");
      fc_json_write_string(stdout, ds->problems[k].message);
      printf("}");
    }
    printf("\n  ]");
    if (have_norm) {
      printf(",\n  \"train_mean\": [");
      for (int c = 0; c < norm.channels; c++) {
        printf("%s", c ? ", " : "");
        fc_json_write_number(stdout, norm.mean[c]);
      }
      printf("],\n  \"train_std\": [");
      for (int c = 0; c < norm.channels; c++) {
        printf("%s", c ? ", " : "");
        fc_json_write_number(stdout, norm.std[c]);
      }
      printf("]");
    }
    printf(",\n  \"load_seconds\": ");
    fc_json_write_number(stdout, load_s);
    printf("\n}\n");
  } else {
    printf("dataset  %s (%s)\n", ds->root, fc_data_format_name(ds->format));
    printf("decoded  %lld images as %d x %d x %d (channels x height x width) in %.2f s\n\n",
           (long long)ds->count, ds->channels, ds->height, ds->width, load_s);
    int w = 10;
    for (int c = 0; c < C; c++)
      if ((int)strlen(ds->class_names[c]) + 1 > w) w = (int)strlen(ds->class_names[c]) + 1;
    printf("%-10s %8s", "split", "images");
    for (int c = 0; c < C; c++) printf(" %*s", w, ds->class_names[c]);
    printf("\n");
    for (int s = 0; s < FC_SPLIT_COUNT; s++) {
      if (!total[s]) continue;
      printf("%-10s %8lld", fc_split_name((fc_split)s), (long long)total[s]);
      for (int c = 0; c < C; c++) printf(" %*lld", w, (long long)per[s][c]);
      if (per[s][C]) printf("  (+%lld unlabelled)", (long long)per[s][C]);
      printf("\n");
    }
    printf("\nstored sizes:");
    for (int k = 0; k < nsizes && k < 10; k++)
      printf("%s %dx%d %s: %lld", k ? "," : "", sizes[k].w, sizes[k].h,
             sizes[k].c == 1 ? "gray" : "colour", (long long)sizes[k].n);
    if (nsizes > 10 || more_sizes) printf(", ... (more sizes)");
    printf("\n");
    if (ds->ignored_count)
      printf("ignored rows (format says skip): %lld\n", (long long)ds->ignored_count);
    printf("unreadable or corrupt files: %lld\n", (long long)ds->problem_count);
    for (int64_t k = 0; k < ds->problem_count; k++) printf("  %s\n", ds->problems[k].message);
    if (have_norm) {
      printf("train mean/std (of pixel/255):");
      for (int c = 0; c < norm.channels; c++) printf(" %.4f/%.4f", norm.mean[c], norm.std[c]);
      printf("\n");
    }
  }
  fc_dataset_free(ds);
  return 0;
}

/* ---- bench ---- */

static int bench(void) {
  fc_dataset *ds = NULL;
  fc_status st = load(&ds, 1);
  if (st != FC_OK) return fc_cli_fail(st);
  fc_index_list train = {0};
  st = fc_dataset_split_indices(ds, FC_SPLIT_TRAIN, &train);
  if (st == FC_OK && train.count == 0)
    st = fc_errorf(FC_ERR_INVALID_ARG, "%s has no training images", ds->root);
  if (st != FC_OK) {
    fc_dataset_free(ds);
    return fc_cli_fail(st);
  }
  printf(
      "loader bench: %s, %lld training images of %dx%dx%d, B_l=%d, B_u=%d (%d augmented images per "
      "step: "
      "x_l weak, u weak, u strong), %d steps per setting\n",
      ds->root, (long long)train.count, ds->channels, ds->height, ds->width, batch_labeled,
      batch_unlabeled, batch_labeled + 2 * batch_unlabeled, steps);
  printf("%-26s %12s %14s %12s\n", "setting", "steps/s", "images/s", "ms/step");
  int rc = 0;
  const char *p = loader_threads;
  while (p && *p) {
    char *end = NULL;
    long t = strtol(p, &end, 10);
    if (end == p || t < 0 || t > 256) {
      fprintf(stderr, "fer-cl: error: --loader-threads '%s': expected numbers like 0,1,2\n",
              loader_threads);
      rc = 2;
      break;
    }
    p = *end == ',' ? end + 1 : end;
    for (int helps = 0; helps <= 1; helps++) {
      if (t == 0 && helps == 0) continue; /* with no producer the caller does it all */
      if (t > 0 && helps == 1)
        continue; /* producers only: the trainer's thread waits on the device */
      fc_loader_config lc;
      fc_loader_config_init(&lc, ds, &train, &train, batch_labeled, batch_unlabeled);
      lc.seed = (uint64_t)seed;
      lc.threads = (int)t;
      lc.consumer_helps = helps;
      fc_loader *loader = NULL;
      st = fc_loader_create(&lc, &loader);
      if (st != FC_OK) {
        rc = fc_cli_fail(st);
        break;
      }
      const fc_batch *b = NULL;
      uint64_t checksum = 0;
      /* Warm-up step (first touches of the buffers), then the timed run. */
      st = fc_loader_get(loader, 0, &b);
      if (st == FC_OK) fc_loader_release(loader, b);
      double t0 = fc_cli_now_s();
      for (int64_t s = 1; s <= steps && st == FC_OK; s++) {
        st = fc_loader_get(loader, s, &b);
        if (st != FC_OK) break;
        checksum += b->data[(size_t)s % b->bytes];
        fc_loader_release(loader, b);
      }
      double dt = fc_cli_now_s() - t0;
      fc_loader_free(loader);
      if (st != FC_OK) {
        rc = fc_cli_fail(st);
        break;
      }
      char name[64];
      if (t == 0)
        snprintf(name, sizeof name, "threads 0 (in caller)");
      else
        snprintf(name, sizeof name, "threads %ld (producers only)", t);
      double sps = steps / dt;
      printf("%-26s %12.1f %14.0f %12.2f\n", name, sps,
             sps * (batch_labeled + 2.0 * batch_unlabeled), 1000.0 * dt / steps);
      fc_log(FC_LOG_DEBUG, "checksum %llu", (unsigned long long)checksum);
    }
    if (rc) break;
  }
  fc_index_list_free(&train);
  fc_dataset_free(ds);
  return rc;
}

/* ---- split ---- */

static int split(void) {
  if (!out_path) {
    fprintf(stderr, "fer-cl: error: data split needs --out FILE for the labelled list\n");
    return 2;
  }
  fc_dataset *ds = NULL;
  fc_status st = load(&ds, 0);
  if (st != FC_OK) return fc_cli_fail(st);
  fc_label_split_config sc;
  fc_label_split_config_default(&sc);
  sc.labels = labels;
  sc.labels_per_class = labels_per_class;
  sc.seed = (uint64_t)seed;
  fc_index_list l = {0}, u = {0};
  st = fc_label_split(ds, &sc, &l, &u);
  if (st == FC_OK) st = fc_label_split_write(out_path, ds, &l);
  if (st == FC_OK) {
    int64_t counts[ds->class_count > 0 ? ds->class_count : 1];
    fc_dataset_class_counts(ds, &l, counts);
    printf("wrote %lld labelled images to %s (", (long long)l.count, out_path);
    for (int c = 0; c < ds->class_count; c++)
      printf("%s%s %lld", c ? ", " : "", ds->class_names[c], (long long)counts[c]);
    printf("); %lld images stay unlabelled\n", (long long)u.count);
  }
  fc_index_list_free(&l);
  fc_index_list_free(&u);
  fc_dataset_free(ds);
  return st == FC_OK ? 0 : fc_cli_fail(st);
}

int fc_cmd_data(int argc, char **argv) {
  char *positional[argc > 0 ? argc : 1];
  int npos = 0;
  int rc = fc_cli_parse(&data_spec, argc, argv, positional, &npos);
  if (rc >= 0) return rc;
  if (npos != 1) {
    fprintf(stderr,
            "fer-cl: error: fer-cl data takes one action: stats, bench or split (see 'fer-cl data "
            "--help')\n");
    return 2;
  }
  if (!strcmp(positional[0], "stats")) return stats();
  if (!strcmp(positional[0], "bench")) return bench();
  if (!strcmp(positional[0], "split")) return split();
  fprintf(stderr, "fer-cl: error: unknown data action '%s'; use stats, bench or split\n",
          positional[0]);
  return 2;
}
