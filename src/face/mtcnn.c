/* MTCNN on the OpenCL device: the three networks from our ops (conv2d, PReLU,
 * ceil max-pool, linear, crop + resize), the box logic on the host, step for
 * step as facenet-pytorch 2.6.0's detect_face (models/utils/detect_face.py). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device/runtime.h"
#include "fercl/face.h"
#include "fercl/ops.h"
#include "fercl/ops_vision.h"
#include "fercl/safetensors.h"

#define FETCH_HINT                                                                       \
  "fetch it with tools/get-face-detector, or name another file with --detector FILE or " \
  "FERCL_DETECTOR"
enum { R_CHUNK = 128, O_CHUNK = 64 };

typedef struct conv_layer {
  int cin, cout, k;
  size_t w, b, slope; /* offsets (floats) in the parameter buffer; slope 0 = no PReLU */
} conv_layer;

typedef struct dense_layer {
  int in, out;
  size_t w, b, slope;
} dense_layer;

struct fc_face_detector {
  fc_device *dev;
  cl_mem params;
  conv_layer p[4]; /* conv1..3, conv4 = conv4_1 ‖ conv4_2 (6 outputs) */
  conv_layer r[3];
  dense_layer r_fc[2]; /* dense4 (inputs permuted to NCHW order), dense5_1 ‖ dense5_2 */
  conv_layer o[4];
  dense_layer o_fc[2]; /* dense5, dense6_1 ‖ dense6_2 ‖ dense6_3 (16 outputs) */
  /* Working buffers, grown on demand. */
  cl_mem image, boxes, act_a, act_b, argmax, work;
  size_t image_bytes, act_a_floats, act_b_floats, argmax_count, work_floats, box_count;
  float *host; /* read-back scratch */
  size_t host_floats;
};

/* ---- options and path ---- */

void fc_face_options_default(fc_face_options *o) {
  o->min_face = 20;
  o->thresholds[0] = 0.6f, o->thresholds[1] = 0.7f, o->thresholds[2] = 0.7f;
  o->factor = 0.709f;
  o->max_pyramid_side = 1280;
}

fc_status fc_face_detector_path(const char *explicit_path, char *buf, size_t size) {
  const char *env = getenv("FERCL_DETECTOR"), *xdg = getenv("XDG_DATA_HOME"),
             *home = getenv("HOME");
  int n;
  if (explicit_path && *explicit_path)
    n = snprintf(buf, size, "%s", explicit_path);
  else if (env && *env)
    n = snprintf(buf, size, "%s", env);
  else if (xdg && *xdg)
    n = snprintf(buf, size, "%s/fer-cl/mtcnn.safetensors", xdg);
  else
    n = snprintf(buf, size, "%s/.local/share/fer-cl/mtcnn.safetensors", home && *home ? home : ".");
  if (n < 0 || (size_t)n >= size) return fc_errorf(FC_ERR_LIMIT, "face detector path too long");
  return FC_OK;
}

/* ---- loading ---- */

typedef struct loader {
  fc_safetensors *file;
  float *host; /* the whole parameter block */
  size_t used, capacity;
} loader;

static fc_status take(loader *L, const char *name, int ndim, const int64_t *shape, size_t *offset) {
  size_t index;
  FC_TRY(fc_safetensors_find(L->file, name, &index));
  const fc_st_tensor *t = fc_safetensors_tensor(L->file, index);
  int ok = t->ndim == ndim;
  size_t count = 1;
  for (int d = 0; ok && d < ndim; d++) ok = t->shape[d] == shape[d], count *= (size_t)shape[d];
  if (!ok) return fc_errorf(FC_ERR_MISMATCH, "tensor %s has an unexpected shape", name);
  if (L->used + count > L->capacity) {
    size_t cap = (L->used + count) * 2;
    float *p = realloc(L->host, cap * sizeof *p);
    if (!p) return fc_errorf(FC_ERR_NOMEM, "out of memory");
    L->host = p, L->capacity = cap;
  }
  FC_TRY(fc_safetensors_read_f32(L->file, index, L->host + L->used, count));
  for (size_t i = 0; i < count; i++)
    if (!isfinite(L->host[L->used + i]))
      return fc_errorf(FC_ERR_NUMERIC, "tensor %s holds NaN or Inf", name);
  *offset = L->used;
  L->used += count;
  return FC_OK;
}

