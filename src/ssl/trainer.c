/* The semi-supervised trainer (METHOD.md §3): one step = one upload, teacher
 * forward on the weak view, thresholds and masks, student forward on the
 * labelled and strong views, three losses, backward, optimizer, EMA, and one
 * read of the step's scalars. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/fault.h"
#include "core/hash.h"
#include "device/runtime.h"
#include "fercl/fileio.h"
#include "fercl/log.h"
#include "fercl/safetensors.h"
#include "net/net_internal.h"
#include "ssl/plot.h"
#include "ssl/trainer_internal.h"

static volatile sig_atomic_t stop_requested = 0;

void fc_train_request_stop(void) { stop_requested = 1; }

void fc_train_config_default(fc_train_config *c) {
  memset(c, 0, sizeof *c);
  fc_net_config_default(&c->net);
  /* The default recipe (README, "Results"): ResNet-18 at half width with
   * torchvision's stem, attention k = 3 on the small late maps — it trains
   * FER2013-sized faces at ~340 images/s on a 2-core CPU. */
  c->net.width = 0.5;
  c->net.stem = FC_STEM_IMAGENET;
  c->net.lae_kernel = 3;
  c->labels_per_class = 50;
  c->synth_train = 7000;
  c->synth_val = 1400;
  c->batch = 32;
  c->mu = 3;
  c->steps = 0;
  c->epochs = 10;
  c->optimizer = FC_OPT_SGD;
  c->lr = 0.03;
  c->momentum = 0.9;
  c->weight_decay = 5e-4;
  c->nesterov = 1;
  c->schedule = FC_SCHEDULE_COSINE;
  /* EMA 0.99 and thresholds rescaled into [0.85, 0.95]: chosen on FER2013
   * (250 labels per class, 1,000 steps, three seeds; docs/METHOD.md §8). */
  c->ema = 0.99;
  c->dta = FC_DTA_FREEMATCH_RESCALED;
  c->tau = 0.95;
  c->tau_min = 0.85;
  c->tau_max = 0.95;
  c->dta_momentum = 0.999;
  c->dist_align_momentum = 0.99;
  c->snl = 1;
  c->snl_mode = FC_SNL_THRESH;
  c->tau_n = 0.05;
  c->lambda_s = c->lambda_u = c->lambda_n = 1.0;
  c->seed = 1;
  c->eval_every = 200;
  c->save_every = 200;
  c->log_every = 10;
  c->eval_batch = 128;
}

fc_status fc_train_config_check(const fc_train_config *c) {
  FC_TRY(fc_net_config_check(&c->net));
  if (c->batch < 1 || c->batch > 4096)
    return fc_errorf(FC_ERR_INVALID_ARG, "--batch must be 1..4096, not %d", c->batch);
  if (c->mu < 1 || c->mu > 64)
    return fc_errorf(FC_ERR_INVALID_ARG, "--mu must be 1..64, not %d", c->mu);
  if (c->steps < 0 || c->epochs < 0)
    return fc_errorf(FC_ERR_INVALID_ARG, "--steps and --epochs cannot be negative");
  if (c->steps == 0 && c->epochs == 0)
    return fc_errorf(FC_ERR_INVALID_ARG,
                     "--epochs 0 trains nothing: give --epochs E > 0, or --steps N");
  if (!(c->lr > 0 && c->lr < 100))
    return fc_errorf(FC_ERR_INVALID_ARG, "--lr must be positive, not %g", c->lr);
  if (!(c->ema >= 0 && c->ema < 1))
    return fc_errorf(FC_ERR_INVALID_ARG, "--ema must be in [0, 1), not %g", c->ema);
  if (!(c->tau_min >= 0 && c->tau_min <= c->tau_max && c->tau_max <= 1))
    return fc_errorf(FC_ERR_INVALID_ARG, "thresholds need 0 <= --tau-min <= --tau-max <= 1");
  if (!(c->tau > 0 && c->tau <= 1))
    return fc_errorf(FC_ERR_INVALID_ARG, "--tau must be in (0, 1], not %g", c->tau);
  if (!(c->dta_momentum >= 0 && c->dta_momentum < 1))
    return fc_errorf(FC_ERR_INVALID_ARG, "--dta-momentum must be in [0, 1)");
  if (!(c->dist_align_momentum >= 0 && c->dist_align_momentum < 1))
    return fc_errorf(FC_ERR_INVALID_ARG, "--dist-align-momentum must be in [0, 1)");
  if ((unsigned)c->dta > FC_DTA_FREEMATCH_RESCALED)
    return fc_errorf(FC_ERR_INVALID_ARG, "unknown --dta mode %d", (int)c->dta);
  if (c->labels < 0 || c->labels_per_class < 0)
    return fc_errorf(FC_ERR_INVALID_ARG, "label counts cannot be negative");
  if (c->eval_batch < 1 || c->eval_batch > 4096)
    return fc_errorf(FC_ERR_INVALID_ARG, "--eval-batch must be 1..4096");
  if (c->eval_every < 0 || c->save_every < 0 || c->log_every < 0)
    return fc_errorf(FC_ERR_INVALID_ARG,
                     "--eval-every, --save-every and --log-every cannot be negative");
  if (!c->data && (c->synth_train < 7 || c->synth_val < 0))
    return fc_errorf(FC_ERR_INVALID_ARG, "the synthetic set needs at least 7 training images");
  return FC_OK;
}

/* ---- setup ---- */

static fc_status load_data(fc_trainer *t) {
  const fc_train_config *c = &t->cfg;
  if (!c->data) {
    fc_synth_config sc;
    fc_synth_config_default(&sc);
    sc.train_count = c->synth_train;
    sc.val_count = c->synth_val;
    sc.height = sc.width = c->net.input_size;
    sc.channels = c->net.in_channels;
    sc.seed = c->seed;
    sc.threads = c->threads;
    FC_TRY(fc_synth_generate(&sc, &t->ds));
  } else {
    fc_data_options o;
    fc_data_options_default(&o);
    if (c->format && *c->format) FC_TRY(fc_data_format_parse(c->format, &o.format));
    o.channels = c->net.in_channels;
    o.height = o.width = c->net.input_size;
    o.threads = c->threads;
    o.strict = c->strict_data;
    FC_TRY(fc_dataset_load(c->data, &o, &t->ds));
    if (c->unlabeled) FC_TRY(fc_dataset_add_unlabeled(t->ds, c->unlabeled, &o));
  }
  if (t->ds->class_count < 2 || t->ds->class_count > FC_NET_MAX_CLASSES)
    return fc_errorf(FC_ERR_UNSUPPORTED, "%s has %d classes; fer-cl trains 2..%d",
                     c->data ? c->data : "the data", t->ds->class_count, FC_NET_MAX_CLASSES);
  if (t->ds->problem_count > 0)
    fc_log(FC_LOG_WARN, "%lld image%s could not be read and were skipped (see the warnings above)",
           (long long)t->ds->problem_count, t->ds->problem_count == 1 ? "" : "s");
  return FC_OK;
}

/* --labels N below the class count leaves classes without a single label:
 * the model could never learn them, and nothing would say so. */
static fc_status check_every_class_labelled(fc_trainer *t) {
  const int C = t->ds->class_count;
  int64_t labelled[FC_NET_MAX_CLASSES] = {0}, pool[FC_NET_MAX_CLASSES] = {0};
  fc_dataset_class_counts(t->ds, &t->labeled, labelled);
  fc_dataset_class_counts(t->ds, &t->unlabeled, pool);
  char missing[512] = "";
  int n = 0;
  for (int c = 0; c < C && c < FC_NET_MAX_CLASSES; c++)
    if (labelled[c] == 0 && pool[c] > 0) {
      size_t used = strlen(missing);
      snprintf(missing + used, sizeof missing - used, "%s%s", n++ ? ", " : "",
               t->ds->class_names[c]);
    }
  if (n == 0) return FC_OK;
  return fc_errorf(
      FC_ERR_INVALID_ARG,
      "--labels %d leaves %d of the %d classes without a labelled image (%s): the model could "
      "never "
      "learn them; give --labels %d or more (at least one per class), or --labels-per-class K",
      t->cfg.labels, n, C, missing, C);
}

static fc_status choose_split(fc_trainer *t, const char *resume_dir) {
  const fc_train_config *c = &t->cfg;
  char path[1200];
  snprintf(path, sizeof path, "%s/labels.txt", t->dir);
  if (resume_dir) return fc_label_split_read(path, t->ds, &t->labeled, &t->unlabeled);
  if (c->split_file) {
    FC_TRY(fc_label_split_read(c->split_file, t->ds, &t->labeled, &t->unlabeled));
  } else {
    fc_label_split_config sc;
    fc_label_split_config_default(&sc);
    sc.labels = c->labels;
    sc.labels_per_class = c->labels ? 0 : c->labels_per_class;
    sc.seed = c->seed;
    FC_TRY(fc_label_split(t->ds, &sc, &t->labeled, &t->unlabeled));
    FC_TRY(check_every_class_labelled(t));
  }
  return FC_OK; /* labels.txt is written once the whole run is set up (fc_train_run) */
}

/* Word offsets of a step's gathered words for a batch of Bl + Bu: loss_s,
 * loss_u, loss_n, τ[C], then the per-sample arrays. One rank's, or with the
 * global batch's sizes the ranks' side by side (gather_ranks). */
typedef struct gather_layout {
  size_t tau, conf, argmax, mask, count, hits, probs_l, probs_u, words;
} gather_layout;

static gather_layout layout_for(int Bl, int Bu, int C) {
  gather_layout L;
  L.tau = 3;
  L.conf = L.tau + (size_t)C;
  L.argmax = L.conf + (size_t)Bu;
  L.mask = L.argmax + (size_t)Bu;
  L.count = L.mask + (size_t)Bu;
  L.hits = L.count + (size_t)Bu;
  L.probs_l = L.hits + (size_t)Bu;
  L.probs_u = L.probs_l + (size_t)Bl * C;
  L.words = L.probs_u + (size_t)Bu * C;
  return L;
}

