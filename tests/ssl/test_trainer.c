/* The trainer: host-side DTA/SNL bookkeeping on hand-made batches, the first
 * steps' losses against a double-precision C reference of the whole step
 * (llm.c's loss-trajectory check), exact resume, and learning on synthetic
 * faces. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device/runtime.h"
#include "fercl/safetensors.h"
#include "net/net_internal.h"
#include "net/ref_net.h"
#include "ops/ref/ref.h"
#include "ssl/ssl_host.h"
#include "ssl/trainer_internal.h"
#include "testutil.h"

/* ---- host-side bookkeeping ---- */

START_TEST(lr_schedule_and_ema_warmup) {
  fc_train_config c;
  fc_train_config_default(&c);
  c.lr = 0.1;
  ck_assert_double_eq_tol(fc_lr_at(&c, 0, 100), 0.1, 1e-12);
  ck_assert_double_eq_tol(fc_lr_at(&c, 50, 100), 0.1 * cos(7.0 * M_PI * 50 / 1600.0), 1e-12);
  c.warmup = 10;
  ck_assert_double_eq_tol(fc_lr_at(&c, 0, 100), 0.01, 1e-12);
  ck_assert_double_eq_tol(fc_lr_at(&c, 9, 100), 0.1, 1e-12);
  ck_assert_double_eq_tol(fc_lr_at(&c, 10, 100), 0.1, 1e-12);
  c.schedule = FC_SCHEDULE_CONSTANT;
  ck_assert_double_eq_tol(fc_lr_at(&c, 99, 100), 0.1, 1e-12);
  ck_assert_double_eq_tol(fc_ema_momentum_at(0.999, 0), 0.0, 1e-12);
  ck_assert_double_eq_tol(fc_ema_momentum_at(0.999, 9), 0.9, 1e-12);
  ck_assert_double_eq_tol(fc_ema_momentum_at(0.999, 100000), 0.999, 1e-12);
}
END_TEST

START_TEST(flexmatch_thresholds_from_counts) {
  /* 3 classes, a pool of 10 images (dataset indices 0..9), base τ 0.9. */
  fc_flexmatch f;
  FC_CHECK_OK(fc_flexmatch_init(&f, 3, 10, 10, 0.9));
  float tau[3];
  fc_flexmatch_thresholds(&f, tau);
  /* Nothing confident yet: β = 0 → τ = 0 for all (FlexMatch's warm-up). */
  for (int c = 0; c < 3; c++) ck_assert_float_eq(tau[c], 0.0f);
  int64_t idx[6] = {0, 1, 2, 3, 4, 5};
  float conf[6] = {0.95f, 0.97f, 0.99f, 0.5f, 0.91f, 0.92f};
  int32_t pred[6] = {0, 0, 0, 1, 1, 2};
  fc_flexmatch_update(&f, idx, conf, pred, 6);
  /* Selected: class 0 ×3, class 1 ×1 (index 3 not confident), class 2 ×1; unused 5. */
  ck_assert_int_eq(f.counts[0], 3);
  ck_assert_int_eq(f.counts[1], 1);
  ck_assert_int_eq(f.counts[2], 1);
  ck_assert_int_eq(f.unused, 5);
  fc_flexmatch_thresholds(&f, tau);
  /* β = σ / max(max σ, unused) = (3,1,1)/5; τ = 0.9·β/(2−β). */
  ck_assert_float_eq_tol(tau[0], 0.9f * 0.6f / 1.4f, 1e-6);
  ck_assert_float_eq_tol(tau[1], 0.9f * 0.2f / 1.8f, 1e-6);
  /* A later confident prediction moves a sample between classes. */
  int64_t again[1] = {0};
  float c2[1] = {0.99f};
  int32_t p2[1] = {2};
  fc_flexmatch_update(&f, again, c2, p2, 1);
  ck_assert_int_eq(f.counts[0], 2);
  ck_assert_int_eq(f.counts[2], 2);
  ck_assert_int_eq(f.unused, 5);
  fc_flexmatch_free(&f);
}
END_TEST

