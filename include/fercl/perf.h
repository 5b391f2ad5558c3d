/* fer-cl: performance measurement and tuning, the library side of
 * `fer-cl bench` and `fer-cl tune` (src/perf/). The caller picks the options
 * and prints; the library measures and reports through callbacks as results
 * come, so a long run shows its progress.
 *
 * Timing: every bench measurement runs once to build kernels, then is
 * repeated for a time budget (at least 3 and at most 50 repetitions), each
 * repetition waited for on its own; min and median are reported. */
#ifndef FERCL_PERF_H
#define FERCL_PERF_H

#include <stddef.h>

#include "fercl/api.h"
#include "fercl/device.h"
#include "fercl/net.h"
#include "fercl/profile.h"
#include "fercl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Monotonic clock in seconds. */
FC_API double fc_perf_now_s(void);

/* The GEMM parameters a device uses now ("fer-cl mr6 ..." or "CLBlast"), whether
 * they came from a tuning file, and which file ("" when not tuned). */
typedef struct fc_perf_tuning_info {
  char gemm[64];
  int tuned;
  char source[1024];
} fc_perf_tuning_info;
FC_API void fc_perf_tuning_info_get(const fc_device *device, fc_perf_tuning_info *out);

/* ---- fer-cl bench ---- */

enum {
  FC_BENCH_PEAK = 1u << 0,    /* FMA peaks and bandwidth */
  FC_BENCH_LATENCY = 1u << 1, /* launch latency, transfers */
  FC_BENCH_GEMM = 1u << 2,
  FC_BENCH_CONV = 1u << 3,  /* every convolution shape of the model */
  FC_BENCH_OPS = 1u << 4,   /* memory-bound ops at the model's largest activation */
  FC_BENCH_FACES = 1u << 5, /* MTCNN face detection (skipped without a detector file) */
  FC_BENCH_ALL = 63u
};

typedef struct fc_bench_result {
  char section[16];
  char name[112];
  double min_ms, median_ms;
  double rate;      /* GFLOP/s, GB/s (see unit) */
  const char *unit; /* "GFLOP/s", "GB/s", "us" (a latency: rate unused) */
  double pct_peak;  /* share of the measured peak; < 0: none */
  int reps;
} fc_bench_result;

typedef struct fc_bench_train_result {
  char what[128];
  int images; /* per step */
  double plan_s, min_s, median_s, mean_s;
} fc_bench_train_result;

/* Called as the run goes; any may be NULL. `note` gets a whole line (with its
 * newline) that belongs to the section above it. */
typedef struct fc_bench_sink {
  void (*section)(void *user, const char *title);
  void (*result)(void *user, const fc_bench_result *result);
  void (*train)(void *user, const fc_bench_train_result *result);
  void (*note)(void *user, const char *line);
  void *user;
} fc_bench_sink;

typedef struct fc_bench_config {
  fc_net_config model; /* the convolution shapes and --train's network */
  int batch;           /* of the convolution shapes and the supervised step */
  int steps;           /* timed training steps after one warm-up (at most 10000) */
  unsigned sections;   /* FC_BENCH_* (device and op sections) */
  int train;           /* time training steps instead of the sections */
  int no_ssl, no_supervised;
  int ssl_batch, ssl_mu, lae_kernel; /* the semi-supervised step */
  double budget_ms;                  /* time spent repeating each measurement */
  int quick;                         /* fewer sizes and 0.4 x the budget */
  int no_clblast;
  /* The faces section: a photo and a portrait (NULL: synthetic faces) and the MTCNN
   * weights (NULL: fc_face_detector_path's default). */
  const char *faces_photo, *faces_portrait, *faces_detector;
  fc_profile *profile; /* NULL, or collects every timed kernel */
  fc_bench_sink sink;
} fc_bench_config;

/* The defaults of `fer-cl bench` (resnet18, 112 px, batch 64, the default recipe's
 * semi-supervised step). */
FC_API void fc_bench_config_default(fc_bench_config *cfg);

typedef struct fc_bench_report {
  fc_bench_result *results;
  int n_results;
  double peak_scalar, peak_vector, peak_bw; /* measured; 0 when not */
  fc_bench_train_result train[2];
  int n_train;
} fc_bench_report;

/* Runs the sections (or the training steps); the report holds what was
 * measured, also on failure. Free with fc_bench_report_free. */
FC_API fc_status fc_bench_run(fc_device *device, const fc_bench_config *cfg,
                              fc_bench_report *report);
FC_API void fc_bench_report_free(fc_bench_report *report);

/* ---- fer-cl tune ---- */

typedef struct fc_tune_config {
  fc_net_config model; /* whose convolutions are timed */
  int batch;
  int quick, restart, no_clblast;
  /* Progress text (stderr in fer-cl), chunks that end lines themselves. */
  void (*progress)(void *user, const char *text);
  void *user;
} fc_tune_config;

typedef struct fc_tune_result {
  char path[1024];    /* the tuning file written */
  char gemm[64];      /* the GEMM chosen, described */
  int ops_wg;         /* element-wise work-group size chosen */
  double fercl_ms;    /* the convolutions with the best of fer-cl's GEMM */
  int clblast_faster; /* CLBlast won the convolutions */
} fc_tune_result;

/* Measures the candidates (resuming an interrupted run unless cfg->restart),
 * saves the winners where every later device open finds them. */
FC_API fc_status fc_tune_run(fc_device *device, const fc_tune_config *cfg, fc_tune_result *result);

#ifdef __cplusplus
}
#endif
#endif
