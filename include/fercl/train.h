/* fer-cl: semi-supervised training (docs/METHOD.md): a student network
 * trained by gradient descent and an EMA teacher that labels the unlabelled
 * pool; Dynamic Threshold Adjustment picks which pseudo-labels count;
 * Selective Negative Learning uses the rejected samples' complementary labels. */
#ifndef FERCL_TRAIN_H
#define FERCL_TRAIN_H

#include <stdint.h>

#include "fercl/api.h"
#include "fercl/device.h"
#include "fercl/net.h"
#include "fercl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum fc_dta_mode {
  FC_DTA_FREEMATCH_FER = 0,     /* class-wise self-adaptive thresholds (default) */
  FC_DTA_FIXED = 1,             /* τ for every class: FixMatch */
  FC_DTA_FLEXMATCH = 2,         /* τ·β(c)/(2−β(c)) from per-class confident counts */
  FC_DTA_ADACM = 3,             /* per epoch, from the labelled samples' confidences */
  FC_DTA_FREEMATCH_RESCALED = 4 /* freematch-fer's g·β(c) mapped onto [τ_min, τ_max], not clamped */
} fc_dta_mode;

typedef enum fc_optimizer_kind {
  FC_OPT_SGD = 0,
  FC_OPT_ADAM = 1,
  FC_OPT_ADAMW = 2
} fc_optimizer_kind;
typedef enum fc_schedule_kind { FC_SCHEDULE_COSINE = 0, FC_SCHEDULE_CONSTANT = 1 } fc_schedule_kind;

/* What a step reports to the progress callback. */
typedef struct fc_train_progress {
  int64_t step, total_steps; /* step just finished (1-based) */
  double epoch;
  double loss, loss_s, loss_u, loss_n;
  double mask_rate, lr, images_per_s, eta_seconds;
  int evaluated; /* this step ran an evaluation: */
  double val_acc, val_mca, val_f1;
  int is_best;
} fc_train_progress;

typedef void (*fc_train_progress_fn)(const fc_train_progress *progress, void *user);

typedef struct fc_train_config {
  /* data */
  const char *data;           /* NULL: built-in synthetic faces */
  const char *format;         /* NULL or "auto": detect */
  const char *unlabeled;      /* extra unlabelled folder, or NULL */
  int labels;                 /* N labelled images, class-balanced (0: use labels_per_class) */
  int labels_per_class;       /* K per class (both 0: every training image is labelled) */
  const char *split_file;     /* reuse a labelled list */
  int synth_train, synth_val; /* synthetic set sizes */
  int strict_data;            /* a corrupt image is fatal */
  int threads;                /* loader threads; 0 = online CPUs */
  /* model */
  fc_net_config net;
  const char *init; /* torchvision-named weights to start from */
  /* batches and schedule */
  int batch;     /* labelled batch B_l */
  int mu;        /* unlabelled batch B_u = mu·B_l */
  int steps;     /* total optimizer steps (0: from epochs) */
  double epochs; /* passes over the unlabelled pool (labelled set when supervised only) */
  fc_optimizer_kind optimizer;
  double lr, momentum, weight_decay;
  int nesterov;
  fc_schedule_kind schedule;
  int warmup; /* linear learning-rate warm-up steps */
  double ema; /* teacher momentum m */
  /* DTA */
  fc_dta_mode dta;
  double tau; /* fixed threshold (fixed; flexmatch's base) */
  double tau_min, tau_max;
  double dta_momentum;
  int dist_align; /* align the teacher's probabilities to the labelled class prior (ReMixMatch) */
  double dist_align_momentum; /* momentum of the running mean of the teacher's predictions */
  /* SNL */
  int snl;      /* 0 = off */
  int snl_mode; /* fc_snl_mode */
  double tau_n;
  int snl_warmup;          /* steps before SNL starts */
  int pseudo_warmup;       /* steps before pseudo-labels count (mask forced to 0 before) */
  int teacher_batch_stats; /* steps in which the teacher's BN uses batch statistics */
  /* loss weights */
  double lambda_s, lambda_u, lambda_n;
  int supervised_only;
  /* run */
  uint64_t seed;
  const char *out; /* run folder */
  int eval_every, save_every, log_every;
  int eval_batch;
  int skip_nonfinite; /* skip a step whose loss is NaN/Inf instead of stopping */
  int profile;        /* per-kernel profile of the run (CSV + Chrome trace) */
  int sync_bn;        /* data-parallel ranks (mpirun): BN batch statistics over the global batch */
  fc_train_progress_fn progress; /* called after every step (may be NULL) */
  void *progress_user;
  /* A new run (not a resume): called once the run is set up (data, split,
   * device memory, kernels, --init weights all checked) and before it writes
   * anything to its folder; an error stops the run there. May be NULL. */
  fc_status (*before_writing)(void *user);
  void *before_writing_user;
} fc_train_config;

FC_API void fc_train_config_default(fc_train_config *cfg);
FC_API fc_status fc_train_config_check(const fc_train_config *cfg);

/* What a run reports at the end. */
typedef struct fc_train_result {
  int64_t steps_done;
  int64_t first_step; /* steps already done when this process started (resume), else 0 */
  double final_accuracy, final_mean_class_accuracy, final_macro_f1; /* teacher, validation */
  double best_accuracy;
  int64_t best_step;
  double seconds;
  double images_per_second;
  int interrupted;
  /* Data-parallel runs (mpirun): ranks, and the seconds per step spent
   * summing gradients over them (host copies included) and in MPI_Allreduce. */
  int world_size;
  double sync_seconds_per_step, allreduce_seconds_per_step;
  size_t gradient_bytes;
  /* This rank failed during the steps while the others may wait for it in a
   * collective: end the whole job (MPI_Abort); the last checkpoint is intact. */
  int must_abort;
  /* The run used unlabelled images (not --supervised-only, and some were
   * left unlabelled), and how many images of each kind it trained on. */
  int semi_supervised;
  int64_t labeled_count, unlabeled_count;
} fc_train_result;

/* Runs training on dev. With resume_dir, continues the run saved there (its
 * saved config wins over cfg, except the step budget). Started by mpirun (and
 * built with MPI), every rank calls it with the same cfg and trains one model
 * together, data-parallel (README "Several devices"); rank 0 alone writes. */
FC_API fc_status fc_train_run(fc_device *dev, const fc_train_config *cfg, const char *resume_dir,
                              fc_train_result *result);

/* Asks a running fc_train_run to stop after the current step, save, and return
 * FC_ERR_INTERRUPTED (safe to call from a signal handler). */
FC_API void fc_train_request_stop(void);

#ifdef __cplusplus
}
#endif
#endif
