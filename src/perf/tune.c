/* The measurements of `fer-cl tune` (include/fercl/perf.h): GEMM and kernel
 * parameters on this device, the winners stored in the user's cache folder
 * (src/device/tuning.h), where every later device open finds them.
 *
 * What is timed is what training runs: every convolution of the model
 * (forward, backward-data, backward-weights; unique shapes weighted by how
 * often they occur, perf_internal.h) at a small batch, so the GEMM shapes, the
 * column-matrix kernels and the packing are all in the score. Stages, each
 * starting from the best so far:
 *   1. fer-cl's GEMM tile rows (mr), 2. its k block (kc), 3. its work-group,
 *   3b. its A block per work-item group, 3c. the implicit-GEMM convolution
 *   kernels on or off;
 *   4. CLBlast's Xgemm parameters (a fixed list of valid sets, at 1024³);
 *   5. the engine: fer-cl's GEMM or CLBlast (tuned) on the convolutions;
 *   6. the work-group size of the element-wise kernels.
 * Every measurement is appended to <tuning file>.partial (rewritten atomically)
 * so an interrupted run resumes where it stopped; cfg->restart forgets it. */
#include <clblast_c.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "device/runtime.h"
#include "device/tuning.h"
#include "fercl/fileio.h"
#include "fercl/log.h"
#include "fercl/net.h"
#include "fercl/ops.h"
#include "fercl/perf.h"
#include "perf/perf_internal.h"

/* ---- measurements, saved as they come ---- */

#define MAX_DONE 512
typedef struct done_entry {
  char key[96];
  double ms;
} done_entry;

typedef struct tune {
  const fc_tune_config *cfg;
  done_entry done[MAX_DONE];
  int n_done;
  char partial_path[1100];
  int step_no, step_total;
} tune;

