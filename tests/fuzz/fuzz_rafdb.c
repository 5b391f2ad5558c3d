/* Fuzz target: the RAF-DB list (EmoLabel/list_patition_label.txt), through
 * fc_dataset_load on a folder where two of the listed names exist. */
#include <string.h>

#include "fercl/data.h"
#include "fuzz_common.h"

static const char *root(void) {
  static char dir[1024];
  if (!dir[0]) {
    char path[1024];
    fc_image img;
    if (fc_image_alloc(&img, 1, 6, 5) != FC_OK) abort();
    for (int i = 0; i < 30; i++) img.data[i] = (uint8_t)(i * 8);
    fc_fuzz_write("rafdb/Image/aligned/.keep", "", 0, path, sizeof path);
    snprintf(path, sizeof path, "%s/rafdb/Image/aligned/train_00001_aligned.jpg", fc_fuzz_dir());
    if (fc_image_write_png(path, &img) != FC_OK)
      abort(); /* PNG bytes: decoding goes by signature */
    snprintf(path, sizeof path, "%s/rafdb/Image/aligned/test_0001_aligned.jpg", fc_fuzz_dir());
    if (fc_image_write_png(path, &img) != FC_OK) abort();
    fc_image_free(&img);
    snprintf(dir, sizeof dir, "%s/rafdb", fc_fuzz_dir());
  }
  return dir;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fc_fuzz_init();
  const char *dir = root();
  char path[1024];
  fc_fuzz_write("rafdb/EmoLabel/list_patition_label.txt", data, size, path, sizeof path);
  fc_data_options o;
  fc_data_options_default(&o);
  o.format = FC_DATA_RAFDB;
  o.threads = 1;
  o.height = o.width = 8;
  fc_dataset *ds = NULL;
  if (fc_dataset_load(dir, &o, &ds) != FC_OK) return 0;
  FC_FUZZ_CHECK(ds->count > 0 && ds->count <= 2 * (int64_t)size, "%lld images",
                (long long)ds->count);
  for (int64_t i = 0; i < ds->count; i++) {
    FC_FUZZ_CHECK(ds->labels[i] >= 0 && ds->labels[i] < 7, "label %d", ds->labels[i]);
    FC_FUZZ_CHECK(strstr(ds->sources[i], "..") == NULL, "source %s leaves the dataset folder",
                  ds->sources[i]);
  }
  fc_dataset_free(ds);
  return 0;
}
