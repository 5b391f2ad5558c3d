/* Internal device runtime: what op code needs beyond the public device API —
 * the OpenCL handles, program/kernel lookup, buffers and kernel launches. */
#ifndef FERCL_DEVICE_RUNTIME_H
#define FERCL_DEVICE_RUNTIME_H

#include <CL/cl.h>
#include <stddef.h>
#include <stdint.h>

#include "fercl/device.h"
#include "device/tuning.h"

/* ---- registry internals (registry.c) ---- */

cl_platform_id fc_device_registry_platform(const fc_device_registry *registry, int index);
cl_device_id fc_device_registry_id(const fc_device_registry *registry, int index);

/* ---- program table (program.c) ---- */

typedef struct fc_kernel_entry {
  char *name;
  cl_kernel kernel;
} fc_kernel_entry;

typedef struct fc_program_entry {
  char *source_name;
  char *options; /* caller's options, without the ones fc_device adds */
  uint64_t key;  /* hash of (source_name, options) for quick lookup */
  cl_program program;
  fc_kernel_entry *kernels;
  int kernel_count, kernel_capacity;
} fc_program_entry;

typedef enum fc_binary_cache_mode {
  FC_BINARY_CACHE_AUTO = 0, /* on, except on PoCL (see binary_cache.c) */
  FC_BINARY_CACHE_OFF,
  FC_BINARY_CACHE_FORCE /* on even on PoCL: tests use it to exercise the cache */
} fc_binary_cache_mode;

typedef struct fc_runtime_stats {
  int source_builds; /* programs compiled from source */
  int cache_hits;    /* programs loaded from the on-disk binary cache */
  int cache_writes;  /* binaries written to the cache */
  int cache_rejects; /* cache files found but unusable (corrupt, stale) */
  double build_seconds;
} fc_runtime_stats;

/* A recorded kernel launch, kept when the queue has profiling enabled. */
typedef struct fc_launch_record {
  const char *tag;  /* op name given by the caller, static string */
  cl_kernel kernel; /* NULL for launches made by a library (CLBlast) */
  cl_event event;
  size_t global[3], local[3];
  cl_uint dims;
  const char *layer; /* the network layer being run (fc_device_set_layer), or NULL */
  int backward;      /* an fc_pass: 0 forward, else which part of the backward pass */
  char shape[40];    /* e.g. GEMM "m=64 n=3136 k=576", or "" */
} fc_launch_record;

struct fc_device {
  fc_device_info info;
  cl_platform_id platform;
  cl_device_id id;
  cl_context context;
  cl_command_queue queue;
  unsigned flags;

  fc_program_entry *programs;
  int program_count, program_capacity;
  char *kernel_dir; /* FERCL_KERNEL_DIR: load .cl files from here instead of the embedded copies */
  fc_binary_cache_mode cache_mode;
  char cache_dir[1024]; /* "" when the binary cache is off */
  int compile_locked;   /* set during training steps: a build is then a bug */
  fc_runtime_stats stats;

  size_t wg_1d;    /* work-group size for 1-D element-wise launches */
  int cpu_kernels; /* use the CPU kernel variants (FC_DEVICE_CPU=1 in the sources) */
  int oclgrind;    /* the Oclgrind simulator: partial host transfers run as kernels (oclgrind.c) */

  /* Profiling (FC_DEVICE_OPEN_PROFILING). */
  fc_launch_record *launches;
  size_t launch_count, launch_capacity;
  const char *prof_layer; /* attribution of the next launches (fc_device_set_layer) */
  int prof_backward;
  char prof_shape[40]; /* shape note for the next launches (GEMM sizes), or "" */

  /* Performance parameters (src/device/tuning.c) and fc_gemm's packing scratch
   * (grown on first use by a shape, so steady-state steps never allocate). */
  fc_tuning tuning;
  cl_mem gemm_scratch;
  size_t gemm_scratch_bytes;
};

/* Pass of the following launches in profiles. A convolution's backward names
 * its two halves, whose kernels (packing, GEMM) are otherwise the same ones. */
typedef enum fc_pass {
  FC_PASS_FORWARD = 0,
  FC_PASS_BACKWARD = 1,
  FC_PASS_BACKWARD_DATA = 2,
  FC_PASS_BACKWARD_WEIGHTS = 3
} fc_pass;

/* Names the layer (static storage, e.g. fc_layer.name) that the following
 * launches belong to, for per-layer profiles; NULL clears it. backward is an
 * fc_pass (1 = backward). */
static inline void fc_device_set_layer(fc_device *device, const char *layer, int backward) {
  device->prof_layer = layer;
  device->prof_backward = backward;
}

/* Builds (or finds) the program for cl/<source_name>.cl with extra options
 * such as "-DKH=3 -DKW=3". The device adds -cl-std=CL1.2 and FC_DEVICE_CPU
 * (= cpu_kernels). */
fc_status fc_device_program(fc_device *device, const char *source_name, const char *options,
                            cl_program *out);
/* The kernel `kernel_name` of that program; created once, then cached. */
fc_status fc_device_kernel(fc_device *device, const char *source_name, const char *options,
                           const char *kernel_name, cl_kernel *out);

/* Builds every program of cl/ with default options (what the ops use), so
 * nothing compiles later; reports the first failure. */
