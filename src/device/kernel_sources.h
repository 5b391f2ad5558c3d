/* The OpenCL C sources of cl/, embedded at build time. */
#ifndef FERCL_DEVICE_KERNEL_SOURCES_H
#define FERCL_DEVICE_KERNEL_SOURCES_H

#include <stddef.h>

typedef struct fc_kernel_source {
  const char *name; /* file stem: "eltwise" for cl/eltwise.cl */
  const char *text; /* NUL-terminated */
  size_t size;      /* bytes, without the terminator */
} fc_kernel_source;

extern const fc_kernel_source fc_kernel_sources[]; /* terminated by a {0} entry */
extern const size_t fc_kernel_source_count;

#endif
