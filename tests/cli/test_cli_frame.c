/* The fer-cl command line: global options, usage errors, exit codes, and
 * `fer-cl devices` (text, --json, device selection, no platform). */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "clirun.h"
#include "testutil.h"

#define EXPECT_IN(haystack, needle) \
  ck_assert_msg(strstr((haystack), (needle)) != NULL, "expected '%s' in:\n%s", (needle), (haystack))

START_TEST(version_and_help) {
  fc_cli_result r = fc_cli_run((const char *[]){"--version", NULL}, NULL);
  ck_assert_int_eq(r.exit_code, 0);
  EXPECT_IN(r.out, "fer-cl ");
  fc_cli_result_free(&r);
  r = fc_cli_run((const char *[]){"--help", NULL}, NULL);
  ck_assert_int_eq(r.exit_code, 0);
  EXPECT_IN(r.out, "usage: fer-cl");
  EXPECT_IN(r.out, "devices");
  fc_cli_result_free(&r);
  r = fc_cli_run((const char *[]){"devices", "--help", NULL}, NULL);
  ck_assert_int_eq(r.exit_code, 0);
  EXPECT_IN(r.out, "usage: fer-cl devices");
  EXPECT_IN(r.out, "--json");
  fc_cli_result_free(&r);
}
END_TEST

START_TEST(usage_errors_exit_2_with_one_message) {
  struct {
    const char *args[4];
    const char *expect;
  } cases[] = {
      {{NULL}, "usage: fer-cl"},
      {{"no-such-command", NULL}, "unknown command 'no-such-command'"},
      {{"devices", "--bogus", NULL}, "unknown option --bogus"},
      {{"devices", "--jsno", NULL}, "did you mean --json?"},
      {{"--device", NULL}, "--device needs a value"},
      {{"devices", "extra", NULL}, "takes no arguments"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    fc_cli_result r = fc_cli_run(cases[i].args, NULL);
    ck_assert_msg(r.exit_code == 2, "case %zu: exit %d, stderr: %s", i, r.exit_code, r.err);
    EXPECT_IN(r.err, cases[i].expect);
    fc_cli_result_free(&r);
  }
}
END_TEST

START_TEST(devices_lists_the_tree) {
  fc_cli_result r = fc_cli_run((const char *[]){"devices", NULL}, NULL);
  if (r.exit_code == 2 && strstr(r.err, "no OpenCL platform")) {
    fc_cli_result_free(&r);
    return; /* host without OpenCL: covered by the next test */
  }
  ck_assert_msg(r.exit_code == 0, "exit %d: %s", r.exit_code, r.err);
  EXPECT_IN(r.out, "Platform 0: ");
  EXPECT_IN(r.out, "Device 0 [0:0]: ");
  EXPECT_IN(r.out, "compute units");
  EXPECT_IN(r.out, "global memory");
  EXPECT_IN(r.out, "fp16 / fp64");
  EXPECT_IN(r.out, "preferred multiple");
  fc_cli_result_free(&r);

  r = fc_cli_run((const char *[]){"devices", "--json", NULL}, NULL);
  ck_assert_int_eq(r.exit_code, 0);
  EXPECT_IN(r.out, "\"devices\": [");
  EXPECT_IN(r.out, "\"index\": 0");
  EXPECT_IN(r.out, "\"preferred_work_group_multiple\": ");
  /* Balanced braces and brackets outside strings: a cheap well-formedness check. */
  int depth = 0, in_string = 0;
  for (const char *p = r.out; *p; p++) {
    if (in_string) {
      if (*p == '\\')
        p++;
      else if (*p == '"')
        in_string = 0;
    } else if (*p == '"')
      in_string = 1;
    else if (*p == '{' || *p == '[')
      depth++;
    else if (*p == '}' || *p == ']') {
      depth--;
      ck_assert_int_ge(depth, 0);
    }
  }
  ck_assert_int_eq(depth, 0);
  ck_assert_int_eq(in_string, 0);
  fc_cli_result_free(&r);
}
END_TEST

START_TEST(device_selection_errors) {
  const char *cases[][3] = {{"--device", "99", "there is no device 99"},
                            {"--device", "0:42", "no device 42 on platform 0"},
                            {"--device", "zz-no-such-gpu", "not a device index"}};
  for (size_t i = 0; i < 3; i++) {
    fc_cli_result r = fc_cli_run((const char *[]){cases[i][0], cases[i][1], "devices", NULL}, NULL);
    ck_assert_msg(r.exit_code == 2, "%s %s: exit %d", cases[i][0], cases[i][1], r.exit_code);
    EXPECT_IN(r.err, cases[i][2]);
    EXPECT_IN(r.err, "valid devices");
    fc_cli_result_free(&r);
  }
  /* FERCL_DEVICE is the default selector. */
  fc_cli_result r =
      fc_cli_run((const char *[]){"devices", NULL}, (const char *[]){"FERCL_DEVICE=31", NULL});
  ck_assert_int_eq(r.exit_code, 0); /* `devices` lists all unless --device is explicit */
  fc_cli_result_free(&r);
}
END_TEST

START_TEST(no_platform_gives_the_install_hint) {
  char empty[1100];
  snprintf(empty, sizeof empty, "%s/no-icds", fc_test_temp_dir());
  mkdir(empty, 0755);
  char env[1200];
  snprintf(env, sizeof env, "OCL_ICD_VENDORS=%s", empty);
  fc_cli_result r = fc_cli_run((const char *[]){"devices", NULL}, (const char *[]){env, NULL});
  ck_assert_msg(r.exit_code == 2, "exit %d, stderr: %s", r.exit_code, r.err);
  EXPECT_IN(r.err, "no OpenCL platform found");
  EXPECT_IN(r.err, "pocl-opencl-icd");
  ck_assert_int_eq(r.signal, 0);
  fc_cli_result_free(&r);
}
END_TEST

FC_TEST_MAIN("cli-frame", 0, "cli", 300, version_and_help, usage_errors_exit_2_with_one_message,
             devices_lists_the_tree, device_selection_errors, no_platform_gives_the_install_hint)
