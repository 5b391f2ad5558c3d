/* What a hostile user feeds fer-cl, on tiny runs of the real binary: folders
 * holding the user's own files, --overwrite that fails or stops early, a
 * second run of one folder, wrong datasets and options, tampered files. Each
 * test feeds the bad input and checks what must happen (refused with a
 * message naming the thing, or handled) and that no user file was lost. */
#include <check.h>
#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clirun.h"
#include "fercl/fileio.h"
#include "fercl/safetensors.h"
#include "testutil.h"

#define EXPECT_IN(haystack, needle) \
  ck_assert_msg(strstr((haystack), (needle)) != NULL, "expected '%s' in:\n%s", (needle), (haystack))
#define EXPECT_EXIT(r, code)                                                                 \
  ck_assert_msg((r).exit_code == (code),                                                     \
                "exit %d (signal %d), expected %d; stdout:\n%s\nstderr:\n%s", (r).exit_code, \
                (r).signal, (code), (r).out, (r).err)

static char *temp_path(const char *name) {
  char *p = malloc(1200);
  snprintf(p, 1200, "%s/%s", fc_test_temp_dir(), name);
  return p;
}

static char *path_in(const char *dir, const char *name) {
  static char buf[4][1200];
  static int next = 0;
  char *p = buf[next++ % 4];
  snprintf(p, sizeof buf[0], "%s/%s", dir, name);
  return p;
}

static int exists(const char *path) { return access(path, F_OK) == 0; }

static void write_text(const char *path, const char *text) {
  FC_CHECK_OK(fc_file_write_atomic(path, text, strlen(text)));
}

static char *read_text(const char *path) {
  char *text = NULL;
  size_t size = 0;
  FC_CHECK_OK(fc_file_read_all(path, 1u << 26, &text, &size));
  return text;
}

static void expect_text(const char *path, const char *text) {
  char *got = read_text(path);
  ck_assert_msg(!strcmp(got, text), "%s holds '%s', expected '%s'", path, got, text);
  free(got);
}

/* fer-cl [--device $FERCL_TEST_DEVICE] train <tiny run> --out OUT <extra...>;
 * env: extra "NAME=value" strings or NULL. */
static fc_cli_result train(const char *out, const char *const *extra, const char *const *env) {
  static const char *const tiny[] = {
      "--width", "0.125", "--synth-train", "70", "--synth-val", "14", "--batch", "8",
      "--mu",    "1",     "--threads",     "1",  "--steps",     "2",  NULL};
  const char *args[64];
  int n = 0;
  if (getenv("FERCL_TEST_DEVICE")) {
    args[n++] = "--device";
    args[n++] = getenv("FERCL_TEST_DEVICE");
  }
  args[n++] = "train";
  for (int i = 0; tiny[i]; i++) args[n++] = tiny[i];
  if (out) {
    args[n++] = "--out";
    args[n++] = out;
  }
  for (int i = 0; extra && extra[i] && n < 63; i++) args[n++] = extra[i];
  args[n] = NULL;
  return fc_cli_run(args, env);
}

/* A finished tiny run in a fresh folder NAME. */
static char *finished_run(const char *name, const char *const *extra) {
  char *dir = temp_path(name);
  fc_cli_result r = train(dir, extra, NULL);
  EXPECT_EXIT(r, 0);
  fc_cli_result_free(&r);
  return dir;
}

/* ---- 1-3: a run replaces only what a run wrote ---- */

/* A folder with the user's own config.txt and labels.txt: refused, before
 * and after a run that fails, and the files are untouched. */
START_TEST(users_files_in_out_folder_survive) {
  char *dir = temp_path("users-files");
  FC_CHECK_OK(fc_mkdir_p(dir));
  write_text(path_in(dir, "config.txt"), "my notes\n");
  write_text(path_in(dir, "labels.txt"), "my labels\n");
  const char *bad_data[] = {"--data", "/nonexistent/faces", NULL};
  const char *overwrite[] = {"--overwrite", NULL};
  const char *const *cases[] = {NULL, bad_data, overwrite};
  for (int i = 0; i < 3; i++) {
    fc_cli_result r = train(dir, cases[i], NULL);
    EXPECT_EXIT(r, 2);
    EXPECT_IN(r.err, "config.txt was not written by fer-cl");
    EXPECT_IN(r.err, "choose another --out");
    fc_cli_result_free(&r);
    expect_text(path_in(dir, "config.txt"), "my notes\n");
    expect_text(path_in(dir, "labels.txt"), "my labels\n");
  }
  /* Other files of the user's beside a run are fine, and kept. */
  char *mixed = temp_path("users-other-files");
  FC_CHECK_OK(fc_mkdir_p(mixed));
  write_text(path_in(mixed, "notes.txt"), "keep me\n");
  fc_cli_result r = train(mixed, NULL, NULL);
  EXPECT_EXIT(r, 0);
  fc_cli_result_free(&r);
  expect_text(path_in(mixed, "notes.txt"), "keep me\n");
  ck_assert(exists(path_in(mixed, "last.safetensors")));
  /* A new run that fails in an existing folder removes only its own files. */
  char *failing = temp_path("users-folder-failing-run");
  FC_CHECK_OK(fc_mkdir_p(failing));
  write_text(path_in(failing, "notes.txt"), "keep me\n");
  const char *nan_env[] = {"FERCL_TEST_FAULT=nan@1", NULL};
  r = train(failing, NULL, nan_env);
  EXPECT_EXIT(r, 1);
  EXPECT_IN(r.err, "the loss is not finite");
  fc_cli_result_free(&r);
  expect_text(path_in(failing, "notes.txt"), "keep me\n");
  ck_assert_msg(!exists(path_in(failing, "config.txt")) && !exists(path_in(failing, "log.csv")),
                "a run that failed before its first checkpoint left files behind");
  free(failing);
  free(mixed);
  free(dir);
}
END_TEST

