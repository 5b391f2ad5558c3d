/* Internal interfaces of the data pipeline (src/data/). */
#ifndef FERCL_DATA_INTERNAL_H
#define FERCL_DATA_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "fercl/data.h"

/* ---- pixels (image.c) ---- */

uint8_t fc_luma601(uint8_t r, uint8_t g, uint8_t b);
/* Copies the height x width window at (x0, y0) of an interleaved 8-bit image
 * (1 or 3 channels) into dst (same size, 1 or 3 channels), converting gray
 * <-> RGB on the way. */
void fc_interleaved_to_planar(const uint8_t *src, int src_channels, size_t src_stride, int height,
                              int width, int x0, int y0, fc_image *dst);

/* ---- items to decode (items.c) ---- */

/* One image a format parser found, before decoding. */
typedef struct fc_item {
  char *path;   /* file to decode; NULL when raw pixels are given */
  char *source; /* the name users see (relative path, "file.csv:LINE") */
  uint8_t *raw; /* raw 8-bit gray pixels, raw_height x raw_width (FER2013 CSV) */
  int raw_height, raw_width;
  char *error;                        /* known bad before decoding (a malformed CSV row): why */
  int32_t label;                      /* -1 unknown */
  uint8_t split;                      /* fc_split */
  int crop_x, crop_y, crop_w, crop_h; /* crop_w == 0: whole image */
} fc_item;

typedef struct fc_item_list {
  fc_item *items;
  int64_t count, capacity;
  int class_count;
  char **class_names;
  int64_t ignored; /* rows the format says to skip */
} fc_item_list;

/* Appends *item, taking ownership of its strings and raw buffer (also on failure). */
fc_status fc_items_push(fc_item_list *list, fc_item *item);
/* Sets the class names (copied). */
fc_status fc_items_set_classes(fc_item_list *list, int count, const char *const *names);
void fc_items_free(fc_item_list *list);

/* Decodes every item into ds, appending after ds->count images already there.
 * When ds is empty, its channels/height/width come from options (0 = the
 * first decodable image's). Failed items are skipped with warnings and
 * recorded in ds->problems, or stop everything when options->strict. */
fc_status fc_items_decode(fc_item_list *list, const fc_data_options *options, fc_dataset *ds);

/* ---- format parsers: fill an item list from a path ---- */

fc_status fc_format_folder(const char *root, fc_item_list *items);
fc_status fc_format_unlabeled(const char *root, fc_item_list *items);
fc_status fc_format_fer2013_csv(const char *path, fc_item_list *items);
fc_status fc_format_rafdb(const char *path, fc_item_list *items);
fc_status fc_format_affectnet(const char *path, const fc_data_options *options,
                              fc_item_list *items);

/* ---- file-system and text helpers (fsutil.c) ---- */

/* "a" + "/" + "b"; malloc'd (NULL when out of memory). */
char *fc_path_join(const char *a, const char *b);
char *fc_strdup(const char *s);
char *fc_strprintf(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
int fc_is_dir(const char *path);
int fc_is_file(const char *path);
/* .jpg / .jpeg / .png, any case. */
int fc_has_image_extension(const char *name);

/* fc_name_list and fc_name_list_free: fercl/data.h. */
fc_status fc_name_list_push(fc_name_list *list, const char *name);
void fc_name_list_sort(fc_name_list *list);

/* The entries of dir (no "." / ".." / hidden names), sorted by byte order;
 * want_dirs selects sub-folders (1) or regular files (0). */
fc_status fc_list_dir(const char *dir, int want_dirs, fc_name_list *out);
/* Image files below dir, recursively, as paths relative to dir, sorted. */
fc_status fc_list_images_recursive(const char *dir, fc_name_list *out);

/* Reads text lines of any length from a file, with a per-line cap. */
typedef struct fc_line_reader {
  void *fp;
  char *line;
  size_t capacity;
  long long number; /* 1-based number of the line last read */
  const char *path;
} fc_line_reader;
fc_status fc_line_reader_open(fc_line_reader *r, const char *path);
/* *line is NULL at the end of the file; trailing \r\n removed. */
fc_status fc_line_reader_next(fc_line_reader *r, size_t max_length, char **line);
void fc_line_reader_close(fc_line_reader *r);

/* Splits a CSV line in place (double quotes honoured). Returns the number of
 * fields found, storing at most max of them. */
int fc_csv_split(char *line, char **fields, int max);

/* ---- loader pieces ---- */

/* Number of CPUs online (>= 1). */
int fc_cpu_count(void);

#endif
