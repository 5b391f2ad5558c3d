/* The reference network: the layer list run with the double-precision ops. */
#include "net/ref_net.h"

#include <stdlib.h>
#include <string.h>

#include "net/net_internal.h"
#include "ops/ref/ref.h"

static size_t aux_bytes(const fc_graph *g, const fc_layer *l, int batch) {
  switch (l->kind) {
  case FC_LAYER_BN: return 2 * (size_t)g->slots[l->x].c * sizeof(double);
  case FC_LAYER_MAXPOOL: return fc_slot_count(&g->slots[l->y], batch) * sizeof(int32_t);
  case FC_LAYER_LAE:
    return fc_lae_saved_size(fc_slot_shape(&g->slots[l->x], batch)) * sizeof(double);
  case FC_LAYER_RFD: return 4 * (size_t)batch * sizeof(int32_t);
  default: return 0;
  }
}

void fc_ref_net_free(fc_ref_net *r) {
  if (!r) return;
  for (int s = 0; s < r->graph.n_slots; s++) {
    if (r->act) free(r->act[s]);
    if (r->grad) free(r->grad[s]);
  }
  for (int i = 0; i < r->graph.n_layers; i++)
    if (r->aux) free(r->aux[i]);
  free(r->act);
  free(r->grad);
  free(r->aux);
  free(r->grad_written);
  free(r->scratch);
  free(r->params);
  free(r->stats);
  free(r->grads);
  fc_graph_free(&r->graph);
  free(r);
}

fc_status fc_ref_net_create(const fc_net_config *cfg, int batch, int training, fc_ref_net **out) {
  *out = NULL;
  fc_ref_net *r = calloc(1, sizeof *r);
  if (!r) return fc_errorf(FC_ERR_NOMEM, "out of memory");
  r->cfg = *cfg;
  r->batch = batch;
  r->training = training;
  fc_status st = fc_graph_build(cfg, &r->graph);
  if (st != FC_OK) {
    free(r);
    return st;
  }
  const fc_graph *g = &r->graph;
  r->params = calloc(g->n_params + 1, sizeof(double));
  r->stats = calloc(g->n_stats + 1, sizeof(double));
  r->grads = calloc(g->n_params + 1, sizeof(double));
  r->act = calloc((size_t)g->n_slots, sizeof *r->act);
  r->grad = calloc((size_t)g->n_slots, sizeof *r->grad);
  r->aux = calloc((size_t)g->n_layers, sizeof *r->aux);
  r->grad_written = calloc((size_t)g->n_slots, sizeof *r->grad_written);
  int ok = r->params && r->stats && r->grads && r->act && r->grad && r->aux && r->grad_written;
  size_t max_slot = 0;
  for (int s = 0; s < g->n_slots && ok; s++) {
    size_t n = fc_slot_count(&g->slots[s], batch);
    if (n > max_slot) max_slot = n;
    r->act[s] = calloc(n, sizeof(double));
    r->grad[s] = calloc(n, sizeof(double));
    ok = r->act[s] && r->grad[s];
  }
  for (int i = 0; i < g->n_layers && ok; i++) {
    size_t b = aux_bytes(g, &g->layers[i], batch);
    if (b) ok = (r->aux[i] = calloc(1, b)) != NULL;
  }
  if (ok) ok = (r->scratch = calloc(max_slot, sizeof(double))) != NULL;
  if (!ok) {
    fc_ref_net_free(r);
    return fc_errorf(FC_ERR_NOMEM, "out of memory for the reference network");
  }
  *out = r;
  return FC_OK;
}

void fc_ref_net_set_params(fc_ref_net *r, const float *params, const float *stats) {
  for (size_t i = 0; i < r->graph.n_params; i++) r->params[i] = params[i];
  for (size_t i = 0; i < r->graph.n_stats; i++) r->stats[i] = stats[i];
}

