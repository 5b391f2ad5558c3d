/* Shared helpers for the check suites. */
#ifndef FERCL_TESTS_TESTUTIL_H
#define FERCL_TESTS_TESTUTIL_H

#include <check.h>

#include "fercl/device.h"
#include "fercl/status.h"

/* Runs a suite and returns the process exit status (0 when all passed).
 * OpenCL suites pass nofork = 1: a forked child cannot use the parent's
 * OpenCL runtime (driver threads do not survive fork). */
int fc_test_run_suite(Suite *suite, int nofork);

/* Adds a test case `name` to suite holding the tests (START_TEST names) in
 * order; timeout_s > 0 sets its timeout (else Check's default). */
void fc_test_add_case(Suite *suite, const char *name, int timeout_s, const TTest *const *tests,
                      int count);
#define FC_TEST_CASE(suite, name, timeout_s, ...)                              \
  do {                                                                         \
    const TTest *const fc_case_tests_[] = {__VA_ARGS__};                       \
    fc_test_add_case((suite), (name), (timeout_s), fc_case_tests_,             \
                     (int)(sizeof fc_case_tests_ / sizeof fc_case_tests_[0])); \
  } while (0)
/* main() of a test program whose suite is one test case: runs the tests with
 * fc_test_run_suite(suite, nofork). Written at file scope, without a semicolon. */
#define FC_TEST_MAIN(suite_name, nofork, case_name, timeout_s, ...) \
  int main(void) {                                                  \
    Suite *fc_suite_ = suite_create(suite_name);                    \
    FC_TEST_CASE(fc_suite_, case_name, timeout_s, __VA_ARGS__);     \
    return fc_test_run_suite(fc_suite_, nofork);                    \
  }
/* The same for a suite that needs an OpenCL device: without one the program
 * exits 77 (meson's "skipped") before any test runs. */
#define FC_DEVICE_TEST_MAIN(suite_name, nofork, case_name, timeout_s, ...) \
  int main(void) {                                                         \
    fc_test_device();                                                      \
    Suite *fc_suite_ = suite_create(suite_name);                           \
    FC_TEST_CASE(fc_suite_, case_name, timeout_s, __VA_ARGS__);            \
    return fc_test_run_suite(fc_suite_, nofork);                           \
  }

/* The device the tests run on, opened once per test program: $FERCL_TEST_DEVICE,
 * else $FERCL_DEVICE, else 0. Exits with 77 (meson's "skipped") when no OpenCL
 * platform is installed, so host-only machines report skips, not failures. */
fc_device *fc_test_device(void);

/* Fails the current test with the status and the library's last message. */
#define FC_CHECK_OK(expr)                                             \
  do {                                                                \
    fc_status fc_check_status_ = (expr);                              \
    ck_assert_msg(fc_check_status_ == FC_OK, "%s -> %s: %s", #expr,   \
                  fc_status_name(fc_check_status_), fc_last_error()); \
  } while (0)

/* A scratch folder unique to this test program ("/tmp/fercl-test-<name>-<pid>"),
 * created on first use and removed at exit. */
const char *fc_test_temp_dir(void);

/* Copies the files (not subfolders, not dot files) of folder from into to
 * (made if needed); fails the test on any error. */
void fc_test_copy_dir(const char *from, const char *to);

#endif
