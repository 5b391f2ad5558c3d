/* The network: parameter names against torchvision, device forward/backward
 * against the C reference, finite differences of the full gradient, and
 * checkpoints (round trip, every rejection, --init). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "device/runtime.h"
#include "fercl/ckpt.h"
#include "fercl/fileio.h"
#include "fercl/net.h"
#include "fercl/safetensors.h"
#include "net/net_internal.h"
#include "net/ref_net.h"
#include "testutil.h"

/* torchvision.models.resnet18(num_classes=7).state_dict() keys, without num_batches_tracked. */
static const char *const torchvision_resnet18[] = {"conv1.weight",
                                                   "bn1.weight",
                                                   "bn1.bias",
                                                   "bn1.running_mean",
                                                   "bn1.running_var",
                                                   "layer1.0.conv1.weight",
                                                   "layer1.0.bn1.weight",
                                                   "layer1.0.bn1.bias",
                                                   "layer1.0.bn1.running_mean",
                                                   "layer1.0.bn1.running_var",
                                                   "layer1.0.conv2.weight",
                                                   "layer1.0.bn2.weight",
                                                   "layer1.0.bn2.bias",
                                                   "layer1.0.bn2.running_mean",
                                                   "layer1.0.bn2.running_var",
                                                   "layer1.1.conv1.weight",
                                                   "layer1.1.bn1.weight",
                                                   "layer1.1.bn1.bias",
                                                   "layer1.1.bn1.running_mean",
                                                   "layer1.1.bn1.running_var",
                                                   "layer1.1.conv2.weight",
                                                   "layer1.1.bn2.weight",
                                                   "layer1.1.bn2.bias",
                                                   "layer1.1.bn2.running_mean",
                                                   "layer1.1.bn2.running_var",
                                                   "layer2.0.conv1.weight",
                                                   "layer2.0.bn1.weight",
                                                   "layer2.0.bn1.bias",
                                                   "layer2.0.bn1.running_mean",
                                                   "layer2.0.bn1.running_var",
                                                   "layer2.0.conv2.weight",
                                                   "layer2.0.bn2.weight",
                                                   "layer2.0.bn2.bias",
                                                   "layer2.0.bn2.running_mean",
                                                   "layer2.0.bn2.running_var",
                                                   "layer2.0.downsample.0.weight",
                                                   "layer2.0.downsample.1.weight",
                                                   "layer2.0.downsample.1.bias",
                                                   "layer2.0.downsample.1.running_mean",
                                                   "layer2.0.downsample.1.running_var",
                                                   "layer2.1.conv1.weight",
                                                   "layer2.1.bn1.weight",
                                                   "layer2.1.bn1.bias",
                                                   "layer2.1.bn1.running_mean",
                                                   "layer2.1.bn1.running_var",
                                                   "layer2.1.conv2.weight",
                                                   "layer2.1.bn2.weight",
                                                   "layer2.1.bn2.bias",
                                                   "layer2.1.bn2.running_mean",
                                                   "layer2.1.bn2.running_var",
                                                   "layer3.0.conv1.weight",
                                                   "layer3.0.bn1.weight",
                                                   "layer3.0.bn1.bias",
                                                   "layer3.0.bn1.running_mean",
                                                   "layer3.0.bn1.running_var",
                                                   "layer3.0.conv2.weight",
                                                   "layer3.0.bn2.weight",
                                                   "layer3.0.bn2.bias",
                                                   "layer3.0.bn2.running_mean",
                                                   "layer3.0.bn2.running_var",
                                                   "layer3.0.downsample.0.weight",
                                                   "layer3.0.downsample.1.weight",
                                                   "layer3.0.downsample.1.bias",
                                                   "layer3.0.downsample.1.running_mean",
                                                   "layer3.0.downsample.1.running_var",
                                                   "layer3.1.conv1.weight",
                                                   "layer3.1.bn1.weight",
                                                   "layer3.1.bn1.bias",
                                                   "layer3.1.bn1.running_mean",
                                                   "layer3.1.bn1.running_var",
                                                   "layer3.1.conv2.weight",
                                                   "layer3.1.bn2.weight",
                                                   "layer3.1.bn2.bias",
                                                   "layer3.1.bn2.running_mean",
                                                   "layer3.1.bn2.running_var",
                                                   "layer4.0.conv1.weight",
                                                   "layer4.0.bn1.weight",
                                                   "layer4.0.bn1.bias",
                                                   "layer4.0.bn1.running_mean",
                                                   "layer4.0.bn1.running_var",
                                                   "layer4.0.conv2.weight",
                                                   "layer4.0.bn2.weight",
                                                   "layer4.0.bn2.bias",
                                                   "layer4.0.bn2.running_mean",
                                                   "layer4.0.bn2.running_var",
                                                   "layer4.0.downsample.0.weight",
                                                   "layer4.0.downsample.1.weight",
                                                   "layer4.0.downsample.1.bias",
                                                   "layer4.0.downsample.1.running_mean",
                                                   "layer4.0.downsample.1.running_var",
                                                   "layer4.1.conv1.weight",
                                                   "layer4.1.bn1.weight",
                                                   "layer4.1.bn1.bias",
                                                   "layer4.1.bn1.running_mean",
                                                   "layer4.1.bn1.running_var",
                                                   "layer4.1.conv2.weight",
                                                   "layer4.1.bn2.weight",
                                                   "layer4.1.bn2.bias",
                                                   "layer4.1.bn2.running_mean",
                                                   "layer4.1.bn2.running_var",
                                                   "fc.weight",
                                                   "fc.bias"};

