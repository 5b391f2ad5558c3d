/* Argument checks shared by the host side of the ops: every op validates its
 * shapes and views before enqueueing, so a bad call gets one clear message
 * instead of an out-of-bounds kernel. Checks only query; they never wait. */
#ifndef FERCL_OPS_OP_CHECKS_H
#define FERCL_OPS_OP_CHECKS_H

#include "ops/ops_internal.h"

/* n, c, h, w > 0, a known layout, and the element count within 32-bit indices;
 * `what` names the tensor in messages. */
fc_status fc_ops_check_shape4(const char *op, fc_shape4 shape, const char *what);
/* batch, classes > 0 and batch·classes within 32-bit indices. */
fc_status fc_ops_check_rows(const char *op, int batch, int classes);
/* `what` is present and its buffer holds offset + count 4-byte elements; the end
 * index fits the kernels' 32-bit indices. */
fc_status fc_ops_check_view(const char *op, const char *what, fc_view v, size_t count);
/* The same for a view of bytes (uint8 images): offset and count in bytes. */
fc_status fc_ops_check_bytes(const char *op, const char *what, fc_view v, size_t count);
/* FC_ERR_INVALID_ARG when a required view is absent. */
fc_status fc_ops_require_view(const char *op, fc_view v, const char *what);
/* Like fc_ops_check_view, but an absent view (mem NULL) is accepted. */
fc_status fc_ops_check_optional_view(const char *op, const char *what, fc_view v, size_t count);

/* One view an op takes: its name in messages, the view, the 4-byte elements it must hold. */
typedef struct fc_view_need {
  const char *what;
  fc_view v;
  size_t count;
} fc_view_need;
/* fc_ops_check_view on each, in order: FC_OPS_CHECK_VIEWS(op, {"q", q, n}, {"y", y, n}). */
fc_status fc_ops_check_views(const char *op, const fc_view_need *needs, int count);
#define FC_OPS_CHECK_VIEWS(op, ...)                           \
  fc_ops_check_views(op, (const fc_view_need[]){__VA_ARGS__}, \
                     (int)(sizeof((const fc_view_need[]){__VA_ARGS__}) / sizeof(fc_view_need)))

/* Kernel `name` of cl/<program>.cl (no options), enqueued over global work-items. */
fc_status fc_ops_run_1d(fc_device *dev, const char *program, const char *name, const char *op,
                        size_t global, const fc_kernel_arg *args, int nargs);

#endif