static fc_status alloc_small(fc_trainer *t) {
  const int Bl = t->B_l, Bu = t->B_u, C = t->C, B = Bl + Bu;
  /* Word offsets of each tensor in the small buffer. */
  size_t off = 0;
#define PLACE(view, words)           \
  do {                               \
    t->view = fc_view_of(NULL, off); \
    off += (size_t)(words);          \
  } while (0)
  PLACE(q, (size_t)Bu * C + 1);
  PLACE(conf, Bu + 1);
  PLACE(argmax, Bu + 1);
  PLACE(mask, Bu + 1);
  PLACE(tau, C);
  PLACE(dta_state, fc_dta_state_size(C));
  PLACE(dta_stats, 1 + C);
  PLACE(probs, (size_t)B * C);
  PLACE(loss_ps, B);
  PLACE(dlogits, (size_t)B * C);
  PLACE(neg, (size_t)Bu * C + 1);
  PLACE(neg_count, Bu + 1);
  PLACE(hits, Bu + 1);
  PLACE(loss_n_ps, Bu + 1);
  PLACE(scalars, 8);
  gather_layout L = layout_for(Bl, Bu, C);
  t->g_tau = L.tau;
  t->g_conf = L.conf;
  t->g_argmax = L.argmax;
  t->g_mask = L.mask;
  t->g_count = L.count;
  t->g_hits = L.hits;
  t->g_probs_l = L.probs_l;
  t->g_probs_u = L.probs_u;
  t->gather_words = L.words;
  PLACE(gather, L.words);
  /* Last, so the views above keep the offsets (and the rounding) of runs without it. */
  PLACE(da_state, fc_dist_align_state_size(C));
#undef PLACE
  FC_TRY(fc_buffer_alloc(t->dev, off * 4, "per-step tensors", &t->small));
  FC_TRY(fc_buffer_fill_zero(t->dev, t->small, 0, off * 4));
  fc_view *views[] = {&t->q,         &t->conf,     &t->argmax,    &t->mask,  &t->tau,
                      &t->dta_state, &t->da_state, &t->dta_stats, &t->probs, &t->loss_ps,
                      &t->dlogits,   &t->neg,      &t->neg_count, &t->hits,  &t->loss_n_ps,
                      &t->scalars,   &t->gather};
  for (size_t i = 0; i < sizeof views / sizeof views[0]; i++) views[i]->mem = t->small;
  t->gather_host = calloc(t->gather_words, sizeof(float));
  if (!t->gather_host) return fc_errorf(FC_ERR_NOMEM, "out of memory");

  /* What comes back each step, in one read. */
  int n = 0;
  fc_gather_item *it = t->gather_items;
  it[n++] = (fc_gather_item){t->scalars, 3};
  it[n++] = (fc_gather_item){t->tau, (size_t)C};
  if (Bu > 0) {
    it[n++] = (fc_gather_item){t->conf, (size_t)Bu};
    it[n++] = (fc_gather_item){t->argmax, (size_t)Bu};
    it[n++] = (fc_gather_item){t->mask, (size_t)Bu};
    it[n++] = (fc_gather_item){t->neg_count, (size_t)Bu};
    it[n++] = (fc_gather_item){t->hits, (size_t)Bu};
  } else {
    /* Keep the layout: fill the per-sample part from a zeroed region. */
  }
  it[n++] = (fc_gather_item){t->probs, (size_t)Bl * C};
  if (Bu > 0) it[n++] = (fc_gather_item){fc_view_add(t->probs, (size_t)Bl * C), (size_t)Bu * C};
  t->n_gather_items = n;
  return FC_OK;
}

static fc_status alloc_upload(fc_trainer *t) {
  size_t images = (size_t)(t->B_l + 2 * t->B_u) * t->image_bytes;
  size_t words = (images + 3) / 4;
  t->labels_word = words;
  t->hidden_word = words + (size_t)t->B_l;
  t->upload_bytes = (words + (size_t)t->B_l + (size_t)t->B_u + 1) * 4;
  t->staging = calloc(1, t->upload_bytes);
  t->hidden_host = calloc((size_t)t->B_u + 1, sizeof(int32_t));
  t->labels_host = calloc((size_t)t->B_l + 1, sizeof(int32_t));
  t->u_index_host = calloc((size_t)t->B_u + 1, sizeof(int64_t));
  if (!t->staging || !t->hidden_host || !t->labels_host || !t->u_index_host)
    return fc_errorf(FC_ERR_NOMEM, "out of memory for batch staging");
  return fc_buffer_alloc(t->dev, t->upload_bytes, "batch upload", &t->upload);
}

/* The freematch-fer / freematch-rescaled parameters of this run. */
static fc_dta_params dta_params(const fc_train_config *c) {
  return (fc_dta_params){(float)c->tau_min, (float)c->tau_max, c->dta == FC_DTA_FREEMATCH_RESCALED};
}

/* Distribution alignment's start: prior = the labelled set's class frequencies, p̄ = 1/C. */
static fc_status init_dist_align(fc_trainer *t) {
  const int C = t->C;
  int64_t counts[FC_NET_MAX_CLASSES] = {0}, total = 0;
  fc_dataset_class_counts(t->ds, &t->labeled, counts);
  for (int k = 0; k < C; k++) total += counts[k];
  if (total <= 0)
    return fc_errorf(FC_ERR_INVALID_ARG, "--dist-align needs labelled images with known classes");
  float st[2 * FC_NET_MAX_CLASSES];
  for (int k = 0; k < C; k++) {
    st[k] = (float)((double)counts[k] / (double)total);
    st[C + k] = 1.0f / (float)C;
  }
  return fc_buffer_write(t->dev, t->small, t->da_state.offset * 4, fc_dist_align_state_size(C) * 4,
                         st, 1);
}

static fc_status init_thresholds(fc_trainer *t) {
  const fc_train_config *c = &t->cfg;
  for (int k = 0; k < t->C; k++) t->host_tau[k] = (float)c->tau;
  if (c->dist_align) FC_TRY(init_dist_align(t));
  const fc_dta_params dp = dta_params(c);
  switch (c->dta) {
  case FC_DTA_FREEMATCH_FER:
  case FC_DTA_FREEMATCH_RESCALED:
    FC_TRY(fc_dta_freematch_init(t->dev, t->C, &dp, t->dta_state));
    break;
  case FC_DTA_FLEXMATCH:
    FC_TRY(fc_flexmatch_init(&t->flex, t->C, t->ds->count, t->unlabeled.count, c->tau));
    fc_flexmatch_thresholds(&t->flex, t->host_tau);
    break;
  case FC_DTA_ADACM:
    fc_adacm_init(&t->adacm, t->C);
    memcpy(t->host_tau, t->adacm.tau, sizeof(float) * (size_t)t->C);
    break;
  case FC_DTA_FIXED: break;
  }
  fc_snl_window_init(&t->window, t->C);
  t->snl_k = t->C;
  return fc_buffer_write(t->dev, t->small, t->tau.offset * 4, (size_t)t->C * 4, t->host_tau, 1);
}

static fc_status resume_state(fc_trainer *t, const char *path);

void fc_trainer_loader_config(const fc_trainer *t, int threads, fc_loader_config *lc) {
  /* The global batch; this rank's part of it. */
  fc_loader_config_init(lc, t->ds, &t->labeled, &t->unlabeled, t->B_l_all, t->B_u_all);
  lc->shards = t->world;
  lc->shard = t->rank;
  lc->seed = t->cfg.seed;
  lc->threads = threads;
}

/* Device bytes a run at labelled batch b takes (what check_device_memory adds up). */
typedef struct memory_need {
  size_t student, teacher, eval, weights, other, total;
} memory_need;

static fc_status memory_at(const fc_trainer *t, int b, memory_need *m) {
  const fc_train_config *c = &t->cfg;
  int bu = t->ssl ? b * c->mu : 0;
  memset(m, 0, sizeof *m);
  size_t student_net = 0, teacher_net = 0;
  FC_TRY(fc_net_device_bytes(&c->net, FC_NET_TRAINABLE, &student_net));
  FC_TRY(fc_net_device_bytes(&c->net, 0, &teacher_net));
  m->weights = student_net + teacher_net;
  if (c->skip_nonfinite) m->weights += student_net + teacher_net; /* the step backup */
  FC_TRY(fc_net_plan_device_bytes(&c->net, b + bu, FC_NET_TRAINING, &m->student));
  if (bu > 0) FC_TRY(fc_net_plan_device_bytes(&c->net, bu, FC_NET_INFERENCE, &m->teacher));
  if (t->val.count > 0) {
    int eb = c->eval_batch < t->val.count ? c->eval_batch : (int)t->val.count;
    FC_TRY(fc_net_plan_device_bytes(&c->net, eb, FC_NET_INFERENCE, &m->eval));
  }
  /* The batch upload and the per-step tensors (probabilities, masks, gradients of the logits). */
  m->other = (size_t)(b + 2 * bu) * (t->image_bytes + 8) +
             (size_t)(b + bu) * (size_t)t->C * 4 * 12 + (1u << 20);
  m->total = m->student + m->teacher + m->eval + m->weights + m->other;
  return FC_OK;
}

/* Refuses a batch the device cannot hold, before the loader, the networks and
 * the plans allocate anything, with the sizes and a batch that would fit. */
static fc_status check_device_memory(const fc_trainer *t) {
  const fc_device_info *info = fc_device_get_info(t->dev);
  uint64_t have = info->global_mem_bytes;
  memory_need m;
  FC_TRY(memory_at(t, t->B_l, &m));
  if (!have || m.total <= have) return FC_OK;
  int lo = 0, hi = t->B_l; /* the largest batch that fits: lo fits (0 = none), hi does not */
  while (hi - lo > 1) {
    int mid = lo + (hi - lo) / 2;
    memory_need mm;
    FC_TRY(memory_at(t, mid, &mm));
    if (mm.total <= have)
      lo = mid;
    else
      hi = mid;
  }
  const double gib = 1024.0 * 1024.0 * 1024.0;
  char advice[160];
  if (lo > 0)
    snprintf(advice, sizeof advice,
             "the largest --batch that fits is about %d (or lower --mu, --width or --input)",
             lo * t->world);
  else
    snprintf(advice, sizeof advice,
             "even --batch 1 does not fit: lower --width, --input or --eval-batch");
  return fc_errorf(
      FC_ERR_DEVICE_MEMORY,
      "training at --batch %d --mu %d needs about %.2f GiB of device memory (student forward and "
      "backward "
      "of %d images %.2f GiB, teacher on %d images %.2f GiB, evaluation %.2f GiB, weights and "
      "optimizer state %.2f GiB, batch and step buffers %.2f GiB), but %s has %.2f GiB; %s",
      t->B_l_all, t->cfg.mu, (double)m.total / gib, t->B_l + t->B_u, (double)m.student / gib,
      t->B_u, (double)m.teacher / gib, (double)m.eval / gib, (double)m.weights / gib,
      (double)m.other / gib, info->name, (double)have / gib, advice);
}

/* ---- data-parallel ranks ---- */

