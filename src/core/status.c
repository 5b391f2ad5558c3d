/* Thread-local error message behind fc_status. */
#include "fercl/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define FC_ERROR_CAPACITY 4096

static _Thread_local char error_message[FC_ERROR_CAPACITY];

const char *fc_status_name(fc_status status) {
  static const char *const names[FC_STATUS_COUNT] = {
      [FC_OK] = "FC_OK",
      [FC_ERR_INVALID_ARG] = "FC_ERR_INVALID_ARG",
      [FC_ERR_USAGE] = "FC_ERR_USAGE",
      [FC_ERR_IO] = "FC_ERR_IO",
      [FC_ERR_FORMAT] = "FC_ERR_FORMAT",
      [FC_ERR_MISMATCH] = "FC_ERR_MISMATCH",
      [FC_ERR_NOT_FOUND] = "FC_ERR_NOT_FOUND",
      [FC_ERR_NOMEM] = "FC_ERR_NOMEM",
      [FC_ERR_LIMIT] = "FC_ERR_LIMIT",
      [FC_ERR_NO_PLATFORM] = "FC_ERR_NO_PLATFORM",
      [FC_ERR_NO_DEVICE] = "FC_ERR_NO_DEVICE",
      [FC_ERR_OPENCL] = "FC_ERR_OPENCL",
      [FC_ERR_BUILD] = "FC_ERR_BUILD",
      [FC_ERR_DEVICE_MEMORY] = "FC_ERR_DEVICE_MEMORY",
      [FC_ERR_UNSUPPORTED] = "FC_ERR_UNSUPPORTED",
      [FC_ERR_NUMERIC] = "FC_ERR_NUMERIC",
      [FC_ERR_INTERRUPTED] = "FC_ERR_INTERRUPTED",
      [FC_ERR_INTERNAL] = "FC_ERR_INTERNAL",
  };
  if ((int)status < 0 || status >= FC_STATUS_COUNT) return "FC_ERR_UNKNOWN";
  return names[status];
}

fc_status fc_errorf(fc_status status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(error_message, sizeof error_message, fmt, ap);
  va_end(ap);
  return status;
}

fc_status fc_error_context(fc_status status, const char *fmt, ...) {
  if (status == FC_OK) return status;
  char context[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(context, sizeof context, fmt, ap);
  va_end(ap);
  if (error_message[0] == '\0')
    snprintf(error_message, sizeof error_message, "%s", fc_status_name(status));
  /* Shift the message right and put "context: " in front, truncating the tail. */
  size_t clen = strlen(context), mlen = strlen(error_message);
  if (clen + 2 >= sizeof error_message) clen = sizeof error_message - 3;
  if (clen + 2 + mlen >= sizeof error_message) mlen = sizeof error_message - clen - 3;
  memmove(error_message + clen + 2, error_message, mlen);
  error_message[clen + 2 + mlen] = '\0';
  memcpy(error_message, context, clen);
  error_message[clen] = ':';
  error_message[clen + 1] = ' ';
  return status;
}

const char *fc_last_error(void) { return error_message; }

void fc_error_clear(void) { error_message[0] = '\0'; }

int fc_status_exit_code(fc_status status) {
  switch (status) {
  case FC_OK: return 0;
  case FC_ERR_USAGE:
  case FC_ERR_NO_PLATFORM:
  case FC_ERR_NO_DEVICE: return 2;
  case FC_ERR_INTERRUPTED: return 130;
  default: return 1;
  }
}
