/* Decoding a parsed item list into a dataset, on several threads. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "data/internal.h"
#include "fercl/log.h"

static void item_clear(fc_item *item) {
  free(item->path);
  free(item->source);
  free(item->raw);
  free(item->error);
  memset(item, 0, sizeof *item);
}

fc_status fc_items_push(fc_item_list *list, fc_item *item) {
  if (!item->source) {
    item_clear(item);
    return fc_errorf(FC_ERR_NOMEM, "out of memory listing images");
  }
  if (list->count == list->capacity) {
    int64_t cap = list->capacity ? list->capacity * 2 : 1024;
    fc_item *n = realloc(list->items, (size_t)cap * sizeof *n);
    if (!n) {
      item_clear(item);
      return fc_errorf(FC_ERR_NOMEM, "out of memory listing images");
    }
    list->items = n;
    list->capacity = cap;
  }
  list->items[list->count++] = *item;
  memset(item, 0, sizeof *item);
  return FC_OK;
}

fc_status fc_items_set_classes(fc_item_list *list, int count, const char *const *names) {
  char **copy = calloc((size_t)(count > 0 ? count : 1), sizeof *copy);
  if (!copy) return fc_errorf(FC_ERR_NOMEM, "out of memory");
  for (int i = 0; i < count; i++) {
    copy[i] = fc_strdup(names[i]);
    if (!copy[i]) {
      for (int j = 0; j < i; j++) free(copy[j]);
      free(copy);
      return fc_errorf(FC_ERR_NOMEM, "out of memory");
    }
  }
  for (int i = 0; i < list->class_count; i++) free(list->class_names[i]);
  free(list->class_names);
  list->class_names = copy;
  list->class_count = count;
  return FC_OK;
}

void fc_items_free(fc_item_list *list) {
  for (int64_t i = 0; i < list->count; i++) item_clear(&list->items[i]);
  free(list->items);
  for (int i = 0; i < list->class_count; i++) free(list->class_names[i]);
  free(list->class_names);
  memset(list, 0, sizeof *list);
}

/* ---- decoding ---- */

typedef struct decode_job {
  fc_item_list *list;
  fc_dataset *ds;
  int64_t base;      /* first slot of this list in ds */
  atomic_llong next; /* next item to take */
  atomic_int stop;   /* strict mode: a failure stops everyone */
  int strict;
  char **errors; /* [count] message of each failed item, NULL when fine */
  uint8_t *ok;   /* [count] */
} decode_job;

static fc_status decode_one(const fc_item *item, const fc_dataset *ds, fc_image *out,
                            fc_image_info *info) {
  fc_decode_request req = {.channels = ds->channels,
                           .height = ds->height,
                           .width = ds->width,
                           .crop_x = item->crop_x,
                           .crop_y = item->crop_y,
                           .crop_w = item->crop_w,
                           .crop_h = item->crop_h};
  if (item->error) return fc_errorf(FC_ERR_FORMAT, "%s", item->error);
  if (item->path) return fc_image_load(item->path, &req, out, info);
  /* Raw gray pixels (FER2013 CSV). */
  fc_image gray = {
      .data = item->raw, .channels = 1, .height = item->raw_height, .width = item->raw_width};
  memset(info, 0, sizeof *info);
  info->width = item->raw_width;
  info->height = item->raw_height;
  info->channels = 1;
  info->bit_depth = 8;
  info->format = "csv";
  int C = req.channels ? req.channels : 1;
  int H = req.height ? req.height : gray.height, W = req.width ? req.width : gray.width;
  fc_image conv;
  FC_TRY(fc_image_alloc(&conv, C, gray.height, gray.width));
  size_t plane = (size_t)gray.height * (size_t)gray.width;
  for (int c = 0; c < C; c++) memcpy(conv.data + (size_t)c * plane, gray.data, plane);
  if (H == gray.height && W == gray.width) {
    *out = conv;
    return FC_OK;
  }
  fc_status st = fc_image_alloc(out, C, H, W);
  if (st == FC_OK) st = fc_image_resize(&conv, out);
  fc_image_free(&conv);
  if (st != FC_OK) fc_image_free(out);
  return st;
}

