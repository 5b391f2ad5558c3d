#define _XOPEN_SOURCE 700
#include "testutil.h"

#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fercl/fileio.h"

static fc_device *test_device = NULL;
static char temp_dir[512];

/* Also called by fc_test_run_suite before main returns. Releasing OpenCL
 * objects only from an atexit handler corrupts the heap under Oclgrind 21.10:
 * exit() runs thread_local destructors first, and oclgrind's runtime then
 * pushes each API call onto its already freed per-thread call stack (valgrind:
 * "Invalid write of size 8 at clFinish ... block free'd by
 * std::stack<char const*>::~stack in __call_tls_dtors"). The atexit handler
 * remains for tests that exit() early. */
static void close_device(void) {
  if (!test_device) return;
  fc_device_close(test_device);
  test_device = NULL;
}

fc_device *fc_test_device(void) {
  if (test_device) return test_device;
  const char *sel = getenv("FERCL_TEST_DEVICE");
  fc_device_registry *reg = NULL;
  fc_status st = fc_device_registry_create(&reg);
  if (st == FC_ERR_NO_PLATFORM) {
    fprintf(stderr, "SKIP: no OpenCL platform: %s\n", fc_last_error());
    exit(77);
  }
  if (st != FC_OK) {
    fprintf(stderr, "cannot enumerate OpenCL devices: %s\n", fc_last_error());
    exit(1);
  }
  int index = 0;
  st = fc_device_registry_select(reg, sel, &index);
  if (st == FC_OK) st = fc_device_open(reg, index, 0, &test_device);
  fc_device_registry_free(reg);
  if (st != FC_OK) {
    fprintf(stderr, "cannot open the test device: %s\n", fc_last_error());
    exit(1);
  }
  atexit(close_device);
  return test_device;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(path);
}

static void remove_temp_dir(void) {
  if (temp_dir[0] && !getenv("FERCL_TEST_KEEP"))
    nftw(temp_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *fc_test_temp_dir(void) {
  if (!temp_dir[0]) {
    snprintf(temp_dir, sizeof temp_dir, "/tmp/fercl-test-%ld-XXXXXX", (long)getpid());
    if (!mkdtemp(temp_dir)) {
      perror("mkdtemp");
      exit(1);
    }
    atexit(remove_temp_dir);
  }
  return temp_dir;
}

int fc_test_run_suite(Suite *suite, int nofork) {
  SRunner *runner = srunner_create(suite);
  if (nofork) srunner_set_fork_status(runner, CK_NOFORK);
  srunner_run_all(runner, CK_NORMAL);
  int failed = srunner_ntests_failed(runner);
  srunner_free(runner);
  close_device();
  return failed == 0 ? 0 : 1;
}

void fc_test_add_case(Suite *suite, const char *name, int timeout_s, const TTest *const *tests,
                      int count) {
  TCase *tc = tcase_create(name);
  if (timeout_s > 0) tcase_set_timeout(tc, timeout_s);
  for (int i = 0; i < count; i++) tcase_add_test(tc, tests[i]);
  suite_add_tcase(suite, tc);
}

void fc_test_copy_dir(const char *from, const char *to) {
  FC_CHECK_OK(fc_mkdir_p(to));
  DIR *d = opendir(from);
  ck_assert_msg(d != NULL, "cannot list %s", from);
  for (struct dirent *e; (e = readdir(d));) {
    if (e->d_name[0] == '.') continue;
    char src[1300], dst[1300];
    snprintf(src, sizeof src, "%s/%s", from, e->d_name);
    snprintf(dst, sizeof dst, "%s/%s", to, e->d_name);
    size_t size = 0;
    char *data = NULL;
    FC_CHECK_OK(fc_file_read_all(src, 1u << 28, &data, &size));
    FC_CHECK_OK(fc_file_write_atomic(dst, data, size));
    free(data);
  }
  closedir(d);
}
