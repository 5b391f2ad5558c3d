/* The prefetching loader: a pool of producer threads fills a ring of batch
 * slots with the following steps while the trainer works on the current one.
 *
 * Exact resume: which images step t uses and every augmentation draw are
 * functions of (seed, stream, t, position) only (fc_rng_key / fc_permute), so
 * threads merely decide who computes a slot's items, never what they hold. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "data/internal.h"

#define STREAM_CLASS_ORDER 0x434c415353ULL /* which class each labelled slot draws */
#define STREAM_CLASS_DRAW 0x44524157ULL    /* the image drawn from a class */
#define STREAM_LABELED 0x4c4142ULL         /* labelled pool, plain shuffled epochs */
#define STREAM_UNLABELED 0x554e4cULL       /* unlabelled pool epochs */
#define STREAM_AUG_XL 0x41584cULL          /* weak view of x_l */
#define STREAM_AUG_UW 0x415557ULL          /* weak view of u */
#define STREAM_AUG_US 0x415553ULL          /* strong view of u */

#define CHUNK 16 /* items claimed at once by a producer */

enum slot_state { SLOT_FREE, SLOT_FILLING, SLOT_READY, SLOT_HELD, SLOT_CANCELLED };

typedef struct slot {
  fc_batch batch;
  enum slot_state state;
  int next_item, done_items, total_items, in_flight;
} slot;

struct fc_loader {
  fc_loader_config cfg;
  const fc_dataset *ds;
  int64_t *labeled, *unlabeled;
  /* Class-balanced sampling: labelled images grouped by class. */
  int present;            /* classes with at least one labelled image */
  int *present_class;     /* [present] class ids */
  int64_t *class_members; /* grouped indices */
  int64_t *class_offset;  /* [present + 1] */
  size_t image_bytes;
  int depth;
  slot *slots;
  int64_t next_step; /* next step to schedule */
  pthread_mutex_t mutex;
  pthread_cond_t work; /* producers wait for items */
  pthread_cond_t done; /* consumers wait for slots */
  pthread_t *threads;
  int thread_count;
  int shutdown;
  uint8_t *caller_scratch; /* for items the consumer computes itself */
  /* Sharding (cfg.shards > 1): cfg.batch_* are this part's sizes; positions
   * in the global batch of step t are t·global + first + j. */
  int global_labeled, global_unlabeled, first_labeled, first_unlabeled;
};

void fc_loader_config_default(fc_loader_config *config) {
  memset(config, 0, sizeof *config);
  config->batch_labeled = 64;
  config->batch_unlabeled = 448;
  config->class_balanced = 1;
  config->seed = 1;
  fc_augment_config_default(&config->augment);
  config->threads = 2;
  config->queue_depth = 4;
  config->consumer_helps = 1;
}

void fc_loader_config_init(fc_loader_config *config, const fc_dataset *ds,
                           const fc_index_list *labeled, const fc_index_list *unlabeled,
                           int batch_labeled, int batch_unlabeled) {
  fc_loader_config_default(config);
  config->dataset = ds;
  config->labeled = labeled->index;
  config->labeled_count = labeled->count;
  config->unlabeled = unlabeled->index;
  config->unlabeled_count = unlabeled->count;
  config->batch_labeled = batch_labeled;
  config->batch_unlabeled = batch_unlabeled;
}

/* ---- which images a step uses (pure) ---- */

static int64_t labeled_at(const fc_loader *L, int64_t step, int j) {
  const uint64_t seed = L->cfg.seed;
  const int64_t g = step * (int64_t)L->global_labeled + L->first_labeled + j;
  if (L->cfg.class_balanced) {
    /* Rounds of one draw per class, classes in a shuffled order per round;
     * the r-th round draws the r-th image of each class's shuffled epochs. */
    const int64_t P = L->present, r = g / P;
    int k = (int)fc_permute(fc_rng_key(seed, STREAM_CLASS_ORDER, (uint64_t)r, 0), P, g % P);
    const int64_t *m = L->class_members + L->class_offset[k];
    const int64_t n = L->class_offset[k + 1] - L->class_offset[k];
    const int64_t epoch = r / n;
    return m[fc_permute(
        fc_rng_key(seed, STREAM_CLASS_DRAW, (uint64_t)L->present_class[k], (uint64_t)epoch), n,
        r % n)];
  }
  const int64_t n = L->cfg.labeled_count;
  return L->labeled[fc_permute(fc_rng_key(seed, STREAM_LABELED, (uint64_t)(g / n), 0), n, g % n)];
}

