/* The sampler and the prefetching loader: a batch is a pure function of
 * (seed, step) whatever the threads, queue depth or request order; class
 * balance; epochs of the unlabelled pool; batch layout. */
#include <check.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fercl/data.h"
#include "fercl/log.h"
#include "testutil.h"

static fc_dataset *ds;
static fc_index_list lab, unl;

static void setup(void) {
  fc_synth_config sc;
  fc_synth_config_default(&sc);
  sc.train_count = 210;
  sc.val_count = 14;
  sc.height = sc.width = 16;
  sc.threads = 2;
  FC_CHECK_OK(fc_synth_generate(&sc, &ds));
  fc_label_split_config cfg;
  fc_label_split_config_default(&cfg);
  cfg.labels = 35; /* 5 per class */
  FC_CHECK_OK(fc_label_split(ds, &cfg, &lab, &unl));
  ck_assert_int_eq(unl.count, 175);
}

static void teardown(void) {
  fc_index_list_free(&lab);
  fc_index_list_free(&unl);
  fc_dataset_free(ds);
}

static fc_loader_config config(int threads, int depth) {
  fc_loader_config c;
  fc_loader_config_init(&c, ds, &lab, &unl, 14, 25);
  c.seed = 3;
  c.threads = threads;
  c.queue_depth = depth;
  return c;
}

typedef struct saved {
  uint8_t *data;
  size_t bytes;
  int32_t labels[64], hidden[64];
  int64_t li[64], ui[64];
} saved;

static void save(const fc_batch *b, saved *s) {
  s->bytes = b->bytes;
  s->data = malloc(b->bytes);
  memcpy(s->data, b->data, b->bytes);
  memcpy(s->labels, b->labels, sizeof(int32_t) * (size_t)b->batch_labeled);
  memcpy(s->hidden, b->hidden_labels, sizeof(int32_t) * (size_t)b->batch_unlabeled);
  memcpy(s->li, b->labeled_index, sizeof(int64_t) * (size_t)b->batch_labeled);
  memcpy(s->ui, b->unlabeled_index, sizeof(int64_t) * (size_t)b->batch_unlabeled);
}

static void same(const fc_batch *b, const saved *s, int64_t step) {
  ck_assert_int_eq(b->step, step);
  ck_assert_int_eq(b->bytes, s->bytes);
  ck_assert_msg(!memcmp(b->data, s->data, s->bytes), "step %lld: batch bytes differ",
                (long long)step);
  ck_assert(!memcmp(b->labels, s->labels, sizeof(int32_t) * (size_t)b->batch_labeled));
  ck_assert(!memcmp(b->hidden_labels, s->hidden, sizeof(int32_t) * (size_t)b->batch_unlabeled));
  ck_assert(!memcmp(b->labeled_index, s->li, sizeof(int64_t) * (size_t)b->batch_labeled));
  ck_assert(!memcmp(b->unlabeled_index, s->ui, sizeof(int64_t) * (size_t)b->batch_unlabeled));
}

enum { STEPS = 24 };

START_TEST(same_batches_whatever_the_threads_and_order) {
  saved ref[STEPS];
  fc_loader_config c = config(0, 2);
  fc_loader *L = NULL;
  FC_CHECK_OK(fc_loader_create(&c, &L));
  const fc_batch *b;
  for (int64_t t = 0; t < STEPS; t++) {
    FC_CHECK_OK(fc_loader_get(L, t, &b));
    save(b, &ref[t]);
    fc_loader_release(L, b);
  }
  fc_loader_free(L);
  /* Consecutive steps batches differ (a real sampler). */
  ck_assert(memcmp(ref[0].data, ref[1].data, ref[0].bytes));
  const int settings[][3] = {{1, 2, 1}, {2, 3, 1}, {3, 8, 0}, {4, 5, 1}};
  for (size_t k = 0; k < sizeof settings / sizeof settings[0]; k++) {
    c = config(settings[k][0], settings[k][1]);
    c.consumer_helps = settings[k][2];
    FC_CHECK_OK(fc_loader_create(&c, &L));
    for (int64_t t = 0; t < STEPS; t++) {
      FC_CHECK_OK(fc_loader_get(L, t, &b));
      same(b, &ref[t], t);
      fc_loader_release(L, b);
    }
    /* Out of order: a jump back (resume), forward, holding two at a time. */
    const int64_t order[] = {15, 3, 4, 5, 20, 21, 0, 23, 22};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
      FC_CHECK_OK(fc_loader_get(L, order[i], &b));
      same(b, &ref[order[i]], order[i]);
      const fc_batch *b2;
      if (order[i] + 1 < STEPS) {
        FC_CHECK_OK(fc_loader_get(L, order[i] + 1, &b2));
        same(b2, &ref[order[i] + 1], order[i] + 1);
        fc_loader_release(L, b2);
      }
      fc_loader_release(L, b);
    }
    fc_loader_free(L);
  }
  for (int t = 0; t < STEPS; t++) free(ref[t].data);
}
END_TEST

