/* Strict RFC 8259 JSON parser into a small DOM.
 *
 * Recursive descent with an explicit depth limit; every node is reachable
 * from the root as soon as it is allocated, so one fc_json_free cleans up
 * after an error at any point. */
#include "core/json.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { DEFAULT_MAX_DEPTH = 64 };
#define DEFAULT_MAX_SIZE ((size_t)64 << 20)
#define DEFAULT_MAX_VALUES ((size_t)4 << 20)

typedef struct parser {
  const unsigned char *text;
  size_t size, pos;
  size_t max_depth, values, max_values;
} parser;

static fc_status fail_at(size_t offset, const char *what) {
  return fc_errorf(FC_ERR_FORMAT, "JSON error at byte %zu: %s", offset, what);
}

/* Describes the byte at pos for "expected X, found Y" messages. */
static fc_status fail_expected(const parser *p, const char *expected) {
  char what[96];
  if (p->pos >= p->size) {
    snprintf(what, sizeof what, "expected %s, found the end of the text", expected);
  } else {
    unsigned char c = p->text[p->pos];
    if (c >= 0x21 && c < 0x7f)
      snprintf(what, sizeof what, "expected %s, found '%c'", expected, c);
    else
      snprintf(what, sizeof what, "expected %s, found byte 0x%02x", expected, c);
  }
  return fail_at(p->pos, what);
}

static void skip_space(parser *p) {
  while (p->pos < p->size) {
    unsigned char c = p->text[p->pos];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
    p->pos++;
  }
}

static int match_word(parser *p, const char *word) {
  size_t n = strlen(word);
  if (p->size - p->pos < n || memcmp(p->text + p->pos, word, n) != 0) return 0;
  p->pos += n;
  return 1;
}

static int hex_value(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Reads the 4 hex digits after "\u" at p->pos. */
static fc_status read_hex4(parser *p, unsigned *out) {
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    int h = p->pos + i < p->size ? hex_value(p->text[p->pos + i]) : -1;
    if (h < 0) return fail_at(p->pos + i, "\\u must be followed by 4 hex digits");
    v = v << 4 | (unsigned)h;
  }
  p->pos += 4;
  *out = v;
  return FC_OK;
}