static fc_status load_conv(loader *L, const char *net, const char *name, const char *prelu, int cin,
                           int cout, int k, conv_layer *out) {
  char key[64];
  out->cin = cin, out->cout = cout, out->k = k, out->slope = 0;
  snprintf(key, sizeof key, "%s.%s.weight", net, name);
  FC_TRY(take(L, key, 4, (int64_t[]){cout, cin, k, k}, &out->w));
  snprintf(key, sizeof key, "%s.%s.bias", net, name);
  FC_TRY(take(L, key, 1, (int64_t[]){cout}, &out->b));
  if (prelu) {
    snprintf(key, sizeof key, "%s.%s.weight", net, prelu);
    FC_TRY(take(L, key, 1, (int64_t[]){cout}, &out->slope));
  }
  return FC_OK;
}

/* Heads fused into one layer: their weights and biases one after the other. */
static fc_status load_heads(loader *L, const char *net, const char *const *names, const int *outs,
                            int count, int in, dense_layer *out) {
  char key[64];
  size_t first_w = 0, first_b = 0, off;
  out->in = in, out->out = 0, out->slope = 0;
  for (int i = 0; i < count; i++) {
    snprintf(key, sizeof key, "%s.%s.weight", net, names[i]);
    FC_TRY(take(L, key, 2, (int64_t[]){outs[i], in}, &off));
    if (i == 0) first_w = off;
    out->out += outs[i];
  }
  for (int i = 0; i < count; i++) {
    snprintf(key, sizeof key, "%s.%s.bias", net, names[i]);
    FC_TRY(take(L, key, 1, (int64_t[]){outs[i]}, &off));
    if (i == 0) first_b = off;
  }
  out->w = first_w, out->b = first_b;
  return FC_OK;
}

/* A dense layer fed by a (c, s, s) map that PyTorch flattened after permute(0, 3, 2, 1),
 * i.e. in (x, y, c) order: its columns are reordered to our NCHW flattening (c, y, x). */
static fc_status load_dense_permuted(loader *L, const char *net, const char *name,
                                     const char *prelu, int c, int s, int out_n, dense_layer *out) {
  char key[64];
  int in = c * s * s;
  out->in = in, out->out = out_n;
  snprintf(key, sizeof key, "%s.%s.weight", net, name);
  FC_TRY(take(L, key, 2, (int64_t[]){out_n, in}, &out->w));
  float *row = malloc((size_t)in * sizeof *row);
  if (!row) return fc_errorf(FC_ERR_NOMEM, "out of memory");
  for (int o = 0; o < out_n; o++) {
    float *w = L->host + out->w + (size_t)o * in;
    memcpy(row, w, (size_t)in * sizeof *row);
    for (int ch = 0; ch < c; ch++)
      for (int y = 0; y < s; y++)
        for (int x = 0; x < s; x++) w[(ch * s + y) * s + x] = row[(x * s + y) * c + ch];
  }
  free(row);
  snprintf(key, sizeof key, "%s.%s.bias", net, name);
  FC_TRY(take(L, key, 1, (int64_t[]){out_n}, &out->b));
  snprintf(key, sizeof key, "%s.%s.weight", net, prelu);
  return take(L, key, 1, (int64_t[]){out_n}, &out->slope);
}