START_TEST(layout_labels_and_indices) {
  fc_loader_config c = config(2, 4);
  c.augment.augment_labeled = 0;
  c.augment.flip = 0;
  c.augment.pad = 0;
  c.augment.strong_ops = 0;
  c.augment.cutout = 0;
  fc_loader *L = NULL;
  FC_CHECK_OK(fc_loader_create(&c, &L));
  const fc_batch *b;
  FC_CHECK_OK(fc_loader_get(L, 7, &b));
  const size_t img = fc_dataset_image_bytes(ds);
  ck_assert_int_eq(b->bytes, (14 + 2 * 25) * img);
  ck_assert_ptr_eq(b->x_l, b->data);
  ck_assert_ptr_eq(b->u_w, b->data + 14 * img);
  ck_assert_ptr_eq(b->u_s, b->data + 39 * img);
  int64_t li[14], ui[25];
  fc_loader_step_indices(L, 7, li, ui);
  for (int j = 0; j < 14; j++) {
    ck_assert_int_eq(b->labeled_index[j], li[j]);
    ck_assert_mem_eq(b->x_l + j * img, fc_dataset_image(ds, li[j]), img);
    ck_assert_int_eq(b->labels[j], ds->labels[li[j]]);
  }
  for (int j = 0; j < 25; j++) {
    ck_assert_int_eq(b->unlabeled_index[j], ui[j]);
    ck_assert_mem_eq(b->u_w + j * img, fc_dataset_image(ds, ui[j]), img);
    ck_assert_mem_eq(b->u_s + j * img, fc_dataset_image(ds, ui[j]), img);
    ck_assert_int_eq(b->hidden_labels[j], ds->labels[ui[j]]);
  }
  fc_loader_release(L, b);
  fc_loader_free(L);
  /* With augmentation on, the two views of u differ from each other. */
  c = config(1, 2);
  FC_CHECK_OK(fc_loader_create(&c, &L));
  FC_CHECK_OK(fc_loader_get(L, 0, &b));
  int differ = 0;
  for (int j = 0; j < 25; j++) differ += memcmp(b->u_w + j * img, b->u_s + j * img, img) != 0;
  ck_assert_int_gt(differ, 20);
  fc_loader_release(L, b);
  fc_loader_free(L);
}
END_TEST

