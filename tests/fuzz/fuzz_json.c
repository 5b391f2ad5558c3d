/* Fuzz target: the strict JSON parser. A document it accepts is written back
 * (strings with fc_json_buf_string, numbers with fc_json_buf_number or _int)
 * and must parse again to the same tree: same types, strings byte for byte,
 * numbers bit for bit, keys in order. */
#include <math.h>
#include <string.h>

#include "core/json.h"
#include "fuzz_common.h"

static void write_value(fc_json_buf *b, const fc_json *v) {
  switch (v->type) {
  case FC_JSON_NULL: fc_json_buf_cstr(b, "null"); break;
  case FC_JSON_BOOL: fc_json_buf_cstr(b, v->boolean ? "true" : "false"); break;
  case FC_JSON_NUMBER:
    if (v->is_integer && !(v->integer == 0 && signbit(v->number))) /* "-0" is the integer 0 */
      fc_json_buf_int(b, v->integer);
    else
      fc_json_buf_number(b, v->number);
    break;
  case FC_JSON_STRING: fc_json_buf_string(b, v->string, v->length); break;
  case FC_JSON_ARRAY:
    fc_json_buf_cstr(b, "[");
    for (size_t i = 0; i < v->count; i++) {
      if (i) fc_json_buf_cstr(b, ",");
      write_value(b, &v->items[i]);
    }
    fc_json_buf_cstr(b, "]");
    break;
  case FC_JSON_OBJECT:
    fc_json_buf_cstr(b, "{");
    for (size_t i = 0; i < v->count; i++) {
      if (i) fc_json_buf_cstr(b, ",");
      fc_json_buf_string(b, v->members[i].key, v->members[i].key_length);
      fc_json_buf_cstr(b, ":");
      write_value(b, &v->members[i].value);
    }
    fc_json_buf_cstr(b, "}");
    break;
  }
}

static void check_same(const fc_json *a, const fc_json *b) {
  FC_FUZZ_CHECK(a->type == b->type, "type %s became %s", fc_json_type_name(a->type),
                fc_json_type_name(b->type));
  switch (a->type) {
  case FC_JSON_NULL: break;
  case FC_JSON_BOOL: FC_FUZZ_CHECK(a->boolean == b->boolean, "boolean changed"); break;
  case FC_JSON_NUMBER:
    FC_FUZZ_CHECK(!memcmp(&a->number, &b->number, sizeof a->number), "number %.17g became %.17g",
                  a->number, b->number);
    if (a->is_integer)
      FC_FUZZ_CHECK(b->is_integer && a->integer == b->integer, "integer %lld changed",
                    (long long)a->integer);
    break;
  case FC_JSON_STRING:
    FC_FUZZ_CHECK(a->length == b->length && !memcmp(a->string, b->string, a->length),
                  "string changed");
    FC_FUZZ_CHECK(a->string[a->length] == '\0', "string not NUL-terminated");
    break;
  case FC_JSON_ARRAY:
    FC_FUZZ_CHECK(a->count == b->count, "array length changed");
    for (size_t i = 0; i < a->count; i++) check_same(&a->items[i], &b->items[i]);
    break;
  case FC_JSON_OBJECT:
    FC_FUZZ_CHECK(a->count == b->count, "member count changed");
    for (size_t i = 0; i < a->count; i++) {
      const fc_json_member *x = &a->members[i], *y = &b->members[i];
      FC_FUZZ_CHECK(x->key_length == y->key_length && !memcmp(x->key, y->key, x->key_length),
                    "key changed");
      check_same(&x->value, &y->value);
    }
    break;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fc_fuzz_init();
  fc_json *doc = NULL;
  if (fc_json_parse((const char *)data, size, NULL, &doc) != FC_OK) {
    FC_FUZZ_CHECK(doc == NULL, "document left behind after a failure");
    return 0;
  }
  fc_json_buf b = {0};
  write_value(&b, doc);
  FC_FUZZ_CHECK(!b.failed, "out of memory");
  fc_json *again = NULL;
  fc_status st = fc_json_parse(b.data, b.length, NULL, &again);
  FC_FUZZ_CHECK(st == FC_OK, "the written document does not parse: %s\n%.300s", fc_last_error(),
                b.data);
  check_same(doc, again);
  fc_json_free(again);
  fc_json_buf_free(&b);
  fc_json_free(doc);
  return 0;
}