static fc_status sum_over_ranks(void *user, double *values, size_t n) {
  (void)user;
  return fc_dist_sum_f64(values, n);
}

static fc_status alloc_dist(fc_trainer *t) {
  size_t np = fc_net_param_count(t->student), ns = fc_net_stat_count(t->student);
  size_t words = (np > ns ? np : ns) + 1;
  t->grad_host = malloc(words * sizeof(float));
  size_t gw = t->gather_words * 4;
  t->pack_bytes = (gw + (size_t)(t->B_l + t->B_u) * 4 + (size_t)t->B_u * 8 + 7) & ~(size_t)7;
  t->pack = calloc(1, t->pack_bytes);
  t->pack_all = calloc((size_t)t->world, t->pack_bytes);
  t->gather_all = calloc(layout_for(t->B_l_all, t->B_u_all, t->C).words, sizeof(float));
  t->hidden_all = calloc((size_t)t->B_u_all + 1, sizeof(int32_t));
  t->labels_all = calloc((size_t)t->B_l_all + 1, sizeof(int32_t));
  t->u_index_all = calloc((size_t)t->B_u_all + 1, sizeof(int64_t));
  if (!t->grad_host || !t->pack || !t->pack_all || !t->gather_all || !t->hidden_all ||
      !t->labels_all || !t->u_index_all)
    return fc_errorf(FC_ERR_NOMEM, "out of memory for the data-parallel buffers");
  if (t->cfg.sync_bn) {
    int widest = 0;
    for (int i = 0; i < fc_net_tensor_count(t->student); i++) {
      const fc_tensor_info *ti = fc_net_tensor(t->student, i);
      if (ti->store == FC_STORE_STAT && (int)ti->count > widest) widest = (int)ti->count;
    }
    t->bn_sync =
        (fc_bn_sync){.ranks = t->world, .sum = sum_over_ranks, .host_len = 4 * (size_t)widest + 8};
    t->bn_sync.host = malloc(t->bn_sync.host_len * sizeof(double));
    if (!t->bn_sync.host) return fc_errorf(FC_ERR_NOMEM, "out of memory");
    t->splan->bn_sync = &t->bn_sync;
  }
  return FC_OK;
}

/* The student starts from rank 0's weights on every rank (the teacher is its copy). */
static fc_status broadcast_initial_weights(fc_trainer *t) {
  fc_net *s = t->student;
  size_t np = fc_net_param_count(s), ns = fc_net_stat_count(s);
  float *buf = malloc((np + ns + 1) * sizeof(float));
  if (!buf) return fc_errorf(FC_ERR_NOMEM, "out of memory");
  fc_status st = fc_net_read_params(s, buf, buf + np);
  if (st == FC_OK) st = fc_dist_broadcast(buf, (np + ns) * sizeof(float));
  int64_t drift = fc_fault_value("dist-drift-rank"); /* test-only: this rank's replica differs */
  if (st == FC_OK && drift == t->rank) buf[0] += 1e-3f;
  if (st == FC_OK) st = fc_net_write_params(s, buf, buf + np);
  if (st == FC_OK) st = fc_net_copy_params(t->teacher, s);
  free(buf);
  return fc_error_context(st, "sharing rank 0's initial weights");
}

/* The number of ranks that wrote DIR/last.safetensors (1 before they were recorded). */
static fc_status saved_world_size(const char *path, int *out) {
  *out = 1;
  fc_safetensors *f = NULL;
  if (fc_safetensors_open(path, &f) != FC_OK) {
    fc_error_clear(); /* resume_state reports a missing or unreadable checkpoint */
    return FC_OK;
  }
  const char *v = fc_safetensors_metadata(f, "fercl.train.world_size");
  fc_status st = FC_OK;
  if (v) {
    char *end = NULL;
    long n = strtol(v, &end, 10);
    if (end == v || *end || n < 1 || n > 1000000)
      st = fc_errorf(FC_ERR_FORMAT, "%s: fercl.train.world_size '%s' is not a rank count", path, v);
    else
      *out = (int)n;
  }
  fc_safetensors_close(f);
  return st;
}

static fc_status check_resume_world(fc_trainer *t) {
  char path[1200];
  snprintf(path, sizeof path, "%s/last.safetensors", t->dir);
  int saved = 1;
  FC_TRY(saved_world_size(path, &saved));
  if (saved == t->world) return FC_OK;
  char command[1300];
  if (saved == 1)
    snprintf(command, sizeof command, "fer-cl train --resume %s", t->dir);
  else
    snprintf(command, sizeof command, "mpirun -np %d fer-cl train --resume %s", saved, t->dir);
  return fc_errorf(
      FC_ERR_MISMATCH,
      "%s was trained on %d rank%s and this resume has %d: each rank's share of the batch and the "
      "BN statistics depend on the rank count, so resume with the same count: %s",
      t->dir, saved, saved == 1 ? "" : "s", t->world, command);
}

fc_status fc_trainer_create(fc_device *dev, const fc_train_config *cfg, const char *resume_dir,
                            fc_trainer **out) {
  *out = NULL;
  FC_TRY(fc_train_config_check(cfg));
  fc_trainer *t = calloc(1, sizeof *t);
  if (!t) return fc_errorf(FC_ERR_NOMEM, "out of memory");
  t->dev = dev;
  t->cfg = *cfg;
  t->best_acc = -1;
  t->saved_step = -1;
  t->world = fc_dist_size();
  t->rank = fc_dist_rank();
  t->device_seed = cfg->seed + (uint64_t)t->rank * 0x9e3779b97f4a7c15ULL;
  const char *dir = resume_dir ? resume_dir : cfg->out;
  snprintf(t->dir, sizeof t->dir, "%s", dir ? dir : "runs/fer-cl");
  fc_status st = resume_dir ? check_resume_world(t) : FC_OK;
  if (st == FC_OK && cfg->batch % t->world != 0)
    st = fc_errorf(FC_ERR_INVALID_ARG,
                   "--batch %d does not split over %d ranks: --batch and --mu are the global "
                   "batch, of which each "
                   "rank takes an equal share; use a --batch divisible by %d",
                   cfg->batch, t->world, t->world);
  if (st == FC_OK && t->rank == 0) st = fc_mkdir_p(t->dir);
  if (st == FC_OK && resume_dir && t->rank == 0) {
    int stale = fc_atomic_file_remove_stale(t->dir);
    if (stale > 0)
      fc_log(FC_LOG_INFO,
             "removed %d unfinished file%s left in %s by a run that was killed while saving", stale,
             stale == 1 ? "" : "s", t->dir);
  }
  if (st == FC_OK) st = load_data(t);
  if (st == FC_OK) {
    t->C = t->ds->class_count;
    t->cfg.net.num_classes = t->C;
    t->image_bytes = fc_dataset_image_bytes(t->ds);
    if (fc_dataset_split_indices(t->ds, FC_SPLIT_VAL, &t->val) != FC_OK || t->val.count == 0) {
      fc_index_list_free(&t->val);
      st = fc_dataset_split_indices(t->ds, FC_SPLIT_TEST, &t->val);
    }
  }
  if (st == FC_OK) st = choose_split(t, resume_dir);
  if (st == FC_OK && t->labeled.count == 0)
    st = fc_errorf(FC_ERR_INVALID_ARG,
                   "no labelled training images: check --labels / --labels-per-class");
  if (st == FC_OK) {
    t->ssl = !cfg->supervised_only && t->unlabeled.count > 0;
    if (!cfg->supervised_only && t->unlabeled.count == 0)
      fc_log(FC_LOG_WARN, "every training image is labelled: training supervised only");
    t->B_l_all = cfg->batch;
    t->B_u_all = t->ssl ? cfg->batch * cfg->mu : 0;
    t->B_l = t->B_l_all / t->world;
    t->B_u = t->B_u_all / t->world;
    t->steps_per_epoch = t->ssl ? (t->unlabeled.count + t->B_u_all - 1) / t->B_u_all
                                : (t->labeled.count + t->B_l_all - 1) / t->B_l_all;
    t->total_steps = cfg->steps > 0    ? cfg->steps
                     : cfg->epochs > 0 ? (int64_t)ceil(cfg->epochs * (double)t->steps_per_epoch)
                                       : t->steps_per_epoch;
    /* Model metadata: config, classes, normalisation from the training images. */
    t->meta.config = t->cfg.net;
    for (int k = 0; k < t->C; k++)
      snprintf(t->meta.class_names[k], FC_CLASS_NAME_MAX, "%s", t->ds->class_names[k]);
    fc_index_list train_list = {0};
    fc_data_norm dn;
    st = fc_dataset_split_indices(t->ds, FC_SPLIT_TRAIN, &train_list);
    if (st == FC_OK) st = fc_data_norm_compute(t->ds, &train_list, &dn);
    fc_index_list_free(&train_list);
    if (st == FC_OK) {
      fc_input_norm_default(&t->meta.norm, t->cfg.net.in_channels);
      for (int k = 0; k < dn.channels && k < 3; k++) {
        t->meta.norm.mean[k] = dn.mean[k];
        t->meta.norm.std[k] = dn.std[k] > 1e-3f ? dn.std[k] : 1e-3f;
      }
    }
  }
  if (st == FC_OK) st = check_device_memory(t);
  if (st == FC_OK) {
    fc_loader_config lc;
    fc_trainer_loader_config(t, cfg->threads > 0 ? cfg->threads : 2, &lc);
    st = fc_loader_create(&lc, &t->loader);
  }
  if (st == FC_OK) st = fc_device_build_all(dev);
  if (st == FC_OK) st = fc_net_create(dev, &t->cfg.net, FC_NET_TRAINABLE, &t->student);
  if (st == FC_OK) st = fc_net_create(dev, &t->cfg.net, 0, &t->teacher);
  if (st == FC_OK) st = fc_net_init_params(t->student, cfg->seed);
  if (st == FC_OK && cfg->init && !resume_dir) {
    char report[4096];
    st = fc_checkpoint_init_from(cfg->init, t->student, report, sizeof report);
    if (st == FC_OK) fc_log(FC_LOG_INFO, "%s", report);
  }
  if (st == FC_OK) st = fc_net_copy_params(t->teacher, t->student);
  if (st == FC_OK) st = fc_net_plan_create(t->student, t->B_l + t->B_u, FC_NET_TRAINING, &t->splan);
  if (st == FC_OK && t->ssl)
    st = fc_net_plan_create(t->teacher, t->B_u, FC_NET_INFERENCE, &t->tplan);
  if (st == FC_OK && t->val.count > 0) {
    int eb = cfg->eval_batch < t->val.count ? cfg->eval_batch : (int)t->val.count;
    st = fc_evaluator_create(t->teacher, eb, &t->eval);
    t->eval_ready = st == FC_OK;
  }
  if (st == FC_OK) st = alloc_upload(t);
  if (st == FC_OK) st = alloc_small(t);
  if (st == FC_OK) st = init_thresholds(t);
  if (st == FC_OK) st = fc_runlog_init(&t->log, t->C, t->ds->class_names);
  if (st == FC_OK && cfg->skip_nonfinite) {
    const fc_net *s = t->student;
    t->backup_bytes =
        (3 * fc_net_param_count(s) + 2 * fc_net_stat_count(s) + fc_net_param_count(s)) * 4 +
        (fc_dta_state_size(t->C) + fc_dist_align_state_size(t->C)) * 4;
    st = fc_buffer_alloc(dev, t->backup_bytes, "--skip-nonfinite backup", &t->backup);
  }
  if (st == FC_OK && t->world > 1) st = alloc_dist(t);
  /* Every rank gets here, failed or not, before the first collective. */
  st = fc_dist_agree(st);
  if (st == FC_OK && t->world > 1) st = broadcast_initial_weights(t);
  if (st == FC_OK && resume_dir) {
    char path[1200];
    snprintf(path, sizeof path, "%s/last.safetensors", t->dir);
    st = resume_state(t, path);
  }
  if (st == FC_OK) st = fc_device_finish(dev);
  if (t->world > 1) st = fc_dist_agree(st);
  if (st != FC_OK) {
    fc_trainer_free(t);
    return st;
  }
  *out = t;
  return FC_OK;
}

