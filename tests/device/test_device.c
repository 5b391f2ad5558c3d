/* Device layer: enumeration, selectors, program builds, the in-memory and
 * on-disk program caches, FERCL_KERNEL_DIR, build errors, compile locking. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "device/binary_cache.h"
#include "device/kernel_sources.h"
#include "device/runtime.h"
#include "fercl/fileio.h"
#include "testutil.h"

static fc_device_registry *registry(void) {
  static fc_device_registry *reg = NULL;
  if (!reg) {
    fc_status st = fc_device_registry_create(&reg);
    if (st == FC_ERR_NO_PLATFORM) {
      fprintf(stderr, "SKIP: %s\n", fc_last_error());
      exit(77);
    }
    FC_CHECK_OK(st);
  }
  return reg;
}

START_TEST(enumerates_devices) {
  fc_device_registry *reg = registry();
  int n = fc_device_registry_count(reg);
  ck_assert_int_ge(n, 1);
  for (int i = 0; i < n; i++) {
    const fc_device_info *d = fc_device_registry_info(reg, i);
    ck_assert_int_eq(d->index, i);
    ck_assert_int_ge(d->platform_index, 0);
    ck_assert_str_ne(d->name, "");
    ck_assert_str_ne(d->platform_name, "");
    ck_assert_uint_gt(d->compute_units, 0);
    ck_assert_uint_gt(d->global_mem_bytes, 0);
    ck_assert_uint_gt(d->max_alloc_bytes, 0);
    ck_assert_uint_gt(d->max_work_group_size, 0);
  }
  ck_assert_ptr_null(fc_device_registry_info(reg, n));
  ck_assert_ptr_null(fc_device_registry_info(reg, -1));
}
END_TEST

START_TEST(selects_by_index_pair_and_name) {
  fc_device_registry *reg = registry();
  int n = fc_device_registry_count(reg), index = -1;
  FC_CHECK_OK(fc_device_registry_select(reg, "0", &index));
  ck_assert_int_eq(index, 0);
  const fc_device_info *last = fc_device_registry_info(reg, n - 1);
  char pair[32];
  snprintf(pair, sizeof pair, "%d:%d", last->platform_index, last->device_index);
  FC_CHECK_OK(fc_device_registry_select(reg, pair, &index));
  ck_assert_int_eq(index, n - 1);
  /* A case-flipped piece of the first device's name finds it (or an earlier one with the same name). */
  const fc_device_info *first = fc_device_registry_info(reg, 0);
  char piece[8] = {0};
  size_t len = strlen(first->name) < 4 ? strlen(first->name) : 4;
  for (size_t i = 0; i < len; i++) {
    char c = first->name[i];
    piece[i] = (c >= 'a' && c <= 'z')   ? (char)(c - 32)
               : (c >= 'A' && c <= 'Z') ? (char)(c + 32)
                                        : c;
  }
  FC_CHECK_OK(fc_device_registry_select(reg, piece, &index));
  ck_assert_int_eq(index, 0);
}
END_TEST

START_TEST(rejects_bad_selectors_with_the_device_list) {
  fc_device_registry *reg = registry();
  const char *bad[] = {"99", "0:99", "99:0", "no-such-device-zzz", "1:2:3", "-1"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int index = 123;
    fc_status st = fc_device_registry_select(reg, bad[i], &index);
    ck_assert_msg(st == FC_ERR_NO_DEVICE, "selector '%s' gave %s", bad[i], fc_status_name(st));
    ck_assert_int_eq(index, -1);
    ck_assert_msg(strstr(fc_last_error(), bad[i]) != NULL, "message does not name '%s': %s", bad[i],
                  fc_last_error());
    ck_assert_msg(strstr(fc_last_error(), "valid devices") != NULL, "no device list: %s",
                  fc_last_error());
    ck_assert_msg(strstr(fc_last_error(), fc_device_registry_info(reg, 0)->name) != NULL,
                  "device 0 not listed: %s", fc_last_error());
  }
}
END_TEST

START_TEST(environment_supplies_the_default) {
  fc_device_registry *reg = registry();
  int index = -1;
  setenv("FERCL_DEVICE", "0:0", 1);
  FC_CHECK_OK(fc_device_registry_select(reg, NULL, &index));
  ck_assert_int_eq(index, 0);
  setenv("FERCL_DEVICE", "77", 1);
  ck_assert_int_eq(fc_device_registry_select(reg, NULL, &index), FC_ERR_NO_DEVICE);
  ck_assert_msg(strstr(fc_last_error(), "FERCL_DEVICE") != NULL, "%s", fc_last_error());
  /* An explicit selector wins over the environment. */
  FC_CHECK_OK(fc_device_registry_select(reg, "0", &index));
  unsetenv("FERCL_DEVICE");
  FC_CHECK_OK(fc_device_registry_select(reg, "", &index));
  ck_assert_int_eq(index, 0);
}
END_TEST