static int64_t unlabeled_at(const fc_loader *L, int64_t step, int j) {
  const int64_t n = L->cfg.unlabeled_count;
  const int64_t g = step * (int64_t)L->global_unlabeled + L->first_unlabeled + j;
  return L->unlabeled[fc_permute(fc_rng_key(L->cfg.seed, STREAM_UNLABELED, (uint64_t)(g / n), 0), n,
                                 g % n)];
}

void fc_loader_step_indices(const fc_loader *L, int64_t step, int64_t *labeled,
                            int64_t *unlabeled) {
  for (int j = 0; j < L->cfg.batch_labeled; j++) labeled[j] = labeled_at(L, step, j);
  for (int j = 0; j < L->cfg.batch_unlabeled; j++) unlabeled[j] = unlabeled_at(L, step, j);
}

/* ---- producing items ---- */

static void produce_item(const fc_loader *L, const fc_batch *b, int item, uint8_t *scratch) {
  const fc_dataset *ds = L->ds;
  const size_t bytes = L->image_bytes;
  const int64_t step = b->step;
  fc_image im = {.channels = ds->channels, .height = ds->height, .width = ds->width};
  if (item < b->batch_labeled) {
    im.data = b->x_l + (size_t)item * bytes;
    memcpy(im.data, fc_dataset_image(ds, b->labeled_index[item]), bytes);
    if (L->cfg.augment.augment_labeled) {
      uint64_t rng = fc_rng_key(L->cfg.seed, STREAM_AUG_XL, (uint64_t)step,
                                (uint64_t)(L->first_labeled + item));
      fc_augment_weak(&im, &L->cfg.augment, &rng, scratch);
    }
    return;
  }
  const int j = item - b->batch_labeled;
  const uint8_t *src = fc_dataset_image(ds, b->unlabeled_index[j]);
  im.data = b->u_w + (size_t)j * bytes;
  memcpy(im.data, src, bytes);
  const uint64_t at = (uint64_t)(L->first_unlabeled + j); /* position in the global batch */
  uint64_t rng = fc_rng_key(L->cfg.seed, STREAM_AUG_UW, (uint64_t)step, at);
  fc_augment_weak(&im, &L->cfg.augment, &rng, scratch);
  im.data = b->u_s + (size_t)j * bytes;
  memcpy(im.data, src, bytes);
  rng = fc_rng_key(L->cfg.seed, STREAM_AUG_US, (uint64_t)step, at);
  fc_augment_strong(&im, &L->cfg.augment, &rng, scratch);
}

/* Claims and produces one chunk of slot s; called with the mutex held, returns
 * with it held. */
static void work_on(fc_loader *L, slot *s, uint8_t *scratch) {
  int k0 = s->next_item, k1 = k0 + CHUNK < s->total_items ? k0 + CHUNK : s->total_items;
  s->next_item = k1;
  s->in_flight++;
  pthread_mutex_unlock(&L->mutex);
  for (int k = k0; k < k1; k++) produce_item(L, &s->batch, k, scratch);
  pthread_mutex_lock(&L->mutex);
  s->in_flight--;
  s->done_items += k1 - k0;
  if (s->state == SLOT_FILLING && s->done_items == s->total_items) {
    s->state = SLOT_READY;
    pthread_cond_broadcast(&L->done);
  } else if (s->state == SLOT_CANCELLED && s->in_flight == 0) {
    pthread_cond_broadcast(&L->done);
  }
}

/* The earliest step with unclaimed items. */
static slot *find_work(fc_loader *L) {
  slot *best = NULL;
  for (int i = 0; i < L->depth; i++) {
    slot *s = &L->slots[i];
    if (s->state == SLOT_FILLING && s->next_item < s->total_items &&
        (!best || s->batch.step < best->batch.step))
      best = s;
  }
  return best;
}

static void *producer(void *arg) {
  fc_loader *L = arg;
  uint8_t *scratch = malloc(L->image_bytes);
  pthread_mutex_lock(&L->mutex);
  while (!L->shutdown) {
    slot *s = scratch ? find_work(L) : NULL;
    if (!s) {
      if (!scratch) break; /* no memory: the consumer computes everything */
      pthread_cond_wait(&L->work, &L->mutex);
      continue;
    }
    work_on(L, s, scratch);
  }
  pthread_mutex_unlock(&L->mutex);
  free(scratch);
  return NULL;
}

/* ---- slots ---- */

