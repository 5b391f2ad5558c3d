/* Whole-file reads and temp-then-rename writes. */
#define _POSIX_C_SOURCE 200809L
#include "fercl/fileio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/fault.h"

static char *dup_string(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

fc_status fc_atomic_file_open(fc_atomic_file *file, const char *path) {
  memset(file, 0, sizeof *file);
  file->path = dup_string(path);
  size_t n = strlen(path) + 32;
  file->temp_path = malloc(n);
  if (!file->path || !file->temp_path) {
    fc_atomic_file_abort(file);
    return fc_errorf(FC_ERR_NOMEM, "out of memory opening %s", path);
  }
  snprintf(file->temp_path, n, "%s.tmp.%ld", path, (long)getpid());
  file->fp = fopen(file->temp_path, "wb");
  if (!file->fp) {
    int err = errno;
    fc_status st =
        fc_errorf(FC_ERR_IO, "cannot write %s: %s (check that the folder exists and is writable)",
                  path, strerror(err));
    free(file->path);
    free(file->temp_path);
    memset(file, 0, sizeof *file);
    return st;
  }
  return FC_OK;
}

fc_status fc_atomic_file_write(fc_atomic_file *file, const void *data, size_t size) {
  if (!file->fp) return fc_errorf(FC_ERR_INVALID_ARG, "write to a closed file");
  if (file->failed) return FC_ERR_IO;
  if (size && fwrite(data, 1, size, file->fp) != size) {
    file->failed = errno ? errno : EIO;
    return fc_errorf(FC_ERR_IO, "cannot write %s: %s", file->path, strerror(file->failed));
  }
  return FC_OK;
}

static void fsync_parent_dir(const char *path) {
  /* The rename is only durable once the directory entry is on disk. */
  char *dir = dup_string(path);
  if (!dir) return;
  char *slash = strrchr(dir, '/');
  const char *dname = ".";
  if (slash) {
    if (slash == dir)
      slash[1] = '\0';
    else
      *slash = '\0';
    dname = dir;
  }
  int fd = open(dname, O_RDONLY);
  if (fd >= 0) {
    fsync(fd);
    close(fd);
  }
  free(dir);
}

fc_status fc_atomic_file_commit(fc_atomic_file *file) {
  if (!file->fp) return fc_errorf(FC_ERR_INVALID_ARG, "commit of a closed file");
  int err = file->failed;
  if (!err && fflush(file->fp) != 0) err = errno;
  if (!err && fsync(fileno(file->fp)) != 0) err = errno;
  if (fclose(file->fp) != 0 && !err) err = errno;
  file->fp = NULL;
  int64_t delay_ms =
      fc_fault_value("commit-delay-ms"); /* test-only: widen the window a kill can hit */
  if (delay_ms > 0)
    nanosleep(&(struct timespec){delay_ms / 1000, (long)(delay_ms % 1000) * 1000000L}, NULL);
  if (!err && rename(file->temp_path, file->path) != 0) err = errno;
  if (err) {
    fc_status st =
        fc_errorf(FC_ERR_IO, "cannot write %s: %s; the previous version, if any, is unchanged",
                  file->path, strerror(err));
    fc_atomic_file_abort(file);
    return st;
  }
  fsync_parent_dir(file->path);
  free(file->path);
  free(file->temp_path);
  memset(file, 0, sizeof *file);
  return FC_OK;
}

void fc_atomic_file_abort(fc_atomic_file *file) {
  if (file->fp) fclose(file->fp);
  if (file->temp_path) unlink(file->temp_path);
  free(file->path);
  free(file->temp_path);
  memset(file, 0, sizeof *file);
}

int fc_atomic_file_remove_stale(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return 0;
  int removed = 0;
  for (struct dirent *e; (e = readdir(d));) {
    const char *tmp = strstr(e->d_name, ".tmp.");
    if (!tmp || tmp == e->d_name) continue;
    const char *digits = tmp + 5;
    if (!*digits || digits[strspn(digits, "0123456789")] != '\0' || strlen(digits) > 9) continue;
    pid_t pid = (pid_t)atol(digits);
    if (pid <= 0 || pid == getpid() || kill(pid, 0) == 0 || errno != ESRCH) continue;
    char path[4096];
    struct stat sb;
    if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path) continue;
    if (lstat(path, &sb) == 0 && S_ISREG(sb.st_mode) && unlink(path) == 0) removed++;
  }
  closedir(d);
  return removed;
}