static void store(fc_dataset *ds, int64_t slot, const fc_item *item, const fc_image *img,
                  const fc_image_info *info) {
  memcpy(ds->pixels + (size_t)slot * fc_dataset_image_bytes(ds), img->data,
         fc_dataset_image_bytes(ds));
  ds->labels[slot] = item->label;
  ds->splits[slot] = item->split;
  ds->file_width[slot] = info->width;
  ds->file_height[slot] = info->height;
  ds->file_channels[slot] = (uint8_t)info->channels;
}

static void *decode_worker(void *arg) {
  decode_job *job = arg;
  for (;;) {
    if (atomic_load(&job->stop)) break;
    int64_t i = atomic_fetch_add(&job->next, 1);
    if (i >= job->list->count) break;
    if (job->ok[i]) continue; /* decoded up front (the first image) */
    const fc_item *item = &job->list->items[i];
    fc_image img;
    fc_image_info info;
    fc_status st = decode_one(item, job->ds, &img, &info);
    if (st == FC_OK) {
      store(job->ds, job->base + i, item, &img, &info);
      fc_image_free(&img);
      job->ok[i] = 1;
    } else {
      job->errors[i] = fc_strdup(fc_last_error());
      if (!job->errors[i]) job->errors[i] = fc_strprintf("%s", "out of memory");
      if (job->strict) atomic_store(&job->stop, 1);
    }
  }
  return NULL;
}

static fc_status grow_dataset(fc_dataset *ds, int64_t total) {
  size_t bytes = fc_dataset_image_bytes(ds);
#define GROW(field, elem)                                                                       \
  do {                                                                                          \
    void *p_ = realloc(ds->field, (size_t)(total > 0 ? total : 1) * (elem));                    \
    if (!p_) return fc_errorf(FC_ERR_NOMEM, "out of memory for %lld images", (long long)total); \
    ds->field = p_;                                                                             \
  } while (0)
  GROW(pixels, bytes);
  GROW(labels, sizeof(int32_t));
  GROW(splits, sizeof(uint8_t));
  GROW(sources, sizeof(char *));
  GROW(file_width, sizeof(int32_t));
  GROW(file_height, sizeof(int32_t));
  GROW(file_channels, sizeof(uint8_t));
#undef GROW
  return FC_OK;
}

static fc_status add_problem(fc_dataset *ds, const char *source, const char *message) {
  fc_data_problem *p = realloc(ds->problems, (size_t)(ds->problem_count + 1) * sizeof *p);
  if (!p) return fc_errorf(FC_ERR_NOMEM, "out of memory");
  ds->problems = p;
  p[ds->problem_count].source = fc_strdup(source);
  p[ds->problem_count].message = fc_strdup(message);
  ds->problem_count++;
  return FC_OK;
}

