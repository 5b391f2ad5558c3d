/* bench_gemm: fc_gemm (row-major C = A·B, square) against the host's OpenBLAS,
 * either one host wait per product (as `fer-cl bench` times it) or back to
 * back with one wait per `reps` products (as a training step issues them).
 *   build/tools/bench_gemm N [REPS] [--per-call]
 * Prints the fastest of 5 rounds of REPS products (default 50) for each side
 * and their ratio (OpenBLAS time / fer-cl time: above 1, fer-cl is faster). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "device/runtime.h"
#include "fercl/device.h"
#include "fercl/fercl.h"
#include "fercl/ops.h"
#include "perf/perf_internal.h"

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int fail(void) {
  fprintf(stderr, "bench_gemm: %s\n", fc_last_error());
  return 1;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: bench_gemm N [REPS] [--per-call]\n");
    return 2;
  }
  size_t n = strtoul(argv[1], NULL, 10);
  int reps = argc > 2 && argv[2][0] != '-' ? atoi(argv[2]) : 50;
  int per_call = argc > 2 && strcmp(argv[argc - 1], "--per-call") == 0;
  if (n < 1 || n > 8192 || reps < 1) {
    fprintf(stderr, "bench_gemm: N in 1..8192, REPS >= 1\n");
    return 2;
  }
  fc_device *dev = NULL;
  if (fc_device_open_selected(NULL, 0, &dev) != FC_OK) return fail();
  size_t count = n * n, bytes = count * sizeof(float);
  float *ha = malloc(bytes), *hb = malloc(bytes), *hc = malloc(bytes);
  if (!ha || !hb || !hc) return 1;
  for (size_t i = 0; i < count; i++) {
    ha[i] = (float)((i * 7919) % 1000) * 1e-3f - 0.5f;
    hb[i] = (float)((i * 104729) % 1000) * 1e-3f - 0.5f;
  }
  cl_mem a = NULL, b = NULL, c = NULL;
  if (fc_buffer_alloc(dev, bytes, "A", &a) != FC_OK ||
      fc_buffer_alloc(dev, bytes, "B", &b) != FC_OK ||
      fc_buffer_alloc(dev, bytes, "C", &c) != FC_OK ||
      fc_buffer_write(dev, a, 0, bytes, ha, 1) != FC_OK ||
      fc_buffer_write(dev, b, 0, bytes, hb, 1) != FC_OK)
    return fail();
  double ours = 1e30;
  for (int round = -1; round < 5; round++) { /* round -1: warm-up (kernel builds) */
    double t0 = now_s();
    for (int r = 0; r < reps; r++) {
      if (fc_gemm(dev, 0, 0, n, n, n, 1.0f, fc_view_of(a, 0), n, fc_view_of(b, 0), n, 0.0f,
                  fc_view_of(c, 0), n) != FC_OK)
        return fail();
      if (per_call && fc_device_finish(dev) != FC_OK) return fail();
    }
    if (fc_device_finish(dev) != FC_OK) return fail();
    double t = (now_s() - t0) / reps;
    if (round >= 0 && t < ours) ours = t;
  }
  printf("fc_gemm  %zu^3: %.4f ms  %.1f GFLOP/s  (%s)\n", n, ours * 1e3,
         2.0 * (double)count * n / ours * 1e-9,
         per_call ? "one wait per product" : "one wait per round");
  const char *which = NULL;
  fc_cblas_sgemm_fn sgemm = fc_host_sgemm((const char *const[]){"libopenblas.so.0", NULL}, &which);
  if (!sgemm) {
    printf("OpenBLAS (libopenblas.so.0) not found: no comparison\n");
  } else {
    double host = 1e30;
    for (int round = -1; round < 5; round++) {
      double t0 = now_s();
      for (int r = 0; r < reps; r++)
        sgemm(101, 111, 111, (int)n, (int)n, (int)n, 1.0f, ha, (int)n, hb, (int)n, 0.0f, hc,
              (int)n);
      double t = (now_s() - t0) / reps;
      if (round >= 0 && t < host) host = t;
    }
    printf("OpenBLAS %zu^3: %.4f ms  %.1f GFLOP/s\nratio %.3f\n", n, host * 1e3,
           2.0 * (double)count * n / host * 1e-9, host / ours);
  }
  fc_buffer_release(&a), fc_buffer_release(&b), fc_buffer_release(&c);
  fc_device_close(dev);
  free(ha), free(hb), free(hc);
  return 0;
}