/* --overwrite whose new run cannot start keeps the old run whole and
 * resumable: nothing is touched before the new run is fully set up. */
START_TEST(failed_overwrite_keeps_old_run) {
  char *dir = finished_run("overwrite-fails", NULL);
  char *config = read_text(path_in(dir, "config.txt"));
  char *labels = read_text(path_in(dir, "labels.txt"));
  const char *bad[][4] = {{"--overwrite", "--data", "/nonexistent/faces", NULL},
                          {"--overwrite", "--init", "/nonexistent/weights.safetensors", NULL},
                          {"--overwrite", "--split", "/nonexistent/labels.txt", NULL}};
  for (int i = 0; i < 3; i++) {
    fc_cli_result r = train(dir, bad[i], NULL);
    EXPECT_EXIT(r, r.exit_code ? r.exit_code : 1);
    ck_assert_msg(r.exit_code != 0, "case %d ran", i);
    fc_cli_result_free(&r);
    expect_text(path_in(dir, "config.txt"), config);
    expect_text(path_in(dir, "labels.txt"), labels);
    ck_assert(exists(path_in(dir, "last.safetensors")));
    ck_assert(exists(path_in(dir, "best.safetensors")));
  }
  /* Still resumable: more steps on top of the old run. */
  fc_cli_result r =
      fc_cli_run((const char *[]){"train", "--resume", dir, "--steps", "3", NULL}, NULL);
  EXPECT_EXIT(r, 0);
  EXPECT_IN(r.out, "resumed after step 2");
  fc_cli_result_free(&r);
  free(config);
  free(labels);
  free(dir);
}
END_TEST

/* --overwrite whose new run stops before making every output: none of the
 * old run's outputs is left beside the new run's. */
START_TEST(overwrite_removes_stale_outputs) {
  char *dir = finished_run("overwrite-stale", NULL);
  ck_assert(exists(path_in(dir, "best.safetensors")) && exists(path_in(dir, "curves.png")) &&
            exists(path_in(dir, "confusion.png")));
  /* The new run saves step 1, then its loss blows up at step 2 (no evaluation). */
  const char *extra[] = {"--overwrite", "--save-every", "1", "--eval-every", "0", NULL};
  const char *env[] = {"FERCL_TEST_FAULT=nan@2", NULL};
  fc_cli_result r = train(dir, extra, env);
  EXPECT_EXIT(r, 1);
  EXPECT_IN(r.err, "removed the 7 files of the previous run");
  EXPECT_IN(r.err, "(step 1) is intact");
  fc_cli_result_free(&r);
  ck_assert(exists(path_in(dir, "last.safetensors")));
  ck_assert(exists(path_in(dir, "config.txt")));
  const char *stale[] = {"best.safetensors", "curves.png", "confusion.png", NULL};
  for (int i = 0; stale[i]; i++)
    ck_assert_msg(!exists(path_in(dir, stale[i])), "the old run's %s is still in %s", stale[i],
                  dir);
  char *config = read_text(path_in(dir, "config.txt"));
  EXPECT_IN(config, "eval-every = 0");
  free(config);
  free(dir);
}
END_TEST

/* ---- 4: synth never mixes two sets ---- */

START_TEST(synth_refuses_non_empty_folder) {
  char *dir = temp_path("synth-full");
  FC_CHECK_OK(fc_mkdir_p(dir));
  write_text(path_in(dir, "mine.png"), "not an image of fer-cl's");
  fc_cli_result r = fc_cli_run((const char *[]){"synth", "--out", dir, "--count", "7", NULL}, NULL);
  EXPECT_EXIT(r, 2);
  EXPECT_IN(r.err, "is not empty (it holds mine.png)");
  fc_cli_result_free(&r);
  expect_text(path_in(dir, "mine.png"), "not an image of fer-cl's");
  ck_assert_msg(!exists(path_in(dir, "train")), "synth wrote into a refused folder");
  /* An existing empty folder is fine; writing the same folder again is not. */
  char *empty = temp_path("synth-empty");
  FC_CHECK_OK(fc_mkdir_p(empty));
  r = fc_cli_run((const char *[]){"synth", "--out", empty, "--count", "7", NULL}, NULL);
  EXPECT_EXIT(r, 0);
  fc_cli_result_free(&r);
  ck_assert(exists(path_in(empty, "train")));
  r = fc_cli_run((const char *[]){"synth", "--out", empty, "--count", "7", "--seed", "2", NULL},
                 NULL);
  EXPECT_EXIT(r, 2);
  EXPECT_IN(r.err, "is not empty");
  fc_cli_result_free(&r);
  free(empty);
  free(dir);
}
END_TEST

/* ---- 5: the unlabelled pool never holds validation images; one run per folder ---- */

START_TEST(unlabeled_overlapping_dataset_refused) {
  char *data = temp_path("overlap-data");
  fc_cli_result r =
      fc_cli_run((const char *[]){"synth", "--out", data, "--count", "70", NULL}, NULL);
  EXPECT_EXIT(r, 0);
  fc_cli_result_free(&r);
  char val[1300], parent[1300];
  snprintf(val, sizeof val, "%s/val", data);
  snprintf(parent, sizeof parent, "%s/..", data);
  const char *cases[][2] = {{data, "it is the dataset's folder"},
                            {val, "it lies inside the dataset"},
                            {parent, "it holds the dataset"}};
  char *out = temp_path("overlap-run");
  for (int i = 0; i < 3; i++) {
    const char *extra[] = {"--data", data, "--unlabeled", cases[i][0], NULL};
    r = train(out, extra, NULL);
    EXPECT_EXIT(r, 1);
    EXPECT_IN(r.err, "overlaps the dataset");
    EXPECT_IN(r.err, cases[i][1]);
    fc_cli_result_free(&r);
    ck_assert_msg(!exists(out), "a refused run left %s", out);
  }
  free(out);
  free(data);
}
END_TEST

