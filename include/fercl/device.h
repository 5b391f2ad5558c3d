/* fer-cl: OpenCL devices.
 *
 * Every device of every platform gets one flat index, in platform order then
 * device order: that index is what `--device N` means. A device can also be
 * selected as "P:D" (platform P, its device D) or by a case-insensitive
 * substring of its name ("--device nvidia"). FERCL_DEVICE supplies the
 * default selector. */
#ifndef FERCL_DEVICE_H
#define FERCL_DEVICE_H

#include <stddef.h>
#include <stdint.h>

#include "fercl/api.h"
#include "fercl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum fc_device_type {
  FC_DEVICE_TYPE_CPU = 1,
  FC_DEVICE_TYPE_GPU = 2,
  FC_DEVICE_TYPE_ACCELERATOR = 4,
  FC_DEVICE_TYPE_OTHER = 8
} fc_device_type;

typedef struct fc_device_info {
  int index;          /* flat index over all platforms */
  int platform_index; /* P of "P:D" */
  int device_index;   /* D of "P:D" */
  char name[256];
  char vendor[256];
  char platform_name[256];
  char platform_version[256];
  char device_version[256]; /* "OpenCL 3.0 ..." */
  char driver_version[256];
  char opencl_c_version[256]; /* "OpenCL C 1.2 ..." */
  fc_device_type type;
  unsigned compute_units;
  unsigned max_clock_mhz;
  uint64_t global_mem_bytes;
  uint64_t local_mem_bytes;
  uint64_t max_alloc_bytes;
  size_t max_work_group_size;
  unsigned native_float_width; /* floats per native vector: 16 with AVX-512, 8 with AVX2 */
  int has_fp16;
  int has_fp64;
  int is_pocl; /* Portable Computing Language platform */
} fc_device_info;

/* The result of enumerating all platforms and devices. */
typedef struct fc_device_registry fc_device_registry;

/* Enumerates every platform and device. A platform that fails to enumerate
 * is logged as a warning and skipped. With no platform at all, or no device
 * on any platform, returns FC_ERR_NO_PLATFORM with a message carrying the
 * install hint. */
FC_API fc_status fc_device_registry_create(fc_device_registry **out);
FC_API void fc_device_registry_free(fc_device_registry *registry);

FC_API int fc_device_registry_count(const fc_device_registry *registry);
FC_API const fc_device_info *fc_device_registry_info(const fc_device_registry *registry, int index);
/* Platforms that failed to enumerate and were skipped (for `fer-cl devices`). */
FC_API int fc_device_registry_skipped_platforms(const fc_device_registry *registry);

/* Resolves a selector to a flat index: "N", "P:D" or a name substring.
 * NULL or "" uses $FERCL_DEVICE, then 0. On failure FC_ERR_NO_DEVICE with a
 * message that lists the valid devices. */
FC_API fc_status fc_device_registry_select(const fc_device_registry *registry, const char *selector,
                                           int *index);

/* An opened device: one context and one in-order command queue. */
typedef struct fc_device fc_device;

enum {
  FC_DEVICE_OPEN_PROFILING = 1u << 0, /* queue records event timestamps */
};

FC_API fc_status fc_device_open(const fc_device_registry *registry, int index, unsigned flags,
                                fc_device **out);
/* Enumerates, selects and opens in one call (selector as for _select). */
FC_API fc_status fc_device_open_selected(const char *selector, unsigned flags, fc_device **out);
FC_API void fc_device_close(fc_device *device);

FC_API const fc_device_info *fc_device_get_info(const fc_device *device);

/* Waits for all queued work. */
FC_API fc_status fc_device_finish(fc_device *device);

/* A kernel's preferred work-group size multiple on this device (compiles the
 * self-test kernel on first use). */
FC_API fc_status fc_device_preferred_wg_multiple(fc_device *device, size_t *multiple);

#ifdef __cplusplus
}
#endif
#endif
