/* Loading datasets: format detection, decoding, and the dataset object. */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "core/hash.h"
#include "data/internal.h"
#include "fercl/fileio.h"
#include "fercl/log.h"

static const char *const format_names[FC_DATA_FORMAT_COUNT] = {
    [FC_DATA_AUTO] = "auto",
    [FC_DATA_FOLDER] = "folder",
    [FC_DATA_FER2013_CSV] = "fer2013-csv",
    [FC_DATA_RAFDB] = "rafdb",
    [FC_DATA_AFFECTNET] = "affectnet",
    [FC_DATA_UNLABELED] = "unlabeled",
    [FC_DATA_SYNTH] = "synth"};

const char *fc_data_format_name(fc_data_format format) {
  return (int)format >= 0 && format < FC_DATA_FORMAT_COUNT ? format_names[format] : "unknown";
}

fc_status fc_data_format_parse(const char *name, fc_data_format *out) {
  for (int i = 0; i < FC_DATA_FORMAT_COUNT; i++) {
    if (!strcasecmp(name, format_names[i])) {
      *out = (fc_data_format)i;
      return FC_OK;
    }
  }
  return fc_errorf(FC_ERR_INVALID_ARG,
                   "unknown dataset format '%s'; use auto, folder, fer2013-csv, rafdb, affectnet, "
                   "unlabeled or synth",
                   name);
}

const char *fc_split_name(fc_split split) {
  static const char *const names[FC_SPLIT_COUNT] = {"train", "val", "test", "unlabeled"};
  return (int)split >= 0 && split < FC_SPLIT_COUNT ? names[split] : "unknown";
}

void fc_data_options_default(fc_data_options *options) {
  memset(options, 0, sizeof *options);
  options->format = FC_DATA_AUTO;
  options->affectnet_classes = 7;
  options->affectnet_crop = 1;
  options->max_bytes = 16ull << 30;
}

/* ---- format detection ---- */

static fc_status csv_kind(const char *path, fc_data_format *out) {
  fc_line_reader r;
  FC_TRY(fc_line_reader_open(&r, path));
  char *line = NULL;
  fc_status st = fc_line_reader_next(&r, 1 << 16, &line);
  if (st == FC_OK) {
    if (!line) {
      st = fc_errorf(FC_ERR_FORMAT, "%s is empty", path);
    } else {
      char *f[16];
      int n = fc_csv_split(line, f, 16);
      int pixels = 0;
      for (int i = 0; i < n && i < 16; i++) {
        const char *s = f[i];
        while (*s == ' ') s++;
        if (!strcasecmp(s, "pixels")) pixels = 1;
      }
      if (pixels)
        *out = FC_DATA_FER2013_CSV;
      else if (!strcasecmp(f[0], "subDirectory_filePath") ||
               (n >= 7 && strchr(f[0], '/') && fc_has_image_extension(f[0])))
        *out = FC_DATA_AFFECTNET;
      else
        st = fc_errorf(FC_ERR_FORMAT,
                       "%s: cannot tell which CSV this is; expected FER2013 (emotion,pixels,Usage) "
                       "or AffectNet "
                       "(subDirectory_filePath,face_x,...); pass --format",
                       path);
    }
  }
  fc_line_reader_close(&r);
  return st;
}

static const char *const fer2013_csv_names[] = {"fer2013.csv", "icml_face_data.csv",
                                                "fer2013/fer2013.csv"};