/* A lock held by another process refuses the second run with its pid; a
 * lock file left by a dead run is taken over. */
START_TEST(second_run_of_a_folder_refused) {
  char *dir = finished_run("locked", NULL);
  const char *lock = path_in(dir, ".fer-cl.lock");
  ck_assert_msg(!exists(lock), "a finished run left its lock file");
  /* Another fer-cl train holding the folder: a child that takes the lock as the binary does. */
  int ready[2];
  ck_assert_int_eq(pipe(ready), 0);
  pid_t holder = fork();
  if (holder == 0) {
    int fd = open(lock, O_RDWR | O_CREAT, 0644);
    if (fd < 0 || flock(fd, LOCK_EX) != 0) _exit(1);
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (write(fd, pid, (size_t)n) != n) _exit(1);
    if (write(ready[1], "x", 1) != 1) _exit(1);
    pause();
    _exit(0);
  }
  char byte;
  ck_assert_int_eq(read(ready[0], &byte, 1), 1);
  char expect[96];
  snprintf(expect, sizeof expect, "is in use by another fer-cl train (process %ld)", (long)holder);
  fc_cli_result r =
      fc_cli_run((const char *[]){"train", "--resume", dir, "--steps", "3", NULL}, NULL);
  EXPECT_EXIT(r, 2);
  EXPECT_IN(r.err, expect);
  fc_cli_result_free(&r);
  const char *overwrite[] = {"--overwrite", NULL};
  r = train(dir, overwrite, NULL);
  EXPECT_EXIT(r, 2);
  EXPECT_IN(r.err, expect);
  fc_cli_result_free(&r);
  ck_assert(exists(path_in(dir, "last.safetensors")));
  /* The holder dies (kill -9): its lock file stays, its lock does not. */
  kill(holder, SIGKILL);
  waitpid(holder, NULL, 0);
  close(ready[0]);
  close(ready[1]);
  ck_assert(exists(lock));
  r = fc_cli_run((const char *[]){"train", "--resume", dir, "--steps", "3", NULL}, NULL);
  EXPECT_EXIT(r, 0);
  EXPECT_IN(r.out, "resumed after step 2");
  fc_cli_result_free(&r);
  ck_assert_msg(!exists(lock), "the resumed run left its lock file");
  free(dir);
}
END_TEST

/* ---- 6: non-finite weights are refused at load ---- */

/* A copy of src at dst with element `at` of tensor `name` set to value. */
static void tamper_tensor(const char *src, const char *dst, const char *name, size_t at,
                          float value) {
  size_t size = 0;
  char *bytes = NULL;
  FC_CHECK_OK(fc_file_read_all(src, 1u << 28, &bytes, &size));
  fc_safetensors *f = NULL;
  FC_CHECK_OK(fc_safetensors_open(src, &f));
  size_t index = 0;
  FC_CHECK_OK(fc_safetensors_find(f, name, &index));
  const fc_st_tensor *t = fc_safetensors_tensor(f, index);
  ck_assert_int_eq(t->dtype, FC_ST_F32);
  size_t n = (size_t)fc_safetensors_numel(f, index);
  ck_assert_msg(n >= 8 && at < n, "%s has %zu elements", name, n);
  float *v = malloc(n * sizeof(float));
  FC_CHECK_OK(fc_safetensors_read_f32(f, index, v, n));
  /* Where its bytes are in the file: its first 32 bytes, found once. */
  char *found = memmem(bytes, size, v, 32);
  ck_assert_msg(found && !memmem(found + 1, size - (size_t)(found + 1 - bytes), v, 32),
                "cannot place %s in %s", name, src);
  free(v);
  memcpy(found + at * sizeof(float), &value, sizeof value);
  fc_safetensors_close(f);
  FC_CHECK_OK(fc_file_write_atomic(dst, bytes, size));
  free(bytes);
}

START_TEST(non_finite_checkpoint_refused) {
  char *dir = finished_run("non-finite", NULL);
  char *data = temp_path("non-finite-data");
  fc_cli_result r =
      fc_cli_run((const char *[]){"synth", "--out", data, "--count", "14", NULL}, NULL);
  EXPECT_EXIT(r, 0);
  fc_cli_result_free(&r);
  char image[1300];
  snprintf(image, sizeof image, "%s/val/happy/00000.png", data);
  if (!exists(image)) { /* whatever the first happy validation image is called */
    snprintf(image, sizeof image, "%s/train/happy", data);
    DIR *d = opendir(image);
    ck_assert(d != NULL);
    for (struct dirent *e; (e = readdir(d));)
      if (strstr(e->d_name, ".png")) {
        snprintf(image, sizeof image, "%s/train/happy/%s", data, e->d_name);
        break;
      }
    closedir(d);
  }
  struct {
    const char *tensor;
    size_t at;
    float value;
  } cases[] = {{"fc.weight", 3, NAN},
               {"layer1.0.conv1.weight", 5, INFINITY},
               {"bn1.running_var", 1, -INFINITY}};
  char *bad = temp_path("non-finite.safetensors");
  for (int i = 0; i < 3; i++) {
    tamper_tensor(path_in(dir, "best.safetensors"), bad, cases[i].tensor, cases[i].at,
                  cases[i].value);
    char expect[160];
    snprintf(expect, sizeof expect, "tensor %s holds %s at element %zu", cases[i].tensor,
             isnan(cases[i].value) ? "nan"
             : cases[i].value > 0  ? "inf"
                                   : "-inf",
             cases[i].at);
    fc_cli_result e =
        fc_cli_run((const char *[]){"eval", "--model", bad, "--data", data, NULL}, NULL);
    ck_assert_msg(e.exit_code != 0, "eval of a NaN model exited 0:\n%s", e.out);
    EXPECT_IN(e.err, expect);
    fc_cli_result_free(&e);
    fc_cli_result p = fc_cli_run((const char *[]){"predict", "--model", bad, image, NULL}, NULL);
    ck_assert_msg(p.exit_code != 0, "predict with a NaN model exited 0:\n%s", p.out);
    EXPECT_IN(p.err, expect);
    fc_cli_result_free(&p);
    /* --init of such weights too, before the new run writes anything. */
    char *out = temp_path("non-finite-init");
    const char *init[] = {"--init", bad, NULL};
    fc_cli_result t = train(out, init, NULL);
    ck_assert_int_ne(t.exit_code, 0);
    EXPECT_IN(t.err, expect);
    fc_cli_result_free(&t);
    ck_assert_msg(!exists(out), "a refused --init left %s", out);
    free(out);
  }
  free(bad);
  free(data);
  free(dir);
}
END_TEST

