/* Platform × device enumeration into one flat index, and device selectors. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device/runtime.h"
#include "fercl/log.h"

#ifndef CL_PLATFORM_NOT_FOUND_KHR
#define CL_PLATFORM_NOT_FOUND_KHR -1001
#endif

struct fc_device_registry {
  fc_device_info *infos;
  cl_platform_id *platforms; /* per info */
  cl_device_id *ids;         /* per info */
  int count;
  int skipped_platforms;
};

static const char *const install_hint =
    "install an OpenCL driver: on Debian, `apt-get install pocl-opencl-icd` runs on the CPU; "
    "for a GPU install its vendor's OpenCL driver (NVIDIA: nvidia-opencl-icd; AMD: rocm-opencl-icd "
    "or mesa-opencl-icd; Intel: intel-opencl-icd). `clinfo -l` shows what the OpenCL loader finds";

static void query_string(cl_device_id id, cl_device_info what, char *out, size_t size) {
  out[0] = '\0';
  if (clGetDeviceInfo(id, what, size, out, NULL) != CL_SUCCESS) snprintf(out, size, "?");
  out[size - 1] = '\0';
  /* Drivers pad some strings with trailing spaces. */
  for (size_t n = strlen(out); n > 0 && isspace((unsigned char)out[n - 1]); n--) out[n - 1] = '\0';
}

static void query_platform_string(cl_platform_id p, cl_platform_info what, char *out, size_t size) {
  out[0] = '\0';
  if (clGetPlatformInfo(p, what, size, out, NULL) != CL_SUCCESS) snprintf(out, size, "?");
  out[size - 1] = '\0';
  for (size_t n = strlen(out); n > 0 && isspace((unsigned char)out[n - 1]); n--) out[n - 1] = '\0';
}

/* A number the device reports (0 when the driver does not say). */
static cl_uint query_uint(cl_device_id id, cl_device_info what) {
  cl_uint v = 0;
  clGetDeviceInfo(id, what, sizeof v, &v, NULL);
  return v;
}

static cl_ulong query_ulong(cl_device_id id, cl_device_info what) {
  cl_ulong v = 0;
  clGetDeviceInfo(id, what, sizeof v, &v, NULL);
  return v;
}

static void fill_info(fc_device_info *info, cl_platform_id platform, cl_device_id id) {
  query_platform_string(platform, CL_PLATFORM_NAME, info->platform_name,
                        sizeof info->platform_name);
  query_platform_string(platform, CL_PLATFORM_VERSION, info->platform_version,
                        sizeof info->platform_version);
  query_string(id, CL_DEVICE_NAME, info->name, sizeof info->name);
  query_string(id, CL_DEVICE_VENDOR, info->vendor, sizeof info->vendor);
  query_string(id, CL_DEVICE_VERSION, info->device_version, sizeof info->device_version);
  query_string(id, CL_DRIVER_VERSION, info->driver_version, sizeof info->driver_version);
  query_string(id, CL_DEVICE_OPENCL_C_VERSION, info->opencl_c_version,
               sizeof info->opencl_c_version);

  cl_device_type type = query_ulong(id, CL_DEVICE_TYPE);
  info->type = (type & CL_DEVICE_TYPE_GPU)           ? FC_DEVICE_TYPE_GPU
               : (type & CL_DEVICE_TYPE_CPU)         ? FC_DEVICE_TYPE_CPU
               : (type & CL_DEVICE_TYPE_ACCELERATOR) ? FC_DEVICE_TYPE_ACCELERATOR
                                                     : FC_DEVICE_TYPE_OTHER;
  info->compute_units = query_uint(id, CL_DEVICE_MAX_COMPUTE_UNITS);
  info->max_clock_mhz = query_uint(id, CL_DEVICE_MAX_CLOCK_FREQUENCY);
  info->global_mem_bytes = query_ulong(id, CL_DEVICE_GLOBAL_MEM_SIZE);
  info->local_mem_bytes = query_ulong(id, CL_DEVICE_LOCAL_MEM_SIZE);
  info->max_alloc_bytes = query_ulong(id, CL_DEVICE_MAX_MEM_ALLOC_SIZE);
  info->native_float_width = query_uint(id, CL_DEVICE_NATIVE_VECTOR_WIDTH_FLOAT);
  size_t wg = 0;
  clGetDeviceInfo(id, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof wg, &wg, NULL);
  info->max_work_group_size = wg;

  size_t ext_size = 0;
  if (clGetDeviceInfo(id, CL_DEVICE_EXTENSIONS, 0, NULL, &ext_size) == CL_SUCCESS && ext_size) {
    char *ext = malloc(ext_size + 1);
    if (ext && clGetDeviceInfo(id, CL_DEVICE_EXTENSIONS, ext_size, ext, NULL) == CL_SUCCESS) {
      ext[ext_size] = '\0';
      info->has_fp16 = strstr(ext, "cl_khr_fp16") != NULL;
      info->has_fp64 = strstr(ext, "cl_khr_fp64") != NULL;
    }
    free(ext);
  }
  info->is_pocl = strstr(info->platform_name, "Portable Computing Language") != NULL ||
                  strstr(info->platform_version, "PoCL") != NULL ||
                  strstr(info->platform_version, "pocl") != NULL;
}

