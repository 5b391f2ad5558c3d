/* The measurements of `fer-cl bench` (include/fercl/perf.h): what the device
 * can do (clpeak-like), then what fer-cl's ops and a whole training step
 * achieve on it, each as time, GFLOP/s or GB/s and a share of the measured
 * peak. The caller prints; results reach it through cfg->sink as they come.
 *
 * Timing: every measurement runs once to build kernels, then is repeated for
 * a time budget (at least 3 and at most 50 repetitions), each repetition
 * waited for on its own; min and median are reported — the minimum is the
 * most stable number on a shared machine, the median says how noisy it was. */
#include <clblast_c.h>
#include <dirent.h>
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "device/runtime.h"
#include "fercl/fileio.h"
#include "fercl/data.h"
#include "fercl/face.h"
#include "fercl/log.h"
#include "fercl/net.h"
#include "fercl/ops.h"
#include "fercl/perf.h"
#include "fercl/profile.h"
#include "fercl/train.h"
#include "net/graph.h"
#include "net/net_internal.h"
#include "ops/gemm_internal.h"
#include "perf/perf_internal.h"
#include "ssl/trainer_internal.h"

typedef struct bench {
  fc_device *dev;
  const fc_bench_config *cfg;
  fc_bench_report *rep;
  int cap;
} bench;

static fc_status add_result(bench *bn, const fc_bench_result *r) {
  fc_bench_report *rep = bn->rep;
  if (rep->n_results == bn->cap) {
    int cap = bn->cap ? 2 * bn->cap : 64;
    fc_bench_result *p = realloc(rep->results, (size_t)cap * sizeof *p);
    if (!p) return fc_errorf(FC_ERR_NOMEM, "out of memory for the benchmark results");
    rep->results = p;
    bn->cap = cap;
  }
  rep->results[rep->n_results++] = *r;
  if (bn->cfg->sink.result) bn->cfg->sink.result(bn->cfg->sink.user, r);
  return FC_OK;
}

