/* Opening a device: one context and one in-order queue. */
#include <stdlib.h>
#include <string.h>

#include "device/runtime.h"
#include "fercl/log.h"

fc_status fc_device_open(const fc_device_registry *registry, int index, unsigned flags,
                         fc_device **out) {
  *out = NULL;
  const fc_device_info *info = fc_device_registry_info(registry, index);
  if (!info) return fc_device_registry_select(registry, "-1", &index); /* lists devices */
  /* Kernel variants: CPU ones (no __local, one loop per work-item) on CPU
   * devices, GPU ones elsewhere; FERCL_KERNELS=gpu|cpu overrides, so the GPU
   * variants are tested on PoCL too. */
  int cpu_kernels = info->type == FC_DEVICE_TYPE_CPU;
  const char *variant = getenv("FERCL_KERNELS");
  if (variant && *variant) {
    if (strcmp(variant, "cpu") != 0 && strcmp(variant, "gpu") != 0)
      return fc_errorf(FC_ERR_INVALID_ARG, "FERCL_KERNELS is '%s'; use cpu, gpu, or unset it",
                       variant);
    cpu_kernels = strcmp(variant, "cpu") == 0;
  }
  fc_device *dev = calloc(1, sizeof *dev);
  if (!dev) return fc_errorf(FC_ERR_NOMEM, "out of memory");
  dev->cpu_kernels = cpu_kernels;
  dev->oclgrind = fc_oclgrind_detect(info);
  dev->info = *info;
  dev->platform = fc_device_registry_platform(registry, index);
  dev->id = fc_device_registry_id(registry, index);
  dev->flags = flags;
  /* PoCL runs each work-group as a loop the compiler vectorizes: 64 items
   * give it room for 8- or 16-wide vectors. GPUs want several warps. */
  dev->wg_1d = info->type == FC_DEVICE_TYPE_CPU ? 64 : 256;
  if (dev->wg_1d > info->max_work_group_size && info->max_work_group_size > 0)
    dev->wg_1d = info->max_work_group_size;

  cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)dev->platform, 0};
  cl_int err = CL_SUCCESS;
  dev->context = clCreateContext(props, 1, &dev->id, NULL, NULL, &err);
  if (err != CL_SUCCESS) {
    fc_status st = fc_cl_error(dev, err, "creating an OpenCL context");
    free(dev);
    return st;
  }
  cl_command_queue_properties qprops =
      (flags & FC_DEVICE_OPEN_PROFILING) ? CL_QUEUE_PROFILING_ENABLE : 0;
  dev->queue = clCreateCommandQueue(dev->context, dev->id, qprops, &err);
  if (err != CL_SUCCESS) {
    fc_status st = fc_cl_error(dev, err, "creating a command queue");
    clReleaseContext(dev->context);
    free(dev);
    return st;
  }
  const char *kdir = getenv("FERCL_KERNEL_DIR");
  if (kdir && *kdir) {
    dev->kernel_dir = strdup(kdir);
    fc_log(FC_LOG_DEBUG, "loading OpenCL sources from %s (FERCL_KERNEL_DIR)", kdir);
  }
  fc_device_set_binary_cache(dev, FC_BINARY_CACHE_AUTO, NULL);
  fc_tuning_load_at_open(dev);
  *out = dev;
  return FC_OK;
}

fc_status fc_device_open_selected(const char *selector, unsigned flags, fc_device **out) {
  *out = NULL;
  fc_device_registry *registry = NULL;
  FC_TRY(fc_device_registry_create(&registry));
  int index = -1;
  fc_status st = fc_device_registry_select(registry, selector, &index);
  if (st == FC_OK) st = fc_device_open(registry, index, flags, out);
  fc_device_registry_free(registry);
  return st;
}

void fc_device_close(fc_device *dev) {
  if (!dev) return;
  if (dev->queue) clFinish(dev->queue);
  fc_device_clear_launches(dev);
  free(dev->launches);
  for (int p = 0; p < dev->program_count; p++) {
    fc_program_entry *e = &dev->programs[p];
    for (int k = 0; k < e->kernel_count; k++) {
      clReleaseKernel(e->kernels[k].kernel);
      free(e->kernels[k].name);
    }
    free(e->kernels);
    if (e->program) clReleaseProgram(e->program);
    free(e->source_name);
    free(e->options);
  }
  free(dev->programs);
  if (dev->gemm_scratch) clReleaseMemObject(dev->gemm_scratch);
  if (dev->queue) clReleaseCommandQueue(dev->queue);
  if (dev->context) clReleaseContext(dev->context);
  free(dev->kernel_dir);
  free(dev);
}

const fc_device_info *fc_device_get_info(const fc_device *dev) { return &dev->info; }

fc_status fc_device_finish(fc_device *dev) {
  cl_int err = clFinish(dev->queue);
  if (err != CL_SUCCESS) return fc_cl_error(dev, err, "waiting for the device");
  return FC_OK;
}

fc_status fc_device_preferred_wg_multiple(fc_device *dev, size_t *multiple) {
  cl_kernel k = NULL;
  FC_TRY(fc_device_kernel(dev, "selftest", "", "selftest_scale", &k));
  size_t m = 0;
  cl_int err = clGetKernelWorkGroupInfo(k, dev->id, CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE,
                                        sizeof m, &m, NULL);
  if (err != CL_SUCCESS) return fc_cl_error(dev, err, "querying the preferred work-group multiple");
  *multiple = m;
  return FC_OK;
}