static fc_status load_all(fc_face_detector *d, loader *L) {
  FC_TRY(load_conv(L, "pnet", "conv1", "prelu1", 3, 10, 3, &d->p[0]));
  FC_TRY(load_conv(L, "pnet", "conv2", "prelu2", 10, 16, 3, &d->p[1]));
  FC_TRY(load_conv(L, "pnet", "conv3", "prelu3", 16, 32, 3, &d->p[2]));
  /* conv4_1 and conv4_2 are 1×1 convolutions: [out][32][1][1]. */
  d->p[3].cin = 32, d->p[3].cout = 6, d->p[3].k = 1, d->p[3].slope = 0;
  FC_TRY(take(L, "pnet.conv4_1.weight", 4, (int64_t[]){2, 32, 1, 1}, &d->p[3].w));
  size_t off;
  FC_TRY(take(L, "pnet.conv4_2.weight", 4, (int64_t[]){4, 32, 1, 1}, &off));
  FC_TRY(take(L, "pnet.conv4_1.bias", 1, (int64_t[]){2}, &d->p[3].b));
  FC_TRY(take(L, "pnet.conv4_2.bias", 1, (int64_t[]){4}, &off));

  FC_TRY(load_conv(L, "rnet", "conv1", "prelu1", 3, 28, 3, &d->r[0]));
  FC_TRY(load_conv(L, "rnet", "conv2", "prelu2", 28, 48, 3, &d->r[1]));
  FC_TRY(load_conv(L, "rnet", "conv3", "prelu3", 48, 64, 2, &d->r[2]));
  FC_TRY(load_dense_permuted(L, "rnet", "dense4", "prelu4", 64, 3, 128, &d->r_fc[0]));
  FC_TRY(load_heads(L, "rnet", (const char *const[]){"dense5_1", "dense5_2"}, (int[]){2, 4}, 2, 128,
                    &d->r_fc[1]));

  FC_TRY(load_conv(L, "onet", "conv1", "prelu1", 3, 32, 3, &d->o[0]));
  FC_TRY(load_conv(L, "onet", "conv2", "prelu2", 32, 64, 3, &d->o[1]));
  FC_TRY(load_conv(L, "onet", "conv3", "prelu3", 64, 64, 3, &d->o[2]));
  FC_TRY(load_conv(L, "onet", "conv4", "prelu4", 64, 128, 2, &d->o[3]));
  FC_TRY(load_dense_permuted(L, "onet", "dense5", "prelu5", 128, 3, 256, &d->o_fc[0]));
  FC_TRY(load_heads(L, "onet", (const char *const[]){"dense6_1", "dense6_2", "dense6_3"},
                    (int[]){2, 4, 10}, 3, 256, &d->o_fc[1]));
  size_t expected = fc_safetensors_count(L->file);
  if (expected != 50)
    return fc_errorf(FC_ERR_MISMATCH, "%zu tensors, an MTCNN file has 50", expected);
  return FC_OK;
}

void fc_face_detector_free(fc_face_detector *d) {
  if (!d) return;
  fc_buffer_release(&d->params);
  fc_buffer_release(&d->image);
  fc_buffer_release(&d->boxes);
  fc_buffer_release(&d->act_a);
  fc_buffer_release(&d->act_b);
  fc_buffer_release(&d->argmax);
  fc_buffer_release(&d->work);
  free(d->host);
  free(d);
}

fc_status fc_face_detector_create(fc_device *dev, const char *path, fc_face_detector **out) {
  *out = NULL;
  FILE *probe = fopen(path, "rb");
  if (!probe) return fc_errorf(FC_ERR_NOT_FOUND, "no face detector at %s: " FETCH_HINT, path);
  fclose(probe);
  fc_face_detector *d = calloc(1, sizeof *d);
  if (!d) return fc_errorf(FC_ERR_NOMEM, "out of memory");
  d->dev = dev;
  loader L = {0};
  fc_status st = fc_safetensors_open(path, &L.file);
  if (st == FC_OK) {
    const char *format = fc_safetensors_metadata(L.file, "format");
    if (!format || strcmp(format, "fer-cl mtcnn 1") != 0)
      st = fc_errorf(FC_ERR_MISMATCH,
                     "not written by tools/get-face-detector (metadata format is %s)",
                     format ? format : "absent");
  }
  if (st == FC_OK) st = load_all(d, &L);
  if (st == FC_OK)
    st = fc_buffer_alloc(dev, L.used * sizeof(float), "face detector weights", &d->params);
  if (st == FC_OK) st = fc_buffer_write(dev, d->params, 0, L.used * sizeof(float), L.host, 1);
  fc_safetensors_close(L.file);
  free(L.host);
  if (st != FC_OK) {
    fc_face_detector_free(d);
    if (st == FC_ERR_NOMEM || st == FC_ERR_DEVICE_MEMORY || st == FC_ERR_OPENCL) return st;
    return fc_error_context(st, "%s is not a usable MTCNN face detector (" FETCH_HINT ")", path);
  }
  *out = d;
  return FC_OK;
}

/* ---- working buffers ---- */

static fc_status ensure(fc_face_detector *d, cl_mem *mem, size_t *have, size_t need, size_t elem,
                        const char *what) {
  if (*mem && *have >= need) return FC_OK;
  fc_buffer_release(mem);
  *have = 0;
  FC_TRY(fc_buffer_alloc(d->dev, (need ? need : 1) * elem, what, mem));
  *have = need;
  return FC_OK;
}

