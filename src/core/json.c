/* Strict JSON parsing with jansson, copied into the small fc_json DOM.
 *
 * jansson does the reading (RFC 8259 syntax, UTF-8 checks, duplicate-key
 * rejection, 64-bit integers); this file adds the limits fer-cl wants for
 * untrusted input (text size, nesting depth, value count, memory while
 * parsing), refuses what jansson would let through (raw NUL bytes: jansson
 * stops reading at one) and turns errors into fc_status messages. */
#include "core/json.h"

#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum { DEFAULT_MAX_DEPTH = 64 };
#define DEFAULT_MAX_SIZE ((size_t)64 << 20)
#define DEFAULT_MAX_VALUES ((size_t)4 << 20)
#define DEFAULT_MAX_MEMORY ((size_t)512 << 20)

/* ---- memory budget ------------------------------------------------------
 * jansson builds its whole tree before we see it; a hostile text made of
 * small values could make that tree many times larger than the text. While a
 * parse runs on this thread, jansson's allocations are counted and refused
 * past the budget. Outside a parse (the UTF-8 check) nothing is counted. */

typedef struct alloc_budget {
  size_t left;
  int exceeded;
} alloc_budget;

static _Thread_local alloc_budget *budget;

static void *budget_malloc(size_t size) {
  if (budget) {
    if (size > budget->left) {
      budget->exceeded = 1;
      return NULL;
    }
    budget->left -= size;
  }
  return malloc(size);
}

static void budget_free(void *p) { free(p); }

static pthread_once_t alloc_once = PTHREAD_ONCE_INIT;
static void install_allocator(void) { json_set_alloc_funcs(budget_malloc, budget_free); }

/* ---- jansson tree → fc_json ------------------------------------------- */

typedef struct converter {
  size_t max_depth, values, max_values;
} converter;

static fc_status oom(void) { return fc_errorf(FC_ERR_NOMEM, "out of memory parsing JSON"); }

static fc_status copy_text(const char *text, size_t length, char **out) {
  char *s = malloc(length + 1);
  if (!s) return oom();
  memcpy(s, text, length);
  s[length] = '\0';
  *out = s;
  return FC_OK;
}

/* Fills v (zeroed) from j; every allocation is reachable from v at once, so
 * freeing the root cleans up after a failure at any point. */
static fc_status convert(converter *c, const json_t *j, fc_json *v, size_t depth) {
  if (++c->values > c->max_values)
    return fc_errorf(FC_ERR_LIMIT, "JSON error: more than %zu values", c->max_values);
  switch (json_typeof(j)) {
  case JSON_NULL: v->type = FC_JSON_NULL; return FC_OK;
  case JSON_TRUE:
  case JSON_FALSE:
    v->type = FC_JSON_BOOL;
    v->boolean = json_is_true(j);
    return FC_OK;
  case JSON_INTEGER:
    v->type = FC_JSON_NUMBER;
    v->is_integer = 1;
    v->integer = json_integer_value(j);
    v->number = (double)v->integer;
    return FC_OK;
  case JSON_REAL:
    v->type = FC_JSON_NUMBER;
    v->number = json_real_value(j);
    return FC_OK;
  case JSON_STRING:
    v->type = FC_JSON_STRING;
    v->length = json_string_length(j);
    return copy_text(json_string_value(j), v->length, &v->string);
  case JSON_ARRAY:
  case JSON_OBJECT: break;
  }
  int is_object = json_is_object(j);
  if (depth >= c->max_depth)
    return fc_errorf(FC_ERR_LIMIT, "JSON error: nesting deeper than %zu levels", c->max_depth);
  v->type = is_object ? FC_JSON_OBJECT : FC_JSON_ARRAY;
  size_t n = is_object ? json_object_size(j) : json_array_size(j);
  if (n == 0) return FC_OK;
  if (is_object)
    v->members = calloc(n, sizeof *v->members);
  else
    v->items = calloc(n, sizeof *v->items);
  if (!v->members && !v->items) return oom();
  if (!is_object) {
    /* Counted before it is filled, so a failure inside an item frees what it built. */
    for (size_t i = 0; i < n; i++) {
      v->count = i + 1;
      FC_TRY(convert(c, json_array_get(j, i), &v->items[i], depth + 1));
    }
    return FC_OK;
  }
  /* Iteration follows the text order; jansson has refused duplicate keys and
   * keys holding NUL. */
  for (void *it = json_object_iter((json_t *)j); it; it = json_object_iter_next((json_t *)j, it)) {
    fc_json_member *m = &v->members[v->count++];
    m->key_length = json_object_iter_key_len(it);
    FC_TRY(copy_text(json_object_iter_key(it), m->key_length, &m->key));
    FC_TRY(convert(c, json_object_iter_value(it), &m->value, depth + 1));
  }
  return FC_OK;
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

/* jansson's error as one fc_status. jansson reports some allocation
 * failures without a message, hence the checks before its error code. */
static fc_status parse_error(const json_error_t *err, int over_budget, size_t max_memory) {
  if (over_budget)
    return fc_errorf(FC_ERR_LIMIT, "JSON error: parsing needs more than %zu bytes of memory",
                     max_memory);
  if (json_error_code(err) == json_error_out_of_memory || !err->text[0])
    return fc_errorf(FC_ERR_NOMEM, "out of memory parsing JSON");
  return fc_errorf(json_error_code(err) == json_error_stack_overflow ? FC_ERR_LIMIT : FC_ERR_FORMAT,
                   "JSON error at byte %d: %s", err->position, err->text);
}

fc_status fc_json_parse(const char *text, size_t size, const fc_json_limits *limits,
                        fc_json **out) {
  *out = NULL;
  fc_json_limits lim = limits ? *limits : (fc_json_limits){0};
  if (!lim.max_size) lim.max_size = DEFAULT_MAX_SIZE;
  if (!lim.max_depth) lim.max_depth = DEFAULT_MAX_DEPTH;
  if (!lim.max_values) lim.max_values = DEFAULT_MAX_VALUES;
  if (!lim.max_memory) lim.max_memory = DEFAULT_MAX_MEMORY;
  if (size > lim.max_size)
    return fc_errorf(FC_ERR_LIMIT, "JSON text of %zu bytes is over the %zu-byte limit", size,
                     lim.max_size);
  const char *nul = memchr(text, '\0', size);
  if (nul)
    return fc_errorf(FC_ERR_FORMAT, "JSON error at byte %zu: NUL byte, not allowed in JSON text",
                     (size_t)(nul - text));
  pthread_once(&alloc_once, install_allocator);
  alloc_budget b = {lim.max_memory, 0};
  budget = &b;
  json_error_t err;
  json_t *doc =
      json_loadb(text, size, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
  budget = NULL;
  if (!doc) return parse_error(&err, b.exceeded, lim.max_memory);
  fc_json *root = calloc(1, sizeof *root);
  converter c = {lim.max_depth, 0, lim.max_values};
  fc_status st = root ? convert(&c, doc, root, 0) : oom();
  json_decref(doc);
  if (st != FC_OK) {
    fc_json_free(root);
    return st;
  }
  *out = root;
  return FC_OK;
}

int fc_json_valid_utf8(const char *text, size_t length) {
  pthread_once(&alloc_once, install_allocator);
  json_t *s = json_stringn(text, length); /* NULL when not UTF-8 */
  json_decref(s);
  return s != NULL;
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
