/* Choosing the labelled subset of the training split (METHOD.md section 1):
 * class-balanced N/C per class with short classes giving all but a margin, or
 * K per class; seeded; written to and read back from a text file. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "data/internal.h"
#include "fercl/fileio.h"
#include "fercl/log.h"

#define SPLIT_STREAM 0x53504c4954ULL /* "SPLIT" */

void fc_label_split_config_default(fc_label_split_config *config) {
  memset(config, 0, sizeof *config);
  config->seed = 1;
  config->margin_fraction = 0.1;
  config->margin_min = 1;
}

/* unlabeled = training images not marked + every FC_SPLIT_UNLABELED image. */
static fc_status complement(const fc_dataset *ds, const uint8_t *marked, fc_index_list *unlabeled) {
  int64_t n = 0;
  for (int64_t i = 0; i < ds->count; i++)
    n += (ds->splits[i] == FC_SPLIT_TRAIN && !marked[i]) || ds->splits[i] == FC_SPLIT_UNLABELED;
  unlabeled->count = 0;
  unlabeled->index = malloc((size_t)(n > 0 ? n : 1) * sizeof(int64_t));
  if (!unlabeled->index) return fc_errorf(FC_ERR_NOMEM, "out of memory");
  for (int64_t i = 0; i < ds->count; i++)
    if ((ds->splits[i] == FC_SPLIT_TRAIN && !marked[i]) || ds->splits[i] == FC_SPLIT_UNLABELED)
      unlabeled->index[unlabeled->count++] = i;
  return FC_OK;
}

/* How many of each class to label. */
static fc_status plan(const fc_dataset *ds, const fc_label_split_config *cfg, const int64_t *avail,
                      int64_t *take) {
  const int C = ds->class_count;
  int64_t cap[C > 0 ? C : 1];
  int64_t total_cap = 0, total = 0;
  for (int c = 0; c < C; c++) {
    int64_t margin = (int64_t)ceil((double)avail[c] * cfg->margin_fraction);
    if (margin < cfg->margin_min) margin = cfg->margin_min;
    cap[c] = avail[c] - margin > 0 ? avail[c] - margin : 0;
    total_cap += cap[c];
    total += avail[c];
    take[c] = 0;
  }
  if (cfg->labels == 0 && cfg->labels_per_class == 0) {
    for (int c = 0; c < C; c++) take[c] = avail[c];
    return FC_OK;
  }
  if (cfg->labels == 0) {
    for (int c = 0; c < C; c++) {
      take[c] = cfg->labels_per_class < cap[c] ? cfg->labels_per_class : cap[c];
      if (take[c] < cfg->labels_per_class)
        fc_log(FC_LOG_WARN, "class %s has %lld training images: labelling %lld of them, not %lld",
               ds->class_names[c], (long long)avail[c], (long long)take[c],
               (long long)cfg->labels_per_class);
    }
    return FC_OK;
  }
  if (cfg->labels > total_cap)
    return fc_errorf(FC_ERR_INVALID_ARG,
                     "%lld labels asked for, but the training split (%lld images) allows at most "
                     "%lld while keeping "
                     "a margin of every class unlabelled; ask for fewer",
                     (long long)cfg->labels, (long long)total, (long long)total_cap);
  /* Water-filling: equal shares; a class that cannot fill its share gives
   * all it may and the rest is shared among the others. */
  int active[C > 0 ? C : 1];
  for (int c = 0; c < C; c++) active[c] = cap[c] > 0;
  int64_t remaining = cfg->labels;
  for (;;) {
    int nactive = 0;
    for (int c = 0; c < C; c++) nactive += active[c];
    if (nactive == 0 || remaining == 0) break;
    int64_t share = remaining / nactive;
    int saturated = 0;
    for (int c = 0; c < C; c++) {
      if (active[c] && cap[c] - take[c] <= share) {
        remaining -= cap[c] - take[c];
        take[c] = cap[c];
        active[c] = 0;
        saturated = 1;
      }
    }
    if (saturated) continue;
    for (int c = 0; c < C; c++)
      if (active[c]) take[c] += share;
    remaining -= share * nactive;
    /* The last few go to the classes with the most room (ties: lower index). */
    while (remaining > 0) {
      int best = -1;
      for (int c = 0; c < C; c++)
        if (active[c] && (best < 0 || cap[c] - take[c] > cap[best] - take[best])) best = c;
      take[best]++;
      active[best] = 0;
      remaining--;
    }
    break;
  }
  return FC_OK;
}

