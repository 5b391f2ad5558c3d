/* Running a network over a list of dataset images: predictions, confusion
 * matrix. Used by training's evaluations and by `fer-cl eval`/`predict`. */
#ifndef FERCL_EVAL_H
#define FERCL_EVAL_H

#include <stdint.h>

#include "fercl/api.h"
#include "fercl/data.h"
#include "fercl/metrics.h"
#include "fercl/net.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fc_evaluator {
  fc_net *net;
  fc_net_plan *plan; /* inference, batch = capacity */
  int capacity;
  size_t image_bytes;
  uint8_t *staging; /* capacity images */
  float *logits;    /* capacity × classes */
} fc_evaluator;

FC_API fc_status fc_evaluator_create(fc_net *net, int batch, fc_evaluator *out);
FC_API void fc_evaluator_free(fc_evaluator *ev);
/* Probabilities (softmax of the logits) of n ≤ capacity images (uint8 CHW,
 * one after the other) into probs [n][classes]. One blocking read. */
FC_API fc_status fc_evaluator_run(fc_evaluator *ev, const uint8_t *images, int n,
                                  const fc_input_norm *norm, float *probs);
/* The predicted class (argmax) of every image of list into pred[list->count]. */
FC_API fc_status fc_evaluate_predict(fc_evaluator *ev, const fc_dataset *ds,
                                     const fc_index_list *list, const fc_input_norm *norm,
                                     int32_t *pred);
/* Predicts every image of list and adds (label, prediction) to cm (images
 * without a label are skipped). */
FC_API fc_status fc_evaluate_list(fc_evaluator *ev, const fc_dataset *ds, const fc_index_list *list,
                                  const fc_input_norm *norm, fc_confusion *cm);

#ifdef __cplusplus
}
#endif
#endif
