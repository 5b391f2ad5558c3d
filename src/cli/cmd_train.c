/* fer-cl train: the semi-supervised trainer from the command line. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/progress_line.h"
#include "cli/train_baseline.h"
#include "fercl/device.h"
#include "fercl/dist.h"
#include "fercl/fercl.h"
#include "fercl/fileio.h"
#include "fercl/log.h"
#include "fercl/profile.h"
#include "fercl/train.h"

static fc_train_config cfg;
static int arch_choice, stem_choice, dta_choice, snl_choice, opt_choice, sched_choice;
static int no_lae, no_lae3, no_lae4, no_rfd, no_snl, no_nesterov;
static const char *config_file, *resume_dir;
static int overwrite;
static int no_baseline;
static int seed_opt;

static const char *const dta_names[] = {"freematch-fer",      "fixed", "flexmatch", "adacm",
                                        "freematch-rescaled", NULL};
static const char *const snl_names[] = {"thresh", "topk", "random", NULL};
static const char *const opt_names[] = {"sgd", "adam", "adamw", NULL};
static const char *const sched_names[] = {"cosine", "constant", NULL};

/* Option tables and command specs keep one entry a line. */
// clang-format off
static fc_option train_options[] = {
    /* data */
    FC_OPTION_STRING("data", &cfg.data, "PATH", "dataset folder or file (default: built-in synthetic faces)"),
    FC_OPTION_STRING("format", &cfg.format, "NAME", "auto, folder, fer2013-csv, rafdb, affectnet"),
    FC_OPTION_STRING("unlabeled", &cfg.unlabeled, "DIR", "extra unlabelled images (any folder, recursive)"),
    FC_OPTION_INT("labels", &cfg.labels, "N", "labelled images in all, class-balanced (0: use --labels-per-class)", 0, 1e9),
    FC_OPTION_INT("labels-per-class", &cfg.labels_per_class, "K", "labelled images per class (0 with --labels 0: all)", 0, 1e9),
    FC_OPTION_STRING("split", &cfg.split_file, "FILE", "reuse a labels.txt from an earlier run"),
    FC_OPTION_INT("synth-train", &cfg.synth_train, "N", "synthetic training images", 7, 1e7),
    FC_OPTION_INT("synth-val", &cfg.synth_val, "N", "synthetic validation images", 0, 1e7),
    FC_OPTION_FLAG("strict-data", &cfg.strict_data, "a corrupt image is an error instead of a skipped file"),
    FC_OPTION_INT("threads", &cfg.threads, "N", "data loader threads (0: 2)", 0, 256),
    /* model */
    FC_OPTION_CHOICE("arch", &arch_choice, fc_cli_arch_names, "backbone"),
    FC_OPTION_CHOICE("stem", &stem_choice, fc_cli_stem_names, "imagenet: 7x7/2 conv + max-pool; small: 3x3/1 conv"),
    FC_OPTION_DOUBLE("width", &cfg.net.width, "W", "channel multiplier (64·W, 128·W, 256·W, 512·W)", 1.0 / 64, 8),
    FC_OPTION_INT("input", &cfg.net.input_size, "S", "input side in pixels (images are resized once, at load)", 32, 1024),
    FC_OPTION_INT("channels", &cfg.net.in_channels, "C", "input channels, 1 (gray) or 3", 1, 3),
    FC_OPTION_FLAG("no-lae", &no_lae, "no local attention enhancement"),
    FC_OPTION_FLAG("no-lae3", &no_lae3, "no attention after stage 3"),
    FC_OPTION_FLAG("no-lae4", &no_lae4, "no attention after stage 4"),
    FC_OPTION_INT("lae-kernel", &cfg.net.lae_kernel, "K", "attention convolution size (3 or 7)", 3, 7),
    FC_OPTION_FLAG("no-rfd", &no_rfd, "no random feature-map dropout"),
    FC_OPTION_DOUBLE("rfd-prob", &cfg.net.rfd_prob, "P", "per-sample probability of dropping a block", 0, 1),
    FC_OPTION_INT("rfd-block", &cfg.net.rfd_block, "S", "dropped block side (0: a third of the map)", 0, 1024),
    FC_OPTION_DOUBLE("dropout", &cfg.net.dropout, "P", "dropout before the classifier", 0, 0.99),
    FC_OPTION_STRING("init", &cfg.init, "FILE", "start from torchvision-named weights (safetensors)"),
    /* optimisation */
    FC_OPTION_INT("batch", &cfg.batch, "B", "labelled batch size", 1, 4096),
    FC_OPTION_INT("mu", &cfg.mu, "M", "unlabelled batch = M x labelled batch", 1, 64),
    FC_OPTION_INT("steps", &cfg.steps, "N", "optimizer steps (0: from --epochs)", 0, 1e9),
    FC_OPTION_DOUBLE("epochs", &cfg.epochs, "E", "passes over the unlabelled pool (labelled set when supervised)", 0, 1e6),
    FC_OPTION_CHOICE("optimizer", &opt_choice, opt_names, "optimizer"),
    FC_OPTION_DOUBLE("lr", &cfg.lr, "LR", "learning rate", 1e-9, 100),
    FC_OPTION_DOUBLE("momentum", &cfg.momentum, "M", "SGD momentum", 0, 0.9999),
    FC_OPTION_FLAG("no-nesterov", &no_nesterov, "plain momentum instead of Nesterov's"),
    FC_OPTION_DOUBLE("wd", &cfg.weight_decay, "WD", "weight decay (conv and linear weights only)", 0, 1),
    FC_OPTION_CHOICE("schedule", &sched_choice, sched_names, "learning-rate schedule"),
    FC_OPTION_INT("warmup", &cfg.warmup, "N", "linear learning-rate warm-up steps", 0, 1e9),
    FC_OPTION_DOUBLE("ema", &cfg.ema, "M", "teacher EMA momentum", 0, 0.999999),
    /* method */
    FC_OPTION_FLAG("supervised-only", &cfg.supervised_only, "labelled data only (the baseline)"),
    FC_OPTION_CHOICE("dta", &dta_choice, dta_names, "pseudo-label thresholds"),
    FC_OPTION_DOUBLE("tau", &cfg.tau, "T", "fixed threshold (--dta fixed; flexmatch's base)", 0.01, 1),
    FC_OPTION_DOUBLE("tau-min", &cfg.tau_min, "T", "lowest class threshold (freematch-fer, freematch-rescaled)", 0, 1),
    FC_OPTION_DOUBLE("tau-max", &cfg.tau_max, "T", "highest class threshold (freematch-fer, freematch-rescaled)", 0, 1),
    FC_OPTION_DOUBLE("dta-momentum", &cfg.dta_momentum, "M", "momentum of the threshold statistics", 0, 0.999999),
    FC_OPTION_FLAG("dist-align", &cfg.dist_align, "align the teacher's probabilities to the labelled class prior (any --dta)"),
    FC_OPTION_DOUBLE("dist-align-momentum", &cfg.dist_align_momentum, "M", "momentum of the teacher's mean prediction (--dist-align)", 0, 0.999999),
    FC_OPTION_CHOICE("snl", &snl_choice, snl_names, "how negative classes are chosen"),
    FC_OPTION_FLAG("no-snl", &no_snl, "no selective negative learning"),
    FC_OPTION_DOUBLE("tau-n", &cfg.tau_n, "T", "a class below this teacher probability can be a negative", 0, 1),
    FC_OPTION_INT("snl-warmup", &cfg.snl_warmup, "N", "steps before negative learning starts", 0, 1e9),
    FC_OPTION_INT("teacher-batch-stats", &cfg.teacher_batch_stats, "N", "the teacher normalises with batch statistics for the first N steps", 0, 1e9),
    FC_OPTION_INT("pseudo-warmup", &cfg.pseudo_warmup, "N", "steps before pseudo-labels count (the early teacher is over-confident)", 0, 1e9),
    FC_OPTION_DOUBLE("lambda-s", &cfg.lambda_s, "W", "weight of the supervised loss", 0, 100),
    FC_OPTION_DOUBLE("lambda-u", &cfg.lambda_u, "W", "weight of the pseudo-label loss", 0, 100),
    FC_OPTION_DOUBLE("lambda-n", &cfg.lambda_n, "W", "weight of the negative-learning loss", 0, 100),
    /* run */
    {.name = "seed", .type = FC_OPT_INT, .target = &seed_opt, .arg_name = "S", .help = "seed of the split, init, batches", .min = 0, .max = 2147483647},
    FC_OPTION_STRING("out", &cfg.out, "DIR", "run folder (default runs/<date-time>)"),
    FC_OPTION_INT("eval-every", &cfg.eval_every, "N", "evaluate the teacher every N steps (0: at the end)", 0, 1e9),
    FC_OPTION_INT("save-every", &cfg.save_every, "N", "write last.safetensors every N steps (0: at the end)", 0, 1e9),
    FC_OPTION_INT("log-every", &cfg.log_every, "N", "progress line every N steps when not on a terminal", 1, 1e9),
    FC_OPTION_INT("eval-batch", &cfg.eval_batch, "B", "evaluation batch size", 1, 4096),
    FC_OPTION_FLAG("skip-nonfinite", &cfg.skip_nonfinite, "skip a step whose loss is NaN/Inf instead of stopping"),
    FC_OPTION_FLAG("profile", &cfg.profile, "per-kernel profile: profile.csv, profile.trace.json, per-layer summary"),
    FC_OPTION_FLAG("sync-bn", &cfg.sync_bn, "under mpirun: BN batch statistics of the global batch, not each rank's share"),
    {.name = "config", .type = FC_OPT_STRING, .target = &config_file, .arg_name = "FILE", .help = "read options from FILE (name = value lines)", .not_in_config = 1},
    {.name = "resume", .type = FC_OPT_STRING, .target = &resume_dir, .arg_name = "DIR", .help = "continue the run saved in DIR", .not_in_config = 1},
    {.name = "overwrite", .type = FC_OPT_FLAG, .target = &overwrite, .flag_value = 1, .help = "replace the run already saved in --out DIR", .not_in_config = 1},
    {.name = "no-baseline", .type = FC_OPT_FLAG, .target = &no_baseline, .flag_value = 1, .help = "synthetic faces: skip the supervised-only run at the end (same labels, steps, seed) that shows what the unlabelled faces add", .not_in_config = 1},
    {0}};