START_TEST(class_balance_and_epochs) {
  fc_loader_config c = config(0, 2);
  fc_loader *L = NULL;
  FC_CHECK_OK(fc_loader_create(&c, &L));
  int64_t li[14], ui[25];
  int per_class_member[224] = {0};
  int unl_seen[224] = {0};
  for (int64_t t = 0; t < 7; t++) {
    fc_loader_step_indices(L, t, li, ui);
    int count[7] = {0};
    for (int j = 0; j < 14; j++) {
      count[ds->labels[li[j]]]++;
      per_class_member[li[j]]++;
    }
    for (int k = 0; k < 7; k++) ck_assert_int_eq(count[k], 2); /* exactly balanced */
    for (int j = 0; j < 25; j++) unl_seen[ui[j]]++;
  }
  /* 7 steps x 25 = 175 = one epoch of the unlabelled pool: each once. */
  for (int64_t k = 0; k < unl.count; k++) ck_assert_int_eq(unl_seen[unl.index[k]], 1);
  /* 14 draws per class over 5 members: rounds 0..13 = epochs of 5, 5, 4:
   * every member twice or three times. */
  for (int64_t k = 0; k < lab.count; k++) {
    ck_assert_int_ge(per_class_member[lab.index[k]], 2);
    ck_assert_int_le(per_class_member[lab.index[k]], 3);
  }
  /* Another seed, another order. */
  int64_t li2[14], ui2[25];
  fc_loader_free(L);
  c.seed = 4;
  FC_CHECK_OK(fc_loader_create(&c, &L));
  fc_loader_step_indices(L, 0, li2, ui2);
  fc_loader_step_indices(L, 0, li, ui);
  ck_assert(!memcmp(ui, ui2, sizeof ui));
  fc_loader_free(L);
  c.seed = 3;
  FC_CHECK_OK(fc_loader_create(&c, &L));
  fc_loader_step_indices(L, 0, li, ui);
  ck_assert(memcmp(ui, ui2, sizeof ui));
  fc_loader_free(L);
  /* Without class balance: shuffled epochs of the labelled list. */
  c.class_balanced = 0;
  c.batch_labeled = 7;
  FC_CHECK_OK(fc_loader_create(&c, &L));
  int seen[224] = {0};
  for (int64_t t = 0; t < 5; t++) {
    int64_t l7[7];
    fc_loader_step_indices(L, t, l7, ui);
    for (int j = 0; j < 7; j++) seen[l7[j]]++;
  }
  for (int64_t k = 0; k < lab.count; k++) ck_assert_int_eq(seen[lab.index[k]], 1);
  fc_loader_free(L);
}
END_TEST

/* Data-parallel shards: the parts of a batch, side by side, are the whole
 * batch (images, augmentation draws, labels, indices), for every step. */
START_TEST(shards_make_up_the_whole_batch) {
  const int parts = 3;
  fc_loader_config c = config(0, 2);
  c.batch_labeled = 12;
  c.batch_unlabeled = 24;
  fc_loader *whole = NULL, *shard[3] = {NULL};
  FC_CHECK_OK(fc_loader_create(&c, &whole));
  for (int r = 0; r < parts; r++) {
    fc_loader_config cs = c;
    cs.shards = parts;
    cs.shard = r;
    FC_CHECK_OK(fc_loader_create(&cs, &shard[r]));
  }
  size_t ib = fc_dataset_image_bytes(ds);
  for (int64_t step = 0; step < 5; step++) {
    const fc_batch *w = NULL;
    FC_CHECK_OK(fc_loader_get(whole, step, &w));
    for (int r = 0; r < parts; r++) {
      const fc_batch *b = NULL;
      FC_CHECK_OK(fc_loader_get(shard[r], step, &b));
      int bl = b->batch_labeled, bu = b->batch_unlabeled;
      ck_assert_int_eq(bl, 4);
      ck_assert_int_eq(bu, 8);
      ck_assert(!memcmp(b->x_l, w->x_l + (size_t)r * bl * ib, (size_t)bl * ib));
      ck_assert(!memcmp(b->u_w, w->u_w + (size_t)r * bu * ib, (size_t)bu * ib));
      ck_assert(!memcmp(b->u_s, w->u_s + (size_t)r * bu * ib, (size_t)bu * ib));
      ck_assert(!memcmp(b->labels, w->labels + r * bl, sizeof(int32_t) * (size_t)bl));
      ck_assert(!memcmp(b->labeled_index, w->labeled_index + r * bl, sizeof(int64_t) * (size_t)bl));
      ck_assert(
          !memcmp(b->unlabeled_index, w->unlabeled_index + r * bu, sizeof(int64_t) * (size_t)bu));
      fc_loader_release(shard[r], b);
    }
    fc_loader_release(whole, w);
  }
  for (int r = 0; r < parts; r++) fc_loader_free(shard[r]);
  fc_loader_free(whole);
  /* A batch that does not split evenly is refused. */
  fc_loader_config bad = c;
  bad.batch_labeled = 13;
  bad.shards = parts;
  fc_loader *L = NULL;
  ck_assert_int_eq(fc_loader_create(&bad, &L), FC_ERR_INVALID_ARG);
  ck_assert_ptr_null(L);
  ck_assert_msg(strstr(fc_last_error(), "3 equal parts") != NULL, "message: %s", fc_last_error());
}
END_TEST

