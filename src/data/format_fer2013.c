/* The FER2013 CSV (Kaggle / ICML 2013): emotion,pixels,Usage with 48x48
 * gray pixels as 2304 space-separated numbers per row. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "data/internal.h"

static const char *const fer2013_classes[7] = {"angry", "disgust",  "fear",   "happy",
                                               "sad",   "surprise", "neutral"};

#define FER_SIDE 48

static char *trim(char *s) {
  while (*s == ' ' || *s == '\t') s++;
  size_t n = strlen(s);
  while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t')) s[--n] = '\0';
  return s;
}

static const char *base_name(const char *path) {
  const char *s = strrchr(path, '/');
  return s ? s + 1 : path;
}

/* Parses "v v v ..." into out (2304 values); NULL or a message (malloc'd). */
static char *parse_pixels(const char *text, const char *file, long long line, uint8_t *out) {
  int n = 0;
  const char *p = text;
  for (;;) {
    while (*p == ' ' || *p == '\t') p++;
    if (!*p) break;
    if (!isdigit((unsigned char)*p))
      return fc_strprintf("%s line %lld: pixel %d is not a number ('%.10s')", file, line, n + 1, p);
    long v = 0;
    while (isdigit((unsigned char)*p)) {
      v = v * 10 + (*p - '0');
      if (v > 255) return fc_strprintf("%s line %lld: pixel %d is above 255", file, line, n + 1);
      p++;
    }
    if (*p && *p != ' ' && *p != '\t')
      return fc_strprintf("%s line %lld: pixel %d is not a number", file, line, n + 1);
    if (n < FER_SIDE * FER_SIDE) out[n] = (uint8_t)v;
    n++;
  }
  if (n != FER_SIDE * FER_SIDE)
    return fc_strprintf("%s line %lld: %d pixel values, expected %d (48x48)", file, line, n,
                        FER_SIDE * FER_SIDE);
  return NULL;
}

fc_status fc_format_fer2013_csv(const char *path, fc_item_list *items) {
  fc_line_reader r;
  FC_TRY(fc_line_reader_open(&r, path));
  const char *file = base_name(path);
  char *line = NULL;
  fc_status st = fc_line_reader_next(&r, 1 << 20, &line);
  if (st == FC_OK && !line)
    st = fc_errorf(FC_ERR_FORMAT, "%s is empty; expected a header emotion,pixels,Usage", path);
  int col_emotion = -1, col_pixels = -1, col_usage = -1, ncols = 0;
  if (st == FC_OK) {
    char *f[16];
    ncols = fc_csv_split(line, f, 16);
    for (int i = 0; i < ncols && i < 16; i++) {
      char *name = trim(f[i]);
      if (!strcasecmp(name, "emotion"))
        col_emotion = i;
      else if (!strcasecmp(name, "pixels"))
        col_pixels = i;
      else if (!strcasecmp(name, "usage"))
        col_usage = i;
    }
    if (col_pixels < 0)
      st = fc_errorf(
          FC_ERR_FORMAT,
          "%s line 1: no 'pixels' column; a FER2013 CSV starts with emotion,pixels,Usage", path);
  }
  if (st == FC_OK) st = fc_items_set_classes(items, 7, fer2013_classes);
  while (st == FC_OK) {
    st = fc_line_reader_next(&r, 1 << 20, &line);
    if (st != FC_OK || !line) break;
    if (!*trim(line)) continue;
    char *f[16];
    int n = fc_csv_split(line, f, 16);
    if (n != ncols) {
      st = fc_errorf(FC_ERR_FORMAT, "%s line %lld: %d fields, the header has %d", path, r.number, n,
                     ncols);
      break;
    }
    fc_item item = {.label = -1, .split = FC_SPLIT_TRAIN};
    if (col_emotion >= 0) {
      char *e = trim(f[col_emotion]), *end = NULL;
      long v = strtol(e, &end, 10);
      if (!*e || *end) {
        st = fc_errorf(FC_ERR_FORMAT, "%s line %lld: emotion '%s' is not a number", path, r.number,
                       e);
        break;
      }
      if (v < 0 || v > 6) {
        st = fc_errorf(FC_ERR_FORMAT, "%s line %lld: emotion %ld is outside 0..6 (%s, ..., %s)",
                       path, r.number, v, fer2013_classes[0], fer2013_classes[6]);
        break;
      }
      item.label = (int32_t)v;
    } else {
      item.split = FC_SPLIT_UNLABELED;
    }
    if (col_usage >= 0) {
      char *u = trim(f[col_usage]);
      if (!strcasecmp(u, "Training"))
        item.split = FC_SPLIT_TRAIN;
      else if (!strcasecmp(u, "PublicTest"))
        item.split = FC_SPLIT_VAL;
      else if (!strcasecmp(u, "PrivateTest"))
        item.split = FC_SPLIT_TEST;
      else {
        st = fc_errorf(FC_ERR_FORMAT,
                       "%s line %lld: Usage '%s' is not Training, PublicTest or PrivateTest", path,
                       r.number, u);
        break;
      }
    }
    item.source = fc_strprintf("%s:%lld", file, r.number);
    item.raw = malloc(FER_SIDE * FER_SIDE);
    if (!item.raw) {
      free(item.source);
      item.source = NULL;
    } else {
      item.raw_height = item.raw_width = FER_SIDE;
      item.error = parse_pixels(f[col_pixels], file, r.number, item.raw);
    }
    st = fc_items_push(items, &item);
  }
  fc_line_reader_close(&r);
  if (st == FC_OK && items->count == 0)
    st = fc_errorf(FC_ERR_FORMAT, "%s has a header but no rows", path);
  return st;
}
