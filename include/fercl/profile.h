/* fer-cl: kernel profiles.
 *
 * A device opened with FC_DEVICE_OPEN_PROFILING records every kernel launch
 * (fer-cl's kernels and CLBlast's GEMMs) with its OpenCL event, the op that
 * launched it and the network layer being run. A profile collects those
 * records step by step (releasing the events, so a long run stays bounded)
 * and writes:
 *   - a CSV, one row per launch: step, op, kernel, layer, pass, start and
 *     duration in µs, global and local sizes, shape (GEMM sizes);
 *   - a Chrome trace (JSON; open in chrome://tracing or ui.perfetto.dev);
 *   - a text summary: time per layer (forward / backward) and per kernel.
 * Rows beyond a cap (FC_PROFILE_MAX_ROWS) only count in the summary. */
#ifndef FERCL_PROFILE_H
#define FERCL_PROFILE_H

#include <stdint.h>
#include <stdio.h>

#include "fercl/api.h"
#include "fercl/device.h"
#include "fercl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FC_PROFILE_MAX_ROWS 200000

typedef struct fc_profile fc_profile;

/* FC_ERR_INVALID_ARG when the device was not opened with FC_DEVICE_OPEN_PROFILING. */
FC_API fc_status fc_profile_create(fc_device *dev, fc_profile **out);
FC_API void fc_profile_free(fc_profile *profile);
/* Waits for the device, then moves the launches recorded since the last call
 * into the profile under the label `step` (a training step, a benchmark
 * repetition). Launches collected with step < 0 are dropped (warm-up). */
FC_API fc_status fc_profile_collect(fc_profile *profile, int64_t step);
/* Number of distinct steps collected, and the total kernel time in seconds. */
FC_API int64_t fc_profile_steps(const fc_profile *profile);
FC_API double fc_profile_kernel_seconds(const fc_profile *profile);
/* Writes the per-launch CSV and the Chrome trace (either path may be NULL). */
FC_API fc_status fc_profile_write(const fc_profile *profile, const char *csv_path,
                                  const char *trace_path);
/* Per-layer and per-kernel times (ms per step) as text. */
FC_API void fc_profile_print_summary(const fc_profile *profile, FILE *out);
/* For a run folder: writes DIR/profile.csv and DIR/profile.trace.json, then the
 * summary and the two paths to `summary` (may be NULL). */
FC_API fc_status fc_profile_save_run(const fc_profile *profile, const char *dir, FILE *summary);

#ifdef __cplusplus
}
#endif
#endif
