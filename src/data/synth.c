/* Procedurally drawn faces for the 7 basic expressions: the built-in dataset
 * of `fer-cl train` without --data, and a test fixture of any size.
 *
 * Each expression sets the mouth's curve, openness and width, the eyes'
 * openness and the eyebrows' height and slant. The expression's strength,
 * the face's proportions, pose, scale, lighting, contrast, noise and an
 * occasional occluder vary per image, so a model has to learn the cues
 * rather than memorise a template. The cues are drawn large enough to
 * survive a 48x48 image and a 4x-downsampling stem (a happy mouth's corners
 * rise ~4 pixels, brows tilt ~4 pixels): with 1-2 pixel cues the default
 * run learned to 0.28 (issue 19 item 12); the strength (0.6-1.2) never
 * fades an expression into neutral. */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/internal.h"

const char *const fc_synth_class_names[7] = {"angry",   "disgust", "fear",    "happy",
                                             "neutral", "sad",     "surprise"};

#define SYNTH_STREAM 0x53594e5448ULL /* "SYNTH" */

/* Per-class targets; deviations from neutral are scaled by a random strength. */
typedef struct expression {
  float smile;      /* mouth curve: + corners up */
  float open;       /* mouth opening, relative to its width */
  float width;      /* mouth width factor */
  float eye_open;   /* eye height / width */
  float brow_raise; /* + up */
  float brow_tilt;  /* + inner ends up */
  float sneer;      /* one corner of the upper lip raised */
} expression;

static const expression expressions[7] = {
    /* angry    */ {-0.25f, 0.06f, 0.85f, 0.50f, -0.14f, -0.22f, 0.00f},
    /* disgust  */ {-0.35f, 0.12f, 0.90f, 0.32f, -0.08f, -0.06f, 0.75f},
    /* fear     */ {-0.20f, 0.45f, 1.15f, 1.05f, 0.14f, 0.14f, 0.00f},
    /* happy    */ {0.80f, 0.30f, 1.20f, 0.45f, 0.03f, 0.00f, 0.00f},
    /* neutral  */ {0.00f, 0.02f, 1.00f, 0.70f, 0.00f, 0.00f, 0.00f},
    /* sad      */ {-0.70f, 0.04f, 0.92f, 0.55f, 0.02f, 0.22f, 0.00f},
    /* surprise */ {0.00f, 1.00f, 0.70f, 1.10f, 0.22f, 0.02f, 0.00f},
};

void fc_synth_config_default(fc_synth_config *config) {
  memset(config, 0, sizeof *config);
  config->train_count = 7000;
  config->val_count = 1400;
  config->height = 48;
  config->width = 48;
  config->channels = 1;
  config->seed = 1;
}

static float uni(uint64_t *rng, float lo, float hi) {
  return lo + (hi - lo) * (float)fc_rng_uniform(rng);
}

static float gauss(uint64_t *rng) {
  double u1 = fc_rng_uniform(rng), u2 = fc_rng_uniform(rng);
  if (u1 < 1e-300) u1 = 1e-300;
  return (float)(sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2));
}

static inline float clampf(float v, float lo, float hi) { return v < lo ? lo : v > hi ? hi : v; }

/* Coverage of a shape whose signed distance (face units, < 0 inside) is d,
 * for pixels px face units wide: a one-pixel soft edge. */
static inline float cover(float d, float px) { return clampf(0.5f - d / px, 0.0f, 1.0f); }

static inline void paint(float *rgb, const float *color, float a) {
  for (int c = 0; c < 3; c++) rgb[c] += a * (color[c] - rgb[c]);
}

/* Distance from p to the segment a-b. */
static float segment_distance(float px, float py, float ax, float ay, float bx, float by) {
  float vx = bx - ax, vy = by - ay, wx = px - ax, wy = py - ay;
  float t = clampf((wx * vx + wy * vy) / (vx * vx + vy * vy + 1e-12f), 0.0f, 1.0f);
  float dx = wx - t * vx, dy = wy - t * vy;
  return sqrtf(dx * dx + dy * dy);
}

/* Approximate signed distance to an axis-aligned ellipse. */
static float ellipse_distance(float x, float y, float rx, float ry) {
  float k = sqrtf((x / rx) * (x / rx) + (y / ry) * (y / ry));
  return (k - 1.0f) * (rx < ry ? rx : ry);
}

