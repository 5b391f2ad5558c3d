/* The tuning file (src/device/tuning.c) and profiles (src/device/profile.c):
 * parsing, refusals, save + load at device open, and a profile of real launches. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device/runtime.h"
#include "device/tuning.h"
#include "fercl/log.h"
#include "fercl/ops.h"
#include "fercl/profile.h"
#include "testutil.h"

static fc_device fake_cpu(void) {
  fc_device d;
  memset(&d, 0, sizeof d);
  d.info.type = FC_DEVICE_TYPE_CPU;
  d.info.max_work_group_size = 4096;
  snprintf(d.info.name, sizeof d.info.name, "test CPU");
  snprintf(d.info.driver_version, sizeof d.info.driver_version, "1.0");
  return d;
}

START_TEST(parse_good_and_bad) {
  fc_device d = fake_cpu();
  fc_tuning t;
  fc_tuning_defaults(&d, &t);
  ck_assert_int_eq(t.gemm.engine, FC_GEMM_ENGINE_FERCL);
  ck_assert_int_eq(t.gemm.vec, 8); /* no 512-bit vectors: float8 rows, 6 x 16 */
  ck_assert_int_eq(t.gemm.mr, 6);
  fc_device wide = fake_cpu();
  wide.info.native_float_width = 16;
  fc_tuning_defaults(&wide, &t);
  ck_assert_int_eq(t.gemm.vec, 16);
  ck_assert_int_eq(t.gemm.mr, 16);
  FC_CHECK_OK(fc_tuning_parse(&wide, "fer-cl tuning 1\ngemm.mr 12\ngemm.vec 16\n", &t));
  ck_assert_int_eq(t.gemm.mr, 12);
  ck_assert_int_eq(t.gemm.vec, 16);
  fc_tuning_defaults(&d, &t);
  const char *good =
      "fer-cl tuning 1\n# comment\ndevice test CPU\ngemm.engine clblast\ngemm.mr 4\ngemm.nv 3\n"
      "gemm.wg 2\ngemm.kc 128\ngemm.ablock 4096\nops.wg 128\nconv.implicit 0\nclblast.xgemm KWG=32 "
      "MWG=128 VWM=8\n";
  FC_CHECK_OK(fc_tuning_parse(&d, good, &t));
  ck_assert_int_eq(t.gemm.engine, FC_GEMM_ENGINE_CLBLAST);
  ck_assert_int_eq(t.gemm.mr, 4);
  ck_assert_int_eq(t.gemm.nv, 3);
  ck_assert_int_eq(t.gemm.wg, 2);
  ck_assert_int_eq(t.gemm.kc, 128);
  ck_assert_int_eq(t.gemm.ablock, 4096);
  ck_assert_int_eq(t.ops_wg, 128);
  ck_assert_int_eq(t.conv_implicit, 0);
  ck_assert_int_eq(t.gemm.vec, 8); /* a file without gemm.vec: float8 rows */
  ck_assert_int_eq(t.clblast_count, 3);
  ck_assert_str_eq(t.clblast_names[1], "MWG");
  ck_assert_int_eq((int)t.clblast_values[1], 128);
  ck_assert_int_eq(t.tuned, 1);
  /* Refusals keep t unchanged and name the line. */
  static const char *bad[] = {
      "",
      "not a tuning file\n",
      "fer-cl tuning 1\ngemm.mr seven\n",
      "fer-cl tuning 1\ngemm.mr 7\n", /* no such tile */
      "fer-cl tuning 1\ngemm.nv 4\n",
      "fer-cl tuning 1\ngemm.vec 12\n",                       /* 8 or 16 only */
      "fer-cl tuning 1\ngemm.mr 4\ngemm.nv 3\ngemm.vec 16\n", /* float16 rows need nv 2 */
      "fer-cl tuning 1\ngemm.engine magic\n",
      "fer-cl tuning 1\nunknown.key 1\n",
      "fer-cl tuning 1\nclblast.xgemm KWG\n",
      "fer-cl tuning 1\nclblast.xgemm =3\n",
      "fer-cl tuning 1\ngemm.kc -1\n",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    fc_tuning u;
    fc_tuning_defaults(&d, &u);
    fc_tuning before = u;
    fc_status st = fc_tuning_parse(&d, bad[i], &u);
    ck_assert_msg(st == FC_ERR_FORMAT, "case %zu: %s", i, fc_status_name(st));
    ck_assert_msg(memcmp(&u, &before, sizeof u) == 0, "case %zu changed the tuning", i);
  }
  ck_assert_msg(strstr(fc_last_error(), "line 2") != NULL, "message: %s", fc_last_error());
}
END_TEST

static int warned;
static void count_warnings(fc_log_level level, const char *message, void *user) {
  (void)user;
  if (level == FC_LOG_WARN && strstr(message, "banana")) warned++;
}

