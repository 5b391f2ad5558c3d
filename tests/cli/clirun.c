#include "clirun.h"

#include <check.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fercl/fileio.h"
#include "testutil.h"

extern char **environ;

fc_cli_result fc_cli_run(const char *const *args, const char *const *env) {
  fc_cli_result r = {0};
  const char *bin = getenv("FERCL_BIN");
  ck_assert_msg(bin != NULL, "FERCL_BIN is not set (run through meson test)");
  char out_path[1100], err_path[1100];
  static int counter = 0;
  counter++;
  snprintf(out_path, sizeof out_path, "%s/cli-%d.out", fc_test_temp_dir(), counter);
  snprintf(err_path, sizeof err_path, "%s/cli-%d.err", fc_test_temp_dir(), counter);

  const char *argv[64];
  int argc = 0;
  argv[argc++] = bin;
  for (int i = 0; args[i] && argc < 63; i++) argv[argc++] = args[i];
  argv[argc] = NULL;

  int env_count = 0;
  while (environ[env_count]) env_count++;
  const char **envp = calloc((size_t)env_count + 16, sizeof *envp);
  int n = 0;
  for (int i = 0; i < env_count; i++) {
    int overridden = 0;
    for (int j = 0; env && env[j]; j++) {
      size_t key = strcspn(env[j], "=");
      if (strncmp(environ[i], env[j], key + 1) == 0) overridden = 1;
    }
    if (!overridden) envp[n++] = environ[i];
  }
  for (int j = 0; env && env[j] && j < 15; j++) envp[n++] = env[j];
  envp[n] = NULL;

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid;
  int rc = posix_spawn(&pid, bin, &actions, NULL, (char *const *)argv, (char *const *)envp);
  posix_spawn_file_actions_destroy(&actions);
  free(envp);
  ck_assert_msg(rc == 0, "cannot start %s", bin);
  int status = 0;
  waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  size_t size = 0;
  FC_CHECK_OK(fc_file_read_all(out_path, 1u << 26, &r.out, &size));
  FC_CHECK_OK(fc_file_read_all(err_path, 1u << 26, &r.err, &size));
  return r;
}

void fc_cli_result_free(fc_cli_result *r) {
  free(r->out);
  free(r->err);
  r->out = r->err = NULL;
}