static fc_status ensure_host(fc_face_detector *d, size_t floats) {
  if (d->host_floats >= floats) return FC_OK;
  float *p = realloc(d->host, floats * sizeof *p);
  if (!p) return fc_errorf(FC_ERR_NOMEM, "out of memory");
  d->host = p, d->host_floats = floats;
  return FC_OK;
}

static fc_view pv(const fc_face_detector *d, size_t offset) {
  return fc_view_of(d->params, offset);
}

/* Sizes a network run needs: the largest activation and conv workspace. */
typedef struct run_size {
  size_t act, work, argmax;
} run_size;

static void grow(size_t *a, size_t b) {
  if (b > *a) *a = b;
}

/* conv (+ PReLU) from x into y; returns the output shape. */
static fc_status conv(fc_face_detector *d, const conv_layer *L, fc_shape4 in, fc_view x, fc_view y,
                      fc_shape4 *out, run_size *size) {
  fc_conv2d_desc desc = {in.n, in.c, in.h, in.w, L->cout, L->k, L->k, 1, 0, FC_LAYOUT_NCHW};
  *out = fc_conv2d_out_shape(&desc);
  if (size) {
    grow(&size->act, fc_shape4_count(*out));
    grow(&size->work, fc_conv2d_workspace_size(&desc, 0));
    return FC_OK;
  }
  FC_TRY(fc_conv2d_forward(d->dev, &desc, x, pv(d, L->w), pv(d, L->b), y, fc_view_of(d->work, 0),
                           d->work_floats));
  if (L->slope) FC_TRY(fc_prelu_forward(d->dev, *out, y, pv(d, L->slope), y));
  return FC_OK;
}

static fc_status pool(fc_face_detector *d, fc_shape4 in, int k, int stride, fc_view x, fc_view y,
                      fc_shape4 *out, run_size *size) {
  *out = fc_maxpool2d_ceil_out_shape(in, k, stride);
  if (size) {
    grow(&size->act, fc_shape4_count(*out));
    grow(&size->argmax, fc_shape4_count(*out));
    return FC_OK;
  }
  return fc_maxpool2d_ceil_forward(d->dev, in, k, stride, x, y, fc_view_of(d->argmax, 0));
}

static fc_status dense(fc_face_detector *d, const dense_layer *L, int n, fc_view x, fc_view y,
                       run_size *size) {
  if (size) {
    grow(&size->act, (size_t)n * L->out);
    return FC_OK;
  }
  FC_TRY(fc_linear_forward(d->dev, n, L->in, L->out, x, pv(d, L->w), pv(d, L->b), y));
  if (!L->slope) return FC_OK;
  fc_shape4 s = {n, L->out, 1, 1, FC_LAYOUT_NCHW};
  return fc_prelu_forward(d->dev, s, y, pv(d, L->slope), y);
}

/* The three networks as layer lists: conv i (+ PReLU), max-pool k/stride (ceil), dense i
 * (+ PReLU; the first dense flattens the map, whose NCHW order load_dense_permuted matched). */
typedef struct net_step {
  char kind; /* 'c' conv, 'p' pool, 'd' dense */
  int a, b;  /* conv / dense: layer index; pool: k, stride */
} net_step;

static const net_step pnet_steps[] = {{'c', 0, 0}, {'p', 2, 2}, {'c', 1, 0},
                                      {'c', 2, 0}, {'c', 3, 0}, {0, 0, 0}};
static const net_step rnet_steps[] = {{'c', 0, 0}, {'p', 3, 2}, {'c', 1, 0}, {'p', 3, 2},
                                      {'c', 2, 0}, {'d', 0, 0}, {'d', 1, 0}, {0, 0, 0}};
static const net_step onet_steps[] = {{'c', 0, 0}, {'p', 3, 2}, {'c', 1, 0}, {'p', 3, 2},
                                      {'c', 2, 0}, {'p', 2, 2}, {'c', 3, 0}, {'d', 0, 0},
                                      {'d', 1, 0}, {0, 0, 0}};

/* Runs a network on n h × w inputs in act_a, ping-ponging between act_a and act_b; the
 * output ends in act_b (every list has an odd number of steps) and *out is its shape. With
 * size: only measures what the run needs. */
