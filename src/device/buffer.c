/* Device memory: allocation with limit checks, reads, writes, fills, copies. */
#include <stdio.h>

#include "device/runtime.h"

static double mib(uint64_t bytes) { return (double)bytes / (1024.0 * 1024.0); }

fc_status fc_buffer_alloc(fc_device *dev, size_t bytes, const char *what, cl_mem *out) {
  *out = NULL;
  if (bytes == 0) bytes = 4; /* OpenCL rejects empty buffers; keep a valid handle */
  if (dev->info.max_alloc_bytes && bytes > dev->info.max_alloc_bytes)
    return fc_errorf(FC_ERR_DEVICE_MEMORY,
                     "%s needs %.1f MiB in one buffer, but %s allows at most %.1f MiB per buffer "
                     "(%.1f MiB in all); try a smaller --batch or --input",
                     what, mib(bytes), dev->info.name, mib(dev->info.max_alloc_bytes),
                     mib(dev->info.global_mem_bytes));
  cl_int err = CL_SUCCESS;
  cl_mem mem = clCreateBuffer(dev->context, CL_MEM_READ_WRITE, bytes, NULL, &err);
  if (err != CL_SUCCESS) {
    char ctx[512];
    snprintf(ctx, sizeof ctx, "allocating %.1f MiB for %s (device has %.1f MiB)", mib(bytes), what,
             mib(dev->info.global_mem_bytes));
    return fc_cl_error(dev, err, ctx);
  }
  *out = mem;
  return FC_OK;
}

void fc_buffer_release(cl_mem *mem) {
  if (mem && *mem) {
    clReleaseMemObject(*mem);
    *mem = NULL;
  }
}

fc_status fc_buffer_write(fc_device *dev, cl_mem mem, size_t offset, size_t bytes, const void *host,
                          int blocking) {
  if (bytes == 0) return FC_OK;
  if (fc_oclgrind_partial(dev, mem, offset, bytes))
    return fc_oclgrind_write(dev, mem, offset, bytes, host);
  cl_int err = clEnqueueWriteBuffer(dev->queue, mem, blocking ? CL_TRUE : CL_FALSE, offset, bytes,
                                    host, 0, NULL, NULL);
  if (err != CL_SUCCESS) return fc_cl_error(dev, err, "writing to a device buffer");
  return FC_OK;
}

fc_status fc_buffer_read(fc_device *dev, cl_mem mem, size_t offset, size_t bytes, void *host,
                         int blocking) {
  if (bytes == 0) return FC_OK;
  cl_int err = clEnqueueReadBuffer(dev->queue, mem, blocking ? CL_TRUE : CL_FALSE, offset, bytes,
                                   host, 0, NULL, NULL);
  if (err != CL_SUCCESS) return fc_cl_error(dev, err, "reading a device buffer");
  return FC_OK;
}

fc_status fc_buffer_fill_zero(fc_device *dev, cl_mem mem, size_t offset, size_t bytes) {
  if (bytes == 0) return FC_OK;
  if (dev->oclgrind) return fc_oclgrind_fill_zero(dev, mem, offset, bytes);
  const cl_uchar zero = 0;
  cl_int err = clEnqueueFillBuffer(dev->queue, mem, &zero, 1, offset, bytes, 0, NULL, NULL);
  if (err != CL_SUCCESS) return fc_cl_error(dev, err, "clearing a device buffer");
  return FC_OK;
}

fc_status fc_buffer_copy(fc_device *dev, cl_mem src, size_t src_offset, cl_mem dst,
                         size_t dst_offset, size_t bytes) {
  if (bytes == 0) return FC_OK;
  if (fc_oclgrind_partial(dev, dst, dst_offset, bytes))
    return fc_oclgrind_copy(dev, src, src_offset, dst, dst_offset, bytes);
  cl_int err =
      clEnqueueCopyBuffer(dev->queue, src, dst, src_offset, dst_offset, bytes, 0, NULL, NULL);
  if (err != CL_SUCCESS) return fc_cl_error(dev, err, "copying between device buffers");
  return FC_OK;
}
