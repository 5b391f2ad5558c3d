#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"

void fc_json_write_string(FILE *out, const char *s) {
  fputc('"', out);
  for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
    switch (*p) {
    case '"': fputs("\\\"", out); break;
    case '\\': fputs("\\\\", out); break;
    case '\n': fputs("\\n", out); break;
    case '\r': fputs("\\r", out); break;
    case '\t': fputs("\\t", out); break;
    default:
      if (*p < 0x20)
        fprintf(out, "\\u%04x", *p);
      else
        fputc(*p, out);
    }
  }
  fputc('"', out);
}

void fc_json_write_number(FILE *out, double value) {
  if (isfinite(value))
    fprintf(out, "%.9g", value);
  else
    fputs("null", out);
}

/* ---- growable buffer ---------------------------------------------------- */

void fc_json_buf_raw(fc_json_buf *buf, const char *text, size_t length) {
  if (buf->failed) return;
  if (length >= buf->capacity - buf->length || !buf->data) {
    size_t cap = buf->capacity ? buf->capacity : 256;
    while (cap - buf->length <= length) {
      if (cap > SIZE_MAX / 2) {
        buf->failed = 1;
        return;
      }
      cap *= 2;
    }
    char *bigger = realloc(buf->data, cap);
    if (!bigger) {
      buf->failed = 1;
      return;
    }
    buf->data = bigger;
    buf->capacity = cap;
  }
  memcpy(buf->data + buf->length, text, length);
  buf->length += length;
  buf->data[buf->length] = '\0';
}

void fc_json_buf_cstr(fc_json_buf *buf, const char *text) {
  fc_json_buf_raw(buf, text, strlen(text));
}

void fc_json_buf_string(fc_json_buf *buf, const char *s, size_t length) {
  fc_json_buf_raw(buf, "\"", 1);
  size_t run = 0; /* bytes copied verbatim in one append */
  for (size_t i = 0; i < length; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    fc_json_buf_raw(buf, s + run, i - run);
    char esc[8];
    switch (c) {
    case '"': fc_json_buf_raw(buf, "\\\"", 2); break;
    case '\\': fc_json_buf_raw(buf, "\\\\", 2); break;
    case '\n': fc_json_buf_raw(buf, "\\n", 2); break;
    case '\r': fc_json_buf_raw(buf, "\\r", 2); break;
    case '\t': fc_json_buf_raw(buf, "\\t", 2); break;
    default: snprintf(esc, sizeof esc, "\\u%04x", c); fc_json_buf_raw(buf, esc, 6);
    }
    run = i + 1;
  }
  fc_json_buf_raw(buf, s + run, length - run);
  fc_json_buf_raw(buf, "\"", 1);
}

void fc_json_buf_int(fc_json_buf *buf, int64_t value) {
  char text[24];
  fc_json_buf_raw(buf, text, (size_t)snprintf(text, sizeof text, "%" PRId64, value));
}

void fc_json_buf_uint(fc_json_buf *buf, uint64_t value) {
  char text[24];
  fc_json_buf_raw(buf, text, (size_t)snprintf(text, sizeof text, "%" PRIu64, value));
}

void fc_json_buf_number(fc_json_buf *buf, double value) {
  if (!isfinite(value)) {
    fc_json_buf_raw(buf, "null", 4);
    return;
  }
  if (value == 0 && signbit(value)) { /* "-0" would read back as the integer 0 */
    fc_json_buf_raw(buf, "-0.0", 4);
    return;
  }
  /* Fewest digits that read back exactly; JSON wants '.' whatever the locale. */
  char text[40];
  for (int digits = 15; digits <= 17; digits++) {
    snprintf(text, sizeof text, "%.*g", digits, value);
    if (strtod(text, NULL) == value) break;
  }
  const char *point = localeconv()->decimal_point;
  char *p = point && point[0] && point[0] != '.' ? strchr(text, point[0]) : NULL;
  if (p) *p = '.';
  fc_json_buf_cstr(buf, text);
}

void fc_json_buf_free(fc_json_buf *buf) {
  free(buf->data);
  memset(buf, 0, sizeof *buf);
}