static fc_status run_net(fc_face_detector *d, const net_step *steps, const conv_layer *convs,
                         const dense_layer *denses, int n, int h, int w, fc_shape4 *out,
                         run_size *size) {
  fc_view buf[2] = {fc_view_of(d->act_a, 0), fc_view_of(d->act_b, 0)};
  fc_shape4 s = {n, 3, h, w, FC_LAYOUT_NCHW};
  if (size) grow(&size->act, fc_shape4_count(s));
  int cur = 0;
  for (const net_step *t = steps; t->kind; t++, cur ^= 1) {
    if (t->kind == 'c') {
      FC_TRY(conv(d, &convs[t->a], s, buf[cur], buf[cur ^ 1], &s, size));
    } else if (t->kind == 'p') {
      FC_TRY(pool(d, s, t->a, t->b, buf[cur], buf[cur ^ 1], &s, size));
    } else {
      FC_TRY(dense(d, &denses[t->a], n, buf[cur], buf[cur ^ 1], size));
      s.c = denses[t->a].out, s.h = s.w = 1;
    }
  }
  if (out) *out = s;
  return FC_OK;
}

/* P-Net on one pyramid level (n = 1): 6 output maps (2 logits, 4 offsets). */
static fc_status run_pnet(fc_face_detector *d, int h, int w, fc_shape4 *out, run_size *size) {
  return run_net(d, pnet_steps, d->p, NULL, 1, h, w, out, size);
}

/* R-Net on n 24×24 crops: n × 6 (2 logits, 4 offsets). */
static fc_status run_rnet(fc_face_detector *d, int n, run_size *size) {
  return run_net(d, rnet_steps, d->r, d->r_fc, n, 24, 24, NULL, size);
}

/* O-Net on n 48×48 crops: n × 16 (2 logits, 4 offsets, 10 landmarks). */
static fc_status run_onet(fc_face_detector *d, int n, run_size *size) {
  return run_net(d, onet_steps, d->o, d->o_fc, n, 48, 48, NULL, size);
}

/* ---- box logic (facenet-pytorch's, in float like its tensors) ---- */

typedef struct cand {
  float x1, y1, x2, y2, score;
  float reg[4];
  float pts[10];
} cand;

typedef struct cand_list {
  cand *v;
  int n, cap;
} cand_list;

static fc_status push(cand_list *l, const cand *c) {
  if (l->n == l->cap) {
    int cap = l->cap ? 2 * l->cap : 256;
    cand *p = realloc(l->v, (size_t)cap * sizeof *p);
    if (!p) return fc_errorf(FC_ERR_NOMEM, "out of memory");
    l->v = p, l->cap = cap;
  }
  l->v[l->n++] = *c;
  return FC_OK;
}

static float prob1(float a0, float a1) { /* softmax(a)[1], max-subtracted like PyTorch */
  float m = a0 > a1 ? a0 : a1, e0 = expf(a0 - m), e1 = expf(a1 - m);
  return e1 / (e0 + e1);
}

static int by_score_desc(const void *a, const void *b) {
  float x = ((const cand *)a)->score, y = ((const cand *)b)->score;
  return x < y ? 1 : x > y ? -1 : 0;
}

/* Non-maximum suppression, highest score first; the survivors stay in decreasing score order.
 * min_mode 0: torchvision.ops.nms, IoU > thr suppresses (areas without +1).
 * min_mode 1: facenet-pytorch's nms_numpy "Min": overlap over the smaller area, areas with +1. */
static fc_status nms(cand_list *l, float thr, int min_mode) {
  qsort(l->v, (size_t)l->n, sizeof *l->v, by_score_desc);
  char *gone = calloc((size_t)l->n + 1, 1);
  if (!gone) return fc_errorf(FC_ERR_NOMEM, "out of memory");
  const float one = min_mode ? 1.0f : 0.0f;
  int kept = 0;
  for (int i = 0; i < l->n; i++) {
    if (gone[i]) continue;
    const cand a = l->v[i];
    float area_a = (a.x2 - a.x1 + one) * (a.y2 - a.y1 + one);
    for (int j = i + 1; j < l->n; j++) {
      if (gone[j]) continue;
      const cand *b = &l->v[j];
      float w = fmaxf(0.0f, fminf(a.x2, b->x2) - fmaxf(a.x1, b->x1) + one);
      float h = fmaxf(0.0f, fminf(a.y2, b->y2) - fmaxf(a.y1, b->y1) + one);
      float inter = w * h, area_b = (b->x2 - b->x1 + one) * (b->y2 - b->y1 + one);
      float overlap = min_mode ? inter / fminf(area_a, area_b) : inter / (area_a + area_b - inter);
      if (overlap > thr) gone[j] = 1;
    }
    l->v[kept++] = a;
  }
  free(gone);
  l->n = kept;
  return FC_OK;
}

