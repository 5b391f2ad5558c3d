/* Fuzz target: reading a labelled split (labels.txt, `train --split FILE`)
 * against a small dataset; what is accepted must partition the training set. */
#include <string.h>

#include "fercl/data.h"
#include "fuzz_common.h"
#include "seeds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fc_fuzz_init();
  static fc_dataset *ds = NULL;
  if (!ds && fc_fuzz_split_dataset(&ds) != FC_OK) abort();
  char path[1024];
  fc_fuzz_write("labels.txt", data, size, path, sizeof path);
  fc_index_list labeled, unlabeled;
  if (fc_label_split_read(path, ds, &labeled, &unlabeled) != FC_OK) return 0;
  FC_FUZZ_CHECK(labeled.count > 0 && labeled.count + unlabeled.count == ds->count,
                "%lld + %lld of %lld", (long long)labeled.count, (long long)unlabeled.count,
                (long long)ds->count);
  uint8_t *seen = calloc((size_t)ds->count, 1);
  for (int64_t i = 0; i < labeled.count; i++) {
    FC_FUZZ_CHECK(labeled.index[i] >= 0 && labeled.index[i] < ds->count && !seen[labeled.index[i]],
                  "labelled %lld", (long long)labeled.index[i]);
    seen[labeled.index[i]] = 1;
  }
  for (int64_t i = 0; i < unlabeled.count; i++) {
    FC_FUZZ_CHECK(
        unlabeled.index[i] >= 0 && unlabeled.index[i] < ds->count && !seen[unlabeled.index[i]],
        "unlabelled %lld", (long long)unlabeled.index[i]);
    seen[unlabeled.index[i]] = 1;
  }
  free(seen);
  fc_index_list_free(&labeled);
  fc_index_list_free(&unlabeled);
  return 0;
}