static const fc_args_spec train_spec = {
    .command = "train",
    .usage = "[options]",
    .summary = "Train a facial-expression classifier: student + EMA teacher, dynamic class thresholds,\n"
               "selective negative learning. With no --data it trains on built-in synthetic faces, where\n"
               "the first 100 steps are warm-ups (--pseudo-warmup 100 --teacher-batch-stats 100) and the\n"
               "run ends beside a supervised-only run.",
    .details = "The run folder gets config.txt (the effective options), labels.txt (the labelled images),\n"
               "log.csv, last.safetensors (model + resume state), best.safetensors, curves.png and\n"
               "confusion.png. Ctrl-C saves and stops; --resume DIR continues exactly.\n\n"
               "mpirun -np N fer-cl train ... trains one model on N devices, data-parallel: --batch and --mu\n"
               "stay the global batch (--batch divisible by N), rank r takes device r of its machine unless\n"
               "--device names one, rank 0 writes the run folder (README, \"Several devices\").",
    .options = train_options,
    .global_options = fc_cli_global_options};
// clang-format on

static void set_defaults(void) {
  fc_train_config_default(&cfg);
  arch_choice = 1;
  stem_choice = cfg.net.stem == FC_STEM_SMALL ? 1 : 0;
  dta_choice = (int)cfg.dta;
  snl_choice = cfg.snl_mode;
  opt_choice = (int)cfg.optimizer;
  sched_choice = (int)cfg.schedule;
  no_lae = no_lae3 = no_lae4 = no_rfd = no_snl = no_nesterov = 0;
  seed_opt = (int)cfg.seed;
}

