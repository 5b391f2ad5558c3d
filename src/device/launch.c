/* Kernel argument setup and enqueue, with optional launch records for profiles. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fault.h"
#include "device/runtime.h"

static fc_status record_launch(fc_device *dev, const char *tag, cl_kernel kernel, cl_event event,
                               cl_uint dims, const size_t *global, const size_t *local,
                               const char *shape) {
  if (dev->launch_count == dev->launch_capacity) {
    size_t cap = dev->launch_capacity ? dev->launch_capacity * 2 : 1024;
    fc_launch_record *r = realloc(dev->launches, cap * sizeof *r);
    if (!r) {
      clReleaseEvent(event);
      return fc_errorf(FC_ERR_NOMEM, "out of memory recording a profile");
    }
    dev->launches = r;
    dev->launch_capacity = cap;
  }
  fc_launch_record *rec = &dev->launches[dev->launch_count++];
  memset(rec, 0, sizeof *rec);
  rec->tag = tag;
  rec->kernel = kernel;
  rec->event = event;
  rec->dims = dims;
  rec->layer = dev->prof_layer;
  rec->backward = dev->prof_backward;
  snprintf(rec->shape, sizeof rec->shape, "%s", shape ? shape : dev->prof_shape);
  for (cl_uint d = 0; d < dims; d++) {
    rec->global[d] = global[d];
    rec->local[d] = local ? local[d] : 0;
  }
  return FC_OK;
}

fc_status fc_device_record_event(fc_device *dev, const char *tag, cl_event event,
                                 const char *shape) {
  if (!event) return FC_OK;
  if (!fc_device_profiling(dev)) {
    clReleaseEvent(event);
    return FC_OK;
  }
  return record_launch(dev, tag, NULL, event, 0, NULL, NULL, shape);
}

void fc_device_clear_launches(fc_device *dev) {
  for (size_t i = 0; i < dev->launch_count; i++)
    if (dev->launches[i].event) clReleaseEvent(dev->launches[i].event);
  dev->launch_count = 0;
}

fc_status fc_launch(fc_device *dev, cl_kernel kernel, const char *tag, cl_uint dims,
                    const size_t *global, const size_t *local, const fc_kernel_arg *args,
                    int nargs) {
  if (fc_fault_device_lost) { /* test-only (core/fault.h): a device that went away */
    char what[256];
    snprintf(what, sizeof what, "launching kernel %s", tag);
    return fc_cl_error(dev, CL_DEVICE_NOT_AVAILABLE, what);
  }
  for (int i = 0; i < nargs; i++) {
    cl_int err = clSetKernelArg(kernel, (cl_uint)i, args[i].size, args[i].value);
    if (err != CL_SUCCESS) {
      char what[256];
      snprintf(what, sizeof what, "setting argument %d of kernel %s", i, tag);
      return fc_cl_error(dev, err, what);
    }
  }
  size_t rounded[3] = {1, 1, 1};
  for (cl_uint d = 0; d < dims; d++) {
    rounded[d] = global[d];
    if (local && local[d] > 0) rounded[d] = (global[d] + local[d] - 1) / local[d] * local[d];
    if (rounded[d] == 0) return FC_OK; /* nothing to do */
  }
  int profiling = (dev->flags & FC_DEVICE_OPEN_PROFILING) != 0;
  cl_event event = NULL;
  cl_int err = clEnqueueNDRangeKernel(dev->queue, kernel, dims, NULL, rounded, local, 0, NULL,
                                      profiling ? &event : NULL);
  if (err != CL_SUCCESS) {
    char what[256];
    snprintf(what, sizeof what, "launching kernel %s", tag);
    return fc_cl_error(dev, err, what);
  }
  if (profiling) return record_launch(dev, tag, kernel, event, dims, rounded, local, NULL);
  return FC_OK;
}

fc_status fc_launch_1d(fc_device *dev, cl_kernel kernel, const char *tag, size_t n,
                       const fc_kernel_arg *args, int nargs) {
  size_t global = n, local = dev->wg_1d;
  return fc_launch(dev, kernel, tag, 1, &global, &local, args, nargs);
}
