#include "ops/op_checks.h"

fc_status fc_ops_check_shape4(const char *op, fc_shape4 s, const char *what) {
  if (s.n <= 0 || s.c <= 0 || s.h <= 0 || s.w <= 0)
    return fc_errorf(FC_ERR_INVALID_ARG,
                     "%s: %s (N=%d, C=%d, H=%d, W=%d) must have positive extents", op, what, s.n,
                     s.c, s.h, s.w);
  if (s.layout != FC_LAYOUT_NCHW && s.layout != FC_LAYOUT_CNHW)
    return fc_errorf(FC_ERR_INVALID_ARG, "%s: %s has unknown layout %d (NCHW or CNHW)", op, what,
                     (int)s.layout);
  return fc_ops_check_u32(op, fc_shape4_count(s), what);
}

fc_status fc_ops_check_rows(const char *op, int batch, int classes) {
  if (batch <= 0 || classes <= 0)
    return fc_errorf(FC_ERR_INVALID_ARG, "%s: batch %d and classes %d must be positive", op, batch,
                     classes);
  return fc_ops_check_u32(op, (size_t)batch * (size_t)classes, "batch × classes");
}

/* Shared by the element and byte checks: element size 4 or 1. */
static fc_status check_span(const char *op, const char *what, fc_view v, size_t count,
                            size_t elem) {
  if (!v.mem) return fc_errorf(FC_ERR_INVALID_ARG, "%s: %s is missing (no buffer)", op, what);
  if (count > 0xffffffffu || v.offset > 0xffffffffu - count)
    return fc_errorf(FC_ERR_LIMIT,
                     "%s: %s spans elements %zu..%zu, beyond the kernels' 32-bit indices", op, what,
                     v.offset, v.offset + count);
  size_t bytes = 0;
  if (clGetMemObjectInfo(v.mem, CL_MEM_SIZE, sizeof bytes, &bytes, NULL) != CL_SUCCESS)
    return fc_errorf(FC_ERR_INVALID_ARG, "%s: %s is not a valid OpenCL buffer", op, what);
  if ((v.offset + count) * elem > bytes)
    return fc_errorf(FC_ERR_INVALID_ARG,
                     "%s: %s needs elements %zu..%zu but its buffer holds %zu %zu-byte elements",
                     op, what, v.offset, v.offset + count, bytes / elem, elem);
  return FC_OK;
}

fc_status fc_ops_check_view(const char *op, const char *what, fc_view v, size_t count) {
  return check_span(op, what, v, count, 4);
}

fc_status fc_ops_check_bytes(const char *op, const char *what, fc_view v, size_t count) {
  return check_span(op, what, v, count, 1);
}

fc_status fc_ops_require_view(const char *op, fc_view v, const char *what) {
  if (!v.mem) return fc_errorf(FC_ERR_INVALID_ARG, "%s: %s is required (mem is NULL)", op, what);
  return FC_OK;
}

fc_status fc_ops_check_optional_view(const char *op, const char *what, fc_view v, size_t count) {
  return v.mem ? fc_ops_check_view(op, what, v, count) : FC_OK;
}

fc_status fc_ops_check_views(const char *op, const fc_view_need *needs, int count) {
  for (int i = 0; i < count; i++)
    FC_TRY(fc_ops_check_view(op, needs[i].what, needs[i].v, needs[i].count));
  return FC_OK;
}

fc_status fc_ops_run_1d(fc_device *dev, const char *program, const char *name, const char *op,
                        size_t global, const fc_kernel_arg *args, int nargs) {
  cl_kernel k;
  FC_TRY(fc_device_kernel(dev, program, "", name, &k));
  return fc_launch_1d(dev, k, op, global, args, nargs);
}