static fc_conv2d_desc conv_desc(const fc_graph *g, const fc_layer *l, int batch) {
  const fc_slot *x = &g->slots[l->x], *y = &g->slots[l->y];
  fc_conv2d_desc d = {batch, x->c, x->h, x->w, y->c, l->k, l->k, l->stride, l->pad, FC_LAYOUT_CNHW};
  return d;
}

#define P(t) (r->params + g->tensors[(t)].offset)
#define S(t) (r->stats + g->tensors[(t)].offset)
#define G(t) (r->grads + g->tensors[(t)].offset)

void fc_ref_net_forward(fc_ref_net *r, const uint8_t *images, const fc_input_norm *norm,
                        uint64_t seed, uint64_t step) {
  const fc_graph *g = &r->graph;
  const int n = r->batch;
  r->seed = seed;
  r->step = step;
  for (int i = 0; i < g->n_layers; i++) {
    const fc_layer *l = &g->layers[i];
    double *x = l->x >= 0 ? r->act[l->x] : NULL, *y = r->act[l->y];
    fc_shape4 xs =
        l->x >= 0 ? fc_slot_shape(&g->slots[l->x], n) : fc_slot_shape(&g->slots[l->y], n);
    switch (l->kind) {
    case FC_LAYER_INPUT: fc_ref_input_from_u8(xs, images, norm->mean, norm->std, y); break;
    case FC_LAYER_CONV: {
      fc_conv2d_desc d = conv_desc(g, l, n);
      fc_ref_conv2d_forward(&d, x, P(l->weight), NULL, y);
      break;
    }
    case FC_LAYER_BN: {
      const double *res = l->residual >= 0 ? r->act[l->residual] : NULL;
      if (r->training || r->batch_stats) {
        double *save = r->aux[i];
        fc_ref_batchnorm_forward_train(xs, x, P(l->gamma), P(l->beta), S(l->rmean), S(l->rvar),
                                       r->training ? r->cfg.bn_momentum : 0.0, r->cfg.bn_eps, save,
                                       save + xs.c, l->epilogue, res, y);
      } else {
        fc_ref_batchnorm_forward_infer(xs, x, P(l->gamma), P(l->beta), S(l->rmean), S(l->rvar),
                                       r->cfg.bn_eps, l->epilogue, res, y);
      }
      break;
    }
    case FC_LAYER_MAXPOOL:
      fc_ref_maxpool2d_forward(xs, l->k, l->stride, l->pad, x, y, r->aux[i]);
      break;
    case FC_LAYER_LAE:
      fc_ref_lae_forward(xs, l->k, x, P(l->weight), P(l->bias), y, r->aux[i]);
      break;
    case FC_LAYER_RFD:
      if (r->training) {
        fc_ref_rfd_draw(xs, l->k, (float)r->cfg.rfd_prob, seed, step, (uint32_t)l->rng_id,
                        r->aux[i]);
        fc_ref_rfd_apply(xs, l->k, r->aux[i], x, y);
      } else {
        memcpy(y, x, fc_shape4_count(xs) * sizeof(double));
      }
      break;
    case FC_LAYER_GAP: fc_ref_global_avgpool_forward(xs, x, y); break;
    case FC_LAYER_DROPOUT:
      fc_ref_dropout_forward(x, y, fc_slot_count(&g->slots[l->x], n), r->cfg.dropout,
                             fc_net_draw_seed(seed, step, l->rng_id), r->training);
      break;
    case FC_LAYER_LINEAR:
      fc_ref_linear_forward(n, g->slots[l->x].c, g->slots[l->y].c, x, P(l->weight), P(l->bias), y);
      break;
    }
  }
  if (r->training) r->batches_tracked++;
}

const double *fc_ref_net_logits(const fc_ref_net *r) { return r->act[r->graph.logits_slot]; }

static void add_into(double *acc, const double *v, size_t n) {
  for (size_t i = 0; i < n; i++) acc[i] += v[i];
}

static void accumulate(double *acc, const double *v, size_t n) { add_into(acc, v, n); }