/* FERCL_KERNELS picks the kernel variants whatever the device type; a typo is
 * refused with its name rather than silently ignored. */
START_TEST(kernel_variant_follows_the_environment) {
  fc_device_registry *reg = registry();
  fc_device *dev = NULL;
  setenv("FERCL_KERNELS", "gpu", 1);
  FC_CHECK_OK(fc_device_open(reg, 0, 0, &dev));
  ck_assert_int_eq(dev->cpu_kernels, 0);
  fc_device_close(dev);
  setenv("FERCL_KERNELS", "cpu", 1);
  FC_CHECK_OK(fc_device_open(reg, 0, 0, &dev));
  ck_assert_int_eq(dev->cpu_kernels, 1);
  fc_device_close(dev);
  setenv("FERCL_KERNELS", "gpus", 1);
  ck_assert_int_eq(fc_device_open(reg, 0, 0, &dev), FC_ERR_INVALID_ARG);
  ck_assert_ptr_null(dev);
  ck_assert_msg(strstr(fc_last_error(), "FERCL_KERNELS is 'gpus'") != NULL, "%s", fc_last_error());
  unsetenv("FERCL_KERNELS");
  FC_CHECK_OK(fc_device_open(reg, 0, 0, &dev));
  ck_assert_int_eq(dev->cpu_kernels, dev->info.type == FC_DEVICE_TYPE_CPU);
  fc_device_close(dev);
}
END_TEST

/* Every file of cl/ is embedded, and every embedded source builds on the device. */
START_TEST(every_kernel_source_compiles) {
  const char *root = getenv("FERCL_SOURCE_ROOT");
  ck_assert_msg(root != NULL, "FERCL_SOURCE_ROOT is not set (run through meson test)");
  char dir_path[1024];
  snprintf(dir_path, sizeof dir_path, "%s/cl", root);
  DIR *dir = opendir(dir_path);
  ck_assert_msg(dir != NULL, "cannot open %s", dir_path);
  int files = 0;
  struct dirent *e;
  while ((e = readdir(dir)) != NULL) {
    size_t len = strlen(e->d_name);
    if (len < 4 || strcmp(e->d_name + len - 3, ".cl") != 0) continue;
    files++;
    int found = 0;
    for (size_t i = 0; i < fc_kernel_source_count; i++)
      if (strlen(fc_kernel_sources[i].name) == len - 3 &&
          strncmp(fc_kernel_sources[i].name, e->d_name, len - 3) == 0)
        found = 1;
    ck_assert_msg(found, "cl/%s is not embedded: add it to cl/meson.build", e->d_name);
  }
  closedir(dir);
  ck_assert_int_eq(files, (int)fc_kernel_source_count);

  fc_device *dev = fc_test_device();
  for (size_t i = 0; i < fc_kernel_source_count; i++) {
    cl_program program = NULL;
    FC_CHECK_OK(fc_device_program(dev, fc_kernel_sources[i].name, "", &program));
    ck_assert_ptr_nonnull(program);
  }
}
END_TEST

static void run_selftest(fc_device *dev, const char *options, float bias, float scale) {
  enum { N = 1000 };
  float x[N], y[N];
  for (int i = 0; i < N; i++) x[i] = (float)i * 0.5f - 100.0f;
  cl_mem bx = NULL, by = NULL;
  FC_CHECK_OK(fc_buffer_alloc(dev, sizeof x, "x", &bx));
  FC_CHECK_OK(fc_buffer_alloc(dev, sizeof y, "y", &by));
  FC_CHECK_OK(fc_buffer_write(dev, bx, 0, sizeof x, x, 0));
  cl_kernel k = NULL;
  FC_CHECK_OK(fc_device_kernel(dev, "selftest", options, "selftest_scale", &k));
  const fc_kernel_arg args[] = {FC_ARG_MEM(bx), FC_ARG_MEM(by), FC_ARG_FLOAT(bias), FC_ARG_UINT(N)};
  FC_CHECK_OK(fc_launch_1d(dev, k, "selftest", N, args, FC_NARGS(args)));
  FC_CHECK_OK(fc_buffer_read(dev, by, 0, sizeof y, y, 1));
  for (int i = 0; i < N; i++) ck_assert_float_eq(y[i], x[i] * scale + bias);
  fc_buffer_release(&bx);
  fc_buffer_release(&by);
}

START_TEST(kernel_round_trip_with_specialisation) {
  fc_device *dev = fc_test_device();
  run_selftest(dev, "", 1.0f, 2.0f);
  run_selftest(dev, "-DSELFTEST_SCALE=3.0f", -0.5f, 3.0f);
}
END_TEST