static uint64_t rng_state = 12345;
static double urand(void) {
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return (double)(z >> 11) / 9007199254740992.0;
}

static fc_net_config tiny_config(fc_stem stem) {
  fc_net_config c;
  fc_net_config_default(&c);
  FC_CHECK_OK(fc_net_config_set_arch(&c, "resnet10"));
  c.width = 1.0 / 16.0; /* 4, 8, 16, 32 channels */
  c.input_size = 32;
  c.in_channels = 1;
  c.num_classes = 7;
  c.stem = stem;
  c.lae_kernel = 3;
  c.rfd_prob = 1.0; /* every sample drops a block: the path is exercised */
  c.dropout = 0.25;
  return c;
}

START_TEST(names_match_torchvision) {
  fc_net_config c;
  fc_net_config_default(&c);
  c.lae3 = c.lae4 = 0;
  c.rfd = 0;
  c.stem = FC_STEM_IMAGENET;
  c.in_channels = 3;
  c.input_size = 224;
  fc_graph g;
  FC_CHECK_OK(fc_graph_build(&c, &g));
  size_t n = sizeof torchvision_resnet18 / sizeof torchvision_resnet18[0];
  ck_assert_int_eq(g.n_tensors, (int)n);
  for (size_t i = 0; i < n; i++) ck_assert_str_eq(g.tensors[i].name, torchvision_resnet18[i]);
  ck_assert_int_eq(g.n_bn, 20);
  /* 11,180,103 trainable parameters for 7 classes, as torchvision counts them. */
  ck_assert_uint_eq(g.n_params, 11180103);
  fc_graph_free(&g);

  /* With attention, its tensors sit after the stages they follow. */
  fc_net_config_default(&c);
  FC_CHECK_OK(fc_graph_build(&c, &g));
  int found = 0;
  for (int i = 0; i < g.n_tensors; i++)
    if (!strcmp(g.tensors[i].name, "lae3.conv.weight") ||
        !strcmp(g.tensors[i].name, "lae4.conv.bias"))
      found++;
  ck_assert_int_eq(found, 2);
  fc_graph_free(&g);
}
END_TEST

START_TEST(config_errors_name_the_field) {
  fc_net_config c;
  fc_net_config_default(&c);
  c.input_size = 16;
  ck_assert_int_eq(fc_net_config_check(&c), FC_ERR_INVALID_ARG);
  ck_assert_ptr_nonnull(strstr(fc_last_error(), "input size"));
  fc_net_config_default(&c);
  c.in_channels = 2;
  ck_assert_int_eq(fc_net_config_check(&c), FC_ERR_INVALID_ARG);
  ck_assert_ptr_nonnull(strstr(fc_last_error(), "input channels"));
  ck_assert_int_eq(fc_net_config_set_arch(&c, "resnet19"), FC_ERR_INVALID_ARG);
  ck_assert_ptr_nonnull(strstr(fc_last_error(), "resnet19"));
}
END_TEST

static void random_images(uint8_t *img, size_t n) {
  for (size_t i = 0; i < n; i++) img[i] = (uint8_t)(urand() * 256.0);
}