START_TEST(adacm_thresholds_per_epoch) {
  fc_adacm a;
  fc_adacm_init(&a, 2);
  ck_assert_float_eq(a.tau[0], 0.8f);
  /* Two correct class-0 samples (conf 0.9 and 0.7), one wrong (true 1, predicted 0). */
  float probs[6] = {0.9f, 0.1f, 0.7f, 0.3f, 0.6f, 0.4f};
  int32_t labels[3] = {0, 0, 1};
  fc_adacm_update(&a, probs, labels, 3);
  a.epoch = 3;
  fc_adacm_end_epoch(&a);
  double ramp = 1.0 / (1.0 + exp(-3.0));
  double want = fmax(0.8, 0.97 * 0.8 * ramp);
  ck_assert_float_eq_tol(a.tau[0], (float)want, 1e-6);
  ck_assert_float_eq(a.tau[1], 0.8f); /* no correct sample of class 1: unchanged */
  ck_assert_int_eq(a.epoch, 4);
}
END_TEST

START_TEST(topk_window_picks_smallest_k_for_99_percent) {
  fc_snl_window w;
  fc_snl_window_init(&w, 4);
  /* Fewer than 1024 samples: k = C (no negatives yet). */
  float probs[4] = {0.4f, 0.3f, 0.2f, 0.1f};
  int32_t label = 0;
  fc_snl_window_add(&w, probs, &label, 1);
  ck_assert_int_eq(fc_snl_window_k(&w), 4);
  /* 1000 samples with the label at rank 1, 20 at rank 2, 10 at rank 3. */
  for (int i = 0; i < 999; i++) fc_snl_window_add(&w, probs, &label, 1);
  int32_t r2 = 1, r3 = 2;
  for (int i = 0; i < 20; i++) fc_snl_window_add(&w, probs, &r2, 1);
  for (int i = 0; i < 10; i++) fc_snl_window_add(&w, probs, &r3, 1);
  /* 1030 samples: rank ≤ 1 covers 97.1 %, ≤ 2 covers 99.03 % → k = 2. */
  ck_assert_int_eq(fc_snl_window_k(&w), 2);
  /* Ties rank the label after equal earlier classes. */
  float tie[4] = {0.25f, 0.25f, 0.25f, 0.25f};
  int32_t last = 3;
  fc_snl_window_init(&w, 4);
  fc_snl_window_add(&w, tie, &last, 1);
  ck_assert_int_eq(w.ranks[0], 4);
}
END_TEST

/* ---- a tiny run configuration ---- */

static fc_train_config tiny_config(const char *out) {
  fc_train_config c;
  fc_train_config_default(&c);
  FC_CHECK_OK(fc_net_config_set_arch(&c.net, "resnet10"));
  c.net.width = 1.0 / 16.0;
  c.net.input_size = 32;
  c.net.stem = FC_STEM_IMAGENET;
  c.net.lae_kernel = 3;
  c.net.rfd_prob = 0.5;
  c.net.dropout = 0.1;
  c.synth_train = 140;
  c.synth_val = 28;
  c.labels_per_class = 4;
  c.batch = 4;
  c.mu = 2;
  c.steps = 6;
  c.lr = 0.05;
  c.ema = 0.999; /* the trajectory's recipe, whatever the defaults */
  c.dta = FC_DTA_FREEMATCH_FER;
  c.tau_min = 0.2; /* low thresholds, so a random tiny teacher already accepts some pseudo-labels */
  c.tau_n = 0.2;
  c.eval_every = 0;
  c.save_every = 0;
  c.threads = 1;
  c.out = out;
  return c;
}

static void temp_path(char *out, size_t size, const char *name) {
  snprintf(out, size, "%s/%s", fc_test_temp_dir(), name);
}

/* ---- the loss trajectory against the C reference ---- */

typedef struct ref_state {
  fc_ref_net *student, *teacher;
  double *momentum;
  double dta_state[1 + 2 * 64];
  double da_state[2 * 64];
} ref_state;