void fc_trainer_free(fc_trainer *t) {
  if (!t) return;
  if (t->dev) fc_device_finish(t->dev);
  fc_loader_free(t->loader);
  if (t->eval_ready) fc_evaluator_free(&t->eval);
  fc_net_plan_free(t->splan);
  fc_net_plan_free(t->tplan);
  fc_net_free(t->student);
  fc_net_free(t->teacher);
  fc_buffer_release(&t->upload);
  fc_buffer_release(&t->small);
  fc_buffer_release(&t->backup);
  free(t->staging);
  free(t->hidden_host);
  free(t->labels_host);
  free(t->u_index_host);
  free(t->gather_host);
  free(t->grad_host);
  free(t->pack);
  free(t->pack_all);
  free(t->gather_all);
  free(t->hidden_all);
  free(t->labels_all);
  free(t->u_index_all);
  free(t->bn_sync.host);
  fc_flexmatch_free(&t->flex);
  fc_runlog_free(&t->log);
  fc_index_list_free(&t->labeled);
  fc_index_list_free(&t->unlabeled);
  fc_index_list_free(&t->val);
  fc_dataset_free(t->ds);
  free(t);
}

/* ---- one step ---- */

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static fc_status stage_batch(fc_trainer *t, int64_t step) {
  const fc_batch *b = NULL;
  FC_TRY(fc_loader_get(t->loader, step, &b));
  size_t ib = t->image_bytes;
  uint8_t *s = t->staging;
  /* Student input first ([x_l | u_s] contiguous), then the teacher's weak view. */
  memcpy(s, b->x_l, (size_t)t->B_l * ib);
  if (t->B_u > 0) {
    memcpy(s + (size_t)t->B_l * ib, b->u_s, (size_t)t->B_u * ib);
    memcpy(s + (size_t)(t->B_l + t->B_u) * ib, b->u_w, (size_t)t->B_u * ib);
  }
  int32_t *words = (int32_t *)(void *)s;
  memcpy(words + t->labels_word, b->labels, (size_t)t->B_l * sizeof(int32_t));
  memcpy(t->labels_host, b->labels, (size_t)t->B_l * sizeof(int32_t));
  if (t->B_u > 0) {
    memcpy(words + t->hidden_word, b->hidden_labels, (size_t)t->B_u * sizeof(int32_t));
    memcpy(t->hidden_host, b->hidden_labels, (size_t)t->B_u * sizeof(int32_t));
    memcpy(t->u_index_host, b->unlabeled_index, (size_t)t->B_u * sizeof(int64_t));
  }
  fc_loader_release(t->loader, b);
  /* Non-blocking: the staging memory is not touched again before this step's final read. */
  return fc_buffer_write(t->dev, t->upload, 0, t->upload_bytes, t->staging, 0);
}

static fc_status backup_state(fc_trainer *t, int restore) {
  fc_device *dev = t->dev;
  size_t np = fc_net_param_count(t->student) * 4, ns = fc_net_stat_count(t->student) * 4;
  struct {
    cl_mem mem;
    size_t bytes;
  } parts[] = {{t->student->params, np}, {t->student->stats, ns},  {t->student->opt[0], np},
               {t->student->opt[1], np}, {t->teacher->params, np}, {t->teacher->stats, ns}};
  size_t off = 0;
  for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
    if (restore)
      FC_TRY(fc_buffer_copy(dev, t->backup, off, parts[i].mem, 0, parts[i].bytes));
    else
      FC_TRY(fc_buffer_copy(dev, parts[i].mem, 0, t->backup, off, parts[i].bytes));
    off += parts[i].bytes;
  }
  size_t ds = fc_dta_state_size(t->C) * 4, das = fc_dist_align_state_size(t->C) * 4;
  if (restore) {
    FC_TRY(fc_buffer_copy(dev, t->backup, off, t->small, t->dta_state.offset * 4, ds));
    return fc_buffer_copy(dev, t->backup, off + ds, t->small, t->da_state.offset * 4, das);
  }
  FC_TRY(fc_buffer_copy(dev, t->small, t->dta_state.offset * 4, t->backup, off, ds));
  return fc_buffer_copy(dev, t->small, t->da_state.offset * 4, t->backup, off + ds, das);
}

/* The batch means of the DTA statistics are this rank's: their mean over the
 * ranks is the global batch's, so every rank holds the same thresholds. */
static fc_status average_dta_stats(fc_trainer *t) {
  size_t n = 1 + (size_t)t->C;
  float f[1 + 64];
  FC_TRY(fc_buffer_read(t->dev, t->small, t->dta_stats.offset * 4, n * 4, f, 1));
  for (size_t i = 0; i < n; i++) t->dta_host[i] = f[i];
  FC_TRY(fc_dist_sum_f64(t->dta_host, n));
  for (size_t i = 0; i < n; i++) f[i] = (float)(t->dta_host[i] / t->world);
  return fc_buffer_write(t->dev, t->small, t->dta_stats.offset * 4, n * 4, f, 1);
}

/* Each rank's gradient is of the mean loss over its share of the batch: their
 * mean over the ranks is the gradient of the global batch. The stop vote (a
 * Ctrl-C on any rank) rides along, so the ranks stop after the same step. This
 * all-reduce is the step's synchronisation point. */
static fc_status average_gradients(fc_trainer *t) {
  size_t np = fc_net_param_count(t->student);
  FC_TRY(
      fc_device_finish(t->dev)); /* the read would wait for backward too: time the copies alone */
  double t0 = fc_dist_seconds();
  FC_TRY(fc_buffer_read(t->dev, t->student->grads, 0, np * 4, t->grad_host, 1));
  t->grad_host[np] = stop_requested ? 1.0f : 0.0f;
  double t1 = fc_dist_seconds();
  FC_TRY(fc_dist_sum_f32(t->grad_host, np + 1));
  t->allreduce_seconds += fc_dist_seconds() - t1;
  t->stop = t->grad_host[np] > 0;
  const float scale = 1.0f / (float)t->world;
  for (size_t i = 0; i < np; i++) t->grad_host[i] *= scale;
  /* Not waited for: grad_host is next written after the next step's read. */
  FC_TRY(fc_buffer_write(t->dev, t->student->grads, 0, np * 4, t->grad_host, 0));
  t->sync_seconds += fc_dist_seconds() - t0;
  t->sync_steps++;
  return FC_OK;
}