static void rerec(cand *c) {
  float h = c->y2 - c->y1, w = c->x2 - c->x1, l = fmaxf(w, h);
  c->x1 = c->x1 + w * 0.5f - l * 0.5f;
  c->y1 = c->y1 + h * 0.5f - l * 0.5f;
  c->x2 = c->x1 + l;
  c->y2 = c->y1 + l;
}

static void bbreg(cand *c) { /* widths with +1, as facenet-pytorch's bbreg */
  float w = c->x2 - c->x1 + 1, h = c->y2 - c->y1 + 1;
  float b1 = c->x1 + c->reg[0] * w, b2 = c->y1 + c->reg[1] * h;
  float b3 = c->x2 + c->reg[2] * w, b4 = c->y2 + c->reg[3] * h;
  c->x1 = b1, c->y1 = b2, c->x2 = b3, c->y2 = b4;
}

/* pad(): the crop [x − 1, ex) × [y − 1, ey) of the truncated box inside the picture;
 * 0 when empty (facenet-pytorch skips those). */
static int crop_box(const cand *c, int w, int h, int32_t *box) {
  int x = (int)c->x1, y = (int)c->y1, ex = (int)c->x2, ey = (int)c->y2;
  if (x < 1) x = 1;
  if (y < 1) y = 1;
  if (ex > w) ex = w;
  if (ey > h) ey = h;
  box[0] = x - 1, box[1] = y - 1, box[2] = ex, box[3] = ey;
  return ey > y - 1 && ex > x - 1;
}

/* Crops of the candidates (dropping empty ones) into act_a, side × side, normalised. */
static fc_status crops(fc_face_detector *d, cand_list *l, int first, int count, int side,
                       const fc_image *img, int *kept) {
  int32_t boxes[R_CHUNK * 4];
  int n = 0;
  for (int i = first; i < first + count; i++) {
    if (!crop_box(&l->v[i], img->width, img->height, boxes + 4 * n)) continue;
    l->v[first + n] = l->v[i]; /* compacts in place (n ≤ i − first) */
    n++;
  }
  *kept = n;
  if (n == 0) return FC_OK;
  FC_TRY(fc_buffer_write(d->dev, d->boxes, 0, (size_t)n * 4 * sizeof(int32_t), boxes, 1));
  return fc_crop_resize(d->dev, FC_RESIZE_AREA, fc_view_of(d->image, 0), 3, img->height, img->width,
                        fc_view_of(d->boxes, 0), n, side, side, 0.0078125f, -127.5f * 0.0078125f,
                        fc_view_of(d->act_a, 0));
}

/* Sizes every buffer for this picture's first pyramid level and the crop batches. */
static fc_status prepare(fc_face_detector *d, const fc_image *img, int h0, int w0) {
  run_size size = {0, 0, 0};
  fc_shape4 out;
  FC_TRY(run_pnet(d, h0, w0, &out, &size));
  FC_TRY(run_rnet(d, R_CHUNK, &size));
  FC_TRY(run_onet(d, O_CHUNK, &size));
  FC_TRY(ensure(d, &d->image, &d->image_bytes, (size_t)3 * img->height * img->width, 1, "picture"));
  FC_TRY(ensure(d, &d->boxes, &d->box_count, R_CHUNK, 4 * sizeof(int32_t), "crop boxes"));
  FC_TRY(ensure(d, &d->act_a, &d->act_a_floats, size.act, sizeof(float), "detector activations"));
  FC_TRY(ensure(d, &d->act_b, &d->act_b_floats, size.act, sizeof(float), "detector activations"));
  FC_TRY(ensure(d, &d->argmax, &d->argmax_count, size.argmax, sizeof(int32_t), "max-pool indices"));
  FC_TRY(ensure(d, &d->work, &d->work_floats, size.work, sizeof(float), "convolution workspace"));
  return ensure_host(
      d, fc_shape4_count(out) > (size_t)R_CHUNK * 16 ? fc_shape4_count(out) : (size_t)R_CHUNK * 16);
}