fc_status fc_label_split(const fc_dataset *ds, const fc_label_split_config *config,
                         fc_index_list *labeled, fc_index_list *unlabeled) {
  memset(labeled, 0, sizeof *labeled);
  memset(unlabeled, 0, sizeof *unlabeled);
  fc_label_split_config defaults;
  if (!config) {
    fc_label_split_config_default(&defaults);
    config = &defaults;
  }
  if (config->labels < 0 || config->labels_per_class < 0 || config->margin_fraction < 0 ||
      config->margin_fraction >= 1 || config->margin_min < 0)
    return fc_errorf(FC_ERR_INVALID_ARG,
                     "label split: counts must be >= 0 and the margin fraction in [0, 1)");
  const int C = ds->class_count;
  if (C < 1) return fc_errorf(FC_ERR_INVALID_ARG, "label split: the dataset has no classes");
  int64_t avail[C], take[C], seen[C];
  for (int c = 0; c < C; c++) avail[c] = seen[c] = 0;
  for (int64_t i = 0; i < ds->count; i++)
    if (ds->splits[i] == FC_SPLIT_TRAIN && ds->labels[i] >= 0 && ds->labels[i] < C)
      avail[ds->labels[i]]++;
  FC_TRY(plan(ds, config, avail, take));
  /* Members of each class in index order, then a seeded permutation; the
   * first take[c] of it are labelled (so a larger N extends a smaller one). */
  int64_t *members = malloc((size_t)(ds->count > 0 ? ds->count : 1) * sizeof *members);
  int64_t offset[C + 1];
  uint8_t *marked = calloc((size_t)(ds->count > 0 ? ds->count : 1), 1);
  if (!members || !marked) {
    free(members);
    free(marked);
    return fc_errorf(FC_ERR_NOMEM, "out of memory");
  }
  offset[0] = 0;
  for (int c = 0; c < C; c++) offset[c + 1] = offset[c] + avail[c];
  for (int64_t i = 0; i < ds->count; i++) {
    int y = ds->labels[i];
    if (ds->splits[i] == FC_SPLIT_TRAIN && y >= 0 && y < C) members[offset[y] + seen[y]++] = i;
  }
  int64_t n = 0;
  for (int c = 0; c < C; c++) {
    uint64_t key = fc_rng_key(config->seed, SPLIT_STREAM, (uint64_t)c, 0);
    for (int64_t k = 0; k < take[c]; k++) {
      marked[members[offset[c] + fc_permute(key, avail[c], k)]] = 1;
      n++;
    }
  }
  free(members);
  fc_status st = FC_OK;
  labeled->index = malloc((size_t)(n > 0 ? n : 1) * sizeof(int64_t));
  if (!labeled->index) st = fc_errorf(FC_ERR_NOMEM, "out of memory");
  for (int64_t i = 0; st == FC_OK && i < ds->count; i++)
    if (marked[i]) labeled->index[labeled->count++] = i;
  if (st == FC_OK) st = complement(ds, marked, unlabeled);
  free(marked);
  if (st != FC_OK) {
    fc_index_list_free(labeled);
    fc_index_list_free(unlabeled);
  }
  return st;
}

fc_status fc_label_split_write(const char *path, const fc_dataset *ds,
                               const fc_index_list *labeled) {
  fc_atomic_file file;
  FC_TRY(fc_atomic_file_open(&file, path));
  fc_status st = FC_OK;
  if (fprintf(file.fp, "# fer-cl labelled split: %lld images of %s (%s)\n# source\tlabel\tclass\n",
              (long long)labeled->count, ds->root ? ds->root : "?",
              fc_data_format_name(ds->format)) < 0)
    file.failed = 1;
  for (int64_t k = 0; k < labeled->count && st == FC_OK; k++) {
    int64_t i = labeled->index[k];
    if (i < 0 || i >= ds->count || ds->labels[i] < 0 || ds->labels[i] >= ds->class_count) {
      st = fc_errorf(FC_ERR_INVALID_ARG,
                     "labelled list entry %lld (image %lld) is not a labelled image", (long long)k,
                     (long long)i);
      break;
    }
    if (strpbrk(ds->sources[i], "\t\n\r")) {
      st = fc_errorf(FC_ERR_UNSUPPORTED,
                     "image name '%s' contains a tab or newline; it cannot be listed",
                     ds->sources[i]);
      break;
    }
    if (fprintf(file.fp, "%s\t%d\t%s\n", ds->sources[i], ds->labels[i],
                ds->class_names[ds->labels[i]]) < 0)
      file.failed = 1;
  }
  if (st != FC_OK) {
    fc_atomic_file_abort(&file);
    return st;
  }
  return fc_atomic_file_commit(&file);
}