fc_status fc_items_decode(fc_item_list *list, const fc_data_options *options, fc_dataset *ds) {
  const int64_t n = list->count;
  const int64_t base = ds->count;
  if (n == 0) return FC_OK;
  decode_job job;
  memset(&job, 0, sizeof job);
  job.list = list;
  job.ds = ds;
  job.base = base;
  job.strict = options->strict;
  job.errors = calloc((size_t)n, sizeof *job.errors);
  job.ok = calloc((size_t)n, 1);
  if (!job.errors || !job.ok) {
    free(job.errors);
    free(job.ok);
    return fc_errorf(FC_ERR_NOMEM, "out of memory for %lld images", (long long)n);
  }
  fc_status st = FC_OK;
  fc_image first = {0};
  fc_image_info first_info;
  int64_t first_index = -1;
  if (base == 0) {
    /* The output geometry: asked for, or the first image that decodes. */
    ds->channels = options->channels;
    ds->height = options->height;
    ds->width = options->width;
    if (!ds->channels || !ds->height || !ds->width) {
      for (int64_t i = 0; i < n; i++) {
        fc_dataset probe = *ds;
        if (decode_one(&list->items[i], &probe, &first, &first_info) == FC_OK) {
          first_index = i;
          break;
        }
        job.errors[i] = fc_strdup(fc_last_error());
        if (options->strict) break;
      }
      if (first_index < 0) {
        st = fc_errorf(FC_ERR_FORMAT, "%s%s", job.errors[0] ? job.errors[0] : "no image decodes",
                       options->strict ? "" : " (and no other image decodes either)");
        goto done;
      }
      if (!ds->channels) ds->channels = first.channels;
      if (!ds->height) ds->height = first.height;
      if (!ds->width) ds->width = first.width;
      if (first.channels != ds->channels || first.height != ds->height ||
          first.width != ds->width) {
        /* Only some of the geometry was given: decode it again properly. */
        fc_image_free(&first);
        st = decode_one(&list->items[first_index], ds, &first, &first_info);
        if (st != FC_OK) goto done;
      }
    }
  }
  {
    uint64_t max_bytes = options->max_bytes ? options->max_bytes : (16ull << 30);
    uint64_t need = (uint64_t)(base + n) * (uint64_t)fc_dataset_image_bytes(ds);
    if (need > max_bytes) {
      st =
          fc_errorf(FC_ERR_LIMIT,
                    "%lld images of %dx%dx%d need %.1f GiB in memory, above the limit of %.1f GiB; "
                    "use a smaller input size or raise the limit",
                    (long long)(base + n), ds->channels, ds->height, ds->width,
                    (double)need / (1u << 30), (double)max_bytes / (1u << 30));
      goto done;
    }
  }
  st = grow_dataset(ds, base + n);
  if (st != FC_OK) goto done;
  if (first_index >= 0) {
    store(ds, base + first_index, &list->items[first_index], &first, &first_info);
    job.ok[first_index] = 1;
  }
  {
    int threads = options->threads > 0 ? options->threads : fc_cpu_count();
    if (threads > n) threads = (int)n;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    atomic_init(&job.next, first_index >= 0 ? first_index + 1 : 0);
    atomic_init(&job.stop, 0);
    /* Items before the first good one already failed above. */
    pthread_t tids[256];
    int started = 0;
    for (int t = 1; t < threads && t < 256; t++) {
      if (pthread_create(&tids[started], NULL, decode_worker, &job) != 0) break;
      started++;
    }
    decode_worker(&job);
    for (int t = 0; t < started; t++) pthread_join(tids[t], NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    fc_log(FC_LOG_DEBUG, "decoded %lld images with %d thread(s) in %.2f s", (long long)n,
           started + 1, (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec));
  }
  /* In strict mode the first failure in list order decides (deterministic). */
  int64_t failed = 0, first_failed = -1;
  for (int64_t i = 0; i < n; i++) {
    if (!job.ok[i] && job.errors[i]) {
      failed++;
      if (first_failed < 0) first_failed = i;
    }
  }
  if (failed && options->strict) {
    st = fc_errorf(FC_ERR_FORMAT, "%s (strict mode: an unreadable image is an error)",
                   job.errors[first_failed]);
    goto done;
  }
  if (failed == n) {
    st = fc_errorf(FC_ERR_FORMAT, "no image could be read; the first one: %s", job.errors[0]);
    goto done;
  }
  /* Compact: keep the decoded images in list order. */
  {
    size_t bytes = fc_dataset_image_bytes(ds);
    int64_t w = base;
    int logged = 0;
    for (int64_t i = 0; i < n; i++) {
      fc_item *item = &list->items[i];
      int64_t r = base + i;
      if (!job.ok[i]) {
        if (logged++ < 10)
          fc_log(FC_LOG_WARN, "skipping %s: %s", item->source,
                 job.errors[i] ? job.errors[i] : "not decoded");
        st = add_problem(ds, item->source, job.errors[i] ? job.errors[i] : "not decoded");
        if (st != FC_OK) goto done;
        continue;
      }
      if (w != r) {
        memcpy(ds->pixels + (size_t)w * bytes, ds->pixels + (size_t)r * bytes, bytes);
        ds->labels[w] = ds->labels[r];
        ds->splits[w] = ds->splits[r];
        ds->file_width[w] = ds->file_width[r];
        ds->file_height[w] = ds->file_height[r];
        ds->file_channels[w] = ds->file_channels[r];
      }
      ds->sources[w] = item->source;
      item->source = NULL; /* moved */
      w++;
    }
    ds->count = w;
    if (failed)
      fc_log(FC_LOG_WARN, "%lld of %lld images could not be read and were skipped%s",
             (long long)failed, (long long)n,
             failed > 10 ? " (the first 10 are listed above; 'fer-cl data stats' lists all)" : "");
  }
done:
  fc_image_free(&first);
  for (int64_t i = 0; i < n; i++) free(job.errors[i]);
  free(job.errors);
  free(job.ok);
  return st;
}