/* One step of METHOD §3 in double precision: returns the loss parts. */
static void reference_step(fc_trainer *t, ref_state *r, const fc_batch *b, int64_t step, double lr,
                           double out[3]) {
  const fc_train_config *c = &t->cfg;
  const int Bl = t->B_l, Bu = t->B_u, C = t->C, B = Bl + Bu;
  const fc_graph *g = &r->student->graph;
  size_t ib = t->image_bytes;
  /* Teacher on the weak view. */
  r->teacher->batch_stats = step < c->teacher_batch_stats;
  fc_ref_net_forward(r->teacher, b->u_w, &t->meta.norm, c->seed, (uint64_t)step);
  double *q = calloc((size_t)Bu * C, sizeof(double)), *conf = calloc((size_t)Bu, sizeof(double));
  int32_t *argmax = calloc((size_t)Bu, sizeof(int32_t));
  fc_ref_softmax_forward(Bu, C, fc_ref_net_logits(r->teacher), q);
  if (c->dist_align) {
    fc_ref_dist_align_update(Bu, C, q, c->dist_align_momentum, r->da_state);
    fc_ref_dist_align_apply(Bu, C, q, r->da_state, q);
  }
  fc_ref_confidence(Bu, C, q, conf, argmax);
  double stats[65];
  fc_ref_batch_confidence_stats(Bu, C, q, conf, stats);
  fc_ref_dta_freematch_update(C, stats, c->dta_momentum, c->tau_min, c->tau_max,
                              c->dta == FC_DTA_FREEMATCH_RESCALED, r->dta_state);
  double *mask = calloc((size_t)Bu, sizeof(double));
  fc_ref_threshold_mask(Bu, C, conf, argmax, r->dta_state + 1 + C, mask);
  if (step < c->pseudo_warmup) memset(mask, 0, (size_t)Bu * sizeof(double));
  /* Student on [x_l | u_s]. */
  uint8_t *images = malloc((size_t)B * ib);
  memcpy(images, b->x_l, (size_t)Bl * ib);
  memcpy(images + (size_t)Bl * ib, b->u_s, (size_t)Bu * ib);
  fc_ref_net_forward(r->student, images, &t->meta.norm, c->seed, (uint64_t)step);
  const double *z = fc_ref_net_logits(r->student);
  double *p = calloc((size_t)B * C, sizeof(double)), *lps = calloc((size_t)B, sizeof(double));
  double *dz = calloc((size_t)B * C, sizeof(double)),
         *dz_n = calloc((size_t)Bu * C, sizeof(double));
  fc_ref_softmax_xent_forward(Bl, C, z, b->labels, NULL, Bl, p, lps, &out[0]);
  fc_ref_softmax_xent_backward(Bl, C, p, b->labels, NULL, Bl, c->lambda_s, dz);
  fc_ref_softmax_xent_forward(Bu, C, z + (size_t)Bl * C, argmax, mask, Bu, p + (size_t)Bl * C,
                              lps + Bl, &out[1]);
  fc_ref_softmax_xent_backward(Bu, C, p + (size_t)Bl * C, argmax, mask, Bu, c->lambda_u,
                               dz + (size_t)Bl * C);
  int32_t *neg = calloc((size_t)Bu * C, sizeof(int32_t)),
          *counts = calloc((size_t)Bu, sizeof(int32_t));
  fc_snl_params sp = {.mode = FC_SNL_THRESH,
                      .tau_n = (float)c->tau_n,
                      .k = C,
                      .cap = (float)(c->tau_max * c->tau_max),
                      .seed = c->seed,
                      .step = (uint64_t)step};
  fc_ref_snl_negatives(Bu, C, &sp, q, mask, p + (size_t)Bl * C, neg, counts);
  fc_ref_nl_loss_forward(Bu, C, z + (size_t)Bl * C, neg, mask, FC_NL_LOSS_EPS, Bu, lps + Bl,
                         &out[2]);
  fc_ref_nl_loss_backward(Bu, C, z + (size_t)Bl * C, neg, mask, FC_NL_LOSS_EPS, Bu, c->lambda_n,
                          dz_n);
  for (size_t i = 0; i < (size_t)Bu * C; i++) dz[(size_t)Bl * C + i] += dz_n[i];
  /* Backward, SGD with the same decay segments, EMA. */
  memset(r->student->grads, 0, g->n_params * sizeof(double));
  fc_ref_net_backward(r->student, dz);
  fc_sgd_config sc = {(float)c->momentum, 0.0f, (float)c->weight_decay, c->nesterov};
  for (int s = 0; s < g->n_segments; s++) {
    const fc_optim_segment *seg = &g->segments[s];
    fc_ref_sgd_step(&sc, seg->decay ? 1.0 : 0.0, seg->count, r->student->params + seg->offset,
                    r->student->grads + seg->offset, r->momentum + seg->offset, (float)lr,
                    (uint64_t)step + 1);
  }
  double m = (float)fc_ema_momentum_at(c->ema, step);
  fc_ref_ema_update(r->teacher->params, r->student->params, g->n_params, m);
  fc_ref_ema_update(r->teacher->stats, r->student->stats, g->n_stats, m);
  free(q), free(conf), free(argmax), free(mask), free(images), free(p), free(lps), free(dz),
      free(dz_n), free(neg), free(counts);
}