const fc_args_spec *fc_cmd_train_args(void) {
  set_defaults();
  return &train_spec;
}

static fc_status apply_choices(void) {
  FC_TRY(fc_net_config_set_arch(&cfg.net, fc_cli_arch_names[arch_choice]));
  cfg.net.stem = stem_choice == 1 ? FC_STEM_SMALL : FC_STEM_IMAGENET;
  cfg.dta = (fc_dta_mode)dta_choice;
  cfg.snl_mode = snl_choice;
  cfg.optimizer = (fc_optimizer_kind)opt_choice;
  cfg.schedule = (fc_schedule_kind)sched_choice;
  cfg.net.lae3 = !(no_lae || no_lae3);
  cfg.net.lae4 = !(no_lae || no_lae4);
  cfg.net.rfd = !no_rfd;
  cfg.snl = !no_snl;
  cfg.nesterov = !no_nesterov;
  cfg.seed = (uint64_t)seed_opt;
  return FC_OK;
}

static int config_written_by_fercl; /* the last file parse_file read starts with "# fer-cl " */
static const char *config_out;      /* 'out' of a run's config.txt given to --config (ignored) */

/* The texts parse_file read (a --config file is read again when the
 * synthetic faces' defaults apply): string options point into them, so they
 * live until the process ends (held here, as a file may have no string option). */
static char *volatile config_texts[2]; /* volatile: a write-only static would be optimised away */

static fc_status parse_file(const char *path) {
  char *text = NULL;
  size_t size = 0;
  FC_TRY(fc_file_read_all(path, 1u << 20, &text, &size));
  for (int i = 0; i < 2; i++) /* --resume reads once; a new run at most twice */
    if (!config_texts[i]) {
      config_texts[i] = text;
      break;
    }
  config_written_by_fercl = !strncmp(text, "# fer-cl ", 9);
  /* String options point into the text: it lives until the process ends. */
  return fc_args_parse_config(&train_spec, path, text);
}

static fc_status write_effective_config(const char *dir) {
  char path[1200];
  snprintf(path, sizeof path, "%s/config.txt", dir);
  char *buf = NULL;
  size_t size = 0;
  FILE *mem = open_memstream(&buf, &size);
  if (!mem) return fc_errorf(FC_ERR_NOMEM, "out of memory");
  fprintf(mem, "# fer-cl %s train: effective options of this run (fer-cl train --config %s)\n",
          fc_version(), path);
  int world = fc_dist_size();
  fprintf(mem, "# world size: %d rank%s%s\n", world, world == 1 ? "" : "s",
          world == 1 ? " (one process)" : " (mpirun, data-parallel); --resume needs as many");
  fc_args_write_config(mem, train_options);
  fclose(mem);
  fc_status st = fc_file_write_atomic(path, buf, size);
  free(buf);
  return st;
}

