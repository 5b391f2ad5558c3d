/* bench_conv: times fer-cl's convolution (im2col + CLBlast GEMM) on a few
 * ResNet-18 shapes in both layouts, its im2col and GEMM parts alone, and
 * CLBlast's own CLBlastSconvgemm (NCHW only).
 *   bench_conv [--device SEL] [--batch N] [--reps R] [--shape SUBSTRING]
 * Prints one line per measurement: the fastest and the median of R runs after
 * a warm-up run (milliseconds; the minimum resists other load on a shared
 * machine), and GFLOP/s of the fastest run for the convolutions. */
#include <clblast_c.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "device/runtime.h"
#include "fercl/ops.h"

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return 1e3 * (double)ts.tv_sec + 1e-6 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

typedef fc_status (*bench_fn)(void *ctx);

static double last_median; /* of the latest time_min call */

/* Fastest of `reps` runs; the median goes to last_median. */
static double time_min(fc_device *dev, bench_fn fn, void *ctx, int reps) {
  if (fn(ctx) != FC_OK || fc_device_finish(dev) != FC_OK) { /* warm-up: builds kernels */
    fprintf(stderr, "bench_conv: %s\n", fc_last_error());
    exit(1);
  }
  double t[64];
  if (reps > 64) reps = 64;
  for (int r = 0; r < reps; r++) {
    double t0 = now_ms();
    if (fn(ctx) != FC_OK || fc_device_finish(dev) != FC_OK) {
      fprintf(stderr, "bench_conv: %s\n", fc_last_error());
      exit(1);
    }
    t[r] = now_ms() - t0;
  }
  qsort(t, (size_t)reps, sizeof t[0], cmp_double);
  last_median = t[reps / 2];
  return t[0];
}

typedef struct bench {
  fc_device *dev;
  fc_conv2d_desc d;
  cl_mem x, w, y, ws;
  size_t ws_size;
} bench;

static fc_status run_forward(void *ctx) {
  bench *b = ctx;
  return fc_conv2d_forward(b->dev, &b->d, fc_view_of(b->x, 0), fc_view_of(b->w, 0),
                           fc_view_of(NULL, 0), fc_view_of(b->y, 0), fc_view_of(b->ws, 0),
                           b->ws_size);
}

static fc_status run_backward_data(void *ctx) {
  bench *b = ctx;
  return fc_conv2d_backward_data(b->dev, &b->d, fc_view_of(b->y, 0), fc_view_of(b->w, 0),
                                 fc_view_of(b->x, 0), fc_view_of(b->ws, 0), b->ws_size);
}

static fc_status run_backward_weights(void *ctx) {
  bench *b = ctx;
  return fc_conv2d_backward_weights(b->dev, &b->d, fc_view_of(b->x, 0), fc_view_of(b->y, 0),
                                    fc_view_of(b->w, 0), fc_view_of(NULL, 0), 0,
                                    fc_view_of(b->ws, 0), b->ws_size);
}

/* im2col of the whole batch. */
static fc_status run_im2col(void *ctx) {
  bench *b = ctx;
  size_t cols = (size_t)b->d.n * fc_conv2d_out_h(&b->d) * fc_conv2d_out_w(&b->d);
  return fc_im2col(b->dev, &b->d, fc_view_of(b->x, 0), 0, b->d.n, fc_view_of(b->ws, 0), cols);
}

/* The GEMM alone (CNHW forward over the whole batch). */
static fc_status run_gemm(void *ctx) {
  bench *b = ctx;
  size_t k = (size_t)b->d.c_in * b->d.kh * b->d.kw;
  size_t cols = (size_t)b->d.n * fc_conv2d_out_h(&b->d) * fc_conv2d_out_w(&b->d);
  return fc_gemm(b->dev, 0, 0, (size_t)b->d.c_out, cols, k, 1.0f, fc_view_of(b->w, 0), k,
                 fc_view_of(b->ws, 0), cols, 0.0f, fc_view_of(b->y, 0), cols);
}

