/* The device network: flat parameter buffers with named views, per-batch
 * activation plans, and the forward/backward driver over the layer list. */
#include <stdlib.h>
#include <string.h>

#include "device/runtime.h"
#include "fercl/log.h"
#include "net/graph.h"
#include "net/net_internal.h"

/* Convolution workspace cap: beyond this the conv ops work in chunks of samples. */
#define CONV_WORKSPACE_CAP_FLOATS ((size_t)32 << 20)

fc_status fc_net_create(fc_device *dev, const fc_net_config *cfg, unsigned flags, fc_net **out) {
  *out = NULL;
  fc_net *net = calloc(1, sizeof *net);
  if (!net) return fc_errorf(FC_ERR_NOMEM, "out of memory");
  net->dev = dev;
  net->cfg = *cfg;
  net->flags = flags;
  fc_status st = fc_graph_build(cfg, &net->graph);
  if (st == FC_OK)
    st = fc_buffer_alloc(dev, net->graph.n_params * sizeof(float), "parameters", &net->params);
  if (st == FC_OK)
    st = fc_buffer_alloc(dev, net->graph.n_stats * sizeof(float), "BN statistics", &net->stats);
  if (st == FC_OK && (flags & FC_NET_TRAINABLE)) {
    st = fc_buffer_alloc(dev, net->graph.n_params * sizeof(float), "gradients", &net->grads);
    for (int i = 0; i < 2 && st == FC_OK; i++)
      st = fc_buffer_alloc(dev, net->graph.n_params * sizeof(float), "optimizer state",
                           &net->opt[i]);
    if (st == FC_OK)
      st = fc_buffer_fill_zero(dev, net->grads, 0, net->graph.n_params * sizeof(float));
    for (int i = 0; i < 2 && st == FC_OK; i++)
      st = fc_buffer_fill_zero(dev, net->opt[i], 0, net->graph.n_params * sizeof(float));
  }
  if (st != FC_OK) {
    fc_net_free(net);
    return fc_error_context(st, "creating the network");
  }
  *out = net;
  return FC_OK;
}

void fc_net_free(fc_net *net) {
  if (!net) return;
  fc_buffer_release(&net->params);
  fc_buffer_release(&net->stats);
  fc_buffer_release(&net->grads);
  fc_buffer_release(&net->opt[0]);
  fc_buffer_release(&net->opt[1]);
  fc_graph_free(&net->graph);
  free(net);
}

const fc_net_config *fc_net_get_config(const fc_net *net) { return &net->cfg; }
fc_device *fc_net_get_device(const fc_net *net) { return net->dev; }
int fc_net_tensor_count(const fc_net *net) { return net->graph.n_tensors; }

const fc_tensor_info *fc_net_tensor(const fc_net *net, int index) {
  return index >= 0 && index < net->graph.n_tensors ? &net->graph.tensors[index] : NULL;
}

const fc_tensor_info *fc_net_find_tensor(const fc_net *net, const char *name) {
  for (int i = 0; i < net->graph.n_tensors; i++)
    if (strcmp(net->graph.tensors[i].name, name) == 0) return &net->graph.tensors[i];
  return NULL;
}

size_t fc_net_param_count(const fc_net *net) { return net->graph.n_params; }
size_t fc_net_stat_count(const fc_net *net) { return net->graph.n_stats; }
fc_view fc_net_params(const fc_net *net) { return fc_view_of(net->params, 0); }
fc_view fc_net_grads(const fc_net *net) { return fc_view_of(net->grads, 0); }
fc_view fc_net_stats(const fc_net *net) { return fc_view_of(net->stats, 0); }
fc_view fc_net_opt_state(const fc_net *net, int which) {
  return fc_view_of(net->opt[which & 1], 0);
}

fc_view fc_net_tensor_view(const fc_net *net, const fc_tensor_info *t) {
  return fc_view_of(t->store == FC_STORE_PARAM ? net->params : net->stats, t->offset);
}

fc_view fc_net_tensor_grad(const fc_net *net, const fc_tensor_info *t) {
  return fc_view_of(t->store == FC_STORE_PARAM ? net->grads : NULL, t->offset);
}

int fc_net_decay_segments(const fc_net *net, const fc_optim_segment **segments) {
  *segments = net->graph.segments;
  return net->graph.n_segments;
}