fc_status fc_file_write_atomic(const char *path, const void *data, size_t size) {
  fc_atomic_file file;
  FC_TRY(fc_atomic_file_open(&file, path));
  fc_status st = fc_atomic_file_write(&file, data, size);
  if (st != FC_OK) {
    fc_atomic_file_abort(&file);
    return st;
  }
  return fc_atomic_file_commit(&file);
}

fc_status fc_file_read_all(const char *path, size_t max_size, char **data, size_t *size) {
  *data = NULL;
  *size = 0;
  FILE *fp = fopen(path, "rb");
  if (!fp) return fc_errorf(FC_ERR_IO, "cannot open %s: %s", path, strerror(errno));
  struct stat sb;
  if (fstat(fileno(fp), &sb) != 0 || !S_ISREG(sb.st_mode)) {
    fclose(fp);
    return fc_errorf(FC_ERR_IO, "cannot read %s: not a regular file", path);
  }
  if ((unsigned long long)sb.st_size > (unsigned long long)max_size) {
    fclose(fp);
    return fc_errorf(FC_ERR_LIMIT, "%s is %lld bytes, more than the %zu this reader accepts", path,
                     (long long)sb.st_size, max_size);
  }
  size_t n = (size_t)sb.st_size;
  char *buf = malloc(n + 1);
  if (!buf) {
    fclose(fp);
    return fc_errorf(FC_ERR_NOMEM, "out of memory reading %s (%zu bytes)", path, n);
  }
  size_t got = fread(buf, 1, n, fp);
  int err = ferror(fp) ? errno : 0;
  fclose(fp);
  if (got != n) {
    free(buf);
    return fc_errorf(FC_ERR_IO, "cannot read %s: %s", path,
                     err ? strerror(err) : "file changed while reading");
  }
  buf[n] = '\0';
  *data = buf;
  *size = n;
  return FC_OK;
}

fc_status fc_mkdir_p(const char *path) {
  char *buf = dup_string(path);
  if (!buf) return fc_errorf(FC_ERR_NOMEM, "out of memory");
  for (char *p = buf + 1;; p++) {
    if (*p == '/' || *p == '\0') {
      char saved = *p;
      *p = '\0';
      if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
        fc_status st = fc_errorf(FC_ERR_IO, "cannot create folder %s: %s", buf, strerror(errno));
        free(buf);
        return st;
      }
      struct stat sb;
      if (stat(buf, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        fc_status st =
            fc_errorf(FC_ERR_IO, "cannot create folder %s: a file of that name exists", buf);
        free(buf);
        return st;
      }
      *p = saved;
      if (saved == '\0') break;
    }
  }
  free(buf);
  return FC_OK;
}

fc_status fc_make_temp_dir(const char *prefix, char *out, size_t size) {
  const char *tmp = getenv("TMPDIR");
  if (!tmp || !*tmp) tmp = "/tmp";
  int n = snprintf(out, size, "%s/%s-XXXXXX", tmp, prefix);
  if (n < 0 || (size_t)n >= size)
    return fc_errorf(FC_ERR_INVALID_ARG, "temporary folder path under %s is too long (set TMPDIR)",
                     tmp);
  if (!mkdtemp(out))
    return fc_errorf(FC_ERR_IO, "cannot create a temporary folder in %s: %s (set TMPDIR)", tmp,
                     strerror(errno));
  return FC_OK;
}

void fc_remove_temp_dir(const char *dir) {
  DIR *d = opendir(dir);
  if (d) {
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
      if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
      char path[1200];
      snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
      unlink(path);
    }
    closedir(d);
  }
  rmdir(dir);
}