static size_t put_utf8(unsigned char *dst, unsigned cp) {
  if (cp < 0x80) { dst[0] = (unsigned char)cp; return 1; }
  if (cp < 0x800) {
    dst[0] = (unsigned char)(0xc0 | cp >> 6);
    dst[1] = (unsigned char)(0x80 | (cp & 0x3f));
    return 2;
  }
  if (cp < 0x10000) {
    dst[0] = (unsigned char)(0xe0 | cp >> 12);
    dst[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
    dst[2] = (unsigned char)(0x80 | (cp & 0x3f));
    return 3;
  }
  dst[0] = (unsigned char)(0xf0 | cp >> 18);
  dst[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
  dst[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
  dst[3] = (unsigned char)(0x80 | (cp & 0x3f));
  return 4;
}

/* Length of the well-formed UTF-8 sequence at s (lead byte >= 0x80), or 0
 * (overlong forms, surrogates and code points above U+10FFFF are invalid). */
static size_t utf8_sequence(const unsigned char *s, size_t avail) {
  unsigned char c = s[0];
  size_t n;
  unsigned cp, min;
  if (c >= 0xc2 && c <= 0xdf) { n = 2; cp = c & 0x1f; min = 0x80; }
  else if (c >= 0xe0 && c <= 0xef) { n = 3; cp = c & 0x0f; min = 0x800; }
  else if (c >= 0xf0 && c <= 0xf4) { n = 4; cp = c & 0x07; min = 0x10000; }
  else return 0;
  if (avail < n) return 0;
  for (size_t i = 1; i < n; i++) {
    if ((s[i] & 0xc0) != 0x80) return 0;
    cp = cp << 6 | (s[i] & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

/* Parses a string literal at p->pos (the opening quote). The decoded text is
 * never longer than the literal, which bounds the allocation. */
static fc_status parse_string(parser *p, char **out, size_t *out_length) {
  size_t start = ++p->pos, end = start;
  while (end < p->size && p->text[end] != '"') end += p->text[end] == '\\' ? 2 : 1;
  if (end >= p->size) return fail_at(start - 1, "unterminated string");
  unsigned char *dst = malloc(end - start + 1);
  if (!dst) return fc_errorf(FC_ERR_NOMEM, "out of memory parsing JSON (a %zu-byte string)", end - start);
  size_t n = 0;
  fc_status st = FC_OK;
  while (st == FC_OK && p->pos < end) {
    unsigned char c = p->text[p->pos];
    if (c < 0x20) {
      st = fail_at(p->pos, "raw control character in a string (write it as \\u00XX)");
    } else if (c >= 0x80) {
      size_t len = utf8_sequence(p->text + p->pos, end - p->pos);
      if (!len) {
        st = fail_at(p->pos, "invalid UTF-8 in a string");
      } else {
        memcpy(dst + n, p->text + p->pos, len);
        n += len;
        p->pos += len;
      }
    } else if (c != '\\') {
      dst[n++] = c;
      p->pos++;
    } else {
      size_t esc = p->pos++;
      unsigned char e = p->text[p->pos++];
      const char *simple = strchr("\"\\/bfnrt", e);
      if (e && simple) {
        dst[n++] = (unsigned char)"\"\\/\b\f\n\r\t"[simple - "\"\\/bfnrt"];
      } else if (e != 'u') {
        st = fail_at(esc, "invalid escape (allowed: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)");
      } else {
        unsigned cp, low;
        st = read_hex4(p, &cp);
        if (st == FC_OK && cp >= 0xdc00 && cp <= 0xdfff) {
          st = fail_at(esc, "unpaired low surrogate");
        } else if (st == FC_OK && cp >= 0xd800 && cp <= 0xdbff) {
          if (p->pos + 2 > end || p->text[p->pos] != '\\' || p->text[p->pos + 1] != 'u') {
            st = fail_at(esc, "high surrogate not followed by a \\u low surrogate");
          } else {
            p->pos += 2;
            st = read_hex4(p, &low);
            if (st == FC_OK && (low < 0xdc00 || low > 0xdfff))
              st = fail_at(esc, "high surrogate not followed by a low surrogate");
            cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
          }
        }
        if (st == FC_OK) n += put_utf8(dst + n, cp);
      }
    }
  }
  if (st != FC_OK) {
    free(dst);
    return st;
  }
  p->pos = end + 1;
  dst[n] = '\0';
  *out = (char *)dst;
  *out_length = n;
  return FC_OK;
}

/* Exact decimal → int64, or 0 when it does not fit. */
static int parse_int64(const unsigned char *s, size_t n, int64_t *out) {
  int neg = s[0] == '-';
  uint64_t v = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
  for (size_t i = (size_t)neg; i < n; i++) {
    unsigned d = (unsigned)(s[i] - '0');
    if (v > (limit - d) / 10) return 0;
    v = v * 10 + d;
  }
  *out = neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
  return 1;
}

static size_t skip_digits(const parser *p, size_t i) {
  while (i < p->size && p->text[i] >= '0' && p->text[i] <= '9') i++;
  return i;
}

static fc_status parse_number(parser *p, fc_json *v) {
  size_t start = p->pos, i = start;
  if (i < p->size && p->text[i] == '-') i++;
  if (i >= p->size || p->text[i] < '0' || p->text[i] > '9') {
    p->pos = i;
    return fail_expected(p, "a digit");
  }
  if (p->text[i] == '0' && i + 1 < p->size && p->text[i + 1] >= '0' && p->text[i + 1] <= '9')
    return fail_at(i, "leading zeros are not allowed in numbers");
  i = skip_digits(p, i);
  int integral = 1;
  if (i < p->size && p->text[i] == '.') {
    size_t d = skip_digits(p, i + 1);
    if (d == i + 1) return fail_at(i, "a decimal point must be followed by digits");
    i = d;
    integral = 0;
  }
  if (i < p->size && (p->text[i] == 'e' || p->text[i] == 'E')) {
    size_t e = i + 1;
    if (e < p->size && (p->text[e] == '+' || p->text[e] == '-')) e++;
    size_t d = skip_digits(p, e);
    if (d == e) return fail_at(i, "an exponent must have digits");
    i = d;
    integral = 0;
  }
  size_t n = i - start;
  /* strtod needs a NUL-terminated copy, with the locale's decimal point. */
  char small[64], *buf = n < sizeof small ? small : malloc(n + 1);
  if (!buf) return fc_errorf(FC_ERR_NOMEM, "out of memory parsing JSON");
  memcpy(buf, p->text + start, n);
  buf[n] = '\0';
  char *dot = strchr(buf, '.');
  const char *point = localeconv()->decimal_point;
  if (dot && point && point[0] && point[0] != '.' && !point[1]) *dot = point[0];
  errno = 0;
  double d = strtod(buf, NULL);
  int range_error = errno == ERANGE && isinf(d);
  if (buf != small) free(buf);
  if (range_error) return fail_at(start, "number too large for a double");
  v->type = FC_JSON_NUMBER;
  v->number = d;
  v->is_integer = integral && parse_int64(p->text + start, n, &v->integer);
  p->pos = i;
  return FC_OK;
}

static int compare_members(const void *a, const void *b) {
  const fc_json_member *x = *(const fc_json_member *const *)a, *y = *(const fc_json_member *const *)b;
  size_t n = x->key_length < y->key_length ? x->key_length : y->key_length;
  int c = memcmp(x->key, y->key, n);
  if (c) return c;
  if (x->key_length != y->key_length) return x->key_length < y->key_length ? -1 : 1;
  return x->key_offset < y->key_offset ? -1 : 1;
}

/* Sorting pointers keeps this O(n log n) for headers with many tensors. */
static fc_status check_duplicate_keys(const fc_json *obj) {
  if (obj->count < 2) return FC_OK;
  const fc_json_member **sorted = malloc(obj->count * sizeof *sorted);
  if (!sorted) return fc_errorf(FC_ERR_NOMEM, "out of memory parsing JSON");
  for (size_t i = 0; i < obj->count; i++) sorted[i] = &obj->members[i];
  qsort(sorted, obj->count, sizeof *sorted, compare_members);
  fc_status st = FC_OK;
  for (size_t i = 1; i < obj->count && st == FC_OK; i++) {
    const fc_json_member *a = sorted[i - 1], *b = sorted[i];
    if (a->key_length == b->key_length && memcmp(a->key, b->key, a->key_length) == 0) {
      char key[72];
      size_t k = 0;
      for (size_t j = 0; j < b->key_length && k < 64; j++)
        key[k++] = (unsigned char)b->key[j] < 0x20 ? '?' : b->key[j];
      key[k] = '\0';
      char what[128];
      snprintf(what, sizeof what, "duplicate key \"%s%s\"", key, k < b->key_length ? "..." : "");
      st = fail_at(b->key_offset, what);
    }
  }
  free(sorted);
  return st;
}

/* Returns items grown (element size elem) so that index count fits, or NULL
 * with items untouched. */
static void *grow(void *items, size_t *capacity, size_t count, size_t elem) {
  if (count < *capacity) return items;
  size_t cap = *capacity ? *capacity * 2 : 4;
  void *bigger = realloc(items, cap * elem);
  if (bigger) *capacity = cap;
  return bigger;
}

static fc_status parse_value(parser *p, fc_json *v, size_t depth);

static fc_status parse_container(parser *p, fc_json *v, size_t depth) {
  int is_object = p->text[p->pos] == '{';
  char close = is_object ? '}' : ']';
  if (depth >= p->max_depth) {
    char what[96];
    snprintf(what, sizeof what, "nesting deeper than %zu levels", p->max_depth);
    return fc_errorf(FC_ERR_LIMIT, "JSON error at byte %zu: %s", p->pos, what);
  }
  v->type = is_object ? FC_JSON_OBJECT : FC_JSON_ARRAY;
  p->pos++;
  skip_space(p);
  if (p->pos < p->size && p->text[p->pos] == close) {
    p->pos++;
    return FC_OK;
  }
  size_t capacity = 0;
  for (;;) {
    fc_json *item;
    if (is_object) {
      fc_json_member *members = grow(v->members, &capacity, v->count, sizeof *members);
      if (!members) return fc_errorf(FC_ERR_NOMEM, "out of memory parsing JSON");
      v->members = members;
      fc_json_member *m = &v->members[v->count++];
      memset(m, 0, sizeof *m);
      m->key_offset = p->pos;
      if (p->pos >= p->size || p->text[p->pos] != '"') return fail_expected(p, "a string key");
      FC_TRY(parse_string(p, &m->key, &m->key_length));
      skip_space(p);
      if (p->pos >= p->size || p->text[p->pos] != ':') return fail_expected(p, "':'");
      p->pos++;
      item = &m->value;
    } else {
      fc_json *items = grow(v->items, &capacity, v->count, sizeof *items);
      if (!items) return fc_errorf(FC_ERR_NOMEM, "out of memory parsing JSON");
      v->items = items;
      item = &v->items[v->count++];
      memset(item, 0, sizeof *item);
    }
    FC_TRY(parse_value(p, item, depth + 1));
    skip_space(p);
    if (p->pos < p->size && p->text[p->pos] == ',') {
      p->pos++;
      skip_space(p);
      if (p->pos < p->size && p->text[p->pos] == close) return fail_at(p->pos, "trailing comma");
      continue;
    }
    if (p->pos < p->size && p->text[p->pos] == close) break;
    return fail_expected(p, is_object ? "',' or '}'" : "',' or ']'");
  }
  p->pos++;
  return is_object ? check_duplicate_keys(v) : FC_OK;
}

static fc_status parse_value(parser *p, fc_json *v, size_t depth) {
  skip_space(p);
  v->offset = p->pos;
  if (++p->values > p->max_values)
    return fc_errorf(FC_ERR_LIMIT, "JSON error at byte %zu: more than %zu values", p->pos, p->max_values);
  if (p->pos >= p->size) return fail_expected(p, "a value");
  switch (p->text[p->pos]) {
  case '{':
  case '[': return parse_container(p, v, depth);
  case '"':
    v->type = FC_JSON_STRING;
    return parse_string(p, &v->string, &v->length);
  case 't':
  case 'f':
  case 'n':
    if (match_word(p, "true") || match_word(p, "false")) {
      v->type = FC_JSON_BOOL;
      v->boolean = p->text[v->offset] == 't';
      return FC_OK;
    }
    if (match_word(p, "null")) return FC_OK;
    return fail_expected(p, "a value");
  default:
    if (p->text[p->pos] == '-' || (p->text[p->pos] >= '0' && p->text[p->pos] <= '9'))
      return parse_number(p, v);
    return fail_expected(p, "a value");
  }
}

static void free_contents(fc_json *v) {
  free(v->string);
  for (size_t i = 0; i < v->count; i++) {
    if (v->items) free_contents(&v->items[i]);
    if (v->members) {
      free(v->members[i].key);
      free_contents(&v->members[i].value);
    }
  }
  free(v->items);
  free(v->members);
}

void fc_json_free(fc_json *value) {
  if (!value) return;
  free_contents(value);
  free(value);
}

fc_status fc_json_parse(const char *text, size_t size, const fc_json_limits *limits, fc_json **out) {
  *out = NULL;
  fc_json_limits lim = limits ? *limits : (fc_json_limits){0};
  if (!lim.max_size) lim.max_size = DEFAULT_MAX_SIZE;
  if (!lim.max_depth) lim.max_depth = DEFAULT_MAX_DEPTH;
  if (!lim.max_values) lim.max_values = DEFAULT_MAX_VALUES;
  if (size > lim.max_size)
    return fc_errorf(FC_ERR_LIMIT, "JSON text of %zu bytes is over the %zu-byte limit", size, lim.max_size);
  fc_json *root = calloc(1, sizeof *root);
  if (!root) return fc_errorf(FC_ERR_NOMEM, "out of memory parsing JSON");
  parser p = {(const unsigned char *)text, size, 0, lim.max_depth, 0, lim.max_values};
  fc_status st = parse_value(&p, root, 0);
  if (st == FC_OK) {
    skip_space(&p);
    if (p.pos < p.size) st = fail_at(p.pos, "unexpected text after the JSON value");
  }
  if (st != FC_OK) {
    fc_json_free(root);
    return st;
  }
  *out = root;
  return FC_OK;
}

int fc_json_valid_utf8(const char *text, size_t length) {
  const unsigned char *s = (const unsigned char *)text;
  for (size_t i = 0, n; i < length; i += n)
    if (!(n = s[i] < 0x80 ? 1 : utf8_sequence(s + i, length - i))) return 0;
  return 1;
}

const fc_json *fc_json_get(const fc_json *object, const char *key) {
  if (!object || object->type != FC_JSON_OBJECT) return NULL;
  size_t n = strlen(key);
  for (size_t i = 0; i < object->count; i++)
    if (object->members[i].key_length == n && memcmp(object->members[i].key, key, n) == 0)
      return &object->members[i].value;
  return NULL;
}

const char *fc_json_type_name(fc_json_type type) {
  static const char *const names[] = {"null", "boolean", "number", "string", "array", "object"};
  return (unsigned)type < sizeof names / sizeof names[0] ? names[type] : "?";
}