static void section(bench *bn, const char *title) {
  if (bn->cfg->sink.section) bn->cfg->sink.section(bn->cfg->sink.user, title);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void note(bench *bn, const char *line) {
  if (bn->cfg->sink.note) bn->cfg->sink.note(bn->cfg->sink.user, line);
}

typedef fc_perf_fn bench_fn;

/* Warm-up run, then repetitions for the time budget; min and median (ms). */
static fc_status measure(bench *bn, bench_fn fn, void *ctx, double *min_ms, double *median_ms,
                         int *reps_out) {
  double budget = (bn->cfg->quick ? 0.4 : 1.0) * bn->cfg->budget_ms * 1e-3;
  return fc_perf_time(bn->dev, fn, ctx, budget, min_ms, median_ms, reps_out);
}

/* Measures and records one result; work is flops (GFLOP/s) or bytes (GB/s). */
static fc_status run_one(bench *bn, const char *sec, const char *name, bench_fn fn, void *ctx,
                         double work, const char *unit, double peak) {
  fc_bench_result r;
  memset(&r, 0, sizeof r);
  snprintf(r.section, sizeof r.section, "%s", sec);
  snprintf(r.name, sizeof r.name, "%s", name);
  fc_status st = measure(bn, fn, ctx, &r.min_ms, &r.median_ms, &r.reps);
  if (st != FC_OK) return fc_error_context(st, "benchmark %s", name);
  r.unit = unit;
  r.rate = r.min_ms > 0 ? work / (r.min_ms * 1e-3) * 1e-9 : 0;
  r.pct_peak = peak > 0 ? 100.0 * r.rate / peak : -1; /* -1: peak not measured (--only) */
  return add_result(bn, &r);
}

/* ---- device peaks ---- */

typedef struct kernel_ctx {
  cl_kernel k;
  size_t global, local;
  const fc_kernel_arg *args;
  int nargs;
} kernel_ctx;

static fc_status run_kernel(fc_device *dev, void *p) {
  kernel_ctx *c = p;
  return fc_launch(dev, c->k, "bench", 1, &c->global, c->local ? &c->local : NULL, c->args,
                   c->nargs);
}

static fc_status bench_peak(bench *bn) {
  fc_device *dev = bn->dev;
  section(bn, "peak (clpeak-like)");
  const fc_device_info *info = &dev->info;
  int cpu = info->type == FC_DEVICE_TYPE_CPU;
  size_t global = cpu ? (size_t)info->compute_units * 512 : (size_t)info->compute_units * 4096;
  size_t local = cpu ? 64 : 256;
  if (local > info->max_work_group_size) local = info->max_work_group_size;
  global = (global + local - 1) / local * local;
  cl_mem out = NULL;
  FC_TRY(fc_buffer_alloc(dev, global * sizeof(float), "bench output", &out));
  fc_status st = FC_OK;
  const char *names[2] = {"peak_fma_scalar", "peak_fma_vector"};
  const double flops_per_iter[2] = {16.0, 128.0};
  for (int v = 0; v < 2 && st == FC_OK; v++) {
    cl_kernel k = NULL;
    st = fc_device_kernel(dev, "bench", "", names[v], &k);
    if (st != FC_OK) break;
    /* Calibrate iterations so one run takes about a tenth of the budget. */
    int iters = 256;
    for (int tries = 0; tries < 8 && st == FC_OK; tries++) {
      const fc_kernel_arg args[] = {FC_ARG_MEM(out), FC_ARG_INT(iters), FC_ARG_FLOAT(0.999f),
                                    FC_ARG_FLOAT(0.001f)};
      kernel_ctx c = {k, global, local, args, FC_NARGS(args)};
      double t0 = fc_perf_now_s();
      st = run_kernel(dev, &c);
      if (st == FC_OK) st = fc_device_finish(dev);
      double dt = fc_perf_now_s() - t0;
      if (dt > 0.1 * bn->cfg->budget_ms * 1e-3 || iters >= (1 << 22)) break;
      iters *= dt > 0 ? (int)fmin(16.0, fmax(2.0, 0.1 * bn->cfg->budget_ms * 1e-3 / dt)) : 16;
    }
    if (st != FC_OK) break;
    const fc_kernel_arg args[] = {FC_ARG_MEM(out), FC_ARG_INT(iters), FC_ARG_FLOAT(0.999f),
                                  FC_ARG_FLOAT(0.001f)};
    kernel_ctx c = {k, global, local, args, FC_NARGS(args)};
    char name[96];
    snprintf(name, sizeof name, "FMA %s (%s)", v ? "float8 vectors" : "scalar floats",
             v ? "peak" : "no vectors");
    st = run_one(bn, "peak", name, run_kernel, &c,
                 flops_per_iter[v] * (double)iters * (double)global, "GFLOP/s", -1);
    if (st == FC_OK)
      *(v ? &bn->rep->peak_vector : &bn->rep->peak_scalar) =
          bn->rep->results[bn->rep->n_results - 1].rate;
  }
  fc_buffer_release(&out);
  return st;
}

static fc_status bench_bandwidth(bench *bn) {
  fc_device *dev = bn->dev;
  const fc_device_info *info = &dev->info;
  int cpu = info->type == FC_DEVICE_TYPE_CPU;
  size_t bytes = (size_t)(bn->cfg->quick ? 64 : 256) << 20;
  if (bytes > info->max_alloc_bytes / 2) bytes = (size_t)(info->max_alloc_bytes / 2) & ~(size_t)31;
  size_t n = bytes / sizeof(float), n8 = n / 8;
  cl_mem x = NULL, y = NULL, out = NULL;
  size_t rglobal = cpu ? (size_t)info->compute_units * 16 : (size_t)info->compute_units * 2048;
  size_t local = cpu ? 16 : 256;
  if (local > info->max_work_group_size) local = info->max_work_group_size;
  rglobal = (rglobal + local - 1) / local * local;
  fc_status st = fc_buffer_alloc(dev, bytes, "bench buffer", &x);
  if (st == FC_OK) st = fc_buffer_alloc(dev, bytes, "bench buffer", &y);
  if (st == FC_OK) st = fc_buffer_alloc(dev, rglobal * sizeof(float), "bench output", &out);
  if (st == FC_OK) st = fc_buffer_fill_zero(dev, x, 0, bytes);
  cl_kernel kr = NULL, kw = NULL, kc = NULL;
  if (st == FC_OK) st = fc_device_kernel(dev, "bench", "", "bw_read", &kr);
  if (st == FC_OK) st = fc_device_kernel(dev, "bench", "", "bw_write", &kw);
  if (st == FC_OK) st = fc_device_kernel(dev, "bench", "", "bw_copy", &kc);
  char name[96];
  if (st == FC_OK) {
    const fc_kernel_arg args[] = {FC_ARG_MEM(x), FC_ARG_UINT(n8), FC_ARG_MEM(out)};
    kernel_ctx c = {kr, rglobal, local, args, FC_NARGS(args)};
    snprintf(name, sizeof name, "read %zu MiB", bytes >> 20);
    st = run_one(bn, "bandwidth", name, run_kernel, &c, (double)bytes, "GB/s", -1);
  }
  size_t wlocal = cpu ? 64 : 256;
  if (wlocal > info->max_work_group_size) wlocal = info->max_work_group_size;
  if (st == FC_OK) {
    const fc_kernel_arg args[] = {FC_ARG_MEM(y), FC_ARG_UINT(n8), FC_ARG_FLOAT(1.0f)};
    kernel_ctx c = {kw, (n8 + wlocal - 1) / wlocal * wlocal, wlocal, args, FC_NARGS(args)};
    snprintf(name, sizeof name, "write %zu MiB", bytes >> 20);
    st = run_one(bn, "bandwidth", name, run_kernel, &c, (double)bytes, "GB/s", -1);
  }
  if (st == FC_OK) {
    const fc_kernel_arg args[] = {FC_ARG_MEM(x), FC_ARG_MEM(y), FC_ARG_UINT(n8)};
    kernel_ctx c = {kc, (n8 + wlocal - 1) / wlocal * wlocal, wlocal, args, FC_NARGS(args)};
    snprintf(name, sizeof name, "copy %zu MiB (read + write counted)", bytes >> 20);
    st = run_one(bn, "bandwidth", name, run_kernel, &c, 2.0 * (double)bytes, "GB/s", -1);
    if (st == FC_OK) bn->rep->peak_bw = bn->rep->results[bn->rep->n_results - 1].rate;
  }
  fc_buffer_release(&x);
  fc_buffer_release(&y);
  fc_buffer_release(&out);
  return st;
}

static fc_status bench_latency(bench *bn) {
  fc_device *dev = bn->dev;
  section(bn, "launch latency and host<->device transfers");
  cl_kernel k = NULL;
  cl_mem buf = NULL;
  FC_TRY(fc_buffer_alloc(dev, 64, "bench output", &buf));
  fc_status st = fc_device_kernel(dev, "bench", "", "empty_kernel", &k);
  const fc_kernel_arg args[] = {FC_ARG_MEM(buf)};
  size_t g = 1, l = 1;
  for (int mode = 0; mode < 2 && st == FC_OK; mode++) {
    int n = mode == 0 ? 500 : 100;
    double best = 1e30, samples[5];
    for (int rep = 0; rep < 5 && st == FC_OK; rep++) {
      st = fc_device_finish(dev);
      double t0 = fc_perf_now_s(), enq = 0;
      for (int i = 0; i < n && st == FC_OK; i++) {
        st = fc_launch(dev, k, "bench", 1, &g, &l, args, 1);
        if (mode == 1 && st == FC_OK) st = fc_device_finish(dev);
      }
      enq = fc_perf_now_s() - t0;
      if (st == FC_OK && mode == 0) st = fc_device_finish(dev);
      samples[rep] = enq / n;
      if (samples[rep] < best) best = samples[rep];
    }
    if (st != FC_OK) break;
    qsort(samples, 5, sizeof samples[0], cmp_double);
    fc_bench_result r;
    memset(&r, 0, sizeof r);
    snprintf(r.section, sizeof r.section, "latency");
    snprintf(r.name, sizeof r.name, "%s",
             mode == 0 ? "kernel launch, enqueue only" : "kernel launch, enqueue + wait");
    r.min_ms = best * 1e3;
    r.median_ms = samples[2] * 1e3;
    r.unit = "us";
    r.pct_peak = -1;
    r.reps = 5;
    st = add_result(bn, &r);
  }
  fc_buffer_release(&buf);
  if (st != FC_OK) return st;
  /* Transfers: blocking writes and reads of a pageable host buffer. */
  size_t bytes = (size_t)(bn->cfg->quick ? 32 : 128) << 20;
  if (bytes > dev->info.max_alloc_bytes / 2) bytes = (size_t)(dev->info.max_alloc_bytes / 2);
  char *host = malloc(bytes);
  cl_mem dbuf = NULL;
  if (!host) return fc_errorf(FC_ERR_NOMEM, "out of memory");
  memset(host, 1, bytes);
  st = fc_buffer_alloc(dev, bytes, "bench buffer", &dbuf);
  for (int dir = 0; dir < 2 && st == FC_OK; dir++) {
    double t[5];
    for (int rep = 0; rep < 5 && st == FC_OK; rep++) {
      double t0 = fc_perf_now_s();
      st = dir == 0 ? fc_buffer_write(dev, dbuf, 0, bytes, host, 1)
                    : fc_buffer_read(dev, dbuf, 0, bytes, host, 1);
      t[rep] = (fc_perf_now_s() - t0) * 1e3;
    }
    if (st != FC_OK) break;
    qsort(t, 5, sizeof t[0], cmp_double);
    fc_bench_result r;
    memset(&r, 0, sizeof r);
    snprintf(r.section, sizeof r.section, "transfer");
    snprintf(r.name, sizeof r.name, "%s %zu MiB", dir == 0 ? "host -> device" : "device -> host",
             bytes >> 20);
    r.min_ms = t[0];
    r.median_ms = t[2];
    r.rate = (double)bytes / (t[0] * 1e-3) * 1e-9;
    r.unit = "GB/s";
    r.pct_peak = -1;
    r.reps = 5;
    st = add_result(bn, &r);
  }
  fc_buffer_release(&dbuf);
  free(host);
  return st;
}

/* ---- GEMM ---- */

typedef struct gemm_ctx {
  size_t m, n, k;
  cl_mem a, b, c;
  int engine; /* 0 fercl, 1 clblast (device's current overrides), 2 host BLAS */
  fc_cblas_sgemm_fn host;
  float *ha, *hb, *hc;
} gemm_ctx;

static fc_status run_gemm(fc_device *dev, void *p) {
  gemm_ctx *g = p;
  if (g->engine == 2) {
    g->host(101, 111, 111, (int)g->m, (int)g->n, (int)g->k, 1.0f, g->ha, (int)g->k, g->hb,
            (int)g->n, 0.0f, g->hc, (int)g->n);
    return FC_OK;
  }
  if (g->engine == 1) {
    /* Straight to CLBlast, so "as shipped" is not affected by pending overrides. */
    CLBlastStatusCode code = CLBlastSgemm(CLBlastLayoutRowMajor, CLBlastTransposeNo,
                                          CLBlastTransposeNo, g->m, g->n, g->k, 1.0f, g->a, 0, g->k,
                                          g->b, 0, g->n, 0.0f, g->c, 0, g->n, &dev->queue, NULL);
    if (code != CLBlastSuccess)
      return fc_errorf(FC_ERR_OPENCL, "CLBlast SGEMM %zux%zux%zu failed with status %d", g->m, g->n,
                       g->k, (int)code);
    return FC_OK;
  }
  fc_gemm_engine saved = dev->tuning.gemm.engine;
  dev->tuning.gemm.engine = FC_GEMM_ENGINE_FERCL;
  fc_status st = fc_gemm(dev, 0, 0, g->m, g->n, g->k, 1.0f, fc_view_of(g->a, 0), g->k,
                         fc_view_of(g->b, 0), g->n, 0.0f, fc_view_of(g->c, 0), g->n);
  dev->tuning.gemm.engine = saved;
  return st;
}

fc_cblas_sgemm_fn fc_host_sgemm(const char *const *libs, const char **which) {
  for (size_t i = 0; libs[i]; i++) {
    void *h = dlopen(libs[i], RTLD_NOW | RTLD_LOCAL);
    if (!h) continue;
    void *f = dlsym(h, "cblas_sgemm");
    if (f) {
      *which = libs[i];
      fc_cblas_sgemm_fn fn;
      memcpy(&fn, &f, sizeof fn);
      return fn;
    }
    dlclose(h);
  }
  return NULL;
}

static fc_status bench_gemm(bench *bn) {
  fc_device *dev = bn->dev;
  section(bn, "SGEMM (row-major C = A.B, square)");
  static const size_t sizes_full[] = {256, 512, 1024, 2048};
  static const size_t sizes_quick[] = {512, 1024};
  const size_t *sizes = bn->cfg->quick ? sizes_quick : sizes_full;
  int n_sizes = bn->cfg->quick ? 2 : 4;
  size_t maxn = sizes[n_sizes - 1];
  const char *host_lib = NULL;
  static const char *const host_libs[] = {"libopenblas.so.0", "libopenblas.so", "libblis.so.4",
                                          "libblas.so.3", NULL};
  fc_cblas_sgemm_fn host = fc_host_sgemm(host_libs, &host_lib);
  size_t bytes = maxn * maxn * sizeof(float);
  float *ha = malloc(bytes), *hb = malloc(bytes), *hc = malloc(bytes);
  if (!ha || !hb || !hc) {
    free(ha), free(hb), free(hc);
    return fc_errorf(FC_ERR_NOMEM, "out of memory");
  }
  for (size_t i = 0; i < maxn * maxn; i++) {
    ha[i] = (float)((i * 7919) % 1000) * 1e-3f - 0.5f;
    hb[i] = (float)((i * 104729) % 1000) * 1e-3f - 0.5f;
  }
  cl_mem a = NULL, b = NULL, c = NULL;
  fc_status st = fc_buffer_alloc(dev, bytes, "bench A", &a);
  if (st == FC_OK) st = fc_buffer_alloc(dev, bytes, "bench B", &b);
  if (st == FC_OK) st = fc_buffer_alloc(dev, bytes, "bench C", &c);
  if (st == FC_OK) st = fc_buffer_write(dev, a, 0, bytes, ha, 1);
  if (st == FC_OK) st = fc_buffer_write(dev, b, 0, bytes, hb, 1);
  char params[64];
  fc_gemm_params_describe(&dev->tuning.gemm, params, sizeof params);
  fc_gemm_params ours = dev->tuning.gemm;
  ours.engine = FC_GEMM_ENGINE_FERCL;
  char ours_desc[64];
  fc_gemm_params_describe(&ours, ours_desc, sizeof ours_desc);
  int has_tuned_clblast = dev->tuning.clblast_count > 0;
  /* Passes: CLBlast as shipped (before any override reaches CLBlast), fer-cl's
   * kernel, CLBlast tuned, host BLAS. */
  for (int pass = 0; pass < 4 && st == FC_OK; pass++) {
    if ((pass == 0 || pass == 2) && bn->cfg->no_clblast) continue;
    if (pass == 0 && dev->tuning.clblast_applied) continue; /* overrides already active */
    if (pass == 2 && !has_tuned_clblast) continue;
    if (pass == 3 && !host) continue;
    if (pass == 2) st = fc_tuning_apply_clblast(dev);
    if (pass == 0 && !bn->cfg->quick)
      fc_log(FC_LOG_INFO, "building CLBlast's kernels (slow on PoCL; --no-clblast skips them)");
    for (int s = 0; s < n_sizes && st == FC_OK; s++) {
      size_t n = sizes[s];
      gemm_ctx g = {n, n, n, a, b, c, pass == 3 ? 2 : (pass == 1 ? 0 : 1), host, ha, hb, hc};
      char name[112];
      const char *what = pass == 0   ? "CLBlast as shipped"
                         : pass == 1 ? ours_desc
                         : pass == 2 ? "CLBlast tuned"
                                     : host_lib;
      snprintf(name, sizeof name, "%zu^3 %s%s", n, what, pass == 3 ? " (host CPU)" : "");
      st = run_one(bn, "gemm", name, run_gemm, &g, 2.0 * (double)n * n * n, "GFLOP/s",
                   bn->rep->peak_vector);
    }
  }
  if (st == FC_OK && !has_tuned_clblast && !bn->cfg->no_clblast)
    note(bn, "  (no tuned CLBlast parameters for this device: run fer-cl tune)\n");
  char line[160];
  snprintf(line, sizeof line, "  fc_gemm on this device uses: %s%s\n", params,
           dev->tuning.tuned ? " (tuned)" : " (defaults)");
  note(bn, line);
  fc_buffer_release(&a);
  fc_buffer_release(&b);
  fc_buffer_release(&c);
  free(ha), free(hb), free(hc);
  return st;
}

/* ---- convolutions and memory-bound ops at the model's shapes ---- */

typedef struct conv_ctx {
  fc_conv2d_desc d;
  int which; /* 0 forward, 1 backward data, 2 backward weights */
  fc_perf_conv_buffers buf;
} conv_ctx;

static fc_status run_conv(fc_device *dev, void *p) {
  conv_ctx *c = p;
  return fc_perf_conv_pass(dev, &c->d, c->which, &c->buf);
}

static fc_status bench_convs(bench *bn, const fc_net_config *cfg) {
  fc_device *dev = bn->dev;
  fc_perf_conv convs[FC_PERF_MAX_CONVS];
  int n_convs = 0;
  FC_TRY(fc_perf_conv_shapes(cfg, bn->cfg->batch, convs, &n_convs));
  char title[160];
  snprintf(title, sizeof title,
           "convolutions of %s (%dx%dx%d input, %s stem), batch %d: forward / backward-data / "
           "backward-weights",
           cfg->arch, cfg->in_channels, cfg->input_size, cfg->input_size, fc_stem_name(cfg->stem),
           bn->cfg->batch);
  section(bn, title);
  fc_status st = FC_OK;
  double total_ms = 0, total_flops = 0;
  for (int i = 0; i < n_convs && st == FC_OK; i++) {
    const fc_perf_conv *cv = &convs[i];
    const fc_conv2d_desc d = cv->d;
    int count = cv->count;
    conv_ctx c = {d, 0, {0}};
    st = fc_perf_conv_buffers_alloc(dev, cv, 1, "bench", &c.buf);
    double flops = fc_perf_conv_flops(&d);
    static const char *which[] = {"fwd", "bwd-x", "bwd-w"};
    for (int k = 0; k < 3 && st == FC_OK; k++) {
      if (k == 1 && !cv->need_dx) continue; /* the network input needs no gradient */
      c.which = k;
      char name[112];
      snprintf(name, sizeof name, "%s %dx%dx%d -> %d k%d s%d %s%s", cv->name, d.c_in, d.h, d.w,
               d.c_out, d.kh, d.stride, which[k], count > 1 ? " (x" : "");
      if (count > 1) snprintf(name + strlen(name), sizeof name - strlen(name), "%d)", count);
      st = run_one(bn, "conv", name, run_conv, &c, flops, "GFLOP/s", bn->rep->peak_vector);
      if (st == FC_OK) {
        total_ms += count * bn->rep->results[bn->rep->n_results - 1].min_ms;
        total_flops += count * flops;
      }
    }
    fc_perf_conv_buffers_free(&c.buf);
  }
  if (st == FC_OK && total_ms > 0) {
    double rate = total_flops / (total_ms * 1e-3) * 1e-9;
    char line[160];
    int len =
        snprintf(line, sizeof line,
                 "  all convolutions of one training step: %.1f ms, %.1f GFLOP/s", total_ms, rate);
    if (bn->rep->peak_vector > 0)
      len += snprintf(line + len, sizeof line - (size_t)len, " (%.0f%% of peak)",
                      100.0 * rate / bn->rep->peak_vector);
    snprintf(line + len, sizeof line - (size_t)len, "\n");
    note(bn, line);
  }
  return st;
}

typedef struct op_ctx {
  int which;
  fc_shape4 s;
  fc_conv2d_desc d;
  cl_mem x, y, dy, dx, res, small, ws, idx;
  size_t ws_floats;
} op_ctx;

static fc_status run_op(fc_device *dev, void *p) {
  op_ctx *c = p;
  fc_view x = fc_view_of(c->x, 0), y = fc_view_of(c->y, 0), dy = fc_view_of(c->dy, 0);
  fc_view dx = fc_view_of(c->dx, 0), ws = fc_view_of(c->ws, 0), sm = fc_view_of(c->small, 0);
  size_t n = fc_shape4_count(c->s);
  switch (c->which) {
  case 0:
  case 1: return fc_perf_bn_relu(dev, c->s, c->which, x, y, dy, dx, sm, ws, c->ws_floats);
  case 2: return fc_relu_forward(dev, x, y, n);
  case 3: return fc_add_forward(dev, x, dy, y, n);
  case 4: return fc_maxpool2d_forward(dev, c->s, 3, 2, 1, x, y, fc_view_of(c->idx, 0));
  case 5: return fc_maxpool2d_backward(dev, c->s, 3, 2, 1, fc_view_of(c->idx, 0), dy, dx);
  case 6: {
    size_t cols = (size_t)c->d.n * fc_conv2d_out_h(&c->d) * fc_conv2d_out_w(&c->d);
    return fc_im2col(dev, &c->d, x, 0, c->d.n, ws, cols);
  }
  case 7: {
    size_t cols = (size_t)c->d.n * fc_conv2d_out_h(&c->d) * fc_conv2d_out_w(&c->d);
    return fc_col2im(dev, &c->d, ws, cols, 0, c->d.n, dx);
  }
  }
  return FC_OK;
}

static fc_status bench_ops(bench *bn, const fc_net_config *cfg) {
  fc_device *dev = bn->dev;
  fc_graph g;
  memset(&g, 0, sizeof g);
  FC_TRY(fc_graph_build(cfg, &g));
  /* The first BN and the first 3x3 conv of stage 1: the largest activations. */
  const fc_slot *bn_slot = NULL;
  const fc_layer *conv = NULL;
  for (int i = 0; i < g.n_layers; i++) {
    const fc_layer *l = &g.layers[i];
    if (l->kind == FC_LAYER_BN && !bn_slot) bn_slot = &g.slots[l->x];
    if (l->kind == FC_LAYER_CONV && l->k == 3 && !conv) conv = l;
  }
  fc_status st = FC_OK;
  if (!bn_slot || !conv) {
    fc_graph_free(&g);
    return FC_OK;
  }
  fc_shape4 s = fc_slot_shape(bn_slot, bn->cfg->batch);
  const fc_slot *cx = &g.slots[conv->x], *cy = &g.slots[conv->y];
  fc_conv2d_desc d = {bn->cfg->batch, cx->c,     cx->h,         cx->w, cy->c, 3, 3,
                      conv->stride,   conv->pad, FC_LAYOUT_CNHW};
  char title[160];
  snprintf(title, sizeof title,
           "memory-bound ops (activation %dx%dx%d, batch %d; GB/s count each tensor read or "
           "written once)",
           s.c, s.h, s.w, bn->cfg->batch);
  section(bn, title);
  size_t n = fc_shape4_count(s);
  size_t colf =
      (size_t)d.c_in * 9 * (size_t)bn->cfg->batch * fc_conv2d_out_h(&d) * fc_conv2d_out_w(&d);
  size_t nxd = fc_shape4_count(fc_conv2d_in_shape(&d));
  size_t big = n > nxd ? n : nxd;
  op_ctx c;
  memset(&c, 0, sizeof c);
  c.s = s;
  c.d = d;
  c.ws_floats = fc_batchnorm_workspace_size(s);
  if (colf > c.ws_floats) c.ws_floats = colf;
  st = fc_buffer_alloc(dev, big * 4, "bench x", &c.x);
  if (st == FC_OK) st = fc_buffer_alloc(dev, big * 4, "bench y", &c.y);
  if (st == FC_OK) st = fc_buffer_alloc(dev, big * 4, "bench dy", &c.dy);
  if (st == FC_OK) st = fc_buffer_alloc(dev, big * 4, "bench dx", &c.dx);
  if (st == FC_OK) st = fc_buffer_alloc(dev, big * 4, "bench argmax", &c.idx);
  if (st == FC_OK) st = fc_buffer_alloc(dev, 8 * (size_t)s.c * 4, "bench params", &c.small);
  if (st == FC_OK) st = fc_buffer_alloc(dev, c.ws_floats * 4, "bench workspace", &c.ws);
  if (st == FC_OK) st = fc_buffer_fill_zero(dev, c.x, 0, big * 4);
  if (st == FC_OK) st = fc_buffer_fill_zero(dev, c.dy, 0, big * 4);
  if (st == FC_OK) st = fc_buffer_fill_zero(dev, c.small, 0, 8 * (size_t)s.c * 4);
  if (st == FC_OK) st = fc_fill(dev, fc_view_of(c.small, 3 * (size_t)s.c), 1.0f, (size_t)s.c);
  fc_shape4 ps = fc_pool2d_out_shape(s, 3, 2, 1);
  size_t np = fc_shape4_count(ps);
  struct {
    const char *name;
    double bytes;
  } ops[] = {
      {"batchnorm+relu forward (train)", 2.0 * n * 4},
      {"batchnorm+relu backward", 4.0 * n * 4},
      {"relu", 2.0 * n * 4},
      {"add", 3.0 * n * 4},
      {"maxpool 3x3/2 forward", (n + 2.0 * np) * 4},
      {"maxpool 3x3/2 backward", (2.0 * np + n) * 4},
      {"im2col (row-major, CLBlast path)", ((double)nxd + (double)colf) * 4},
      {"col2im", ((double)nxd + (double)colf) * 4},
  };
  for (int i = 0; i < (int)(sizeof ops / sizeof ops[0]) && st == FC_OK; i++) {
    c.which = i;
    char name[112];
    if (i >= 6)
      snprintf(name, sizeof name, "%s %dx%dx%d k3", ops[i].name, d.c_in, d.h, d.w);
    else
      snprintf(name, sizeof name, "%s", ops[i].name);
    st = run_one(bn, "ops", name, run_op, &c, ops[i].bytes, "GB/s", bn->rep->peak_bw);
  }
  fc_buffer_release(&c.x), fc_buffer_release(&c.y), fc_buffer_release(&c.dy);
  fc_buffer_release(&c.dx), fc_buffer_release(&c.idx), fc_buffer_release(&c.small);
  fc_buffer_release(&c.ws);
  fc_graph_free(&g);
  return st;
}

/* ---- training bn->cfg->steps ---- */

static fc_status profile_collect(bench *bn, int64_t step) {
  return bn->cfg->profile ? fc_profile_collect(bn->cfg->profile, step) : FC_OK;
}

/* min, median and mean of the timed bn->cfg->steps t[1..steps] (t[0] is the warm-up); sorts them. */
static void step_times(bench *bn, fc_bench_train_result *r, double *t) {
  double sum = 0;
  for (int i = 1; i <= bn->cfg->steps; i++) sum += t[i];
  qsort(t + 1, (size_t)bn->cfg->steps, sizeof t[0], cmp_double);
  r->min_s = t[1];
  r->median_s = t[1 + bn->cfg->steps / 2];
  r->mean_s = sum / bn->cfg->steps;
}

static fc_status bench_supervised(bench *bn, const fc_net_config *base) {
  fc_device *dev = bn->dev;
  fc_net_config cfg = *base;
  cfg.lae3 = cfg.lae4 = 0;
  cfg.rfd = 0;
  cfg.dropout = 0;
  const int B = bn->cfg->batch, C = cfg.num_classes;
  fc_net *net = NULL;
  fc_net_plan *plan = NULL;
  cl_mem small = NULL;
  double t0 = fc_perf_now_s();
  fc_status st = fc_net_create(dev, &cfg, FC_NET_TRAINABLE, &net);
  if (st == FC_OK) st = fc_net_init_params(net, 1);
  if (st == FC_OK) st = fc_net_plan_create(net, B, FC_NET_TRAINING, &plan);
  /* small: labels [B] int32 | probs [B·C] | loss per sample [B] | loss [1] | dlogits [B·C] */
  size_t words = (size_t)B + 2 * (size_t)B * C + (size_t)B + 1;
  if (st == FC_OK) st = fc_buffer_alloc(dev, words * 4, "bench step tensors", &small);
  size_t img_bytes = (size_t)B * cfg.in_channels * cfg.input_size * cfg.input_size;
  uint8_t *img = malloc(img_bytes);
  int32_t *labels = malloc((size_t)B * sizeof *labels);
  if (st == FC_OK && (!img || !labels)) st = fc_errorf(FC_ERR_NOMEM, "out of memory");
  if (st == FC_OK) {
    uint64_t z = 12345;
    for (size_t i = 0; i < img_bytes; i++) {
      z = z * 6364136223846793005ULL + 1442695040888963407ULL;
      img[i] = (uint8_t)(z >> 56);
    }
    for (int b = 0; b < B; b++) labels[b] = b % C;
    st = fc_buffer_write(dev, fc_net_plan_input(plan).mem, 0, img_bytes, img, 1);
  }
  if (st == FC_OK) st = fc_buffer_write(dev, small, 0, (size_t)B * 4, labels, 1);
  fc_view lab = fc_view_of(small, 0), probs = fc_view_of(small, (size_t)B);
  fc_view lps = fc_view_add(probs, (size_t)B * C), loss = fc_view_add(lps, (size_t)B);
  fc_view dlogits = fc_view_add(loss, 1), none = {0};
  fc_input_norm norm;
  fc_input_norm_default(&norm, cfg.in_channels);
  const fc_optim_segment *segs = NULL;
  int nseg = st == FC_OK ? fc_net_decay_segments(net, &segs) : 0;
  fc_sgd_config sgd = {0.9f, 0.0f, 5e-4f, 0};
  double plan_s = fc_perf_now_s() - t0;
  double t[10000 + 1];
  int total = bn->cfg->steps + 1;
  for (int i = 0; i < total && st == FC_OK; i++) {
    double s0 = fc_perf_now_s();
    size_t np = fc_net_param_count(net);
    st = fc_net_forward(plan, fc_net_plan_input(plan), &norm, 1, (uint64_t)i);
    if (st == FC_OK)
      st = fc_softmax_xent_forward(dev, B, C, fc_net_plan_logits(plan), lab, none, (float)B, probs,
                                   lps, loss);
    if (st == FC_OK)
      st = fc_softmax_xent_backward(dev, B, C, probs, lab, none, (float)B, 1.0f, dlogits, 0);
    if (st == FC_OK) st = fc_zero_grad(dev, fc_net_grads(net), np);
    if (st == FC_OK) st = fc_net_backward(plan, dlogits);
    if (st == FC_OK)
      st = fc_sgd_step(dev, &sgd, segs, nseg, np, fc_net_params(net), fc_net_grads(net),
                       fc_net_opt_state(net, 0), 0.01f, (uint64_t)i + 1);
    float host_loss = 0;
    if (st == FC_OK) st = fc_buffer_read(dev, small, loss.offset * 4, 4, &host_loss, 1);
    t[i] = fc_perf_now_s() - s0;
    if (st == FC_OK) st = profile_collect(bn, i == 0 ? -1 : i);
  }
  if (st == FC_OK) {
    fc_bench_train_result *r = &bn->rep->train[bn->rep->n_train++];
    snprintf(r->what, sizeof r->what, "supervised step (forward, CE, backward, SGD)");
    r->images = B;
    r->plan_s = plan_s;
    step_times(bn, r, t);
    if (bn->cfg->sink.train) bn->cfg->sink.train(bn->cfg->sink.user, r);
  }
  free(img);
  free(labels);
  fc_buffer_release(&small);
  fc_net_plan_free(plan);
  fc_net_free(net);
  return st;
}

static fc_status bench_ssl(bench *bn, const fc_net_config *base) {
  fc_device *dev = bn->dev;
  fc_train_config cfg;
  fc_train_config_default(&cfg);
  fc_net_config defaults = cfg.net;
  cfg.net = *base;
  /* The default recipe's model extras (attention, feature dropout) on this backbone. */
  cfg.net.lae3 = defaults.lae3;
  cfg.net.lae4 = defaults.lae4;
  cfg.net.lae_kernel = bn->cfg->lae_kernel;
  cfg.net.rfd = defaults.rfd;
  cfg.net.dropout = defaults.dropout;
  cfg.batch = bn->cfg->ssl_batch;
  cfg.mu = bn->cfg->ssl_mu;
  FC_TRY(fc_train_config_check(&cfg));
  int B_u = cfg.batch * cfg.mu;
  cfg.synth_train = 7 * cfg.labels_per_class + 2 * B_u;
  cfg.synth_val = 0;
  cfg.steps = bn->cfg->steps + 1;
  cfg.eval_every = cfg.save_every = 0;
  char dir[1100];
  FC_TRY(fc_make_temp_dir("fer-cl-bench", dir, sizeof dir));
  cfg.out = dir;
  fc_trainer *tr = NULL;
  double t0 = fc_perf_now_s();
  fc_status st = fc_trainer_create(dev, &cfg, NULL, &tr);
  double plan_s = fc_perf_now_s() - t0;
  double t[10000 + 1];
  for (int i = 0; i <= bn->cfg->steps && st == FC_OK; i++) {
    fc_log_row row;
    double s0 = fc_perf_now_s();
    st = fc_trainer_step(tr, &row);
    t[i] = fc_perf_now_s() - s0;
    if (st == FC_OK) st = profile_collect(bn, i == 0 ? -1 : 100000 + i);
  }
  if (st == FC_OK) {
    fc_bench_train_result *r = &bn->rep->train[bn->rep->n_train++];
    snprintf(r->what, sizeof r->what,
             "semi-supervised step, default recipe (B_l %d + B_u %d, LAE k %d)", cfg.batch, B_u,
             cfg.net.lae_kernel);
    r->images = cfg.batch + B_u;
    r->plan_s = plan_s;
    step_times(bn, r, t);
    if (bn->cfg->sink.train) bn->cfg->sink.train(bn->cfg->sink.user, r);
  }
  fc_trainer_free(tr);
  fc_remove_temp_dir(dir); /* the trainer writes labels.txt */
  return st;
}

static fc_status bench_train(bench *bn) {
  fc_net_config cfg = bn->cfg->model;
  if (bn->cfg->no_ssl && bn->cfg->no_supervised)
    return fc_errorf(FC_ERR_USAGE, "--no-ssl and --no-supervised leave --train nothing to time");
  char title[200];
  snprintf(title, sizeof title,
           "training %s, %dx%dx%d input, %s stem, width %g (images/s = images "
           "through the student per second)",
           cfg.arch, cfg.in_channels, cfg.input_size, cfg.input_size, fc_stem_name(cfg.stem),
           cfg.width);
  section(bn, title);
  if (!bn->cfg->no_supervised) FC_TRY(bench_supervised(bn, &cfg));
  if (!bn->cfg->no_ssl) FC_TRY(bench_ssl(bn, &cfg));
  return FC_OK;
}

/* ---- face detection (MTCNN, src/face) ---- */

typedef struct faces_ctx {
  fc_face_detector *det;
  const fc_image *img;
  int found;
} faces_ctx;

static fc_status faces_once(fc_device *dev, void *ctx) {
  (void)dev;
  faces_ctx *c = ctx;
  fc_face *faces = NULL;
  fc_status st = fc_face_detect(c->det, c->img, NULL, &faces, &c->found);
  free(faces);
  return st;
}

/* A picture for the faces section: the file as it is, or synthetic faces (fc_synth_render,
 * 3 channels) enlarged to side, on a gray w × h canvas. */
static fc_status faces_picture(const char *file, int w, int h, int side, fc_image *out) {
  if (file) return fc_image_load(file, &(fc_decode_request){.channels = 3}, out, NULL);
  fc_synth_config sc;
  fc_synth_config_default(&sc);
  sc.channels = 3, sc.height = sc.width = side;
  fc_image face = {0};
  FC_TRY(fc_image_alloc(out, 3, h, w));
  memset(out->data, 128, (size_t)3 * h * w);
  fc_status st = fc_synth_render(&sc, 0, 3, &face);
  for (int c = 0; st == FC_OK && c < 3; c++)
    for (int y = 0; y < side && y < h; y++)
      for (int x = 0; x < side && x < w; x++)
        out->data[((size_t)c * h + y + (h - side) / 2) * w + x + (w - side) / 2] =
            face.data[((size_t)c * side + y) * side + x];
  fc_image_free(&face);
  return st;
}

static fc_status bench_faces(bench *bn) {
  fc_device *dev = bn->dev;
  const char *faces_detector = bn->cfg->faces_detector;
  char path[4096];
  FC_TRY(fc_face_detector_path(faces_detector, path, sizeof path));
  if (!faces_detector && access(path, R_OK) != 0) {
    char line[4200];
    snprintf(line, sizeof line,
             "\nface detection: skipped (no detector at %s; run tools/get-face-detector)\n", path);
    note(bn, line);
    return FC_OK;
  }
  fc_face_detector *det = NULL;
  FC_TRY(fc_face_detector_create(dev, path, &det));
  section(bn, "face detection (MTCNN: P-Net pyramid, R-Net, O-Net; default thresholds)");
  fc_image photo = {0}, portrait = {0};
  fc_status st = faces_picture(bn->cfg->faces_photo, 640, 480, 200, &photo);
  if (st == FC_OK) st = faces_picture(bn->cfg->faces_portrait, 256, 256, 256, &portrait);
  const fc_image *imgs[2] = {&photo, &portrait};
  const char *what[2] = {"photo", "portrait"};
  for (int i = 0; i < 2 && st == FC_OK; i++) {
    faces_ctx ctx = {det, imgs[i], 0};
    st = faces_once(dev, &ctx); /* the face count for the row's name */
    char name[112];
    snprintf(name, sizeof name, "detect %s %dx%d (%d face%s)", what[i], imgs[i]->width,
             imgs[i]->height, ctx.found, ctx.found == 1 ? "" : "s");
    if (st == FC_OK) st = run_one(bn, "faces", name, faces_once, &ctx, 1e9, "img/s", 0);
  }
  fc_image_free(&photo);
  fc_image_free(&portrait);
  fc_face_detector_free(det);
  return st;
}

/* ---- the run ---- */

void fc_bench_config_default(fc_bench_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  fc_net_config_default(&cfg->model);
  (void)fc_net_config_set_arch(&cfg->model, "resnet18");
  cfg->model.in_channels = 3;
  cfg->model.input_size = 112;
  cfg->model.width = 1.0;
  cfg->model.stem = FC_STEM_IMAGENET;
  cfg->batch = 64;
  cfg->steps = 5;
  cfg->sections = FC_BENCH_ALL;
  fc_train_config recipe; /* the semi-supervised step's defaults */
  fc_train_config_default(&recipe);
  cfg->ssl_batch = recipe.batch;
  cfg->ssl_mu = recipe.mu;
  cfg->lae_kernel = recipe.net.lae_kernel;
  cfg->budget_ms = 300;
}

fc_status fc_bench_run(fc_device *device, const fc_bench_config *config, fc_bench_report *report) {
  memset(report, 0, sizeof *report);
  fc_bench_config cfg = *config;
  if (cfg.steps > 10000) cfg.steps = 10000;
  if (cfg.steps < 1) cfg.steps = 1;
  bench bn = {device, &cfg, report, 0};
  fc_status st = fc_net_config_check(&cfg.model);
  if (st == FC_OK && cfg.train) return bench_train(&bn);
  if (st == FC_OK && (cfg.sections & FC_BENCH_PEAK)) st = bench_peak(&bn);
  if (st == FC_OK && (cfg.sections & FC_BENCH_PEAK)) st = bench_bandwidth(&bn);
  if (st == FC_OK && (cfg.sections & FC_BENCH_LATENCY)) st = bench_latency(&bn);
  if (st == FC_OK && (cfg.sections & FC_BENCH_GEMM)) st = bench_gemm(&bn);
  if (st == FC_OK && (cfg.sections & FC_BENCH_CONV)) st = bench_convs(&bn, &cfg.model);
  if (st == FC_OK && (cfg.sections & FC_BENCH_OPS)) st = bench_ops(&bn, &cfg.model);
  if (st == FC_OK && (cfg.sections & FC_BENCH_FACES)) st = bench_faces(&bn);
  if (st == FC_OK) st = profile_collect(&bn, 0);
  return st;
}

void fc_bench_report_free(fc_bench_report *report) {
  free(report->results);
  memset(report, 0, sizeof *report);
}
