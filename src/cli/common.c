/* Small things several subcommands share (cli.h). */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "fercl/perf.h"

const char *const fc_cli_arch_names[] = {"resnet10", "resnet18", "resnet34", NULL};
const char *const fc_cli_stem_names[] = {"imagenet", "small", NULL};

double fc_cli_now_s(void) { return fc_perf_now_s(); }

int fc_cli_parse_no_args(const fc_args_spec *spec, int argc, char **argv, const char *hint) {
  char *positional[argc > 0 ? argc : 1];
  int npos = 0;
  int rc = fc_cli_parse(spec, argc, argv, positional, &npos);
  if (rc >= 0 || npos == 0) return rc;
  if (hint)
    fprintf(stderr, "fer-cl: error: fer-cl %s takes no arguments (got '%s')%s\n", spec->command,
            positional[0], hint);
  else
    fprintf(stderr,
            "fer-cl: error: fer-cl %s takes no arguments (got '%s'); see 'fer-cl %s --help'\n",
            spec->command, positional[0], spec->command);
  return 2;
}