static void schedule(fc_loader *L, slot *s, int64_t step) {
  fc_batch *b = &s->batch;
  b->step = step;
  fc_loader_step_indices(L, step, b->labeled_index, b->unlabeled_index);
  for (int j = 0; j < b->batch_labeled; j++) b->labels[j] = L->ds->labels[b->labeled_index[j]];
  for (int j = 0; j < b->batch_unlabeled; j++)
    b->hidden_labels[j] = L->ds->labels[b->unlabeled_index[j]];
  s->next_item = 0;
  s->done_items = 0;
  s->total_items = b->batch_labeled + b->batch_unlabeled;
  s->state = SLOT_FILLING;
  pthread_cond_broadcast(&L->work);
}

/* Stops filling s and waits until no producer touches it; mutex held. */
static void cancel(fc_loader *L, slot *s) {
  if (s->state == SLOT_FILLING) s->state = SLOT_CANCELLED;
  while (s->in_flight > 0) pthread_cond_wait(&L->done, &L->mutex);
  s->state = SLOT_FREE;
}

fc_status fc_loader_get(fc_loader *L, int64_t step, const fc_batch **out) {
  *out = NULL;
  if (step < 0)
    return fc_errorf(FC_ERR_INVALID_ARG, "loader: step %lld is negative", (long long)step);
  pthread_mutex_lock(&L->mutex);
  slot *s = NULL;
  for (int i = 0; i < L->depth; i++) {
    slot *t = &L->slots[i];
    if (t->state != SLOT_FREE && t->batch.step == step) s = t;
  }
  if (s && s->state == SLOT_HELD) {
    pthread_mutex_unlock(&L->mutex);
    return fc_errorf(FC_ERR_INVALID_ARG,
                     "loader: the batch of step %lld is already held; release it first",
                     (long long)step);
  }
  if (!s) {
    /* A jump (resume, restart): drop what was prefetched and start at step. */
    for (int i = 0; i < L->depth; i++)
      if (L->slots[i].state != SLOT_HELD) cancel(L, &L->slots[i]);
    L->next_step = step;
  } else {
    /* Steps before the requested one will not be asked for: recycle them. */
    for (int i = 0; i < L->depth; i++) {
      slot *t = &L->slots[i];
      if ((t->state == SLOT_FILLING || t->state == SLOT_READY) && t->batch.step < step)
        cancel(L, t);
    }
  }
  for (int i = 0; i < L->depth; i++)
    if (L->slots[i].state == SLOT_FREE) schedule(L, &L->slots[i], L->next_step++);
  if (!s) {
    for (int i = 0; i < L->depth; i++)
      if (L->slots[i].state != SLOT_HELD && L->slots[i].batch.step == step) s = &L->slots[i];
    if (!s) {
      pthread_mutex_unlock(&L->mutex);
      return fc_errorf(FC_ERR_INVALID_ARG,
                       "loader: all %d batch slots are held; release batches before asking for "
                       "more (hold at most queue_depth - 1)",
                       L->depth);
    }
  }
  /* Help fill our own batch rather than just wait. */
  while (s->state == SLOT_FILLING) {
    if (s->next_item < s->total_items && (L->cfg.consumer_helps || L->thread_count == 0))
      work_on(L, s, L->caller_scratch);
    else
      pthread_cond_wait(&L->done, &L->mutex);
  }
  s->state = SLOT_HELD;
  pthread_mutex_unlock(&L->mutex);
  *out = &s->batch;
  return FC_OK;
}

void fc_loader_release(fc_loader *L, const fc_batch *batch) {
  if (!L || !batch) return;
  pthread_mutex_lock(&L->mutex);
  for (int i = 0; i < L->depth; i++) {
    slot *s = &L->slots[i];
    if (&s->batch == batch && s->state == SLOT_HELD) {
      s->state = SLOT_FREE;
      schedule(L, s, L->next_step++);
    }
  }
  pthread_mutex_unlock(&L->mutex);
}

static void free_slots(fc_loader *L) {
  if (!L->slots) return;
  for (int i = 0; i < L->depth; i++) {
    fc_batch *b = &L->slots[i].batch;
    free(b->data);
    free(b->labels);
    free(b->hidden_labels);
    free(b->labeled_index);
    free(b->unlabeled_index);
  }
  free(L->slots);
  L->slots = NULL;
}

void fc_loader_free(fc_loader *L) {
  if (!L) return;
  pthread_mutex_lock(&L->mutex);
  L->shutdown = 1;
  pthread_cond_broadcast(&L->work);
  pthread_mutex_unlock(&L->mutex);
  for (int t = 0; t < L->thread_count; t++) pthread_join(L->threads[t], NULL);
  free(L->threads);
  pthread_mutex_destroy(&L->mutex);
  pthread_cond_destroy(&L->work);
  pthread_cond_destroy(&L->done);
  free_slots(L);
  free(L->labeled);
  free(L->unlabeled);
  free(L->present_class);
  free(L->class_members);
  free(L->class_offset);
  free(L->caller_scratch);
  free(L);
}