static void compare_network(fc_stem stem, int batch) {
  fc_device *dev = fc_test_device();
  fc_net_config c = tiny_config(stem);
  fc_net *net = NULL;
  FC_CHECK_OK(fc_net_create(dev, &c, FC_NET_TRAINABLE, &net));
  FC_CHECK_OK(fc_net_init_params(net, 7));
  fc_net_plan *plan = NULL;
  FC_CHECK_OK(fc_net_plan_create(net, batch, FC_NET_TRAINING, &plan));
  const fc_graph *g = &net->graph;

  size_t img_bytes = (size_t)batch * c.in_channels * c.input_size * c.input_size;
  uint8_t *img = malloc(img_bytes);
  random_images(img, img_bytes);
  fc_input_norm norm;
  fc_input_norm_default(&norm, c.in_channels);

  float *params = malloc(g->n_params * sizeof(float)), *stats = malloc(g->n_stats * sizeof(float));
  FC_CHECK_OK(fc_net_read_params(net, params, stats));
  fc_ref_net *ref = NULL;
  FC_CHECK_OK(fc_ref_net_create(&c, batch, 1, &ref));
  fc_ref_net_set_params(ref, params, stats);

  FC_CHECK_OK(fc_buffer_write(dev, plan->input, 0, img_bytes, img, 1));
  FC_CHECK_OK(fc_net_forward(plan, fc_net_plan_input(plan), &norm, 99, 5));
  fc_ref_net_forward(ref, img, &norm, 99, 5);

  int classes = c.num_classes;
  float *logits = malloc((size_t)batch * classes * sizeof(float));
  FC_CHECK_OK(fc_buffer_read(dev, fc_net_plan_logits(plan).mem, 0,
                             (size_t)batch * classes * sizeof(float), logits, 1));
  const double *ref_logits = fc_ref_net_logits(ref);
  double err = 0, norm2 = 0;
  for (int i = 0; i < batch * classes; i++) {
    err += (logits[i] - ref_logits[i]) * (logits[i] - ref_logits[i]);
    norm2 += ref_logits[i] * ref_logits[i];
  }
  ck_assert_msg(err / norm2 < 1e-8, "logits nmse %g", err / norm2);

  /* Running statistics were updated alike. */
  FC_CHECK_OK(fc_net_read_params(net, NULL, stats));
  for (size_t i = 0; i < g->n_stats; i++)
    ck_assert_msg(fabs(stats[i] - ref->stats[i]) <= 1e-4 * (1.0 + fabs(ref->stats[i])),
                  "stat %zu: %g vs %g", i, stats[i], ref->stats[i]);

  /* Backward from random logit gradients. */
  float *dlogits = malloc((size_t)batch * classes * sizeof(float));
  double *dlogits_d = malloc((size_t)batch * classes * sizeof(double));
  for (int i = 0; i < batch * classes; i++)
    dlogits_d[i] = dlogits[i] = (float)(urand() * 2.0 - 1.0);
  cl_mem dl = NULL;
  FC_CHECK_OK(fc_buffer_alloc(dev, (size_t)batch * classes * sizeof(float), "dlogits", &dl));
  FC_CHECK_OK(fc_buffer_write(dev, dl, 0, (size_t)batch * classes * sizeof(float), dlogits, 1));
  FC_CHECK_OK(fc_net_backward(plan, fc_view_of(dl, 0)));
  fc_ref_net_backward(ref, dlogits_d);
  float *grads = malloc(g->n_params * sizeof(float));
  FC_CHECK_OK(fc_buffer_read(dev, net->grads, 0, g->n_params * sizeof(float), grads, 1));
  for (int t = 0; t < g->n_tensors; t++) {
    const fc_tensor_info *ti = &g->tensors[t];
    if (ti->store != FC_STORE_PARAM) continue;
    double e = 0, nn = 0;
    for (size_t i = 0; i < ti->count; i++) {
      double d = grads[ti->offset + i] - ref->grads[ti->offset + i];
      e += d * d;
      nn += ref->grads[ti->offset + i] * ref->grads[ti->offset + i];
    }
    /* float32 through a dozen layers of batch-norm backward: nmse 1e-6, with an
     * rms floor of 1e-5 for gradients that nearly cancel to 0 (a bias summed
     * over the whole batch). */
    ck_assert_msg(e <= 1e-6 * nn + 1e-10 * (double)ti->count, "gradient of %s: nmse %g (norm %g)",
                  ti->name, nn ? e / nn : e, nn);
  }
  fc_buffer_release(&dl);
  free(img), free(params), free(stats), free(logits), free(dlogits), free(dlogits_d), free(grads);
  fc_ref_net_free(ref);
  fc_net_plan_free(plan);
  fc_net_free(net);
}

