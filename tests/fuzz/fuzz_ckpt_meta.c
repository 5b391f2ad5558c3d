/* Fuzz target: the fer-cl checkpoint metadata reader (fc_checkpoint_read_meta):
 * what it accepts must be a valid network config with sane classes and
 * normalisation. */
#include <math.h>
#include <string.h>

#include "fercl/ckpt.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fc_fuzz_init();
  char path[1024];
  fc_fuzz_write("ckpt.safetensors", data, size, path, sizeof path);
  fc_model_meta meta;
  if (fc_checkpoint_read_meta(path, &meta) != FC_OK) return 0;
  FC_FUZZ_CHECK(fc_net_config_check(&meta.config) == FC_OK, "accepted an invalid config: %s",
                fc_last_error());
  for (int i = 0; i < meta.config.num_classes; i++) {
    size_t len = strnlen(meta.class_names[i], FC_CLASS_NAME_MAX);
    FC_FUZZ_CHECK(len > 0 && len < FC_CLASS_NAME_MAX, "class name %d", i);
  }
  for (int c = 0; c < meta.config.in_channels; c++)
    FC_FUZZ_CHECK(isfinite(meta.norm.mean[c]) && isfinite(meta.norm.std[c]) && meta.norm.std[c] > 0,
                  "normalisation of channel %d: mean %g std %g", c, meta.norm.mean[c],
                  meta.norm.std[c]);
  return 0;
}