/* freematch-rescaled with distribution alignment, its running mean quick to move. */
static void use_rescaled_aligned(fc_train_config *c) {
  c->dta = FC_DTA_FREEMATCH_RESCALED;
  c->dist_align = 1;
  c->dist_align_momentum = 0.5;
}

/* variant 0: the defaults; 1: freematch-rescaled with distribution alignment, a
 * one-step pseudo-label warm-up and a teacher on batch statistics for three steps. */
static void check_first_steps(int variant) {
  char dir[1100];
  temp_path(dir, sizeof dir, variant ? "trajectory-rescaled" : "trajectory");
  fc_train_config c = tiny_config(dir);
  if (variant) {
    use_rescaled_aligned(&c);
    c.tau_min = 0.15;
    c.tau_max = 0.5;
    c.pseudo_warmup = 1;
    c.teacher_batch_stats = 3;
  }
  fc_trainer *t = NULL;
  FC_CHECK_OK(fc_trainer_create(fc_test_device(), &c, NULL, &t));
  const fc_graph *g = &t->student->graph;
  ref_state r = {0};
  FC_CHECK_OK(fc_ref_net_create(&t->cfg.net, t->B_l + t->B_u, 1, &r.student));
  FC_CHECK_OK(fc_ref_net_create(&t->cfg.net, t->B_u, 0, &r.teacher));
  float *params = malloc(g->n_params * sizeof(float)), *stats = malloc(g->n_stats * sizeof(float));
  FC_CHECK_OK(fc_net_read_params(t->student, params, stats));
  fc_ref_net_set_params(r.student, params, stats);
  fc_ref_net_set_params(r.teacher, params, stats);
  r.momentum = calloc(g->n_params, sizeof(double));
  fc_ref_dta_freematch_init(t->C, t->cfg.tau_min, t->cfg.tau_max,
                            c.dta == FC_DTA_FREEMATCH_RESCALED, r.dta_state);
  if (c.dist_align) {
    int64_t counts[64] = {0}, total = 0;
    fc_dataset_class_counts(t->ds, &t->labeled, counts);
    for (int k = 0; k < t->C; k++) total += counts[k];
    for (int k = 0; k < t->C; k++) {
      r.da_state[k] = (float)((double)counts[k] / (double)total); /* the trainer's prior is float */
      r.da_state[t->C + k] = (float)(1.0 / t->C);
    }
  }

  /* A second loader with the trainer's settings hands us the same batches. */
  fc_loader_config lc;
  fc_trainer_loader_config(t, 0, &lc);
  fc_loader *loader = NULL;
  FC_CHECK_OK(fc_loader_create(&lc, &loader));

  int pseudo_used = 0, negatives_used = 0;
  for (int64_t step = 0; step < 4; step++) {
    const fc_batch *b = NULL;
    FC_CHECK_OK(fc_loader_get(loader, step, &b));
    double ref[3];
    reference_step(t, &r, b, step, fc_lr_at(&t->cfg, step, t->total_steps), ref);
    fc_loader_release(loader, b);
    fc_log_row row;
    FC_CHECK_OK(fc_trainer_step(t, &row));
    double dev[3] = {row.loss_s, row.loss_u, row.loss_n};
    const char *names[3] = {"supervised", "pseudo-label", "negative"};
    for (int k = 0; k < 3; k++)
      ck_assert_msg(fabs(dev[k] - ref[k]) <= 2e-4 * fmax(1.0, fabs(ref[k])),
                    "step %lld %s loss: device %.8g, reference %.8g", (long long)step + 1, names[k],
                    dev[k], ref[k]);
    pseudo_used += ref[1] > 0;
    negatives_used += ref[2] > 0;
    if (step < c.pseudo_warmup)
      ck_assert_msg(ref[1] == 0 && row.loss_u == 0,
                    "step %lld inside the pseudo-label warm-up: loss %g", (long long)step + 1,
                    row.loss_u);
  }
  /* The check covered all three losses, not just the supervised one. */
  ck_assert_int_gt(pseudo_used, 0);
  ck_assert_int_gt(negatives_used, 0);
  /* And the parameters after 4 steps agree. */
  FC_CHECK_OK(fc_net_read_params(t->student, params, stats));
  double e = 0, n = 0;
  for (size_t i = 0; i < g->n_params; i++) {
    e += (params[i] - r.student->params[i]) * (params[i] - r.student->params[i]);
    n += r.student->params[i] * r.student->params[i];
  }
  ck_assert_msg(e / n < 1e-9, "student parameters after 4 steps: nmse %g", e / n);
  fc_loader_free(loader);
  free(params), free(stats), free(r.momentum);
  fc_ref_net_free(r.student);
  fc_ref_net_free(r.teacher);
  fc_trainer_free(t);
}