START_TEST(device_matches_reference_small_stem) { compare_network(FC_STEM_SMALL, 3); }
END_TEST

START_TEST(device_matches_reference_imagenet_stem) { compare_network(FC_STEM_IMAGENET, 2); }
END_TEST

/* batch_stats 0: BN with the running statistics; 1: fc_net_plan_set_batch_stats. */
static void check_inference_plan(int batch_stats) {
  fc_device *dev = fc_test_device();
  fc_net_config c = tiny_config(FC_STEM_IMAGENET);
  fc_net *net = NULL;
  FC_CHECK_OK(fc_net_create(dev, &c, 0, &net));
  FC_CHECK_OK(fc_net_init_params(net, 3));
  /* Non-trivial running statistics. */
  const fc_graph *g = &net->graph;
  float *params = malloc(g->n_params * sizeof(float)), *stats = malloc(g->n_stats * sizeof(float));
  FC_CHECK_OK(fc_net_read_params(net, params, stats));
  for (int t = 0; t < g->n_tensors; t++)
    if (g->tensors[t].store == FC_STORE_STAT)
      for (size_t i = 0; i < g->tensors[t].count; i++)
        stats[g->tensors[t].offset + i] =
            strstr(g->tensors[t].name, "var") ? (float)(0.5 + urand()) : (float)(urand() - 0.5);
  FC_CHECK_OK(fc_net_write_params(net, NULL, stats));
  int batch = 5;
  fc_net_plan *plan = NULL;
  FC_CHECK_OK(fc_net_plan_create(net, batch, FC_NET_INFERENCE, &plan));
  fc_net_plan_set_batch_stats(plan, batch_stats);
  size_t img_bytes = (size_t)batch * c.input_size * c.input_size;
  uint8_t *img = malloc(img_bytes);
  random_images(img, img_bytes);
  fc_input_norm norm;
  fc_input_norm_default(&norm, 1);
  FC_CHECK_OK(fc_buffer_write(dev, plan->input, 0, img_bytes, img, 1));
  FC_CHECK_OK(fc_net_forward(plan, fc_net_plan_input(plan), &norm, 1, 1));
  fc_ref_net *ref = NULL;
  FC_CHECK_OK(fc_ref_net_create(&c, batch, 0, &ref));
  fc_ref_net_set_params(ref, params, stats);
  ref->batch_stats = batch_stats;
  fc_ref_net_forward(ref, img, &norm, 1, 1);
  float logits[5 * 7];
  FC_CHECK_OK(fc_buffer_read(dev, fc_net_plan_logits(plan).mem, 0, sizeof logits, logits, 1));
  for (int i = 0; i < batch * 7; i++)
    ck_assert_msg(fabs(logits[i] - fc_ref_net_logits(ref)[i]) < 1e-4, "logit %d: %g vs %g", i,
                  logits[i], fc_ref_net_logits(ref)[i]);
  if (batch_stats) {
    /* The running statistics are left exactly as they were... */
    float *after = malloc(g->n_stats * sizeof(float) + 4);
    FC_CHECK_OK(fc_net_read_params(net, NULL, after));
    ck_assert(memcmp(after, stats, g->n_stats * sizeof(float)) == 0);
    free(after);
    /* ...and the logits are not those of running-statistics inference. */
    fc_ref_net *plain = NULL;
    FC_CHECK_OK(fc_ref_net_create(&c, batch, 0, &plain));
    fc_ref_net_set_params(plain, params, stats);
    fc_ref_net_forward(plain, img, &norm, 1, 1);
    double diff = 0;
    for (int i = 0; i < batch * 7; i++)
      diff = fmax(diff, fabs(logits[i] - fc_ref_net_logits(plain)[i]));
    ck_assert_msg(diff > 1e-2, "batch statistics changed the logits by only %g", diff);
    fc_ref_net_free(plain);
  }
  free(img), free(params), free(stats);
  fc_ref_net_free(ref);
  fc_net_plan_free(plan);
  fc_net_free(net);
}

START_TEST(inference_plan_matches_reference) { check_inference_plan(0); }
END_TEST

START_TEST(batch_stats_inference_matches_reference) { check_inference_plan(1); }
END_TEST

