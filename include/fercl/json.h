/* fer-cl: writing JSON values (the reports of `fer-cl devices --json`,
 * `bench --json`, `eval --json`, `data --json` and the run logs). Parsing is
 * internal (src/core/json.h). */
#ifndef FERCL_JSON_H
#define FERCL_JSON_H

#include <stdio.h>

#include "fercl/api.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Writes s as a JSON string literal, quotes included (NULL as ""). */
FC_API void fc_json_write_string(FILE *out, const char *s);
/* Writes a finite double compactly ("%.9g"); NaN/Inf become null. */
FC_API void fc_json_write_number(FILE *out, double value);

#ifdef __cplusplus
}
#endif
#endif
