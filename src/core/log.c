/* Default diagnostics sink and level filter. */
#include "fercl/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

static fc_log_level current_level = FC_LOG_INFO;
static fc_log_sink current_sink = NULL;
static void *current_user = NULL;
/* Prefetch threads may warn while the main thread logs progress. */
static pthread_mutex_t log_mutex = PTHREAD_MUTEX_INITIALIZER;

void fc_log_set_level(fc_log_level level) { current_level = level; }
fc_log_level fc_log_get_level(void) { return current_level; }

void fc_log_set_sink(fc_log_sink sink, void *user) {
  pthread_mutex_lock(&log_mutex);
  current_sink = sink;
  current_user = user;
  pthread_mutex_unlock(&log_mutex);
}

static void stderr_sink(fc_log_level level, const char *message) {
  static const char *const prefix[] = {"error: ", "warning: ", "", ""};
  fprintf(stderr, "fer-cl: %s%s\n", prefix[level], message);
}

void fc_log(fc_log_level level, const char *fmt, ...) {
  if (level > current_level) return;
  char message[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(message, sizeof message, fmt, ap);
  va_end(ap);
  pthread_mutex_lock(&log_mutex);
  if (current_sink)
    current_sink(level, message, current_user);
  else
    stderr_sink(level, message);
  pthread_mutex_unlock(&log_mutex);
}
