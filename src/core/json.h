/* Strict JSON (RFC 8259): a parser into a small DOM (jansson underneath,
 * src/core/json.c), and output helpers for --json reports and safetensors
 * headers (src/core/json_write.c). Internal to fer-cl. */
#ifndef FERCL_CORE_JSON_H
#define FERCL_CORE_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "fercl/json.h"
#include "fercl/status.h"

/* ---- parsing ---------------------------------------------------------- */

typedef enum fc_json_type {
  FC_JSON_NULL,
  FC_JSON_BOOL,
  FC_JSON_NUMBER,
  FC_JSON_STRING,
  FC_JSON_ARRAY,
  FC_JSON_OBJECT
} fc_json_type;

typedef struct fc_json_member fc_json_member;

typedef struct fc_json {
  fc_json_type type;
  int boolean;             /* FC_JSON_BOOL */
  double number;           /* FC_JSON_NUMBER: correctly rounded */
  int is_integer;          /* number written without fraction or exponent */
  int64_t integer;         /* exact value when is_integer */
  char *string;            /* FC_JSON_STRING: UTF-8, NUL-terminated */
  size_t length;           /* string bytes; a "\u0000" escape makes it exceed strlen() */
  size_t count;            /* array items or object members */
  struct fc_json *items;   /* FC_JSON_ARRAY */
  fc_json_member *members; /* FC_JSON_OBJECT, in text order; keys are unique */
} fc_json;

struct fc_json_member {
  char *key; /* UTF-8, NUL-terminated; never holds a NUL (refused) */
  size_t key_length;
  fc_json value;
};

typedef struct fc_json_limits {
  size_t max_size;   /* text bytes; default 64 MiB */
  size_t max_depth;  /* nested arrays/objects; default 64 */
  size_t max_values; /* values in the document; default 4M */
  size_t max_memory; /* bytes allocated while parsing; default 512 MiB */
} fc_json_limits;

/* Parses exactly one JSON value spanning text[0, size) (surrounding
 * whitespace allowed; the text need not be NUL-terminated). limits may be
 * NULL, and a 0 field means its default. Rejections are FC_ERR_FORMAT
 * ("JSON error at byte 5: ']' expected near '2'", the byte where reading
 * stopped) or FC_ERR_LIMIT. Strict: no comments, trailing commas, leading
 * zeros, NaN, raw NUL bytes, integers outside int64, numbers beyond a double,
 * lone surrogates, raw control characters or invalid UTF-8 in strings, keys
 * holding "\u0000"; duplicate keys in an object are rejected, since their
 * meaning is ambiguous. Free with fc_json_free. */
fc_status fc_json_parse(const char *text, size_t size, const fc_json_limits *limits, fc_json **out);
void fc_json_free(fc_json *value);

/* The member value named key (first NUL ends key), or NULL; NULL if value is
 * not an object. */
const fc_json *fc_json_get(const fc_json *object, const char *key);
/* 1 when text[0, length) is well-formed UTF-8 (what the parser accepts in
 * strings; writers check names with it so that their output reads back). */
int fc_json_valid_utf8(const char *text, size_t length);
/* "null", "boolean", "number", "string", "array", "object". */
const char *fc_json_type_name(fc_json_type type);

/* ---- output ----------------------------------------------------------- */

/* fc_json_write_string, fc_json_write_number: public, fercl/json.h. */

/* A growable text buffer. Appends never fail loudly: an allocation failure
 * sets `failed`, later appends do nothing, and the builder checks once. */
typedef struct fc_json_buf {
  char *data; /* NUL-terminated while !failed */
  size_t length;
  size_t capacity;
  int failed;
} fc_json_buf;

void fc_json_buf_raw(fc_json_buf *buf, const char *text, size_t length);
void fc_json_buf_cstr(fc_json_buf *buf, const char *text);
/* A JSON string literal of s[0, length), escaping quotes, backslashes and
 * control characters (including NUL). */
void fc_json_buf_string(fc_json_buf *buf, const char *s, size_t length);
void fc_json_buf_int(fc_json_buf *buf, int64_t value);
void fc_json_buf_uint(fc_json_buf *buf, uint64_t value);
/* Shortest "%.17g"-style round-trip text; NaN/Inf become null. */
void fc_json_buf_number(fc_json_buf *buf, double value);
void fc_json_buf_free(fc_json_buf *buf);

#endif
