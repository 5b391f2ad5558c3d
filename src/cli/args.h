/* Table-driven command-line options. The same table parses argv, a config
 * file (`name = value` lines, `--config FILE`), prints --help, and writes the
 * effective configuration back out. */
#ifndef FERCL_CLI_ARGS_H
#define FERCL_CLI_ARGS_H

#include <stdio.h>

#include "fercl/status.h"

typedef enum fc_opt_type {
  FC_OPT_FLAG,   /* no argument: stores flag_value into *(int *)target */
  FC_OPT_INT,    /* *(int *)target */
  FC_OPT_DOUBLE, /* *(double *)target */
  FC_OPT_STRING, /* *(const char **)target, points into argv or the config text */
  FC_OPT_CHOICE  /* *(int *)target = index into choices */
} fc_opt_type;

typedef struct fc_option {
  const char *name; /* long name, without "--" */
  char short_name;  /* 0 when none */
  fc_opt_type type;
  void *target;
  const char *arg_name; /* shown in help: "N", "PATH" */
  const char *help;
  const char *const *choices; /* NULL-terminated, for FC_OPT_CHOICE */
  double min, max;            /* numeric range, checked when min < max */
  int flag_value;             /* stored by FC_OPT_FLAG */
  int not_in_config;          /* command-line only (e.g. --config, --help) */
} fc_option;

/* Options end with an entry whose name is NULL. Table rows for the common
 * cases (other fields: designated initializers): */
#define FC_OPTION_FLAG(n, t, h) \
  { .name = n, .type = FC_OPT_FLAG, .target = t, .flag_value = 1, .help = h }
#define FC_OPTION_INT(n, t, a, h, lo, hi) \
  { .name = n, .type = FC_OPT_INT, .target = t, .arg_name = a, .help = h, .min = lo, .max = hi }
#define FC_OPTION_DOUBLE(n, t, a, h, lo, hi) \
  { .name = n, .type = FC_OPT_DOUBLE, .target = t, .arg_name = a, .help = h, .min = lo, .max = hi }
#define FC_OPTION_STRING(n, t, a, h) \
  { .name = n, .type = FC_OPT_STRING, .target = t, .arg_name = a, .help = h }
#define FC_OPTION_CHOICE(n, t, c, h) \
  { .name = n, .type = FC_OPT_CHOICE, .target = t, .choices = c, .help = h }

typedef struct fc_args_spec {
  const char *command; /* "train", or NULL for the top level */
  const char *usage;   /* after "fer-cl train ": "[options] IMAGE..." */
  const char *summary; /* one line */
  const char *details; /* optional paragraph after the options */
  const fc_option *options;
  const fc_option *global_options; /* also accepted; may be NULL */
} fc_args_spec;

/* Parses argv[first..argc). Positional arguments are collected in order into
 * positional (which must have room for argc entries). FC_ERR_USAGE with a
 * message for unknown options, missing or malformed values. */
fc_status fc_args_parse(const fc_args_spec *spec, int argc, char **argv, int first,
                        char **positional, int *positional_count);

/* Parses options up to the first positional argument (the subcommand) and
 * sets *command_index to it (argc when there is none). */
fc_status fc_args_parse_leading(const fc_args_spec *spec, int argc, char **argv, int first,
                                int *command_index);

/* Parses `name = value` lines ('#' starts a comment) of a config file.
 * The text must outlive the targets (string options point into it). */
fc_status fc_args_parse_config(const fc_args_spec *spec, const char *path, char *text);

/* Writes every config-able option's current value as `name = value`. */
void fc_args_write_config(FILE *out, const fc_option *options);

void fc_args_print_help(FILE *out, const fc_args_spec *spec);
void fc_args_print_options(FILE *out, const fc_option *options);

#endif
