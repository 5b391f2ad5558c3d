/* Scratch files and log silencing for the fuzz targets. */
#define _XOPEN_SOURCE 700
#include "fuzz_common.h"

#include <ftw.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fercl/fileio.h"
#include "fercl/log.h"

static void quiet_sink(fc_log_level level, const char *message, void *user) {
  (void)level;
  (void)message;
  (void)user;
}

void fc_fuzz_init(void) {
  static int done = 0;
  if (done) return;
  done = 1;
  if (!getenv("FERCL_FUZZ_VERBOSE")) fc_log_set_sink(quiet_sink, NULL);
}

static char scratch[512];

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(path);
}

static void remove_scratch(void) {
  if (scratch[0]) nftw(scratch, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *fc_fuzz_dir(void) {
  if (!scratch[0]) {
    struct stat sb;
    const char *base =
        stat("/dev/shm", &sb) == 0 && S_ISDIR(sb.st_mode) && access("/dev/shm", W_OK) == 0
            ? "/dev/shm"
            : (getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    snprintf(scratch, sizeof scratch, "%s/fercl-fuzz-%ld-XXXXXX", base, (long)getpid());
    if (!mkdtemp(scratch)) {
      perror("fc_fuzz_dir: mkdtemp");
      abort();
    }
    atexit(remove_scratch);
  }
  return scratch;
}

const char *fc_fuzz_write(const char *name, const void *data, size_t size, char *buf,
                          size_t buf_size) {
  snprintf(buf, buf_size, "%s/%s", fc_fuzz_dir(), name);
  char *slash = strrchr(buf, '/');
  *slash = '\0';
  if (fc_mkdir_p(buf) != FC_OK) {
    fprintf(stderr, "fc_fuzz_write: %s\n", fc_last_error());
    abort();
  }
  *slash = '/';
  FILE *fp = fopen(buf, "wb");
  if (!fp || (size && fwrite(data, 1, size, fp) != size) || fclose(fp) != 0) {
    perror(buf);
    abort();
  }
  return buf;
}
