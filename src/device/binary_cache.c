/* On-disk program-binary cache.
 *
 * Key: hash of (format version, full source, build options, device name,
 * driver version, platform version); the full key text is stored in the file
 * and compared on load, so a hash collision is a miss, not a wrong binary.
 * Files are written to a temp name and renamed; any problem reading one just
 * means the program is rebuilt from source and the file rewritten.
 *
 * Not used on PoCL by default: PoCL keeps its own kernel cache
 * (~/.cache/pocl), and asking it for program binaries makes it compile extra
 * work-group variants, so our cache would only add time there. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "device/binary_cache.h"
#include "fercl/fileio.h"
#include "fercl/log.h"

#define CACHE_MAGIC "FCLBIN01"
#define CACHE_FORMAT_VERSION 1
#define CACHE_MAX_FILE (256u << 20)

void fc_device_set_binary_cache(fc_device *dev, fc_binary_cache_mode mode, const char *dir) {
  dev->cache_mode = mode;
  dev->cache_dir[0] = '\0';
  if (mode == FC_BINARY_CACHE_OFF) return;
  const char *env = getenv("FERCL_CACHE_DIR");
  if (!dir && env && strcmp(env, "off") == 0) return;
  if (mode == FC_BINARY_CACHE_AUTO && dev->info.is_pocl) return;
  if (dir && *dir) {
    snprintf(dev->cache_dir, sizeof dev->cache_dir, "%s", dir);
  } else if (env && *env) {
    snprintf(dev->cache_dir, sizeof dev->cache_dir, "%s/kernels", env);
  } else {
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    if (xdg && *xdg)
      snprintf(dev->cache_dir, sizeof dev->cache_dir, "%s/fer-cl/kernels", xdg);
    else if (home && *home)
      snprintf(dev->cache_dir, sizeof dev->cache_dir, "%s/.cache/fer-cl/kernels", home);
  }
}

/* The key text; malloc'd. */
static char *key_text(const fc_device *dev, const char *source, const char *options) {
  uint64_t source_hash = fc_hash_string(FC_HASH_INIT, source);
  const char *fmt =
      "fer-cl program cache v%d\nsource %016llx %zu\noptions %s\ndevice %s\n"
      "driver %s\nplatform %s\n";
  int n =
      snprintf(NULL, 0, fmt, CACHE_FORMAT_VERSION, (unsigned long long)source_hash, strlen(source),
               options, dev->info.name, dev->info.driver_version, dev->info.platform_version);
  char *text = malloc((size_t)n + 1);
  if (text)
    snprintf(text, (size_t)n + 1, fmt, CACHE_FORMAT_VERSION, (unsigned long long)source_hash,
             strlen(source), options, dev->info.name, dev->info.driver_version,
             dev->info.platform_version);
  return text;
}

static void path_for_key(const fc_device *dev, const char *key, char *path, size_t size) {
  snprintf(path, size, "%s/%016llx.bin", dev->cache_dir,
           (unsigned long long)fc_hash_string(FC_HASH_INIT, key));
}

void fc_binary_cache_path(const fc_device *dev, const char *source, const char *options, char *path,
                          size_t size) {
  path[0] = '\0';
  if (!dev->cache_dir[0]) return;
  char *key = key_text(dev, source, options);
  if (!key) return;
  path_for_key(dev, key, path, size);
  free(key);
}

static uint64_t read_u64(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

static void write_u64(unsigned char *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* File layout (little-endian): magic[8], key_len u64, key, binary_len u64,
 * binary checksum u64, binary. */
fc_status fc_binary_cache_load(fc_device *dev, const char *source, const char *options,
                               cl_program *out) {
  *out = NULL;
  if (!dev->cache_dir[0]) return FC_ERR_NOT_FOUND;
  char *key = key_text(dev, source, options);
  if (!key) return FC_ERR_NOMEM;
  char path[1200];
  path_for_key(dev, key, path, sizeof path);
  FILE *probe = fopen(path, "rb");
  if (!probe) {
    free(key);
    return FC_ERR_NOT_FOUND;
  }
  fclose(probe);

  char *data = NULL;
  size_t size = 0;
  fc_status st = fc_file_read_all(path, CACHE_MAX_FILE, &data, &size);
  const unsigned char *p = (const unsigned char *)data;
  size_t key_len = strlen(key);
  int ok = st == FC_OK && size >= 8 + 8 && memcmp(p, CACHE_MAGIC, 8) == 0 &&
           read_u64(p + 8) == key_len && size >= 16 + key_len + 16 &&
           memcmp(p + 16, key, key_len) == 0;
  size_t bin_len = 0;
  const unsigned char *bin = NULL;
  if (ok) {
    bin_len = (size_t)read_u64(p + 16 + key_len);
    uint64_t checksum = read_u64(p + 24 + key_len);
    bin = p + 32 + key_len;
    ok = bin_len > 0 && bin_len == size - 32 - key_len &&
         fc_hash_bytes(FC_HASH_INIT, bin, bin_len) == checksum;
  }
  cl_program program = NULL;
  if (ok) {
    cl_int bin_status = CL_SUCCESS, err = CL_SUCCESS;
    program =
        clCreateProgramWithBinary(dev->context, 1, &dev->id, &bin_len, &bin, &bin_status, &err);
    ok = err == CL_SUCCESS && bin_status == CL_SUCCESS;
    if (ok) ok = clBuildProgram(program, 1, &dev->id, options, NULL, NULL) == CL_SUCCESS;
    if (!ok && program) {
      clReleaseProgram(program);
      program = NULL;
    }
  }
  free(data);
  free(key);
  fc_error_clear(); /* a bad cache file is not an error anyone should see */
  if (!ok) {
    dev->stats.cache_rejects++;
    fc_log(FC_LOG_DEBUG, "kernel cache file %s is unusable; rebuilding from source", path);
    return FC_ERR_FORMAT;
  }
  *out = program;
  return FC_OK;
}

void fc_binary_cache_store(fc_device *dev, const char *source, const char *options,
                           cl_program program) {
  if (!dev->cache_dir[0]) return;
  size_t bin_len = 0;
  if (clGetProgramInfo(program, CL_PROGRAM_BINARY_SIZES, sizeof bin_len, &bin_len, NULL) !=
          CL_SUCCESS ||
      bin_len == 0)
    return;
  char *key = key_text(dev, source, options);
  if (!key) return;
  size_t key_len = strlen(key);
  size_t total = 32 + key_len + bin_len;
  unsigned char *file = malloc(total);
  if (!file) {
    free(key);
    return;
  }
  unsigned char *bin = file + 32 + key_len;
  if (clGetProgramInfo(program, CL_PROGRAM_BINARIES, sizeof bin, &bin, NULL) != CL_SUCCESS) {
    free(file);
    free(key);
    return;
  }
  memcpy(file, CACHE_MAGIC, 8);
  write_u64(file + 8, key_len);
  memcpy(file + 16, key, key_len);
  write_u64(file + 16 + key_len, bin_len);
  write_u64(file + 24 + key_len, fc_hash_bytes(FC_HASH_INIT, bin, bin_len));
  char path[1200];
  path_for_key(dev, key, path, sizeof path);
  if (fc_mkdir_p(dev->cache_dir) == FC_OK && fc_file_write_atomic(path, file, total) == FC_OK)
    dev->stats.cache_writes++;
  else
    fc_log(FC_LOG_DEBUG, "not caching kernel binary: %s", fc_last_error());
  fc_error_clear();
  free(file);
  free(key);
}
