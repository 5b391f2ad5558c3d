/* 2-D launches shared by the 4-D activation ops. */
#include "ops/spatial.h"

fc_status fc_ops_launch_2d(fc_device *dev, cl_kernel k, const char *tag, size_t g0, size_t g1,
                           const fc_kernel_arg *args, int nargs) {
  size_t global[2] = {g0, g1}, local[2] = {dev->wg_1d, 1};
  /* Small planes: no mostly-idle groups on GPUs. CPUs keep one work-group size
   * (idle work-items cost next to nothing there, while every new size is one
   * more PoCL compilation at start-up). */
  if (g0 < local[0] && !dev->cpu_kernels) local[0] = g0 ? g0 : 1;
  return fc_launch(dev, k, tag, 2, global, local, args, nargs);
}
