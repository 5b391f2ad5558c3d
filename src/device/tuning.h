/* Per-device performance parameters: which GEMM engine runs fc_gemm, the
 * shape of fer-cl's own GEMM micro-kernel, and CLBlast's Xgemm parameters.
 *
 * `fer-cl tune` measures them and stores the winners in a small text file
 * under the user's cache folder, one per (platform, device, driver):
 *   $FERCL_CACHE_DIR/tuning/<hash>.txt, else $XDG_CACHE_HOME/fer-cl/tuning/…,
 *   else ~/.cache/fer-cl/tuning/…
 * Every device open loads that file if it exists (a missing, stale or
 * unreadable file just means the defaults, with a debug log line), so train,
 * eval and bench pick the tuned parameters up automatically.
 * FERCL_GEMM=clblast|fercl overrides the engine (for comparisons). */
#ifndef FERCL_DEVICE_TUNING_H
#define FERCL_DEVICE_TUNING_H

#include <stddef.h>

#include "fercl/status.h"

typedef enum fc_gemm_engine {
  FC_GEMM_ENGINE_FERCL = 0,  /* cl/gemm.cl: packed panels + register tiles (CPU devices) */
  FC_GEMM_ENGINE_CLBLAST = 1 /* CLBlast (GPUs, and where a tuning run found it faster) */
} fc_gemm_engine;

#define FC_TUNING_MAX_CLBLAST 16

typedef struct fc_gemm_params {
  fc_gemm_engine engine;
  int mr;     /* tile rows: 4, 5, 6, 8, 12 or 16 */
  int nv;     /* tile columns = 8·nv, nv 1..3 */
  int wg;     /* work-items (column panels) per work-group */
  int kc;     /* k block: a B panel slice of kc rows is reused by all row tiles (0: all of K) */
  int ablock; /* floats of A panels per work-item group in fc_gemm (0: no limit) */
  int vec;    /* 16: with nv 2, a tile row is one float16 (devices with 512-bit vectors); else 8 */
} fc_gemm_params;

typedef struct fc_tuning {
  fc_gemm_params gemm;
  int ops_wg;        /* work-group size of element-wise launches (0: the device default) */
  int conv_implicit; /* stride-1 convolutions through the implicit-GEMM kernels (fer-cl engine) */
  int tuned;         /* loaded from a tuning file */
  char source[1024]; /* the file it came from, or "" */
  /* CLBlast Xgemm parameter overrides (CLBlastOverrideParameters), as name=value. */
  int clblast_count;
  char clblast_names[FC_TUNING_MAX_CLBLAST][16];
  size_t clblast_values[FC_TUNING_MAX_CLBLAST];
  int clblast_applied; /* overrides handed to CLBlast (done before its first GEMM) */
} fc_tuning;

struct fc_device;

/* Defaults for this device before any tuning. */
void fc_tuning_defaults(const struct fc_device *dev, fc_tuning *t);
/* The tuning file path for this device ("" when no cache folder can be found). */
void fc_tuning_path(const struct fc_device *dev, char *path, size_t size);
/* Parses a tuning file's text into t (which holds the defaults); FC_ERR_FORMAT naming
 * the line for anything it does not understand. */
fc_status fc_tuning_parse(const struct fc_device *dev, const char *text, fc_tuning *t);
/* Writes t (temp + rename), creating the folder. */
fc_status fc_tuning_save(const struct fc_device *dev, const fc_tuning *t, const char *path);
/* Called by fc_device_open: defaults, then the tuning file if present, then the
 * FERCL_GEMM override. Never fails the open. */
void fc_tuning_load_at_open(struct fc_device *dev);
/* Installs t on the device; CLBlast overrides are handed over before CLBlast's
 * next GEMM (so a benchmark can still time CLBlast's own defaults first). */
fc_status fc_tuning_apply(struct fc_device *dev, const fc_tuning *t);
/* Hands pending CLBlast Xgemm overrides to CLBlast (gemm.c calls it first). */
fc_status fc_tuning_apply_clblast(struct fc_device *dev);
/* The build options of cl/gemm.cl for t's tile ("" for the 6×16 float8
 * defaults of the file), so fc_device_build_all builds the program that
 * fc_gemm_kernel will ask for. */
void fc_tuning_gemm_options(const fc_tuning *t, char *out, size_t size);
/* "fercl 6x16 wg8 kc512" / "clblast": for logs and bench output. */
void fc_gemm_params_describe(const fc_gemm_params *p, char *out, size_t size);

#endif
