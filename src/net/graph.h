/* The network as data: the parameter table and the layer list that both the
 * device driver (net.c) and the C reference (ref_net.c) execute, built from
 * one fc_net_config. */
#ifndef FERCL_NET_GRAPH_H
#define FERCL_NET_GRAPH_H

#include "fercl/net.h"

typedef enum fc_layer_kind {
  FC_LAYER_INPUT,   /* uint8 images → normalised floats (slot y) */
  FC_LAYER_CONV,    /* no bias (every conv is followed by BN) */
  FC_LAYER_BN,      /* batch norm with epilogue; FC_BN_ADD_RELU reads `residual` */
  FC_LAYER_MAXPOOL, /* k×k, stride, pad */
  FC_LAYER_LAE,     /* spatial attention, k×k, weight + bias */
  FC_LAYER_RFD,     /* random feature-map dropout (training only; identity otherwise) */
  FC_LAYER_GAP,     /* 4-D → [N][C] */
  FC_LAYER_DROPOUT, /* [N][C] (training only; identity otherwise) */
  FC_LAYER_LINEAR   /* [N][in] → [N][out], weight + bias */
} fc_layer_kind;

/* An activation: 4-D (c, h, w) per sample, or 2-D [N][c] when flat. */
typedef struct fc_slot {
  int c, h, w;
  int flat;
} fc_slot;

typedef struct fc_layer {
  fc_layer_kind kind;
  char name[48]; /* module name: "layer2.0.conv1", "lae3", "fc" */
  int x, y;      /* input and output slots */
  int residual;  /* FC_BN_ADD_RELU: the shortcut's slot, else -1 */
  fc_bn_epilogue epilogue;
  int k, stride, pad;
  int weight, bias;             /* tensor indices or -1 */
  int gamma, beta, rmean, rvar; /* BN tensor indices or -1 */
  int rng_id;                   /* RFD / dropout stream id */
} fc_layer;

typedef struct fc_graph {
  fc_tensor_info *tensors;
  int n_tensors;
  size_t n_params, n_stats;
  int n_bn; /* BN modules (for num_batches_tracked) */
  fc_layer *layers;
  int n_layers;
  fc_slot *slots;
  int n_slots;
  int logits_slot;
  fc_optim_segment *segments; /* weight-decay segments over the params buffer */
  int n_segments;
} fc_graph;

fc_status fc_graph_build(const fc_net_config *cfg, fc_graph *graph);
void fc_graph_free(fc_graph *graph);

static inline size_t fc_slot_count(const fc_slot *s, int batch) {
  return (size_t)batch * (size_t)s->c * (size_t)s->h * (size_t)s->w;
}

/* The network's activations are channel-major (CNHW) on the device and in the reference. */
static inline fc_shape4 fc_slot_shape(const fc_slot *s, int batch) {
  fc_shape4 sh = {batch, s->c, s->h, s->w, FC_LAYOUT_CNHW};
  return sh;
}

/* The BN module names in state_dict order (for num_batches_tracked). */
int fc_graph_bn_names(const fc_graph *graph, const char **names, int max);

#endif