/* Enqueues everything of step `step` (0-based) up to the gather. */
static fc_status enqueue_step(fc_trainer *t, int64_t step, double lr) {
  fc_device *dev = t->dev;
  const fc_train_config *c = &t->cfg;
  const int Bl = t->B_l, Bu = t->B_u, C = t->C;
  fc_view none = {0};
  fc_view images = fc_view_of(t->upload, 0);
  fc_view labels = fc_view_of(t->upload, t->labels_word);
  fc_view hidden = fc_view_of(t->upload, t->hidden_word);
  uint64_t seed = t->device_seed;

  if (t->ssl) {
    /* Teacher on the weak view: probabilities, confidence, pseudo-labels. */
    fc_view weak = fc_view_of(t->upload, (size_t)(Bl + Bu) * t->image_bytes);
    /* --teacher-batch-stats: early on the running statistics lag the fast-moving weights
     * and make the teacher over-confident (docs/METHOD.md §8). */
    fc_net_plan_set_batch_stats(t->tplan, step < c->teacher_batch_stats);
    FC_TRY(fc_net_forward(t->tplan, weak, &t->meta.norm, seed, (uint64_t)step));
    FC_TRY(fc_softmax_forward(dev, Bu, C, fc_net_plan_logits(t->tplan), t->q));
    /* Distribution alignment: everything below (confidence, pseudo-labels, thresholds,
     * SNL's negatives) sees the aligned probabilities; p̄ follows the raw ones. */
    if (c->dist_align) {
      FC_TRY(fc_dist_align_update(dev, Bu, C, t->q, (float)c->dist_align_momentum, t->da_state));
      FC_TRY(fc_dist_align_apply(dev, Bu, C, t->q, t->da_state, t->q));
    }
    FC_TRY(fc_confidence(dev, Bu, C, t->q, t->conf, t->argmax));
    /* Thresholds: updated from this batch before masking (METHOD §3). */
    if (c->dta == FC_DTA_FREEMATCH_FER || c->dta == FC_DTA_FREEMATCH_RESCALED) {
      const fc_dta_params dp = dta_params(c);
      FC_TRY(fc_batch_confidence_stats(dev, Bu, C, t->q, t->conf, t->dta_stats));
      if (t->world > 1) FC_TRY(average_dta_stats(t));
      FC_TRY(
          fc_dta_freematch_update(dev, C, t->dta_stats, (float)c->dta_momentum, &dp, t->dta_state));
      FC_TRY(fc_buffer_copy(dev, t->small, fc_dta_tau(t->dta_state, C).offset * 4, t->small,
                            t->tau.offset * 4, (size_t)C * 4));
    } else if (c->dta == FC_DTA_FLEXMATCH || c->dta == FC_DTA_ADACM) {
      FC_TRY(fc_buffer_write(dev, t->small, t->tau.offset * 4, (size_t)C * 4, t->host_tau, 0));
    }
    FC_TRY(fc_threshold_mask(dev, Bu, C, t->conf, t->argmax, t->tau, t->mask));
    /* --pseudo-warmup: no pseudo-label counts yet (the early teacher's confidence is not
     * to be trusted, METHOD.md "What changed and why"). */
    if (step < c->pseudo_warmup) FC_TRY(fc_fill(dev, t->mask, 0.0f, (size_t)Bu));
  }

  /* Student on [x_l | u_s]. */
  FC_TRY(fc_net_forward(t->splan, images, &t->meta.norm, seed, (uint64_t)step));
  fc_view z = fc_net_plan_logits(t->splan);
  fc_view z_u = fc_view_add(z, (size_t)Bl * C);
  fc_view probs_u = fc_view_add(t->probs, (size_t)Bl * C);
  fc_view dz_u = fc_view_add(t->dlogits, (size_t)Bl * C);
  fc_view loss_s = t->scalars, loss_u = fc_view_add(t->scalars, 1),
          loss_n = fc_view_add(t->scalars, 2);

  FC_TRY(fc_softmax_xent_forward(dev, Bl, C, z, labels, none, (float)Bl, t->probs, t->loss_ps,
                                 loss_s));
  FC_TRY(fc_softmax_xent_backward(dev, Bl, C, t->probs, labels, none, (float)Bl, (float)c->lambda_s,
                                  t->dlogits, 0));
  if (t->ssl) {
    FC_TRY(fc_softmax_xent_forward(dev, Bu, C, z_u, t->argmax, t->mask, (float)Bu, probs_u,
                                   fc_view_add(t->loss_ps, (size_t)Bl), loss_u));
    FC_TRY(fc_softmax_xent_backward(dev, Bu, C, probs_u, t->argmax, t->mask, (float)Bu,
                                    (float)c->lambda_u, dz_u, 0));
    if (c->snl && step >= c->snl_warmup) {
      fc_snl_params sp = {.mode = (fc_snl_mode)c->snl_mode,
                          .tau_n = (float)c->tau_n,
                          .k = t->snl_k,
                          .cap = (float)(c->tau_max * c->tau_max),
                          .seed = seed,
                          .step = (uint64_t)step};
      FC_TRY(fc_snl_negatives(dev, Bu, C, &sp, t->q, t->mask, probs_u, t->neg, t->neg_count));
      FC_TRY(fc_snl_hits(dev, Bu, C, t->neg, hidden, t->hits));
      FC_TRY(fc_nl_loss_forward(dev, Bu, C, z_u, t->neg, t->mask, FC_NL_LOSS_EPS, (float)Bu,
                                t->loss_n_ps, loss_n));
      FC_TRY(fc_nl_loss_backward(dev, Bu, C, z_u, t->neg, t->mask, FC_NL_LOSS_EPS, (float)Bu,
                                 (float)c->lambda_n, dz_u, 1));
    } else {
      FC_TRY(fc_fill(dev, loss_n, 0.0f, 1));
      FC_TRY(fc_buffer_fill_zero(dev, t->small, t->neg_count.offset * 4, (size_t)Bu * 4));
      FC_TRY(fc_buffer_fill_zero(dev, t->small, t->hits.offset * 4, (size_t)Bu * 4));
    }
  } else {
    FC_TRY(fc_fill(dev, loss_u, 0.0f, 2));
  }

  /* Backward, optimizer, teacher. */
  fc_net *s = t->student;
  size_t np = fc_net_param_count(s);
  FC_TRY(fc_zero_grad(dev, fc_net_grads(s), np));
  FC_TRY(fc_net_backward(t->splan, t->dlogits));
  if (t->world > 1) FC_TRY(average_gradients(t));
  const fc_optim_segment *segs = NULL;
  int nseg = fc_net_decay_segments(s, &segs);
  if (c->optimizer == FC_OPT_SGD) {
    fc_sgd_config sc = {(float)c->momentum, 0.0f, (float)c->weight_decay,
                        c->nesterov && c->momentum > 0};
    FC_TRY(fc_sgd_step(dev, &sc, segs, nseg, np, fc_net_params(s), fc_net_grads(s),
                       fc_net_opt_state(s, 0), (float)lr, (uint64_t)step + 1));
  } else {
    fc_adam_config ac = {0.9f, 0.999f, 1e-8f, (float)c->weight_decay, c->optimizer == FC_OPT_ADAMW};
    FC_TRY(fc_adam_step(dev, &ac, segs, nseg, np, fc_net_params(s), fc_net_grads(s),
                        fc_net_opt_state(s, 0), fc_net_opt_state(s, 1), (float)lr,
                        (uint64_t)step + 1));
  }
  float m = (float)fc_ema_momentum_at(c->ema, step);
  FC_TRY(fc_ema_update(dev, fc_net_params(t->teacher), fc_net_params(s), np, m));
  FC_TRY(fc_ema_update(dev, fc_net_stats(t->teacher), fc_net_stats(s), fc_net_stat_count(s), m));
  return fc_gather_words(dev, t->gather_items, t->n_gather_items, t->gather);
}

/* A step's gathered words: this rank's, or every rank's side by side. */
typedef struct step_words {
  const float *g;
  gather_layout at;
  int Bl, Bu;
  const int32_t *hidden, *labels;
  const int64_t *u_index;
} step_words;

/* world > 1: every rank's gathered words, laid out as one process's of the
 * global batch (rank r's samples are its positions r·B/world ..), so the log
 * and the host-side method state (FlexMatch, AdaCM, the SNL window) see the
 * whole batch and stay the same on every rank. */
static fc_status gather_ranks(fc_trainer *t, step_words *w) {
  const int Bl = t->B_l, Bu = t->B_u, C = t->C, W = t->world;
  const size_t gw = t->gather_words * 4;
  uint8_t *p = t->pack;
  memcpy(p, t->gather_host, gw);
  memcpy(p + gw, t->hidden_host, (size_t)Bu * 4);
  memcpy(p + gw + (size_t)Bu * 4, t->labels_host, (size_t)Bl * 4);
  memcpy(p + gw + (size_t)(Bu + Bl) * 4, t->u_index_host, (size_t)Bu * 8);
  FC_TRY(fc_dist_allgather(t->pack, t->pack_bytes, t->pack_all));
  const gather_layout L = layout_for(Bl, Bu, C), G = layout_for(t->B_l_all, t->B_u_all, C);
  float *g = t->gather_all;
  for (int k = 0; k < 3; k++) g[k] = 0;
  for (int r = 0; r < W; r++) {
    const uint8_t *src = t->pack_all + (size_t)r * t->pack_bytes;
    const float *rg = (const float *)(const void *)src;
    for (int k = 0; k < 3; k++) g[k] += rg[k] / (float)W; /* each rank's loss is its share's mean */
    if (r == 0) memcpy(g + G.tau, rg + L.tau, (size_t)C * 4);
    const size_t per_sample[][2] = {{G.conf, L.conf},
                                    {G.argmax, L.argmax},
                                    {G.mask, L.mask},
                                    {G.count, L.count},
                                    {G.hits, L.hits}};
    for (size_t f = 0; f < 5; f++)
      memcpy(g + per_sample[f][0] + (size_t)r * Bu, rg + per_sample[f][1], (size_t)Bu * 4);
    memcpy(g + G.probs_l + (size_t)r * Bl * C, rg + L.probs_l, (size_t)Bl * C * 4);
    memcpy(g + G.probs_u + (size_t)r * Bu * C, rg + L.probs_u, (size_t)Bu * C * 4);
    memcpy(t->hidden_all + (size_t)r * Bu, src + gw, (size_t)Bu * 4);
    memcpy(t->labels_all + (size_t)r * Bl, src + gw + (size_t)Bu * 4, (size_t)Bl * 4);
    memcpy(t->u_index_all + (size_t)r * Bu, src + gw + (size_t)(Bu + Bl) * 4, (size_t)Bu * 8);
  }
  *w = (step_words){g, G, t->B_l_all, t->B_u_all, t->hidden_all, t->labels_all, t->u_index_all};
  return FC_OK;
}

/* Turns the gathered words into a log row and updates host-side DTA/SNL state. */
static void digest_step(fc_trainer *t, const step_words *w, fc_log_row *row) {
  const float *g = w->g;
  const int Bu = w->Bu, C = t->C;
  const fc_train_config *c = &t->cfg;
  row->loss_s = g[0];
  row->loss_u = t->ssl ? g[1] : 0.0;
  row->loss_n = t->ssl ? g[2] : 0.0;
  row->loss = c->lambda_s * row->loss_s + c->lambda_u * row->loss_u + c->lambda_n * row->loss_n;
  for (int k = 0; k < C; k++) row->tau[k] = g[w->at.tau + (size_t)k];
  row->mask_rate = row->mean_conf = row->pl_precision = row->neg_per_sample = row->neg_precision =
      NAN;
  row->snl_k = t->snl_k;
  if (t->ssl) {
    const float *conf = g + w->at.conf, *mask = g + w->at.mask;
    const int32_t *argmax = (const int32_t *)(const void *)(g + w->at.argmax);
    const int32_t *count = (const int32_t *)(const void *)(g + w->at.count);
    const int32_t *hits = (const int32_t *)(const void *)(g + w->at.hits);
    const int32_t *hidden = w->hidden;
    double accepted = 0, correct = 0, known = 0, conf_sum = 0, negs = 0, neg_hits = 0,
           neg_known = 0;
    for (int b = 0; b < Bu; b++) {
      conf_sum += conf[b];
      if (mask[b] > 0) {
        accepted++;
        if (hidden[b] >= 0) {
          known++;
          correct += argmax[b] == hidden[b];
        }
      }
      negs += count[b];
      if (hidden[b] >= 0) {
        neg_known += count[b];
        neg_hits += hits[b];
      }
    }
    row->mask_rate = accepted / Bu;
    row->mean_conf = conf_sum / Bu;
    row->pl_precision = known > 0 ? correct / known : NAN;
    row->neg_per_sample = negs / Bu;
    row->neg_precision = neg_known > 0 ? 1.0 - neg_hits / neg_known : NAN;
    if (c->dta == FC_DTA_FLEXMATCH) {
      fc_flexmatch_update(&t->flex, w->u_index, conf, argmax, Bu);
      fc_flexmatch_thresholds(&t->flex, t->host_tau);
    }
    if (c->snl && c->snl_mode == FC_SNL_TOPK) {
      fc_snl_window_add(&t->window, g + w->at.probs_u, argmax, Bu);
      t->snl_k = fc_snl_window_k(&t->window);
    }
  }
  if (c->dta == FC_DTA_ADACM && t->ssl) {
    fc_adacm_update(&t->adacm, g + w->at.probs_l, w->labels, w->Bl);
    if ((t->step + 1) % t->steps_per_epoch == 0) {
      fc_adacm_end_epoch(&t->adacm);
      memcpy(t->host_tau, t->adacm.tau, sizeof(float) * (size_t)C);
    }
  }
}