fc_status fc_data_format_detect(const char *path, fc_data_format *out) {
  if (fc_is_file(path)) {
    const char *name = strrchr(path, '/');
    name = name ? name + 1 : path;
    if (!strcmp(name, "list_patition_label.txt")) {
      *out = FC_DATA_RAFDB;
      return FC_OK;
    }
    const char *dot = strrchr(name, '.');
    if (dot && !strcasecmp(dot, ".csv")) return csv_kind(path, out);
    return fc_errorf(
        FC_ERR_FORMAT,
        "%s: a dataset file must be a FER2013 or AffectNet CSV or RAF-DB's list_patition_label.txt",
        path);
  }
  if (!fc_is_dir(path)) return fc_errorf(FC_ERR_NOT_FOUND, "dataset %s does not exist", path);
  char *p = fc_path_join(path, "EmoLabel/list_patition_label.txt");
  int rafdb = p && fc_is_file(p);
  free(p);
  if (rafdb) {
    *out = FC_DATA_RAFDB;
    return FC_OK;
  }
  char *t = fc_path_join(path, "training.csv"), *v = fc_path_join(path, "validation.csv");
  int affectnet = (t && fc_is_file(t)) || (v && fc_is_file(v));
  free(t);
  free(v);
  if (affectnet) {
    *out = FC_DATA_AFFECTNET;
    return FC_OK;
  }
  for (size_t i = 0; i < sizeof fer2013_csv_names / sizeof fer2013_csv_names[0]; i++) {
    char *c = fc_path_join(path, fer2013_csv_names[i]);
    int found = c && fc_is_file(c);
    free(c);
    if (found) {
      *out = FC_DATA_FER2013_CSV;
      return FC_OK;
    }
  }
  fc_name_list dirs, files;
  FC_TRY(fc_list_dir(path, 1, &dirs));
  fc_status st = fc_list_dir(path, 0, &files);
  if (st != FC_OK) {
    fc_name_list_free(&dirs);
    return st;
  }
  size_t images = 0;
  for (size_t i = 0; i < files.count; i++) images += fc_has_image_extension(files.names[i]) != 0;
  if (dirs.count > 0) {
    *out = FC_DATA_FOLDER;
  } else if (images > 0) {
    st = fc_errorf(
        FC_ERR_FORMAT,
        "%s holds images but no class folders, so it has no labels; use it as an unlabelled pool "
        "(--format unlabeled / --unlabeled) or sort it into %s/<class>/",
        path, path);
  } else {
    st = fc_errorf(
        FC_ERR_FORMAT,
        "cannot tell the layout of %s: expected <class>/*.jpg folders, train/<class>/..., "
        "fer2013.csv, "
        "EmoLabel/list_patition_label.txt (RAF-DB) or training.csv (AffectNet); pass --format",
        path);
  }
  fc_name_list_free(&dirs);
  fc_name_list_free(&files);
  return st;
}

/* ---- loading ---- */

static fc_status parse_items(const char *path, fc_data_format format,
                             const fc_data_options *options, fc_item_list *items) {
  switch (format) {
  case FC_DATA_FOLDER: return fc_format_folder(path, items);
  case FC_DATA_UNLABELED: return fc_format_unlabeled(path, items);
  case FC_DATA_RAFDB: return fc_format_rafdb(path, items);
  case FC_DATA_AFFECTNET: return fc_format_affectnet(path, options, items);
  case FC_DATA_FER2013_CSV:
    if (fc_is_dir(path)) {
      for (size_t i = 0; i < sizeof fer2013_csv_names / sizeof fer2013_csv_names[0]; i++) {
        char *c = fc_path_join(path, fer2013_csv_names[i]);
        if (c && fc_is_file(c)) {
          fc_status st = fc_format_fer2013_csv(c, items);
          free(c);
          return st;
        }
        free(c);
      }
      return fc_errorf(FC_ERR_NOT_FOUND, "%s has no fer2013.csv", path);
    }
    return fc_format_fer2013_csv(path, items);
  case FC_DATA_SYNTH:
    return fc_errorf(FC_ERR_INVALID_ARG,
                     "synthetic faces are generated (fc_synth_generate), not loaded from %s", path);
  default: return fc_errorf(FC_ERR_INVALID_ARG, "unknown dataset format %d", (int)format);
  }
}

