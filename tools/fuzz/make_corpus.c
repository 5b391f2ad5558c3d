/* make_corpus OUTDIR [TARGET...]: writes the seed inputs of the fuzz targets
 * (tools/fuzz/seeds.c) as OUTDIR/<target>/<seed>, the starting corpus for
 * libFuzzer runs (tools/fuzz/run.sh). Every target when none is named. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "fercl/fileio.h"
#include "seeds.h"

typedef struct writer {
  const char *dir;
  int count, failed;
} writer;

static void write_seed(const char *name, const uint8_t *data, size_t size, void *user) {
  writer *w = user;
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", w->dir, name);
  if (fc_file_write_atomic(path, data, size) != FC_OK) {
    fprintf(stderr, "make_corpus: %s\n", fc_last_error());
    w->failed = 1;
  }
  w->count++;
}

int main(int argc, char **argv) {
  if (argc < 2 || argv[1][0] == '-') {
    fprintf(stderr, "usage: make_corpus OUTDIR [TARGET...]\ntargets:");
    for (int i = 0; fc_fuzz_targets[i]; i++) fprintf(stderr, " %s", fc_fuzz_targets[i]);
    fprintf(stderr, "\n");
    return 2;
  }
  int status = 0;
  const char *const *targets = argc > 2 ? (const char *const *)argv + 2 : fc_fuzz_targets;
  for (int i = 0; targets[i]; i++) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/%s", argv[1], targets[i]);
    if (fc_mkdir_p(dir) != FC_OK) {
      fprintf(stderr, "make_corpus: %s\n", fc_last_error());
      return 1;
    }
    writer w = {.dir = dir};
    if (fc_fuzz_seeds(targets[i], write_seed, &w) != FC_OK) {
      fprintf(stderr, "make_corpus: %s: %s\n", targets[i], fc_last_error());
      status = 1;
    }
    if (w.failed) status = 1;
    printf("%s: %d seeds in %s\n", targets[i], w.count, dir);
  }
  return status;
}