void fc_ref_net_backward(fc_ref_net *r, const double *dlogits) {
  const fc_graph *g = &r->graph;
  const int n = r->batch;
  memset(r->grad_written, 0, (size_t)g->n_slots * sizeof *r->grad_written);
  for (int i = g->n_layers - 1; i >= 0; i--) {
    const fc_layer *l = &g->layers[i];
    if (l->kind == FC_LAYER_INPUT) continue;
    const int need_dx = l->x > 0;
    fc_shape4 xs = fc_slot_shape(&g->slots[l->x], n);
    size_t nx = fc_shape4_count(xs);
    double *x = r->act[l->x], *y = r->act[l->y];
    const double *dy = l->y == g->logits_slot ? dlogits : r->grad[l->y];
    double *dx = need_dx ? (r->grad_written[l->x] ? r->scratch : r->grad[l->x]) : r->scratch;
    switch (l->kind) {
    case FC_LAYER_CONV: {
      fc_conv2d_desc d = conv_desc(g, l, n);
      const fc_tensor_info *wt = &g->tensors[l->weight];
      double *dw = calloc(wt->count, sizeof(double));
      fc_ref_conv2d_backward_weights(&d, x, dy, dw, NULL);
      accumulate(G(l->weight), dw, wt->count);
      free(dw);
      if (need_dx) fc_ref_conv2d_backward_data(&d, dy, P(l->weight), dx);
      break;
    }
    case FC_LAYER_BN: {
      double *save = r->aux[i];
      double *dgamma = calloc((size_t)xs.c, sizeof(double)),
             *dbeta = calloc((size_t)xs.c, sizeof(double));
      double *dres = l->residual >= 0 ? r->grad[l->residual] : NULL;
      fc_ref_batchnorm_backward(xs, x, dy, P(l->gamma), save, save + xs.c, l->epilogue, y, dres, dx,
                                dgamma, dbeta);
      if (l->residual >= 0) r->grad_written[l->residual] = 1;
      accumulate(G(l->gamma), dgamma, (size_t)xs.c);
      accumulate(G(l->beta), dbeta, (size_t)xs.c);
      free(dgamma);
      free(dbeta);
      break;
    }
    case FC_LAYER_MAXPOOL:
      fc_ref_maxpool2d_backward(xs, l->k, l->stride, l->pad, r->aux[i], dy, dx);
      break;
    case FC_LAYER_LAE: {
      const fc_tensor_info *wt = &g->tensors[l->weight];
      double *dw = calloc(wt->count, sizeof(double)), db = 0.0;
      fc_ref_lae_backward(xs, l->k, x, P(l->weight), r->aux[i], dy, dx, dw, &db);
      accumulate(G(l->weight), dw, wt->count);
      G(l->bias)[0] += db;
      free(dw);
      break;
    }
    case FC_LAYER_RFD: fc_ref_rfd_apply(xs, l->k, r->aux[i], dy, dx); break;
    case FC_LAYER_GAP: fc_ref_global_avgpool_backward(xs, dy, dx); break;
    case FC_LAYER_DROPOUT:
      fc_ref_dropout_backward(dy, dx, nx, r->cfg.dropout,
                              fc_net_draw_seed(r->seed, r->step, l->rng_id));
      break;
    case FC_LAYER_LINEAR: {
      int in = g->slots[l->x].c, out = g->slots[l->y].c;
      double *dw = calloc((size_t)in * out, sizeof(double)),
             *db = calloc((size_t)out, sizeof(double));
      fc_ref_linear_backward(n, in, out, x, P(l->weight), dy, dx, dw, db);
      accumulate(G(l->weight), dw, (size_t)in * out);
      accumulate(G(l->bias), db, (size_t)out);
      free(dw);
      free(db);
      break;
    }
    case FC_LAYER_INPUT: break;
    }
    if (need_dx) {
      if (r->grad_written[l->x]) add_into(r->grad[l->x], r->scratch, nx);
      r->grad_written[l->x] = 1;
    }
  }
}