START_TEST(misuse_is_reported) {
  fc_loader_config c = config(1, 2);
  fc_loader *L = NULL;
  c.unlabeled_count = 0;
  ck_assert_int_eq(fc_loader_create(&c, &L), FC_ERR_INVALID_ARG);
  ck_assert_ptr_nonnull(strstr(fc_last_error(), "empty unlabelled pool"));
  /* Supervised only is fine without a pool. */
  c.batch_unlabeled = 0;
  FC_CHECK_OK(fc_loader_create(&c, &L));
  const fc_batch *a, *b, *x;
  FC_CHECK_OK(fc_loader_get(L, 0, &a));
  ck_assert_int_eq(a->bytes, 14 * fc_dataset_image_bytes(ds));
  ck_assert_int_eq(fc_loader_get(L, 0, &x), FC_ERR_INVALID_ARG); /* already held */
  FC_CHECK_OK(fc_loader_get(L, 1, &b));
  ck_assert_int_eq(fc_loader_get(L, 2, &x), FC_ERR_INVALID_ARG); /* both slots held */
  ck_assert_ptr_nonnull(strstr(fc_last_error(), "held"));
  ck_assert_int_eq(fc_loader_get(L, -1, &x), FC_ERR_INVALID_ARG);
  fc_loader_release(L, a);
  fc_loader_release(L, b);
  FC_CHECK_OK(fc_loader_get(L, 2, &x));
  fc_loader_release(L, x);
  fc_loader_free(L);
  /* An unlabelled image in the labelled list. */
  int64_t bad[2] = {lab.index[0], -5};
  c = config(0, 2);
  c.labeled = bad;
  c.labeled_count = 2;
  ck_assert_int_eq(fc_loader_create(&c, &L), FC_ERR_INVALID_ARG);
  ck_assert_ptr_nonnull(strstr(fc_last_error(), "labelled entry 1"));
}
END_TEST

START_TEST(normalisation_stats) {
  fc_index_list all;
  FC_CHECK_OK(fc_dataset_split_indices(ds, FC_SPLIT_TRAIN, &all));
  fc_data_norm n;
  FC_CHECK_OK(fc_data_norm_compute(ds, &all, &n));
  /* Recompute naively. */
  double s = 0, s2 = 0;
  size_t img = fc_dataset_image_bytes(ds);
  for (int64_t k = 0; k < all.count; k++)
    for (size_t i = 0; i < img; i++) {
      double v = fc_dataset_image(ds, all.index[k])[i] / 255.0;
      s += v;
      s2 += v * v;
    }
  double cnt = (double)all.count * (double)img, mean = s / cnt;
  ck_assert_int_eq(n.channels, 1);
  ck_assert_double_eq_tol(n.mean[0], mean, 1e-5);
  ck_assert_double_eq_tol(n.std[0], sqrt(s2 / cnt - mean * mean), 1e-5);
  ck_assert(n.std[0] > 0.05);
  fc_index_list_free(&all);
  fc_data_norm_default(3, &n);
  ck_assert_int_eq(n.channels, 3);
  ck_assert_double_eq_tol(n.mean[0], 0.485, 1e-6);
  fc_data_norm_default(1, &n);
  ck_assert_double_eq_tol(n.mean[0], 0.4590, 1e-6);
}
END_TEST

int main(void) {
  Suite *s = suite_create("data-loader");
  TCase *tc = tcase_create("loader");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, same_batches_whatever_the_threads_and_order);
  tcase_add_test(tc, layout_labels_and_indices);
  tcase_add_test(tc, class_balance_and_epochs);
  tcase_add_test(tc, shards_make_up_the_whole_batch);
  tcase_add_test(tc, misuse_is_reported);
  tcase_add_test(tc, normalisation_stats);
  suite_add_tcase(s, tc);
  return fc_test_run_suite(s, 0);
}
