/* What cmd_train.c needs from src/cli/main.c (which holds main()), for the
 * config fuzz target that links the train option table without the program. */
#include <stdio.h>

#include "cli/cli.h"

fc_cli_globals fc_cli;
const fc_option fc_cli_global_options[] = {{0}};

int fc_cli_parse(const fc_args_spec *spec, int argc, char **argv, char **positional,
                 int *positional_count) {
  (void)spec, (void)argc, (void)argv, (void)positional, (void)positional_count;
  return 2;
}

int fc_cli_fail(fc_status status) {
  (void)status;
  return 1;
}

void fc_cli_apply_log_level(void) {}
