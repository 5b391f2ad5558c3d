/* test_ops: every registered op on the OpenCL device against its C reference,
 * and every reference backward against finite differences.
 *   test_ops            all ops
 *   test_ops -o conv2d  one op (comma-separated list allowed)
 *   test_ops -l         list the ops
 *   test_ops --perf [-o conv2d]  time the ops that have a perf runner on their
 *                       cases and the model's shapes (no checks of time) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "op_registry.h"
#include "testutil.h"

START_TEST(op_device_vs_reference) { fc_op_tests[_i].run(fc_test_device()); }
END_TEST

START_TEST(op_reference_gradient) {
  if (fc_op_tests[_i].grad) fc_op_tests[_i].grad(fc_test_device());
}
END_TEST

static int selected(const char *filter, const char *name) {
  if (!filter) return 1;
  size_t n = strlen(name);
  for (const char *p = filter; *p;) {
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    if (len == n && strncmp(p, name, n) == 0) return 1;
    if (!comma) break;
    p = comma + 1;
  }
  return 0;
}

/* --perf: each selected op's perf runner, outside Check (a failure aborts). */
static int run_perf(const char *filter) {
  int count = 0;
  for (int k = 0; k < fc_op_perf_count; k++) {
    if (!selected(filter, fc_op_perfs[k].name)) continue;
    fc_op_perfs[k].run(fc_test_device());
    count++;
  }
  if (count == 0) {
    fprintf(stderr, "test_ops --perf: no op with a perf runner matches '%s'\n",
            filter ? filter : "");
    return 2;
  }
  return 0;
}

int main(int argc, char **argv) {
  const char *filter = NULL;
  int perf = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--perf")) {
      perf = 1;
    } else if (!strcmp(argv[i], "-o") && i + 1 < argc) {
      filter = argv[++i];
    } else if (!strcmp(argv[i], "-l")) {
      for (int k = 0; k < fc_op_test_count; k++) printf("%s\n", fc_op_tests[k].name);
      return 0;
    } else {
      fprintf(stderr, "usage: test_ops [--perf] [-o OP[,OP...]] [-l]\n");
      return 2;
    }
  }
  if (perf) return run_perf(filter);
  Suite *suite = suite_create("ops");
  int count = 0;
  for (int k = 0; k < fc_op_test_count; k++) {
    if (!selected(filter, fc_op_tests[k].name)) continue;
    TCase *tc = tcase_create(fc_op_tests[k].name);
    tcase_set_timeout(tc, 900);
    tcase_add_loop_test(tc, op_device_vs_reference, k, k + 1);
    tcase_add_loop_test(tc, op_reference_gradient, k, k + 1);
    suite_add_tcase(suite, tc);
    count++;
  }
  if (count == 0) {
    fprintf(stderr, "test_ops: no op matches '%s' (see test_ops -l)\n", filter);
    return 2;
  }
  int status = fc_test_run_suite(suite, 1);
  if (fc_test_skipped_cases() > 0)
    printf("test_ops: %ld cases over FERCL_TEST_MAX_ELEMENTS=%s skipped\n", fc_test_skipped_cases(),
           getenv("FERCL_TEST_MAX_ELEMENTS"));
  return status;
}
