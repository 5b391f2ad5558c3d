/* fer-cl: checkpoints in the safetensors format.
 *
 * Tensor names are torchvision's resnet state_dict names ("conv1.weight",
 * "layer1.0.bn1.running_mean", "fc.weight", ... with num_batches_tracked as
 * I64 scalars), so `model.load_state_dict(safetensors_load(path), strict=False)`
 * works in PyTorch; our extra modules have their own names ("lae3.conv.weight").
 * Training state for resume lives under the "train." prefix. The
 * __metadata__ holds the network config, class names and input normalisation
 * under "fercl." keys. Files are written to a temp name and renamed. */
#ifndef FERCL_CKPT_H
#define FERCL_CKPT_H

#include <stddef.h>

#include "fercl/api.h"
#include "fercl/net.h"
#include "fercl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FC_CKPT_FORMAT_VERSION "1"
#define FC_CLASS_NAME_MAX 64

/* What a model needs besides its weights. */
typedef struct fc_model_meta {
  fc_net_config config;
  char class_names[FC_NET_MAX_CLASSES][FC_CLASS_NAME_MAX];
  fc_input_norm norm;
} fc_model_meta;

/* A named float array saved along the model (resume state). */
typedef struct fc_ckpt_blob {
  const char *name; /* must start with "train." */
  const float *data;
  size_t count;
} fc_ckpt_blob;

/* Writes the model's parameters and statistics (read from the device) plus
 * blobs and extra metadata (keys should start with "fercl."). */
FC_API fc_status fc_checkpoint_save(const char *path, fc_net *model, const fc_model_meta *meta,
                                    const fc_ckpt_blob *blobs, int n_blobs, const char *const *keys,
                                    const char *const *values, int n_kv);

/* Reads the metadata of a fer-cl checkpoint (config, classes, normalisation). */
FC_API fc_status fc_checkpoint_read_meta(const char *path, fc_model_meta *meta);

/* Loads every tensor of the model. Every name, shape and dtype is checked;
 * all mismatches are reported in one message (missing, unexpected, wrong
 * shape, wrong dtype). Tensors under "train." are allowed and ignored here. */
FC_API fc_status fc_checkpoint_load(const char *path, fc_net *model);

/* --init: loads what fits from a torchvision-named safetensors file (e.g.
 * converted ImageNet weights): tensors with a matching name and shape are
 * loaded; the classifier is skipped when the class count differs; a
 * 3-channel conv1 is summed to 1 channel for grayscale models. `report`
 * (may be NULL) receives a summary of what was loaded and what was not. */
FC_API fc_status fc_checkpoint_init_from(const char *path, fc_net *model, char *report,
                                         size_t report_size);

/* Default normalisation for c channels: mean 0.5, std 0.25 (what fer-cl uses
 * when no dataset statistics are given). */
FC_API void fc_input_norm_default(fc_input_norm *norm, int channels);

#ifdef __cplusplus
}
#endif
#endif
