/* Fuzz target: the AffectNet CSV (training.csv), through fc_dataset_load on a
 * folder with two images, so face boxes from the file crop real pixels. */
#include <string.h>

#include "fercl/data.h"
#include "fuzz_common.h"

static const char *root(void) {
  static char dir[1024];
  if (!dir[0]) {
    char path[1024];
    fc_image img;
    if (fc_image_alloc(&img, 3, 16, 20) != FC_OK) abort();
    for (int i = 0; i < 3 * 16 * 20; i++) img.data[i] = (uint8_t)(i * 13);
    fc_fuzz_write("affectnet/Manually_Annotated_Images/1/.keep", "", 0, path, sizeof path);
    snprintf(path, sizeof path, "%s/affectnet/Manually_Annotated_Images/1/a.jpg", fc_fuzz_dir());
    if (fc_image_write_png(path, &img) != FC_OK) abort();
    snprintf(path, sizeof path, "%s/affectnet/Manually_Annotated_Images/1/b.png", fc_fuzz_dir());
    if (fc_image_write_png(path, &img) != FC_OK) abort();
    fc_image_free(&img);
    snprintf(dir, sizeof dir, "%s/affectnet", fc_fuzz_dir());
  }
  return dir;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fc_fuzz_init();
  const char *dir = root();
  char path[1024];
  fc_fuzz_write("affectnet/training.csv", data, size, path, sizeof path);
  fc_data_options o;
  fc_data_options_default(&o);
  o.format = FC_DATA_AFFECTNET;
  o.threads = 1;
  o.affectnet_classes = size && (data[0] & 1) ? 8 : 7;
  fc_dataset *ds = NULL;
  if (fc_dataset_load(dir, &o, &ds) != FC_OK) return 0;
  FC_FUZZ_CHECK(ds->count > 0, "empty dataset loaded");
  for (int64_t i = 0; i < ds->count; i++) {
    FC_FUZZ_CHECK(ds->labels[i] >= 0 && ds->labels[i] < o.affectnet_classes, "label %d",
                  ds->labels[i]);
    FC_FUZZ_CHECK(strstr(ds->sources[i], "..") == NULL, "source %s leaves the dataset folder",
                  ds->sources[i]);
  }
  fc_dataset_free(ds);
  return 0;
}