START_TEST(programs_are_built_once_per_options) {
  fc_device *dev = fc_test_device();
  cl_program a = NULL, b = NULL, c = NULL;
  FC_CHECK_OK(fc_device_program(dev, "selftest", "-DSELFTEST_SCALE=5.0f", &a));
  int builds = dev->stats.source_builds + dev->stats.cache_hits;
  FC_CHECK_OK(fc_device_program(dev, "selftest", "-DSELFTEST_SCALE=5.0f", &b));
  ck_assert_ptr_eq(a, b);
  ck_assert_int_eq(dev->stats.source_builds + dev->stats.cache_hits, builds);
  FC_CHECK_OK(fc_device_program(dev, "selftest", "-DSELFTEST_SCALE=6.0f", &c));
  ck_assert_ptr_ne(a, c);
  cl_kernel k1 = NULL, k2 = NULL;
  FC_CHECK_OK(fc_device_kernel(dev, "selftest", "-DSELFTEST_SCALE=5.0f", "selftest_scale", &k1));
  FC_CHECK_OK(fc_device_kernel(dev, "selftest", "-DSELFTEST_SCALE=5.0f", "selftest_scale", &k2));
  ck_assert_ptr_eq(k1, k2);
  ck_assert_int_eq(fc_device_kernel(dev, "selftest", "", "no_such_kernel", &k1), FC_ERR_NOT_FOUND);
  ck_assert_int_eq(fc_device_program(dev, "no_such_source", "", &a), FC_ERR_NOT_FOUND);
}
END_TEST

static fc_device *open_fresh(const char *cache_dir) {
  fc_device *dev = NULL;
  FC_CHECK_OK(fc_device_open(registry(), fc_device_get_info(fc_test_device())->index, 0, &dev));
  fc_device_set_binary_cache(dev, FC_BINARY_CACHE_FORCE, cache_dir);
  return dev;
}

START_TEST(binary_cache_writes_hits_and_survives_corruption) {
  char dir[1024];
  snprintf(dir, sizeof dir, "%s/kernel-cache", fc_test_temp_dir());
  const char *opts = "-DSELFTEST_SCALE=7.0f";

  fc_device *dev = open_fresh(dir);
  run_selftest(dev, opts, 0.0f, 7.0f);
  ck_assert_int_eq(dev->stats.source_builds, 1);
  ck_assert_int_eq(dev->stats.cache_writes, 1);
  fc_device_close(dev);

  /* A fresh device (empty in-memory table) loads the binary instead of compiling. */
  dev = open_fresh(dir);
  char path[1400];
  cl_program p = NULL;
  FC_CHECK_OK(fc_device_program(dev, "selftest", opts, &p));
  ck_assert_int_eq(dev->stats.cache_hits, 1);
  ck_assert_int_eq(dev->stats.source_builds, 0);
  run_selftest(dev, opts, 2.0f, 7.0f); /* the cached binary works */
  fc_device_close(dev);

  /* Corrupt every cache file in three ways; each time the build silently falls back. */
  for (int mode = 0; mode < 3; mode++) {
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    struct dirent *e;
    int corrupted = 0;
    while ((e = readdir(d)) != NULL) {
      if (e->d_name[0] == '.') continue;
      snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
      char *data = NULL;
      size_t size = 0;
      FC_CHECK_OK(fc_file_read_all(path, 1u << 28, &data, &size));
      if (mode == 0) size /= 2;                   /* truncated */
      if (mode == 1) data[size - 10] ^= 0x5a;     /* flipped byte in the binary */
      if (mode == 2) memcpy(data, "GARBAGE!", 8); /* wrong magic */
      FC_CHECK_OK(fc_file_write_atomic(path, data, size));
      free(data);
      corrupted++;
    }
    closedir(d);
    ck_assert_int_ge(corrupted, 1);
    dev = open_fresh(dir);
    run_selftest(dev, opts, 1.0f, 7.0f);
    ck_assert_int_eq(dev->stats.cache_rejects, 1);
    ck_assert_int_eq(dev->stats.source_builds, 1);
    ck_assert_int_eq(dev->stats.cache_writes, 1); /* rewritten */
    ck_assert_str_eq(fc_last_error(), "");        /* nothing surfaced as an error */
    fc_device_close(dev);
  }

  /* FERCL_CACHE_DIR=off disables the cache in AUTO mode. */
  setenv("FERCL_CACHE_DIR", "off", 1);
  FC_CHECK_OK(fc_device_open(registry(), 0, 0, &dev));
  fc_device_set_binary_cache(dev, FC_BINARY_CACHE_AUTO, NULL);
  ck_assert_str_eq(dev->cache_dir, "");
  fc_device_close(dev);
  unsetenv("FERCL_CACHE_DIR");
}
END_TEST

