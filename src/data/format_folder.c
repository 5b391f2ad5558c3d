/* Folder-per-class datasets (torchvision ImageFolder) and unlabelled folders. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "data/internal.h"

/* Which split a top-level folder name means, or -1. */
static int split_of_folder(const char *name) {
  if (!strcasecmp(name, "train") || !strcasecmp(name, "training")) return FC_SPLIT_TRAIN;
  if (!strcasecmp(name, "val") || !strcasecmp(name, "valid") || !strcasecmp(name, "validation"))
    return FC_SPLIT_VAL;
  if (!strcasecmp(name, "test") || !strcasecmp(name, "testing")) return FC_SPLIT_TEST;
  return -1;
}

/* Adds the images of one split folder (split_dir/<class>/...). With
 * classes already set (train seen), every class folder must be one of them. */
static fc_status add_split(const char *root, const char *split_rel, int split,
                           fc_item_list *items) {
  char *split_dir = split_rel ? fc_path_join(root, split_rel) : fc_strdup(root);
  if (!split_dir) return fc_errorf(FC_ERR_NOMEM, "out of memory");
  fc_name_list classes;
  fc_status st = fc_list_dir(split_dir, 1, &classes);
  if (st != FC_OK) {
    free(split_dir);
    return st;
  }
  if (classes.count == 0) {
    st = fc_errorf(FC_ERR_FORMAT,
                   "%s has no class folders; a folder dataset looks like %s/<class>/*.jpg (or "
                   "train/<class>/...)",
                   split_dir, split_dir);
    goto out;
  }
  if (items->class_count == 0) {
    if (classes.count > 1000) {
      st = fc_errorf(FC_ERR_LIMIT, "%s has %zu class folders; is this the right folder?", split_dir,
                     classes.count);
      goto out;
    }
    st = fc_items_set_classes(items, (int)classes.count, (const char *const *)classes.names);
    if (st != FC_OK) goto out;
  }
  for (size_t c = 0; c < classes.count && st == FC_OK; c++) {
    int label = -1;
    for (int k = 0; k < items->class_count; k++)
      if (!strcmp(items->class_names[k], classes.names[c])) label = k;
    char *class_dir = fc_path_join(split_dir, classes.names[c]);
    if (!class_dir) {
      st = fc_errorf(FC_ERR_NOMEM, "out of memory");
      break;
    }
    if (label < 0) {
      st = fc_errorf(FC_ERR_FORMAT,
                     "%s: class '%s' does not exist in the training split; class folders of "
                     "val/test must be among train's",
                     class_dir, classes.names[c]);
      free(class_dir);
      break;
    }
    fc_name_list files;
    st = fc_list_images_recursive(class_dir, &files);
    if (st == FC_OK && files.count == 0)
      st = fc_errorf(FC_ERR_FORMAT,
                     "class folder %s has no images (.jpg, .jpeg or .png); add images or remove it",
                     class_dir);
    for (size_t f = 0; st == FC_OK && f < files.count; f++) {
      fc_item item = {.label = label, .split = (uint8_t)split};
      item.path = fc_path_join(class_dir, files.names[f]);
      item.source = split_rel
                        ? fc_strprintf("%s/%s/%s", split_rel, classes.names[c], files.names[f])
                        : fc_strprintf("%s/%s", classes.names[c], files.names[f]);
      if (!item.path) {
        free(item.source);
        item.source = NULL;
      }
      st = fc_items_push(items, &item);
    }
    fc_name_list_free(&files);
    free(class_dir);
  }
out:
  fc_name_list_free(&classes);
  free(split_dir);
  return st;
}

fc_status fc_format_folder(const char *root, fc_item_list *items) {
  if (!fc_is_dir(root)) return fc_errorf(FC_ERR_NOT_FOUND, "%s is not a folder", root);
  fc_name_list dirs;
  FC_TRY(fc_list_dir(root, 1, &dirs));
  const char *split_dir[FC_SPLIT_COUNT] = {0};
  for (size_t i = 0; i < dirs.count; i++) {
    int s = split_of_folder(dirs.names[i]);
    if (s >= 0 && !split_dir[s]) split_dir[s] = dirs.names[i];
  }
  fc_status st = FC_OK;
  if (split_dir[FC_SPLIT_TRAIN]) {
    for (int s = 0; s < FC_SPLIT_UNLABELED && st == FC_OK; s++)
      if (split_dir[s]) st = add_split(root, split_dir[s], s, items);
  } else if (split_dir[FC_SPLIT_VAL] || split_dir[FC_SPLIT_TEST]) {
    st = fc_errorf(
        FC_ERR_FORMAT, "%s has %s/ but no train/ folder; expected %s/train/<class>/*.jpg", root,
        split_dir[FC_SPLIT_VAL] ? split_dir[FC_SPLIT_VAL] : split_dir[FC_SPLIT_TEST], root);
  } else {
    st = add_split(root, NULL, FC_SPLIT_TRAIN, items);
  }
  fc_name_list_free(&dirs);
  return st;
}

fc_status fc_format_unlabeled(const char *root, fc_item_list *items) {
  if (!fc_is_dir(root)) return fc_errorf(FC_ERR_NOT_FOUND, "%s is not a folder", root);
  fc_name_list files;
  FC_TRY(fc_list_images_recursive(root, &files));
  fc_status st = FC_OK;
  if (files.count == 0)
    st = fc_errorf(FC_ERR_FORMAT, "%s has no images (.jpg, .jpeg or .png) in it or below it", root);
  for (size_t f = 0; st == FC_OK && f < files.count; f++) {
    fc_item item = {.label = -1, .split = FC_SPLIT_UNLABELED};
    item.path = fc_path_join(root, files.names[f]);
    item.source = fc_strdup(files.names[f]);
    if (!item.path) {
      free(item.source);
      item.source = NULL;
    }
    st = fc_items_push(items, &item);
  }
  fc_name_list_free(&files);
  return st;
}