static fc_status check_config(const fc_loader_config *c) {
  const fc_dataset *ds = c->dataset;
  if (!ds || ds->count == 0 || !ds->pixels)
    return fc_errorf(FC_ERR_INVALID_ARG, "loader: no dataset");
  if (c->batch_labeled < 0 || c->batch_unlabeled < 0 ||
      c->batch_labeled + c->batch_unlabeled == 0 || c->batch_labeled > (1 << 20) ||
      c->batch_unlabeled > (1 << 20))
    return fc_errorf(FC_ERR_INVALID_ARG,
                     "loader: batch sizes %d (labelled) and %d (unlabelled) are out of range",
                     c->batch_labeled, c->batch_unlabeled);
  if (c->batch_labeled > 0 && c->labeled_count <= 0)
    return fc_errorf(FC_ERR_INVALID_ARG,
                     "loader: a labelled batch of %d from an empty labelled list",
                     c->batch_labeled);
  if (c->batch_unlabeled > 0 && c->unlabeled_count <= 0)
    return fc_errorf(FC_ERR_INVALID_ARG,
                     "loader: an unlabelled batch of %d from an empty unlabelled pool; use "
                     "fewer labels or batch_unlabeled 0",
                     c->batch_unlabeled);
  if (c->shards > 1 && (c->shard < 0 || c->shard >= c->shards || c->batch_labeled % c->shards ||
                        c->batch_unlabeled % c->shards))
    return fc_errorf(FC_ERR_INVALID_ARG,
                     "loader: batches of %d + %d images do not split into %d equal parts",
                     c->batch_labeled, c->batch_unlabeled, c->shards);
  if (c->threads < 0 || c->threads > 256)
    return fc_errorf(FC_ERR_INVALID_ARG, "loader: %d threads", c->threads);
  if (c->queue_depth < 0 || c->queue_depth > 1024)
    return fc_errorf(FC_ERR_INVALID_ARG, "loader: queue depth %d is out of range", c->queue_depth);
  if (c->augment.strong_ops < 0 || c->augment.strong_ops > 16 || c->augment.cutout < 0 ||
      c->augment.cutout > 1 || c->augment.fill < 0 || c->augment.fill > 255)
    return fc_errorf(FC_ERR_INVALID_ARG, "loader: augmentation settings out of range");
  for (int64_t k = 0; k < c->labeled_count && c->batch_labeled > 0; k++) {
    int64_t i = c->labeled[k];
    if (i < 0 || i >= ds->count || ds->labels[i] < 0 || ds->labels[i] >= ds->class_count)
      return fc_errorf(FC_ERR_INVALID_ARG,
                       "loader: labelled entry %lld (image %lld) has no valid label", (long long)k,
                       (long long)i);
  }
  for (int64_t k = 0; k < c->unlabeled_count && c->batch_unlabeled > 0; k++)
    if (c->unlabeled[k] < 0 || c->unlabeled[k] >= ds->count)
      return fc_errorf(FC_ERR_INVALID_ARG,
                       "loader: unlabelled entry %lld (image %lld) is out of range", (long long)k,
                       (long long)c->unlabeled[k]);
  return FC_OK;
}

