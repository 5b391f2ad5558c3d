/* AffectNet: training.csv / validation.csv (subDirectory_filePath, face box,
 * landmarks, expression, valence, arousal) and Manually_Annotated_Images/. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "data/internal.h"

static const char *const affectnet_classes[8] = {"neutral", "happy",   "sad",   "surprise",
                                                 "fear",    "disgust", "anger", "contempt"};

enum { COL_PATH, COL_X, COL_Y, COL_W, COL_H, COL_LANDMARKS, COL_EXPRESSION, COL_COUNT };

/* Where the images of a CSV in folder dir live. */
static char *image_root(const char *dir) {
  static const char *const candidates[] = {
      "Manually_Annotated_Images", "Manually_Annotated/Manually_Annotated_Images",
      "Manually_Annotated_compressed/Manually_Annotated_Images"};
  for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++) {
    char *p = fc_path_join(dir, candidates[i]);
    if (p && fc_is_dir(p)) return p;
    free(p);
  }
  return fc_strdup(dir);
}

static int parse_int(const char *s, long *out) {
  while (*s == ' ') s++;
  char *end = NULL;
  long v = strtol(s, &end, 10);
  if (end == s) return 0;
  while (*end == ' ') end++;
  if (*end == '.') { /* "12.0" */
    end++;
    while (isdigit((unsigned char)*end)) end++;
  }
  if (*end) return 0;
  *out = v;
  return 1;
}

static fc_status read_csv(const char *csv, int split, const fc_data_options *options,
                          fc_item_list *items) {
  char *dir = NULL;
  const char *slash = strrchr(csv, '/');
  dir = slash ? fc_strprintf("%.*s", (int)(slash - csv), csv) : fc_strdup(".");
  char *images = dir ? image_root(dir) : NULL;
  free(dir);
  if (!images) return fc_errorf(FC_ERR_NOMEM, "out of memory");
  fc_line_reader r;
  fc_status st = fc_line_reader_open(&r, csv);
  if (st != FC_OK) {
    free(images);
    return st;
  }
  int classes = options->affectnet_classes == 8 ? 8 : 7;
  int col[COL_COUNT] = {0, 1, 2, 3, 4, 5, 6};
  char *line = NULL;
  while (st == FC_OK) {
    st = fc_line_reader_next(&r, 1 << 16, &line);
    if (st != FC_OK || !line) break;
    if (line[strspn(line, " \t")] == '\0') continue;
    char *f[32];
    int n = fc_csv_split(line, f, 32);
    if (r.number == 1 && !strcasecmp(f[0], "subDirectory_filePath")) {
      static const char *const names[COL_COUNT] = {
          "subDirectory_filePath", "face_x",           "face_y",    "face_width",
          "face_height",           "facial_landmarks", "expression"};
      for (int c = 0; c < COL_COUNT; c++) {
        col[c] = -1;
        for (int i = 0; i < n && i < 32; i++)
          if (!strcasecmp(f[i], names[c])) col[c] = i;
        if (col[c] < 0 && c != COL_LANDMARKS) {
          st = fc_errorf(
              FC_ERR_FORMAT,
              "%s line 1: no '%s' column (AffectNet's header is subDirectory_filePath,"
              "face_x,face_y,face_width,face_height,facial_landmarks,expression,valence,arousal)",
              csv, names[c]);
          break;
        }
      }
      continue;
    }
    int need = 0;
    for (int c = 0; c < COL_COUNT; c++)
      if (col[c] + 1 > need) need = col[c] + 1;
    if (n < need) {
      st = fc_errorf(FC_ERR_FORMAT, "%s line %lld: %d fields, expected at least %d", csv, r.number,
                     n, need);
      break;
    }
    long expr = 0;
    if (!parse_int(f[col[COL_EXPRESSION]], &expr)) {
      st = fc_errorf(FC_ERR_FORMAT, "%s line %lld: expression '%.20s' is not a number", csv,
                     r.number, f[col[COL_EXPRESSION]]);
      break;
    }
    if (expr < 0 || expr > 10) {
      st = fc_errorf(FC_ERR_FORMAT, "%s line %lld: expression %ld is outside 0..10", csv, r.number,
                     expr);
      break;
    }
    if (expr >= 8 || expr >= classes) { /* none, uncertain, non-face; contempt in 7-class mode */
      items->ignored++;
      continue;
    }
    const char *rel = f[col[COL_PATH]];
    while (*rel == '/') rel++;
    if (!*rel || strstr(rel, "..")) {
      st = fc_errorf(FC_ERR_FORMAT, "%s line %lld: bad image path '%.80s'", csv, r.number, rel);
      break;
    }
    fc_item item = {.label = (int32_t)expr, .split = (uint8_t)split};
    long x, y, w, h;
    if (options->affectnet_crop && parse_int(f[col[COL_X]], &x) && parse_int(f[col[COL_Y]], &y) &&
        parse_int(f[col[COL_W]], &w) && parse_int(f[col[COL_H]], &h) && w > 0 && h > 0 && x >= 0 &&
        y >= 0 && x < FC_IMAGE_MAX_SIDE && y < FC_IMAGE_MAX_SIDE && w <= FC_IMAGE_MAX_SIDE &&
        h <= FC_IMAGE_MAX_SIDE) {
      item.crop_x = (int)x;
      item.crop_y = (int)y;
      item.crop_w = (int)w;
      item.crop_h = (int)h;
    }
    item.source = fc_strdup(rel);
    item.path = fc_path_join(images, rel);
    if (!item.path) {
      free(item.source);
      item.source = NULL;
    }
    st = fc_items_push(items, &item);
  }
  fc_line_reader_close(&r);
  free(images);
  return st;
}

fc_status fc_format_affectnet(const char *path, const fc_data_options *options,
                              fc_item_list *items) {
  if (options->affectnet_classes != 0 && options->affectnet_classes != 7 &&
      options->affectnet_classes != 8)
    return fc_errorf(FC_ERR_INVALID_ARG, "AffectNet has 7 or 8 classes, not %d",
                     options->affectnet_classes);
  int classes = options->affectnet_classes == 8 ? 8 : 7;
  FC_TRY(fc_items_set_classes(items, classes, affectnet_classes));
  fc_status st = FC_OK;
  if (fc_is_dir(path)) {
    char *train = fc_path_join(path, "training.csv"), *val = fc_path_join(path, "validation.csv");
    if (!train || !val) st = fc_errorf(FC_ERR_NOMEM, "out of memory");
    int found = 0;
    if (st == FC_OK && fc_is_file(train)) {
      found = 1;
      st = read_csv(train, FC_SPLIT_TRAIN, options, items);
    }
    if (st == FC_OK && fc_is_file(val)) {
      found = 1;
      st = read_csv(val, FC_SPLIT_VAL, options, items);
    }
    if (st == FC_OK && !found)
      st = fc_errorf(FC_ERR_NOT_FOUND, "%s has neither training.csv nor validation.csv (AffectNet)",
                     path);
    free(train);
    free(val);
  } else {
    const char *name = strrchr(path, '/');
    name = name ? name + 1 : path;
    int split = strcasestr(name, "valid") ? FC_SPLIT_VAL : FC_SPLIT_TRAIN;
    st = read_csv(path, split, options, items);
  }
  if (st == FC_OK && items->count == 0)
    st = fc_errorf(FC_ERR_FORMAT,
                   "%s: no usable AffectNet rows (%lld ignored as none/uncertain/non-face%s)", path,
                   (long long)items->ignored, classes == 7 ? "/contempt" : "");
  return st;
}