typedef struct face {
  /* geometry (face units: the face's half-height is 1, centre at 0) */
  float face_rx, eye_y, eye_dx, eye_w, eye_open, gaze;
  float brow_gap, brow_raise, brow_tilt, brow_thick;
  float mouth_y, mouth_w, smile, open, sneer, sneer_side, lip;
  int hair;
  float hair_line;
  /* colours */
  float skin[3], bg[3], bg2[3], hair_color[3], feature[3], lip_color[3], sclera[3];
  /* pose: pixel -> face units */
  float cx, cy, scale, cos_r, sin_r;
  /* occluder */
  int occluder;
  float occ_x, occ_y, occ_w, occ_h, occ_color[3];
  /* photometry */
  float light_x, light_y, light, contrast, brightness, noise;
} face;

static void random_color(uint64_t *rng, int channels, float lo, float hi, float *out) {
  if (channels == 1) {
    out[0] = out[1] = out[2] = uni(rng, lo, hi);
    return;
  }
  for (int c = 0; c < 3; c++) out[c] = uni(rng, lo, hi);
}

static void make_face(const fc_synth_config *cfg, int64_t index, int label, face *f) {
  uint64_t rng = fc_rng_key(cfg->seed, SYNTH_STREAM, (uint64_t)index, 0);
  const expression *e = &expressions[label], *n = &expressions[4];
  const float strength = uni(&rng, 0.6f, 1.2f);
#define EXPR(field, sigma) (n->field + strength * (e->field - n->field) + (sigma)*gauss(&rng))
  f->smile = EXPR(smile, 0.10f);
  f->open = fmaxf(0.0f, EXPR(open, 0.08f));
  const float width = EXPR(width, 0.07f);
  f->eye_open = clampf(EXPR(eye_open, 0.12f), 0.15f, 1.3f);
  f->brow_raise = EXPR(brow_raise, 0.02f);
  f->brow_tilt = EXPR(brow_tilt, 0.025f);
  f->sneer = fmaxf(0.0f, EXPR(sneer, 0.08f));
#undef EXPR
  f->sneer_side = (fc_rng_next(&rng) >> 63) ? 1.0f : -1.0f;
  /* identity */
  f->face_rx = uni(&rng, 0.66f, 0.82f);
  f->eye_y = uni(&rng, -0.30f, -0.16f);
  f->eye_dx = uni(&rng, 0.27f, 0.36f);
  f->eye_w = uni(&rng, 0.14f, 0.18f);
  f->gaze = uni(&rng, -0.3f, 0.3f);
  f->brow_gap = uni(&rng, 0.15f, 0.21f);
  f->brow_thick = uni(&rng, 0.05f, 0.07f);
  f->mouth_y = uni(&rng, 0.38f, 0.52f);
  f->mouth_w = width * uni(&rng, 0.32f, 0.40f);
  f->lip = uni(&rng, 0.025f, 0.045f);
  f->hair = fc_rng_uniform(&rng) < 0.6;
  f->hair_line = uni(&rng, -0.95f, -0.75f);
  /* colours: skin tones for RGB, any grey for gray */
  const int C = cfg->channels;
  float tone = uni(&rng, 0.0f, 1.0f);
  if (C == 3) {
    const float light[3] = {0.96f, 0.80f, 0.69f}, dark[3] = {0.42f, 0.28f, 0.20f};
    for (int c = 0; c < 3; c++)
      f->skin[c] = light[c] + tone * (dark[c] - light[c]) + 0.03f * gauss(&rng);
  } else {
    f->skin[0] = f->skin[1] = f->skin[2] = 0.85f - 0.45f * tone;
  }
  random_color(&rng, C, 0.0f, 1.0f, f->bg);
  random_color(&rng, C, 0.0f, 1.0f, f->bg2);
  random_color(&rng, C, 0.02f, 0.35f, f->hair_color);
  for (int c = 0; c < 3; c++) {
    f->feature[c] = f->skin[c] * uni(&rng, 0.15f, 0.35f);
    f->sclera[c] = fminf(1.0f, f->skin[c] * 1.1f + 0.1f);
  }
  if (C == 3) {
    f->lip_color[0] = f->skin[0] * 0.85f;
    f->lip_color[1] = f->skin[1] * 0.55f;
    f->lip_color[2] = f->skin[2] * 0.55f;
  } else {
    for (int c = 0; c < 3; c++) f->lip_color[c] = f->skin[c] * 0.6f;
  }
  /* pose */
  const float side = (float)(cfg->height < cfg->width ? cfg->height : cfg->width);
  const float rot = uni(&rng, -15.0f, 15.0f) * (float)M_PI / 180.0f;
  f->cos_r = cosf(rot);
  f->sin_r = sinf(rot);
  f->scale = 0.42f * side * uni(&rng, 0.85f, 1.1f); /* pixels per face unit */
  f->cx = 0.5f * (float)cfg->width + uni(&rng, -0.08f, 0.08f) * side;
  f->cy = 0.5f * (float)cfg->height + uni(&rng, -0.08f, 0.08f) * side;
  /* occluder: a hand, a microphone, a strand of hair... a flat patch */
  f->occluder = fc_rng_uniform(&rng) < 0.1;
  f->occ_x = uni(&rng, -0.8f, 0.8f);
  f->occ_y = uni(&rng, -0.8f, 0.9f);
  f->occ_w = uni(&rng, 0.12f, 0.3f);
  f->occ_h = uni(&rng, 0.12f, 0.3f);
  random_color(&rng, C, 0.0f, 1.0f, f->occ_color);
  /* photometry */
  float a = uni(&rng, 0.0f, 2.0f * (float)M_PI);
  f->light_x = cosf(a);
  f->light_y = sinf(a);
  f->light = uni(&rng, 0.0f, 0.35f);
  f->contrast = uni(&rng, 0.6f, 1.2f);
  f->brightness = uni(&rng, -0.1f, 0.1f);
  f->noise = uni(&rng, 0.01f, 0.05f);
}