int64_t fc_net_batches_tracked(const fc_net *net) { return net->batches_tracked; }
void fc_net_set_batches_tracked(fc_net *net, int64_t n) { net->batches_tracked = n; }

fc_status fc_net_read_params(fc_net *net, float *params, float *stats) {
  if (params)
    FC_TRY(
        fc_buffer_read(net->dev, net->params, 0, net->graph.n_params * sizeof(float), params, 1));
  if (stats)
    FC_TRY(fc_buffer_read(net->dev, net->stats, 0, net->graph.n_stats * sizeof(float), stats, 1));
  return FC_OK;
}

fc_status fc_net_write_params(fc_net *net, const float *params, const float *stats) {
  if (params)
    FC_TRY(
        fc_buffer_write(net->dev, net->params, 0, net->graph.n_params * sizeof(float), params, 1));
  if (stats)
    FC_TRY(fc_buffer_write(net->dev, net->stats, 0, net->graph.n_stats * sizeof(float), stats, 1));
  return FC_OK;
}

fc_status fc_net_copy_params(fc_net *dst, const fc_net *src) {
  if (dst->graph.n_params != src->graph.n_params || dst->graph.n_stats != src->graph.n_stats)
    return fc_errorf(FC_ERR_MISMATCH, "copying parameters between networks of different shapes");
  FC_TRY(fc_buffer_copy(dst->dev, src->params, 0, dst->params, 0,
                        src->graph.n_params * sizeof(float)));
  FC_TRY(
      fc_buffer_copy(dst->dev, src->stats, 0, dst->stats, 0, src->graph.n_stats * sizeof(float)));
  dst->batches_tracked = src->batches_tracked;
  return FC_OK;
}

/* ---- plans ---- */

static fc_conv2d_desc conv_desc(const fc_graph *g, const fc_layer *l, int batch) {
  const fc_slot *x = &g->slots[l->x], *y = &g->slots[l->y];
  fc_conv2d_desc d = {batch, x->c, x->h, x->w, y->c, l->k, l->k, l->stride, l->pad, FC_LAYOUT_CNHW};
  return d;
}

/* Per-layer saved data (floats or int32, both 4 bytes) the backward needs. */
static size_t aux_words(const fc_graph *g, const fc_layer *l, int batch, fc_net_mode mode) {
  const fc_slot *x = l->x >= 0 ? &g->slots[l->x] : NULL;
  switch (l->kind) {
  case FC_LAYER_BN: return 2 * (size_t)x->c; /* inference too: fc_net_plan_set_batch_stats */
  case FC_LAYER_MAXPOOL: return fc_slot_count(&g->slots[l->y], batch);
  case FC_LAYER_LAE: return fc_lae_saved_size(fc_slot_shape(x, batch));
  case FC_LAYER_RFD: return mode == FC_NET_TRAINING ? 4 * (size_t)batch : 0;
  default: return 0;
  }
}

static size_t workspace_floats(const fc_graph *g, int batch, fc_net_mode mode) {
  size_t need = 1;
  for (int i = 0; i < g->n_layers; i++) {
    const fc_layer *l = &g->layers[i];
    size_t w = 0;
    if (l->kind == FC_LAYER_CONV) {
      fc_conv2d_desc d = conv_desc(g, l, batch);
      size_t full = fc_conv2d_workspace_size(&d, 0);
      size_t one = fc_conv2d_workspace_size(&d, 1);
      w = full < CONV_WORKSPACE_CAP_FLOATS
              ? full
              : (one > CONV_WORKSPACE_CAP_FLOATS ? one : CONV_WORKSPACE_CAP_FLOATS);
    } else if (l->kind == FC_LAYER_BN) { /* inference too: fc_net_plan_set_batch_stats */
      w = fc_batchnorm_workspace_size(fc_slot_shape(&g->slots[l->x], batch));
    } else if (l->kind == FC_LAYER_LAE && mode == FC_NET_TRAINING) {
      w = fc_lae_workspace_size(fc_slot_shape(&g->slots[l->x], batch), l->k);
    }
    if (w > need) need = w;
  }
  return need;
}