/* ---- 7: a byte order mark is not text ---- */

START_TEST(config_with_byte_order_mark) {
  char *config = temp_path("bom-config.txt");
  write_text(config,
             "\xEF\xBB\xBF"
             "steps = 1\nsave-every = 1\n");
  char *out = temp_path("bom-run");
  const char *extra[] = {"--config", config, NULL};
  fc_cli_result r = train(out, extra, NULL);
  /* train() passes --steps 2 after --config: the command line wins; the BOM line still parsed. */
  EXPECT_EXIT(r, 0);
  fc_cli_result_free(&r);
  char *saved = read_text(path_in(out, "config.txt"));
  EXPECT_IN(saved, "save-every = 1");
  free(saved);
  free(out);
  free(config);
}
END_TEST

/* ---- 8: options that did something else than they say ---- */

START_TEST(options_mean_what_they_say) {
  char *out = temp_path("options");
  /* --labels below the class count. */
  const char *few_labels[] = {"--labels", "3", NULL};
  fc_cli_result r = train(out, few_labels, NULL);
  EXPECT_EXIT(r, 1);
  EXPECT_IN(r.err, "--labels 3 leaves 4 of the 7 classes without a labelled image");
  EXPECT_IN(r.err, "give --labels 7 or more");
  fc_cli_result_free(&r);
  ck_assert(!exists(out));
  /* --epochs 0 (with no --steps) trains nothing: refused. */
  const char *no_epochs[] = {"--steps", "0", "--epochs", "0", NULL};
  r = train(out, no_epochs, NULL);
  ck_assert_int_ne(r.exit_code, 0);
  EXPECT_IN(r.err, "--epochs 0 trains nothing");
  fc_cli_result_free(&r);
  ck_assert(!exists(out));
  /* --flag=false turns a flag off, even one a --config file turned on. */
  char *config = temp_path("options-config.txt");
  write_text(config, "supervised-only = true\nno-snl = true\n");
  const char *flags[] = {
      "--config", config, "--supervised-only=false", "--no-rfd=true", "--skip-nonfinite=no", NULL};
  r = train(out, flags, NULL);
  EXPECT_EXIT(r, 0);
  fc_cli_result_free(&r);
  char *saved = read_text(path_in(out, "config.txt"));
  EXPECT_IN(saved, "supervised-only = false");
  EXPECT_IN(saved, "no-snl = true");
  EXPECT_IN(saved, "no-rfd = true");
  EXPECT_IN(saved, "skip-nonfinite = false");
  free(saved);
  const char *bad_flag[] = {"--no-snl=maybe", NULL};
  char *other = temp_path("options-bad-flag");
  r = train(other, bad_flag, NULL);
  EXPECT_EXIT(r, 2);
  EXPECT_IN(r.err, "--no-snl is a switch: give it alone, or =true or =false (got 'maybe')");
  fc_cli_result_free(&r);
  free(other);
  free(config);
  free(out);
}
END_TEST

/* ---- 10: smaller things ---- */

START_TEST(global_options_after_the_command) {
  const char *commands[] = {"train", "eval", "predict", "synth", "bench", "data", "devices", NULL};
  for (int i = 0; commands[i]; i++) {
    fc_cli_result r = fc_cli_run((const char *[]){commands[i], "--version", NULL}, NULL);
    ck_assert_msg(r.exit_code == 0, "%s --version: exit %d: %s", commands[i], r.exit_code, r.err);
    EXPECT_IN(r.out, "fer-cl ");
    fc_cli_result_free(&r);
  }
}
END_TEST

/* A folder left by a run that stopped before its first checkpoint (a
 * header-only log.csv, as older versions left): the messages lead to a rerun. */
START_TEST(run_without_checkpoint_can_be_rerun) {
  char *done = finished_run("no-checkpoint-source", NULL);
  char *dir = temp_path("no-checkpoint");
  FC_CHECK_OK(fc_mkdir_p(dir));
  char *config = read_text(path_in(done, "config.txt"));
  write_text(path_in(dir, "config.txt"), config);
  free(config);
  char *log = read_text(path_in(done, "log.csv"));
  *strchr(log, '\n') = '\0';
  strcat(log, "\n");
  write_text(path_in(dir, "log.csv"), log);
  free(log);
  fc_cli_result r = fc_cli_run((const char *[]){"train", "--resume", dir, NULL}, NULL);
  EXPECT_EXIT(r, 2);
  EXPECT_IN(r.err, "has no last.safetensors");
  EXPECT_IN(r.err, "--overwrite");
  fc_cli_result_free(&r);
  r = train(dir, NULL, NULL);
  EXPECT_EXIT(r, 2);
  EXPECT_IN(r.err, "stopped before its first checkpoint");
  fc_cli_result_free(&r);
  const char *overwrite[] = {"--overwrite", NULL};
  r = train(dir, overwrite, NULL);
  EXPECT_EXIT(r, 0);
  fc_cli_result_free(&r);
  ck_assert(exists(path_in(dir, "last.safetensors")));
  free(dir);
  free(done);
}
END_TEST