static int all_finite(const float *v, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!isfinite(v[i])) return 0;
  return 1;
}

static fc_status check_student_finite(fc_trainer *t, int64_t step) {
  size_t np = fc_net_param_count(t->student), ns = fc_net_stat_count(t->student);
  float *v = malloc((np + ns + 1) * sizeof(float));
  if (!v) return fc_errorf(FC_ERR_NOMEM, "out of memory");
  fc_status st = fc_net_read_params(t->student, v, v + np);
  if (st == FC_OK && !all_finite(v, np + ns))
    st = fc_errorf(
        FC_ERR_NUMERIC,
        "step %lld: the loss is not finite, and the model before the step is not either (an "
        "earlier "
        "update diverged), so skipping the step cannot help; training stopped. Try a lower --lr",
        (long long)step);
  free(v);
  return st;
}

fc_status fc_trainer_step(fc_trainer *t, fc_log_row *row) {
  memset(row, 0, sizeof *row);
  row->val_acc = row->val_mca = row->val_f1 = NAN;
  int64_t step = t->step;
  double lr = fc_lr_at(&t->cfg, step, t->total_steps);
  double t0 = now_seconds();
  FC_TRY(stage_batch(t, step));
  if (t->backup) FC_TRY(backup_state(t, 0));
  if (fc_fault_at("nan", step + 1)) /* test-only (core/fault.h): this step blows up */
    FC_TRY(fc_fill(t->dev, fc_net_params(t->student), NAN, fc_net_param_count(t->student)));
  if (fc_fault_at("device-lost", step + 1)) fc_fault_device_lost = 1;
  if (t->world > 1 && t->rank == t->world - 1 && fc_fault_at("rank-exit", step + 1))
    _exit(3); /* a rank dies */
  int64_t delay_ms = fc_fault_value("step-delay-ms");
  if (delay_ms > 0)
    nanosleep(&(struct timespec){delay_ms / 1000, (long)(delay_ms % 1000) * 1000000L}, NULL);
  fc_device_lock_compiles(t->dev, 1);
  fc_status st = enqueue_step(t, step, lr);
  if (st == FC_OK)
    st = fc_buffer_read(t->dev, t->gather.mem, t->gather.offset * 4, t->gather_words * 4,
                        t->gather_host, 1);
  fc_device_lock_compiles(t->dev, 0);
  if (st != FC_OK) return fc_error_context(st, "training step %lld", (long long)step + 1);
  step_words words = {t->gather_host, layout_for(t->B_l, t->B_u, t->C),
                      t->B_l,         t->B_u,
                      t->hidden_host, t->labels_host,
                      t->u_index_host};
  if (t->world > 1) {
    st = gather_ranks(t, &words);
    if (st != FC_OK) return fc_error_context(st, "training step %lld", (long long)step + 1);
  }
  double dt = now_seconds() - t0;
  digest_step(t, &words, row);
  row->step = step + 1;
  row->epoch = (double)(step + 1) / (double)t->steps_per_epoch;
  row->lr = lr;
  row->images_per_s = (double)(t->B_l_all + t->B_u_all) / dt;
  t->step_seconds_ema = t->step_seconds_ema > 0 ? 0.9 * t->step_seconds_ema + 0.1 * dt : dt;
  if (!isfinite(row->loss_s) || !isfinite(row->loss_u) || !isfinite(row->loss_n)) {
    if (t->backup) {
      FC_TRY(backup_state(t, 1));
      /* Skipping helps only if the state before the step is sound: an earlier
       * update may have diverged while its own loss was still finite. */
      FC_TRY(check_student_finite(t, step + 1));
      fc_log(
          FC_LOG_WARN,
          "step %lld: non-finite loss (supervised %g, pseudo-label %g, negative %g); step skipped",
          (long long)step + 1, row->loss_s, row->loss_u, row->loss_n);
    } else {
      return fc_errorf(FC_ERR_NUMERIC,
                       "step %lld: the loss is not finite (supervised %g, pseudo-label %g, "
                       "negative %g); training "
                       "stopped so it does not continue on garbage. Try a lower --lr, or "
                       "--skip-nonfinite to skip "
                       "such steps",
                       (long long)step + 1, row->loss_s, row->loss_u, row->loss_n);
    }
  }
  t->step = step + 1;
  return FC_OK;
}

/* ---- evaluation, checkpoints ---- */

fc_status fc_trainer_evaluate(fc_trainer *t, fc_metrics *metrics, fc_confusion **cm_out) {
  memset(metrics, 0, sizeof *metrics);
  if (!t->eval_ready) return fc_errorf(FC_ERR_NOT_FOUND, "the data has no validation split");
  fc_confusion *cm = NULL;
  FC_TRY(fc_confusion_create(t->C, &cm));
  fc_status st = fc_evaluate_list(&t->eval, t->ds, &t->val, &t->meta.norm, cm);
  if (st == FC_OK) st = fc_metrics_compute(cm, metrics);
  if (st == FC_OK && cm_out)
    *cm_out = cm;
  else
    fc_confusion_free(cm);
  return st;
}

/* train.host_state: adacm sums and counts (64 + 64), adacm epoch, SNL window
 * fill, next and k, then the window's ranks. */
#define HOST_STATE_WORDS (128 + 4 + FC_SNL_WINDOW)

fc_status fc_trainer_save(fc_trainer *t, const char *path, int model_only) {
  t->meta.config = t->cfg.net;
  if (model_only) return fc_checkpoint_save(path, t->teacher, &t->meta, NULL, 0, NULL, NULL, 0);
  fc_net *s = t->student;
  size_t np = fc_net_param_count(s), ns = fc_net_stat_count(s);
  size_t dsz = fc_dta_state_size(t->C);
  float *buf = malloc((4 * np + ns + dsz + 1) * sizeof(float));
  float *host = malloc(HOST_STATE_WORDS * sizeof(float));
  float *flex = NULL;
  if (!buf || !host) {
    free(buf);
    free(host);
    return fc_errorf(FC_ERR_NOMEM, "out of memory saving %s", path);
  }
  float *sp = buf, *ss = sp + np, *o0 = ss + ns, *o1 = o0 + np, *dta = o1 + np;
  float da[2 * FC_NET_MAX_CLASSES];
  const size_t dasz = fc_dist_align_state_size(t->C);
  fc_status st = fc_net_read_params(s, sp, ss);
  if (st == FC_OK) st = fc_buffer_read(t->dev, s->opt[0], 0, np * 4, o0, 1);
  if (st == FC_OK) st = fc_buffer_read(t->dev, s->opt[1], 0, np * 4, o1, 1);
  if (st == FC_OK) st = fc_buffer_read(t->dev, t->small, t->dta_state.offset * 4, dsz * 4, dta, 1);
  if (st == FC_OK && t->cfg.dist_align)
    st = fc_buffer_read(t->dev, t->small, t->da_state.offset * 4, dasz * 4, da, 1);
  /* Never replace a good checkpoint with a diverged one. */
  if (st == FC_OK && !all_finite(buf, 3 * np + ns + dsz))
    st = fc_errorf(
        FC_ERR_NUMERIC,
        "not saving %s at step %lld: the student's parameters or optimizer state hold NaN or Inf "
        "(training diverged); the file keeps its previous version",
        path, (long long)t->step);
  /* Host-side method state: adacm sums/counts/thresholds/epoch, SNL window. */
  size_t h = 0;
  for (int k = 0; k < 64; k++) host[h++] = (float)t->adacm.sum[k];
  for (int k = 0; k < 64; k++) host[h++] = (float)t->adacm.count[k];
  host[h++] = (float)t->adacm.epoch;
  host[h++] = (float)t->window.filled;
  host[h++] = (float)t->window.next;
  host[h++] = (float)t->snl_k;
  for (int k = 0; k < FC_SNL_WINDOW; k++) host[h++] = t->window.ranks[k];
  fc_ckpt_blob blobs[8];
  int nb = 0;
  blobs[nb++] = (fc_ckpt_blob){"train.student.params", sp, np};
  blobs[nb++] = (fc_ckpt_blob){"train.student.stats", ss, ns};
  blobs[nb++] = (fc_ckpt_blob){"train.optimizer.0", o0, np};
  blobs[nb++] = (fc_ckpt_blob){"train.optimizer.1", o1, np};
  blobs[nb++] = (fc_ckpt_blob){"train.dta_state", dta, dsz};
  blobs[nb++] = (fc_ckpt_blob){"train.host_state", host, h};
  blobs[nb++] = (fc_ckpt_blob){"train.host_tau", t->host_tau, (size_t)t->C};
  if (t->cfg.dist_align) blobs[nb++] = (fc_ckpt_blob){"train.dist_align", da, dasz};
  if (t->flex.selected) {
    flex = malloc((size_t)t->flex.pool * sizeof(float) + 4);
    if (!flex) st = fc_errorf(FC_ERR_NOMEM, "out of memory");
    for (int64_t i = 0; st == FC_OK && i < t->flex.pool; i++) flex[i] = t->flex.selected[i];
    blobs[nb++] = (fc_ckpt_blob){"train.flexmatch", flex, (size_t)t->flex.pool};
  }
  char step_s[32], batches_s[32], best_s[40], best_step_s[32], world_s[16];
  snprintf(world_s, sizeof world_s, "%d", t->world);
  snprintf(step_s, sizeof step_s, "%lld", (long long)t->step);
  snprintf(batches_s, sizeof batches_s, "%lld", (long long)fc_net_batches_tracked(s));
  snprintf(best_s, sizeof best_s, "%.17g", t->best_acc);
  snprintf(best_step_s, sizeof best_step_s, "%lld", (long long)t->best_step);
  const char *keys[] = {"fercl.train.step", "fercl.train.student_batches",
                        "fercl.train.best_accuracy", "fercl.train.best_step",
                        "fercl.train.world_size"};
  const char *values[] = {step_s, batches_s, best_s, best_step_s, world_s};
  if (st == FC_OK) st = fc_checkpoint_save(path, t->teacher, &t->meta, blobs, nb, keys, values, 5);
  free(buf);
  free(host);
  free(flex);
  return st;
}

