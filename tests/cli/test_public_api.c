/* A program that uses libfercl through include/fercl/ alone: built with only
 * include/ on its include path (tests/cli/meson.build), so a public header
 * that needs an internal one, or a declaration the library does not define,
 * fails the build. It also checks bench's defaults through the public API. */
#include <stdio.h>
#include <string.h>

#include "fercl/fercl.h"
#include "fercl/perf.h"
#include "fercl/profile.h"

int main(void) {
  fc_bench_config bench;
  fc_bench_config_default(&bench);
  if (strcmp(bench.model.arch, "resnet18") != 0 || bench.batch != 64 || bench.steps != 5 ||
      bench.sections != FC_BENCH_ALL || bench.ssl_batch < 1 || bench.ssl_mu < 1) {
    fprintf(stderr, "fc_bench_config_default: unexpected defaults (arch %s, batch %d)\n",
            bench.model.arch, bench.batch);
    return 1;
  }
  if (fc_net_config_check(&bench.model) != FC_OK) {
    fprintf(stderr, "bench's default model does not pass fc_net_config_check: %s\n",
            fc_last_error());
    return 1;
  }
  double t0 = fc_perf_now_s(), t1 = fc_perf_now_s();
  if (!(t1 >= t0)) {
    fprintf(stderr, "fc_perf_now_s went backwards\n");
    return 1;
  }
  printf("public API: fercl/*.h alone build a program that links libfercl\n");
  return 0;
}
