/* Whole-file reads with a size limit, and crash-safe writes.
 *
 * Everything fer-cl writes (checkpoints, logs, results, caches) goes through
 * fc_atomic_file: data lands in "<path>.tmp.<pid>" and is renamed over <path>
 * only after a successful flush + fsync, so a kill or a full disk never leaves
 * a half-written file under the real name; the previous version stays intact. */
#ifndef FERCL_FILEIO_H
#define FERCL_FILEIO_H

#include <stdio.h>
#include <stddef.h>

#include "fercl/api.h"
#include "fercl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fc_atomic_file {
  FILE *fp;        /* write here */
  char *path;      /* final name */
  char *temp_path; /* where the bytes go until commit */
  int failed;      /* set by fc_atomic_file_write on a short write */
} fc_atomic_file;

FC_API fc_status fc_atomic_file_open(fc_atomic_file *file, const char *path);
/* fwrite wrapper that remembers failure (e.g. ENOSPC) for commit to report. */
FC_API fc_status fc_atomic_file_write(fc_atomic_file *file, const void *data, size_t size);
/* Flushes, fsyncs, closes and renames onto the final path. On any failure the
 * temp file is removed, the old file at path is untouched, and an FC_ERR_IO
 * naming the path is returned. */
FC_API fc_status fc_atomic_file_commit(fc_atomic_file *file);
/* Drops the temp file; safe to call after a failed or successful commit. */
FC_API void fc_atomic_file_abort(fc_atomic_file *file);

/* Removes the "<name>.tmp.<pid>" files in dir whose writer no longer runs
 * (a kill -9 during a save leaves one; the real file is intact). Files of
 * live processes are kept. Returns how many were removed. */
FC_API int fc_atomic_file_remove_stale(const char *dir);

/* One-shot atomic write of a memory block. */
FC_API fc_status fc_file_write_atomic(const char *path, const void *data, size_t size);

/* Reads a whole file. Refuses files larger than max_size with FC_ERR_LIMIT
 * before allocating. The buffer is NUL-terminated (not counted in *size);
 * free() it. */
FC_API fc_status fc_file_read_all(const char *path, size_t max_size, char **data, size_t *size);

/* mkdir -p; FC_ERR_IO naming the component that failed. */
FC_API fc_status fc_mkdir_p(const char *path);

/* Creates a new folder $TMPDIR/<prefix>-XXXXXX (/tmp without TMPDIR) for scratch
 * files and writes its path to out; fc_remove_temp_dir removes it. */
FC_API fc_status fc_make_temp_dir(const char *prefix, char *out, size_t size);

/* Removes a temporary folder of plain files that fer-cl made (a scratch run
 * folder), then the folder; best effort, silent. */
FC_API void fc_remove_temp_dir(const char *dir);

#ifdef __cplusplus
}
#endif
#endif