/* The colour at face coordinates (u, v); px is one pixel in face units. */
static void shade(const face *f, float u, float v, float px, float *rgb) {
  /* background: a two-colour gradient */
  float t = clampf(0.5f + 0.35f * v, 0.0f, 1.0f);
  for (int c = 0; c < 3; c++) rgb[c] = f->bg[c] + t * (f->bg2[c] - f->bg[c]);
  /* head */
  float d_face = ellipse_distance(u, v, f->face_rx, 1.0f);
  float a_face = cover(d_face, px);
  if (a_face > 0) {
    float r2 = (u / f->face_rx) * (u / f->face_rx) + v * v;
    float skin[3];
    for (int c = 0; c < 3; c++) skin[c] = f->skin[c] * (1.0f - 0.18f * r2);
    paint(rgb, skin, a_face);
  }
  if (f->hair) {
    float d_hair = fmaxf(ellipse_distance(u, v, f->face_rx * 1.08f, 1.08f),
                         v - (f->hair_line + 0.12f * u * u));
    paint(rgb, f->hair_color, cover(d_hair, px));
  }
  if (a_face <= 0) return;
  /* nose: a soft shadow */
  float d_nose = ellipse_distance(u, v - 0.12f, 0.07f, 0.035f);
  float nose[3];
  for (int c = 0; c < 3; c++) nose[c] = f->skin[c] * 0.7f;
  paint(rgb, nose, 0.6f * cover(d_nose, 2.0f * px));
  for (int s = -1; s <= 1; s += 2) {
    /* eye: dark rim, sclera, iris */
    float ex = s * f->eye_dx, ey = f->eye_y;
    float eh = f->eye_w * f->eye_open * 0.6f;
    float d_eye = ellipse_distance(u - ex, v - ey, f->eye_w, eh);
    paint(rgb, f->feature, cover(d_eye - 0.02f, px));
    paint(rgb, f->sclera, cover(d_eye + 0.01f, px));
    float ir = fminf(eh, f->eye_w * 0.5f);
    float d_iris =
        sqrtf((u - ex - f->gaze * f->eye_w * 0.4f) * (u - ex - f->gaze * f->eye_w * 0.4f) +
              (v - ey) * (v - ey)) -
        ir;
    paint(rgb, f->feature, cover(fmaxf(d_iris, d_eye), px));
    /* eyebrow: inner end nearer the nose */
    float by = ey - f->brow_gap - f->brow_raise;
    float ix = s * (f->eye_dx - f->eye_w * 0.9f), ox = s * (f->eye_dx + f->eye_w * 1.1f);
    float iy = by - f->brow_tilt, oy = by + 0.4f * f->brow_tilt;
    float d_brow = segment_distance(u, v, ix, iy, ox, oy) - f->brow_thick * 0.5f;
    paint(rgb, f->feature, cover(d_brow, px));
  }
  /* mouth: a curved centre line, an elliptic opening, lips around it */
  float mw = f->mouth_w;
  float tx = u / mw;
  if (fabsf(tx) < 1.2f) {
    float tc = clampf(tx, -1.0f, 1.0f);
    float yc = f->mouth_y - f->smile * 0.24f * (tc * tc - 0.4f);
    float raise = f->sneer * 0.14f * clampf(f->sneer_side * tc, 0.0f, 1.0f);
    float half = f->open * mw * 0.5f * sqrtf(fmaxf(0.0f, 1.0f - tc * tc));
    float top = yc - half - raise, bottom = yc + half;
    float d_end = (fabsf(u) - mw);
    float d_lips = fmaxf(fmaxf(top - f->lip - v, v - bottom - f->lip), d_end);
    paint(rgb, f->lip_color, cover(d_lips, px));
    if (half > 0.004f) {
      float d_in = fmaxf(fmaxf(top - v, v - bottom), d_end + f->lip);
      const float cavity[3] = {0.08f, 0.04f, 0.04f};
      paint(rgb, cavity, cover(d_in, px));
    }
  }
}