fc_status fc_loader_create(const fc_loader_config *config, fc_loader **out) {
  *out = NULL;
  FC_TRY(check_config(config));
  fc_loader *L = calloc(1, sizeof *L);
  if (!L) return fc_errorf(FC_ERR_NOMEM, "out of memory");
  L->cfg = *config;
  L->ds = config->dataset;
  if (config->batch_labeled == 0) L->cfg.labeled_count = 0;
  if (config->batch_unlabeled == 0) L->cfg.unlabeled_count = 0;
  L->global_labeled = config->batch_labeled;
  L->global_unlabeled = config->batch_unlabeled;
  if (config->shards > 1) {
    L->cfg.batch_labeled /= config->shards;
    L->cfg.batch_unlabeled /= config->shards;
    L->first_labeled = config->shard * L->cfg.batch_labeled;
    L->first_unlabeled = config->shard * L->cfg.batch_unlabeled;
  }
  L->depth = config->queue_depth > 0 ? config->queue_depth : 4;
  if (L->depth < 2) L->depth = 2;
  L->image_bytes = fc_dataset_image_bytes(L->ds);
  pthread_mutex_init(&L->mutex, NULL);
  pthread_cond_init(&L->work, NULL);
  pthread_cond_init(&L->done, NULL);
  fc_status st = FC_OK;
  const int64_t nl = L->cfg.labeled_count, nu = L->cfg.unlabeled_count;
  const int C = L->ds->class_count;
  L->labeled = malloc(sizeof(int64_t) * (size_t)(nl > 0 ? nl : 1));
  L->unlabeled = malloc(sizeof(int64_t) * (size_t)(nu > 0 ? nu : 1));
  L->present_class = malloc(sizeof(int) * (size_t)(C > 0 ? C : 1));
  L->class_members = malloc(sizeof(int64_t) * (size_t)(nl > 0 ? nl : 1));
  L->class_offset = calloc((size_t)C + 2, sizeof(int64_t));
  L->caller_scratch = malloc(L->image_bytes);
  L->slots = calloc((size_t)L->depth, sizeof *L->slots);
  if (!L->labeled || !L->unlabeled || !L->present_class || !L->class_members || !L->class_offset ||
      !L->caller_scratch || !L->slots) {
    st = fc_errorf(FC_ERR_NOMEM, "out of memory creating the loader");
    goto fail;
  }
  if (nl) memcpy(L->labeled, config->labeled, sizeof(int64_t) * (size_t)nl);
  if (nu) memcpy(L->unlabeled, config->unlabeled, sizeof(int64_t) * (size_t)nu);
  if (nl) {
    /* Group the labelled list by class, keeping its order inside a class. */
    int64_t count[C > 0 ? C : 1];
    for (int c = 0; c < C; c++) count[c] = 0;
    for (int64_t k = 0; k < nl; k++) count[L->ds->labels[L->labeled[k]]]++;
    L->present = 0;
    L->class_offset[0] = 0;
    int where[C > 0 ? C : 1];
    for (int c = 0; c < C; c++) {
      where[c] = -1;
      if (!count[c]) continue;
      where[c] = L->present;
      L->present_class[L->present] = c;
      L->class_offset[L->present + 1] = L->class_offset[L->present] + count[c];
      L->present++;
    }
    int64_t fill[C > 0 ? C : 1];
    for (int c = 0; c < C; c++) fill[c] = 0;
    for (int64_t k = 0; k < nl; k++) {
      int c = L->ds->labels[L->labeled[k]];
      L->class_members[L->class_offset[where[c]] + fill[c]++] = L->labeled[k];
    }
  }
  for (int i = 0; i < L->depth; i++) {
    fc_batch *b = &L->slots[i].batch;
    b->batch_labeled = L->cfg.batch_labeled;
    b->batch_unlabeled = L->cfg.batch_unlabeled;
    b->channels = L->ds->channels;
    b->height = L->ds->height;
    b->width = L->ds->width;
    b->bytes = ((size_t)b->batch_labeled + 2 * (size_t)b->batch_unlabeled) * L->image_bytes;
    b->data = malloc(b->bytes);
    b->labels = malloc(sizeof(int32_t) * (size_t)(b->batch_labeled + 1));
    b->hidden_labels = malloc(sizeof(int32_t) * (size_t)(b->batch_unlabeled + 1));
    b->labeled_index = malloc(sizeof(int64_t) * (size_t)(b->batch_labeled + 1));
    b->unlabeled_index = malloc(sizeof(int64_t) * (size_t)(b->batch_unlabeled + 1));
    if (!b->data || !b->labels || !b->hidden_labels || !b->labeled_index || !b->unlabeled_index) {
      st = fc_errorf(FC_ERR_NOMEM, "out of memory for %d batch buffers of %zu bytes", L->depth,
                     b->bytes);
      goto fail;
    }
    b->x_l = b->data;
    b->u_w = b->data + (size_t)b->batch_labeled * L->image_bytes;
    b->u_s = b->u_w + (size_t)b->batch_unlabeled * L->image_bytes;
    L->slots[i].state = SLOT_FREE;
    b->step = -1;
  }
  L->threads = calloc((size_t)(config->threads > 0 ? config->threads : 1), sizeof(pthread_t));
  if (!L->threads) {
    st = fc_errorf(FC_ERR_NOMEM, "out of memory");
    goto fail;
  }
  for (int t = 0; t < config->threads; t++) {
    if (pthread_create(&L->threads[t], NULL, producer, L) != 0) {
      st = fc_errorf(FC_ERR_INTERNAL, "loader: cannot start producer thread %d", t + 1);
      goto fail;
    }
    L->thread_count++;
  }
  *out = L;
  return FC_OK;
fail:
  fc_loader_free(L);
  return st;
}
