/* fer-cl: status codes and error context.
 *
 * Every fallible call returns an fc_status. On failure it also records one
 * human-readable message for the calling thread; callers going up the stack
 * may prepend context ("loading model.safetensors: tensor fc.weight: shape
 * [7,512] expected, file has [8,512]"), and the top level prints it once. */
#ifndef FERCL_STATUS_H
#define FERCL_STATUS_H

#include <stddef.h>

#include "fercl/api.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum fc_status {
  FC_OK = 0,
  FC_ERR_INVALID_ARG,   /* a caller passed something out of range or malformed */
  FC_ERR_USAGE,         /* command line: unknown flag, missing argument (exit 2) */
  FC_ERR_IO,            /* a file could not be opened, read or written */
  FC_ERR_FORMAT,        /* a file's content is corrupt or not what it claims */
  FC_ERR_MISMATCH,      /* valid data that does not fit (shape, dtype, name, config) */
  FC_ERR_NOT_FOUND,     /* a named thing does not exist */
  FC_ERR_NOMEM,         /* host allocation failed */
  FC_ERR_LIMIT,         /* a size above what we agree to allocate */
  FC_ERR_NO_PLATFORM,   /* no OpenCL platform installed (exit 2) */
  FC_ERR_NO_DEVICE,     /* no such device / bad device selector (exit 2) */
  FC_ERR_OPENCL,        /* an OpenCL call failed */
  FC_ERR_BUILD,         /* an OpenCL program failed to compile */
  FC_ERR_DEVICE_MEMORY, /* the device cannot hold what we asked for */
  FC_ERR_UNSUPPORTED,   /* valid request we do not implement */
  FC_ERR_NUMERIC,       /* NaN or Inf where a finite number is required */
  FC_ERR_INTERRUPTED,   /* the user asked us to stop (Ctrl-C) */
  FC_ERR_INTERNAL,      /* a bug in fer-cl */
  FC_STATUS_COUNT
} fc_status;

/* Short stable name of a status, e.g. "FC_ERR_IO". */
FC_API const char *fc_status_name(fc_status status);

/* Records a message (printf-style) for this thread and returns status.
 * Typical use: return fc_errorf(FC_ERR_IO, "cannot open %s: %s", path, strerror(errno)); */
FC_API fc_status fc_errorf(fc_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Prepends context to this thread's message ("context: message") and returns
 * status unchanged; a no-op when status is FC_OK. */
FC_API fc_status fc_error_context(fc_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* This thread's last message; "" when none. Valid until the next fc_errorf. */
FC_API const char *fc_last_error(void);
FC_API void fc_error_clear(void);

/* Process exit code for a status: 0 ok, 2 for usage and device selection
 * problems, 130 for an interrupt, 1 otherwise. */
FC_API int fc_status_exit_code(fc_status status);

/* Propagates a failing status to the caller. */
#define FC_TRY(expr)                                    \
  do {                                                  \
    fc_status fc_try_status_ = (expr);                  \
    if (fc_try_status_ != FC_OK) return fc_try_status_; \
  } while (0)

#ifdef __cplusplus
}
#endif
#endif