fc_status fc_device_build_all(fc_device *device);

/* Raw source of cl/<name>.cl (embedded, or from FERCL_KERNEL_DIR). *text is
 * malloc'd; free() it. */
fc_status fc_kernel_source_text(const fc_device *device, const char *source_name, char **text);

/* While locked, a program build fails with FC_ERR_INTERNAL: training steps
 * lock the device so a compile inside a step is caught. */
void fc_device_lock_compiles(fc_device *device, int locked);

/* Binary cache policy; dir NULL uses $FERCL_CACHE_DIR / XDG default. */
void fc_device_set_binary_cache(fc_device *device, fc_binary_cache_mode mode, const char *dir);

/* ---- kernel arguments and launches (launch.c) ---- */

typedef struct fc_kernel_arg {
  size_t size;
  const void *value; /* NULL with a size: __local memory of that many bytes */
} fc_kernel_arg;

#define FC_ARG_MEM(m) ((fc_kernel_arg){sizeof(cl_mem), &(cl_mem){(m)}})
#define FC_ARG_INT(v) ((fc_kernel_arg){sizeof(cl_int), &(cl_int){(cl_int)(v)}})
#define FC_ARG_UINT(v) ((fc_kernel_arg){sizeof(cl_uint), &(cl_uint){(cl_uint)(v)}})
#define FC_ARG_ULONG(v) ((fc_kernel_arg){sizeof(cl_ulong), &(cl_ulong){(cl_ulong)(v)}})
#define FC_ARG_FLOAT(v) ((fc_kernel_arg){sizeof(cl_float), &(cl_float){(cl_float)(v)}})
#define FC_ARG_LOCAL(bytes) ((fc_kernel_arg){(bytes), NULL})
#define FC_NARGS(array) ((int)(sizeof(array) / sizeof((array)[0])))

/* Sets the arguments and enqueues. local may be NULL (driver's choice);
 * otherwise global is rounded up to a multiple of local per dimension, and
 * the kernel must bounds-check. tag names the op for profiles and errors. */
fc_status fc_launch(fc_device *device, cl_kernel kernel, const char *tag, cl_uint dims,
                    const size_t *global, const size_t *local, const fc_kernel_arg *args,
                    int nargs);
/* 1-D launch over n items with the device's standard work-group size. */
fc_status fc_launch_1d(fc_device *device, cl_kernel kernel, const char *tag, size_t n,
                       const fc_kernel_arg *args, int nargs);

/* Records a command a library enqueued with an event (CLBlast's GEMMs) when the
 * queue profiles; takes ownership of event (released when launches are cleared).
 * shape may be NULL. Without profiling it just releases the event. */
fc_status fc_device_record_event(fc_device *device, const char *tag, cl_event event,
                                 const char *shape);
/* Whether launches are being recorded. */
static inline int fc_device_profiling(const fc_device *device) {
  return (device->flags & FC_DEVICE_OPEN_PROFILING) != 0;
}

/* Drops recorded launches (profiling) after releasing their events. */
void fc_device_clear_launches(fc_device *device);

/* ---- buffers (buffer.c) ---- */

/* Allocates device memory; `what` names it in errors ("activations"). Checks
 * the size against the device's limits first, so an impossible request gets
 * a message with the numbers rather than a late CL_OUT_OF_RESOURCES. */
/* Oclgrind (src/device/oclgrind.c): its --uninitialized check loses track of
 * a buffer after a host write or copy of part of it, or any fill, so there
 * those run as kernels. fc_oclgrind_partial: a write or copy that needs it. */
int fc_oclgrind_detect(const fc_device_info *info);
int fc_oclgrind_partial(const fc_device *device, cl_mem mem, size_t offset_bytes, size_t bytes);
fc_status fc_oclgrind_write(fc_device *device, cl_mem mem, size_t offset_bytes, size_t bytes,
                            const void *host);
fc_status fc_oclgrind_fill_zero(fc_device *device, cl_mem mem, size_t offset_bytes, size_t bytes);
fc_status fc_oclgrind_copy(fc_device *device, cl_mem src, size_t src_offset_bytes, cl_mem dst,
                           size_t dst_offset_bytes, size_t bytes);

fc_status fc_buffer_alloc(fc_device *device, size_t bytes, const char *what, cl_mem *out);
void fc_buffer_release(cl_mem *mem);
fc_status fc_buffer_write(fc_device *device, cl_mem mem, size_t offset_bytes, size_t bytes,
                          const void *host, int blocking);
fc_status fc_buffer_read(fc_device *device, cl_mem mem, size_t offset_bytes, size_t bytes,
                         void *host, int blocking);
fc_status fc_buffer_fill_zero(fc_device *device, cl_mem mem, size_t offset_bytes, size_t bytes);
fc_status fc_buffer_copy(fc_device *device, cl_mem src, size_t src_offset_bytes, cl_mem dst,
                         size_t dst_offset_bytes, size_t bytes);

/* ---- errors ---- */

const char *fc_cl_error_name(cl_int err);
/* FC_ERR_OPENCL (or FC_ERR_DEVICE_MEMORY for allocation failures) with
 * "<what> failed on <device>: CL_XXX (-n)". */
fc_status fc_cl_error(const fc_device *device, cl_int err, const char *what);

#endif