/* Central differences of L = Σ dlogits·logits through the whole reference network. */
START_TEST(full_network_gradient_by_finite_differences) {
  fc_net_config c = tiny_config(FC_STEM_SMALL);
  int batch = 2;
  fc_ref_net *ref = NULL;
  FC_CHECK_OK(fc_ref_net_create(&c, batch, 1, &ref));
  const fc_graph *g = &ref->graph;
  /* Initialise through a device-free path: a host copy of torchvision's init is not needed here. */
  for (size_t i = 0; i < g->n_params; i++) ref->params[i] = (urand() - 0.5) * 0.6;
  for (int t = 0; t < g->n_tensors; t++) {
    const fc_tensor_info *ti = &g->tensors[t];
    if (strstr(ti->name, "bn") || strstr(ti->name, "downsample.1"))
      if (ti->store == FC_STORE_PARAM && strstr(ti->name, ".weight"))
        for (size_t i = 0; i < ti->count; i++) ref->params[ti->offset + i] = 0.8 + 0.4 * urand();
  }
  for (size_t i = 0; i < g->n_stats; i++) ref->stats[i] = 1.0;
  size_t img_bytes = (size_t)batch * c.input_size * c.input_size;
  uint8_t *img = malloc(img_bytes);
  random_images(img, img_bytes);
  fc_input_norm norm;
  fc_input_norm_default(&norm, 1);
  int classes = c.num_classes;
  double *dlogits = malloc((size_t)batch * classes * sizeof(double));
  for (int i = 0; i < batch * classes; i++) dlogits[i] = urand() * 2.0 - 1.0;
  fc_ref_net_forward(ref, img, &norm, 4, 2);
  memset(ref->grads, 0, g->n_params * sizeof(double));
  fc_ref_net_backward(ref, dlogits);
  double *analytic = malloc(g->n_params * sizeof(double));
  memcpy(analytic, ref->grads, g->n_params * sizeof(double));

  int probes = 0, checked_tensors = 0;
  for (int t = 0; t < g->n_tensors; t++) {
    const fc_tensor_info *ti = &g->tensors[t];
    if (ti->store != FC_STORE_PARAM) continue;
    checked_tensors++;
    for (int k = 0; k < 2; k++) {
      size_t j = ti->offset + (size_t)(urand() * (double)ti->count);
      double saved = ref->params[j], h = 1e-5, lp = 0, lm = 0;
      ref->params[j] = saved + h;
      fc_ref_net_forward(ref, img, &norm, 4, 2);
      for (int i = 0; i < batch * classes; i++) lp += dlogits[i] * fc_ref_net_logits(ref)[i];
      ref->params[j] = saved - h;
      fc_ref_net_forward(ref, img, &norm, 4, 2);
      for (int i = 0; i < batch * classes; i++) lm += dlogits[i] * fc_ref_net_logits(ref)[i];
      ref->params[j] = saved;
      double numeric = (lp - lm) / (2 * h);
      double scale = fmax(1e-3, fmax(fabs(numeric), fabs(analytic[j])));
      ck_assert_msg(fabs(numeric - analytic[j]) <= 1e-4 * scale,
                    "%s[%zu]: analytic %.10g, numeric %.10g", ti->name, j - ti->offset, analytic[j],
                    numeric);
      probes++;
    }
  }
  ck_assert_int_gt(checked_tensors, 30);
  ck_assert_int_eq(probes, 2 * checked_tensors);
  free(img), free(dlogits), free(analytic);
  fc_ref_net_free(ref);
}
END_TEST

/* ---- checkpoints ---- */

static fc_model_meta meta_for(const fc_net_config *c) {
  fc_model_meta m;
  memset(&m, 0, sizeof m);
  m.config = *c;
  const char *names[] = {"angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"};
  for (int i = 0; i < c->num_classes; i++)
    snprintf(m.class_names[i], FC_CLASS_NAME_MAX, "%s", names[i % 7]);
  fc_input_norm_default(&m.norm, c->in_channels);
  m.norm.mean[0] = 0.52f;
  m.norm.std[0] = 0.27f;
  return m;
}

static void path_in_temp(char *out, size_t size, const char *name) {
  snprintf(out, size, "%s/%s", fc_test_temp_dir(), name);
}

