/* On-disk cache of compiled OpenCL program binaries (ggml-style). */
#ifndef FERCL_DEVICE_BINARY_CACHE_H
#define FERCL_DEVICE_BINARY_CACHE_H

#include "device/runtime.h"

/* FC_OK with *out set on a hit; anything else is a miss (never an error the
 * caller must report: a bad cache file only means a rebuild). */
fc_status fc_binary_cache_load(fc_device *device, const char *source, const char *options,
                               cl_program *out);
/* Best effort; failures are logged at debug level and otherwise ignored. */
void fc_binary_cache_store(fc_device *device, const char *source, const char *options,
                           cl_program program);
/* The cache file a (source, options) pair maps to on this device; "" when the cache is off. */
void fc_binary_cache_path(const fc_device *device, const char *source, const char *options,
                          char *path, size_t size);

#endif
