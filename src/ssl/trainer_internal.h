/* The trainer's state, exposed to the tests (loss-trajectory check against
 * the C reference, resume exactness). */
#ifndef FERCL_SSL_TRAINER_INTERNAL_H
#define FERCL_SSL_TRAINER_INTERNAL_H

#include <CL/cl.h>

#include "fercl/ckpt.h"
#include "fercl/data.h"
#include "fercl/dist.h"
#include "fercl/eval.h"
#include "fercl/ops.h"
#include "fercl/train.h"
#include "ssl/runlog.h"
#include "ssl/ssl_host.h"

typedef struct fc_trainer {
  fc_device *dev;
  fc_train_config cfg;
  char dir[1024];
  int ssl; /* unlabelled branch active */

  fc_dataset *ds;
  fc_index_list labeled, unlabeled, val;
  fc_model_meta meta;
  fc_loader *loader;

  fc_net *student, *teacher;
  fc_net_plan *splan, *tplan;
  fc_evaluator eval;
  int eval_ready;

  int B_l, B_u, C;
  int64_t total_steps, steps_per_epoch;
  int64_t step;       /* steps done */
  int64_t saved_step; /* step of DIR/last.safetensors; -1 before the first save */
  size_t image_bytes;

  /* One upload per step: [x_l | u_s | u_w] images, then int32 labels of x_l and hidden labels of u. */
  cl_mem upload;
  size_t upload_bytes, labels_word, hidden_word;
  uint8_t *staging;
  int32_t *hidden_host;
  int64_t *u_index_host;
  int32_t *labels_host;

  /* Small per-step device tensors, views into one buffer. */
  cl_mem small;
  fc_view q, conf, argmax, mask, tau, dta_state, da_state, dta_stats, probs, loss_ps, dlogits, neg,
      neg_count, hits, loss_n_ps, scalars, gather;
  fc_gather_item gather_items[16];
  int n_gather_items;
  size_t gather_words;
  float *gather_host;
  size_t g_tau, g_conf, g_argmax, g_mask, g_count, g_hits, g_probs_l, g_probs_u;

  float host_tau[64];
  fc_flexmatch flex;
  fc_adacm adacm;
  fc_snl_window window;
  int snl_k;

  fc_runlog log;
  double best_acc;
  int64_t best_step;
  double step_seconds_ema;

  /* --skip-nonfinite: a copy of everything a step changes, to undo it. */
  cl_mem backup;
  size_t backup_bytes;

  /* Data-parallel ranks (fercl/dist.h, mpirun). B_l and B_u above are this
   * rank's share of the global batch B_l_all + B_u_all (equal when world is 1). */
  int world, rank;
  int B_l_all, B_u_all;
  uint64_t device_seed; /* the device-side draws (RFD, dropout, random SNL): one stream per rank */
  int stop;             /* every rank agreed to stop after this step */
  float *grad_host;     /* parameter count + 1 words: the gradients, then the stop vote */
  double dta_host[1 + 64];
  /* world > 1: every rank's gathered words, laid out as one process's of the whole batch */
  uint8_t *pack, *pack_all;
  size_t pack_bytes;
  float *gather_all;
  int32_t *hidden_all, *labels_all;
  int64_t *u_index_all;
  fc_bn_sync bn_sync;                     /* --sync-bn */
  double sync_seconds, allreduce_seconds; /* summed over sync_steps steps */
  int64_t sync_steps;
} fc_trainer;

fc_status fc_trainer_create(fc_device *dev, const fc_train_config *cfg, const char *resume_dir,
                            fc_trainer **out);
void fc_trainer_free(fc_trainer *t);
/* The loader settings of this run (what fc_trainer_create uses); threads as given. */
void fc_trainer_loader_config(const fc_trainer *t, int threads, fc_loader_config *lc);
/* One optimizer step; fills row with what it measured (its loss parts). */
fc_status fc_trainer_step(fc_trainer *t, fc_log_row *row);
/* Teacher on the validation list. */
fc_status fc_trainer_evaluate(fc_trainer *t, fc_metrics *metrics, fc_confusion **cm);
/* DIR/last.safetensors (model + resume state) or, with model_only, a file with the teacher alone. */
fc_status fc_trainer_save(fc_trainer *t, const char *path, int model_only);

#endif