/* Progress text through the caller's callback. */
static void say(tune *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(tune *t, const char *fmt, ...) {
  if (!t->cfg->progress) return;
  char text[2400]; /* the longest: device name, driver and the tuning file path */
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  t->cfg->progress(t->cfg->user, text);
}

static void load_partial(tune *t) {
  char *text = NULL;
  size_t size = 0;
  if (fc_file_read_all(t->partial_path, 1u << 20, &text, &size) != FC_OK) return;
  char *save = NULL;
  for (char *line = strtok_r(text, "\n", &save); line && t->n_done < MAX_DONE;
       line = strtok_r(NULL, "\n", &save)) {
    char key[96];
    double ms = 0;
    if (line[0] == '#' || sscanf(line, "%95s %lf", key, &ms) != 2 || !(ms > 0)) continue;
    snprintf(t->done[t->n_done].key, sizeof t->done[t->n_done].key, "%s", key);
    t->done[t->n_done++].ms = ms;
  }
  free(text);
}

static fc_status save_partial(tune *t) {
  size_t cap = 64 + (size_t)t->n_done * 128;
  char *text = malloc(cap);
  if (!text) return fc_errorf(FC_ERR_NOMEM, "out of memory");
  size_t n =
      (size_t)snprintf(text, cap, "# fer-cl tune progress (key, ms); deleted when t->done\n");
  for (int i = 0; i < t->n_done && n < cap; i++)
    n += (size_t)snprintf(text + n, cap - n, "%s %.4f\n", t->done[i].key, t->done[i].ms);
  fc_status st = fc_file_write_atomic(t->partial_path, text, n < cap ? n : cap - 1);
  free(text);
  return st;
}

static const done_entry *find_done(tune *t, const char *key) {
  for (int i = 0; i < t->n_done; i++)
    if (strcmp(t->done[i].key, key) == 0) return &t->done[i];
  return NULL;
}

typedef fc_status (*workload_fn)(fc_device *dev, void *ctx);

/* Time of `fn` (min of reps after a warm-up that builds kernels), or the saved
 * value. A failing candidate (e.g. parameters a driver rejects) scores +inf. */
static double measure(tune *t, fc_device *dev, const char *key, const char *label, workload_fn fn,
                      void *ctx, int reps) {
  t->step_no++;
  const done_entry *d = find_done(t, key);
  if (d) {
    say(t, "[%2d/%d] %-44s %10.2f ms  (earlier run)\n", t->step_no, t->step_total, label, d->ms);
    return d->ms;
  }
  say(t, "[%2d/%d] %-44s ", t->step_no, t->step_total, label);
  double best = INFINITY;
  fc_status st = fn(dev, ctx);
  if (st == FC_OK) st = fc_device_finish(dev);
  for (int r = 0; r < reps && st == FC_OK; r++) {
    double t0 = fc_perf_now_s();
    st = fn(dev, ctx);
    if (st == FC_OK) st = fc_device_finish(dev);
    double dt = (fc_perf_now_s() - t0) * 1e3;
    if (st == FC_OK && dt < best) best = dt;
  }
  if (st != FC_OK) {
    say(t, "failed: %s\n", fc_last_error());
    best = INFINITY;
  } else {
    say(t, "%10.2f ms\n", best);
  }
  if (t->n_done < MAX_DONE && isfinite(best)) {
    snprintf(t->done[t->n_done].key, sizeof t->done[t->n_done].key, "%s", key);
    t->done[t->n_done++].ms = best;
    if (save_partial(t) != FC_OK)
      fc_log(FC_LOG_WARN, "could not save progress: %s", fc_last_error());
  }
  return best;
}

/* ---- the convolution workload ---- */

typedef struct conv_work {
  fc_perf_conv jobs[FC_PERF_MAX_CONVS];
  int n_jobs;
  fc_perf_conv_buffers buf;
} conv_work;

static fc_status conv_work_run(fc_device *dev, void *p) {
  conv_work *c = p;
  for (int i = 0; i < c->n_jobs; i++) {
    const fc_perf_conv *j = &c->jobs[i];
    for (int r = 0; r < j->count; r++) {
      FC_TRY(fc_perf_conv_pass(dev, &j->d, 0, &c->buf));
      if (j->need_dx) FC_TRY(fc_perf_conv_pass(dev, &j->d, 1, &c->buf));
      FC_TRY(fc_perf_conv_pass(dev, &j->d, 2, &c->buf));
    }
  }
  return FC_OK;
}

static fc_status conv_work_create(fc_device *dev, const fc_tune_config *cfg, conv_work *c) {
  memset(c, 0, sizeof *c);
  FC_TRY(fc_net_config_check(&cfg->model));
  FC_TRY(fc_perf_conv_shapes(&cfg->model, cfg->batch, c->jobs, &c->n_jobs));
  return fc_perf_conv_buffers_alloc(dev, c->jobs, c->n_jobs, "tuning", &c->buf);
}

/* ---- CLBlast Xgemm candidates ---- */

static const char *const xgemm_names[] = {"GEMMK", "KREG",  "KWG",   "KWI", "MDIMA", "MDIMC",
                                          "MWG",   "NDIMB", "NDIMC", "NWG", "SA",    "SB",
                                          "STRM",  "STRN",  "VWM",   "VWN"};
#define XGEMM_N 16
/* MWG, NWG, KWG, MDIMC, NDIMC, VWM, VWN: sets that satisfy Xgemm's constraints
 * (MDIMA = MDIMC, NDIMB = NDIMC, no local memory: CPU-friendly first). */
static const int xgemm_sets[][7] = {
    {128, 128, 32, 8, 16, 8, 8}, {64, 64, 32, 8, 8, 8, 8},     {128, 64, 32, 16, 8, 8, 8},
    {64, 128, 32, 8, 16, 8, 8},  {128, 128, 32, 16, 8, 8, 8},  {128, 128, 16, 8, 8, 8, 8},
    {64, 64, 16, 8, 8, 4, 4},    {128, 128, 32, 16, 16, 8, 8}, {32, 32, 32, 8, 8, 4, 4}};
#define XGEMM_SETS ((int)(sizeof xgemm_sets / sizeof xgemm_sets[0]))

static void xgemm_fill(fc_tuning *t, const int *s) {
  size_t v[XGEMM_N] = {0,
                       1,
                       (size_t)s[2],
                       2,
                       (size_t)s[3],
                       (size_t)s[3],
                       (size_t)s[0],
                       (size_t)s[4],
                       (size_t)s[4],
                       (size_t)s[1],
                       0,
                       0,
                       0,
                       0,
                       (size_t)s[5],
                       (size_t)s[6]};
  t->clblast_count = XGEMM_N;
  for (int i = 0; i < XGEMM_N; i++) {
    snprintf(t->clblast_names[i], sizeof t->clblast_names[i], "%s", xgemm_names[i]);
    t->clblast_values[i] = v[i];
  }
}

typedef struct sgemm_work {
  size_t n;
  cl_mem a, b, c;
} sgemm_work;

static fc_status sgemm_run(fc_device *dev, void *p) {
  sgemm_work *g = p;
  return fc_gemm(dev, 0, 0, g->n, g->n, g->n, 1.0f, fc_view_of(g->a, 0), g->n, fc_view_of(g->b, 0),
                 g->n, 0.0f, fc_view_of(g->c, 0), g->n);
}

/* ---- element-wise workload ---- */

typedef struct ops_work {
  fc_shape4 s;
  cl_mem x, y, dy, small, ws;
  size_t ws_floats;
} ops_work;

static fc_status ops_run(fc_device *dev, void *p) {
  ops_work *o = p;
  fc_view sm = fc_view_of(o->small, 0);
  size_t n = fc_shape4_count(o->s);
  fc_view x = fc_view_of(o->x, 0), y = fc_view_of(o->y, 0), dy = fc_view_of(o->dy, 0);
  fc_view ws = fc_view_of(o->ws, 0);
  FC_TRY(fc_perf_bn_relu(dev, o->s, 0, x, y, dy, dy, sm, ws, o->ws_floats));
  FC_TRY(fc_perf_bn_relu(dev, o->s, 1, x, y, dy, dy, sm, ws, o->ws_floats));
  FC_TRY(fc_relu_backward(dev, y, dy, dy, n));
  return fc_add_forward(dev, x, dy, y, n);
}

/* ---- the command ---- */

static void gemm_key(const fc_tuning *t, char *key, size_t size) {
  snprintf(key, size, "conv:fercl:mr%d:nv%d:v%d:wg%d:kc%d:ab%d:imp%d", t->gemm.mr, t->gemm.nv,
           t->gemm.vec, t->gemm.wg, t->gemm.kc, t->gemm.ablock, t->conv_implicit);
}

static fc_status tune_run(tune *tn, fc_device *dev, fc_tune_result *result) {
  const fc_tune_config *cfg = tn->cfg;
  const int quick = cfg->quick, no_clblast = cfg->no_clblast;
  char *path = result->path;
  fc_tuning_path(dev, path, sizeof result->path);
  if (!path[0])
    return fc_errorf(FC_ERR_IO,
                     "no cache folder to store tuning results: set HOME, "
                     "XDG_CACHE_HOME or FERCL_CACHE_DIR");
  snprintf(tn->partial_path, sizeof tn->partial_path, "%s.partial", path);
  {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0';
    FC_TRY(fc_mkdir_p(dir));
  }
  tn->n_done = 0;
  if (cfg->restart)
    unlink(tn->partial_path);
  else
    load_partial(tn);
  const fc_device_info *info = fc_device_get_info(dev);
  say(tn, "tuning %s (%s)\nresults: %s\n", info->name, info->driver_version, path);
  if (tn->n_done > 0)
    say(tn, "resuming: %d measurements from an interrupted run (--restart to redo them)\n",
        tn->n_done);
  fc_status st = FC_OK;

  /* Start from the defaults (not a previous tuning file: it is being redone). */
  fc_tuning base;
  fc_tuning_defaults(dev, &base);
  base.ops_wg = 0;
  /* Tile rows × row vector: float8 rows (16 registers, AVX2), float16 rows where
   * the device's native vectors are 512-bit (32 registers). */
  static const int mrs[][2] = {{6, 8}, {4, 8}, {5, 8}, {16, 16}, {12, 16}, {8, 16}};
  const int n_mrs = dev->info.native_float_width >= 16 ? 6 : 3;
  static const int kcs_full[] = {128, 256, 512, 1024, 0};
  static const int kcs_quick[] = {128, 256, 512};
  static const int wgs[] = {1, 2, 4};
  static const int ops_wgs[] = {64, 128, 256};
  const int *kcs = quick ? kcs_quick : kcs_full;
  int n_kc = quick ? 3 : 5, n_wg = quick ? 1 : 3,
      n_sets = no_clblast ? 0 : (quick ? 4 : XGEMM_SETS);
  int reps = quick ? 2 : 3;
  tn->step_no = 0;
  tn->step_total =
      n_mrs + (n_kc - 1) + (n_wg - 1) + (quick ? 0 : 2) + 1 + (no_clblast ? 0 : n_sets + 3) + 3;

  conv_work cw;
  st = conv_work_create(dev, cfg, &cw);
  fc_tuning best = base;
  double best_ms = INFINITY;
  char key[96], label[128];
  /* 1-3: fer-cl's GEMM on the convolutions; 4: its A blocks; 5: without the
   * implicit-GEMM kernels. */
  static const int ablocks[] = {8192, 0, 32768};
  for (int stage = 0; stage < 5 && st == FC_OK; stage++) {
    int n = stage == 0   ? n_mrs
            : stage == 1 ? n_kc
            : stage == 2 ? n_wg
            : stage == 3 ? (quick ? 1 : 3)
                         : 2;
    fc_tuning start = best;
    for (int i = 0; i < n; i++) {
      fc_tuning t = start;
      t.gemm.engine = FC_GEMM_ENGINE_FERCL;
      if (stage == 0) t.gemm.mr = mrs[i][0], t.gemm.vec = mrs[i][1];
      if (stage == 1) t.gemm.kc = kcs[i];
      if (stage == 2) t.gemm.wg = wgs[i];
      if (stage == 3) t.gemm.ablock = ablocks[i];
      if (stage == 4) t.conv_implicit = i == 0 ? 0 : 1;
      if (stage > 0 && memcmp(&t.gemm, &start.gemm, sizeof t.gemm) == 0 &&
          t.conv_implicit == start.conv_implicit)
        continue; /* measured */
      gemm_key(&t, key, sizeof key);
      char desc[64];
      fc_gemm_params_describe(&t.gemm, desc, sizeof desc);
      snprintf(label, sizeof label, "convolutions, %s%s", desc,
               t.conv_implicit ? "" : ", no implicit GEMM");
      st = fc_tuning_apply(dev, &t);
      if (st != FC_OK) break;
      double ms = measure(tn, dev, key, label, conv_work_run, &cw, reps);
      if (ms < best_ms) {
        best_ms = ms;
        best = t;
      }
    }
  }
  double fercl_ms = best_ms;

  /* 4-5: CLBlast's Xgemm parameters at 1024³, then CLBlast on the convolutions. */
  if (st == FC_OK && n_sets > 0) {
    sgemm_work g = {1024, NULL, NULL, NULL};
    size_t bytes = g.n * g.n * 4;
    st = fc_buffer_alloc(dev, bytes, "tuning A", &g.a);
    if (st == FC_OK) st = fc_buffer_alloc(dev, bytes, "tuning B", &g.b);
    if (st == FC_OK) st = fc_buffer_alloc(dev, bytes, "tuning C", &g.c);
    if (st == FC_OK) st = fc_buffer_fill_zero(dev, g.a, 0, bytes);
    if (st == FC_OK) st = fc_buffer_fill_zero(dev, g.b, 0, bytes);
    fc_tuning cl_best = base;
    double cl_ms = INFINITY;
    /* fer-cl's best at 1024³, the yardstick for CLBlast. */
    double ours_1024 = INFINITY;
    if (st == FC_OK) st = fc_tuning_apply(dev, &best);
    if (st == FC_OK) {
      char desc[64];
      fc_gemm_params_describe(&best.gemm, desc, sizeof desc);
      snprintf(key, sizeof key, "sgemm1024:fercl:mr%d:nv%d:v%d:wg%d:kc%d:ab%d", best.gemm.mr,
               best.gemm.nv, best.gemm.vec, best.gemm.wg, best.gemm.kc, best.gemm.ablock);
      snprintf(label, sizeof label, "SGEMM 1024^3, %s", desc);
      ours_1024 = measure(tn, dev, key, label, sgemm_run, &g, reps);
    }
    /* CLBlast as shipped first: overrides cannot be taken back in this process. */
    fc_tuning t = base;
    t.gemm.engine = FC_GEMM_ENGINE_CLBLAST;
    t.clblast_count = 0;
    if (st == FC_OK) st = fc_tuning_apply(dev, &t);
    if (st == FC_OK && !dev->tuning.clblast_applied) {
      double ms = measure(tn, dev, "sgemm1024:clblast:default", "SGEMM 1024^3, CLBlast as shipped",
                          sgemm_run, &g, reps);
      if (ms < cl_ms) cl_ms = ms, cl_best = t;
    }
    for (int i = 0; i < n_sets && st == FC_OK; i++) {
      const int *s = xgemm_sets[i];
      xgemm_fill(&t, s);
      snprintf(key, sizeof key, "sgemm1024:clblast:%d:%d:%d:%d:%d:%d:%d", s[0], s[1], s[2], s[3],
               s[4], s[5], s[6]);
      snprintf(label, sizeof label, "SGEMM 1024^3, CLBlast MWG%d NWG%d KWG%d DIM%dx%d VW%d", s[0],
               s[1], s[2], s[3], s[4], s[5]);
      if (find_done(tn, key)) {
        double ms = measure(tn, dev, key, label, sgemm_run, &g, reps);
        if (ms < cl_ms) cl_ms = ms, cl_best = t;
        continue;
      }
      st = fc_tuning_apply(dev, &t);
      if (st == FC_OK) st = fc_tuning_apply_clblast(dev);
      if (st != FC_OK) { /* CLBlast refused the set: skip it */
        say(tn, "       CLBlast refused %s: %s\n", label, fc_last_error());
        st = FC_OK;
        continue;
      }
      double ms = measure(tn, dev, key, label, sgemm_run, &g, reps);
      if (ms < cl_ms) cl_ms = ms, cl_best = t;
    }
    fc_buffer_release(&g.a), fc_buffer_release(&g.b), fc_buffer_release(&g.c);
    if (st == FC_OK && isfinite(cl_ms) && cl_ms > 1.5 * ours_1024) {
      /* Far behind on the plain GEMM: the convolutions would only take minutes to say so. */
      tn->step_no++;
      say(tn, "[%2d/%d] %-44s skipped: CLBlast's best SGEMM is %.1fx slower\n", tn->step_no,
          tn->step_total, "convolutions, CLBlast", cl_ms / ours_1024);
      best.clblast_count = cl_best.clblast_count;
      memcpy(best.clblast_names, cl_best.clblast_names, sizeof best.clblast_names);
      memcpy(best.clblast_values, cl_best.clblast_values, sizeof best.clblast_values);
    } else if (st == FC_OK && isfinite(cl_ms)) {
      /* The engine: CLBlast with its best parameters on the convolutions. */
      fc_tuning t2 = best;
      t2.gemm.engine = FC_GEMM_ENGINE_CLBLAST;
      t2.clblast_count = cl_best.clblast_count;
      memcpy(t2.clblast_names, cl_best.clblast_names, sizeof t2.clblast_names);
      memcpy(t2.clblast_values, cl_best.clblast_values, sizeof t2.clblast_values);
      st = fc_tuning_apply(dev, &t2);
      if (st == FC_OK) st = fc_tuning_apply_clblast(dev);
      if (st == FC_OK) {
        snprintf(key, sizeof key, "conv:clblast:%s", cl_best.clblast_count ? "tuned" : "default");
        double ms = measure(tn, dev, key, "convolutions, CLBlast (best parameters)", conv_work_run,
                            &cw, reps);
        /* Keep the CLBlast parameters either way: bench's "CLBlast tuned" uses them. */
        best.clblast_count = t2.clblast_count;
        memcpy(best.clblast_names, t2.clblast_names, sizeof best.clblast_names);
        memcpy(best.clblast_values, t2.clblast_values, sizeof best.clblast_values);
        if (ms < best_ms) {
          best_ms = ms;
          best.gemm.engine = FC_GEMM_ENGINE_CLBLAST;
        }
      }
    }
  }

  /* 6: element-wise work-group size. */
  if (st == FC_OK) {
    ops_work o;
    memset(&o, 0, sizeof o);
    o.s = (fc_shape4){cfg->batch, 64, cfg->model.input_size / 2, cfg->model.input_size / 2,
                      FC_LAYOUT_CNHW};
    size_t n = fc_shape4_count(o.s);
    o.ws_floats = fc_batchnorm_workspace_size(o.s);
    st = fc_buffer_alloc(dev, n * 4, "tuning x", &o.x);
    if (st == FC_OK) st = fc_buffer_alloc(dev, n * 4, "tuning y", &o.y);
    if (st == FC_OK) st = fc_buffer_alloc(dev, n * 4, "tuning dy", &o.dy);
    if (st == FC_OK) st = fc_buffer_alloc(dev, 8 * 64 * 4, "tuning params", &o.small);
    if (st == FC_OK) st = fc_buffer_alloc(dev, o.ws_floats * 4, "tuning workspace", &o.ws);
    if (st == FC_OK) st = fc_buffer_fill_zero(dev, o.x, 0, n * 4);
    if (st == FC_OK) st = fc_buffer_fill_zero(dev, o.dy, 0, n * 4);
    if (st == FC_OK) st = fc_buffer_fill_zero(dev, o.small, 0, 8 * 64 * 4);
    double ops_best = INFINITY;
    for (int i = 0; i < 3 && st == FC_OK; i++) {
      fc_tuning t = best;
      t.ops_wg = ops_wgs[i];
      if ((size_t)t.ops_wg > info->max_work_group_size) continue;
      st = fc_tuning_apply(dev, &t);
      snprintf(key, sizeof key, "ops:wg%d", ops_wgs[i]);
      snprintf(label, sizeof label, "batchnorm/relu/add, work-groups of %d", ops_wgs[i]);
      double ms = st == FC_OK ? measure(tn, dev, key, label, ops_run, &o, reps) : INFINITY;
      if (ms < ops_best) {
        ops_best = ms;
        best.ops_wg = ops_wgs[i];
      }
    }
    fc_buffer_release(&o.x), fc_buffer_release(&o.y), fc_buffer_release(&o.dy);
    fc_buffer_release(&o.small), fc_buffer_release(&o.ws);
  }
  fc_perf_conv_buffers_free(&cw.buf);

  if (st == FC_OK && !isfinite(best_ms))
    st = fc_errorf(FC_ERR_OPENCL, "every GEMM candidate failed on %s; keeping the defaults",
                   info->name);
  if (st == FC_OK) st = fc_tuning_save(dev, &best, path);
  if (st == FC_OK) unlink(tn->partial_path);
  if (st != FC_OK) return st;
  fc_gemm_params_describe(&best.gemm, result->gemm, sizeof result->gemm);
  result->ops_wg = best.ops_wg;
  result->fercl_ms = fercl_ms;
  result->clblast_faster = best.gemm.engine == FC_GEMM_ENGINE_CLBLAST;
  return FC_OK;
}

fc_status fc_tune_run(fc_device *dev, const fc_tune_config *cfg, fc_tune_result *result) {
  memset(result, 0, sizeof *result);
  tune *tn = calloc(1, sizeof *tn);
  if (!tn) return fc_errorf(FC_ERR_NOMEM, "out of memory");
  tn->cfg = cfg;
  fc_status st = tune_run(tn, dev, result);
  free(tn);
  return st;
}