/* Stage 2 (R-Net, onet 0) or 3 (O-Net, onet 1) on the candidates, in batches: keeps those
 * scoring above thr, with their offsets; O-Net's also get landmarks and their regression. */
static fc_status refine(fc_face_detector *d, const fc_image *img, cand_list *all, int onet,
                        float thr) {
  int chunk = onet ? O_CHUNK : R_CHUNK, side = onet ? 48 : 24, width = onet ? 16 : 6, kept = 0;
  for (int first = 0; first < all->n; first += chunk) {
    int count_in = all->n - first < chunk ? all->n - first : chunk, n;
    FC_TRY(crops(d, all, first, count_in, side, img, &n));
    if (n == 0) continue;
    FC_TRY(onet ? run_onet(d, n, NULL) : run_rnet(d, n, NULL));
    FC_TRY(fc_buffer_read(d->dev, d->act_b, 0, (size_t)n * width * sizeof(float), d->host, 1));
    for (int i = 0; i < n; i++) {
      const float *r = d->host + (size_t)width * i;
      cand c = all->v[first + i];
      c.score = prob1(r[0], r[1]);
      if (!(c.score > thr)) continue;
      memcpy(c.reg, r + 2, sizeof c.reg);
      if (onet) {
        float wi = c.x2 - c.x1 + 1, hi = c.y2 - c.y1 + 1;
        for (int k = 0; k < 5; k++) {
          c.pts[2 * k] = wi * r[6 + k] + c.x1 - 1;
          c.pts[2 * k + 1] = hi * r[11 + k] + c.y1 - 1;
        }
        bbreg(&c);
      }
      all->v[kept++] = c; /* kept ≤ first + i: compacts in place */
    }
  }
  all->n = kept;
  return FC_OK;
}

static int by_area_desc(const void *a, const void *b) {
  const fc_face *x = a, *y = b;
  float ax = (x->box[2] - x->box[0]) * (x->box[3] - x->box[1]);
  float ay = (y->box[2] - y->box[0]) * (y->box[3] - y->box[1]);
  return ax < ay ? 1 : ax > ay ? -1 : 0;
}

