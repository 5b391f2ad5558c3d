/* RAF-DB basic emotions: EmoLabel/list_patition_label.txt ("train_00001.jpg 5",
 * labels 1..7) with aligned faces in Image/aligned/train_00001_aligned.jpg. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/internal.h"

static const char *const rafdb_classes[7] = {"surprise", "fear",  "disgust", "happiness",
                                             "sadness",  "anger", "neutral"};

#define RAFDB_LIST "EmoLabel/list_patition_label.txt"

fc_status fc_format_rafdb(const char *path, fc_item_list *items) {
  /* path is the dataset root or the list file itself. */
  char *root = NULL, *list = NULL;
  if (fc_is_dir(path)) {
    root = fc_strdup(path);
    list = fc_path_join(path, RAFDB_LIST);
  } else {
    /* root = dirname(dirname(list)) */
    list = fc_strdup(path);
    char *copy = fc_strdup(path);
    char *s1 = copy ? strrchr(copy, '/') : NULL;
    if (!copy) {
      root = NULL;
    } else if (!s1) {
      root = fc_strdup("..");
    } else {
      *s1 = '\0';
      char *s2 = strrchr(copy, '/');
      if (!s2) {
        root = fc_strdup(".");
      } else {
        *s2 = '\0';
        root = fc_strdup(copy[0] ? copy : "/");
      }
    }
    free(copy);
  }
  if (!root || !list) {
    free(root);
    free(list);
    return fc_errorf(FC_ERR_NOMEM, "out of memory");
  }
  fc_line_reader r;
  fc_status st = fc_line_reader_open(&r, list);
  if (st != FC_OK) {
    st = fc_error_context(st, "RAF-DB needs %s", RAFDB_LIST);
    free(root);
    free(list);
    return st;
  }
  st = fc_items_set_classes(items, 7, rafdb_classes);
  char *line = NULL;
  while (st == FC_OK) {
    st = fc_line_reader_next(&r, 4096, &line);
    if (st != FC_OK || !line) break;
    char name[1024];
    int label = 0;
    char extra = 0;
    if (line[strspn(line, " \t")] == '\0') continue;
    int got = sscanf(line, "%1023s %d %c", name, &label, &extra);
    if (got != 2) {
      st = fc_errorf(FC_ERR_FORMAT, "%s line %lld: expected 'NAME.jpg LABEL', got '%.80s'", list,
                     r.number, line);
      break;
    }
    if (label < 1 || label > 7) {
      st = fc_errorf(FC_ERR_FORMAT,
                     "%s line %lld: label %d is outside 1..7 (surprise, ..., neutral)", list,
                     r.number, label);
      break;
    }
    if (strchr(name, '/')) { /* a downloaded list must not reach outside Image/aligned/ */
      st = fc_errorf(
          FC_ERR_FORMAT,
          "%s line %lld: '%s' is not a plain file name (RAF-DB lists files of Image/aligned/)",
          list, r.number, name);
      break;
    }
    int split;
    if (!strncmp(name, "train", 5))
      split = FC_SPLIT_TRAIN;
    else if (!strncmp(name, "test", 4))
      split = FC_SPLIT_TEST;
    else {
      st = fc_errorf(FC_ERR_FORMAT, "%s line %lld: '%s' starts with neither train_ nor test_", list,
                     r.number, name);
      break;
    }
    char *dot = strrchr(name, '.');
    int stem = dot ? (int)(dot - name) : (int)strlen(name);
    fc_item item = {.label = label - 1, .split = (uint8_t)split};
    item.source = fc_strprintf("Image/aligned/%.*s_aligned%s", stem, name, dot ? dot : ".jpg");
    item.path = item.source ? fc_path_join(root, item.source) : NULL;
    if (!item.path) {
      free(item.source);
      item.source = NULL;
    }
    st = fc_items_push(items, &item);
  }
  fc_line_reader_close(&r);
  if (st == FC_OK && items->count == 0) st = fc_errorf(FC_ERR_FORMAT, "%s lists no images", list);
  free(root);
  free(list);
  return st;
}
