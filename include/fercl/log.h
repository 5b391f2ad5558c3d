/* fer-cl: diagnostics. The library never writes to stderr directly: it calls
 * the sink set here (default: stderr, prefixed "fer-cl: warning: " etc.). */
#ifndef FERCL_LOG_H
#define FERCL_LOG_H

#include "fercl/api.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum fc_log_level {
  FC_LOG_ERROR = 0,
  FC_LOG_WARN = 1,
  FC_LOG_INFO = 2,
  FC_LOG_DEBUG = 3
} fc_log_level;

typedef void (*fc_log_sink)(fc_log_level level, const char *message, void *user);

/* Messages above this level are dropped. Default FC_LOG_INFO. */
FC_API void fc_log_set_level(fc_log_level level);
FC_API fc_log_level fc_log_get_level(void);
/* NULL restores the default stderr sink. */
FC_API void fc_log_set_sink(fc_log_sink sink, void *user);

FC_API void fc_log(fc_log_level level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#ifdef __cplusplus
}
#endif
#endif