static int append(fc_device_registry *r, cl_platform_id platform, cl_device_id id, int p, int d) {
  fc_device_info *infos = realloc(r->infos, (size_t)(r->count + 1) * sizeof *infos);
  if (!infos) return 0;
  r->infos = infos;
  cl_platform_id *ps = realloc(r->platforms, (size_t)(r->count + 1) * sizeof *ps);
  if (!ps) return 0;
  r->platforms = ps;
  cl_device_id *ids = realloc(r->ids, (size_t)(r->count + 1) * sizeof *ids);
  if (!ids) return 0;
  r->ids = ids;
  fc_device_info *info = &r->infos[r->count];
  memset(info, 0, sizeof *info);
  info->index = r->count;
  info->platform_index = p;
  info->device_index = d;
  fill_info(info, platform, id);
  r->platforms[r->count] = platform;
  r->ids[r->count] = id;
  r->count++;
  return 1;
}

fc_status fc_device_registry_create(fc_device_registry **out) {
  *out = NULL;
  fc_device_registry *r = calloc(1, sizeof *r);
  if (!r) return fc_errorf(FC_ERR_NOMEM, "out of memory");

  cl_uint num_platforms = 0;
  cl_int err = clGetPlatformIDs(0, NULL, &num_platforms);
  if (err == CL_PLATFORM_NOT_FOUND_KHR || (err == CL_SUCCESS && num_platforms == 0)) {
    free(r);
    return fc_errorf(FC_ERR_NO_PLATFORM, "no OpenCL platform found; %s", install_hint);
  }
  if (err != CL_SUCCESS) {
    free(r);
    return fc_errorf(FC_ERR_NO_PLATFORM, "the OpenCL loader failed to list platforms (%s); %s",
                     fc_cl_error_name(err), install_hint);
  }
  cl_platform_id *platforms = calloc(num_platforms, sizeof *platforms);
  if (!platforms) {
    free(r);
    return fc_errorf(FC_ERR_NOMEM, "out of memory");
  }
  err = clGetPlatformIDs(num_platforms, platforms, NULL);
  if (err != CL_SUCCESS) {
    free(platforms);
    free(r);
    return fc_errorf(FC_ERR_NO_PLATFORM, "the OpenCL loader failed to list platforms (%s); %s",
                     fc_cl_error_name(err), install_hint);
  }

  for (cl_uint p = 0; p < num_platforms; p++) {
    char pname[256];
    query_platform_string(platforms[p], CL_PLATFORM_NAME, pname, sizeof pname);
    cl_uint num_devices = 0;
    err = clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, 0, NULL, &num_devices);
    if (err == CL_DEVICE_NOT_FOUND || (err == CL_SUCCESS && num_devices == 0)) {
      fc_log(FC_LOG_WARN, "OpenCL platform %u (%s) has no devices; skipped", p, pname);
      r->skipped_platforms++;
      continue;
    }
    if (err != CL_SUCCESS) {
      fc_log(FC_LOG_WARN, "OpenCL platform %u (%s) failed to list its devices (%s); skipped", p,
             pname, fc_cl_error_name(err));
      r->skipped_platforms++;
      continue;
    }
    cl_device_id *ids = calloc(num_devices, sizeof *ids);
    if (!ids) break;
    err = clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, num_devices, ids, NULL);
    if (err != CL_SUCCESS) {
      fc_log(FC_LOG_WARN, "OpenCL platform %u (%s) failed to list its devices (%s); skipped", p,
             pname, fc_cl_error_name(err));
      r->skipped_platforms++;
      free(ids);
      continue;
    }
    for (cl_uint d = 0; d < num_devices; d++) {
      if (!append(r, platforms[p], ids[d], (int)p, (int)d)) {
        free(ids);
        free(platforms);
        fc_device_registry_free(r);
        return fc_errorf(FC_ERR_NOMEM, "out of memory");
      }
    }
    free(ids);
  }
  free(platforms);
  if (r->count == 0) {
    fc_device_registry_free(r);
    return fc_errorf(FC_ERR_NO_PLATFORM, "no OpenCL device found on %u platform%s; %s",
                     num_platforms, num_platforms == 1 ? "" : "s", install_hint);
  }
  *out = r;
  return FC_OK;
}

