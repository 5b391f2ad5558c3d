/* Minimal JSON output helpers (for --json reports and safetensors headers). */
#ifndef FERCL_CORE_JSON_H
#define FERCL_CORE_JSON_H

#include <stdio.h>

/* Writes s as a JSON string literal, quotes included. */
void fc_json_write_string(FILE *out, const char *s);
/* Writes a finite double compactly ("%.9g"); NaN/Inf become null. */
void fc_json_write_number(FILE *out, double value);

#endif
