/* fer-cl: the network — a ResNet (BasicBlock) backbone in torchvision's module
 * structure, with local attention enhancement (LAE) after stages 3 and 4,
 * random feature-map dropout (RFD) on the stage-4 output in training, and a
 * global-average-pool → dropout → linear head.
 *
 * One small config describes the network; from it come the parameter table
 * (torchvision names, so checkpoints load in PyTorch), the layer list that the
 * device code and the C reference both execute, and the checkpoint metadata.
 *
 * Parameters, their gradients and optimizer state each live in ONE flat
 * device buffer, with a named view per tensor (llm.c style); BN running
 * statistics live in a second flat buffer. Activations are planned once per
 * batch size: no allocation happens in a step. */
#ifndef FERCL_NET_H
#define FERCL_NET_H

#include <stddef.h>
#include <stdint.h>

#include "fercl/api.h"
#include "fercl/device.h"
#include "fercl/ops.h"
#include "fercl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum fc_stem {
  FC_STEM_IMAGENET = 0, /* 7×7 stride-2 conv + 3×3 stride-2 max-pool (torchvision) */
  FC_STEM_SMALL = 1     /* 3×3 stride-1 conv, no pool: for small faces (48×48) */
} fc_stem;

#define FC_NET_MAX_CLASSES 64

typedef struct fc_net_config {
  char arch[16];   /* "resnet10", "resnet18", "resnet34" */
  int blocks[4];   /* BasicBlocks per stage, from arch */
  int in_channels; /* 1 or 3 */
  int input_size;  /* square input side, ≥ 32 */
  int num_classes; /* 2 .. FC_NET_MAX_CLASSES */
  double width;    /* stage widths round(64·width)·2^s */
  fc_stem stem;
  int lae3, lae4;     /* local attention after stage 3 / stage 4 */
  int lae_kernel;     /* 3 or 7 */
  int rfd;            /* random feature-map dropout on the stage-4 output (training only) */
  double rfd_prob;    /* per-sample probability */
  int rfd_block;      /* block side; 0 = ⌈H/3⌉ of the stage-4 map */
  double dropout;     /* head dropout probability (training only) */
  double bn_momentum; /* PyTorch's: running = (1−m)·running + m·batch */
  double bn_eps;
} fc_net_config;

/* Defaults: resnet18, 1×48×48 input, 7 classes, width 1, small stem, LAE on
 * both stages with k = 7, RFD p = 0.5, dropout 0, BN momentum 0.1, eps 1e-5. */
FC_API void fc_net_config_default(fc_net_config *cfg);
/* Sets arch and blocks; FC_ERR_INVALID_ARG for an unknown name. */
FC_API fc_status fc_net_config_set_arch(fc_net_config *cfg, const char *arch);
/* FC_ERR_INVALID_ARG naming the first bad field. */
FC_API fc_status fc_net_config_check(const fc_net_config *cfg);
/* Stage s (0..3) channel count. */
FC_API int fc_net_stage_channels(const fc_net_config *cfg, int stage);
FC_API const char *fc_stem_name(fc_stem stem);
FC_API fc_status fc_stem_parse(const char *name, fc_stem *stem);

/* ---- tensors (the parameter table) ---- */

typedef enum fc_tensor_store {
  FC_STORE_PARAM = 0, /* trainable: the params / grads / optimizer buffers */
  FC_STORE_STAT = 1   /* BN running mean / var: the stats buffer */
} fc_tensor_store;

typedef struct fc_tensor_info {
  char name[64]; /* torchvision name, e.g. "layer2.0.downsample.1.running_var" */
  int ndim;
  int shape[4];
  fc_tensor_store store;
  size_t offset; /* in floats, within its buffer */
  size_t count;
  int decay; /* weight decay applies (conv and linear weights) */
} fc_tensor_info;

/* ---- the device network ---- */

typedef struct fc_net fc_net;

enum {
  FC_NET_TRAINABLE = 1u << 0 /* allocate gradients and optimizer state */
};

/* Allocates the flat buffers for cfg on dev. Parameters start uninitialised:
 * call fc_net_init_params or load a checkpoint. */
FC_API fc_status fc_net_create(fc_device *dev, const fc_net_config *cfg, unsigned flags,
                               fc_net **out);
FC_API void fc_net_free(fc_net *net);

FC_API const fc_net_config *fc_net_get_config(const fc_net *net);
FC_API fc_device *fc_net_get_device(const fc_net *net);
FC_API int fc_net_tensor_count(const fc_net *net);
FC_API const fc_tensor_info *fc_net_tensor(const fc_net *net, int index);
/* NULL when no tensor has that name. */
FC_API const fc_tensor_info *fc_net_find_tensor(const fc_net *net, const char *name);
FC_API size_t fc_net_param_count(const fc_net *net); /* trainable floats */
FC_API size_t fc_net_stat_count(const fc_net *net);  /* running-statistics floats */

