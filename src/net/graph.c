/* From a config to the parameter table (torchvision's state_dict order and
 * names) and the layer list. */
#include "net/graph.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct builder {
  fc_graph *g;
  int cap_tensors, cap_layers, cap_slots, cap_segments;
  int failed;
} builder;

static void *grow(void *p, int *cap, int need, size_t elem, int *failed) {
  if (need <= *cap) return p;
  int n = *cap ? *cap * 2 : 32;
  while (n < need) n *= 2;
  void *q = realloc(p, (size_t)n * elem);
  if (!q) {
    *failed = 1;
    return p;
  }
  *cap = n;
  return q;
}

static int add_tensor(builder *b, fc_tensor_store store, int decay, int ndim, const int *shape,
                      const char *fmt, ...) {
  fc_graph *g = b->g;
  g->tensors = grow(g->tensors, &b->cap_tensors, g->n_tensors + 1, sizeof *g->tensors, &b->failed);
  if (b->failed) return -1;
  fc_tensor_info *t = &g->tensors[g->n_tensors];
  memset(t, 0, sizeof *t);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(t->name, sizeof t->name, fmt, ap);
  va_end(ap);
  t->ndim = ndim;
  t->count = 1;
  for (int i = 0; i < ndim; i++) {
    t->shape[i] = shape[i];
    t->count *= (size_t)shape[i];
  }
  t->store = store;
  t->decay = decay;
  if (store == FC_STORE_PARAM) {
    t->offset = g->n_params;
    g->n_params += t->count;
    /* Extend the last segment when the decay flag is the same. */
    if (g->n_segments > 0 && g->segments[g->n_segments - 1].decay == decay &&
        g->segments[g->n_segments - 1].offset + g->segments[g->n_segments - 1].count == t->offset) {
      g->segments[g->n_segments - 1].count += t->count;
    } else {
      g->segments =
          grow(g->segments, &b->cap_segments, g->n_segments + 1, sizeof *g->segments, &b->failed);
      if (b->failed) return -1;
      g->segments[g->n_segments].offset = t->offset;
      g->segments[g->n_segments].count = t->count;
      g->segments[g->n_segments].decay = decay;
      g->n_segments++;
    }
  } else {
    t->offset = g->n_stats;
    g->n_stats += t->count;
  }
  return g->n_tensors++;
}

static int add_slot(builder *b, int c, int h, int w, int flat) {
  fc_graph *g = b->g;
  g->slots = grow(g->slots, &b->cap_slots, g->n_slots + 1, sizeof *g->slots, &b->failed);
  if (b->failed) return -1;
  g->slots[g->n_slots] = (fc_slot){c, h, w, flat};
  return g->n_slots++;
}

static fc_layer *add_layer(builder *b, fc_layer_kind kind, const char *name, int x) {
  fc_graph *g = b->g;
  g->layers = grow(g->layers, &b->cap_layers, g->n_layers + 1, sizeof *g->layers, &b->failed);
  if (b->failed) return NULL;
  fc_layer *l = &g->layers[g->n_layers++];
  memset(l, 0, sizeof *l);
  l->kind = kind;
  snprintf(l->name, sizeof l->name, "%s", name);
  l->x = x;
  l->y = -1;
  l->residual = -1;
  l->weight = l->bias = l->gamma = l->beta = l->rmean = l->rvar = -1;
  return l;
}

static int conv_out(int size, int k, int stride, int pad) {
  return (size + 2 * pad - k) / stride + 1;
}

/* conv (no bias): x → new slot. */
static int conv(builder *b, const char *module, int x, int c_out, int k, int stride, int pad) {
  if (b->failed) return -1;
  const fc_slot in = b->g->slots[x];
  int wshape[4] = {c_out, in.c, k, k};
  int w = add_tensor(b, FC_STORE_PARAM, 1, 4, wshape, "%s.weight", module);
  int y = add_slot(b, c_out, conv_out(in.h, k, stride, pad), conv_out(in.w, k, stride, pad), 0);
  fc_layer *l = add_layer(b, FC_LAYER_CONV, module, x);
  if (!l) return -1;
  l->y = y;
  l->k = k;
  l->stride = stride;
  l->pad = pad;
  l->weight = w;
  return y;
}