START_TEST(save_then_open_loads) {
  fc_device *dev = fc_test_device();
  char dir[1024];
  snprintf(dir, sizeof dir, "%s/cache", fc_test_temp_dir());
  setenv("FERCL_CACHE_DIR", dir, 1);
  unsetenv("FERCL_GEMM");
  char path[1024];
  fc_tuning_path(dev, path, sizeof path);
  ck_assert_msg(strncmp(path, dir, strlen(dir)) == 0, "path %s", path);
  fc_tuning t;
  fc_tuning_defaults(dev, &t);
  t.gemm.engine = FC_GEMM_ENGINE_FERCL;
  t.gemm.mr = 12;
  t.gemm.nv = 2;
  t.gemm.vec = 16;
  t.gemm.kc = 96;
  t.ops_wg = 32;
  FC_CHECK_OK(fc_tuning_save(dev, &t, path));
  fc_device *again = NULL;
  FC_CHECK_OK(fc_device_open_selected(getenv("FERCL_TEST_DEVICE"), 0, &again));
  ck_assert_int_eq(again->tuning.tuned, 1);
  ck_assert_int_eq(again->tuning.gemm.mr, 12);
  ck_assert_int_eq(again->tuning.gemm.vec, 16);
  ck_assert_int_eq(again->tuning.gemm.kc, 96);
  ck_assert_int_eq((int)again->wg_1d, 32);
  fc_device_close(again);
  /* A corrupt file means the defaults and a warning naming it, never a failed open. */
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs("fer-cl tuning 1\ngemm.mr banana\n", f);
  fclose(f);
  warned = 0;
  fc_log_set_sink(count_warnings, NULL);
  FC_CHECK_OK(fc_device_open_selected(getenv("FERCL_TEST_DEVICE"), 0, &again));
  fc_log_set_sink(NULL, NULL);
  ck_assert_int_eq(again->tuning.tuned, 0);
  ck_assert_int_eq(warned, 1);
  fc_device_close(again);
  /* FERCL_GEMM overrides the engine. */
  remove(path);
  setenv("FERCL_GEMM", "clblast", 1);
  FC_CHECK_OK(fc_device_open_selected(getenv("FERCL_TEST_DEVICE"), 0, &again));
  ck_assert_int_eq(again->tuning.gemm.engine, FC_GEMM_ENGINE_CLBLAST);
  fc_device_close(again);
  unsetenv("FERCL_GEMM");
  unsetenv("FERCL_CACHE_DIR");
}
END_TEST

START_TEST(profile_records_launches) {
  fc_device *dev = NULL;
  FC_CHECK_OK(fc_device_open_selected(getenv("FERCL_TEST_DEVICE"), FC_DEVICE_OPEN_PROFILING, &dev));
  fc_profile *p = NULL;
  FC_CHECK_OK(fc_profile_create(dev, &p));
  cl_mem buf = NULL;
  FC_CHECK_OK(fc_buffer_alloc(dev, 64 * 64 * 4 * 3, "test", &buf));
  FC_CHECK_OK(fc_buffer_fill_zero(dev, buf, 0, 64 * 64 * 4 * 3));
  fc_device_set_layer(dev, "layer.x", 1);
  FC_CHECK_OK(fc_relu_forward(dev, fc_view_of(buf, 0), fc_view_of(buf, 0), 1000));
  fc_device_set_layer(dev, NULL, 0);
  FC_CHECK_OK(fc_gemm(dev, 0, 0, 64, 64, 64, 1.0f, fc_view_of(buf, 0), 64, fc_view_of(buf, 4096),
                      64, 0.0f, fc_view_of(buf, 8192), 64));
  FC_CHECK_OK(fc_profile_collect(p, -1)); /* dropped: warm-up */
  ck_assert_int_eq((int)fc_profile_steps(p), 0);
  FC_CHECK_OK(fc_relu_forward(dev, fc_view_of(buf, 0), fc_view_of(buf, 0), 1000));
  FC_CHECK_OK(fc_gemm(dev, 0, 0, 64, 64, 64, 1.0f, fc_view_of(buf, 0), 64, fc_view_of(buf, 4096),
                      64, 0.0f, fc_view_of(buf, 8192), 64));
  FC_CHECK_OK(fc_profile_collect(p, 1));
  ck_assert_int_eq((int)fc_profile_steps(p), 1);
  char csv[1100], trace[1100];
  snprintf(csv, sizeof csv, "%s/p.csv", fc_test_temp_dir());
  snprintf(trace, sizeof trace, "%s/p.json", fc_test_temp_dir());
  FC_CHECK_OK(fc_profile_write(p, csv, trace));
  char text[8192] = "";
  FILE *f = fopen(csv, "r");
  ck_assert_ptr_nonnull(f);
  size_t n = fread(text, 1, sizeof text - 1, f);
  text[n] = '\0';
  fclose(f);
  ck_assert_msg(strstr(text, "step,op,kernel,layer,pass") == text, "csv: %s", text);
  ck_assert_msg(strstr(text, "relu_forward") != NULL, "csv: %s", text);
  ck_assert_msg(strstr(text, "m=64 n=64 k=64") != NULL, "csv lacks the GEMM shape: %s", text);
  fc_buffer_release(&buf);
  fc_profile_free(p);
  fc_device_close(dev);
}
END_TEST

FC_TEST_MAIN("tuning", 1, "tuning", 300, parse_good_and_bad, save_then_open_loads,
             profile_records_launches)