void fc_net_plan_free(fc_net_plan *p) {
  if (!p) return;
  for (int s = 0; s < p->n_slots; s++) {
    if (p->act[s] && !(p->act_alias && p->act_alias[s] >= 0)) clReleaseMemObject(p->act[s]);
    if (p->grad && p->grad[s]) clReleaseMemObject(p->grad[s]);
  }
  for (int i = 0; i < p->n_layers; i++)
    if (p->aux && p->aux[i]) clReleaseMemObject(p->aux[i]);
  fc_buffer_release(&p->work);
  fc_buffer_release(&p->scratch);
  fc_buffer_release(&p->input);
  free(p->act);
  free(p->act_alias);
  free(p->grad);
  free(p->grad_written);
  free(p->aux);
  free(p);
}

/* What fc_net_plan_create allocates, summed the same way (p->bytes), so that
 * a batch too large for the device is refused before anything is allocated. */
static size_t plan_bytes(const fc_graph *g, int batch, fc_net_mode mode) {
  size_t total = 0, max_slot = 0;
  for (int s = 0; s < g->n_slots; s++) {
    size_t bytes = fc_slot_count(&g->slots[s], batch) * sizeof(float);
    if (bytes > max_slot) max_slot = bytes;
    int aliased = 0; /* identity layers in inference share their input's buffer */
    for (int i = 0; i < g->n_layers && mode == FC_NET_INFERENCE; i++)
      if (g->layers[i].y == s &&
          (g->layers[i].kind == FC_LAYER_RFD || g->layers[i].kind == FC_LAYER_DROPOUT))
        aliased = 1;
    if (!aliased) total += bytes;
    if (mode == FC_NET_TRAINING && s > 0) total += bytes;
  }
  for (int i = 0; i < g->n_layers; i++) total += aux_words(g, &g->layers[i], batch, mode) * 4;
  total += workspace_floats(g, batch, mode) * sizeof(float);
  if (mode == FC_NET_TRAINING) total += max_slot;
  total += fc_slot_count(&g->slots[0], batch);
  return total;
}

fc_status fc_net_plan_device_bytes(const fc_net_config *cfg, int batch, fc_net_mode mode,
                                   size_t *bytes) {
  *bytes = 0;
  if (batch < 1)
    return fc_errorf(FC_ERR_INVALID_ARG, "batch size must be at least 1, not %d", batch);
  fc_graph g;
  FC_TRY(fc_graph_build(cfg, &g));
  *bytes = plan_bytes(&g, batch, mode);
  fc_graph_free(&g);
  return FC_OK;
}

fc_status fc_net_device_bytes(const fc_net_config *cfg, unsigned flags, size_t *bytes) {
  *bytes = 0;
  fc_graph g;
  FC_TRY(fc_graph_build(cfg, &g));
  *bytes = (g.n_params * ((flags & FC_NET_TRAINABLE) ? 4 : 1) + g.n_stats) * sizeof(float);
  fc_graph_free(&g);
  return FC_OK;
}

static fc_status plan_alloc(fc_net_plan *p, size_t bytes, const char *what, cl_mem *out) {
  fc_status st = fc_buffer_alloc(p->net->dev, bytes, what, out);
  if (st == FC_OK) p->bytes += bytes;
  return st;
}