typedef struct bn_tensors {
  int gamma, beta, rmean, rvar;
} bn_tensors;

static bn_tensors bn_make_tensors(builder *b, const char *module, int channels) {
  int shape[1] = {channels};
  bn_tensors t;
  t.gamma = add_tensor(b, FC_STORE_PARAM, 0, 1, shape, "%s.weight", module);
  t.beta = add_tensor(b, FC_STORE_PARAM, 0, 1, shape, "%s.bias", module);
  t.rmean = add_tensor(b, FC_STORE_STAT, 0, 1, shape, "%s.running_mean", module);
  t.rvar = add_tensor(b, FC_STORE_STAT, 0, 1, shape, "%s.running_var", module);
  return t;
}

/* A BN layer over tensors made earlier (so the parameter order can follow
 * torchvision's state_dict while layers follow execution order). */
static int bn_layer(builder *b, const char *module, int x, fc_bn_epilogue epilogue, int residual,
                    bn_tensors t) {
  if (b->failed) return -1;
  const fc_slot in = b->g->slots[x];
  int y = add_slot(b, in.c, in.h, in.w, 0);
  fc_layer *l = add_layer(b, FC_LAYER_BN, module, x);
  if (!l) return -1;
  l->y = y;
  l->epilogue = epilogue;
  l->residual = residual;
  l->gamma = t.gamma;
  l->beta = t.beta;
  l->rmean = t.rmean;
  l->rvar = t.rvar;
  b->g->n_bn++;
  return y;
}

static int batchnorm(builder *b, const char *module, int x, fc_bn_epilogue epilogue, int residual) {
  if (b->failed) return -1;
  bn_tensors t = bn_make_tensors(b, module, b->g->slots[x].c);
  return bn_layer(b, module, x, epilogue, residual, t);
}

static int basic_block(builder *b, int stage, int index, int x, int planes, int stride) {
  char m[48], m2[48];
  const fc_slot in = b->g->slots[x];
  snprintf(m, sizeof m, "layer%d.%d.conv1", stage + 1, index);
  int t = conv(b, m, x, planes, 3, stride, 1);
  snprintf(m, sizeof m, "layer%d.%d.bn1", stage + 1, index);
  t = batchnorm(b, m, t, FC_BN_RELU, -1);
  snprintf(m, sizeof m, "layer%d.%d.conv2", stage + 1, index);
  t = conv(b, m, t, planes, 3, 1, 1);
  /* torchvision's order: bn2 before downsample; execution needs the shortcut first. */
  snprintf(m, sizeof m, "layer%d.%d.bn2", stage + 1, index);
  bn_tensors bn2 = bn_make_tensors(b, m, planes);
  int shortcut = x;
  if (stride != 1 || in.c != planes) {
    snprintf(m2, sizeof m2, "layer%d.%d.downsample.0", stage + 1, index);
    int d = conv(b, m2, x, planes, 1, stride, 0);
    snprintf(m2, sizeof m2, "layer%d.%d.downsample.1", stage + 1, index);
    shortcut = batchnorm(b, m2, d, FC_BN_PLAIN, -1);
  }
  return bn_layer(b, m, t, FC_BN_ADD_RELU, shortcut, bn2);
}

static int lae(builder *b, const char *module, int x, int k) {
  if (b->failed) return -1;
  const fc_slot in = b->g->slots[x];
  int wshape[4] = {1, 2, k, k}, bshape[1] = {1};
  int w = add_tensor(b, FC_STORE_PARAM, 1, 4, wshape, "%s.conv.weight", module);
  int bias = add_tensor(b, FC_STORE_PARAM, 0, 1, bshape, "%s.conv.bias", module);
  int y = add_slot(b, in.c, in.h, in.w, 0);
  fc_layer *l = add_layer(b, FC_LAYER_LAE, module, x);
  if (!l) return -1;
  l->y = y;
  l->k = k;
  l->weight = w;
  l->bias = bias;
  return y;
}