static void write_text(const char *path, const char *text) {
  FC_CHECK_OK(fc_file_write_atomic(path, text, strlen(text)));
}

START_TEST(kernel_dir_overrides_and_build_errors_are_explained) {
  char dir[1024], path[1400];
  snprintf(dir, sizeof dir, "%s/kernels", fc_test_temp_dir());
  FC_CHECK_OK(fc_mkdir_p(dir));
  snprintf(path, sizeof path, "%s/prelude.cl", dir);
  write_text(path, "/* test prelude */\n");
  snprintf(path, sizeof path, "%s/selftest.cl", dir);
  write_text(
      path,
      "__kernel void selftest_scale(__global const float *x, __global float *y, const float b,"
      " const uint n) { uint i = get_global_id(0); if (i < n) y[i] = x[i] * 4.0f + b; }\n");
  snprintf(path, sizeof path, "%s/broken.cl", dir);
  write_text(path, "__kernel void broken(__global float *y) {\n  y[0] = undefined_name;\n}\n");

  setenv("FERCL_KERNEL_DIR", dir, 1);
  fc_device *dev = NULL;
  FC_CHECK_OK(fc_device_open(registry(), 0, 0, &dev));
  unsetenv("FERCL_KERNEL_DIR");
  run_selftest(dev, "", 0.5f, 4.0f);

  cl_program p = NULL;
  fc_status st = fc_device_program(dev, "broken", "-DSOME_OPTION=1", &p);
  ck_assert_int_eq(st, FC_ERR_BUILD);
  const char *msg = fc_last_error();
  ck_assert_msg(strstr(msg, "cl/broken.cl") != NULL, "no file name: %s", msg);
  ck_assert_msg(strstr(msg, dev->info.name) != NULL, "no device name: %s", msg);
  ck_assert_msg(strstr(msg, "-DSOME_OPTION=1") != NULL, "no options: %s", msg);
  ck_assert_msg(strstr(msg, "build log") != NULL, "no build log: %s", msg);
  ck_assert_msg(strstr(msg, "undefined_name") != NULL, "log lacks the compiler's complaint: %s",
                msg);

  st = fc_device_program(dev, "absent", "", &p);
  ck_assert_int_eq(st, FC_ERR_IO);
  ck_assert_msg(strstr(fc_last_error(), "FERCL_KERNEL_DIR") != NULL, "%s", fc_last_error());
  fc_device_close(dev);
}
END_TEST

START_TEST(compiles_inside_a_step_are_refused) {
  fc_device *dev = NULL;
  FC_CHECK_OK(fc_device_open(registry(), 0, 0, &dev));
  cl_program p = NULL;
  FC_CHECK_OK(fc_device_program(dev, "selftest", "", &p));
  fc_device_lock_compiles(dev, 1);
  FC_CHECK_OK(fc_device_program(dev, "selftest", "", &p)); /* already built: fine */
  ck_assert_int_eq(fc_device_program(dev, "selftest", "-DSELFTEST_SCALE=9.0f", &p),
                   FC_ERR_INTERNAL);
  ck_assert_msg(strstr(fc_last_error(), "inside a training step") != NULL, "%s", fc_last_error());
  fc_device_lock_compiles(dev, 0);
  FC_CHECK_OK(fc_device_program(dev, "selftest", "-DSELFTEST_SCALE=9.0f", &p));
  fc_device_close(dev);
}
END_TEST

START_TEST(impossible_allocations_are_explained) {
  fc_device *dev = fc_test_device();
  cl_mem m = NULL;
  size_t too_big = (size_t)fc_device_get_info(dev)->max_alloc_bytes + 4096;
  fc_status st = fc_buffer_alloc(dev, too_big, "test activations", &m);
  ck_assert_int_eq(st, FC_ERR_DEVICE_MEMORY);
  ck_assert_ptr_null(m);
  ck_assert_msg(strstr(fc_last_error(), "test activations") != NULL, "%s", fc_last_error());
  ck_assert_msg(strstr(fc_last_error(), "MiB") != NULL, "%s", fc_last_error());
}
END_TEST

FC_TEST_MAIN("device", 1, "device", 600, enumerates_devices, selects_by_index_pair_and_name,
             rejects_bad_selectors_with_the_device_list, environment_supplies_the_default,
             kernel_variant_follows_the_environment, every_kernel_source_compiles,
             kernel_round_trip_with_specialisation, programs_are_built_once_per_options,
             binary_cache_writes_hits_and_survives_corruption,
             kernel_dir_overrides_and_build_errors_are_explained,
             compiles_inside_a_step_are_refused, impossible_allocations_are_explained)
