/* Checkpoints: the network's tensors under torchvision names in safetensors,
 * with the config, classes and normalisation in the metadata. */
#include "fercl/ckpt.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "fercl/safetensors.h"
#include "net/net_internal.h"

void fc_input_norm_default(fc_input_norm *norm, int channels) {
  for (int c = 0; c < 4; c++) {
    norm->mean[c] = c < channels ? 0.5f : 0.0f;
    norm->std[c] = c < channels ? 0.25f : 1.0f;
  }
}

/* ---- metadata ---- */

typedef struct kv_list {
  const char *keys[64];
  const char *values[64];
  char storage[64][160];
  int n;
} kv_list;

static void kv_add(kv_list *kv, const char *key, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#include <stdarg.h>
static void kv_add(kv_list *kv, const char *key, const char *fmt, ...) {
  if (kv->n >= 64) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(kv->storage[kv->n], sizeof kv->storage[kv->n], fmt, ap);
  va_end(ap);
  kv->keys[kv->n] = key;
  kv->values[kv->n] = kv->storage[kv->n];
  kv->n++;
}

static char *json_float_array(const float *v, int n) {
  fc_json_buf b = {0};
  fc_json_buf_raw(&b, "[", 1);
  for (int i = 0; i < n; i++) {
    if (i) fc_json_buf_raw(&b, ",", 1);
    fc_json_buf_number(&b, v[i]);
  }
  fc_json_buf_raw(&b, "]", 1);
  if (b.failed) {
    fc_json_buf_free(&b);
    return NULL;
  }
  return b.data;
}

char *fc_model_meta_classes_json(const fc_model_meta *meta) {
  fc_json_buf b = {0};
  fc_json_buf_raw(&b, "[", 1);
  for (int i = 0; i < meta->config.num_classes; i++) {
    if (i) fc_json_buf_raw(&b, ",", 1);
    fc_json_buf_string(&b, meta->class_names[i], strlen(meta->class_names[i]));
  }
  fc_json_buf_raw(&b, "]", 1);
  if (b.failed) {
    fc_json_buf_free(&b);
    return NULL;
  }
  return b.data;
}

/* The network config in the metadata: one row per key, in the order written
 * and read (a missing or bad key is reported in this order). */
typedef enum config_kind { KEY_ARCH, KEY_STEM, KEY_INT, KEY_DOUBLE } config_kind;

typedef struct config_key {
  const char *key;
  config_kind kind;
  size_t offset; /* of the field in fc_net_config */
  int lo, hi;    /* KEY_INT's accepted range */
} config_key;

#define CONFIG_KEY(name, kind, lo, hi) \
  { "fercl." #name, kind, offsetof(fc_net_config, name), lo, hi }
static const config_key config_keys[] = {
    CONFIG_KEY(arch, KEY_ARCH, 0, 0),
    CONFIG_KEY(in_channels, KEY_INT, 1, 4),
    CONFIG_KEY(input_size, KEY_INT, 1, 1 << 20),
    CONFIG_KEY(num_classes, KEY_INT, 1, FC_NET_MAX_CLASSES),
    CONFIG_KEY(width, KEY_DOUBLE, 0, 0),
    CONFIG_KEY(stem, KEY_STEM, 0, 0),
    CONFIG_KEY(lae3, KEY_INT, 0, 1),
    CONFIG_KEY(lae4, KEY_INT, 0, 1),
    CONFIG_KEY(lae_kernel, KEY_INT, 0, 15),
    CONFIG_KEY(rfd, KEY_INT, 0, 1),
    CONFIG_KEY(rfd_prob, KEY_DOUBLE, 0, 0),
    CONFIG_KEY(rfd_block, KEY_INT, 0, 1 << 20),
    CONFIG_KEY(dropout, KEY_DOUBLE, 0, 0),
    CONFIG_KEY(bn_momentum, KEY_DOUBLE, 0, 0),
    CONFIG_KEY(bn_eps, KEY_DOUBLE, 0, 0),
};
#undef CONFIG_KEY
#define N_CONFIG_KEYS (sizeof config_keys / sizeof config_keys[0])

static void config_to_kv(const fc_net_config *c, kv_list *kv) {
  kv_add(kv, "fercl.format_version", "%s", FC_CKPT_FORMAT_VERSION);
  for (size_t i = 0; i < N_CONFIG_KEYS; i++) {
    const config_key *k = &config_keys[i];
    const void *field = (const char *)c + k->offset;
    switch (k->kind) {
    case KEY_ARCH: kv_add(kv, k->key, "%s", c->arch); break;
    case KEY_STEM: kv_add(kv, k->key, "%s", fc_stem_name(c->stem)); break;
    case KEY_INT: kv_add(kv, k->key, "%d", *(const int *)field); break;
    case KEY_DOUBLE: kv_add(kv, k->key, "%.17g", *(const double *)field); break;
    }
  }
}

/* Index of the first NaN or Inf in v[0..n), or n when all are finite. */
static size_t first_non_finite(const float *v, size_t n) {
  size_t j = 0;
  while (j < n && isfinite(v[j])) j++;
  return j;
}

/* A loaded tensor with NaN or Inf makes every prediction NaN: refused. */
static fc_status check_loaded_finite(const char *path, const char *name, const float *v, size_t n) {
  size_t j = first_non_finite(v, n);
  if (j == n) return FC_OK;
  return fc_errorf(FC_ERR_NUMERIC,
                   "%s: tensor %s holds %g at element %zu (NaN or Inf); a model with non-finite "
                   "weights predicts "
                   "nothing: the run diverged before this was saved, or the file is damaged",
                   path, name, (double)v[j], j);
}

fc_status fc_checkpoint_save(const char *path, fc_net *model, const fc_model_meta *meta,
                             const fc_ckpt_blob *blobs, int n_blobs, const char *const *keys,
                             const char *const *values, int n_kv) {
  const fc_graph *g = &model->graph;
  float *params = malloc((g->n_params + 1) * sizeof(float));
  float *stats = malloc((g->n_stats + 1) * sizeof(float));
  fc_status st = params && stats ? FC_OK : fc_errorf(FC_ERR_NOMEM, "out of memory saving %s", path);
  if (st == FC_OK) st = fc_net_read_params(model, params, stats);
  if (st == FC_OK)
    st = fc_checkpoint_write_host(path, g, meta, params, stats, model->batches_tracked, blobs,
                                  n_blobs, keys, values, n_kv);
  free(params);
  free(stats);
  return st;
}

fc_status fc_checkpoint_write_host(const char *path, const fc_graph *g, const fc_model_meta *meta,
                                   const float *params, const float *stats, int64_t tracked,
                                   const fc_ckpt_blob *blobs, int n_blobs, const char *const *keys,
                                   const char *const *values, int n_kv) {
  for (int i = 0; i < n_blobs; i++)
    if (strncmp(blobs[i].name, "train.", 6) != 0)
      return fc_errorf(FC_ERR_INVALID_ARG, "checkpoint blob '%s' must be named train.*",
                       blobs[i].name);
  const char *bn_names[512];
  int n_bn = fc_graph_bn_names(g, bn_names, 512);
  if (n_bn > 512) return fc_errorf(FC_ERR_LIMIT, "too many BN modules (%d)", n_bn);
  size_t n_tensors = (size_t)g->n_tensors + (size_t)n_bn + (size_t)n_blobs;
  fc_st_tensor *t = calloc(n_tensors, sizeof *t);
  char(*bn_tensor_names)[80] = calloc((size_t)n_bn + 1, sizeof *bn_tensor_names);
  char *classes = fc_model_meta_classes_json(meta);
  char *mean = json_float_array(meta->norm.mean, meta->config.in_channels);
  char *std = json_float_array(meta->norm.std, meta->config.in_channels);
  const char **all_keys = calloc((size_t)n_kv + 70, sizeof *all_keys);
  const char **all_values = calloc((size_t)n_kv + 70, sizeof *all_values);
  fc_status st = FC_OK;
  if (!t || !bn_tensor_names || !classes || !mean || !std || !all_keys || !all_values)
    st = fc_errorf(FC_ERR_NOMEM, "out of memory saving %s", path);
  /* A diverged model is worth nothing: refuse it, so the previous file stays. */
  for (int i = 0; st == FC_OK && i < g->n_tensors; i++) {
    const fc_tensor_info *ti = &g->tensors[i];
    const float *v = (ti->store == FC_STORE_PARAM ? params : stats) + ti->offset;
    if (first_non_finite(v, ti->count) < ti->count)
      st = fc_errorf(
          FC_ERR_NUMERIC,
          "not writing %s: tensor %s holds NaN or Inf (training diverged); the file keeps its "
          "previous version, if any",
          path, ti->name);
  }
  if (st == FC_OK) {
    size_t k = 0;
    for (int i = 0; i < g->n_tensors; i++, k++) {
      const fc_tensor_info *ti = &g->tensors[i];
      t[k].name = ti->name;
      t[k].dtype = FC_ST_F32;
      t[k].ndim = ti->ndim;
      for (int d = 0; d < ti->ndim; d++) t[k].shape[d] = ti->shape[d];
      t[k].data = (ti->store == FC_STORE_PARAM ? params : stats) + ti->offset;
    }
    for (int i = 0; i < n_bn; i++, k++) {
      snprintf(bn_tensor_names[i], sizeof bn_tensor_names[i], "%s.num_batches_tracked",
               bn_names[i]);
      t[k].name = bn_tensor_names[i];
      t[k].dtype = FC_ST_I64;
      t[k].ndim = 0;
      t[k].data = &tracked;
    }
    for (int i = 0; i < n_blobs; i++, k++) {
      t[k].name = blobs[i].name;
      t[k].dtype = FC_ST_F32;
      t[k].ndim = 1;
      t[k].shape[0] = (int64_t)blobs[i].count;
      t[k].data = blobs[i].data;
    }
    kv_list kv = {.n = 0};
    config_to_kv(&meta->config, &kv);
    int m = 0;
    for (int i = 0; i < kv.n; i++, m++) {
      all_keys[m] = kv.keys[i];
      all_values[m] = kv.values[i];
    }
    all_keys[m] = "fercl.classes", all_values[m++] = classes;
    all_keys[m] = "fercl.input_mean", all_values[m++] = mean;
    all_keys[m] = "fercl.input_std", all_values[m++] = std;
    for (int i = 0; i < n_kv; i++, m++) {
      all_keys[m] = keys[i];
      all_values[m] = values[i];
    }
    st = fc_safetensors_write(path, t, n_tensors, all_keys, all_values, (size_t)m);
  }
  free(t);
  free(bn_tensor_names);
  free(classes);
  free(mean);
  free(std);
  free(all_keys);
  free(all_values);
  return st;
}

/* ---- reading metadata ---- */

static fc_status meta_string(const fc_safetensors *f, const char *key, const char **out) {
  *out = fc_safetensors_metadata(f, key);
  if (!*out)
    return fc_errorf(FC_ERR_FORMAT, "%s: metadata key %s is missing", fc_safetensors_path(f), key);
  return FC_OK;
}

static fc_status meta_int(const fc_safetensors *f, const char *key, int lo, int hi, int *out) {
  const char *s = NULL;
  FC_TRY(meta_string(f, key, &s));
  char *end = NULL;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || end == s || *end || v < lo || v > hi)
    return fc_errorf(FC_ERR_FORMAT, "%s: metadata %s = '%s' is not a whole number in %d..%d",
                     fc_safetensors_path(f), key, s, lo, hi);
  *out = (int)v;
  return FC_OK;
}

static fc_status meta_double(const fc_safetensors *f, const char *key, double *out) {
  const char *s = NULL;
  FC_TRY(meta_string(f, key, &s));
  char *end = NULL;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || *end || !isfinite(v))
    return fc_errorf(FC_ERR_FORMAT, "%s: metadata %s = '%s' is not a number",
                     fc_safetensors_path(f), key, s);
  *out = v;
  return FC_OK;
}