/* Relative paths in config.txt are stored absolute, so --resume works from
 * another folder; --config of a run's config.txt starts a new run elsewhere. */
START_TEST(run_config_is_portable) {
  char cwd[1100];
  ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
  ck_assert_int_eq(chdir(fc_test_temp_dir()), 0);
  fc_cli_result r =
      fc_cli_run((const char *[]){"synth", "--out", "portable-data", "--count", "70", NULL}, NULL);
  EXPECT_EXIT(r, 0);
  fc_cli_result_free(&r);
  const char *rel[] = {"--data", "portable-data", NULL};
  r = train("portable-run", rel, NULL);
  ck_assert_int_eq(chdir(cwd), 0);
  EXPECT_EXIT(r, 0);
  fc_cli_result_free(&r);
  char *dir = temp_path("portable-run");
  char *config = read_text(path_in(dir, "config.txt"));
  char expect[1300];
  snprintf(expect, sizeof expect, "data = \"%s/portable-data\"", fc_test_temp_dir());
  EXPECT_IN(config, expect);
  free(config);
  r = fc_cli_run((const char *[]){"train", "--resume", dir, "--steps", "3", NULL}, NULL);
  EXPECT_EXIT(r, 0);
  EXPECT_IN(r.out, "resumed after step 2");
  fc_cli_result_free(&r);
  /* The run's config.txt names its folder in 'out': a new run goes to its own. */
  ck_assert_int_eq(chdir(fc_test_temp_dir()), 0);
  r = fc_cli_run((const char *[]){"train", "--config", "portable-run/config.txt", NULL}, NULL);
  ck_assert_int_eq(chdir(cwd), 0);
  EXPECT_EXIT(r, 0);
  EXPECT_IN(r.err, "is the config of the run in portable-run; this run goes to runs/");
  EXPECT_IN(r.out, "run folder: runs/");
  fc_cli_result_free(&r);
  free(dir);
}
END_TEST

/* Starts fer-cl (argv[0]) with stdout and stderr into err_path, FERCL_TEST_FAULT
 * set to `fault` and TMPDIR to `tmpdir` (when given). */
static pid_t spawn_fercl(const char *const *argv, const char *err_path, const char *fault,
                         const char *tmpdir) {
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) _exit(126);
    dup2(fd, 1);
    dup2(fd, 2);
    if (tmpdir) setenv("TMPDIR", tmpdir, 1);
    setenv("FERCL_TEST_FAULT", fault, 1);
    execv(argv[0], (char *const *)argv);
    _exit(127);
  }
  ck_assert_int_ge(pid, 0);
  return pid;
}

/* Waits (up to `limit_ms`) until the file holds `text`. */
static int wait_for_text(const char *path, const char *text, int limit_ms) {
  for (int ms = 0; ms < limit_ms; ms += 5) {
    char *data = NULL;
    size_t size = 0;
    int seen =
        fc_file_read_all(path, 1u << 24, &data, &size) == FC_OK && strstr(data, text) != NULL;
    free(data);
    if (seen) return 1;
    usleep(5000);
  }
  return 0;
}

/* Ctrl-C twice while the run saves: it stops at once and says so; the last
 * complete save resumes. */
START_TEST(second_ctrl_c_during_save_says_so) {
  char *dir = temp_path("double-ctrl-c");
  char *err_path = temp_path("double-ctrl-c.err");
  // clang-format off
  const char *argv[] = {getenv("FERCL_BIN"), "train", "--width", "0.125", "--synth-train", "70", "--synth-val", "14",
                        "--batch", "8", "--mu", "1", "--threads", "1", "--steps", "20", "--save-every", "2",
                        "--log-every", "1", "--out", dir, NULL};
  // clang-format on
  /* Saves take 1.5 s between writing and renaming: the second Ctrl-C lands in one. */
  pid_t pid = spawn_fercl(argv, err_path, "step-delay-ms@20,commit-delay-ms@1500", NULL);
  ck_assert_msg(wait_for_text(err_path, "step 3/20", 120000), "the run never reached step 3");
  kill(pid, SIGINT);
  usleep(400000); /* into the save the first Ctrl-C asked for */
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  char *err = read_text(err_path);
  ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 130, "status %d:\n%s", status, err);
  EXPECT_IN(err, "stopping after this step and saving (press Ctrl-C again to stop at once");
  EXPECT_IN(err, "stopped at once by a second Ctrl-C, without saving");
  EXPECT_IN(err, "continue with fer-cl train --resume");
  free(err);
  fc_cli_result r = fc_cli_run((const char *[]){"train", "--resume", dir, NULL}, NULL);
  EXPECT_EXIT(r, 0);
  EXPECT_IN(r.out, "done: steps");
  fc_cli_result_free(&r);
  free(err_path);
  free(dir);
}
END_TEST

