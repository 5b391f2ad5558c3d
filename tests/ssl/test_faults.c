/* Faults during training, on tiny synthetic runs of the real fer-cl binary:
 * kill -9 mid-save and --resume, Ctrl-C, a full disk and an unwritable run
 * folder, a batch too large for the device, a kernel that does not build, a
 * lost device, and a NaN loss (stop, or --skip-nonfinite). Rare faults are
 * forced with FERCL_TEST_FAULT (src/core/fault.h).
 *
 * Every run uses one config (20 steps, a checkpoint every 5), and a run that
 * was interrupted and resumed must end with a last.safetensors byte for byte
 * equal to the uninterrupted run's: nothing lost, nothing trained twice. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fercl/ckpt.h"
#include "fercl/fileio.h"
#include "fercl/safetensors.h"
#include "testutil.h"

#define TOTAL_STEPS 20

/* ---- running fer-cl ---- */

typedef struct run {
  pid_t pid;
  char err_path[1100];
  int exit_code; /* -1 when killed by a signal */
  int signal;
  char *err; /* stderr, after finish() */
} run;

static const char *binary(void) {
  const char *bin = getenv("FERCL_BIN");
  ck_assert_msg(bin != NULL, "FERCL_BIN is not set (run through meson test)");
  return bin;
}

/* args: after "train"; NULL-terminated. fault: FERCL_TEST_FAULT or NULL.
 * fsize: RLIMIT_FSIZE in bytes (0: none). */