static fc_status meta_float_array(const fc_safetensors *f, const char *key, int n, float *out) {
  const char *s = NULL;
  FC_TRY(meta_string(f, key, &s));
  fc_json *doc = NULL;
  fc_status st = fc_json_parse(s, strlen(s), NULL, &doc);
  if (st != FC_OK) return fc_error_context(st, "%s: metadata %s", fc_safetensors_path(f), key);
  if (doc->type != FC_JSON_ARRAY || (int)doc->count != n) {
    fc_json_free(doc);
    return fc_errorf(FC_ERR_FORMAT, "%s: metadata %s must be an array of %d numbers",
                     fc_safetensors_path(f), key, n);
  }
  for (int i = 0; i < n; i++) {
    const fc_json *v = &doc->items[i];
    if (v->type != FC_JSON_NUMBER || !(fabs(v->number) <= FLT_MAX)) { /* finite as a float too */
      fc_json_free(doc);
      return fc_errorf(FC_ERR_FORMAT, "%s: metadata %s[%d] is not a number", fc_safetensors_path(f),
                       key, i);
    }
    out[i] = (float)v->number;
  }
  fc_json_free(doc);
  return FC_OK;
}

static fc_status read_meta_from(const fc_safetensors *f, fc_model_meta *meta) {
  memset(meta, 0, sizeof *meta);
  const char *path = fc_safetensors_path(f);
  const char *version = fc_safetensors_metadata(f, "fercl.format_version");
  if (!version)
    return fc_errorf(
        FC_ERR_FORMAT,
        "%s is not a fer-cl checkpoint (no fercl.* metadata); to start from torchvision "
        "weights, pass it to train --init",
        path);
  if (strcmp(version, FC_CKPT_FORMAT_VERSION) != 0)
    return fc_errorf(FC_ERR_UNSUPPORTED, "%s: checkpoint format %s; this fer-cl reads format %s",
                     path, version, FC_CKPT_FORMAT_VERSION);
  fc_net_config *c = &meta->config;
  fc_net_config_default(c);
  const char *s = NULL;
  fc_status st = FC_OK;
  for (size_t i = 0; i < N_CONFIG_KEYS; i++) {
    const config_key *k = &config_keys[i];
    void *field = (char *)c + k->offset;
    switch (k->kind) {
    case KEY_ARCH:
    case KEY_STEM:
      FC_TRY(meta_string(f, k->key, &s));
      st = k->kind == KEY_ARCH ? fc_net_config_set_arch(c, s) : fc_stem_parse(s, &c->stem);
      if (st != FC_OK) return fc_error_context(st, "%s", path);
      break;
    case KEY_INT: FC_TRY(meta_int(f, k->key, k->lo, k->hi, field)); break;
    case KEY_DOUBLE: FC_TRY(meta_double(f, k->key, field)); break;
    }
  }
  st = fc_net_config_check(c);
  if (st != FC_OK) return fc_error_context(st, "%s", path);

  FC_TRY(meta_string(f, "fercl.classes", &s));
  fc_json *doc = NULL;
  st = fc_json_parse(s, strlen(s), NULL, &doc);
  if (st != FC_OK) return fc_error_context(st, "%s: metadata fercl.classes", path);
  if (doc->type != FC_JSON_ARRAY || (int)doc->count != c->num_classes) {
    fc_json_free(doc);
    return fc_errorf(FC_ERR_FORMAT, "%s: fercl.classes must list %d class names", path,
                     c->num_classes);
  }
  for (int i = 0; i < c->num_classes; i++) {
    const fc_json *v = &doc->items[i];
    if (v->type != FC_JSON_STRING || v->length == 0 || v->length >= FC_CLASS_NAME_MAX ||
        memchr(v->string, '\0', v->length)) {
      fc_json_free(doc);
      return fc_errorf(FC_ERR_FORMAT, "%s: class name %d is not a string of 1..%d bytes", path, i,
                       FC_CLASS_NAME_MAX - 1);
    }
    memcpy(meta->class_names[i], v->string, v->length);
  }
  fc_json_free(doc);
  fc_input_norm_default(&meta->norm, c->in_channels);
  FC_TRY(meta_float_array(f, "fercl.input_mean", c->in_channels, meta->norm.mean));
  FC_TRY(meta_float_array(f, "fercl.input_std", c->in_channels, meta->norm.std));
  for (int i = 0; i < c->in_channels; i++)
    if (!(meta->norm.std[i] > 0.0f))
      return fc_errorf(FC_ERR_FORMAT, "%s: fercl.input_std[%d] must be positive", path, i);
  return FC_OK;
}