START_TEST(checkpoint_round_trip_is_bit_exact) {
  fc_device *dev = fc_test_device();
  fc_net_config c = tiny_config(FC_STEM_IMAGENET);
  fc_net *a = NULL, *b = NULL;
  FC_CHECK_OK(fc_net_create(dev, &c, 0, &a));
  FC_CHECK_OK(fc_net_init_params(a, 11));
  fc_net_set_batches_tracked(a, 1234);
  fc_model_meta meta = meta_for(&c);
  char path[1100];
  path_in_temp(path, sizeof path, "round.safetensors");
  float blob[3] = {1.5f, -2.0f, 3.25f};
  fc_ckpt_blob blobs[] = {{"train.example", blob, 3}};
  const char *keys[] = {"fercl.train.step"}, *values[] = {"77"};
  FC_CHECK_OK(fc_checkpoint_save(path, a, &meta, blobs, 1, keys, values, 1));

  fc_model_meta back;
  FC_CHECK_OK(fc_checkpoint_read_meta(path, &back));
  ck_assert_int_eq(back.config.num_classes, 7);
  ck_assert_int_eq(back.config.stem, FC_STEM_IMAGENET);
  ck_assert(back.config.width == c.width);
  ck_assert(back.config.rfd_prob == c.rfd_prob);
  /* Every config key of the metadata table (checkpoint.c) reads back as written. */
  ck_assert_str_eq(back.config.arch, c.arch);
  for (int i = 0; i < 4; i++) ck_assert_int_eq(back.config.blocks[i], c.blocks[i]);
  ck_assert_int_eq(back.config.in_channels, c.in_channels);
  ck_assert_int_eq(back.config.input_size, c.input_size);
  ck_assert_int_eq(back.config.lae3, c.lae3);
  ck_assert_int_eq(back.config.lae4, c.lae4);
  ck_assert_int_eq(back.config.lae_kernel, c.lae_kernel);
  ck_assert_int_eq(back.config.rfd, c.rfd);
  ck_assert_int_eq(back.config.rfd_block, c.rfd_block);
  ck_assert(back.config.dropout == c.dropout && back.config.bn_momentum == c.bn_momentum);
  ck_assert(back.config.bn_eps == c.bn_eps);
  ck_assert_str_eq(back.class_names[6], "surprise");
  ck_assert(back.norm.mean[0] == 0.52f && back.norm.std[0] == 0.27f);

  FC_CHECK_OK(fc_net_create(dev, &back.config, 0, &b));
  FC_CHECK_OK(fc_checkpoint_load(path, b));
  ck_assert_int_eq(fc_net_batches_tracked(b), 1234);
  size_t np = fc_net_param_count(a), ns = fc_net_stat_count(a);
  float *pa = malloc(np * 4), *pb = malloc(np * 4), *sa = malloc(ns * 4), *sb = malloc(ns * 4);
  FC_CHECK_OK(fc_net_read_params(a, pa, sa));
  FC_CHECK_OK(fc_net_read_params(b, pb, sb));
  ck_assert(memcmp(pa, pb, np * 4) == 0);
  ck_assert(memcmp(sa, sb, ns * 4) == 0);
  free(pa), free(pb), free(sa), free(sb);
  fc_net_free(a);
  fc_net_free(b);
}
END_TEST

static void expect_load_error(fc_net *net, const char *path, fc_status want, const char *needle) {
  fc_status st = fc_checkpoint_load(path, net);
  ck_assert_msg(st == want, "%s: got %s (%s)", path, fc_status_name(st), fc_last_error());
  ck_assert_msg(strstr(fc_last_error(), needle) != NULL, "expected '%s' in: %s", needle,
                fc_last_error());
}

