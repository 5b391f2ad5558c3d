/* Internal structure of fc_net and fc_net_plan (shared by net.c, init.c,
 * checkpoint.c and the tests). */
#ifndef FERCL_NET_INTERNAL_H
#define FERCL_NET_INTERNAL_H

#include <CL/cl.h>

#include "fercl/ckpt.h"
#include "fercl/net.h"
#include "net/graph.h"

struct fc_net {
  fc_device *dev;
  fc_net_config cfg;
  fc_graph graph;
  unsigned flags;
  cl_mem params, grads, stats, opt[2];
  int64_t batches_tracked;
};

struct fc_net_plan {
  fc_net *net;
  int batch;
  fc_net_mode mode;
  int n_slots, n_layers;
  cl_mem *act;       /* per slot */
  int *act_alias;    /* slot whose buffer this slot shares (identity layers in inference), or -1 */
  cl_mem *grad;      /* per slot, training only (slot 0, the input, has none) */
  int *grad_written; /* per slot, during backward */
  cl_mem
      *aux; /* per layer: what backward needs (BN statistics, argmax, attention maps, RFD draws) */
  cl_mem work; /* shared workspace */
  size_t work_floats;
  cl_mem scratch; /* a second gradient target when a slot has several consumers */
  cl_mem input;   /* uint8 images for warm-up (and callers without their own upload buffer) */
  size_t bytes;
  fc_view dlogits;
  int forward_done;
  int batch_stats; /* inference: BN normalises with the batch's statistics */
  uint64_t seed, step;
  const fc_bn_sync
      *bn_sync; /* training: batch statistics shared with other ranks (--sync-bn), or NULL */
};

/* The plan's own uint8 input buffer, batch×C×H×W bytes. */
fc_view fc_net_plan_input(const fc_net_plan *plan);
/* Runs forward (+ backward) once on zeros so all kernels are built, restoring state. */
fc_status fc_net_plan_warmup(fc_net_plan *plan);
/* The per-step seed of a random stream (dropout), shared with the reference. */
uint64_t fc_net_draw_seed(uint64_t seed, uint64_t step, int stream);

/* The host halves of fc_checkpoint_load and fc_checkpoint_save, for tools that
 * need no device (ONNX export, tests). read_tensors checks every name, shape
 * and dtype against the graph of cfg (one message listing the mismatches)
 * and fills params / stats (the graph's n_params / n_stats floats);
 * batches_tracked may be NULL. */
fc_status fc_checkpoint_read_tensors(const char *path, const fc_net_config *cfg,
                                     const fc_graph *graph, float *params, float *stats,
                                     int64_t *batches_tracked);
/* The class names as a JSON list, '["angry","disgust",...]' (malloc'd; NULL when out of memory). */
char *fc_model_meta_classes_json(const fc_model_meta *meta);
fc_status fc_checkpoint_write_host(const char *path, const fc_graph *graph,
                                   const fc_model_meta *meta, const float *params,
                                   const float *stats, int64_t batches_tracked,
                                   const fc_ckpt_blob *blobs, int n_blobs, const char *const *keys,
                                   const char *const *values, int n_kv);

#endif