fc_status fc_checkpoint_read_meta(const char *path, fc_model_meta *meta) {
  fc_safetensors *f = NULL;
  FC_TRY(fc_safetensors_open(path, &f));
  fc_status st = read_meta_from(f, meta);
  fc_safetensors_close(f);
  return st;
}

/* ---- loading tensors ---- */

typedef struct problems {
  char text[3000];
  size_t used;
  int count;
} problems;

static void problem(problems *p, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void problem(problems *p, const char *fmt, ...) {
  p->count++;
  if (p->count > 12) return;
  if (p->used + 4 >= sizeof p->text) return;
  p->used +=
      (size_t)snprintf(p->text + p->used, sizeof p->text - p->used, "%s", p->count > 1 ? "; " : "");
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(p->text + p->used, sizeof p->text - p->used, fmt, ap);
  va_end(ap);
  if (n > 0) p->used += (size_t)n;
  if (p->used >= sizeof p->text) p->used = sizeof p->text - 1;
}

static void shape_text(const int64_t *shape, int ndim, char *out, size_t size) {
  size_t used = (size_t)snprintf(out, size, "[");
  for (int i = 0; i < ndim && used < size; i++)
    used += (size_t)snprintf(out + used, size - used, "%s%lld", i ? "," : "", (long long)shape[i]);
  if (used < size) snprintf(out + used, size - used, "]");
}

static int shape_matches(const fc_st_tensor *t, const fc_tensor_info *ti) {
  if (t->ndim != ti->ndim) return 0;
  for (int d = 0; d < ti->ndim; d++)
    if (t->shape[d] != ti->shape[d]) return 0;
  return 1;
}

static void expected_shape_text(const fc_tensor_info *ti, char *out, size_t size) {
  int64_t s[4];
  for (int d = 0; d < ti->ndim; d++) s[d] = ti->shape[d];
  shape_text(s, ti->ndim, out, size);
}

static int is_bn_counter(const fc_graph *g, const char *name) {
  const char *dot = strrchr(name, '.');
  if (!dot || strcmp(dot, ".num_batches_tracked") != 0) return 0;
  const char *names[512];
  int n = fc_graph_bn_names(g, names, 512);
  for (int i = 0; i < n && i < 512; i++)
    if (strlen(names[i]) == (size_t)(dot - name) &&
        strncmp(names[i], name, (size_t)(dot - name)) == 0)
      return 1;
  return 0;
}

fc_status fc_checkpoint_read_tensors(const char *path, const fc_net_config *cfg, const fc_graph *g,
                                     float *params, float *stats, int64_t *batches_tracked) {
  fc_safetensors *f = NULL;
  FC_TRY(fc_safetensors_open(path, &f));
  problems p = {.used = 0};
  size_t n = fc_safetensors_count(f);
  char *used = calloc(n + 1, 1);
  fc_status st = used ? FC_OK : fc_errorf(FC_ERR_NOMEM, "out of memory loading %s", path);
  char have[96], want[96];
  for (int i = 0; i < g->n_tensors && st == FC_OK; i++) {
    const fc_tensor_info *ti = &g->tensors[i];
    size_t idx = 0;
    if (fc_safetensors_find(f, ti->name, &idx) != FC_OK) {
      problem(&p, "missing tensor %s", ti->name);
      continue;
    }
    used[idx] = 1;
    const fc_st_tensor *t = fc_safetensors_tensor(f, idx);
    if (t->dtype != FC_ST_F32) {
      problem(&p, "tensor %s is %s, expected F32", ti->name, fc_st_dtype_name(t->dtype));
      continue;
    }
    if (!shape_matches(t, ti)) {
      shape_text(t->shape, t->ndim, have, sizeof have);
      expected_shape_text(ti, want, sizeof want);
      problem(&p, "tensor %s has shape %s, the network needs %s", ti->name, have, want);
      continue;
    }
    float *dst = (ti->store == FC_STORE_PARAM ? params : stats) + ti->offset;
    st = fc_safetensors_read_f32(f, idx, dst, ti->count);
    if (st == FC_OK) st = check_loaded_finite(path, ti->name, dst, ti->count);
  }
  int64_t tracked = -1;
  for (size_t i = 0; i < n && st == FC_OK; i++) {
    if (used[i]) continue;
    const fc_st_tensor *t = fc_safetensors_tensor(f, i);
    if (strncmp(t->name, "train.", 6) == 0) continue;
    if (is_bn_counter(g, t->name)) {
      if (t->dtype != FC_ST_I64 || t->ndim != 0) {
        problem(&p, "tensor %s must be an I64 scalar", t->name);
      } else if (tracked < 0) {
        st = fc_safetensors_read(f, i, &tracked, sizeof tracked);
      }
      continue;
    }
    problem(&p, "unexpected tensor %s", t->name);
  }
  if (st == FC_OK && p.count > 0) {
    st = fc_errorf(FC_ERR_MISMATCH,
                   "%s does not match the network (%s, %d classes, %d×%d×%d input): %s%s", path,
                   cfg->arch, cfg->num_classes, cfg->in_channels, cfg->input_size, cfg->input_size,
                   p.text, p.count > 12 ? "; and more" : "");
  }
  if (st == FC_OK && batches_tracked) *batches_tracked = tracked > 0 ? tracked : 0;
  free(used);
  fc_safetensors_close(f);
  return st;
}

fc_status fc_checkpoint_load(const char *path, fc_net *model) {
  const fc_graph *g = &model->graph;
  float *params = malloc((g->n_params + 1) * sizeof(float));
  float *stats = malloc((g->n_stats + 1) * sizeof(float));
  int64_t tracked = 0;
  fc_status st =
      (params && stats) ? FC_OK : fc_errorf(FC_ERR_NOMEM, "out of memory loading %s", path);
  if (st == FC_OK) st = fc_checkpoint_read_tensors(path, &model->cfg, g, params, stats, &tracked);
  if (st == FC_OK) st = fc_net_write_params(model, params, stats);
  if (st == FC_OK) model->batches_tracked = tracked;
  free(params);
  free(stats);
  return st;
}

fc_status fc_checkpoint_init_from(const char *path, fc_net *model, char *report,
                                  size_t report_size) {
  const fc_graph *g = &model->graph;
  fc_safetensors *f = NULL;
  FC_TRY(fc_safetensors_open(path, &f));
  float *params = malloc((g->n_params + 1) * sizeof(float));
  float *stats = malloc((g->n_stats + 1) * sizeof(float));
  fc_status st = (params && stats) ? fc_net_read_params(model, params, stats)
                                   : fc_errorf(FC_ERR_NOMEM, "out of memory reading %s", path);
  problems skipped = {.used = 0};
  int loaded = 0;
  char have[96], want[96];
  for (int i = 0; i < g->n_tensors && st == FC_OK; i++) {
    const fc_tensor_info *ti = &g->tensors[i];
    float *dst = (ti->store == FC_STORE_PARAM ? params : stats) + ti->offset;
    size_t idx = 0;
    if (fc_safetensors_find(f, ti->name, &idx) != FC_OK) {
      problem(&skipped, "%s (not in the file)", ti->name);
      continue;
    }
    const fc_st_tensor *t = fc_safetensors_tensor(f, idx);
    int is_float = t->dtype == FC_ST_F32 || t->dtype == FC_ST_F16 || t->dtype == FC_ST_BF16 ||
                   t->dtype == FC_ST_F64;
    if (!is_float) {
      problem(&skipped, "%s (dtype %s)", ti->name, fc_st_dtype_name(t->dtype));
      continue;
    }
    if (shape_matches(t, ti)) {
      st = fc_safetensors_read_f32(f, idx, dst, ti->count);
      if (st == FC_OK) st = check_loaded_finite(path, ti->name, dst, ti->count);
      if (st == FC_OK) loaded++;
      continue;
    }
    /* An RGB first convolution for a grayscale model: gray = sum of the RGB filters. */
    if (strcmp(ti->name, "conv1.weight") == 0 && ti->shape[1] == 1 && t->ndim == 4 &&
        t->shape[1] == 3 && t->shape[0] == ti->shape[0] && t->shape[2] == ti->shape[2] &&
        t->shape[3] == ti->shape[3]) {
      size_t rgb_count = ti->count * 3;
      float *rgb = malloc(rgb_count * sizeof(float));
      if (!rgb) {
        st = fc_errorf(FC_ERR_NOMEM, "out of memory");
        break;
      }
      st = fc_safetensors_read_f32(f, idx, rgb, rgb_count);
      size_t plane = (size_t)ti->shape[2] * ti->shape[3];
      for (int o = 0; st == FC_OK && o < ti->shape[0]; o++)
        for (size_t k = 0; k < plane; k++)
          dst[(size_t)o * plane + k] = rgb[((size_t)o * 3 + 0) * plane + k] +
                                       rgb[((size_t)o * 3 + 1) * plane + k] +
                                       rgb[((size_t)o * 3 + 2) * plane + k];
      free(rgb);
      if (st == FC_OK) st = check_loaded_finite(path, ti->name, dst, ti->count);
      if (st == FC_OK) loaded++;
      continue;
    }
    shape_text(t->shape, t->ndim, have, sizeof have);
    expected_shape_text(ti, want, sizeof want);
    if (strncmp(ti->name, "fc.", 3) == 0)
      problem(&skipped, "%s (classifier: %s in the file, %s here; kept the fresh initialisation)",
              ti->name, have, want);
    else
      problem(&skipped, "%s (shape %s in the file, %s here)", ti->name, have, want);
  }
  if (st == FC_OK && loaded == 0)
    st = fc_errorf(
        FC_ERR_MISMATCH,
        "%s: no tensor matches the network by name and shape; --init expects a torchvision-named "
        "resnet state dict (tools/pth_to_safetensors.py converts a .pth)",
        path);
  if (st == FC_OK) st = fc_net_write_params(model, params, stats);
  if (st == FC_OK && report && report_size)
    snprintf(report, report_size, "loaded %d of %d tensors from %s%s%s%s", loaded, g->n_tensors,
             path, skipped.count ? "; not loaded: " : "", skipped.count ? skipped.text : "",
             skipped.count > 12 ? "; and more" : "");
  free(params);
  free(stats);
  fc_safetensors_close(f);
  return st;
}
