/* Small things several subcommands share (cli.h). */
#include <stddef.h>
#include <time.h>

#include "cli/cli.h"

const char *const fc_cli_arch_names[] = {"resnet10", "resnet18", "resnet34", NULL};
const char *const fc_cli_stem_names[] = {"imagenet", "small", NULL};

double fc_cli_now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