void fc_device_registry_free(fc_device_registry *r) {
  if (!r) return;
  free(r->infos);
  free(r->platforms);
  free(r->ids);
  free(r);
}

int fc_device_registry_count(const fc_device_registry *r) { return r ? r->count : 0; }

const fc_device_info *fc_device_registry_info(const fc_device_registry *r, int index) {
  if (!r || index < 0 || index >= r->count) return NULL;
  return &r->infos[index];
}

int fc_device_registry_skipped_platforms(const fc_device_registry *r) {
  return r ? r->skipped_platforms : 0;
}

cl_platform_id fc_device_registry_platform(const fc_device_registry *r, int index) {
  return r->platforms[index];
}
cl_device_id fc_device_registry_id(const fc_device_registry *r, int index) { return r->ids[index]; }

static fc_status no_such_device(const fc_device_registry *r, const char *what) {
  char list[2048];
  size_t used = 0;
  list[0] = '\0';
  for (int i = 0; i < r->count && used < sizeof list; i++) {
    int n = snprintf(list + used, sizeof list - used, "\n  %d (%d:%d) %s", i,
                     r->infos[i].platform_index, r->infos[i].device_index, r->infos[i].name);
    if (n < 0) break;
    used += (size_t)n;
  }
  return fc_errorf(FC_ERR_NO_DEVICE, "%s; valid devices (by index, P:D or name):%s", what, list);
}

static int parse_int(const char *s, int *value) {
  if (!*s) return 0;
  char *end = NULL;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || *end != '\0' || v < 0 || v > 1000000) return 0;
  *value = (int)v;
  return 1;
}

static int contains_case_insensitive(const char *hay, const char *needle) {
  size_t n = strlen(needle);
  for (; *hay; hay++) {
    size_t i = 0;
    while (i < n && hay[i] && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
      i++;
    if (i == n) return 1;
  }
  return n == 0;
}

fc_status fc_device_registry_select(const fc_device_registry *r, const char *selector, int *index) {
  *index = -1;
  const char *origin = "--device";
  if (!selector || !*selector) {
    selector = getenv("FERCL_DEVICE");
    origin = "FERCL_DEVICE";
    if (!selector || !*selector) selector = "0";
  }
  int n = 0;
  if (parse_int(selector, &n)) {
    if (n >= r->count) {
      char what[256];
      snprintf(what, sizeof what, "%s %s: there is no device %d", origin, selector, n);
      return no_such_device(r, what);
    }
    *index = n;
    return FC_OK;
  }
  const char *colon = strchr(selector, ':');
  if (colon && colon != selector && strchr(colon + 1, ':') == NULL) {
    char pbuf[32];
    size_t plen = (size_t)(colon - selector);
    int p = 0, d = 0;
    if (plen < sizeof pbuf) {
      memcpy(pbuf, selector, plen);
      pbuf[plen] = '\0';
      if (parse_int(pbuf, &p) && parse_int(colon + 1, &d)) {
        for (int i = 0; i < r->count; i++) {
          if (r->infos[i].platform_index == p && r->infos[i].device_index == d) {
            *index = i;
            return FC_OK;
          }
        }
        char what[256];
        snprintf(what, sizeof what, "%s %s: there is no device %d on platform %d", origin, selector,
                 d, p);
        return no_such_device(r, what);
      }
    }
  }
  /* Name substring: must be unambiguous, or every match must be fine to pick the first of. */
  int first = -1, matches = 0;
  for (int i = 0; i < r->count; i++) {
    if (contains_case_insensitive(r->infos[i].name, selector)) {
      if (first < 0) first = i;
      matches++;
    }
  }
  if (matches == 0) {
    char what[512];
    snprintf(what, sizeof what,
             "%s '%s': not a device index, P:D pair, or part of any device's name", origin,
             selector);
    return no_such_device(r, what);
  }
  if (matches > 1)
    fc_log(FC_LOG_INFO, "%s '%s' matches %d devices; using the first, %d (%s)", origin, selector,
           matches, first, r->infos[first].name);
  *index = first;
  return FC_OK;
}