static fc_status run_sconvgemm(void *ctx) {
  bench *b = ctx;
  CLBlastStatusCode code = CLBlastSconvgemm(
      CLBlastKernelModeCrossCorrelation, (size_t)b->d.c_in, (size_t)b->d.h, (size_t)b->d.w,
      (size_t)b->d.kh, (size_t)b->d.kw, (size_t)b->d.pad, (size_t)b->d.pad, (size_t)b->d.stride,
      (size_t)b->d.stride, 1, 1, (size_t)b->d.c_out, (size_t)b->d.n, b->x, 0, b->w, 0, b->y, 0,
      &b->dev->queue, NULL);
  if (code != CLBlastSuccess)
    return fc_errorf(FC_ERR_OPENCL, "CLBlastSconvgemm failed with status %d", (int)code);
  return FC_OK;
}

/* Fastest of `reps` runs of a and of b, run alternately (a, b, a, b, ...) so
 * both see the same background load. */
static void time_pair(fc_device *dev, bench_fn a, bench_fn b, void *ctx, int reps, double *ta,
                      double *tb) {
  *ta = *tb = 1e300;
  for (int r = 0; r <= reps; r++) { /* r = 0: warm-up */
    for (int which = 0; which < 2; which++) {
      double t0 = now_ms();
      if ((which ? b : a)(ctx) != FC_OK || fc_device_finish(dev) != FC_OK) {
        fprintf(stderr, "bench_conv: %s\n", fc_last_error());
        exit(1);
      }
      double t = now_ms() - t0, *best = which ? tb : ta;
      if (r > 0 && t < *best) *best = t;
    }
  }
}

static void fill(fc_device *dev, cl_mem m, size_t n, unsigned seed) {
  float *h = malloc(n * sizeof *h);
  for (size_t i = 0; i < n; i++) {
    seed = seed * 1664525u + 1013904223u;
    h[i] = (float)(seed >> 8) / 16777216.0f - 0.5f;
  }
  if (fc_buffer_write(dev, m, 0, n * sizeof *h, h, 1) != FC_OK) exit(1);
  free(h);
}

static void read_back(fc_device *dev, cl_mem m, size_t n, float *h) {
  if (fc_buffer_read(dev, m, 0, n * sizeof *h, h, 1) != FC_OK) exit(1);
}