static fc_status read_blob(fc_safetensors *f, const char *name, float *dst, size_t count) {
  size_t idx = 0;
  FC_TRY(fc_safetensors_find(f, name, &idx));
  const fc_st_tensor *ti = fc_safetensors_tensor(f, idx);
  if (ti->dtype != FC_ST_F32 || ti->ndim != 1 || (size_t)ti->shape[0] != count)
    return fc_errorf(FC_ERR_MISMATCH, "%s: %s has the wrong size for this run (%lld, expected %zu)",
                     fc_safetensors_path(f), name, (long long)(ti->ndim ? ti->shape[0] : 0), count);
  return fc_safetensors_read_f32(f, idx, dst, count);
}

static int whole(double v, double lo, double hi) { return v >= lo && v <= hi && v == floor(v); }

/* The resume state indexes arrays (SNL window, FlexMatch classes): a corrupt
 * or foreign checkpoint must be refused, not trusted. */
static int host_state_ok(const float *host, int C) {
  for (int k = 0; k < 64; k++)
    if (!(isfinite(host[k]) && whole(host[64 + k], 0, 1e15))) return 0;
  size_t h = 128;
  if (!whole(host[h++], 0, 1e9)) return 0;               /* adacm epoch */
  if (!whole(host[h++], 0, FC_SNL_WINDOW)) return 0;     /* window fill */
  if (!whole(host[h++], 0, FC_SNL_WINDOW - 1)) return 0; /* next slot */
  if (!whole(host[h++], 1, C)) return 0;                 /* SNL k */
  for (int k = 0; k < FC_SNL_WINDOW; k++)
    if (!whole(host[h++], 0, C)) return 0; /* ranks */
  return 1;
}

static int parse_count(const char *s, int64_t *out) {
  char *end = NULL;
  errno = 0;
  long long v = s ? strtoll(s, &end, 10) : -1;
  if (!s || errno || end == s || *end || v < 0) return 0;
  *out = v;
  return 1;
}

static fc_status resume_state(fc_trainer *t, const char *path) {
  fc_model_meta meta;
  FC_TRY(fc_checkpoint_read_meta(path, &meta));
  FC_TRY(fc_checkpoint_load(path, t->teacher));
  t->meta.norm = meta.norm; /* the run's normalisation, as saved */
  fc_safetensors *f = NULL;
  FC_TRY(fc_safetensors_open(path, &f));
  fc_net *s = t->student;
  size_t np = fc_net_param_count(s), ns = fc_net_stat_count(s), dsz = fc_dta_state_size(t->C);
  size_t host_n = HOST_STATE_WORDS; /* as fc_trainer_save writes it */
  float *buf = malloc((4 * np + ns + dsz + host_n + 8) * sizeof(float));
  fc_status st = buf ? FC_OK : fc_errorf(FC_ERR_NOMEM, "out of memory resuming");
  float *sp = buf, *ss = sp + np, *o0 = ss + ns, *o1 = o0 + np, *dta = o1 + np, *host = dta + dsz;
  if (st == FC_OK) st = read_blob(f, "train.student.params", sp, np);
  if (st == FC_OK) st = read_blob(f, "train.student.stats", ss, ns);
  if (st == FC_OK) st = read_blob(f, "train.optimizer.0", o0, np);
  if (st == FC_OK) st = read_blob(f, "train.optimizer.1", o1, np);
  if (st == FC_OK) st = read_blob(f, "train.dta_state", dta, dsz);
  if (st == FC_OK) st = read_blob(f, "train.host_state", host, host_n);
  if (st == FC_OK) st = read_blob(f, "train.host_tau", t->host_tau, (size_t)t->C);
  float da[2 * FC_NET_MAX_CLASSES];
  const size_t dasz = fc_dist_align_state_size(t->C);
  if (st == FC_OK && t->cfg.dist_align) {
    st = read_blob(f, "train.dist_align", da, dasz);
    if (st == FC_OK && !all_finite(da, dasz))
      st = fc_errorf(FC_ERR_FORMAT, "%s: train.dist_align holds NaN or Inf", path);
  }
  if (st == FC_OK && t->flex.selected) {
    float *flex = malloc((size_t)t->flex.pool * sizeof(float) + 4);
    st = flex ? read_blob(f, "train.flexmatch", flex, (size_t)t->flex.pool)
              : fc_errorf(FC_ERR_NOMEM, "out of memory");
    for (int64_t i = 0; st == FC_OK && i < t->flex.pool; i++)
      if (!whole(flex[i], -1, t->C - 1))
        st = fc_errorf(FC_ERR_FORMAT, "%s: train.flexmatch[%lld] = %g is not a class of this run",
                       path, (long long)i, flex[i]);
    if (st == FC_OK) {
      memset(t->flex.counts, 0, sizeof t->flex.counts);
      t->flex.unused = t->unlabeled.count;
      for (int64_t i = 0; i < t->flex.pool; i++) {
        t->flex.selected[i] = (int8_t)flex[i];
        if (t->flex.selected[i] >= 0) {
          t->flex.counts[t->flex.selected[i]]++;
          t->flex.unused--;
        }
      }
    }
    free(flex);
  }
  const char *step_s = fc_safetensors_metadata(f, "fercl.train.step");
  const char *batches_s = fc_safetensors_metadata(f, "fercl.train.student_batches");
  const char *best_s = fc_safetensors_metadata(f, "fercl.train.best_accuracy");
  const char *best_step_s = fc_safetensors_metadata(f, "fercl.train.best_step");
  if (st == FC_OK && (!step_s || !batches_s || !best_s || !best_step_s))
    st = fc_errorf(FC_ERR_FORMAT, "%s has no training state (was it saved as best.safetensors?)",
                   path);
  int64_t step = 0, batches = 0, best_step = 0;
  char *best_end = NULL;
  double best = st == FC_OK ? strtod(best_s, &best_end) : 0;
  if (st == FC_OK &&
      (!parse_count(step_s, &step) || !parse_count(batches_s, &batches) ||
       !parse_count(best_step_s, &best_step) || best_end == best_s || *best_end || !isfinite(best)))
    st = fc_errorf(FC_ERR_FORMAT, "%s: the fercl.train.* step counts are not valid numbers", path);
  if (st == FC_OK && (!all_finite(buf, 3 * np + ns + dsz) ||
                      !all_finite(t->host_tau, (size_t)t->C) || !host_state_ok(host, t->C)))
    st = fc_errorf(FC_ERR_FORMAT,
                   "%s: the training state is corrupt (NaN or Inf, or values out of range)", path);
  if (st == FC_OK) {
    t->step = step;
    t->saved_step = step;
    t->best_acc = best;
    t->best_step = best_step;
    st = fc_net_write_params(s, sp, ss);
    fc_net_set_batches_tracked(s, batches);
  }
  if (st == FC_OK) st = fc_buffer_write(t->dev, s->opt[0], 0, np * 4, o0, 1);
  if (st == FC_OK) st = fc_buffer_write(t->dev, s->opt[1], 0, np * 4, o1, 1);
  if (st == FC_OK) st = fc_buffer_write(t->dev, t->small, t->dta_state.offset * 4, dsz * 4, dta, 1);
  if (st == FC_OK)
    st = fc_buffer_write(t->dev, t->small, t->tau.offset * 4, (size_t)t->C * 4, t->host_tau, 1);
  if (st == FC_OK && t->cfg.dist_align)
    st = fc_buffer_write(t->dev, t->small, t->da_state.offset * 4, dasz * 4, da, 1);
  if (st == FC_OK) {
    size_t h = 0;
    for (int k = 0; k < 64; k++) t->adacm.sum[k] = host[h++];
    for (int k = 0; k < 64; k++) t->adacm.count[k] = (int64_t)host[h++];
    t->adacm.epoch = (int)host[h++];
    if (t->cfg.dta == FC_DTA_ADACM) memcpy(t->adacm.tau, t->host_tau, sizeof(float) * (size_t)t->C);
    t->window.filled = (int)host[h++];
    t->window.next = (int)host[h++];
    t->snl_k = (int)host[h++];
    memset(t->window.hist, 0, sizeof t->window.hist);
    for (int k = 0; k < FC_SNL_WINDOW; k++) {
      t->window.ranks[k] = (uint8_t)host[h++];
      if (k < t->window.filled && t->window.ranks[k] <= 64) t->window.hist[t->window.ranks[k]]++;
    }
  }
  free(buf);
  fc_safetensors_close(f);
  if (st == FC_OK) {
    char log_path[1200];
    snprintf(log_path, sizeof log_path, "%s/log.csv", t->dir);
    fc_status lst = fc_runlog_read_csv(&t->log, log_path, t->step);
    if (lst != FC_OK) fc_log(FC_LOG_WARN, "starting a new log: %s", fc_last_error());
    fc_error_clear();
  }
  return fc_error_context(st, "resuming from %s", path);
}

/* ---- the run ---- */

static fc_status save_run(fc_trainer *t) {
  if (t->rank != 0) { /* rank 0 alone writes the run folder */
    t->saved_step = t->step;
    return FC_OK;
  }
  char path[1200];
  /* The log first: should the checkpoint then fail or be killed, the log is
   * ahead of the checkpoint and a resume drops the extra rows; the other way
   * round, the resumed log would miss the rows in between. */
  snprintf(path, sizeof path, "%s/log.csv", t->dir);
  FC_TRY(fc_runlog_write_csv(&t->log, path));
  snprintf(path, sizeof path, "%s/last.safetensors", t->dir);
  FC_TRY(fc_trainer_save(t, path, 0));
  t->saved_step = t->step;
  return FC_OK;
}

/* A step, an evaluation or a save failed. The model on the device may be half
 * updated, so the last checkpoint stays as it is; keep the log (rows past the
 * checkpoint are dropped on resume) and say where the run can continue. */
static fc_status stop_after_failure(fc_trainer *t, fc_status st) {
  char message[3000];
  snprintf(message, sizeof message, "%s", fc_last_error());
  char path[1200];
  snprintf(path, sizeof path, "%s/log.csv", t->dir);
  int log_ok = t->rank != 0 || fc_runlog_write_csv(&t->log, path) == FC_OK;
  if (t->saved_step < 0)
    return fc_errorf(st, "%s. No checkpoint was saved before this%s", message,
                     log_ok ? "" : " (and log.csv could not be written)");
  return fc_errorf(
      st,
      "%s. %s/last.safetensors (step %lld) is intact: continue with %sfer-cl train --resume %s%s",
      message, t->dir, (long long)t->saved_step, t->world > 1 ? "mpirun " : "", t->dir,
      log_ok ? "" : " (log.csv could not be written)");
}