fc_status fc_synth_render(const fc_synth_config *cfg, int64_t index, int label, fc_image *out) {
  memset(out, 0, sizeof *out);
  if (label < 0 || label > 6)
    return fc_errorf(FC_ERR_INVALID_ARG, "synthetic faces: label %d is outside 0..6", label);
  if (cfg->channels != 1 && cfg->channels != 3)
    return fc_errorf(FC_ERR_INVALID_ARG, "synthetic faces: %d channels; use 1 or 3", cfg->channels);
  if (cfg->height < 8 || cfg->width < 8 || cfg->height > 1024 || cfg->width > 1024)
    return fc_errorf(FC_ERR_INVALID_ARG, "synthetic faces: size %dx%d is out of range (8..1024)",
                     cfg->width, cfg->height);
  FC_TRY(fc_image_alloc(out, cfg->channels, cfg->height, cfg->width));
  face f;
  make_face(cfg, index, label, &f);
  uint64_t noise_rng = fc_rng_key(cfg->seed, SYNTH_STREAM, (uint64_t)index, 1);
  const int H = cfg->height, W = cfg->width, C = cfg->channels;
  const float px = 1.0f / f.scale;
  const size_t plane = (size_t)H * (size_t)W;
  const float side = (float)(H < W ? H : W);
  for (int y = 0; y < H; y++) {
    for (int x = 0; x < W; x++) {
      float dx = ((float)x + 0.5f - f.cx) * px, dy = ((float)y + 0.5f - f.cy) * px;
      float u = f.cos_r * dx + f.sin_r * dy, v = -f.sin_r * dx + f.cos_r * dy;
      float rgb[3];
      shade(&f, u, v, px, rgb);
      if (f.occluder) {
        float d = fmaxf(fabsf(u - f.occ_x) - f.occ_w, fabsf(v - f.occ_y) - f.occ_h);
        paint(rgb, f.occ_color, cover(d, px));
      }
      float lx = ((float)x + 0.5f - 0.5f * (float)W) / side,
            ly = ((float)y + 0.5f - 0.5f * (float)H) / side;
      float gain = 1.0f + f.light * 2.0f * (lx * f.light_x + ly * f.light_y);
      float n = f.noise * gauss(&noise_rng);
      if (C == 1) {
        float g = 0.299f * rgb[0] + 0.587f * rgb[1] + 0.114f * rgb[2];
        rgb[0] = g;
      }
      for (int c = 0; c < C; c++) {
        float val = (rgb[c] * gain - 0.5f) * f.contrast + 0.5f + f.brightness + n;
        out->data[(size_t)c * plane + (size_t)y * W + x] =
            (uint8_t)(clampf(val, 0.0f, 1.0f) * 255.0f + 0.5f);
      }
    }
  }
  return FC_OK;
}

typedef struct synth_job {
  const fc_synth_config *cfg;
  fc_dataset *ds;
  const int64_t *image_number; /* [count] global number of each dataset slot */
  atomic_llong next;
  atomic_int failed;
} synth_job;

static void *synth_worker(void *arg) {
  synth_job *job = arg;
  const size_t bytes = fc_dataset_image_bytes(job->ds);
  for (;;) {
    int64_t i = atomic_fetch_add(&job->next, 1);
    if (i >= job->ds->count || atomic_load(&job->failed)) break;
    fc_image im;
    if (fc_synth_render(job->cfg, job->image_number[i], job->ds->labels[i], &im) != FC_OK) {
      atomic_store(&job->failed, 1);
      break;
    }
    memcpy(job->ds->pixels + (size_t)i * bytes, im.data, bytes);
    fc_image_free(&im);
  }
  return NULL;
}