static void start(run *r, const char *const *args, const char *fault, long fsize,
                  const char *kernel_dir) {
  static int counter = 0;
  memset(r, 0, sizeof *r);
  snprintf(r->err_path, sizeof r->err_path, "%s/stderr-%d.txt", fc_test_temp_dir(), ++counter);
  const char *argv[64];
  int n = 0;
  argv[n++] = binary();
  if (getenv("FERCL_TEST_DEVICE")) {
    argv[n++] = "--device";
    argv[n++] = getenv("FERCL_TEST_DEVICE");
  }
  argv[n++] = "train";
  for (int i = 0; args[i] && n < 63; i++) argv[n++] = args[i];
  argv[n] = NULL;
  fflush(NULL);
  pid_t pid = fork();
  ck_assert_msg(pid >= 0, "fork: %s", strerror(errno));
  if (pid == 0) {
    int err = open(r->err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (err < 0) _exit(126);
    dup2(err, 1); /* stdout too: the summary lines are checked */
    dup2(err, 2);
    if (fsize > 0) {
      struct rlimit rl = {(rlim_t)fsize, (rlim_t)fsize};
      setrlimit(RLIMIT_FSIZE, &rl);
      signal(SIGXFSZ, SIG_IGN); /* writes past the limit fail with EFBIG, as on a full disk */
    }
    if (fault)
      setenv("FERCL_TEST_FAULT", fault, 1);
    else
      unsetenv("FERCL_TEST_FAULT");
    if (kernel_dir) setenv("FERCL_KERNEL_DIR", kernel_dir, 1);
    execv(argv[0], (char *const *)argv);
    _exit(127);
  }
  r->pid = pid;
}

static void finish(run *r) {
  int status = 0;
  for (int waited_ms = 0;; waited_ms += 5) {
    pid_t got = waitpid(r->pid, &status, WNOHANG);
    if (got == r->pid) break;
    if (waited_ms > 600 * 1000) {
      kill(r->pid, SIGKILL);
      waitpid(r->pid, &status, 0);
      ck_abort_msg("fer-cl train did not finish within 10 minutes");
    }
    nanosleep(&(struct timespec){0, 5000000}, NULL);
  }
  r->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  size_t size = 0;
  FC_CHECK_OK(fc_file_read_all(r->err_path, 1u << 24, &r->err, &size));
}

static void run_free(run *r) {
  free(r->err);
  r->err = NULL;
}

/* The one run config of this file, plus extra arguments (NULL-terminated),
 * into args (room for 48). */
static void config_args(const char **args, const char *out, const char *const *extra) {
  static const char *const config[] = {
      "--width",      "0.125", "--synth-train", "210", "--synth-val", "70", "--stem",  "imagenet",
      "--batch",      "8",     "--mu",          "1",   "--threads",   "1",  "--steps", "20",
      "--save-every", "5",     "--eval-every",  "10",  NULL};
  int n = 0;
  for (int i = 0; config[i]; i++) args[n++] = config[i];
  args[n++] = "--out";
  args[n++] = out;
  for (int i = 0; extra && extra[i] && n < 47; i++) args[n++] = extra[i];
  args[n] = NULL;
}

static void train(run *r, const char *out, const char *const *extra, const char *fault, long fsize,
                  const char *kernel_dir) {
  const char *args[48];
  config_args(args, out, extra);
  start(r, args, fault, fsize, kernel_dir);
  finish(r);
}

static void resume(run *r, const char *dir, const char *fault, long fsize, const char *kernel_dir) {
  const char *args[] = {"--resume", dir, NULL};
  start(r, args, fault, fsize, kernel_dir);
  finish(r);
}

#define CHECK_EXIT(r, code)                                                               \
  ck_assert_msg((r).exit_code == (code), "exit %d (signal %d), expected %d; stderr:\n%s", \
                (r).exit_code, (r).signal, (code), (r).err)
#define CHECK_SAYS(r, text) \
  ck_assert_msg(strstr((r).err, (text)) != NULL, "stderr lacks '%s':\n%s", (text), (r).err)

/* ---- looking at run folders ---- */

static char *path_in(const char *dir, const char *name) {
  static char buf[4][1200];
  static int next = 0;
  char *p = buf[next++ % 4];
  snprintf(p, sizeof buf[0], "%s/%s", dir, name);
  return p;
}

static char *temp_path(const char *name) {
  char *p = malloc(1200);
  snprintf(p, 1200, "%s/%s", fc_test_temp_dir(), name);
  return p;
}

/* Step of DIR/last.safetensors after validating the whole file; -1 if absent. */
static int64_t checkpoint_step(const char *dir) {
  const char *path = path_in(dir, "last.safetensors");
  if (access(path, F_OK) != 0) return -1;
  fc_safetensors *f = NULL;
  FC_CHECK_OK(fc_safetensors_open(path, &f));
  const char *s = fc_safetensors_metadata(f, "fercl.train.step");
  ck_assert_msg(s != NULL, "%s has no fercl.train.step", path);
  int64_t step = strtoll(s, NULL, 10);
  fc_safetensors_close(f);
  return step;
}

/* Every float of DIR/last.safetensors is finite, and its metadata reads. */
static void check_checkpoint_sound(const char *dir) {
  const char *path = path_in(dir, "last.safetensors");
  fc_model_meta meta;
  FC_CHECK_OK(fc_checkpoint_read_meta(path, &meta));
  fc_safetensors *f = NULL;
  FC_CHECK_OK(fc_safetensors_open(path, &f));
  for (size_t i = 0; i < fc_safetensors_count(f); i++) {
    const fc_st_tensor *t = fc_safetensors_tensor(f, i);
    if (t->dtype != FC_ST_F32) continue;
    size_t n = (size_t)fc_safetensors_numel(f, i);
    float *v = malloc(n * sizeof(float) + 4);
    FC_CHECK_OK(fc_safetensors_read_f32(f, i, v, n));
    for (size_t j = 0; j < n; j++)
      ck_assert_msg(isfinite(v[j]), "%s: %s[%zu] = %g", path, t->name, j, v[j]);
    free(v);
  }
  fc_safetensors_close(f);
}

/* Rows of DIR/log.csv; they must be steps 1, 2, ..., N in order. */
static int64_t log_rows(const char *dir) {
  char *text = NULL;
  size_t size = 0;
  FC_CHECK_OK(fc_file_read_all(path_in(dir, "log.csv"), 1u << 26, &text, &size));
  int64_t rows = 0;
  char *line = strchr(text, '\n');
  while (line && line[1]) {
    line++;
    long long step = strtoll(line, NULL, 10);
    ck_assert_msg(step == rows + 1, "%s/log.csv: row %lld is step %lld", dir, (long long)rows + 1,
                  step);
    rows++;
    line = strchr(line, '\n');
  }
  free(text);
  return rows;
}

static char *file_bytes(const char *path, size_t *size) {
  char *data = NULL;
  FC_CHECK_OK(fc_file_read_all(path, 1u << 28, &data, size));
  return data;
}

static void check_same_file(const char *a, const char *b) {
  size_t na = 0, nb = 0;
  char *x = file_bytes(a, &na), *y = file_bytes(b, &nb);
  ck_assert_msg(na == nb && !memcmp(x, y, na), "%s and %s differ", a, b);
  free(x);
  free(y);
}

/* Leftover temporary files ("NAME.tmp.PID") in dir. */
static int temp_files(const char *dir) {
  DIR *d = opendir(dir);
  ck_assert_msg(d != NULL, "cannot list %s", dir);
  int n = 0;
  for (struct dirent *e; (e = readdir(d));) n += strstr(e->d_name, ".tmp.") != NULL;
  closedir(d);
  return n;
}

/* ---- the two reference runs ---- */

/* An uninterrupted run. */
static const char *reference_dir(void) {
  static char *dir = NULL;
  if (!dir) {
    dir = temp_path("reference");
    run r;
    train(&r, dir, NULL, NULL, 0, NULL);
    CHECK_EXIT(r, 0);
    run_free(&r);
    ck_assert_int_eq(checkpoint_step(dir), TOTAL_STEPS);
  }
  return dir;
}

/* The same run stopped by a lost device at step 12: a checkpoint at step 10,
 * what a fault usually leaves. Tests resume copies of it. */
static run base_run;
/* A run that ended (resumed or not) has the uninterrupted run's log length and
 * final checkpoint, byte for byte. */
static void check_like_reference(const char *dir) {
  ck_assert_int_eq(log_rows(dir), TOTAL_STEPS);
  check_same_file(path_in(dir, "last.safetensors"), path_in(reference_dir(), "last.safetensors"));
}

static const char *base_dir(void) {
  static char *dir = NULL;
  if (!dir) {
    dir = temp_path("base");
    train(&base_run, dir, NULL, "device-lost@12", 0, NULL);
    ck_assert_int_eq(checkpoint_step(dir), 10);
  }
  return dir;
}

static char *copy_of_base(const char *name) {
  char *dir = temp_path(name);
  fc_test_copy_dir(base_dir(), dir);
  return dir;
}

/* ---- tests ---- */

START_TEST(test_kill9_during_save_then_resume) {
  char *dir = temp_path("kill9");
  const char *args[48], *extra[] = {"--quiet", NULL};
  config_args(args, dir, extra);
  run r;
  /* Saves take 300 ms between writing the temp file and renaming it. */
  start(&r, args, "step-delay-ms@10,commit-delay-ms@300", 0, NULL);
  char temp[1300];
  snprintf(temp, sizeof temp, "%s/last.safetensors.tmp.%ld", dir, (long)r.pid);
  int caught = 0;
  for (int ms = 0; ms < 120000 && !caught; ms++) {
    if (checkpoint_step(dir) >= 10 && access(temp, F_OK) == 0) {
      /* Freeze it, then make sure the save is still unfinished: the kill
       * must land between the temp write and the rename. */
      kill(r.pid, SIGSTOP);
      int status = 0;
      waitpid(r.pid, &status, WUNTRACED); /* returns once it has stopped */
      caught = WIFSTOPPED(status) && access(temp, F_OK) == 0;
      if (!caught) kill(r.pid, SIGCONT);
    }
    if (!caught) nanosleep(&(struct timespec){0, 1000000}, NULL);
  }
  kill(r.pid, SIGKILL);
  finish(&r);
  ck_assert_msg(caught, "never saw a save of last.safetensors in progress:\n%s", r.err);
  ck_assert_int_eq(r.signal, SIGKILL);
  /* The save that was cut short left its temp file; the real one is whole. */
  int64_t saved = checkpoint_step(dir);
  ck_assert_msg(saved >= 10 && saved % 5 == 0 && saved < TOTAL_STEPS, "checkpoint at step %lld",
                (long long)saved);
  check_checkpoint_sound(dir);
  ck_assert_int_ge(temp_files(dir), 1);
  run_free(&r);

  resume(&r, dir, NULL, 0, NULL);
  CHECK_EXIT(r, 0);
  CHECK_SAYS(r, "removed 1 unfinished file");
  ck_assert_int_eq(temp_files(dir), 0);
  check_like_reference(dir);
  run_free(&r);
  free(dir);
}
END_TEST

START_TEST(test_sigint_saves_and_resumes) {
  char *dir = temp_path("sigint");
  const char *args[48], *extra[] = {"--log-every", "1", NULL};
  config_args(args, dir, extra);
  run r;
  start(&r, args, "step-delay-ms@100", 0, NULL);
  /* Interrupt between checkpoints (after step 11's progress line). */
  int seen = 0;
  for (int ms = 0; ms < 120000 && !seen; ms += 2) {
    size_t size = 0;
    char *err = NULL;
    if (fc_file_read_all(r.err_path, 1u << 24, &err, &size) == FC_OK)
      seen = strstr(err, "step 11/20") != NULL;
    free(err);
    if (!seen) nanosleep(&(struct timespec){0, 2000000}, NULL);
  }
  kill(r.pid, SIGINT);
  finish(&r);
  ck_assert_msg(seen, "the run never reached step 11:\n%s", r.err);
  CHECK_EXIT(r, 130);
  CHECK_SAYS(r, "interrupted after step ");
  long long stopped = strtoll(
      strstr(r.err, "interrupted after step ") + strlen("interrupted after step "), NULL, 10);
  ck_assert_msg(stopped >= 11 && stopped < TOTAL_STEPS, "stopped at %lld", stopped);
  ck_assert_int_eq(checkpoint_step(dir), stopped);
  ck_assert_int_eq(log_rows(dir), stopped);
  ck_assert_int_eq(temp_files(dir), 0);
  run_free(&r);

  resume(&r, dir, NULL, 0, NULL);
  CHECK_EXIT(r, 0);
  check_like_reference(dir);
  /* The summary's time is the resumed process's, so it names the steps it ran. */
  char done[96];
  snprintf(done, sizeof done, "done: steps %lld-%d (resumed after step %lld)", stopped + 1,
           TOTAL_STEPS, stopped);
  CHECK_SAYS(r, done);
  run_free(&r);
  free(dir);
}
END_TEST

START_TEST(test_disk_full_keeps_checkpoint) {
  char *dir = copy_of_base("disk-full");
  run r;
  /* A 1 MB file size limit: log.csv still fits, last.safetensors (2.8 MB) does not. */
  resume(&r, dir, NULL, 1 << 20, NULL);
  CHECK_EXIT(r, 1);
  CHECK_SAYS(r, "last.safetensors");
  CHECK_SAYS(r, strerror(EFBIG));
  CHECK_SAYS(r, "(step 10) is intact: continue with fer-cl train --resume");
  check_same_file(path_in(dir, "last.safetensors"), path_in(base_dir(), "last.safetensors"));
  ck_assert_int_eq(temp_files(dir), 0);
  run_free(&r);

  resume(&r, dir, NULL, 0, NULL); /* space again */
  CHECK_EXIT(r, 0);
  check_like_reference(dir);
  run_free(&r);
  free(dir);
}
END_TEST

START_TEST(test_unwritable_folder_keeps_checkpoint) {
  char *dir = copy_of_base("unwritable");
  run r;
  const char *args[] = {"--resume", dir, NULL};
  start(&r, args, NULL, 0, NULL);
  /* The save's temp name is taken by a folder: opening it fails as in a
   * read-only folder (which root, running CI, could still write to). */
  char blocker[1300];
  snprintf(blocker, sizeof blocker, "%s/last.safetensors.tmp.%ld", dir, (long)r.pid);
  ck_assert_int_eq(mkdir(blocker, 0755), 0);
  finish(&r);
  CHECK_EXIT(r, 1);
  CHECK_SAYS(r, "cannot write");
  CHECK_SAYS(r, "last.safetensors");
  CHECK_SAYS(r, "(step 10) is intact");
  check_same_file(path_in(dir, "last.safetensors"), path_in(base_dir(), "last.safetensors"));
  rmdir(blocker);
  run_free(&r);

  if (geteuid() != 0) { /* the real thing, where permissions bind */
    ck_assert_int_eq(chmod(dir, 0555), 0);
    resume(&r, dir, NULL, 0, NULL);
    chmod(dir, 0755);
    CHECK_EXIT(r, 1);
    CHECK_SAYS(r, "cannot write");
    check_same_file(path_in(dir, "last.safetensors"), path_in(base_dir(), "last.safetensors"));
    run_free(&r);
  }

  resume(&r, dir, NULL, 0, NULL);
  CHECK_EXIT(r, 0);
  check_same_file(path_in(dir, "last.safetensors"), path_in(reference_dir(), "last.safetensors"));
  run_free(&r);
  free(dir);
}
END_TEST

START_TEST(test_device_lost_stops_and_resumes) {
  const char *base = base_dir();
  run *r = &base_run;
  CHECK_EXIT(*r, 1);
  CHECK_SAYS(*r, "training step 12");
  CHECK_SAYS(*r, "launching kernel ");
  CHECK_SAYS(*r, "CL_DEVICE_NOT_AVAILABLE");
  CHECK_SAYS(*r, fc_device_get_info(fc_test_device())->name);
  CHECK_SAYS(*r, "(step 10) is intact: continue with fer-cl train --resume");
  check_checkpoint_sound(base);
  ck_assert_int_eq(log_rows(base), 11); /* what was done is logged; resume drops rows 11.. */

  char *dir = copy_of_base("device-lost");
  run again;
  resume(&again, dir, NULL, 0, NULL);
  CHECK_EXIT(again, 0);
  check_like_reference(dir);
  run_free(&again);
  free(dir);
}
END_TEST

START_TEST(test_kernel_build_failure) {
  /* A copy of the kernels with one broken. */
  char *kernels = temp_path("kernels");
  FC_CHECK_OK(fc_mkdir_p(kernels));
  const char *root = getenv("FERCL_SOURCE_ROOT");
  ck_assert_msg(root != NULL, "FERCL_SOURCE_ROOT is not set");
  char cl[1200];
  snprintf(cl, sizeof cl, "%s/cl", root);
  fc_test_copy_dir(cl, kernels);
  char pool[1300];
  snprintf(pool, sizeof pool, "%s/pool.cl", kernels);
  size_t size = 0;
  char *text = file_bytes(pool, &size);
  char *broken = NULL;
  ck_assert_int_ge(
      asprintf(&broken, "%s\nkernel void broken(global float *x) { x[0] = undefined_thing; }\n",
               text),
      0);
  FC_CHECK_OK(fc_file_write_atomic(pool, broken, strlen(broken)));
  free(text);
  free(broken);

  /* Resuming: stops before touching the run's files. */
  char *dir = copy_of_base("kernel-build");
  run r;
  resume(&r, dir, NULL, 0, kernels);
  CHECK_EXIT(r, 1);
  CHECK_SAYS(r, "cl/pool.cl");
  CHECK_SAYS(r, fc_device_get_info(fc_test_device())->name);
  CHECK_SAYS(r, "undefined_thing");
  check_same_file(path_in(dir, "last.safetensors"), path_in(base_dir(), "last.safetensors"));
  check_same_file(path_in(dir, "log.csv"), path_in(base_dir(), "log.csv"));
  run_free(&r);

  /* A new run: no checkpoint appears. */
  char *fresh = temp_path("kernel-build-new");
  train(&r, fresh, NULL, NULL, 0, kernels);
  CHECK_EXIT(r, 1);
  CHECK_SAYS(r, "cl/pool.cl");
  ck_assert_int_eq(checkpoint_step(fresh), -1);
  run_free(&r);
  free(fresh);
  free(dir);
  free(kernels);
}
END_TEST

START_TEST(test_nan_loss_stops) {
  char *dir = temp_path("nan-stop");
  run r;
  train(&r, dir, NULL, "nan@12", 0, NULL);
  CHECK_EXIT(r, 1);
  CHECK_SAYS(r, "step 12: the loss is not finite");
  CHECK_SAYS(r, "(step 10) is intact");
  ck_assert_int_eq(checkpoint_step(dir), 10);
  check_checkpoint_sound(dir);
  /* The same state as the base run's checkpoint at step 10. */
  check_same_file(path_in(dir, "last.safetensors"), path_in(base_dir(), "last.safetensors"));
  ck_assert_int_eq(log_rows(dir), 11);
  run_free(&r);
  free(dir);
}
END_TEST

START_TEST(test_nan_loss_skipped) {
  char *dir = temp_path("nan-skip");
  const char *extra[] = {"--skip-nonfinite", NULL};
  run r;
  train(&r, dir, extra, "nan@12", 0, NULL);
  CHECK_EXIT(r, 0);
  CHECK_SAYS(r, "step 12: non-finite loss");
  CHECK_SAYS(r, "step skipped");
  ck_assert_int_eq(checkpoint_step(dir), TOTAL_STEPS);
  check_checkpoint_sound(dir);
  run_free(&r);
  free(dir);
}
END_TEST

START_TEST(test_batch_too_large_for_device) {
  char *dir = temp_path("too-large");
  const char *extra[] = {"--batch", "4096", "--mu", "64", "--width", "1", "--stem", "small", NULL};
  run r;
  train(&r, dir, extra, NULL, 0, NULL);
  CHECK_EXIT(r, 1);
  CHECK_SAYS(r, "GiB of device memory");
  CHECK_SAYS(r, fc_device_get_info(fc_test_device())->name);
  CHECK_SAYS(r, "the largest --batch that fits is about ");
  ck_assert_int_eq(checkpoint_step(dir), -1);
  run_free(&r);
  free(dir);
}
END_TEST

/* The estimate the trainer checks before allocating is what plans allocate. */
START_TEST(test_plan_size_estimate) {
  fc_device *dev = fc_test_device();
  fc_net_config cfg;
  fc_net_config_default(&cfg);
  cfg.width = 0.125;
  fc_net *net = NULL;
  FC_CHECK_OK(fc_net_create(dev, &cfg, FC_NET_TRAINABLE, &net));
  for (int mode = 0; mode < 2; mode++) {
    for (int batch = 1; batch <= 9; batch += 4) {
      size_t estimate = 0;
      FC_CHECK_OK(fc_net_plan_device_bytes(&cfg, batch, (fc_net_mode)mode, &estimate));
      fc_net_plan *plan = NULL;
      FC_CHECK_OK(fc_net_plan_create(net, batch, (fc_net_mode)mode, &plan));
      ck_assert_msg(fc_net_plan_bytes(plan) == estimate,
                    "mode %d batch %d: plan %zu bytes, estimate %zu", mode, batch,
                    fc_net_plan_bytes(plan), estimate);
      fc_net_plan_free(plan);
    }
  }
  /* Larger than the device: refused before allocating, with the sizes. */
  fc_net_plan *plan = NULL;
  fc_status st = fc_net_plan_create(net, 1 << 24, FC_NET_TRAINING, &plan);
  ck_assert_int_eq(st, FC_ERR_DEVICE_MEMORY);
  ck_assert_ptr_null(plan);
  ck_assert_msg(strstr(fc_last_error(), "MiB of device memory") != NULL, "%s", fc_last_error());
  fc_net_free(net);
}
END_TEST

/* A checkpoint whose resume state indexes out of range is refused, not trusted. */
START_TEST(test_corrupt_resume_state_refused) {
  char *dir = copy_of_base("corrupt-state");
  const char *path = path_in(dir, "last.safetensors");
  fc_safetensors *f = NULL;
  FC_CHECK_OK(fc_safetensors_open(path, &f));
  size_t index = 0;
  FC_CHECK_OK(fc_safetensors_find(f, "train.host_state", &index));
  /* Where the tensor's bytes are: the data section starts after the header. */
  size_t size = 0;
  char *bytes = file_bytes(path, &size);
  uint64_t header = 0;
  memcpy(&header, bytes, 8);
  uint64_t offset = 8 + header;
  for (size_t i = 0; i < index; i++) offset += fc_safetensors_nbytes(f, i);
  fc_safetensors_close(f);
  float next_slot = 1e9f; /* the SNL window's write position (word 130) */
  memcpy(bytes + offset + 130 * sizeof(float), &next_slot, sizeof next_slot);
  FC_CHECK_OK(fc_file_write_atomic(path, bytes, size));
  run r;
  resume(&r, dir, NULL, 0, NULL);
  CHECK_EXIT(r, 1);
  CHECK_SAYS(r, "the training state is corrupt");
  size_t after_size = 0;
  char *after = file_bytes(path, &after_size);
  ck_assert_msg(after_size == size && !memcmp(after, bytes, size),
                "the refused checkpoint was changed");
  free(after);
  free(bytes);
  run_free(&r);
  free(dir);
}
END_TEST

/* Only temp files of writers that are gone are removed on resume. */
START_TEST(test_stale_temp_files) {
  char *dir = temp_path("stale");
  FC_CHECK_OK(fc_mkdir_p(dir));
  pid_t dead = fork();
  if (dead == 0) _exit(0);
  waitpid(dead, NULL, 0);
  char live_name[64], dead_name[64], other[64];
  snprintf(live_name, sizeof live_name, "last.safetensors.tmp.%ld", (long)getppid());
  snprintf(dead_name, sizeof dead_name, "log.csv.tmp.%ld", (long)dead);
  snprintf(other, sizeof other, "notes.tmp.txt");
  FC_CHECK_OK(fc_file_write_atomic(path_in(dir, live_name), "a", 1));
  FC_CHECK_OK(fc_file_write_atomic(path_in(dir, dead_name), "b", 1));
  FC_CHECK_OK(fc_file_write_atomic(path_in(dir, other), "c", 1));
  ck_assert_int_eq(fc_atomic_file_remove_stale(dir), 1);
  ck_assert_int_eq(access(path_in(dir, dead_name), F_OK), -1);
  ck_assert_int_eq(access(path_in(dir, live_name), F_OK), 0);
  ck_assert_int_eq(access(path_in(dir, other), F_OK), 0);
  free(dir);
}
END_TEST

/* A new run never replaces a saved one by accident, --overwrite does it on
 * purpose, and a run that cannot start leaves no folder behind. */
START_TEST(test_existing_run_is_kept) {
  char *dir = copy_of_base("existing");
  run r;
  train(&r, dir, NULL, NULL, 0, NULL);
  CHECK_EXIT(r, 2);
  CHECK_SAYS(r, "already holds a run");
  CHECK_SAYS(r, "--resume");
  check_same_file(path_in(dir, "last.safetensors"), path_in(base_dir(), "last.safetensors"));
  check_same_file(path_in(dir, "config.txt"), path_in(base_dir(), "config.txt"));
  run_free(&r);

  const char *overwrite[] = {"--overwrite", NULL};
  train(&r, dir, overwrite, NULL, 0, NULL);
  CHECK_EXIT(r, 0);
  check_like_reference(dir);
  run_free(&r);

  char *fresh = temp_path("cannot-start");
  const char *bad_data[] = {"--data", "/nonexistent/faces", NULL};
  train(&r, fresh, bad_data, NULL, 0, NULL);
  CHECK_EXIT(r, 1);
  CHECK_SAYS(r, "/nonexistent/faces");
  ck_assert_msg(access(fresh, F_OK) != 0, "a run that never started left %s behind", fresh);
  run_free(&r);
  free(fresh);
  free(dir);
}
END_TEST

FC_DEVICE_TEST_MAIN("faults", 1, "training", 900, test_stale_temp_files, test_plan_size_estimate,
                    test_batch_too_large_for_device, test_device_lost_stops_and_resumes,
                    test_kill9_during_save_then_resume, test_sigint_saves_and_resumes,
                    test_disk_full_keeps_checkpoint, test_unwritable_folder_keeps_checkpoint,
                    test_kernel_build_failure, test_nan_loss_stops, test_nan_loss_skipped,
                    test_corrupt_resume_state_refused, test_existing_run_is_kept)
