/* Shared by the host side of the ops. */
#ifndef FERCL_OPS_INTERNAL_H
#define FERCL_OPS_INTERNAL_H

#include "device/runtime.h"
#include "fercl/ops.h"

/* Kernel arguments for a view: the buffer, then the offset as a uint.
 * FC_ARG_VIEW(v) is both, as two entries of an argument list. */
#define FC_ARG_VIEW_MEM(v) FC_ARG_MEM((v).mem)
#define FC_ARG_VIEW_OFF(v) FC_ARG_UINT((v).offset)
#define FC_ARG_VIEW(v) FC_ARG_VIEW_MEM(v), FC_ARG_VIEW_OFF(v)
/* An optional view (mem may be NULL) as three arguments: a valid buffer
 * (fallback when absent), the offset, and 1 when present. */
#define FC_ARG_OPTIONAL_VIEW(v, fallback) \
  FC_ARG_MEM((v).mem ? (v).mem : (fallback)), FC_ARG_VIEW_OFF(v), FC_ARG_UINT((v).mem != NULL)

/* Offsets and counts travel to kernels as 32-bit uints. */
fc_status fc_ops_check_u32(const char *op, size_t value, const char *what);

#endif
