/* Fuzz target: the FER2013 CSV reader, through fc_dataset_load (parsing,
 * pixel rows, class and split bookkeeping). */
#include "fercl/data.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fc_fuzz_init();
  char path[1024];
  fc_fuzz_write("fer2013.csv", data, size, path, sizeof path);
  fc_data_options o;
  fc_data_options_default(&o);
  o.format = FC_DATA_FER2013_CSV;
  o.threads = 1;
  fc_dataset *ds = NULL;
  if (fc_dataset_load(path, &o, &ds) != FC_OK) {
    FC_FUZZ_CHECK(ds == NULL, "dataset left behind after a failure");
    return 0;
  }
  FC_FUZZ_CHECK(ds->count > 0 && ds->class_count == 7, "%lld images, %d classes",
                (long long)ds->count, ds->class_count);
  FC_FUZZ_CHECK(ds->height == 48 && ds->width == 48 && ds->channels == 1, "size %dx%dx%d",
                ds->channels, ds->height, ds->width);
  for (int64_t i = 0; i < ds->count; i++) {
    FC_FUZZ_CHECK(ds->labels[i] >= -1 && ds->labels[i] < 7, "label %d", ds->labels[i]);
    FC_FUZZ_CHECK(ds->splits[i] < FC_SPLIT_COUNT, "split %d", ds->splits[i]);
  }
  fc_dataset_free(ds);
  return 0;
}