START_TEST(bad_checkpoints_are_rejected_clearly) {
  fc_device *dev = fc_test_device();
  fc_net_config c = tiny_config(FC_STEM_IMAGENET);
  fc_net *net = NULL;
  FC_CHECK_OK(fc_net_create(dev, &c, 0, &net));
  FC_CHECK_OK(fc_net_init_params(net, 1));
  fc_model_meta meta = meta_for(&c);
  char good[1100], bad[1100];
  path_in_temp(good, sizeof good, "good.safetensors");
  FC_CHECK_OK(fc_checkpoint_save(good, net, &meta, NULL, 0, NULL, NULL, 0));
  char *data = NULL;
  size_t size = 0;
  FC_CHECK_OK(fc_file_read_all(good, 1u << 28, &data, &size));

  /* Truncated. */
  path_in_temp(bad, sizeof bad, "truncated.safetensors");
  FC_CHECK_OK(fc_file_write_atomic(bad, data, size - 100));
  expect_load_error(net, bad, FC_ERR_FORMAT, "truncated");

  /* Header length pointing past the end. */
  path_in_temp(bad, sizeof bad, "header.safetensors");
  char *copy = malloc(size);
  memcpy(copy, data, size);
  uint64_t huge = (uint64_t)size * 4;
  memcpy(copy, &huge, 8);
  FC_CHECK_OK(fc_file_write_atomic(bad, copy, size));
  fc_status st = fc_checkpoint_load(bad, net);
  ck_assert(st == FC_ERR_FORMAT || st == FC_ERR_LIMIT);
  ck_assert_msg(strstr(fc_last_error(), "header") != NULL, "%s", fc_last_error());
  free(copy);

  /* A network with another class count: wrong shapes, named. */
  fc_net_config c8 = c;
  c8.num_classes = 8;
  fc_net *net8 = NULL;
  FC_CHECK_OK(fc_net_create(dev, &c8, 0, &net8));
  expect_load_error(net8, good, FC_ERR_MISMATCH,
                    "tensor fc.weight has shape [7,32], the network needs [8,32]");
  fc_net_free(net8);

  /* Missing attention tensors when the network expects them; unexpected ones the other way. */
  fc_net_config no_lae = c;
  no_lae.lae3 = no_lae.lae4 = 0;
  fc_net *plain = NULL;
  FC_CHECK_OK(fc_net_create(dev, &no_lae, 0, &plain));
  expect_load_error(plain, good, FC_ERR_MISMATCH, "unexpected tensor lae3.conv.weight");
  fc_model_meta plain_meta = meta_for(&no_lae);
  path_in_temp(bad, sizeof bad, "plain.safetensors");
  FC_CHECK_OK(fc_net_init_params(plain, 2));
  FC_CHECK_OK(fc_checkpoint_save(bad, plain, &plain_meta, NULL, 0, NULL, NULL, 0));
  expect_load_error(net, bad, FC_ERR_MISMATCH, "missing tensor lae3.conv.weight");
  fc_net_free(plain);

  /* Wrong dtype and an unknown tensor, written with the generic writer. */
  fc_safetensors *f = NULL;
  FC_CHECK_OK(fc_safetensors_open(good, &f));
  size_t n = fc_safetensors_count(f);
  fc_st_tensor *ts = calloc(n + 1, sizeof *ts);
  void **bufs = calloc(n + 1, sizeof *bufs);
  for (size_t i = 0; i < n; i++) {
    ts[i] = *fc_safetensors_tensor(f, i);
    size_t nb = fc_safetensors_nbytes(f, i);
    bufs[i] = malloc(nb + 8);
    FC_CHECK_OK(fc_safetensors_read(f, i, bufs[i], nb));
    ts[i].data = bufs[i];
  }
  size_t fcw = 0;
  FC_CHECK_OK(fc_safetensors_find(f, "fc.bias", &fcw));
  double as_f64[7];
  for (int i = 0; i < 7; i++) as_f64[i] = ((float *)bufs[fcw])[i];
  fc_st_tensor saved = ts[fcw];
  ts[fcw].dtype = FC_ST_F64;
  ts[fcw].data = as_f64;
  const char *mk[64], *mv[64];
  size_t mc = fc_safetensors_metadata_count(f);
  for (size_t i = 0; i < mc; i++) FC_CHECK_OK(fc_safetensors_metadata_at(f, i, &mk[i], &mv[i]));
  path_in_temp(bad, sizeof bad, "dtype.safetensors");
  FC_CHECK_OK(fc_safetensors_write(bad, ts, n, mk, mv, mc));
  expect_load_error(net, bad, FC_ERR_MISMATCH, "tensor fc.bias is F64, expected F32");
  ts[fcw] = saved;
  float extra[2] = {1, 2};
  ts[n] = (fc_st_tensor){
      .name = "layer9.0.conv1.weight", .dtype = FC_ST_F32, .ndim = 1, .shape = {2}, .data = extra};
  path_in_temp(bad, sizeof bad, "unknown.safetensors");
  FC_CHECK_OK(fc_safetensors_write(bad, ts, n + 1, mk, mv, mc));
  expect_load_error(net, bad, FC_ERR_MISMATCH, "unexpected tensor layer9.0.conv1.weight");

  /* Not a fer-cl file: metadata missing. */
  path_in_temp(bad, sizeof bad, "foreign.safetensors");
  FC_CHECK_OK(fc_safetensors_write(bad, ts, n, NULL, NULL, 0));
  fc_model_meta m2;
  ck_assert_int_eq(fc_checkpoint_read_meta(bad, &m2), FC_ERR_FORMAT);
  ck_assert_ptr_nonnull(strstr(fc_last_error(), "not a fer-cl checkpoint"));
  ck_assert_int_eq(fc_checkpoint_read_meta("/nonexistent/x.safetensors", &m2), FC_ERR_IO);
  ck_assert_ptr_nonnull(strstr(fc_last_error(), "/nonexistent/x.safetensors"));

  for (size_t i = 0; i < n; i++) free(bufs[i]);
  free(bufs);
  free(ts);
  fc_safetensors_close(f);
  free(data);
  fc_net_free(net);
}
END_TEST

