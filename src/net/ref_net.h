/* The whole network in plain C, double precision, executing the same layer
 * list as the device driver with the fc_ref_* ops. Used to test the device
 * network (forward, backward), to finite-difference the full gradient, and by
 * the trainer's loss-trajectory test. */
#ifndef FERCL_NET_REF_NET_H
#define FERCL_NET_REF_NET_H

#include <stdint.h>

#include "fercl/net.h"
#include "net/graph.h"

typedef struct fc_ref_net {
  fc_net_config cfg;
  fc_graph graph;
  int batch;
  int training;
  int batch_stats; /* inference with BN on the batch's statistics (fc_net_plan_set_batch_stats) */
  double *params, *stats, *grads; /* same layouts as the device buffers */
  int64_t batches_tracked;
  double **act;  /* per slot, CNHW like the device */
  double **grad; /* per slot */
  void **aux;    /* per layer */
  int *grad_written;
  double *scratch;
  uint64_t seed, step;
} fc_ref_net;

fc_status fc_ref_net_create(const fc_net_config *cfg, int batch, int training, fc_ref_net **out);
void fc_ref_net_free(fc_ref_net *net);
/* Loads float parameters/statistics (as read from a device net). */
void fc_ref_net_set_params(fc_ref_net *net, const float *params, const float *stats);
void fc_ref_net_forward(fc_ref_net *net, const uint8_t *images, const fc_input_norm *norm,
                        uint64_t seed, uint64_t step);
const double *fc_ref_net_logits(const fc_ref_net *net);
/* Adds parameter gradients into net->grads. */
void fc_ref_net_backward(fc_ref_net *net, const double *dlogits);

#endif