fc_status fc_synth_generate(const fc_synth_config *cfg, fc_dataset **out) {
  *out = NULL;
  fc_synth_config defaults;
  if (!cfg) {
    fc_synth_config_default(&defaults);
    cfg = &defaults;
  }
  if (cfg->train_count < 7 || cfg->val_count < 0 || cfg->train_count + cfg->val_count > 10000000)
    return fc_errorf(FC_ERR_INVALID_ARG,
                     "synthetic faces: %lld train / %lld val images; need at least 7 train and "
                     "at most 10 million in all",
                     (long long)cfg->train_count, (long long)cfg->val_count);
  fc_image probe;
  FC_TRY(fc_synth_render(cfg, 0, 0, &probe)); /* validates the geometry */
  fc_image_free(&probe);
  const int64_t total = cfg->train_count + cfg->val_count;
  fc_dataset *ds = calloc(1, sizeof *ds);
  if (!ds) return fc_errorf(FC_ERR_NOMEM, "out of memory");
  ds->root = fc_strprintf("synth:seed=%llu", (unsigned long long)cfg->seed);
  ds->format = FC_DATA_SYNTH;
  ds->channels = cfg->channels;
  ds->height = cfg->height;
  ds->width = cfg->width;
  ds->class_count = 7;
  ds->class_names = calloc(7, sizeof(char *));
  const size_t bytes = fc_dataset_image_bytes(ds);
  ds->pixels = malloc((size_t)total * bytes);
  ds->labels = malloc((size_t)total * sizeof(int32_t));
  ds->splits = malloc((size_t)total);
  ds->sources = calloc((size_t)total, sizeof(char *));
  ds->file_width = malloc((size_t)total * sizeof(int32_t));
  ds->file_height = malloc((size_t)total * sizeof(int32_t));
  ds->file_channels = malloc((size_t)total);
  int64_t *number = malloc((size_t)total * sizeof(int64_t));
  fc_status st = FC_OK;
  if (!ds->root || !ds->class_names || !ds->pixels || !ds->labels || !ds->splits || !ds->sources ||
      !ds->file_width || !ds->file_height || !ds->file_channels || !number) {
    st = fc_errorf(FC_ERR_NOMEM, "out of memory for %lld synthetic faces", (long long)total);
    goto done;
  }
  for (int c = 0; c < 7 && st == FC_OK; c++)
    if (!(ds->class_names[c] = fc_strdup(fc_synth_class_names[c])))
      st = fc_errorf(FC_ERR_NOMEM, "out of memory");
  /* Image number k has class k % 7; the set is ordered split, class, number,
   * which is the order the folder loader reads the written PNGs back in. */
  for (int split = 0; split < 2 && st == FC_OK; split++) {
    int64_t first = split ? cfg->train_count : 0, end = split ? total : cfg->train_count;
    for (int c = 0; c < 7 && st == FC_OK; c++) {
      for (int64_t k = first + ((c - first % 7) + 7) % 7; k < end; k += 7) {
        int64_t i = ds->count;
        number[i] = k;
        ds->labels[i] = c;
        ds->splits[i] = (uint8_t)(split ? FC_SPLIT_VAL : FC_SPLIT_TRAIN);
        ds->file_width[i] = cfg->width;
        ds->file_height[i] = cfg->height;
        ds->file_channels[i] = (uint8_t)cfg->channels;
        ds->sources[i] = fc_strprintf("%s/%s/%06lld.png", split ? "val" : "train",
                                      fc_synth_class_names[c], (long long)k);
        ds->count++;
        if (!ds->sources[i]) {
          st = fc_errorf(FC_ERR_NOMEM, "out of memory");
          break;
        }
      }
    }
  }
  if (st == FC_OK && ds->count != total)
    st = fc_errorf(FC_ERR_INTERNAL, "synthetic faces: %lld of %lld images laid out",
                   (long long)ds->count, (long long)total);
  if (st == FC_OK) {
    synth_job job = {.cfg = cfg, .ds = ds, .image_number = number};
    atomic_init(&job.next, 0);
    atomic_init(&job.failed, 0);
    int threads = cfg->threads > 0 ? cfg->threads : fc_cpu_count();
    if (threads > 64) threads = 64;
    pthread_t tids[64];
    int started = 0;
    for (int t = 1; t < threads; t++)
      if (pthread_create(&tids[started], NULL, synth_worker, &job) == 0) started++;
    synth_worker(&job);
    for (int t = 0; t < started; t++) pthread_join(tids[t], NULL);
    if (atomic_load(&job.failed))
      st = fc_errorf(FC_ERR_NOMEM, "out of memory drawing synthetic faces");
  }
done:
  free(number);
  if (st != FC_OK) {
    fc_dataset_free(ds);
    return st;
  }
  *out = ds;
  return FC_OK;
}