START_TEST(init_from_torchvision_style_weights) {
  fc_device *dev = fc_test_device();
  /* A 3-channel, 1000-class "pretrained" file without attention tensors. */
  fc_net_config src = tiny_config(FC_STEM_IMAGENET);
  src.in_channels = 3;
  src.num_classes = 64; /* stands in for ImageNet's 1000 (our cap is 64) */
  src.lae3 = src.lae4 = 0;
  fc_net *pre = NULL;
  FC_CHECK_OK(fc_net_create(dev, &src, 0, &pre));
  FC_CHECK_OK(fc_net_init_params(pre, 5));
  fc_model_meta meta = meta_for(&src);
  char path[1100];
  path_in_temp(path, sizeof path, "pretrained.safetensors");
  FC_CHECK_OK(fc_checkpoint_save(path, pre, &meta, NULL, 0, NULL, NULL, 0));

  fc_net_config dst = tiny_config(FC_STEM_IMAGENET);
  fc_net *net = NULL;
  FC_CHECK_OK(fc_net_create(dev, &dst, 0, &net));
  FC_CHECK_OK(fc_net_init_params(net, 6));
  char report[4096];
  FC_CHECK_OK(fc_checkpoint_init_from(path, net, report, sizeof report));
  ck_assert_msg(strstr(report, "fc.weight (classifier") != NULL, "%s", report);
  ck_assert_msg(strstr(report, "lae3.conv.weight (not in the file)") != NULL, "%s", report);
  /* conv1 was summed over RGB; layer1's first conv copied exactly. */
  const fc_tensor_info *c1 = fc_net_find_tensor(net, "conv1.weight");
  const fc_tensor_info *c1src = fc_net_find_tensor(pre, "conv1.weight");
  const fc_tensor_info *l1 = fc_net_find_tensor(net, "layer1.0.conv1.weight");
  float *p = malloc(fc_net_param_count(net) * 4), *q = malloc(fc_net_param_count(pre) * 4);
  FC_CHECK_OK(fc_net_read_params(net, p, NULL));
  FC_CHECK_OK(fc_net_read_params(pre, q, NULL));
  size_t plane = 49;
  for (size_t k = 0; k < plane; k++) {
    float want =
        q[c1src->offset + k] + q[c1src->offset + plane + k] + q[c1src->offset + 2 * plane + k];
    ck_assert_float_eq_tol(p[c1->offset + k], want, 1e-6);
  }
  ck_assert(memcmp(p + l1->offset, q + fc_net_find_tensor(pre, "layer1.0.conv1.weight")->offset,
                   l1->count * 4) == 0);
  free(p), free(q);
  fc_net_free(pre);
  fc_net_free(net);
}
END_TEST

int main(void) {
  Suite *s = suite_create("net");
  FC_TEST_CASE(s, "net", 900, names_match_torchvision, config_errors_name_the_field,
               device_matches_reference_imagenet_stem, inference_plan_matches_reference,
               batch_stats_inference_matches_reference, full_network_gradient_by_finite_differences,
               checkpoint_round_trip_is_bit_exact, bad_checkpoints_are_rejected_clearly,
               init_from_torchvision_style_weights);
  /* One forward/backward of the tiny network in a case of its own, so
   * tools/oclgrind.sh can run just it on the simulator (CK_RUN_CASE). */
  FC_TEST_CASE(s, "forward_backward", 900, device_matches_reference_small_stem);
  return fc_test_run_suite(s, 1);
}
