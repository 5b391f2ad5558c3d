/* OpenCL programs: source lookup, builds with -D specialization, and the
 * in-memory table keyed by (source, options) so each is built once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/hash.h"
#include "device/binary_cache.h"
#include "device/kernel_sources.h"
#include "device/runtime.h"
#include "fercl/fileio.h"
#include "fercl/log.h"

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static char *dup_string(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

fc_status fc_kernel_source_text(const fc_device *dev, const char *name, char **text) {
  *text = NULL;
  if (dev && dev->kernel_dir) {
    char path[2048];
    snprintf(path, sizeof path, "%s/%s.cl", dev->kernel_dir, name);
    size_t size = 0;
    fc_status st = fc_file_read_all(path, 16u << 20, text, &size);
    return fc_error_context(st, "FERCL_KERNEL_DIR");
  }
  for (size_t i = 0; i < fc_kernel_source_count; i++) {
    if (strcmp(fc_kernel_sources[i].name, name) == 0) {
      *text = dup_string(fc_kernel_sources[i].text);
      return *text ? FC_OK : fc_errorf(FC_ERR_NOMEM, "out of memory");
    }
  }
  return fc_errorf(FC_ERR_NOT_FOUND, "no OpenCL source cl/%s.cl is built into fer-cl", name);
}

static uint64_t program_key(const char *source_name, const char *options) {
  return fc_hash_string(fc_hash_string(FC_HASH_INIT, source_name), options);
}

/* Full program text: the shared prelude, then the file itself. */
static fc_status assemble_source(const fc_device *dev, const char *name, char **out) {
  *out = NULL;
  char *prelude = NULL, *body = NULL;
  FC_TRY(fc_kernel_source_text(dev, "prelude", &prelude));
  fc_status st = fc_kernel_source_text(dev, name, &body);
  if (st != FC_OK) {
    free(prelude);
    return st;
  }
  size_t n = strlen(prelude) + strlen(body) + 64;
  char *text = malloc(n);
  if (!text) {
    free(prelude);
    free(body);
    return fc_errorf(FC_ERR_NOMEM, "out of memory");
  }
  if (strcmp(name, "prelude") == 0)
    snprintf(text, n, "%s", prelude);
  else
    snprintf(text, n, "%s\n#line 1\n%s", prelude, body); /* compiler lines match cl/<name>.cl */
  free(prelude);
  free(body);
  *out = text;
  return FC_OK;
}

static void full_options(const fc_device *dev, const char *options, char *out, size_t size) {
  snprintf(out, size, "-cl-std=CL1.2 -DFC_DEVICE_CPU=%d %s", dev->cpu_kernels ? 1 : 0,
           options ? options : "");
}

static fc_status build_log_error(fc_device *dev, cl_program program, const char *name,
                                 const char *options, cl_int err) {
  size_t log_size = 0;
  char *log = NULL;
  if (clGetProgramBuildInfo(program, dev->id, CL_PROGRAM_BUILD_LOG, 0, NULL, &log_size) ==
          CL_SUCCESS &&
      log_size > 0) {
    log = malloc(log_size + 1);
    if (log && clGetProgramBuildInfo(program, dev->id, CL_PROGRAM_BUILD_LOG, log_size, log, NULL) !=
                   CL_SUCCESS)
      log[0] = '\0';
    if (log) log[log_size] = '\0';
  }
  fc_status st = fc_errorf(FC_ERR_BUILD,
                           "building OpenCL program cl/%s.cl for %s (%s) with options '%s' "
                           "failed: %s (%d)\n--- build log ---\n%s",
                           name, dev->info.name, dev->info.driver_version, options,
                           fc_cl_error_name(err), (int)err, log && log[0] ? log : "(empty)");
  free(log);
  return st;
}

static fc_status build_program(fc_device *dev, const char *name, const char *options,
                               cl_program *out) {
  *out = NULL;
  char *source = NULL;
  FC_TRY(assemble_source(dev, name, &source));
  char opts[2048];
  full_options(dev, options, opts, sizeof opts);

  double t0 = now_seconds();
  cl_program program = NULL;
  if (fc_binary_cache_load(dev, source, opts, &program) == FC_OK && program) {
    dev->stats.cache_hits++;
    dev->stats.build_seconds += now_seconds() - t0;
    free(source);
    *out = program;
    return FC_OK;
  }

  cl_int err = CL_SUCCESS;
  const char *sources[] = {source};
  program = clCreateProgramWithSource(dev->context, 1, sources, NULL, &err);
  if (err != CL_SUCCESS) {
    free(source);
    return fc_cl_error(dev, err, "creating an OpenCL program");
  }
  err = clBuildProgram(program, 1, &dev->id, opts, NULL, NULL);
  if (err != CL_SUCCESS) {
    fc_status st = build_log_error(dev, program, name, opts, err);
    clReleaseProgram(program);
    free(source);
    return st;
  }
  dev->stats.source_builds++;
  dev->stats.build_seconds += now_seconds() - t0;
  fc_log(FC_LOG_DEBUG, "built cl/%s.cl [%s] in %.2f s", name, opts, now_seconds() - t0);
  fc_binary_cache_store(dev, source, opts, program); /* best effort */
  free(source);
  *out = program;
  return FC_OK;
}