fc_status fc_net_plan_create(fc_net *net, int batch, fc_net_mode mode, fc_net_plan **out) {
  *out = NULL;
  if (batch < 1)
    return fc_errorf(FC_ERR_INVALID_ARG, "batch size must be at least 1, not %d", batch);
  if (mode == FC_NET_TRAINING && !(net->flags & FC_NET_TRAINABLE))
    return fc_errorf(FC_ERR_INVALID_ARG,
                     "a training plan needs a network created with FC_NET_TRAINABLE");
  const fc_graph *g = &net->graph;
  const fc_device_info *info = fc_device_get_info(net->dev);
  size_t need = plan_bytes(g, batch, mode);
  if (info->global_mem_bytes && need > info->global_mem_bytes)
    return fc_errorf(FC_ERR_DEVICE_MEMORY,
                     "%s a batch of %d needs %.1f MiB of device memory, but %s has %.1f MiB; use a "
                     "smaller batch",
                     mode == FC_NET_TRAINING ? "training" : "inference on", batch,
                     (double)need / (1 << 20), info->name,
                     (double)info->global_mem_bytes / (1 << 20));
  fc_net_plan *p = calloc(1, sizeof *p);
  if (!p) return fc_errorf(FC_ERR_NOMEM, "out of memory");
  p->net = net;
  p->batch = batch;
  p->mode = mode;
  p->n_slots = g->n_slots;
  p->n_layers = g->n_layers;
  p->act = calloc((size_t)g->n_slots, sizeof *p->act);
  p->act_alias = malloc((size_t)g->n_slots * sizeof *p->act_alias);
  p->aux = calloc((size_t)g->n_layers, sizeof *p->aux);
  if (mode == FC_NET_TRAINING) {
    p->grad = calloc((size_t)g->n_slots, sizeof *p->grad);
    p->grad_written = calloc((size_t)g->n_slots, sizeof *p->grad_written);
  }
  fc_status st = FC_OK;
  if (!p->act || !p->act_alias || !p->aux ||
      (mode == FC_NET_TRAINING && (!p->grad || !p->grad_written)))
    st = fc_errorf(FC_ERR_NOMEM, "out of memory");
  for (int s = 0; s < g->n_slots && st == FC_OK; s++) p->act_alias[s] = -1;
  /* Layers that are the identity in inference share their input's buffer. */
  for (int i = 0; i < g->n_layers && st == FC_OK; i++) {
    const fc_layer *l = &g->layers[i];
    if (mode == FC_NET_INFERENCE && (l->kind == FC_LAYER_RFD || l->kind == FC_LAYER_DROPOUT))
      p->act_alias[l->y] = p->act_alias[l->x] >= 0 ? p->act_alias[l->x] : l->x;
  }
  size_t max_slot = 0;
  for (int s = 0; s < g->n_slots && st == FC_OK; s++) {
    size_t bytes = fc_slot_count(&g->slots[s], batch) * sizeof(float);
    if (bytes > max_slot) max_slot = bytes;
    if (p->act_alias[s] < 0) st = plan_alloc(p, bytes, "activations", &p->act[s]);
    if (st == FC_OK && mode == FC_NET_TRAINING && s > 0)
      st = plan_alloc(p, bytes, "activation gradients", &p->grad[s]);
  }
  for (int s = 0; s < g->n_slots && st == FC_OK; s++)
    if (p->act_alias[s] >= 0) p->act[s] = p->act[p->act_alias[s]];
  for (int i = 0; i < g->n_layers && st == FC_OK; i++) {
    size_t words = aux_words(g, &g->layers[i], batch, mode);
    if (words) st = plan_alloc(p, words * 4, "saved activations", &p->aux[i]);
  }
  if (st == FC_OK) {
    p->work_floats = workspace_floats(g, batch, mode);
    st = plan_alloc(p, p->work_floats * sizeof(float), "workspace", &p->work);
  }
  if (st == FC_OK && mode == FC_NET_TRAINING)
    st = plan_alloc(p, max_slot, "gradient scratch", &p->scratch);
  if (st == FC_OK) {
    size_t in_bytes = fc_slot_count(&g->slots[0], batch);
    st = plan_alloc(p, in_bytes, "input images", &p->input);
  }
  if (st == FC_OK) st = fc_net_plan_warmup(p);
  if (st != FC_OK) {
    fc_net_plan_free(p);
    return fc_error_context(st, "planning %s for batch %d",
                            mode == FC_NET_TRAINING ? "training" : "inference", batch);
  }
  fc_log(FC_LOG_DEBUG, "planned %s batch %d: %.1f MiB on the device",
         mode == FC_NET_TRAINING ? "training" : "inference", batch, (double)p->bytes / (1 << 20));
  *out = p;
  return FC_OK;
}

int fc_net_plan_batch(const fc_net_plan *p) { return p->batch; }
size_t fc_net_plan_bytes(const fc_net_plan *p) { return p->bytes; }

fc_view fc_net_plan_logits(const fc_net_plan *p) {
  return fc_view_of(p->act[p->net->graph.logits_slot], 0);
}

fc_view fc_net_plan_input(const fc_net_plan *p) { return fc_view_of(p->input, 0); }

/* ---- forward ---- */

static fc_batchnorm_params bn_params(const fc_net_plan *p, const fc_layer *l) {
  const fc_net *net = p->net;
  const fc_graph *g = &net->graph;
  fc_batchnorm_params bp;
  bp.sync = p->mode == FC_NET_TRAINING ? p->bn_sync : NULL;
  bp.gamma = fc_view_of(net->params, g->tensors[l->gamma].offset);
  bp.beta = fc_view_of(net->params, g->tensors[l->beta].offset);
  bp.running_mean = fc_view_of(net->stats, g->tensors[l->rmean].offset);
  bp.running_var = fc_view_of(net->stats, g->tensors[l->rvar].offset);
  bp.momentum = (float)net->cfg.bn_momentum;
  bp.eps = (float)net->cfg.bn_eps;
  return bp;
}