/* The flat buffers (views of n floats). grads/opt_* only for FC_NET_TRAINABLE. */
FC_API fc_view fc_net_params(const fc_net *net);
FC_API fc_view fc_net_grads(const fc_net *net);
FC_API fc_view fc_net_stats(const fc_net *net);
/* Optimizer state: two buffers of param_count floats (SGD uses the first). */
FC_API fc_view fc_net_opt_state(const fc_net *net, int which);
/* The view of one tensor (in params or stats). */
FC_API fc_view fc_net_tensor_view(const fc_net *net, const fc_tensor_info *t);
/* Gradient view of a parameter tensor. */
FC_API fc_view fc_net_tensor_grad(const fc_net *net, const fc_tensor_info *t);

/* Weight-decay segments over the parameter buffer (conv/linear weights decay;
 * BN and biases do not), in the form the optimizers take. */
FC_API int fc_net_decay_segments(const fc_net *net, const fc_optim_segment **segments);

/* torchvision's initialisation (kaiming-normal fan_out convs, BN γ=1 β=0,
 * nn.Linear/nn.Conv2d defaults elsewhere), drawn from seed; running mean 0,
 * var 1. Deterministic across devices. */
FC_API fc_status fc_net_init_params(fc_net *net, uint64_t seed);

/* Host copies of the buffers (blocking). */
FC_API fc_status fc_net_read_params(fc_net *net, float *params, float *stats);
FC_API fc_status fc_net_write_params(fc_net *net, const float *params, const float *stats);
/* Copies parameters and statistics from src (same config). */
FC_API fc_status fc_net_copy_params(fc_net *dst, const fc_net *src);
/* BN batches seen in training (torchvision's num_batches_tracked). */
FC_API int64_t fc_net_batches_tracked(const fc_net *net);
FC_API void fc_net_set_batches_tracked(fc_net *net, int64_t n);

/* ---- plans: activations for one batch size and mode ---- */

typedef struct fc_net_plan fc_net_plan;

typedef enum fc_net_mode {
  FC_NET_INFERENCE = 0, /* BN with running statistics, no RFD, no dropout, no backward */
  FC_NET_TRAINING = 1   /* batch statistics (running stats updated), RFD, dropout, backward */
} fc_net_mode;

/* Plans and allocates everything a forward (and, in training, backward) of
 * `batch` samples needs, and builds every kernel it will use. */
FC_API fc_status fc_net_plan_create(fc_net *net, int batch, fc_net_mode mode, fc_net_plan **out);
FC_API void fc_net_plan_free(fc_net_plan *plan);
FC_API int fc_net_plan_batch(const fc_net_plan *plan);
/* Device bytes the plan holds (activations, gradients, workspace). */
FC_API size_t fc_net_plan_bytes(const fc_net_plan *plan);

/* What a plan / a network would take on a device, computed without one (to
 * refuse a batch the device cannot hold before allocating anything). The
 * plan's equals fc_net_plan_bytes of the plan fc_net_plan_create makes, which
 * refuses plans larger than the device's global memory. */
FC_API fc_status fc_net_plan_device_bytes(const fc_net_config *cfg, int batch, fc_net_mode mode,
                                          size_t *bytes);
/* Parameters and statistics, plus gradients and optimizer state with FC_NET_TRAINABLE. */
FC_API fc_status fc_net_device_bytes(const fc_net_config *cfg, unsigned flags, size_t *bytes);

/* Input normalisation: x = (v/255 − mean[c]) / std[c]. */
typedef struct fc_input_norm {
  float mean[4], std[4];
} fc_input_norm;

/* Forward of `batch` uint8 images [N][C][H][W] at images (byte offset in
 * images.offset). seed and step key RFD and dropout draws (training only).
 * Logits [N][classes] land in fc_net_plan_logits. */
/* An inference plan with on ≠ 0 normalises every BN layer with the statistics of the
 * batch it runs on (as training does) and leaves the running statistics untouched; RFD and
 * dropout stay off. For a teacher whose running statistics lag its weights (early training).
 * No effect on training plans. */
FC_API void fc_net_plan_set_batch_stats(fc_net_plan *plan, int on);
FC_API fc_status fc_net_forward(fc_net_plan *plan, fc_view images, const fc_input_norm *norm,
                                uint64_t seed, uint64_t step);
FC_API fc_view fc_net_plan_logits(const fc_net_plan *plan);
/* Backward of the last training forward from dlogits [N][classes]: parameter
 * gradients are ADDED to the net's grads buffer (zero it first). */
FC_API fc_status fc_net_backward(fc_net_plan *plan, fc_view dlogits);

#ifdef __cplusplus
}
#endif
#endif
