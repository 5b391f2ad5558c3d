/* torchvision's ResNet initialisation, drawn deterministically from a seed. */
#include <math.h>
#include <stdlib.h>

#include "net/net_internal.h"

typedef struct init_rng {
  uint64_t state;
} init_rng;

static uint64_t next_u64(init_rng *r) {
  uint64_t z = (r->state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static double uniform01(init_rng *r) {
  return ((double)(next_u64(r) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

static double normal(init_rng *r) {
  return sqrt(-2.0 * log(uniform01(r))) * cos(6.283185307179586 * uniform01(r));
}

/* One stream per tensor, so a tensor's values do not depend on the others. */
static init_rng stream(uint64_t seed, int tensor) {
  init_rng r = {seed * 0x2545f4914f6cdd1dULL + (uint64_t)tensor * 0x9e3779b97f4a7c15ULL + 1};
  next_u64(&r);
  return r;
}

static void fill_uniform(float *p, size_t n, double bound, init_rng *r) {
  for (size_t i = 0; i < n; i++) p[i] = (float)((2.0 * uniform01(r) - 1.0) * bound);
}

fc_status fc_net_init_params(fc_net *net, uint64_t seed) {
  const fc_graph *g = &net->graph;
  float *params = calloc(g->n_params + 1, sizeof(float));
  float *stats = calloc(g->n_stats + 1, sizeof(float));
  if (!params || !stats) {
    free(params);
    free(stats);
    return fc_errorf(FC_ERR_NOMEM, "out of memory initialising parameters");
  }
  for (int i = 0; i < g->n_layers; i++) {
    const fc_layer *l = &g->layers[i];
    if (l->kind == FC_LAYER_CONV) {
      /* kaiming_normal_(mode="fan_out", nonlinearity="relu") */
      const fc_tensor_info *t = &g->tensors[l->weight];
      double fan_out = (double)t->shape[0] * t->shape[2] * t->shape[3];
      double std = sqrt(2.0 / fan_out);
      init_rng r = stream(seed, l->weight);
      for (size_t j = 0; j < t->count; j++) params[t->offset + j] = (float)(std * normal(&r));
    } else if (l->kind == FC_LAYER_BN) {
      const fc_tensor_info *gm = &g->tensors[l->gamma], *bt = &g->tensors[l->beta];
      const fc_tensor_info *rm = &g->tensors[l->rmean], *rv = &g->tensors[l->rvar];
      for (size_t j = 0; j < gm->count; j++) {
        params[gm->offset + j] = 1.0f;
        params[bt->offset + j] = 0.0f;
        stats[rm->offset + j] = 0.0f;
        stats[rv->offset + j] = 1.0f;
      }
    } else if (l->kind == FC_LAYER_LAE || l->kind == FC_LAYER_LINEAR) {
      /* nn.Conv2d / nn.Linear defaults: kaiming_uniform_(a=√5) = U(±1/√fan_in), bias alike. */
      const fc_tensor_info *w = &g->tensors[l->weight], *b = &g->tensors[l->bias];
      double fan_in = (double)(w->count / (size_t)w->shape[0]);
      double bound = 1.0 / sqrt(fan_in);
      init_rng rw = stream(seed, l->weight), rb = stream(seed, l->bias);
      fill_uniform(params + w->offset, w->count, bound, &rw);
      fill_uniform(params + b->offset, b->count, bound, &rb);
    }
  }
  fc_status st = fc_net_write_params(net, params, stats);
  net->batches_tracked = 0;
  free(params);
  free(stats);
  return st;
}