START_TEST(first_steps_match_the_reference) { check_first_steps(0); }
END_TEST

START_TEST(rescaled_aligned_steps_match_the_reference) { check_first_steps(1); }
END_TEST

/* ---- resume ---- */

static void stop_at_3(const fc_train_progress *p, void *user) {
  (void)user;
  if (p->step == 3) fc_train_request_stop();
}

static void expect_same_checkpoint(const char *a, const char *b) {
  fc_safetensors *fa = NULL, *fb = NULL;
  FC_CHECK_OK(fc_safetensors_open(a, &fa));
  FC_CHECK_OK(fc_safetensors_open(b, &fb));
  ck_assert_uint_eq(fc_safetensors_count(fa), fc_safetensors_count(fb));
  for (size_t i = 0; i < fc_safetensors_count(fa); i++) {
    const fc_st_tensor *ta = fc_safetensors_tensor(fa, i);
    size_t j = 0;
    FC_CHECK_OK(fc_safetensors_find(fb, ta->name, &j));
    size_t na = fc_safetensors_nbytes(fa, i), nb = fc_safetensors_nbytes(fb, j);
    ck_assert_uint_eq(na, nb);
    char *da = malloc(na + 1), *db = malloc(nb + 1);
    FC_CHECK_OK(fc_safetensors_read(fa, i, da, na));
    FC_CHECK_OK(fc_safetensors_read(fb, j, db, nb));
    ck_assert_msg(memcmp(da, db, na) == 0,
                  "tensor %s differs between the straight and the resumed run", ta->name);
    free(da);
    free(db);
  }
  ck_assert_str_eq(fc_safetensors_metadata(fa, "fercl.train.step"), "6");
  ck_assert_str_eq(fc_safetensors_metadata(fb, "fercl.train.step"), "6");
  fc_safetensors_close(fa);
  fc_safetensors_close(fb);
}