fc_status fc_graph_build(const fc_net_config *cfg, fc_graph *g) {
  memset(g, 0, sizeof *g);
  FC_TRY(fc_net_config_check(cfg));
  builder b = {.g = g};
  int s = cfg->input_size;
  int x = add_slot(&b, cfg->in_channels, s, s, 0);
  fc_layer *in = add_layer(&b, FC_LAYER_INPUT, "input", -1);
  if (in) in->y = x;

  int c0 = fc_net_stage_channels(cfg, 0);
  if (cfg->stem == FC_STEM_IMAGENET) {
    x = conv(&b, "conv1", x, c0, 7, 2, 3);
    x = batchnorm(&b, "bn1", x, FC_BN_RELU, -1);
    if (!b.failed) {
      const fc_slot sl = g->slots[x];
      int y = add_slot(&b, sl.c, conv_out(sl.h, 3, 2, 1), conv_out(sl.w, 3, 2, 1), 0);
      fc_layer *l = add_layer(&b, FC_LAYER_MAXPOOL, "maxpool", x);
      if (l) {
        l->y = y;
        l->k = 3;
        l->stride = 2;
        l->pad = 1;
      }
      x = y;
    }
  } else {
    x = conv(&b, "conv1", x, c0, 3, 1, 1);
    x = batchnorm(&b, "bn1", x, FC_BN_RELU, -1);
  }
  for (int stage = 0; stage < 4 && !b.failed; stage++) {
    int planes = fc_net_stage_channels(cfg, stage);
    for (int i = 0; i < cfg->blocks[stage] && !b.failed; i++)
      x = basic_block(&b, stage, i, x, planes, (stage > 0 && i == 0) ? 2 : 1);
    if (stage == 2 && cfg->lae3) x = lae(&b, "lae3", x, cfg->lae_kernel);
    if (stage == 3 && cfg->lae4) x = lae(&b, "lae4", x, cfg->lae_kernel);
  }
  if (cfg->rfd && !b.failed) {
    const fc_slot sl = g->slots[x];
    int y = add_slot(&b, sl.c, sl.h, sl.w, 0);
    fc_layer *l = add_layer(&b, FC_LAYER_RFD, "rfd", x);
    if (l) {
      l->y = y;
      l->k = cfg->rfd_block > 0 ? cfg->rfd_block : fc_rfd_default_block(sl.h);
      l->rng_id = 1;
    }
    x = y;
  }
  if (!b.failed) {
    int c = g->slots[x].c;
    int y = add_slot(&b, c, 1, 1, 1);
    fc_layer *l = add_layer(&b, FC_LAYER_GAP, "avgpool", x);
    if (l) l->y = y;
    x = y;
  }
  if (cfg->dropout > 0.0 && !b.failed) {
    int y = add_slot(&b, g->slots[x].c, 1, 1, 1);
    fc_layer *l = add_layer(&b, FC_LAYER_DROPOUT, "dropout", x);
    if (l) {
      l->y = y;
      l->rng_id = 2;
    }
    x = y;
  }
  if (!b.failed) {
    int in_features = g->slots[x].c;
    int wshape[2] = {cfg->num_classes, in_features}, bshape[1] = {cfg->num_classes};
    int w = add_tensor(&b, FC_STORE_PARAM, 1, 2, wshape, "fc.weight");
    int bias = add_tensor(&b, FC_STORE_PARAM, 0, 1, bshape, "fc.bias");
    int y = add_slot(&b, cfg->num_classes, 1, 1, 1);
    fc_layer *l = add_layer(&b, FC_LAYER_LINEAR, "fc", x);
    if (l) {
      l->y = y;
      l->weight = w;
      l->bias = bias;
    }
    g->logits_slot = y;
  }
  if (b.failed) {
    fc_graph_free(g);
    return fc_errorf(FC_ERR_NOMEM, "out of memory building the network graph");
  }
  return FC_OK;
}

void fc_graph_free(fc_graph *g) {
  free(g->tensors);
  free(g->layers);
  free(g->slots);
  free(g->segments);
  memset(g, 0, sizeof *g);
}

int fc_graph_bn_names(const fc_graph *g, const char **names, int max) {
  int n = 0;
  for (int i = 0; i < g->n_layers; i++)
    if (g->layers[i].kind == FC_LAYER_BN) {
      if (n < max) names[n] = g->layers[i].name;
      n++;
    }
  return n;
}