/* bench and eval check every argument before the work starts. */
START_TEST(arguments_checked_before_the_work) {
  const char *bad_only[][2] = {{"", "an empty section name"},
                               {"gemm,,conv", "an empty section name"},
                               {"gemm,bogus", "unknown section 'bogus'"}};
  for (int i = 0; i < 3; i++) {
    fc_cli_result r = fc_cli_run((const char *[]){"bench", "--only", bad_only[i][0], NULL}, NULL);
    EXPECT_EXIT(r, 2);
    EXPECT_IN(r.err, bad_only[i][1]);
    ck_assert_msg(!strstr(r.out, "device:"), "bench started work before refusing:\n%s", r.out);
    fc_cli_result_free(&r);
  }
  /* The model does not exist either: the --png folder is reported first, before any loading. */
  fc_cli_result r =
      fc_cli_run((const char *[]){"eval", "--model", "/nonexistent/m.safetensors", "--data",
                                  "/nonexistent/data", "--png", "/nonexistent/folder/c.png", NULL},
                 NULL);
  EXPECT_EXIT(r, 1);
  EXPECT_IN(
      r.err,
      "cannot write /nonexistent/folder/c.png: the folder /nonexistent/folder does not exist");
  fc_cli_result_free(&r);
  r = fc_cli_run((const char *[]){"eval", "--model", "/nonexistent/m.safetensors", "--data",
                                  "/nonexistent/data", "--format", "bogus", NULL},
                 NULL);
  ck_assert_int_ne(r.exit_code, 0);
  EXPECT_IN(r.err, "unknown dataset format 'bogus'");
  fc_cli_result_free(&r);
}
END_TEST

/* ---- 9: evaluation across datasets ---- */

/* A folder dataset at root/NAME/<class> from the synthetic set's val/<class>,
 * for pairs {folder name, synthetic class}. */
static char *class_folders(const char *name, const char *src, const char *const pairs[][2], int n) {
  char *root = temp_path(name);
  for (int i = 0; i < n; i++) {
    char from[1300], to[1300];
    snprintf(from, sizeof from, "%s/val/%s", src, pairs[i][1]);
    snprintf(to, sizeof to, "%s/%s", root, pairs[i][0]);
    fc_test_copy_dir(from, to);
  }
  return root;
}

/* The number after "key": in a JSON text. */
static double json_number(const char *json, const char *key) {
  char pattern[96];
  snprintf(pattern, sizeof pattern, "\"%s\":", key);
  const char *p = strstr(json, pattern);
  ck_assert_msg(p != NULL, "no %s in %s", key, json);
  return strtod(p + strlen(pattern), NULL);
}

static char *json_array(const char *json, const char *key) {
  char pattern[96];
  snprintf(pattern, sizeof pattern, "\"%s\":[", key);
  const char *p = strstr(json, pattern);
  ck_assert_msg(p != NULL, "no %s in %s", key, json);
  p += strlen(pattern) - 1;
  int depth = 0;
  const char *e = p;
  do {
    depth += *e == '[';
    depth -= *e == ']';
    e++;
  } while (depth > 0 && *e);
  char *out = strndup(p, (size_t)(e - p));
  return out;
}

START_TEST(eval_matches_classes_by_name) {
  /* A model trained a few more steps, so that its answers vary. */
  const char *longer[] = {"--steps", "12", NULL};
  char *run = finished_run("cross-model", longer);
  char model[1300];
  snprintf(model, sizeof model, "%s/best.safetensors", run);
  char *src = temp_path("cross-source");
  fc_cli_result r = fc_cli_run(
      (const char *[]){"synth", "--out", src, "--count", "7", "--val-count", "70", NULL}, NULL);
  EXPECT_EXIT(r, 0);
  fc_cli_result_free(&r);
  /* The model's names, a subset of its classes. */
  const char *same[][2] = {{"angry", "angry"}, {"neutral", "neutral"}, {"sad", "sad"}};
  char *subset = class_folders("cross-subset", src, same, 3);
  /* The same images as CK+ names them, in another order, with a class the model lacks. */
  const char *ck[][2] = {
      {"Anger", "angry"}, {"sadness", "sad"}, {"neutral", "neutral"}, {"contempt", "happy"}};
  char *ckplus = class_folders("cross-ckplus", src, ck, 4);

  r = fc_cli_run((const char *[]){"eval", "--model", model, "--data", subset, "--json", NULL},
                 NULL);
  EXPECT_EXIT(r, 0);
  char *subset_json = strdup(r.out);
  fc_cli_result_free(&r);
  ck_assert(json_number(subset_json, "total") == 30);
  ck_assert(json_number(subset_json, "left_out_images") == 0);

  r = fc_cli_run((const char *[]){"eval", "--model", model, "--data", ckplus, "--json",
                                  "--class-map", "anger=angry,SADNESS=Sad", NULL},
                 NULL);
  EXPECT_EXIT(r, 0);
  /* Matched images scored as with the model's own names: the same confusion matrix. */
  char *a = json_array(subset_json, "confusion"), *b = json_array(r.out, "confusion");
  ck_assert_msg(!strcmp(a, b), "confusion %s under the model's names, %s under CK+'s", a, b);
  free(a);
  free(b);
  ck_assert(json_number(r.out, "total") == 30);
  ck_assert(json_number(r.out, "accuracy") == json_number(subset_json, "accuracy"));
  ck_assert(json_number(r.out, "left_out_images") == 10);
  ck_assert(fabs(json_number(r.out, "accuracy_with_left_out_as_errors") -
                 json_number(subset_json, "accuracy") * 30.0 / 40.0) < 1e-9);
  EXPECT_IN(r.out, "{\"name\":\"Anger\",\"model_class\":\"angry\",\"images\":10}");
  EXPECT_IN(r.out, "{\"name\":\"contempt\",\"model_class\":null,\"images\":10,\"predicted\":{");
  fc_cli_result_free(&r);

  /* The text report says how classes matched and what was left out, with both numbers. */
  r = fc_cli_run((const char *[]){"eval", "--model", model, "--data", ckplus, "--class-map",
                                  "anger=angry,sadness=sad", NULL},
                 NULL);
  EXPECT_EXIT(r, 0);
  EXPECT_IN(
      r.out,
      "classes (data -> model): Anger -> angry, contempt -> (left out), neutral, sadness -> sad");
  EXPECT_IN(r.out, "(30 images)");
  EXPECT_IN(r.out,
            "left out: 10 images of 1 data class the model does not have: contempt 10 (the model "
            "called them");
  EXPECT_IN(r.out, "on the 30 images of the matched classes;");
  EXPECT_IN(r.out, "on all 40 images, counting the left-out ones as errors");
  EXPECT_IN(r.out, "the data has no images of the model's classes disgust, fear, happy, surprise");
  fc_cli_result_free(&r);

  /* Without the map, other names are left out and the report says how to map them. */
  r = fc_cli_run((const char *[]){"eval", "--model", model, "--data", ckplus, NULL}, NULL);
  EXPECT_EXIT(r, 0);
  EXPECT_IN(r.out, "Anger -> (left out)");
  EXPECT_IN(r.out, "left out: 30 images of 3 data classes");
  EXPECT_IN(r.out, "--class-map DATA=MODEL");
  fc_cli_result_free(&r);

  /* Bad maps, and data with nothing in common. */
  const char *bad[][2] = {
      {"bogus=angry",
       "the data has no class 'bogus' (its classes: Anger, contempt, neutral, sadness)"},
      {"anger=furious", "the model has no class 'furious' (its classes: angry, disgust"},
      {"anger", "'anger' is not DATA=MODEL"},
      {"anger=angry,,", "'' is not DATA=MODEL"}};
  for (int i = 0; i < 4; i++) {
    r = fc_cli_run((const char *[]){"eval", "--model", model, "--data", ckplus, "--class-map",
                                    bad[i][0], NULL},
                   NULL);
    EXPECT_EXIT(r, 2);
    EXPECT_IN(r.err, bad[i][1]);
    fc_cli_result_free(&r);
  }
  const char *foreign[][2] = {{"cats", "angry"}, {"dogs", "sad"}};
  char *other = class_folders("cross-foreign", src, foreign, 2);
  r = fc_cli_run((const char *[]){"eval", "--model", model, "--data", other, NULL}, NULL);
  ck_assert_int_ne(r.exit_code, 0);
  EXPECT_IN(r.err, "none of the data's classes (cats, dogs) is a class of the model");
  EXPECT_IN(r.err, "--class-map");
  fc_cli_result_free(&r);
  free(other);
  free(subset_json);
  free(ckplus);
  free(subset);
  free(src);
  free(run);
}
END_TEST