fc_status fc_dataset_load(const char *path, const fc_data_options *options, fc_dataset **out) {
  *out = NULL;
  fc_data_options defaults;
  if (!options) {
    fc_data_options_default(&defaults);
    options = &defaults;
  }
  if (!path || !*path) return fc_errorf(FC_ERR_INVALID_ARG, "no dataset path given");
  if (options->channels != 0 && options->channels != 1 && options->channels != 3)
    return fc_errorf(FC_ERR_INVALID_ARG, "%d input channels: use 1 (gray) or 3 (RGB)",
                     options->channels);
  if (options->height < 0 || options->width < 0 || options->height > 4096 || options->width > 4096)
    return fc_errorf(FC_ERR_INVALID_ARG, "input size %dx%d is out of range (1..4096)",
                     options->width, options->height);
  fc_data_format format = options->format;
  if (format == FC_DATA_AUTO) FC_TRY(fc_data_format_detect(path, &format));
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  fc_item_list items;
  memset(&items, 0, sizeof items);
  fc_status st = parse_items(path, format, options, &items);
  if (st != FC_OK) {
    fc_items_free(&items);
    return st;
  }
  fc_dataset *ds = calloc(1, sizeof *ds);
  if (!ds) {
    fc_items_free(&items);
    return fc_errorf(FC_ERR_NOMEM, "out of memory");
  }
  ds->root = fc_strdup(path);
  ds->format = format;
  ds->class_count = items.class_count;
  ds->class_names = items.class_names;
  ds->ignored_count = items.ignored;
  items.class_names = NULL;
  items.class_count = 0;
  st = ds->root ? fc_items_decode(&items, options, ds) : fc_errorf(FC_ERR_NOMEM, "out of memory");
  fc_items_free(&items);
  if (st != FC_OK) {
    fc_dataset_free(ds);
    return fc_error_context(st, "loading %s", path);
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  fc_log(FC_LOG_DEBUG, "loaded %s (%s): %lld images, %dx%dx%d, in %.2f s", path,
         fc_data_format_name(format), (long long)ds->count, ds->channels, ds->height, ds->width,
         (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec));
  *out = ds;
  return FC_OK;
}

/* 1 when folder a is b or lies inside it (both resolved paths). */
static int path_within(const char *a, const char *b) {
  size_t n = strlen(b);
  if (n == 1 && b[0] == '/') return 1;
  return !strncmp(a, b, n) && (a[n] == '\0' || a[n] == '/');
}

/* The unlabelled folder must not overlap a folder dataset: its validation
 * (and labelled) images would enter the unlabelled pool. */
static fc_status check_unlabeled_apart(const fc_dataset *ds, const char *dir) {
  struct stat sb;
  if (!ds->root || stat(ds->root, &sb) != 0 || !S_ISDIR(sb.st_mode))
    return FC_OK; /* a CSV holds its images */
  char *u = realpath(dir, NULL), *d = realpath(ds->root, NULL);
  fc_status st = FC_OK;
  if (u && d && (path_within(u, d) || path_within(d, u)))
    st = fc_errorf(
        FC_ERR_INVALID_ARG,
        "--unlabeled %s overlaps the dataset %s (%s): its validation and labelled images would "
        "enter the "
        "unlabelled pool. The dataset's own unlabelled training images are used already; point "
        "--unlabeled at a folder outside it",
        dir, ds->root,
        !strcmp(u, d)       ? "it is the dataset's folder"
        : path_within(u, d) ? "it lies inside the dataset"
                            : "it holds the dataset");
  free(u);
  free(d);
  return st;
}

fc_status fc_dataset_add_unlabeled(fc_dataset *ds, const char *dir,
                                   const fc_data_options *options) {
  fc_data_options defaults;
  if (!options) {
    fc_data_options_default(&defaults);
    options = &defaults;
  }
  if (!ds || ds->count == 0 || !ds->channels)
    return fc_errorf(FC_ERR_INVALID_ARG,
                     "unlabelled images are added to a loaded dataset; load one first");
  FC_TRY(check_unlabeled_apart(ds, dir));
  fc_item_list items;
  memset(&items, 0, sizeof items);
  fc_status st = fc_format_unlabeled(dir, &items);
  if (st == FC_OK) st = fc_items_decode(&items, options, ds);
  fc_items_free(&items);
  return fc_error_context(st, "adding unlabelled images from %s", dir);
}

void fc_dataset_free(fc_dataset *ds) {
  if (!ds) return;
  free(ds->root);
  for (int i = 0; i < ds->class_count; i++) free(ds->class_names[i]);
  free(ds->class_names);
  if (ds->sources)
    for (int64_t i = 0; i < ds->count; i++) free(ds->sources[i]);
  free(ds->sources);
  free(ds->pixels);
  free(ds->labels);
  free(ds->splits);
  free(ds->file_width);
  free(ds->file_height);
  free(ds->file_channels);
  for (int64_t i = 0; i < ds->problem_count; i++) {
    free(ds->problems[i].source);
    free(ds->problems[i].message);
  }
  free(ds->problems);
  free(ds);
}

/* ---- index lists and views ---- */

void fc_index_list_free(fc_index_list *list) {
  if (!list) return;
  free(list->index);
  list->index = NULL;
  list->count = 0;
}

fc_status fc_dataset_split_indices(const fc_dataset *ds, fc_split split, fc_index_list *out) {
  out->index = NULL;
  out->count = 0;
  int64_t n = 0;
  for (int64_t i = 0; i < ds->count; i++) n += ds->splits[i] == split;
  out->index = malloc((size_t)(n > 0 ? n : 1) * sizeof(int64_t));
  if (!out->index) return fc_errorf(FC_ERR_NOMEM, "out of memory");
  for (int64_t i = 0; i < ds->count; i++)
    if (ds->splits[i] == split) out->index[out->count++] = i;
  return FC_OK;
}

void fc_dataset_class_counts(const fc_dataset *ds, const fc_index_list *list, int64_t *counts) {
  for (int c = 0; c < ds->class_count; c++) counts[c] = 0;
  for (int64_t k = 0; k < list->count; k++) {
    int32_t y = ds->labels[list->index[k]];
    if (y >= 0 && y < ds->class_count) counts[y]++;
  }
}

void fc_dataset_gather(const fc_dataset *ds, const int64_t *idx, int64_t n, uint8_t *dst) {
  size_t bytes = fc_dataset_image_bytes(ds);
  for (int64_t k = 0; k < n; k++)
    memcpy(dst + (size_t)k * bytes, fc_dataset_image(ds, idx[k]), bytes);
}

/* ---- writing a folder dataset ---- */

/* The file stem of a source, with anything unusual replaced by '_'. */
static void stem_of(const char *source, char *out, size_t size) {
  const char *b = strrchr(source, '/');
  b = b ? b + 1 : source;
  const char *dot = strrchr(b, '.');
  size_t n = dot && dot != b && fc_has_image_extension(b) ? (size_t)(dot - b) : strlen(b);
  if (n > size - 1) n = size - 1;
  for (size_t i = 0; i < n; i++) {
    char c = b[i];
    int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '-' || c == '_' || c == '.';
    out[i] = ok ? c : '_';
  }
  out[n] = '\0';
  if (n == 0) snprintf(out, size, "image");
}

typedef struct write_job {
  const fc_dataset *ds;
  char **paths;
  atomic_llong next;
  atomic_int failed;
  pthread_mutex_t mutex;
  int64_t first_failed; /* lowest failing index, for a deterministic message */
  char message[1024];
} write_job;

static void *write_worker(void *arg) {
  write_job *job = arg;
  const fc_dataset *ds = job->ds;
  for (;;) {
    int64_t i = atomic_fetch_add(&job->next, 1);
    if (i >= ds->count || atomic_load(&job->failed)) break;
    fc_image img = {.data = (uint8_t *)fc_dataset_image(ds, i),
                    .channels = ds->channels,
                    .height = ds->height,
                    .width = ds->width};
    if (fc_image_write_png(job->paths[i], &img) != FC_OK) {
      pthread_mutex_lock(&job->mutex);
      if (job->first_failed < 0 || i < job->first_failed) {
        job->first_failed = i;
        snprintf(job->message, sizeof job->message, "%s", fc_last_error());
      }
      pthread_mutex_unlock(&job->mutex);
      atomic_store(&job->failed, 1);
    }
  }
  return NULL;
}

fc_status fc_dataset_write_folder(const fc_dataset *ds, const char *dir) {
  /* First every name (colliding stems get a numeric suffix) and folder, in
   * order; then the files, on several threads: each one is fsynced
   * (temp-then-rename), so the writes wait on the disk more than on the CPU. */
  size_t cap = 1;
  while (cap < (size_t)ds->count * 2 + 16) cap <<= 1;
  uint64_t *used = calloc(cap, sizeof *used);
  uint8_t *made = calloc((size_t)FC_SPLIT_COUNT * (size_t)(ds->class_count + 1), 1);
  char **paths = calloc((size_t)(ds->count > 0 ? ds->count : 1), sizeof *paths);
  fc_status st = FC_OK;
  if (!used || !made || !paths) st = fc_errorf(FC_ERR_NOMEM, "out of memory");
  for (int64_t i = 0; i < ds->count && st == FC_OK; i++) {
    int split = ds->splits[i] < FC_SPLIT_COUNT ? ds->splits[i] : FC_SPLIT_UNLABELED;
    int label = ds->labels[i];
    int unlabeled = label < 0 || label >= ds->class_count;
    char sub[3072];
    int len = unlabeled ? snprintf(sub, sizeof sub, "%s/unlabeled", dir)
                        : snprintf(sub, sizeof sub, "%s/%s/%s", dir, fc_split_name((fc_split)split),
                                   ds->class_names[label]);
    if (len < 0 || (size_t)len + 256 >= sizeof sub) {
      st = fc_errorf(FC_ERR_LIMIT, "output folder name %s is too long", dir);
      break;
    }
    size_t mk = (size_t)split * (size_t)(ds->class_count + 1) +
                (size_t)(unlabeled ? ds->class_count : label);
    if (!made[mk]) {
      st = fc_mkdir_p(sub);
      if (st != FC_OK) break;
      made[mk] = 1;
    }
    char stem[200], path[sizeof sub + 220];
    stem_of(ds->sources[i], stem, sizeof stem);
    for (int attempt = 0;; attempt++) {
      if (attempt == 0)
        snprintf(path, sizeof path, "%s/%s.png", sub, stem);
      else
        snprintf(path, sizeof path, "%s/%s_%d.png", sub, stem, attempt);
      uint64_t h = fc_hash_string(FC_HASH_INIT, path) | 1;
      size_t slot = (size_t)h & (cap - 1);
      int taken = 0;
      while (used[slot]) {
        if (used[slot] == h) {
          taken = 1;
          break;
        }
        slot = (slot + 1) & (cap - 1);
      }
      if (!taken) {
        used[slot] = h;
        break;
      }
    }
    paths[i] = fc_strdup(path);
    if (!paths[i]) st = fc_errorf(FC_ERR_NOMEM, "out of memory");
  }
  if (st == FC_OK && ds->count > 0) {
    write_job job = {.ds = ds, .paths = paths, .first_failed = -1};
    atomic_init(&job.next, 0);
    atomic_init(&job.failed, 0);
    pthread_mutex_init(&job.mutex, NULL);
    int threads = fc_cpu_count() * 4;
    if (threads > 16) threads = 16;
    if (threads > ds->count) threads = (int)ds->count;
    pthread_t tids[16];
    int started = 0;
    for (int t = 1; t < threads; t++)
      if (pthread_create(&tids[started], NULL, write_worker, &job) == 0) started++;
    write_worker(&job);
    for (int t = 0; t < started; t++) pthread_join(tids[t], NULL);
    pthread_mutex_destroy(&job.mutex);
    if (atomic_load(&job.failed)) st = fc_errorf(FC_ERR_IO, "%s", job.message);
  }
  if (paths)
    for (int64_t i = 0; i < ds->count; i++) free(paths[i]);
  free(paths);
  free(used);
  free(made);
  return st;
}

/* ---- normalisation ---- */

fc_status fc_data_norm_compute(const fc_dataset *ds, const fc_index_list *list, fc_data_norm *out) {
  memset(out, 0, sizeof *out);
  if (!list || list->count == 0)
    return fc_errorf(FC_ERR_INVALID_ARG, "mean/std of an empty image list");
  if (ds->channels < 1 || ds->channels > 3)
    return fc_errorf(FC_ERR_INVALID_ARG, "%d channels", ds->channels);
  out->channels = ds->channels;
  size_t plane = (size_t)ds->height * (size_t)ds->width;
  for (int c = 0; c < ds->channels; c++) {
    /* Exact integer sums: no rounding drift over millions of pixels. */
    uint64_t sum = 0, sum2 = 0;
    for (int64_t k = 0; k < list->count; k++) {
      const uint8_t *p = fc_dataset_image(ds, list->index[k]) + (size_t)c * plane;
      uint32_t s = 0, s2 = 0;
      for (size_t i = 0; i < plane; i++) {
        s += p[i];
        s2 += (uint32_t)p[i] * p[i];
        if ((i & 0xfff) == 0xfff) { /* keep the 32-bit partial sums from overflowing */
          sum += s;
          sum2 += s2;
          s = s2 = 0;
        }
      }
      sum += s;
      sum2 += s2;
    }
    double n = (double)list->count * (double)plane;
    double mean = (double)sum / n / 255.0;
    double var = (double)sum2 / n / (255.0 * 255.0) - mean * mean;
    out->mean[c] = (float)mean;
    out->std[c] = (float)sqrt(var > 1e-12 ? var : 1e-12);
  }
  return FC_OK;
}

void fc_data_norm_default(int channels, fc_data_norm *out) {
  memset(out, 0, sizeof *out);
  if (channels == 1) {
    out->channels = 1;
    out->mean[0] = 0.4590f;
    out->std[0] = 0.2256f;
    return;
  }
  out->channels = 3;
  out->mean[0] = 0.485f;
  out->mean[1] = 0.456f;
  out->mean[2] = 0.406f;
  out->std[0] = 0.229f;
  out->std[1] = 0.224f;
  out->std[2] = 0.225f;
}
