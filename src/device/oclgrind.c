/* Host transfers on the Oclgrind simulator, so its --uninitialized check is exact.
 *
 * Oclgrind 21.10 (and its master of 2026) marks host-written bytes as defined
 * with Uninitialized::hostMemoryStore -> allocAndStoreShadowMemory, which
 * REALLOCATES the whole buffer's shadow at the size of the write and then
 * stores "defined" at the write's offset only if it fits that new size. So
 * any clEnqueueWriteBuffer, clEnqueueFillBuffer (one store per pattern) or
 * clEnqueueCopyBuffer that is not the whole buffer from offset 0 leaves the
 * rest of the buffer -- usually all of it -- reading as uninitialized (a fill,
 * one store per byte of a 1-byte pattern, always does): the
 * test harness's payload upload after its guard bands made relu_forward
 * report 1,000 "Controlflow depends on uninitialized value" on data it had
 * written. (Reproduced with 30 lines of plain OpenCL: one whole write, then a
 * write at offset 256, and every read of the buffer is reported.)
 *
 * On Oclgrind only, such partial transfers therefore go through kernels,
 * whose stores update the shadow byte for byte: a write is staged in a
 * temporary buffer written whole, then copied; fills (whole ones too) and
 * partial copies are kernels.
 * Whole-buffer writes keep the direct path. Nothing changes on other
 * platforms. This allocates during training steps, which only the simulator
 * ever does. */
#include <string.h>

#include "device/runtime.h"

int fc_oclgrind_detect(const fc_device_info *info) {
  return strstr(info->platform_name, "Oclgrind") != NULL;
}

static size_t buffer_size(cl_mem mem) {
  size_t size = 0;
  if (clGetMemObjectInfo(mem, CL_MEM_SIZE, sizeof size, &size, NULL) != CL_SUCCESS) return 0;
  return size;
}

int fc_oclgrind_partial(const fc_device *dev, cl_mem mem, size_t offset, size_t bytes) {
  return dev->oclgrind && !(offset == 0 && bytes == buffer_size(mem));
}

static fc_status check_range(size_t end) {
  if (end > 0xffffffffu)
    return fc_errorf(FC_ERR_LIMIT,
                     "a host transfer ending at byte %zu does not fit the Oclgrind "
                     "transfer kernels' 32-bit offsets",
                     end);
  return FC_OK;
}

static fc_status copy_kernel(fc_device *dev, cl_mem src, size_t src_offset, cl_mem dst,
                             size_t dst_offset, size_t bytes) {
  int words = (src_offset | dst_offset | bytes) % 4 == 0;
  size_t unit = words ? 4 : 1;
  FC_TRY(check_range(dst_offset + bytes));
  FC_TRY(check_range(src_offset + bytes));
  cl_kernel k = NULL;
  const char *name = words ? "copy_words" : "copy_bytes";
  FC_TRY(fc_device_kernel(dev, "oclgrind", "", name, &k));
  const fc_kernel_arg args[] = {FC_ARG_MEM(src), FC_ARG_UINT(src_offset / unit), FC_ARG_MEM(dst),
                                FC_ARG_UINT(dst_offset / unit), FC_ARG_UINT(bytes / unit)};
  return fc_launch_1d(dev, k, name, bytes / unit, args, FC_NARGS(args));
}

fc_status fc_oclgrind_write(fc_device *dev, cl_mem mem, size_t offset, size_t bytes,
                            const void *host) {
  cl_mem staging = NULL;
  FC_TRY(fc_buffer_alloc(dev, bytes, "an Oclgrind staging buffer", &staging));
  fc_status st = FC_OK;
  cl_int err = clEnqueueWriteBuffer(dev->queue, staging, CL_TRUE, 0, bytes, host, 0, NULL, NULL);
  if (err != CL_SUCCESS) st = fc_cl_error(dev, err, "writing to a device buffer");
  if (st == FC_OK) st = copy_kernel(dev, staging, 0, mem, offset, bytes);
  fc_buffer_release(&staging); /* the queue keeps it until the copy ran */
  return st;
}

fc_status fc_oclgrind_fill_zero(fc_device *dev, cl_mem mem, size_t offset, size_t bytes) {
  int words = (offset | bytes) % 4 == 0;
  size_t unit = words ? 4 : 1;
  FC_TRY(check_range(offset + bytes));
  cl_kernel k = NULL;
  const char *name = words ? "fill_words" : "fill_bytes";
  FC_TRY(fc_device_kernel(dev, "oclgrind", "", name, &k));
  const cl_uint zero_word = 0;
  const cl_uchar zero_byte = 0;
  const fc_kernel_arg args[] = {FC_ARG_MEM(mem), FC_ARG_UINT(offset / unit),
                                words ? (fc_kernel_arg){sizeof zero_word, &zero_word}
                                      : (fc_kernel_arg){sizeof zero_byte, &zero_byte},
                                FC_ARG_UINT(bytes / unit)};
  return fc_launch_1d(dev, k, name, bytes / unit, args, FC_NARGS(args));
}

fc_status fc_oclgrind_copy(fc_device *dev, cl_mem src, size_t src_offset, cl_mem dst,
                           size_t dst_offset, size_t bytes) {
  return copy_kernel(dev, src, src_offset, dst, dst_offset, bytes);
}
