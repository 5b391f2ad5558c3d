/* The fer-cl command-line program: shared state and helpers of subcommands. */
#ifndef FERCL_CLI_CLI_H
#define FERCL_CLI_CLI_H

#include "cli/args.h"
#include "fercl/status.h"

typedef struct fc_cli_globals {
  const char *device; /* --device selector, NULL = $FERCL_DEVICE or 0 */
  int verbose;
  int quiet;
  int help;
  int version;
} fc_cli_globals;

extern fc_cli_globals fc_cli;
extern const fc_option fc_cli_global_options[];

/* Choices of --arch and --stem (train, bench, tune); index = option value. */
extern const char *const fc_cli_arch_names[];
extern const char *const fc_cli_stem_names[];

/* The option rows that pick a model's shape for bench and tune (int targets). */
#define FC_CLI_MODEL_SHAPE_OPTIONS(arch, stem, channels, input, arch_help)            \
  FC_OPTION_CHOICE("arch", arch, fc_cli_arch_names, arch_help),                       \
      FC_OPTION_CHOICE("stem", stem, fc_cli_stem_names,                               \
                       "imagenet (torchvision's 7x7/2 + max-pool) or small (3x3/1)"), \
      FC_OPTION_INT("channels", channels, "C", "input channels", 1, 3),               \
      FC_OPTION_INT("input", input, "S", "input side", 32, 1024)

/* Monotonic clock in seconds, for progress and timings. */
double fc_cli_now_s(void);

/* Parses a subcommand's arguments (argv[0] is the subcommand's name).
 * Returns -1 to go on, or the exit code to return now: 0 after --help,
 * 2 after a usage error (message printed). */
int fc_cli_parse(const fc_args_spec *spec, int argc, char **argv, char **positional,
                 int *positional_count);

/* fc_cli_parse for a subcommand that takes options only: a positional argument
 * is a usage error, "fer-cl: error: fer-cl CMD takes no arguments (got 'X')"
 * then `hint` (NULL: "; see 'fer-cl CMD --help'"), exit code 2. */
int fc_cli_parse_no_args(const fc_args_spec *spec, int argc, char **argv, const char *hint);

/* Prints "fer-cl: error: <last error>" and returns the status's exit code. */
int fc_cli_fail(fc_status status);

/* Applies --verbose/--quiet to the library's log level. */
void fc_cli_apply_log_level(void);

/* Subcommands: each returns the process exit code. */
int fc_cmd_devices(int argc, char **argv);
int fc_cmd_data(int argc, char **argv);
int fc_cmd_synth(int argc, char **argv);
int fc_cmd_train(int argc, char **argv);
int fc_cmd_eval(int argc, char **argv);
int fc_cmd_predict(int argc, char **argv);
int fc_cmd_faces(int argc, char **argv);
int fc_cmd_export(int argc, char **argv);
int fc_cmd_bench(int argc, char **argv);
int fc_cmd_tune(int argc, char **argv);

/* The train option table with every option at its default (config fuzzing). */
const fc_args_spec *fc_cmd_train_args(void);

#endif