fc_status fc_label_split_read(const char *path, const fc_dataset *ds, fc_index_list *labeled,
                              fc_index_list *unlabeled) {
  memset(labeled, 0, sizeof *labeled);
  memset(unlabeled, 0, sizeof *unlabeled);
  char *text = NULL;
  size_t size = 0;
  FC_TRY(fc_file_read_all(path, 1u << 30, &text, &size));
  /* Training images by source name (open addressing, slot = index + 1). */
  size_t cap = 16;
  while (cap < (size_t)ds->count * 2) cap <<= 1;
  int64_t *table = calloc(cap, sizeof *table);
  uint8_t *marked = calloc((size_t)(ds->count > 0 ? ds->count : 1), 1);
  fc_status st = FC_OK;
  if (!table || !marked) st = fc_errorf(FC_ERR_NOMEM, "out of memory");
  for (int64_t i = 0; st == FC_OK && i < ds->count; i++) {
    if (ds->splits[i] != FC_SPLIT_TRAIN) continue;
    size_t s = (size_t)fc_hash_string(FC_HASH_INIT, ds->sources[i]) & (cap - 1);
    while (table[s]) s = (s + 1) & (cap - 1);
    table[s] = i + 1;
  }
  long long line_no = 0;
  char *save = NULL;
  for (char *line = text; st == FC_OK && line && *line; line = save) {
    char *nl = strchr(line, '\n');
    save = nl ? nl + 1 : NULL;
    if (nl) *nl = '\0';
    line_no++;
    size_t len = strlen(line);
    if (len && line[len - 1] == '\r') line[--len] = '\0';
    if (!len || line[0] == '#') continue;
    char *tab = strchr(line, '\t');
    char *end = NULL;
    long label = tab ? strtol(tab + 1, &end, 10) : -1;
    if (!tab || end == tab + 1 || (*end && *end != '\t')) {
      st = fc_errorf(FC_ERR_FORMAT, "%s line %lld: expected 'source<TAB>label<TAB>class'", path,
                     line_no);
      break;
    }
    *tab = '\0';
    size_t s = (size_t)fc_hash_string(FC_HASH_INIT, line) & (cap - 1);
    int64_t found = -1;
    while (table[s]) {
      if (!strcmp(ds->sources[table[s] - 1], line)) {
        found = table[s] - 1;
        break;
      }
      s = (s + 1) & (cap - 1);
    }
    if (found < 0) {
      st =
          fc_errorf(FC_ERR_MISMATCH,
                    "%s line %lld: '%s' is not in the training split of %s; was the split made for "
                    "another dataset?",
                    path, line_no, line, ds->root ? ds->root : "this dataset");
    } else if (ds->labels[found] != label) {
      st = fc_errorf(FC_ERR_MISMATCH,
                     "%s line %lld: '%s' has label %ld in the file but %d in the dataset", path,
                     line_no, line, label, ds->labels[found]);
    } else if (marked[found]) {
      st = fc_errorf(FC_ERR_FORMAT, "%s line %lld: '%s' is listed twice", path, line_no, line);
    } else {
      marked[found] = 1;
      labeled->count++;
    }
  }
  if (st == FC_OK && labeled->count == 0) st = fc_errorf(FC_ERR_FORMAT, "%s lists no images", path);
  if (st == FC_OK) {
    int64_t n = labeled->count;
    labeled->count = 0;
    labeled->index = malloc((size_t)n * sizeof(int64_t));
    if (!labeled->index) st = fc_errorf(FC_ERR_NOMEM, "out of memory");
    for (int64_t i = 0; st == FC_OK && i < ds->count; i++)
      if (marked[i]) labeled->index[labeled->count++] = i;
  }
  if (st == FC_OK) st = complement(ds, marked, unlabeled);
  free(table);
  free(marked);
  free(text);
  if (st != FC_OK) {
    fc_index_list_free(labeled);
    fc_index_list_free(unlabeled);
  }
  return st;
}
