/* Small things several subcommands share (cli.h). */
#include <stddef.h>

#include "cli/cli.h"
#include "fercl/perf.h"

const char *const fc_cli_arch_names[] = {"resnet10", "resnet18", "resnet34", NULL};
const char *const fc_cli_stem_names[] = {"imagenet", "small", NULL};

double fc_cli_now_s(void) { return fc_perf_now_s(); }
