/* `fer-cl bench` and `fer-cl tune` end to end on tiny workloads —
 * exit codes, JSON output, profile files, a tuning file written and reused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clirun.h"
#include "testutil.h"

#define EXPECT_IN(haystack, needle) \
  ck_assert_msg(strstr((haystack), (needle)) != NULL, "expected '%s' in:\n%s", (needle), (haystack))

static int no_platform(const fc_cli_result *r) {
  return r->exit_code == 2 && strstr(r->err, "no OpenCL platform") != NULL;
}

static int file_exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && st.st_size > 0;
}

START_TEST(help_and_usage_errors) {
  fc_cli_result r = fc_cli_run((const char *[]){"bench", "--help", NULL}, NULL);
  ck_assert_int_eq(r.exit_code, 0);
  EXPECT_IN(r.out, "usage: fer-cl bench");
  fc_cli_result_free(&r);
  r = fc_cli_run((const char *[]){"tune", "--help", NULL}, NULL);
  ck_assert_int_eq(r.exit_code, 0);
  EXPECT_IN(r.out, "usage: fer-cl tune");
  fc_cli_result_free(&r);
  r = fc_cli_run((const char *[]){"bench", "--only", "bogus", NULL}, NULL);
  if (!no_platform(&r)) {
    ck_assert_msg(r.exit_code == 2, "exit %d: %s", r.exit_code, r.err);
    EXPECT_IN(r.err, "unknown section 'bogus'");
  }
  fc_cli_result_free(&r);
  r = fc_cli_run((const char *[]){"tune", "extra", NULL}, NULL);
  ck_assert_int_eq(r.exit_code, 2);
  fc_cli_result_free(&r);
}
END_TEST

START_TEST(bench_json_and_profile) {
  fc_cli_result r =
      fc_cli_run((const char *[]){"bench", "--only", "latency", "--quick", "--json", NULL}, NULL);
  if (no_platform(&r)) {
    fc_cli_result_free(&r);
    return;
  }
  ck_assert_msg(r.exit_code == 0, "exit %d: %s", r.exit_code, r.err);
  EXPECT_IN(r.out, "\"results\":[");
  EXPECT_IN(r.out, "kernel launch, enqueue + wait");
  EXPECT_IN(r.err, "launch latency"); /* human output goes to stderr with --json */
  fc_cli_result_free(&r);

  char dir[1024];
  snprintf(dir, sizeof dir, "%s/prof", fc_test_temp_dir());
  r = fc_cli_run((const char *[]){"bench", "--train", "--arch", "resnet10", "--width", "0.125",
                                  "--input", "32", "--channels", "1", "--batch", "2", "--steps",
                                  "1", "--no-ssl", "--profile", "--out", dir, NULL},
                 NULL);
  ck_assert_msg(r.exit_code == 0, "exit %d: %s", r.exit_code, r.err);
  EXPECT_IN(r.out, "supervised step");
  EXPECT_IN(r.out, "img/s");
  EXPECT_IN(r.out, "forward     backward"); /* the per-layer summary */
  EXPECT_IN(r.out, "layer1.0.conv1");
  fc_cli_result_free(&r);
  char path[1100];
  snprintf(path, sizeof path, "%s/bench-profile.csv", dir);
  ck_assert_msg(file_exists(path), "%s missing", path);
  /* A convolution's backward is split into its halves (tools/profile_step.py reads them); the
   * stem convolution has no data gradient (its input is the image). */
  FILE *f = fopen(path, "r");
  ck_assert_ptr_nonnull(f);
  char line[512];
  int data = 0, weights = 0, stem_data = 0, plain = 0;
  while (fgets(line, sizeof line, f)) {
    data += strstr(line, ",layer1.0.conv1,backward-data,") != NULL;
    weights += strstr(line, ",layer1.0.conv1,backward-weights,") != NULL;
    stem_data += strstr(line, ",conv1,backward-data,") != NULL;
    plain += strstr(line, ",layer1.0.bn1,backward,") != NULL;
  }
  fclose(f);
  ck_assert_msg(data > 0 && weights > 0 && plain > 0 && stem_data == 0,
                "conv backward halves in the CSV: data %d, weights %d, stem data %d, bn %d", data,
                weights, stem_data, plain);
  snprintf(path, sizeof path, "%s/bench-profile.trace.json", dir);
  ck_assert_msg(file_exists(path), "%s missing", path);
}
END_TEST

/* The semi-supervised step alone, its batches and attention kernel as given (what
 * tools/compare_torch_train.py --ssl runs). */
START_TEST(bench_ssl_step_follows_its_options) {
  fc_cli_result r = fc_cli_run((const char *[]){"bench",
                                                "--train",
                                                "--no-supervised",
                                                "--arch",
                                                "resnet10",
                                                "--width",
                                                "0.125",
                                                "--input",
                                                "32",
                                                "--channels",
                                                "1",
                                                "--ssl-batch",
                                                "2",
                                                "--mu",
                                                "2",
                                                "--lae-kernel",
                                                "7",
                                                "--steps",
                                                "1",
                                                "--json",
                                                NULL},
                               NULL);
  if (no_platform(&r)) {
    fc_cli_result_free(&r);
    return;
  }
  ck_assert_msg(r.exit_code == 0, "exit %d: %s", r.exit_code, r.err);
  EXPECT_IN(r.out, "(B_l 2 + B_u 4, LAE k 7)");
  EXPECT_IN(r.out, "\"images_per_step\":6");
  EXPECT_IN(r.out, "\"width\":0.125");
  ck_assert_msg(strstr(r.out, "supervised step (forward") == NULL, "--no-supervised ran it: %s",
                r.out);
  fc_cli_result_free(&r);
  r = fc_cli_run((const char *[]){"bench", "--train", "--no-supervised", "--no-ssl", NULL}, NULL);
  ck_assert_msg(r.exit_code == 2, "exit %d: %s", r.exit_code, r.err);
  EXPECT_IN(r.err, "nothing to time");
  fc_cli_result_free(&r);
}
END_TEST

START_TEST(tune_writes_a_file_that_bench_uses) {
  char cache[1024], env[1100];
  snprintf(cache, sizeof cache, "%s/cache", fc_test_temp_dir());
  snprintf(env, sizeof env, "FERCL_CACHE_DIR=%s", cache);
  const char *const envs[] = {env, NULL};
  fc_cli_result r =
      fc_cli_run((const char *[]){"tune", "--quick", "--no-clblast", "--arch", "resnet10",
                                  "--input", "32", "--channels", "1", "--batch", "1", NULL},
                 envs);
  if (no_platform(&r)) {
    fc_cli_result_free(&r);
    return;
  }
  ck_assert_msg(r.exit_code == 0, "exit %d: %s", r.exit_code, r.err);
  EXPECT_IN(r.out, "saved to ");
  EXPECT_IN(r.err, "convolutions, fercl");
  fc_cli_result_free(&r);
  r = fc_cli_run((const char *[]){"bench", "--only", "latency", "--quick", NULL}, envs);
  ck_assert_msg(r.exit_code == 0, "exit %d: %s", r.exit_code, r.err);
  EXPECT_IN(r.out, "/tuning/"); /* "gemm: ..., <tuning file>" */
  fc_cli_result_free(&r);
}
END_TEST

FC_TEST_MAIN("cli-perf", 0, "cli-perf", 600, help_and_usage_errors, bench_json_and_profile,
             bench_ssl_step_follows_its_options, tune_writes_a_file_that_bench_uses)