/* ---- 11: the progress line fits the terminal ---- */

/* On a 50-column terminal every redraw of the progress line is one row. */
START_TEST(progress_line_fits_the_terminal) {
  int master = posix_openpt(O_RDWR | O_NOCTTY);
  ck_assert_int_ge(master, 0);
  ck_assert_int_eq(grantpt(master), 0);
  ck_assert_int_eq(unlockpt(master), 0);
  struct winsize ws = {.ws_row = 24, .ws_col = 50};
  ck_assert_int_eq(ioctl(master, TIOCSWINSZ, &ws), 0);
  char *slave_name = strdup(ptsname(master));
  char *dir = temp_path("narrow-terminal");
  // clang-format off
  const char *argv[] = {getenv("FERCL_BIN"), "train", "--width", "0.125", "--synth-train", "70", "--synth-val", "14",
                        "--batch", "8", "--mu", "1", "--threads", "1", "--steps", "4", "--out", dir, NULL};
  // clang-format on
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) {
    setsid();
    int slave = open(slave_name, O_RDWR);
    if (slave < 0) _exit(126);
    dup2(slave, 1);
    dup2(slave, 2);
    close(master);
    execv(argv[0], (char *const *)argv);
    _exit(127);
  }
  size_t size = 0, capacity = 1 << 16;
  char *text = malloc(capacity);
  for (;;) {
    ssize_t n = read(master, text + size, capacity - 1 - size);
    if (n <= 0) break; /* EIO once the child has gone */
    size += (size_t)n;
    if (size + 1 >= capacity) text = realloc(text, capacity *= 2);
  }
  text[size] = '\0';
  int status = 0;
  waitpid(pid, &status, 0);
  close(master);
  ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d:\n%s", status, text);
  int redraws = 0;
  for (char *p = strstr(text, "\r\033[K"); p; p = strstr(p + 1, "\r\033[K")) {
    const char *line = p + 4;
    size_t len = strcspn(line, "\r\n");
    ck_assert_msg(len < 50, "a %zu-character progress line on a 50-column terminal: %.*s", len,
                  (int)len, line);
    redraws++;
  }
  ck_assert_msg(redraws >= 4, "%d progress redraws:\n%s", redraws, text);
  free(text);
  free(dir);
  free(slave_name);
}
END_TEST

/* ---- 12: the default run shows what the unlabelled faces add ---- */

/* The accuracy after "label accuracy " on the line of out holding key; -1 if none. */
static double accuracy_on_line(const char *out, const char *key) {
  const char *line = strstr(out, key);
  if (!line) return -1;
  const char *a = strstr(line, "accuracy ");
  return a ? atof(a + 9) : -1;
}

/* A run on the synthetic faces takes their defaults (a teacher for short
 * runs, warm-ups) and ends with its accuracy beside a supervised-only run
 * on the same labelled faces for the same steps. That figure is measured:
 * training --supervised-only --split labels.txt separately gives the same
 * number. --no-baseline skips it; a --data run keeps the general defaults. */
/* fer-cl train on 140 synthetic faces, 4 labelled per class, then extra. */
static fc_cli_result synth_run(const char *const *extra) {
  static const char *const tiny[] = {"--width",
                                     "0.125",
                                     "--synth-train",
                                     "140",
                                     "--synth-val",
                                     "28",
                                     "--labels-per-class",
                                     "4",
                                     "--batch",
                                     "8",
                                     "--mu",
                                     "1",
                                     "--threads",
                                     "1",
                                     "--steps",
                                     "3",
                                     NULL};
  const char *args[40];
  int n = 0;
  args[n++] = "train";
  for (int i = 0; tiny[i]; i++) args[n++] = tiny[i];
  for (int i = 0; extra[i] && n < 39; i++) args[n++] = extra[i];
  args[n] = NULL;
  return fc_cli_run(args, NULL);
}