static fc_view pview(const fc_net *net, int tensor) {
  return fc_view_of(net->params, net->graph.tensors[tensor].offset);
}
static fc_view gview(const fc_net *net, int tensor) {
  return fc_view_of(net->grads, net->graph.tensors[tensor].offset);
}

uint64_t fc_net_draw_seed(uint64_t seed, uint64_t step, int stream) {
  uint64_t z = seed ^ (step * 0x9e3779b97f4a7c15ULL) ^ ((uint64_t)stream << 56);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static fc_status forward_layer(fc_net_plan *p, const fc_layer *l, fc_view images,
                               const fc_input_norm *norm, uint64_t seed, uint64_t step, int li) {
  fc_net *net = p->net;
  fc_device *dev = net->dev;
  const fc_graph *g = &net->graph;
  const int n = p->batch, training = p->mode == FC_NET_TRAINING;
  fc_view x = l->x >= 0 ? fc_view_of(p->act[l->x], 0) : images;
  fc_view y = fc_view_of(p->act[l->y], 0);
  fc_view aux = fc_view_of(p->aux[li], 0);
  fc_view work = fc_view_of(p->work, 0);
  fc_view none = {0};
  switch (l->kind) {
  case FC_LAYER_INPUT:
    return fc_input_from_u8(dev, fc_slot_shape(&g->slots[l->y], n), images, norm->mean, norm->std,
                            y);
  case FC_LAYER_CONV: {
    fc_conv2d_desc d = conv_desc(g, l, n);
    return fc_conv2d_forward(dev, &d, x, pview(net, l->weight), none, y, work, p->work_floats);
  }
  case FC_LAYER_BN: {
    fc_batchnorm_params bp = bn_params(p, l);
    fc_view res = l->residual >= 0 ? fc_view_of(p->act[l->residual], 0) : none;
    fc_shape4 s = fc_slot_shape(&g->slots[l->x], n);
    if (training || p->batch_stats) {
      if (!training) bp.momentum = 0.0f; /* batch statistics, running ones left as they are */
      return fc_batchnorm_forward_train(dev, s, x, &bp, aux, fc_view_add(aux, (size_t)s.c),
                                        l->epilogue, res, y, work, p->work_floats);
    }
    return fc_batchnorm_forward_infer(dev, s, x, &bp, l->epilogue, res, y);
  }
  case FC_LAYER_MAXPOOL:
    return fc_maxpool2d_forward(dev, fc_slot_shape(&g->slots[l->x], n), l->k, l->stride, l->pad, x,
                                y, aux);
  case FC_LAYER_LAE:
    return fc_lae_forward(dev, fc_slot_shape(&g->slots[l->x], n), l->k, x, pview(net, l->weight),
                          pview(net, l->bias), y, aux);
  case FC_LAYER_RFD:
    if (!training) return FC_OK; /* aliased to its input */
    return fc_rfd_forward(dev, fc_slot_shape(&g->slots[l->x], n), l->k, (float)net->cfg.rfd_prob,
                          seed, step, (uint32_t)l->rng_id, x, y, aux);
  case FC_LAYER_GAP: return fc_global_avgpool_forward(dev, fc_slot_shape(&g->slots[l->x], n), x, y);
  case FC_LAYER_DROPOUT:
    if (!training) return FC_OK;
    return fc_dropout_forward(dev, x, y, fc_slot_count(&g->slots[l->x], n), (float)net->cfg.dropout,
                              fc_net_draw_seed(seed, step, l->rng_id), 1);
  case FC_LAYER_LINEAR:
    return fc_linear_forward(dev, n, g->slots[l->x].c, g->slots[l->y].c, x, pview(net, l->weight),
                             pview(net, l->bias), y);
  }
  return fc_errorf(FC_ERR_INTERNAL, "unknown layer kind %d", (int)l->kind);
}

void fc_net_plan_set_batch_stats(fc_net_plan *p, int on) { p->batch_stats = on != 0; }

fc_status fc_net_forward(fc_net_plan *p, fc_view images, const fc_input_norm *norm, uint64_t seed,
                         uint64_t step) {
  const fc_graph *g = &p->net->graph;
  for (int i = 0; i < g->n_layers; i++) {
    fc_device_set_layer(p->net->dev, g->layers[i].name, FC_PASS_FORWARD); /* profile attribution */
    fc_status st = forward_layer(p, &g->layers[i], images, norm, seed, step, i);
    if (st != FC_OK) fc_device_set_layer(p->net->dev, NULL, 0);
    if (st != FC_OK) return fc_error_context(st, "forward of %s", g->layers[i].name);
  }
  fc_device_set_layer(p->net->dev, NULL, 0);
  if (p->mode == FC_NET_TRAINING) p->net->batches_tracked++;
  p->forward_done = 1;
  p->seed = seed;
  p->step = step;
  return FC_OK;
}

/* ---- backward ---- */

/* Where a layer writes the gradient of slot s: straight into its buffer the
 * first time, else into the scratch buffer (then added by finish_grad). */
static fc_view grad_target(fc_net_plan *p, int s) {
  return p->grad_written[s] ? fc_view_of(p->scratch, 0) : fc_view_of(p->grad[s], 0);
}

static fc_status finish_grad(fc_net_plan *p, int s) {
  const fc_graph *g = &p->net->graph;
  if (p->grad_written[s]) {
    fc_view acc = fc_view_of(p->grad[s], 0);
    FC_TRY(fc_add_forward(p->net->dev, acc, fc_view_of(p->scratch, 0), acc,
                          fc_slot_count(&g->slots[s], p->batch)));
  }
  p->grad_written[s] = 1;
  return FC_OK;
}

static fc_status backward_layer(fc_net_plan *p, const fc_layer *l, int li) {
  fc_net *net = p->net;
  fc_device *dev = net->dev;
  const fc_graph *g = &net->graph;
  const int n = p->batch;
  if (l->kind == FC_LAYER_INPUT) return FC_OK;
  const int need_dx = l->x > 0; /* slot 0 is the input image: no gradient */
  fc_view x = fc_view_of(p->act[l->x], 0);
  fc_view y = fc_view_of(p->act[l->y], 0);
  fc_view dy = l->y == g->logits_slot ? p->dlogits : fc_view_of(p->grad[l->y], 0);
  fc_view aux = fc_view_of(p->aux[li], 0);
  fc_view work = fc_view_of(p->work, 0);
  fc_view none = {0};
  fc_view dx = need_dx ? grad_target(p, l->x) : none;
  switch (l->kind) {
  case FC_LAYER_CONV: {
    fc_conv2d_desc d = conv_desc(g, l, n);
    fc_device_set_layer(dev, l->name,
                        FC_PASS_BACKWARD_WEIGHTS); /* profiles tell the halves apart */
    FC_TRY(fc_conv2d_backward_weights(dev, &d, x, dy, gview(net, l->weight), none, 1, work,
                                      p->work_floats));
    fc_device_set_layer(dev, l->name, FC_PASS_BACKWARD_DATA);
    if (need_dx)
      FC_TRY(fc_conv2d_backward_data(dev, &d, dy, pview(net, l->weight), dx, work, p->work_floats));
    fc_device_set_layer(dev, l->name, FC_PASS_BACKWARD);
    break;
  }
  case FC_LAYER_BN: {
    fc_batchnorm_params bp = bn_params(p, l);
    fc_shape4 s = fc_slot_shape(&g->slots[l->x], n);
    fc_view dres = none;
    if (l->residual >= 0) {
      /* The shortcut's first gradient comes from here (it is consumed after x in forward). */
      if (p->grad_written[l->residual])
        return fc_errorf(FC_ERR_INTERNAL, "%s: residual gradient already written", l->name);
      dres = fc_view_of(p->grad[l->residual], 0);
    }
    FC_TRY(fc_batchnorm_backward(dev, s, x, dy, &bp, aux, fc_view_add(aux, (size_t)s.c),
                                 l->epilogue, y, dres, dx, gview(net, l->gamma),
                                 gview(net, l->beta), 1, work, p->work_floats));
    if (l->residual >= 0) p->grad_written[l->residual] = 1;
    break;
  }
  case FC_LAYER_MAXPOOL:
    FC_TRY(fc_maxpool2d_backward(dev, fc_slot_shape(&g->slots[l->x], n), l->k, l->stride, l->pad,
                                 aux, dy, dx));
    break;
  case FC_LAYER_LAE:
    FC_TRY(fc_lae_backward(dev, fc_slot_shape(&g->slots[l->x], n), l->k, x, pview(net, l->weight),
                           aux, dy, dx, gview(net, l->weight), gview(net, l->bias), 1, work));
    break;
  case FC_LAYER_RFD:
    FC_TRY(fc_rfd_backward(dev, fc_slot_shape(&g->slots[l->x], n), l->k, aux, dy, dx));
    break;
  case FC_LAYER_GAP:
    FC_TRY(fc_global_avgpool_backward(dev, fc_slot_shape(&g->slots[l->x], n), dy, dx));
    break;
  case FC_LAYER_DROPOUT:
    FC_TRY(fc_dropout_backward(dev, dy, dx, fc_slot_count(&g->slots[l->x], n),
                               (float)net->cfg.dropout,
                               fc_net_draw_seed(p->seed, p->step, l->rng_id)));
    break;
  case FC_LAYER_LINEAR:
    FC_TRY(fc_linear_backward(dev, n, g->slots[l->x].c, g->slots[l->y].c, x, pview(net, l->weight),
                              dy, dx, gview(net, l->weight), gview(net, l->bias), 1));
    break;
  case FC_LAYER_INPUT: break;
  }
  if (need_dx) FC_TRY(finish_grad(p, l->x));
  return FC_OK;
}

fc_status fc_net_backward(fc_net_plan *p, fc_view dlogits) {
  if (p->mode != FC_NET_TRAINING)
    return fc_errorf(FC_ERR_INVALID_ARG, "backward needs a training plan");
  if (!p->forward_done) return fc_errorf(FC_ERR_INVALID_ARG, "backward without a forward");
  const fc_graph *g = &p->net->graph;
  memset(p->grad_written, 0, (size_t)g->n_slots * sizeof *p->grad_written);
  p->dlogits = dlogits;
  for (int i = g->n_layers - 1; i >= 0; i--) {
    fc_device_set_layer(p->net->dev, g->layers[i].name, FC_PASS_BACKWARD); /* profile attribution */
    fc_status st = backward_layer(p, &g->layers[i], i);
    if (st != FC_OK) fc_device_set_layer(p->net->dev, NULL, 0);
    if (st != FC_OK) return fc_error_context(st, "backward of %s", g->layers[i].name);
  }
  fc_device_set_layer(p->net->dev, NULL, 0);
  p->forward_done = 0;
  return FC_OK;
}

/* Runs every layer once so every kernel is built before the first real step,
 * leaving parameters, statistics and gradients as they were. */
fc_status fc_net_plan_warmup(fc_net_plan *p) {
  fc_net *net = p->net;
  fc_device *dev = net->dev;
  const fc_graph *g = &net->graph;
  float *saved_stats = NULL;
  fc_status st = FC_OK;
  int64_t tracked = net->batches_tracked;
  if (p->mode == FC_NET_TRAINING) {
    saved_stats = malloc(g->n_stats * sizeof(float) + 1);
    if (!saved_stats) return fc_errorf(FC_ERR_NOMEM, "out of memory");
    st = fc_buffer_read(dev, net->stats, 0, g->n_stats * sizeof(float), saved_stats, 1);
  }
  fc_input_norm norm = {{0.5f, 0.5f, 0.5f, 0.5f}, {0.25f, 0.25f, 0.25f, 0.25f}};
  if (st == FC_OK)
    st = fc_buffer_fill_zero(dev, p->input, 0, fc_slot_count(&g->slots[0], p->batch));
  if (st == FC_OK) st = fc_net_forward(p, fc_view_of(p->input, 0), &norm, 0, 0);
  if (st == FC_OK && p->mode == FC_NET_TRAINING) {
    fc_view logits = fc_net_plan_logits(p);
    /* dlogits = logits is as good as anything for building kernels. */
    st = fc_net_backward(p, logits);
    if (st == FC_OK) st = fc_buffer_fill_zero(dev, net->grads, 0, g->n_params * sizeof(float));
    if (st == FC_OK)
      st = fc_buffer_write(dev, net->stats, 0, g->n_stats * sizeof(float), saved_stats, 1);
  }
  if (st == FC_OK) st = fc_device_finish(dev);
  net->batches_tracked = tracked;
  free(saved_stats);
  return fc_error_context(st, "warming up the network's kernels");
}