static void format_duration(double s, char *out, size_t size) {
  if (!(s >= 0) || s > 1e8) {
    snprintf(out, size, "?");
    return;
  }
  long t = (long)(s + 0.5);
  if (t >= 3600)
    snprintf(out, size, "%ldh%02ldm", t / 3600, (t / 60) % 60);
  else
    snprintf(out, size, "%ldm%02lds", t / 60, t % 60);
}

typedef struct progress_state {
  int tty;
  int log_every;
  int line_open;
} progress_state;

static fc_profile *run_profile; /* --profile */

static void on_progress(const fc_train_progress *p, void *user) {
  progress_state *ps = user;
  /* Step 1 carries the plans' warm-up launches: left out. */
  if (run_profile && fc_profile_collect(run_profile, p->step > 1 ? p->step : -1) != FC_OK)
    fc_log(FC_LOG_WARN, "profile: %s", fc_last_error());
  if (fc_cli.quiet) return;
  char eta[32];
  format_duration(p->eta_seconds, eta, sizeof eta);
  char line[512];
  if (ps->tty) {
    /* One terminal row, or the redraw scrolls. */
    fc_cli_progress_line(p, eta, fc_cli_terminal_columns(2), line, sizeof line);
    fprintf(stderr, "\r\033[K%s", line);
    ps->line_open = 1;
  } else if (p->step % ps->log_every == 0 || p->step == p->total_steps || p->evaluated) {
    fc_cli_progress_line(p, eta, 0, line, sizeof line);
    fprintf(stderr, "%s\n", line);
  }
  if (p->evaluated) {
    if (ps->line_open) fprintf(stderr, "\n");
    ps->line_open = 0;
    fprintf(stderr, "eval @ step %lld: accuracy %.4f  mean class accuracy %.4f  macro-F1 %.4f%s\n",
            (long long)p->step, p->val_acc, p->val_mca, p->val_f1,
            p->is_best ? "  (best so far)" : "");
  }
  fflush(stderr);
}

/* What the signal handler writes (prepared before it is installed: only
 * write() and _exit() are safe in it). */
static char first_signal_message[256], second_signal_message[1600];
static size_t first_signal_length, second_signal_length;
static volatile sig_atomic_t signals_seen;

static void on_signal(int sig) {
  (void)sig;
  if (signals_seen++ == 0) {
    fc_train_request_stop();
    if (write(2, first_signal_message, first_signal_length) < 0) { /* nothing to do about it */
    }
    return;
  }
  if (write(2, second_signal_message, second_signal_length) < 0) { /* nothing to do about it */
  }
  _exit(130);
}

/* Ctrl-C and SIGTERM go to on_signal (on) or end the process (off). */
static void catch_signals(int on) {
  signal(SIGINT, on ? on_signal : SIG_DFL);
  signal(SIGTERM, on ? on_signal : SIG_DFL);
}

static void prepare_signal_messages(const char *dir) {
  snprintf(first_signal_message, sizeof first_signal_message,
           "\nfer-cl: stopping after this step and saving (press Ctrl-C again to stop at once, "
           "without saving)\n");
  snprintf(second_signal_message, sizeof second_signal_message,
           "\nfer-cl: stopped at once by a second Ctrl-C, without saving. %s/last.safetensors, if "
           "there is one, is "
           "the last complete save (a save cut short leaves only a temporary file, removed on "
           "resume): continue "
           "with fer-cl train --resume %s\n",
           dir, dir);
  first_signal_length = strlen(first_signal_message);
  second_signal_length = strlen(second_signal_message);
}

static int was_given(int argc, char **argv, const char *name) {
  size_t n = strlen(name);
  for (int i = 1; i < argc; i++)
    if (!strncmp(argv[i], "--", 2) && !strncmp(argv[i] + 2, name, n) &&
        (argv[i][2 + n] == '\0' || argv[i][2 + n] == '='))
      return 1;
  return 0;
}

/* Every file a run writes into its folder; the first three mark a folder as
 * holding a run (a checkpoint or a log worth keeping). */
static const char *const run_files[] = {
    "last.safetensors", "best.safetensors", "log.csv",     "config.txt",         "labels.txt",
    "curves.png",       "confusion.png",    "profile.csv", "profile.trace.json", NULL};
enum { RUN_MARKERS = 3 };

static int file_in(const char *dir, const char *name) {
  char path[1200];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return access(path, F_OK) == 0;
}

static const char *existing_run_output(const char *dir) {
  for (int i = 0; i < RUN_MARKERS; i++)
    if (file_in(dir, run_files[i])) return run_files[i];
  return NULL;
}

