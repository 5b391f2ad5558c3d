/* Shape checks and launches shared by the 4-D activation ops. */
#include "ops/spatial.h"

fc_status fc_ops_check_shape4(const char *op, fc_shape4 s, const char *what) {
  if (s.n < 1 || s.c < 1 || s.h < 1 || s.w < 1)
    return fc_errorf(FC_ERR_INVALID_ARG,
                     "%s: %s has shape n=%d c=%d h=%d w=%d; every extent must be at least 1", op,
                     what, s.n, s.c, s.h, s.w);
  if (s.layout != FC_LAYOUT_NCHW && s.layout != FC_LAYOUT_CNHW)
    return fc_errorf(FC_ERR_INVALID_ARG, "%s: %s has unknown layout %d (use NCHW or CNHW)", op,
                     what, (int)s.layout);
  return fc_ops_check_u32(op, fc_shape4_count(s), what);
}

fc_status fc_ops_check_view(const char *op, fc_view v, size_t count, const char *what) {
  if (!v.mem) return fc_errorf(FC_ERR_INVALID_ARG, "%s: %s is required (mem is NULL)", op, what);
  if (v.offset > 0xffffffffu || count > 0xffffffffu - v.offset)
    return fc_errorf(FC_ERR_LIMIT,
                     "%s: %s spans elements %zu..%zu, beyond the kernels' 32-bit indices", op, what,
                     v.offset, v.offset + count);
  return FC_OK;
}

fc_status fc_ops_require_view(const char *op, fc_view v, const char *what) {
  if (!v.mem) return fc_errorf(FC_ERR_INVALID_ARG, "%s: %s is required (mem is NULL)", op, what);
  return FC_OK;
}

fc_status fc_ops_launch_2d(fc_device *dev, cl_kernel k, const char *tag, size_t g0, size_t g1,
                           const fc_kernel_arg *args, int nargs) {
  size_t global[2] = {g0, g1}, local[2] = {dev->wg_1d, 1};
  if (g0 < local[0]) local[0] = g0 ? g0 : 1; /* small planes: no mostly-idle groups */
  return fc_launch(dev, k, tag, 2, global, local, args, nargs);
}