static void check_resume(int variant) {
  char straight[1100], split[1100], a[1200], b[1200];
  temp_path(straight, sizeof straight, variant ? "straight-da" : "straight");
  temp_path(split, sizeof split, variant ? "split-da" : "split");
  fc_train_result res;
  fc_train_config c = tiny_config(straight);
  if (variant) { /* device-side DTA and distribution-alignment state must survive too */
    use_rescaled_aligned(&c);
  } else {
    c.dta = FC_DTA_FLEXMATCH; /* host-side state must survive the resume too */
    c.snl_mode = FC_SNL_RANDOM;
  }
  FC_CHECK_OK(fc_train_run(fc_test_device(), &c, NULL, &res));
  ck_assert_int_eq(res.steps_done, 6);

  c.out = split;
  c.progress = stop_at_3;
  fc_status st = fc_train_run(fc_test_device(), &c, NULL, &res);
  ck_assert_int_eq(st, FC_ERR_INTERRUPTED);
  ck_assert_int_eq(res.steps_done, 3);
  ck_assert_msg(strstr(fc_last_error(), "--resume") != NULL, "%s", fc_last_error());
  c.progress = NULL;
  FC_CHECK_OK(fc_train_run(fc_test_device(), &c, split, &res));
  ck_assert_int_eq(res.steps_done, 6);
  snprintf(a, sizeof a, "%s/last.safetensors", straight);
  snprintf(b, sizeof b, "%s/last.safetensors", split);
  expect_same_checkpoint(a, b);
  if (variant) { /* the alignment state was saved, and it moved from its start */
    fc_safetensors *f = NULL;
    size_t idx = 0;
    float da[2 * 64];
    FC_CHECK_OK(fc_safetensors_open(a, &f));
    FC_CHECK_OK(fc_safetensors_find(f, "train.dist_align", &idx));
    FC_CHECK_OK(fc_safetensors_read_f32(f, idx, da, 14));
    int moved = 0;
    for (int k = 0; k < 7; k++) moved += fabsf(da[7 + k] - 1.0f / 7.0f) > 1e-4f;
    ck_assert_int_gt(moved, 0);
    fc_safetensors_close(f);
  }
}

START_TEST(resume_continues_exactly) { check_resume(0); }
END_TEST

START_TEST(resume_continues_exactly_rescaled_aligned) { check_resume(1); }
END_TEST

/* ---- learning ---- */

START_TEST(accuracy_rises_well_above_chance) {
  char dir[1100];
  temp_path(dir, sizeof dir, "learn");
  fc_train_config c;
  fc_train_config_default(&c);
  FC_CHECK_OK(fc_net_config_set_arch(&c.net, "resnet10"));
  c.net.width = 0.25;
  c.net.stem = FC_STEM_IMAGENET;
  c.synth_train = 2100;
  c.synth_val = 350;
  c.labels_per_class = 0;
  c.labels = 0; /* every training image labelled: the check is about learning, not SSL */
  c.supervised_only = 1;
  c.batch = 32;
  c.steps = 150;
  c.lr = 0.05;
  c.ema = 0.9;
  c.eval_every = 0;
  c.save_every = 0;
  c.out = dir;
  fc_train_result res;
  FC_CHECK_OK(fc_train_run(fc_test_device(), &c, NULL, &res));
  /* Chance is 1/7 = 0.143. */
  ck_assert_msg(res.final_accuracy > 0.35, "validation accuracy %.3f after %lld steps",
                res.final_accuracy, (long long)res.steps_done);
}
END_TEST

int main(void) {
  Suite *s = suite_create("trainer");
  FC_TEST_CASE(s, "host", 0, lr_schedule_and_ema_warmup, flexmatch_thresholds_from_counts,
               adacm_thresholds_per_epoch, topk_window_picks_smallest_k_for_99_percent);
  FC_TEST_CASE(s, "device", 1200, first_steps_match_the_reference,
               rescaled_aligned_steps_match_the_reference, resume_continues_exactly,
               resume_continues_exactly_rescaled_aligned, accuracy_rises_well_above_chance);
  return fc_test_run_suite(s, 1);
}
