/* fer-cl: subcommand dispatch and global options. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "fercl/fercl.h"
#include "fercl/log.h"

fc_cli_globals fc_cli;

/* Option tables and command specs keep one entry a line. */
// clang-format off
const fc_option fc_cli_global_options[] = {
    {.name = "device", .short_name = 'd', .type = FC_OPT_STRING, .target = &fc_cli.device,
     .arg_name = "N|P:D|NAME",
     .help = "OpenCL device: flat index, platform:device, or part of its name ($FERCL_DEVICE)",
     .not_in_config = 1},
    {.name = "verbose", .short_name = 'v', .type = FC_OPT_FLAG, .target = &fc_cli.verbose,
     .flag_value = 1, .help = "more detail (kernel builds, timings)", .not_in_config = 1},
    {.name = "quiet", .short_name = 'q', .type = FC_OPT_FLAG, .target = &fc_cli.quiet,
     .flag_value = 1, .help = "errors only", .not_in_config = 1},
    {.name = "help", .short_name = 'h', .type = FC_OPT_FLAG, .target = &fc_cli.help,
     .flag_value = 1, .help = "show this help", .not_in_config = 1},
    {.name = "version", .type = FC_OPT_FLAG, .target = &fc_cli.version, .flag_value = 1,
     .help = "print the version and exit", .not_in_config = 1},
    {0}};
// clang-format on

typedef struct command {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *summary;
} command;

static const command commands[] = {
    {"devices", fc_cmd_devices, "list OpenCL platforms and devices"},
    {"train", fc_cmd_train, "train a model (semi-supervised; built-in synthetic faces by default)"},
    {"eval", fc_cmd_eval, "accuracy, per-class metrics and confusion matrix of a saved model"},
    {"predict", fc_cmd_predict, "most likely expressions of images (of each face in photos)"},
    {"faces", fc_cmd_faces, "find faces in pictures: boxes, probabilities, landmarks"},
    {"export", fc_cmd_export, "write a saved model as ONNX (ONNX Runtime, OpenCV dnn, TensorRT)"},
    {"data", fc_cmd_data, "dataset statistics, loader benchmark, labelled split"},
    {"synth", fc_cmd_synth, "write the synthetic face set as a PNG folder dataset"},
    {"bench", fc_cmd_bench, "device peaks, GEMM/conv/op speed, training images/s (--train)"},
    {"tune", fc_cmd_tune, "tune GEMM parameters for this device (stored in the user cache)"},
};
static const int command_count = (int)(sizeof commands / sizeof commands[0]);

static const fc_option top_options[] = {{0}};

static void print_top_help(FILE *out) {
  fprintf(out,
          "usage: fer-cl [global options] COMMAND [options]\n\n"
          "Semi-supervised facial-expression training on any OpenCL device.\n\ncommands:\n");
  for (int i = 0; i < command_count; i++)
    fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf(out, "\nglobal options (before or after COMMAND):\n");
  fc_args_print_options(out, fc_cli_global_options);
  fprintf(out, "\nRun 'fer-cl COMMAND --help' for a command's options.\n");
}

void fc_cli_apply_log_level(void) {
  if (fc_cli.quiet)
    fc_log_set_level(FC_LOG_ERROR);
  else if (fc_cli.verbose)
    fc_log_set_level(FC_LOG_DEBUG);
  else
    fc_log_set_level(FC_LOG_INFO);
}

int fc_cli_fail(fc_status status) {
  const char *msg = fc_last_error();
  fprintf(stderr, "fer-cl: error: %s\n", msg && *msg ? msg : fc_status_name(status));
  return fc_status_exit_code(status);
}

int fc_cli_parse(const fc_args_spec *spec, int argc, char **argv, char **positional,
                 int *positional_count) {
  fc_status st = fc_args_parse(spec, argc, argv, 1, positional, positional_count);
  fc_cli_apply_log_level();
  if (st != FC_OK) return fc_cli_fail(st);
  if (fc_cli.version) {
    printf("fer-cl %s\n", fc_version());
    return 0;
  }
  if (fc_cli.help) {
    fc_args_print_help(stdout, spec);
    return 0;
  }
  return -1;
}

int main(int argc, char **argv) {
  fc_args_spec top = {.options = top_options,
                      .global_options = fc_cli_global_options,
                      .usage = "[global options] COMMAND [options]"};
  int cmd_index = argc;
  fc_status st = fc_args_parse_leading(&top, argc, argv, 1, &cmd_index);
  fc_cli_apply_log_level();
  if (st != FC_OK) return fc_cli_fail(st);
  if (fc_cli.version) {
    printf("fer-cl %s\n", fc_version());
    return 0;
  }
  if (cmd_index >= argc) {
    print_top_help(fc_cli.help ? stdout : stderr);
    return fc_cli.help ? 0 : 2;
  }
  const char *name = argv[cmd_index];
  if (!strcmp(name, "help")) {
    print_top_help(stdout);
    return 0;
  }
  for (int i = 0; i < command_count; i++)
    if (!strcmp(commands[i].name, name)) return commands[i].run(argc - cmd_index, argv + cmd_index);
  fprintf(stderr, "fer-cl: error: unknown command '%s'; commands are:", name);
  for (int i = 0; i < command_count; i++) fprintf(stderr, " %s", commands[i].name);
  fprintf(stderr, " (see 'fer-cl --help')\n");
  return 2;
}