/* DIR/config.txt as fer-cl writes it (its first line says so): the folder's
 * files are a run's, and --overwrite may replace them. */
static int holds_fercl_config(const char *dir) {
  char path[1200], line[64] = "";
  snprintf(path, sizeof path, "%s/config.txt", dir);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  int ok = fgets(line, sizeof line, f) && !strncmp(line, "# fer-cl ", 9);
  fclose(f);
  return ok;
}

/* Where a new run may go: a folder that does not hold a run's file names
 * (other files are left alone), or with --overwrite a folder holding a
 * fer-cl run. A user's own config.txt or labels.txt is never replaced.
 * Returns -1 to go on, else the exit code (message printed). */
static int check_new_run_folder(const char *dir) {
  const char *found = existing_run_output(dir);
  if (found && !overwrite && !strcmp(found, "log.csv")) {
    fprintf(stderr,
            "fer-cl: error: %s holds a run that stopped before its first checkpoint (log.csv, no "
            "last.safetensors), "
            "which cannot be resumed; add --overwrite to replace it, or choose another --out\n",
            dir);
    return 2;
  }
  if (found && !overwrite) {
    fprintf(stderr,
            "fer-cl: error: %s already holds a run (%s/%s); continue it with 'fer-cl train "
            "--resume %s', "
            "choose another --out, or add --overwrite to replace it\n",
            dir, dir, found, dir);
    return 2;
  }
  int ours = holds_fercl_config(dir);
  if (found && !ours) {
    fprintf(stderr,
            "fer-cl: error: %s holds %s but no config.txt written by fer-cl, so it is not a run "
            "that --overwrite "
            "may replace (fer-cl replaces only files a run wrote): choose another --out\n",
            dir, found);
    return 2;
  }
  for (int i = RUN_MARKERS; run_files[i]; i++) {
    if (!file_in(dir, run_files[i]) || (overwrite && ours)) continue;
    if (ours)
      fprintf(stderr,
              "fer-cl: error: %s/%s is left from an earlier fer-cl run; add --overwrite to replace "
              "that run's files, "
              "or choose another --out\n",
              dir, run_files[i]);
    else
      fprintf(stderr,
              "fer-cl: error: %s/%s was not written by fer-cl (a run's config.txt starts with '# "
              "fer-cl'), and a run "
              "writes a file of that name; fer-cl does not replace files it did not write%s: "
              "choose another --out\n",
              dir, run_files[i], overwrite ? ", not even with --overwrite" : "");
    return 2;
  }
  return -1;
}

/* What the run in progress wrote: a failure removes exactly these. */
static const char *run_dir;
static int made_run_dir, wrote_run_files;

/* Called by the trainer once the run is set up, before it writes: the old
 * run (--overwrite) goes only now, so a run that cannot start keeps it. */
static fc_status start_writing(void *user) {
  (void)user;
  if (overwrite) {
    int removed = 0;
    for (int i = 0; run_files[i]; i++) {
      char path[1200];
      snprintf(path, sizeof path, "%s/%s", run_dir, run_files[i]);
      if (remove(path) == 0) removed++;
    }
    fc_atomic_file_remove_stale(run_dir);
    if (removed)
      fc_log(FC_LOG_INFO, "--overwrite: removed the %d files of the previous run in %s", removed,
             run_dir);
  }
  /* Paths as absolute ones, so --resume and --config work from any folder. */
  const char **paths[] = {&cfg.data, &cfg.unlabeled, &cfg.split_file, &cfg.init};
  for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
    char *absolute = *paths[i] ? realpath(*paths[i], NULL) : NULL;
    if (absolute) *paths[i] = absolute; /* lives until the process ends */
  }
  wrote_run_files = 1;
  return write_effective_config(run_dir);
}

/* One process per run folder: DIR/.fer-cl.lock, held with flock() for the
 * life of the run and holding its pid for the message. The kernel drops the
 * lock when the holder dies, so a file left by a killed run is simply taken
 * over (no stale lock). Removed when the run ends. */
static int lock_fd = -1;
static char lock_path[1200];

static void unlock_run_folder(void) {
  if (lock_fd < 0) return;
  unlink(lock_path); /* while still holding it: a waiting opener then sees a new file */
  close(lock_fd);
  lock_fd = -1;
}

