/* Host side of cl/reduce.cl: short sums and the gather of logging scalars. */
#include <stdio.h>

#include "ops/op_checks.h"

fc_status fc_sum(fc_device *dev, fc_view x, size_t n, int x_is_int32, float scale, fc_view out) {
  const char *op = "sum";
  FC_TRY(fc_ops_check_view(op, "x", x, n));
  FC_TRY(fc_ops_check_view(op, "out", out, 1));
  cl_kernel k;
  FC_TRY(fc_device_kernel(dev, "reduce", "", x_is_int32 ? "sum_i32" : "sum_f32", &k));
  const fc_kernel_arg args[] = {FC_ARG_VIEW_MEM(x),  FC_ARG_VIEW_OFF(x),   FC_ARG_UINT(n),
                                FC_ARG_FLOAT(scale), FC_ARG_VIEW_MEM(out), FC_ARG_VIEW_OFF(out)};
  return fc_launch_1d(dev, k, op, 1, args, FC_NARGS(args));
}

fc_status fc_gather_words(fc_device *dev, const fc_gather_item *items, int n_items, fc_view dst) {
  const char *op = "gather_words";
  if (n_items < 0 || (n_items > 0 && !items))
    return fc_errorf(FC_ERR_INVALID_ARG, "%s: bad item list (%d items)", op, n_items);
  size_t total = 0;
  for (int i = 0; i < n_items; i++) {
    char what[32];
    snprintf(what, sizeof what, "item %d", i);
    FC_TRY(fc_ops_check_view(op, what, items[i].src, items[i].count));
    total += items[i].count;
  }
  if (n_items == 0) return FC_OK;
  FC_TRY(fc_ops_check_view(op, "dst", dst, total));
  cl_kernel k;
  FC_TRY(fc_device_kernel(dev, "reduce", "", "gather4", &k));
  size_t d = dst.offset;
  for (int first = 0; first < n_items; first += 4) {
    /* Argument values must outlive fc_launch: keep them in arrays, not compound literals. */
    cl_mem mems[4];
    cl_uint offs[4], counts[4], d_off = (cl_uint)d;
    fc_kernel_arg args[14];
    for (int j = 0; j < 4; j++) {
      /* Unused slots copy nothing, from the first item's buffer. */
      const int used = first + j < n_items;
      const fc_gather_item *it = &items[used ? first + j : first];
      mems[j] = it->src.mem;
      offs[j] = (cl_uint)it->src.offset;
      counts[j] = used ? (cl_uint)it->count : 0;
      d += counts[j];
      args[3 * j] = (fc_kernel_arg){sizeof(cl_mem), &mems[j]};
      args[3 * j + 1] = (fc_kernel_arg){sizeof(cl_uint), &offs[j]};
      args[3 * j + 2] = (fc_kernel_arg){sizeof(cl_uint), &counts[j]};
    }
    args[12] = (fc_kernel_arg){sizeof(cl_mem), &dst.mem};
    args[13] = (fc_kernel_arg){sizeof(cl_uint), &d_off};
    FC_TRY(fc_launch_1d(dev, k, op, 1, args, 14));
  }
  return FC_OK;
}