static fc_program_entry *find_entry(fc_device *dev, const char *name, const char *options) {
  uint64_t key = program_key(name, options);
  for (int i = 0; i < dev->program_count; i++) {
    fc_program_entry *e = &dev->programs[i];
    if (e->key == key && strcmp(e->source_name, name) == 0 && strcmp(e->options, options) == 0)
      return e;
  }
  return NULL;
}

static fc_status get_entry(fc_device *dev, const char *name, const char *options,
                           fc_program_entry **out) {
  if (!options) options = "";
  fc_program_entry *e = find_entry(dev, name, options);
  if (e) {
    *out = e;
    return FC_OK;
  }
  if (dev->compile_locked)
    return fc_errorf(FC_ERR_INTERNAL,
                     "OpenCL program cl/%s.cl [%s] was first needed inside a training step; "
                     "programs must be built while planning (this is a bug in fer-cl)",
                     name, options);
  if (dev->program_count == dev->program_capacity) {
    int cap = dev->program_capacity ? dev->program_capacity * 2 : 32;
    fc_program_entry *p = realloc(dev->programs, (size_t)cap * sizeof *p);
    if (!p) return fc_errorf(FC_ERR_NOMEM, "out of memory");
    dev->programs = p;
    dev->program_capacity = cap;
  }
  cl_program program = NULL;
  FC_TRY(build_program(dev, name, options, &program));
  e = &dev->programs[dev->program_count];
  memset(e, 0, sizeof *e);
  e->source_name = dup_string(name);
  e->options = dup_string(options);
  if (!e->source_name || !e->options) {
    free(e->source_name);
    free(e->options);
    clReleaseProgram(program);
    return fc_errorf(FC_ERR_NOMEM, "out of memory");
  }
  e->key = program_key(name, options);
  e->program = program;
  dev->program_count++;
  *out = e;
  return FC_OK;
}

fc_status fc_device_program(fc_device *dev, const char *name, const char *options,
                            cl_program *out) {
  fc_program_entry *e = NULL;
  FC_TRY(get_entry(dev, name, options, &e));
  *out = e->program;
  return FC_OK;
}

fc_status fc_device_kernel(fc_device *dev, const char *name, const char *options,
                           const char *kernel_name, cl_kernel *out) {
  *out = NULL;
  fc_program_entry *e = NULL;
  FC_TRY(get_entry(dev, name, options, &e));
  for (int k = 0; k < e->kernel_count; k++) {
    if (strcmp(e->kernels[k].name, kernel_name) == 0) {
      *out = e->kernels[k].kernel;
      return FC_OK;
    }
  }
  cl_int err = CL_SUCCESS;
  cl_kernel kernel = clCreateKernel(e->program, kernel_name, &err);
  if (err != CL_SUCCESS)
    return fc_errorf(err == CL_INVALID_KERNEL_NAME ? FC_ERR_NOT_FOUND : FC_ERR_OPENCL,
                     "kernel %s in cl/%s.cl [%s] on %s: %s", kernel_name, name, e->options,
                     dev->info.name, fc_cl_error_name(err));
  if (e->kernel_count == e->kernel_capacity) {
    int cap = e->kernel_capacity ? e->kernel_capacity * 2 : 8;
    fc_kernel_entry *ks = realloc(e->kernels, (size_t)cap * sizeof *ks);
    if (!ks) {
      clReleaseKernel(kernel);
      return fc_errorf(FC_ERR_NOMEM, "out of memory");
    }
    e->kernels = ks;
    e->kernel_capacity = cap;
  }
  e->kernels[e->kernel_count].name = dup_string(kernel_name);
  e->kernels[e->kernel_count].kernel = kernel;
  e->kernel_count++;
  *out = kernel;
  return FC_OK;
}

void fc_device_lock_compiles(fc_device *dev, int locked) { dev->compile_locked = locked; }

fc_status fc_device_build_all(fc_device *dev) {
  for (size_t i = 0; i < fc_kernel_source_count; i++) {
    /* prelude is part of every program; bench.cl serves only `fer-cl bench`;
     * oclgrind.cl only the simulator. */
    if (strcmp(fc_kernel_sources[i].name, "prelude") == 0) continue;
    if (strcmp(fc_kernel_sources[i].name, "bench") == 0) continue;
    if (strcmp(fc_kernel_sources[i].name, "oclgrind") == 0 && !dev->oclgrind) continue;
    cl_program p = NULL;
    char opts[64] = "";
    if (strcmp(fc_kernel_sources[i].name, "gemm") == 0) /* the tile the tuning chose */
      fc_tuning_gemm_options(&dev->tuning, opts, sizeof opts);
    FC_TRY(fc_device_program(dev, fc_kernel_sources[i].name, opts, &p));
  }
  return FC_OK;
}