static fc_status detect(fc_face_detector *d, const fc_image *img, const fc_face_options *o,
                        cand_list *all, fc_face **faces, int *count) {
  int h = img->height, w = img->width, side = h > w ? h : w;
  /* The pyramid: scales m·factor^k while the shorter side stays ≥ 12 (facenet-pytorch's loop). */
  double scales[64];
  int n_scales = 0;
  double m = 12.0 / o->min_face, minl = (h < w ? h : w) * m, s = m;
  while (minl >= 12 && n_scales < 64) {
    if (o->max_pyramid_side <= 0 || side * s + 1 <= o->max_pyramid_side) scales[n_scales++] = s;
    s *= o->factor;
    minl *= o->factor;
  }
  if (n_scales == 0) return FC_OK;
  FC_TRY(prepare(d, img, (int)(h * scales[0] + 1), (int)(w * scales[0] + 1)));
  FC_TRY(fc_buffer_write(d->dev, d->image, 0, (size_t)3 * h * w, img->data, 0));
  int32_t whole[4] = {0, 0, w, h};
  FC_TRY(fc_buffer_write(d->dev, d->boxes, 0, sizeof whole, whole, 1));

  /* Stage 1: P-Net per level, per-level NMS 0.5, then NMS 0.7 over all. */
  cand_list level = {0};
  fc_status st = FC_OK;
  for (int li = 0; li < n_scales && st == FC_OK; li++) {
    double scale = scales[li];
    int hs = (int)(h * scale + 1), ws = (int)(w * scale + 1);
    fc_shape4 out;
    st = fc_crop_resize(d->dev, FC_RESIZE_AREA, fc_view_of(d->image, 0), 3, h, w,
                        fc_view_of(d->boxes, 0), 1, hs, ws, 0.0078125f, -127.5f * 0.0078125f,
                        fc_view_of(d->act_a, 0));
    if (st == FC_OK) st = run_pnet(d, hs, ws, &out, NULL);
    size_t plane = (size_t)out.h * out.w;
    if (st == FC_OK)
      st = fc_buffer_read(d->dev, d->act_b, 0, 6 * plane * sizeof(float), d->host, 1);
    level.n = 0;
    float fscale = (float)scale;
    for (int y = 0; y < out.h && st == FC_OK; y++)
      for (int x = 0; x < out.w && st == FC_OK; x++) {
        size_t p = (size_t)y * out.w + x;
        float prob = prob1(d->host[p], d->host[plane + p]);
        if (!(prob >= o->thresholds[0])) continue;
        cand c = {0};
        c.x1 = floorf((2.0f * (float)x + 1.0f) / fscale);
        c.y1 = floorf((2.0f * (float)y + 1.0f) / fscale);
        c.x2 = floorf((2.0f * (float)x + 12.0f) / fscale);
        c.y2 = floorf((2.0f * (float)y + 12.0f) / fscale);
        c.score = prob;
        for (int k = 0; k < 4; k++) c.reg[k] = d->host[(2 + k) * plane + p];
        st = push(&level, &c);
      }
    if (st != FC_OK) break;
    st = nms(&level, 0.5f, 0);
    if (st != FC_OK) break;
    for (int i = 0; i < level.n && st == FC_OK; i++) st = push(all, &level.v[i]);
  }
  free(level.v);
  FC_TRY(st);
  FC_TRY(nms(all, 0.7f, 0));
  for (int i = 0; i < all->n; i++) {
    cand *c = &all->v[i];
    float regw = c->x2 - c->x1, regh = c->y2 - c->y1;
    float q1 = c->x1 + c->reg[0] * regw, q2 = c->y1 + c->reg[1] * regh;
    float q3 = c->x2 + c->reg[2] * regw, q4 = c->y2 + c->reg[3] * regh;
    c->x1 = q1, c->y1 = q2, c->x2 = q3, c->y2 = q4;
    rerec(c);
  }

  /* Stage 2: R-Net on 24×24 crops, score > threshold, NMS 0.7, regression, square. */
  FC_TRY(refine(d, img, all, 0, o->thresholds[1]));
  FC_TRY(nms(all, 0.7f, 0));
  for (int i = 0; i < all->n; i++) bbreg(&all->v[i]), rerec(&all->v[i]);

  /* Stage 3: O-Net on 48×48 crops: score, landmarks, regression, NMS "Min" 0.7. */
  FC_TRY(refine(d, img, all, 1, o->thresholds[2]));
  FC_TRY(nms(all, 0.7f, 1));
  if (all->n == 0) return FC_OK;
  *faces = malloc((size_t)all->n * sizeof **faces);
  if (!*faces) return fc_errorf(FC_ERR_NOMEM, "out of memory");
  for (int i = 0; i < all->n; i++) {
    const cand *c = &all->v[i];
    fc_face *f = &(*faces)[i];
    f->box[0] = c->x1, f->box[1] = c->y1, f->box[2] = c->x2, f->box[3] = c->y2;
    f->score = c->score;
    memcpy(f->landmarks, c->pts, sizeof f->landmarks);
  }
  *count = all->n;
  qsort(*faces, (size_t)*count, sizeof **faces, by_area_desc);
  return FC_OK;
}

fc_status fc_face_detect(fc_face_detector *d, const fc_image *img, const fc_face_options *options,
                         fc_face **faces, int *count) {
  *faces = NULL;
  *count = 0;
  fc_face_options defaults;
  if (!options) fc_face_options_default(&defaults), options = &defaults;
  if (!img || !img->data || img->channels != 3 || img->height < 1 || img->width < 1)
    return fc_errorf(FC_ERR_INVALID_ARG, "face detection needs an RGB picture");
  if (options->min_face < 12 || !(options->factor > 0.1f && options->factor < 0.95f))
    return fc_errorf(FC_ERR_INVALID_ARG,
                     "face detection: min face %d (≥ 12) or factor %g (0.1..0.95) out of range",
                     options->min_face, (double)options->factor);
  cand_list all = {0};
  fc_status st = detect(d, img, options, &all, faces, count);
  free(all.v);
  if (st != FC_OK) {
    free(*faces);
    *faces = NULL;
    *count = 0;
  }
  return st;
}
