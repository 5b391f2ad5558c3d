/* FERCL_TEST_FAULT parsing (see fault.h). */
#include "core/fault.h"

#include <stdlib.h>
#include <string.h>

volatile int fc_fault_device_lost = 0;

/* The value of the first name@N in FERCL_TEST_FAULT, or -1; at (>= 0) asks
 * whether name@at is present instead. */
static int64_t lookup(const char *name, int64_t at) {
  static int parsed = 0;
  static const char *spec = NULL;
  if (!parsed) {
    spec = getenv("FERCL_TEST_FAULT");
    parsed = 1;
  }
  if (!spec || !*spec) return -1;
  size_t len = strlen(name);
  for (const char *p = spec; *p;) {
    const char *end = strchr(p, ',');
    if (!end) end = p + strlen(p);
    if ((size_t)(end - p) > len && !strncmp(p, name, len) && p[len] == '@') {
      int64_t v = strtoll(p + len + 1, NULL, 10);
      if (at < 0 || v == at) return v;
    }
    p = *end ? end + 1 : end;
  }
  return -1;
}

int fc_fault_at(const char *name, int64_t n) { return n >= 0 && lookup(name, n) == n; }

int64_t fc_fault_value(const char *name) { return lookup(name, -1); }
