/* Runs the fer-cl binary ($FERCL_BIN) as a child process for CLI tests. */
#ifndef FERCL_TESTS_CLIRUN_H
#define FERCL_TESTS_CLIRUN_H

typedef struct fc_cli_result {
  int exit_code; /* -1 when killed by a signal */
  int signal;
  char *out; /* stdout, NUL-terminated */
  char *err; /* stderr */
} fc_cli_result;

/* argv without argv[0]; NULL-terminated. env: "NAME=value" strings to add
 * (NULL-terminated list, or NULL). */
fc_cli_result fc_cli_run(const char *const *args, const char *const *env);
void fc_cli_result_free(fc_cli_result *r);

#endif