static fc_status finish_outputs(fc_trainer *t) {
  if (t->rank != 0) return FC_OK;
  char path[1200];
  snprintf(path, sizeof path, "%s/curves.png", t->dir);
  char title[256];
  snprintf(title, sizeof title, "fer-cl %s: %lld steps",
           t->cfg.data ? t->cfg.data : "synthetic faces", (long long)t->step);
  FC_TRY(fc_runlog_plot(&t->log, path, title));
  if (!t->eval_ready) return FC_OK;
  fc_metrics m;
  fc_confusion *cm = NULL;
  FC_TRY(fc_trainer_evaluate(t, &m, &cm));
  snprintf(path, sizeof path, "%s/confusion.png", t->dir);
  snprintf(title, sizeof title, "teacher on the validation split, step %lld", (long long)t->step);
  fc_status st = fc_plot_confusion_png(path, fc_confusion_counts(cm), t->C,
                                       (const char *const *)t->ds->class_names, title);
  fc_metrics_free(&m);
  fc_confusion_free(cm);
  return st;
}

/* Without --sync-bn each rank's BN running statistics are of its own share of
 * the batches: their mean is what the model is evaluated and saved with (the
 * student's and the teacher's, on every rank, so the replicas stay equal). */
static fc_status average_bn_stats(fc_trainer *t) {
  if (t->world <= 1 || t->cfg.sync_bn) return FC_OK;
  size_t ns = fc_net_stat_count(t->student);
  fc_net *nets[2] = {t->student, t->teacher};
  for (int i = 0; i < 2; i++) {
    FC_TRY(fc_net_read_params(nets[i], NULL, t->grad_host));
    FC_TRY(fc_dist_sum_f32(t->grad_host, ns));
    for (size_t k = 0; k < ns; k++) t->grad_host[k] /= (float)t->world;
    FC_TRY(fc_net_write_params(nets[i], NULL, t->grad_host));
  }
  return FC_OK;
}

/* After the last step every rank must hold the same student: compares a
 * checksum of each rank's parameters (a replica that drifted is a bug). */
static fc_status check_replicas(fc_trainer *t) {
  if (t->world <= 1) return FC_OK;
  size_t np = fc_net_param_count(t->student);
  FC_TRY(fc_net_read_params(t->student, t->grad_host, NULL));
  uint64_t mine = fc_hash_bytes(FC_HASH_INIT, t->grad_host, np * sizeof(float));
  uint64_t *all = calloc((size_t)t->world, sizeof *all);
  if (!all) return fc_errorf(FC_ERR_NOMEM, "out of memory");
  fc_status st = fc_dist_allgather(&mine, sizeof mine, all);
  for (int r = 1; st == FC_OK && r < t->world; r++)
    if (all[r] != all[0])
      st = fc_errorf(FC_ERR_INTERNAL,
                     "after step %lld rank %d's weights (checksum %016llx) differ from rank 0's "
                     "(%016llx): the "
                     "replicas drifted apart",
                     (long long)t->step, r, (unsigned long long)all[r], (unsigned long long)all[0]);
  if (st == FC_OK)
    fc_log(FC_LOG_INFO, "all %d ranks hold identical weights after step %lld (checksum %016llx)",
           t->world, (long long)t->step, (unsigned long long)all[0]);
  free(all);
  return st;
}

fc_status fc_train_run(fc_device *dev, const fc_train_config *cfg, const char *resume_dir,
                       fc_train_result *result) {
  memset(result, 0, sizeof *result);
  stop_requested = 0;
  fc_trainer *t = NULL;
  FC_TRY(fc_trainer_create(dev, cfg, resume_dir, &t));
  if (!resume_dir) {
    /* Everything is checked (data, split, memory, kernels, weights): only now
     * may the caller clear its folder, and the run write into it (rank 0; the
     * other ranks learn how it went). */
    fc_status st = FC_OK;
    if (t->rank == 0) {
      st = cfg->before_writing ? cfg->before_writing(cfg->before_writing_user) : FC_OK;
      char path[1200];
      snprintf(path, sizeof path, "%s/labels.txt", t->dir);
      if (st == FC_OK) st = fc_label_split_write(path, t->ds, &t->labeled);
    }
    int code = (int)st;
    if (t->world > 1 && fc_dist_broadcast(&code, sizeof code) != FC_OK && st == FC_OK)
      st = fc_errorf(FC_ERR_IO, "the ranks could not agree on the run folder");
    if (st == FC_OK && code != FC_OK)
      st = fc_errorf((fc_status)code, "rank 0 could not prepare the run folder %s", t->dir);
    if (st != FC_OK) {
      fc_trainer_free(t);
      return st;
    }
  }
  char ranks_note[160] = "", again[32] = "";
  if (t->world > 1) {
    snprintf(ranks_note, sizeof ranks_note, ", data-parallel over %d ranks of %d+%d images%s",
             t->world, t->B_l, t->B_u, t->cfg.sync_bn ? " with synchronised BN" : "");
    snprintf(again, sizeof again, "mpirun -np %d ", t->world);
  }
  fc_log(FC_LOG_INFO,
         "training %s on %s: %lld labelled, %lld unlabelled, %lld validation images, %d classes; "
         "%lld steps of %d+%d images%s%s",
         t->cfg.net.arch, t->cfg.data ? t->cfg.data : "synthetic faces",
         (long long)t->labeled.count, (long long)(t->ssl ? t->unlabeled.count : 0),
         (long long)t->val.count, t->C, (long long)t->total_steps, t->B_l_all, t->B_u_all,
         resume_dir ? " (resumed)" : "", ranks_note);
  double start = now_seconds();
  int64_t first_step = t->step;
  const int lead = t->rank == 0; /* rank 0 evaluates, writes and reports */
  fc_status st = FC_OK;
  while (t->step < t->total_steps && st == FC_OK) {
    fc_log_row row;
    st = fc_trainer_step(t, &row);
    if (st != FC_OK) break;
    int last = t->step == t->total_steps;
    int stop = (t->world > 1 ? t->stop : stop_requested) && !last; /* every rank decides alike */
    int eval_now =
        t->eval_ready && ((t->cfg.eval_every > 0 && t->step % t->cfg.eval_every == 0) || last);
    int save_now = (t->cfg.save_every > 0 && t->step % t->cfg.save_every == 0) || last || stop;
    if (eval_now || save_now) st = average_bn_stats(t);
    if (st != FC_OK) break;
    int evaluated = 0, is_best = 0;
    if (eval_now && lead) {
      fc_metrics m;
      st = fc_trainer_evaluate(t, &m, NULL);
      if (st != FC_OK) break;
      row.val_acc = m.accuracy;
      row.val_mca = m.mean_class_accuracy;
      row.val_f1 = m.macro_f1;
      fc_metrics_free(&m);
      evaluated = 1;
      if (row.val_acc > t->best_acc) {
        t->best_acc = row.val_acc;
        t->best_step = t->step;
        is_best = 1;
        char path[1200];
        snprintf(path, sizeof path, "%s/best.safetensors", t->dir);
        st = fc_trainer_save(t, path, 1);
        if (st != FC_OK) break;
      }
    }
    st = fc_runlog_append(&t->log, &row);
    if (st != FC_OK) break;
    if (save_now) st = save_run(t);
    if (st != FC_OK) break;
    if (cfg->progress && lead) {
      fc_train_progress p = {
          .step = t->step,
          .total_steps = t->total_steps,
          .epoch = row.epoch,
          .loss = row.loss,
          .loss_s = row.loss_s,
          .loss_u = row.loss_u,
          .loss_n = row.loss_n,
          .mask_rate = row.mask_rate,
          .lr = row.lr,
          .images_per_s = (t->B_l_all + t->B_u_all) / t->step_seconds_ema,
          .eta_seconds = (double)(t->total_steps - t->step) * t->step_seconds_ema,
          .evaluated = evaluated,
          .val_acc = row.val_acc,
          .val_mca = row.val_mca,
          .val_f1 = row.val_f1,
          .is_best = is_best};
      cfg->progress(&p, cfg->progress_user);
    }
    if (t->world == 1 && !stop && !last &&
        stop_requested) { /* asked for during this step's report */
      stop = 1;
      st = save_run(t);
      if (st != FC_OK) break;
    }
    if (stop) {
      st = fc_errorf(FC_ERR_INTERRUPTED,
                     "interrupted after step %lld of %lld; saved %s/last.safetensors. Continue "
                     "with: %sfer-cl train "
                     "--resume %s",
                     (long long)t->step, (long long)t->total_steps, t->dir, again, t->dir);
      result->interrupted = 1;
    }
  }
  /* A rank that failed alone leaves the others waiting in a collective. */
  result->must_abort = t->world > 1 && st != FC_OK && st != FC_ERR_INTERRUPTED;
  if (st == FC_OK) st = check_replicas(t);
  double seconds = now_seconds() - start;
  if (st != FC_OK && st != FC_ERR_INTERRUPTED) st = stop_after_failure(t, st);
  if (st == FC_OK) st = finish_outputs(t);
  if (!result->must_abort) st = fc_dist_agree(st); /* every rank returns the run's outcome */
  result->steps_done = t->step;
  result->first_step = first_step;
  result->seconds = seconds;
  result->images_per_second =
      seconds > 0 ? (double)(t->step - first_step) * (t->B_l_all + t->B_u_all) / seconds : 0;
  result->world_size = t->world;
  result->semi_supervised = t->ssl;
  result->labeled_count = t->labeled.count;
  result->unlabeled_count = t->ssl ? t->unlabeled.count : 0;
  result->gradient_bytes = fc_net_param_count(t->student) * sizeof(float);
  if (t->sync_steps > 0) {
    result->sync_seconds_per_step = t->sync_seconds / (double)t->sync_steps;
    result->allreduce_seconds_per_step = t->allreduce_seconds / (double)t->sync_steps;
  }
  result->best_accuracy = t->best_acc;
  result->best_step = t->best_step;
  if (t->log.count > 0) {
    const fc_log_row *lastrow = NULL;
    for (int64_t i = t->log.count - 1; i >= 0 && !lastrow; i--)
      if (isfinite(t->log.rows[i].val_acc)) lastrow = &t->log.rows[i];
    if (lastrow) {
      result->final_accuracy = lastrow->val_acc;
      result->final_mean_class_accuracy = lastrow->val_mca;
      result->final_macro_f1 = lastrow->val_f1;
    }
  }
  fc_trainer_free(t);
  return st;
}