int main(int argc, char **argv) {
  const char *selector = NULL, *only = NULL;
  int batch = 8, reps = 5;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--device") && i + 1 < argc)
      selector = argv[++i];
    else if (!strcmp(argv[i], "--batch") && i + 1 < argc)
      batch = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
      reps = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--shape") && i + 1 < argc)
      only = argv[++i];
    else {
      fprintf(stderr,
              "usage: bench_conv [--device SEL] [--batch N] [--reps R] [--shape SUBSTRING]\n");
      return 2;
    }
  }
  if (batch < 1 || reps < 1) {
    fprintf(stderr, "bench_conv: --batch and --reps must be at least 1\n");
    return 2;
  }
  fc_device *dev = NULL;
  if (fc_device_open_selected(selector, 0, &dev) != FC_OK) {
    fprintf(stderr, "bench_conv: %s\n", fc_last_error());
    return 1;
  }
  printf("device: %s\n", fc_device_get_info(dev)->name);
  /* name, c_in, h(=w), c_out, k, stride, pad — ResNet-18 at 224² input. */
  static const struct {
    const char *name;
    int c_in, hw, c_out, k, stride, pad;
  } shapes[] = {{"stem 7x7 s2 3->64 @224", 3, 224, 64, 7, 2, 3},
                {"layer1 3x3 64->64 @56", 64, 56, 64, 3, 1, 1},
                {"layer2.0 3x3 s2 64->128 @56", 64, 56, 128, 3, 2, 1},
                {"layer3 3x3 256->256 @14", 256, 14, 256, 3, 1, 1}};
  for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
    if (only && !strstr(shapes[si].name, only)) continue;
    for (int li = 0; li < 2; li++) {
      bench b = {0};
      b.dev = dev;
      fc_conv2d_desc d = {batch,
                          shapes[si].c_in,
                          shapes[si].hw,
                          shapes[si].hw,
                          shapes[si].c_out,
                          shapes[si].k,
                          shapes[si].k,
                          shapes[si].stride,
                          shapes[si].pad,
                          li ? FC_LAYOUT_CNHW : FC_LAYOUT_NCHW};
      b.d = d;
      size_t nx = fc_shape4_count(fc_conv2d_in_shape(&d));
      size_t ny = fc_shape4_count(fc_conv2d_out_shape(&d));
      size_t nw = (size_t)d.c_out * d.c_in * d.kh * d.kw;
      b.ws_size = fc_conv2d_workspace_size(&d, 0);
      if (fc_buffer_alloc(dev, nx * 4, "x", &b.x) != FC_OK ||
          fc_buffer_alloc(dev, nw * 4, "w", &b.w) != FC_OK ||
          fc_buffer_alloc(dev, ny * 4, "y", &b.y) != FC_OK ||
          fc_buffer_alloc(dev, b.ws_size * 4, "workspace", &b.ws) != FC_OK) {
        fprintf(stderr, "bench_conv: %s\n", fc_last_error());
        return 1;
      }
      fill(dev, b.x, nx, 1);
      fill(dev, b.w, nw, 2);
      double gflop = 2.0 * (double)ny * d.c_in * d.kh * d.kw * 1e-9;
      const char *lay = li ? "CNHW" : "NCHW";
      double t = time_min(dev, run_forward, &b, reps);
      printf("%-30s %s batch %d  forward            %8.2f ms (median %8.2f)  %6.1f GFLOP/s\n",
             shapes[si].name, lay, batch, t, last_median, gflop / (t * 1e-3));
      t = time_min(dev, run_backward_data, &b, reps);
      printf("%-30s %s batch %d  backward data      %8.2f ms (median %8.2f)  %6.1f GFLOP/s\n",
             shapes[si].name, lay, batch, t, last_median, gflop / (t * 1e-3));
      t = time_min(dev, run_backward_weights, &b, reps);
      printf("%-30s %s batch %d  backward weights   %8.2f ms (median %8.2f)  %6.1f GFLOP/s\n",
             shapes[si].name, lay, batch, t, last_median, gflop / (t * 1e-3));
      if (li == 1) {
        t = time_min(dev, run_im2col, &b, reps);
        printf("%-30s %s batch %d  im2col alone       %8.2f ms (median %8.2f)\n", shapes[si].name,
               lay, batch, t, last_median);
        t = time_min(dev, run_gemm, &b, reps);
        printf("%-30s %s batch %d  GEMM alone         %8.2f ms (median %8.2f)  %6.1f GFLOP/s\n",
               shapes[si].name, lay, batch, t, last_median, gflop / (t * 1e-3));
      } else {
        /* CLBlast's convgemm takes NCHW; check it agrees with ours, then time it. */
        float *ours = malloc(ny * 4), *theirs = malloc(ny * 4);
        if (run_forward(&b) != FC_OK) return 1;
        read_back(dev, b.y, ny, ours);
        if (run_sconvgemm(&b) != FC_OK) {
          printf("%-30s NCHW batch %d  CLBlastSconvgemm   failed: %s\n", shapes[si].name, batch,
                 fc_last_error());
        } else {
          read_back(dev, b.y, ny, theirs);
          double err = 0, norm = 0;
          for (size_t i = 0; i < ny; i++) {
            err += (ours[i] - theirs[i]) * (double)(ours[i] - theirs[i]);
            norm += (double)ours[i] * ours[i];
          }
          double t_ours = 0, t_clblast = 0;
          time_pair(dev, run_forward, run_sconvgemm, &b, reps, &t_ours, &t_clblast);
          printf(
              "%-30s NCHW batch %d  A/B interleaved: ours %8.2f ms, CLBlastSconvgemm %8.2f ms "
              "(nmse vs ours %.2g)\n",
              shapes[si].name, batch, t_ours, t_clblast, err / norm);
        }
        free(ours), free(theirs);
      }
      fc_buffer_release(&b.x), fc_buffer_release(&b.w), fc_buffer_release(&b.y);
      fc_buffer_release(&b.ws);
      fflush(stdout);
    }
  }
  fc_device_close(dev);
  return 0;
}
