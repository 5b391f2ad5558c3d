#include "ops/op_checks.h"

fc_status fc_ops_check_shape4(const char *op, fc_shape4 s) {
  if (s.n <= 0 || s.c <= 0 || s.h <= 0 || s.w <= 0)
    return fc_errorf(FC_ERR_INVALID_ARG, "%s: shape (N=%d, C=%d, H=%d, W=%d) must be positive", op,
                     s.n, s.c, s.h, s.w);
  if (s.layout != FC_LAYOUT_NCHW && s.layout != FC_LAYOUT_CNHW)
    return fc_errorf(FC_ERR_INVALID_ARG, "%s: unknown layout %d (NCHW or CNHW)", op, (int)s.layout);
  return fc_ops_check_u32(op, fc_shape4_count(s), "element count");
}

fc_status fc_ops_check_rows(const char *op, int batch, int classes) {
  if (batch <= 0 || classes <= 0)
    return fc_errorf(FC_ERR_INVALID_ARG, "%s: batch %d and classes %d must be positive", op, batch,
                     classes);
  return fc_ops_check_u32(op, (size_t)batch * (size_t)classes, "batch × classes");
}

fc_status fc_ops_check_view(const char *op, const char *what, fc_view v, size_t count) {
  if (!v.mem) return fc_errorf(FC_ERR_INVALID_ARG, "%s: %s is missing (no buffer)", op, what);
  if (count > 0xffffffffu || v.offset > 0xffffffffu - count)
    return fc_errorf(FC_ERR_LIMIT,
                     "%s: %s spans elements %zu..%zu, beyond the kernels' 32-bit indices", op, what,
                     v.offset, v.offset + count);
  size_t bytes = 0;
  if (clGetMemObjectInfo(v.mem, CL_MEM_SIZE, sizeof bytes, &bytes, NULL) != CL_SUCCESS)
    return fc_errorf(FC_ERR_INVALID_ARG, "%s: %s is not a valid OpenCL buffer", op, what);
  if ((v.offset + count) * 4 > bytes)
    return fc_errorf(FC_ERR_INVALID_ARG,
                     "%s: %s needs elements %zu..%zu but its buffer holds %zu 4-byte elements", op,
                     what, v.offset, v.offset + count, bytes / 4);
  return FC_OK;
}

fc_status fc_ops_check_optional_view(const char *op, const char *what, fc_view v, size_t count) {
  return v.mem ? fc_ops_check_view(op, what, v, count) : FC_OK;
}
