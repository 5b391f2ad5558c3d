/* Batched inference over dataset images. */
#include "fercl/eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "device/runtime.h"
#include "net/net_internal.h"

fc_status fc_evaluator_create(fc_net *net, int batch, fc_evaluator *ev) {
  memset(ev, 0, sizeof *ev);
  const fc_net_config *c = fc_net_get_config(net);
  ev->net = net;
  ev->capacity = batch;
  ev->image_bytes = (size_t)c->in_channels * c->input_size * c->input_size;
  ev->staging = malloc((size_t)batch * ev->image_bytes);
  ev->logits = malloc((size_t)batch * c->num_classes * sizeof(float));
  if (!ev->staging || !ev->logits) {
    fc_evaluator_free(ev);
    return fc_errorf(FC_ERR_NOMEM, "out of memory for evaluation buffers");
  }
  fc_status st = fc_net_plan_create(net, batch, FC_NET_INFERENCE, &ev->plan);
  if (st != FC_OK) fc_evaluator_free(ev);
  return st;
}

void fc_evaluator_free(fc_evaluator *ev) {
  fc_net_plan_free(ev->plan);
  free(ev->staging);
  free(ev->logits);
  memset(ev, 0, sizeof *ev);
}

fc_status fc_evaluator_run(fc_evaluator *ev, const uint8_t *images, int n,
                           const fc_input_norm *norm, float *probs) {
  if (n < 1 || n > ev->capacity)
    return fc_errorf(FC_ERR_INVALID_ARG, "evaluation batch of %d images", n);
  fc_device *dev = fc_net_get_device(ev->net);
  int C = fc_net_get_config(ev->net)->num_classes;
  /* A short batch is padded with copies of its first image; their outputs are ignored. */
  memcpy(ev->staging, images, (size_t)n * ev->image_bytes);
  for (int i = n; i < ev->capacity; i++)
    memcpy(ev->staging + (size_t)i * ev->image_bytes, images, ev->image_bytes);
  fc_view input = fc_net_plan_input(ev->plan);
  FC_TRY(
      fc_buffer_write(dev, input.mem, 0, (size_t)ev->capacity * ev->image_bytes, ev->staging, 0));
  FC_TRY(fc_net_forward(ev->plan, input, norm, 0, 0));
  fc_view logits = fc_net_plan_logits(ev->plan);
  FC_TRY(fc_buffer_read(dev, logits.mem, logits.offset * sizeof(float),
                        (size_t)n * C * sizeof(float), ev->logits, 1));
  for (int b = 0; b < n; b++) {
    const float *z = ev->logits + (size_t)b * C;
    float *p = probs + (size_t)b * C;
    float m = z[0];
    for (int c = 1; c < C; c++) m = z[c] > m ? z[c] : m;
    double sum = 0;
    for (int c = 0; c < C; c++) sum += exp((double)z[c] - m);
    for (int c = 0; c < C; c++) p[c] = (float)(exp((double)z[c] - m) / sum);
  }
  return FC_OK;
}

fc_status fc_evaluate_predict(fc_evaluator *ev, const fc_dataset *ds, const fc_index_list *list,
                              const fc_input_norm *norm, int32_t *pred) {
  int C = fc_net_get_config(ev->net)->num_classes;
  uint8_t *images = malloc((size_t)ev->capacity * ev->image_bytes);
  float *probs = malloc((size_t)ev->capacity * C * sizeof(float));
  fc_status st = (images && probs) ? FC_OK : fc_errorf(FC_ERR_NOMEM, "out of memory evaluating");
  for (int64_t start = 0; start < list->count && st == FC_OK; start += ev->capacity) {
    int n = (int)(list->count - start < ev->capacity ? list->count - start : ev->capacity);
    fc_dataset_gather(ds, list->index + start, n, images);
    st = fc_evaluator_run(ev, images, n, norm, probs);
    for (int b = 0; b < n && st == FC_OK; b++) {
      const float *p = probs + (size_t)b * C;
      int best = 0;
      for (int c = 1; c < C; c++)
        if (p[c] > p[best]) best = c;
      pred[start + b] = best;
    }
  }
  free(images);
  free(probs);
  return st;
}

fc_status fc_evaluate_list(fc_evaluator *ev, const fc_dataset *ds, const fc_index_list *list,
                           const fc_input_norm *norm, fc_confusion *cm) {
  size_t n = (size_t)(list->count > 0 ? list->count : 1);
  int32_t *truth = malloc(n * sizeof(int32_t)), *pred = malloc(n * sizeof(int32_t));
  fc_status st = (truth && pred) ? FC_OK : fc_errorf(FC_ERR_NOMEM, "out of memory evaluating");
  if (st == FC_OK) st = fc_evaluate_predict(ev, ds, list, norm, pred);
  size_t m = 0;
  for (int64_t i = 0; i < list->count && st == FC_OK; i++) {
    int32_t y = ds->labels[list->index[i]];
    if (y < 0) continue; /* unlabelled */
    truth[m] = y;
    pred[m++] = pred[i];
  }
  if (st == FC_OK && m > 0) st = fc_confusion_add_array(cm, truth, pred, m);
  free(truth);
  free(pred);
  return st;
}