/* Returns -1 when locked, else the exit code (message printed). */
static int lock_run_folder(const char *dir) {
  snprintf(lock_path, sizeof lock_path, "%s/.fer-cl.lock", dir);
  for (int attempt = 0; attempt < 10; attempt++) {
    int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      fprintf(stderr, "fer-cl: error: cannot create %s: %s\n", lock_path, strerror(errno));
      return 1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
      int err = errno;
      char pid[32] = "";
      ssize_t n = read(fd, pid, sizeof pid - 1);
      pid[n > 0 ? n : 0] = '\0';
      pid[strcspn(pid, "\n")] = '\0';
      close(fd);
      if (err != EWOULDBLOCK) {
        fprintf(stderr, "fer-cl: error: cannot lock %s: %s\n", lock_path, strerror(err));
        return 1;
      }
      fprintf(stderr,
              "fer-cl: error: %s is in use by another fer-cl train (process %s); two runs in one "
              "folder would "
              "overwrite each other's files: wait for it to end, or stop it (Ctrl-C saves it)\n",
              dir, pid[0] ? pid : "?");
      return 2;
    }
    /* The holder may have removed the file between our open and flock: then
     * the lock is on a dead name; try again. */
    struct stat held, now;
    if (fstat(fd, &held) != 0 || stat(lock_path, &now) != 0 || held.st_ino != now.st_ino ||
        held.st_dev != now.st_dev) {
      close(fd);
      continue;
    }
    char pid[32];
    int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)len, 0) != len)
      fc_log(FC_LOG_WARN, "cannot write the pid into %s",
             lock_path); /* the lock holds all the same */
    lock_fd = fd;
    atexit(unlock_run_folder);
    return -1;
  }
  fprintf(stderr, "fer-cl: error: cannot lock %s: it keeps being replaced\n", lock_path);
  return 1;
}

/* A new run that failed before its first checkpoint cannot be resumed: it
 * leaves nothing behind (so a rerun with the same --out just works). Only
 * files it wrote go, and the folder too when it made it. */
static void discard_unstarted_run(void) {
  unlock_run_folder();
  if (wrote_run_files && !file_in(run_dir, "last.safetensors")) {
    for (int i = 0; run_files[i]; i++) {
      char path[1200];
      snprintf(path, sizeof path, "%s/%s", run_dir, run_files[i]);
      remove(path);
    }
  }
  if (made_run_dir) rmdir(run_dir); /* fails, harmlessly, if anything else is in it */
}

/* An error every rank reached together: each distinct message is printed once
 * (rank 0's, and another rank's only when it differs), then the exit code. */
static int fail_together(fc_status st) {
  if (fc_dist_size() <= 1) return fc_cli_fail(st);
  const char *msg = fc_last_error();
  int differs = fc_dist_differs_from_lead(msg);
  if (fc_dist_rank() == 0) return fc_cli_fail(st);
  if (differs && !fc_dist_failed_elsewhere())
    fprintf(stderr, "fer-cl (rank %d of %d): error: %s\n", fc_dist_rank(), fc_dist_size(), msg);
  return fc_status_exit_code(st);
}

/* The device of this rank: --device or $FERCL_DEVICE for every rank, else the
 * rank's index on its machine, modulo the devices there. */
static const char *rank_device(char *buf, size_t size) {
  if (fc_dist_size() <= 1 || fc_cli.device || (getenv("FERCL_DEVICE") && *getenv("FERCL_DEVICE")))
    return fc_cli.device;
  fc_device_registry *r = NULL;
  if (fc_device_registry_create(&r) != FC_OK) {
    fc_error_clear();
    return NULL; /* fc_device_open_selected reports it */
  }
  int n = fc_device_registry_count(r);
  fc_device_registry_free(r);
  snprintf(buf, size, "%d", n > 0 ? fc_dist_local_rank() % n : 0);
  return buf;
}

static int train_main(int argc, char **argv);

int fc_cmd_train(int argc, char **argv) {
  fc_status st = fc_dist_init();
  if (st != FC_OK) return fc_cli_fail(st);
  int rc = train_main(argc, argv);
  fc_dist_finalize();
  return rc;
}

/* A run's options: --config FILE (a new run), then the command line, on
 * top of the defaults. Returns -1 to go on, else the exit code. */
static int parse_options(int argc, char **argv) {
  if (!resume_dir && config_file) {
    fc_status st = parse_file(config_file);
    if (st != FC_OK) return fc_cli_fail(st);
    /* A run's config.txt names the folder of that run: this run goes to its
     * own --out (or runs/<time>), not into the old one. A hand-written
     * config's 'out' is honoured. */
    if (cfg.out && config_written_by_fercl) {
      config_out = cfg.out;
      cfg.out = NULL;
    }
  }
  return fc_cli_parse_no_args(&train_spec, argc, argv, NULL);
}

/* The built-in synthetic faces' own defaults (README "The default run"): a
 * run of a few hundred steps must not pseudo-label with its untrained
 * teacher's first guesses (warm-ups). The options still override them. */
static void synthetic_defaults(void) {
  cfg.pseudo_warmup = 100;
  cfg.teacher_batch_stats = 100;
}