START_TEST(synthetic_run_ends_beside_supervised_only) {
  char *dir = temp_path("synth-compare"), *alone = temp_path("synth-supervised-alone");
  fc_cli_result r = synth_run((const char *[]){"--out", dir, NULL});
  EXPECT_EXIT(r, 0);
  EXPECT_IN(r.out, "what the 112 unlabelled faces add (the same 28 labelled faces");
  double semi = accuracy_on_line(r.out, "semi-supervised (this run)");
  double sup = accuracy_on_line(r.out, "supervised only (--supervised-only, just now)");
  ck_assert_msg(semi >= 0 && sup >= 0, "no comparison in:\n%s", r.out);
  /* They are the run's last lines. */
  const char *last = strstr(r.out, "supervised only (--supervised-only, just now)");
  ck_assert_msg(strchr(last, '\n') && strchr(last, '\n')[1] == '\0', "not the last line:\n%s",
                r.out);
  ck_assert_double_eq_tol(semi, accuracy_on_line(r.out, "teacher on the validation split:"), 1e-9);
  char *config = read_text(path_in(dir, "config.txt"));
  EXPECT_IN(config, "\nema = 0.99\n"); /* the synthetic faces' defaults ... */
  EXPECT_IN(config, "\npseudo-warmup = 100\n");
  EXPECT_IN(config, "\nlabels-per-class = 4\n"); /* ... under the options given */
  free(config);
  /* The same supervised-only run, by hand: the same accuracy. */
  fc_cli_result by_hand = synth_run((const char *[]){
      "--supervised-only", "--split", path_in(dir, "labels.txt"), "--out", alone, NULL});
  EXPECT_EXIT(by_hand, 0);
  ck_assert_msg(!strstr(by_hand.out, "supervised only ("),
                "a supervised-only run compares with itself");
  double again = accuracy_on_line(by_hand.out, "teacher on the validation split:");
  ck_assert_msg(fabs(again - sup) < 1e-9,
                "printed supervised-only accuracy %.4f, measured by hand %.4f", sup, again);
  /* --no-baseline: no comparison. */
  fc_cli_result skipped =
      synth_run((const char *[]){"--no-baseline", "--overwrite", "--out", dir, NULL});
  EXPECT_EXIT(skipped, 0);
  ck_assert_msg(!strstr(skipped.out, "supervised only ("), "--no-baseline still compared:\n%s",
                skipped.out);
  fc_cli_result_free(&r);
  fc_cli_result_free(&by_hand);
  fc_cli_result_free(&skipped);
  free(dir);
  free(alone);
}
END_TEST

/* Ctrl-C during the synthetic run's supervised-only comparison stops only the
 * comparison: exit 0, the run whole (it resumes as finished), no comparison
 * printed and no temporary folder left behind. */
START_TEST(ctrl_c_during_comparison_keeps_the_run) {
  char *dir = temp_path("ctrl-c-compare");
  char *err_path = temp_path("ctrl-c-compare.err");
  char *tmp = temp_path("ctrl-c-compare-tmp");
  ck_assert_int_eq(mkdir(tmp, 0755), 0);
  // clang-format off
  const char *argv[] = {getenv("FERCL_BIN"), "train", "--width", "0.125", "--synth-train", "140", "--synth-val", "28",
                        "--labels-per-class", "4", "--batch", "8", "--mu", "1", "--threads", "1", "--steps", "20",
                        "--log-every", "1", "--out", dir, NULL};
  // clang-format on
  pid_t pid = spawn_fercl(argv, err_path, "step-delay-ms@30", tmp);
  ck_assert_msg(wait_for_text(err_path, "supervised-only baseline:", 300000),
                "the comparison never started");
  usleep(100000);
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  char *err = read_text(err_path);
  ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d:\n%s", status, err);
  EXPECT_IN(err, "stopping the supervised-only comparison (the run is saved in");
  EXPECT_IN(err, "the supervised-only comparison was stopped by a signal");
  ck_assert_msg(!strstr(err, "supervised only (--supervised-only, just now)"),
                "compared anyway:\n%s", err);
  DIR *d = opendir(tmp);
  ck_assert_ptr_nonnull(d);
  for (struct dirent *e; (e = readdir(d));)
    ck_assert_msg(e->d_name[0] == '.', "left behind in TMPDIR: %s", e->d_name);
  closedir(d);
  EXPECT_IN(err, "done: 20 steps");
  ck_assert_int_eq(access(path_in(dir, "last.safetensors"), R_OK), 0);
  free(err);
  free(tmp);
  free(err_path);
  free(dir);
}
END_TEST

FC_DEVICE_TEST_MAIN("cli-guard", 1, "guard", 600, users_files_in_out_folder_survive,
                    failed_overwrite_keeps_old_run, overwrite_removes_stale_outputs,
                    synth_refuses_non_empty_folder, unlabeled_overlapping_dataset_refused,
                    second_run_of_a_folder_refused, non_finite_checkpoint_refused,
                    config_with_byte_order_mark, options_mean_what_they_say,
                    global_options_after_the_command, run_without_checkpoint_can_be_rerun,
                    run_config_is_portable, second_ctrl_c_during_save_says_so,
                    arguments_checked_before_the_work, eval_matches_classes_by_name,
                    progress_line_fits_the_terminal, synthetic_run_ends_beside_supervised_only,
                    ctrl_c_during_comparison_keeps_the_run)