static int train_main(int argc, char **argv) {
  const int lead = fc_dist_rank() == 0, world = fc_dist_size();
  set_defaults();
  /* --config and --resume decide what the other options apply on top of. */
  for (int i = 1; i + 1 < argc; i++) {
    if (!strcmp(argv[i], "--config")) config_file = argv[i + 1];
    if (!strcmp(argv[i], "--resume")) resume_dir = argv[i + 1];
  }
  for (int i = 1; i < argc; i++) {
    if (!strncmp(argv[i], "--config=", 9)) config_file = argv[i] + 9;
    if (!strncmp(argv[i], "--resume=", 9)) resume_dir = argv[i] + 9;
  }
  fc_status st = FC_OK;
  char saved_config[1200];
  if (resume_dir) {
    snprintf(saved_config, sizeof saved_config, "%s/config.txt", resume_dir);
    st = parse_file(saved_config);
    if (st != FC_OK) return fc_cli_fail(fc_error_context(st, "--resume %s", resume_dir));
    static const char *const allowed[] = {
        "steps",  "epochs",     "device",     "verbose",   "quiet",   "help",       "version",
        "resume", "eval-every", "save-every", "log-every", "threads", "eval-batch", NULL};
    for (int i = 1; i < argc; i++) {
      if (strncmp(argv[i], "--", 2) != 0) continue;
      int ok = 0;
      for (int k = 0; allowed[k] && !ok; k++)
        ok = was_given(2, (char *[]){argv[0], argv[i], NULL}, allowed[k]);
      if (!ok) {
        fprintf(stderr,
                "fer-cl: error: %s cannot change when resuming: the run's options are in %s (only "
                "--steps, "
                "--epochs and the logging/evaluation intervals may change)\n",
                argv[i], saved_config);
        return 2;
      }
    }
  }
  int rc = parse_options(argc, argv);
  if (rc >= 0) return rc;
  if (!cfg.data && !resume_dir) {
    /* The built-in synthetic faces: their own defaults under the same options. */
    set_defaults();
    synthetic_defaults();
    rc = parse_options(argc, argv);
    if (rc >= 0) return rc;
  }
  if (!lead && !fc_cli.verbose) fc_log_set_level(FC_LOG_ERROR); /* rank 0 reports for all */
  st = apply_choices();
  if (st == FC_OK) st = fc_train_config_check(&cfg);
  if (st == FC_OK && cfg.batch % world != 0 &&
      !resume_dir) /* a resume checks the rank count first */
    st = fc_errorf(FC_ERR_INVALID_ARG,
                   "--batch %d does not split over %d ranks: --batch and --mu are the global "
                   "batch, of which each "
                   "rank takes an equal share; use a --batch divisible by %d",
                   cfg.batch, world, world);
  if (st != FC_OK) return lead ? fc_cli_fail(st) : fc_status_exit_code(st);

  char default_out[80];
  if (!resume_dir && !cfg.out) {
    /* runs/<time>, or runs/<time>-2, ...: two runs started in one second get
     * folders of their own. */
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    snprintf(default_out, sizeof default_out, "runs/%s", stamp);
    for (int k = 2; access(default_out, F_OK) == 0 && k < 1000; k++)
      snprintf(default_out, sizeof default_out, "runs/%s-%d", stamp, k);
    /* Rank 0's clock names the folder. */
    st = fc_dist_broadcast(default_out, sizeof default_out);
    if (st != FC_OK) return fc_cli_fail(st);
    cfg.out = default_out;
  }
  const char *dir = resume_dir ? resume_dir : cfg.out;
  if (config_out && strcmp(config_out, dir) != 0)
    fc_log(FC_LOG_INFO,
           "%s is the config of the run in %s; this run goes to %s (--out DIR chooses)",
           config_file, config_out, dir);
  run_dir = dir;
  if (!resume_dir) {
    /* Rank 0 alone prepares the run folder; the others learn how it went. */
    rc = -1;
    if (lead) {
      rc = check_new_run_folder(dir); /* before making the folder: a refused run leaves none */
      if (rc < 0) {
        made_run_dir = access(dir, F_OK) != 0;
        st = fc_mkdir_p(dir);
        if (st != FC_OK) rc = fc_cli_fail(st);
      }
      if (rc < 0) {
        rc = lock_run_folder(dir);
        if (rc < 0)
          rc = check_new_run_folder(dir); /* again, now that no other run can write there */
        if (rc >= 0) discard_unstarted_run();
      }
    }
    if (fc_dist_broadcast(&rc, sizeof rc) != FC_OK) return fc_cli_fail(FC_ERR_IO);
    if (rc >= 0) return rc;
    if (lead) cfg.before_writing = start_writing;
  } else {
    if (!file_in(dir, "last.safetensors")) {
      if (lead)
        fprintf(stderr,
                "fer-cl: error: %s has no last.safetensors: the run stopped before its first "
                "checkpoint and cannot "
                "be resumed; start it again with 'fer-cl train --config %s --out %s --overwrite'\n",
                dir, saved_config, dir);
      return 2;
    }
    rc = lead ? lock_run_folder(dir) : -1;
    if (fc_dist_broadcast(&rc, sizeof rc) != FC_OK) return fc_cli_fail(FC_ERR_IO);
    if (rc >= 0) return rc;
  }

  fc_device *dev = NULL;
  char device_buf[16];
  st = fc_device_open_selected(rank_device(device_buf, sizeof device_buf),
                               cfg.profile ? FC_DEVICE_OPEN_PROFILING : 0, &dev);
  if (st == FC_OK && cfg.profile) st = fc_profile_create(dev, &run_profile);
  st = fc_dist_agree(st);
  if (st != FC_OK) {
    fc_device_close(dev);
    if (!resume_dir && lead) discard_unstarted_run();
    return fail_together(st);
  }
  progress_state ps = {.tty = isatty(2), .log_every = cfg.log_every > 0 ? cfg.log_every : 10};
  cfg.progress = on_progress;
  cfg.progress_user = &ps;
  fc_log(FC_LOG_INFO, "device: %s (%s); run folder: %s%s", fc_device_get_info(dev)->name,
         fc_device_get_info(dev)->platform_name, dir,
         world > 1 ? " (rank 0; every rank drives a device of its own)" : "");
  prepare_signal_messages(dir);
  catch_signals(1);
  fc_train_result res;
  st = fc_train_run(dev, &cfg, resume_dir, &res);
  catch_signals(0);
  if (ps.line_open) fprintf(stderr, "\n");
  if (st != FC_OK && res.must_abort) {
    /* The other ranks wait for this one in a collective: end them all. */
    fprintf(stderr, "fer-cl (rank %d of %d): error: %s\n", fc_dist_rank(), world, fc_last_error());
    fc_dist_abort(fc_status_exit_code(st));
  }
  if (run_profile && lead && fc_profile_save_run(run_profile, dir, stderr) != FC_OK)
    fc_log(FC_LOG_WARN, "profile: %s", fc_last_error());
  fc_profile_free(run_profile);
  run_profile = NULL;
  if (st != FC_OK) {
    fc_device_close(dev);
    if (!resume_dir && lead) discard_unstarted_run();
    return fail_together(st);
  }
  /* The synthetic faces' comparison: a new, whole, single-device SSL run. */
  fc_train_result baseline;
  int compared = 0;
  if (!cfg.data && res.semi_supervised && !no_baseline && !resume_dir && world == 1 &&
      !res.interrupted && res.best_accuracy >= 0) {
    /* Ctrl-C here stops the comparison only: the run is saved already, and the
     * comparison's temporary folder is removed on the way out. */
    snprintf(first_signal_message, sizeof first_signal_message,
             "\nfer-cl: stopping the supervised-only comparison (the run is saved in %s)\n", dir);
    first_signal_length = strlen(first_signal_message);
    signals_seen = 0;
    catch_signals(1);
    st = fc_cli_train_baseline(dev, &cfg, dir, &res, &baseline);
    catch_signals(0);
    if (st != FC_OK) {
      fc_device_close(dev);
      return fc_cli_fail(st); /* the run itself is saved and whole */
    }
    compared = !baseline.interrupted;
    if (baseline.interrupted)
      fc_log(FC_LOG_WARN,
             "the supervised-only comparison was stopped by a signal; the run in %s is whole", dir);
  }
  fc_device_close(dev);
  if (!lead) return 0;
  char took[32];
  format_duration(res.seconds, took, sizeof took);
  if (res.first_step > 0) /* the time is this process's: say which steps it covers */
    printf("done: steps %lld-%lld (resumed after step %lld) in %s (%.1f img/s)\n",
           (long long)res.first_step + 1, (long long)res.steps_done, (long long)res.first_step,
           took, res.images_per_second);
  else
    printf("done: %lld steps in %s (%.1f img/s)\n", (long long)res.steps_done, took,
           res.images_per_second);
  if (res.best_accuracy >= 0)
    printf(
        "teacher on the validation split: accuracy %.4f, mean class accuracy %.4f, macro-F1 %.4f "
        "(best accuracy %.4f at step %lld)\n",
        res.final_accuracy, res.final_mean_class_accuracy, res.final_macro_f1, res.best_accuracy,
        (long long)res.best_step);
  if (res.world_size > 1)
    printf(
        "data-parallel: %d ranks; %.1f MB of gradients averaged per step in %.1f ms (device copies "
        "and "
        "MPI_Allreduce, of which the all-reduce, waits for the slower rank included, %.1f ms)\n",
        res.world_size, (double)res.gradient_bytes / 1e6, 1e3 * res.sync_seconds_per_step,
        1e3 * res.allreduce_seconds_per_step);
  printf(
      "run folder: %s (last.safetensors, best.safetensors, log.csv, curves.png, confusion.png, "
      "labels.txt, "
      "config.txt)\n",
      dir);
  if (compared) fc_cli_print_baseline(stdout, &res, &baseline);
  return 0;
}
