/* Strict JSON parser and writer helpers (src/core/json.h). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "../testutil.h"

static fc_json *parse_ok(const char *text, size_t size) {
  fc_json *v = NULL;
  fc_status st = fc_json_parse(text, size, NULL, &v);
  ck_assert_msg(st == FC_OK, "'%s' rejected: %s", text, fc_last_error());
  ck_assert_ptr_nonnull(v);
  return v;
}

/* Valid documents, each checked by a probe of its content. */
static const char *const accepted[] = {
    "{}",
    "[]",
    " \t\r\n0 \n",
    "-0",
    "1.5e-3",
    "1E+2",
    "\"\"",
    "true",
    "false",
    "null",
    "{\"a\":[1,2,{\"b\":null}],\"c\":true,\"d\":false}",
    "[[[[[]]]]]",
    "\"caf\xc3\xa9\"",
    "\"\\ud83d\\ude00\"",
    "123456789012345678901234567890.0",
    "{\"a\":1,\"A\":2,\"a \":3}",
};

START_TEST(accepts_valid_documents) {
  const char *text = accepted[_i];
  fc_json *v = parse_ok(text, strlen(text));
  fc_json_free(v);
}
END_TEST

typedef struct rejection {
  const char *text;
  fc_status status;
  const char *message; /* the whole message, including the byte offset */
} rejection;

/* Messages are jansson's (2.14, Debian 12): where it stopped reading, and why. */
static const rejection rejected[] = {
    {"", FC_ERR_FORMAT, "JSON error at byte 0: unexpected token near end of file"},
    {"   ", FC_ERR_FORMAT, "JSON error at byte 3: unexpected token near end of file"},
    {"{\"a\":1,}", FC_ERR_FORMAT, "JSON error at byte 8: string or '}' expected near '}'"},
    {"[1,2,]", FC_ERR_FORMAT, "JSON error at byte 6: unexpected token near ']'"},
    {"[1 2]", FC_ERR_FORMAT, "JSON error at byte 4: ']' expected near '2'"},
    {"{\"a\" 1}", FC_ERR_FORMAT, "JSON error at byte 6: ':' expected near '1'"},
    {"{a:1}", FC_ERR_FORMAT, "JSON error at byte 2: string or '}' expected near 'a'"},
    {"{\"a\":1 \"b\":2}", FC_ERR_FORMAT, "JSON error at byte 10: '}' expected near '\"b\"'"},
    {"[1,2,x]", FC_ERR_FORMAT, "JSON error at byte 6: invalid token near 'x'"},
    {"[", FC_ERR_FORMAT, "JSON error at byte 1: ']' expected near end of file"},
    {"[1", FC_ERR_FORMAT, "JSON error at byte 2: ']' expected near end of file"},
    {"01", FC_ERR_FORMAT, "JSON error at byte 1: invalid token near '0'"},
    {"-012", FC_ERR_FORMAT, "JSON error at byte 2: invalid token near '-0'"},
    {"1.", FC_ERR_FORMAT, "JSON error at byte 2: invalid token near '1.'"},
    {"1.e5", FC_ERR_FORMAT, "JSON error at byte 2: invalid token near '1.'"},
    {"1e", FC_ERR_FORMAT, "JSON error at byte 2: invalid token near '1e'"},
    {"1e+", FC_ERR_FORMAT, "JSON error at byte 3: invalid token near '1e+'"},
    {"-", FC_ERR_FORMAT, "JSON error at byte 1: invalid token near '-'"},
    {"-a", FC_ERR_FORMAT, "JSON error at byte 1: invalid token near '-'"},
    {".5", FC_ERR_FORMAT, "JSON error at byte 1: invalid token near '.'"},
    {"+1", FC_ERR_FORMAT, "JSON error at byte 1: invalid token near '+'"},
    {"NaN", FC_ERR_FORMAT, "JSON error at byte 3: invalid token near 'NaN'"},
    {"-Infinity", FC_ERR_FORMAT, "JSON error at byte 1: invalid token near '-'"},
    {"1e400", FC_ERR_FORMAT, "JSON error at byte 5: real number overflow near '1e400'"},
    {"9223372036854775808", FC_ERR_FORMAT,
     "JSON error at byte 19: too big integer near '9223372036854775808'"},
    {"-9223372036854775809", FC_ERR_FORMAT,
     "JSON error at byte 20: too big negative integer near '-9223372036854775809'"},
    {"123456789012345678901234567890", FC_ERR_FORMAT, "JSON error at byte 30: too big integer"},
    {"tru", FC_ERR_FORMAT, "JSON error at byte 3: invalid token near 'tru'"},
    {"True", FC_ERR_FORMAT, "JSON error at byte 4: invalid token near 'True'"},
    {"nulls", FC_ERR_FORMAT, "JSON error at byte 5: invalid token near 'nulls'"},
    {"{} x", FC_ERR_FORMAT, "JSON error at byte 4: end of file expected near 'x'"},
    {"[1] // comment", FC_ERR_FORMAT, "JSON error at byte 5: end of file expected near '/'"},
    {"1 2", FC_ERR_FORMAT, "JSON error at byte 3: end of file expected near '2'"},
    {"\"abc", FC_ERR_FORMAT, "JSON error at byte 4: premature end of input near '\"abc'"},
    {"\"abc\\\"", FC_ERR_FORMAT, "JSON error at byte 6: premature end of input near '\"abc\\\"'"},
    {"'a'", FC_ERR_FORMAT, "JSON error at byte 1: invalid token near '''"},
    {"\"a\\xb\"", FC_ERR_FORMAT, "JSON error at byte 4: invalid escape near '\"a\\x'"},
    {"\"\\u12\"", FC_ERR_FORMAT, "JSON error at byte 6: invalid escape near '\"\\u12\"'"},
    {"\"\\u12g4\"", FC_ERR_FORMAT, "JSON error at byte 6: invalid escape near '\"\\u12g'"},
    {"\"\\ud800\"", FC_ERR_FORMAT,
     "JSON error at byte 8: invalid Unicode '\\uD800' near '\"\\ud800\"'"},
    {"\"\\ud800x\"", FC_ERR_FORMAT,
     "JSON error at byte 9: invalid Unicode '\\uD800' near '\"\\ud800x\"'"},
    {"\"\\ud800\\u0041\"", FC_ERR_FORMAT,
     "JSON error at byte 14: invalid Unicode '\\uD800\\u0041' near '\"\\ud800\\u0041\"'"},
    {"\"\\udc00\"", FC_ERR_FORMAT,
     "JSON error at byte 8: invalid Unicode '\\uDC00' near '\"\\udc00\"'"},
    {"\"a\tb\"", FC_ERR_FORMAT, "JSON error at byte 2: control character 0x9 near '\"a'"},
    {"\"a\nb\"", FC_ERR_FORMAT, "JSON error at byte 2: unexpected newline near '\"a'"},
    {"\"\xff\"", FC_ERR_FORMAT, "JSON error at byte 1: unable to decode byte 0xff near '\"'"},
    {"\"\xc0\xaf\"", FC_ERR_FORMAT,
     "JSON error at byte 1: unable to decode byte 0xc0 near '\"'"}, /* overlong '/' */
    {"\"\xed\xa0\x80\"", FC_ERR_FORMAT,
     "JSON error at byte 1: unable to decode byte 0xed near '\"'"}, /* surrogate */
    {"\"\xf4\x90\x80\x80\"", FC_ERR_FORMAT,
     "JSON error at byte 1: unable to decode byte 0xf4 near '\"'"}, /* > U+10FFFF */
    {"\"\xc3\"", FC_ERR_FORMAT,
     "JSON error at byte 1: unable to decode byte 0xc3 near '\"'"}, /* cut short */
    {"\xef\xbb\xbf{}", FC_ERR_FORMAT,
     "JSON error at byte 3: invalid token near '\xef\xbb\xbf'"}, /* BOM */
    {"{\"a\":1,\"a\":2}", FC_ERR_FORMAT,
     "JSON error at byte 10: duplicate object key near '\"a\"'"},
    {"{\"k\":{\"x\":1,\"y\":2,\"x\":3}}", FC_ERR_FORMAT,
     "JSON error at byte 21: duplicate object key near '\"x\"'"},
    {"{\"\\u0061\":1,\"a\":2}", FC_ERR_FORMAT,
     "JSON error at byte 15: duplicate object key near '\"a\"'"},
    {"{\"a\\u0000\":1}", FC_ERR_FORMAT,
     "JSON error at byte 10: NUL byte in object key not supported near '\"a\\u0000\"'"},
};

START_TEST(rejects_invalid_documents) {
  const rejection *r = &rejected[_i];
  fc_json *v = (fc_json *)1;
  fc_error_clear();
  fc_status st = fc_json_parse(r->text, strlen(r->text), NULL, &v);
  ck_assert_msg(st == r->status, "'%s': status %s, message '%s'", r->text, fc_status_name(st),
                fc_last_error());
  ck_assert_ptr_null(v);
  ck_assert_str_eq(fc_last_error(), r->message);
}
END_TEST

START_TEST(decodes_values) {
  const char text[] =
      "{\"i\":-42,\"big\":9223372036854775807,\"min\":-9223372036854775808,"
      "\"over\":9223372036854775808.0,\"f\":2.5e2,\"one\":1.0,\"s\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\","
      "\"u\":\"\\u00e9\\u20AC\\ud83d\\ude00\",\"nul\":\"a\\u0000b\",\"arr\":[true,false,null]}";
  fc_json *v = parse_ok(text, sizeof text - 1);
  ck_assert_int_eq(v->type, FC_JSON_OBJECT);
  ck_assert_uint_eq(v->count, 10);
  ck_assert_str_eq(v->members[0].key, "i"); /* text order kept */
  ck_assert_str_eq(v->members[9].key, "arr");
  const fc_json *i = fc_json_get(v, "i");
  ck_assert(i && i->type == FC_JSON_NUMBER && i->is_integer && i->integer == -42 &&
            i->number == -42.0);
  const fc_json *big = fc_json_get(v, "big");
  ck_assert(big->is_integer && big->integer == INT64_MAX);
  const fc_json *min = fc_json_get(v, "min");
  ck_assert(min->is_integer && min->integer == INT64_MIN);
  const fc_json *over = fc_json_get(v, "over");
  ck_assert(!over->is_integer && over->number == 9223372036854775808.0);
  ck_assert(!fc_json_get(v, "f")->is_integer && fc_json_get(v, "f")->number == 250.0);
  ck_assert(!fc_json_get(v, "one")->is_integer && fc_json_get(v, "one")->number == 1.0);
  const fc_json *s = fc_json_get(v, "s");
  ck_assert_uint_eq(s->length, 8);
  ck_assert_str_eq(s->string, "\"\\/\b\f\n\r\t");
  ck_assert_str_eq(fc_json_get(v, "u")->string, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
  const fc_json *nul = fc_json_get(v, "nul");
  ck_assert_uint_eq(nul->length, 3);
  ck_assert(memcmp(nul->string, "a\0b", 4) == 0);
  const fc_json *arr = fc_json_get(v, "arr");
  ck_assert(arr->type == FC_JSON_ARRAY && arr->count == 3);
  ck_assert(arr->items[0].type == FC_JSON_BOOL && arr->items[0].boolean == 1);
  ck_assert(arr->items[1].type == FC_JSON_BOOL && arr->items[1].boolean == 0);
  ck_assert(arr->items[2].type == FC_JSON_NULL);
  ck_assert_ptr_null(fc_json_get(v, "missing"));
  ck_assert_ptr_null(fc_json_get(arr, "i"));
  fc_json_free(v);
}
END_TEST

/* The text need not be NUL-terminated: parsing stops at size. */
START_TEST(respects_size) {
  fc_json *v = parse_ok("[1,2]garbage", 5);
  ck_assert_uint_eq(v->count, 2);
  fc_json_free(v);
  v = NULL;
  ck_assert_int_eq(fc_json_parse("\"abc\"", 3, NULL, &v), FC_ERR_FORMAT);
  ck_assert_str_eq(fc_last_error(), "JSON error at byte 3: premature end of input near '\"ab'");
  ck_assert_int_eq(fc_json_parse("1\0", 2, NULL, &v),
                   FC_ERR_FORMAT); /* jansson alone would stop at the NUL */
  ck_assert_str_eq(fc_last_error(), "JSON error at byte 1: NUL byte, not allowed in JSON text");
  ck_assert_int_eq(fc_json_parse("[\"a\0\"]", 5, NULL, &v), FC_ERR_FORMAT);
  ck_assert_str_eq(fc_last_error(), "JSON error at byte 3: NUL byte, not allowed in JSON text");
}
END_TEST

static char *nested(size_t depth) {
  char *text = malloc(2 * depth + 1);
  ck_assert_ptr_nonnull(text);
  memset(text, '[', depth);
  memset(text + depth, ']', depth);
  text[2 * depth] = '\0';
  return text;
}

START_TEST(limits_depth) {
  char *ok = nested(64), *deep = nested(65), *very = nested(1000000);
  fc_json *v = parse_ok(ok, strlen(ok));
  fc_json_free(v);
  ck_assert_int_eq(fc_json_parse(deep, strlen(deep), NULL, &v), FC_ERR_LIMIT);
  ck_assert_str_eq(fc_last_error(), "JSON error: nesting deeper than 64 levels");
  ck_assert_int_eq(fc_json_parse(very, strlen(very), NULL, &v), FC_ERR_LIMIT);
  fc_json_limits limits = {.max_depth = 3};
  ck_assert_int_eq(fc_json_parse("{\"a\":[[[1]]]}", 13, &limits, &v), FC_ERR_LIMIT);
  ck_assert_str_eq(fc_last_error(), "JSON error: nesting deeper than 3 levels");
  ck_assert_int_eq(fc_json_parse("{\"a\":[[1]]}", 11, &limits, &v), FC_OK);
  fc_json_free(v);
  free(ok);
  free(deep);
  free(very);
}
END_TEST

START_TEST(limits_size_and_values) {
  fc_json *v = NULL;
  fc_json_limits limits = {.max_size = 4};
  ck_assert_int_eq(fc_json_parse("[1,2]", 5, &limits, &v), FC_ERR_LIMIT);
  ck_assert_str_eq(fc_last_error(), "JSON text of 5 bytes is over the 4-byte limit");
  limits = (fc_json_limits){.max_values = 3};
  ck_assert_int_eq(fc_json_parse("[1,2]", 5, &limits, &v), FC_OK);
  fc_json_free(v);
  ck_assert_int_eq(fc_json_parse("[1,2,3]", 7, &limits, &v), FC_ERR_LIMIT);
  ck_assert_str_eq(fc_last_error(), "JSON error: more than 3 values");
  ck_assert_ptr_null(v);
  /* Memory while jansson builds its tree: 2000 values need more than 4 KiB. */
  char many[4002];
  for (int i = 0; i < 2000; i++) memcpy(many + 2 * i, i ? ",0" : "[0", 2);
  memcpy(many + 4000, "]", 2);
  limits = (fc_json_limits){.max_memory = 4096};
  ck_assert_int_eq(fc_json_parse(many, 4001, &limits, &v), FC_ERR_LIMIT);
  ck_assert_msg(strstr(fc_last_error(), "parsing needs more than 4096 bytes of memory"), "%s",
                fc_last_error());
  ck_assert_ptr_null(v);
  ck_assert_int_eq(fc_json_parse(many, 4001, NULL, &v), FC_OK); /* the budget ends with the parse */
  ck_assert_uint_eq(v->count, 2000);
  fc_json_free(v);
}
END_TEST

START_TEST(writer_round_trips) {
  fc_json_buf buf = {0};
  const char raw[] = "q\"b\\s/\x01\n\t\x7f caf\xc3\xa9\0end";
  fc_json_buf_raw(&buf, "{", 1);
  fc_json_buf_string(&buf, "s", 1);
  fc_json_buf_raw(&buf, ":", 1);
  fc_json_buf_string(&buf, raw, sizeof raw - 1);
  fc_json_buf_cstr(&buf, ",\"n\":[");
  const double numbers[] = {0.1, -2.5, 1e-300, 123456789.125, 1.0 / 3.0, 5e-324};
  for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++) {
    fc_json_buf_number(&buf, numbers[i]);
    fc_json_buf_raw(&buf, ",", 1);
  }
  fc_json_buf_number(&buf, NAN);
  fc_json_buf_raw(&buf, ",", 1);
  fc_json_buf_int(&buf, INT64_MIN);
  fc_json_buf_raw(&buf, ",", 1);
  fc_json_buf_uint(&buf, (uint64_t)INT64_MAX);
  fc_json_buf_raw(&buf, ",", 1);
  fc_json_buf_number(&buf, -0.0);
  fc_json_buf_cstr(&buf, "]}");
  ck_assert(!buf.failed);
  ck_assert_uint_eq(strlen(buf.data), buf.length);
  ck_assert_msg(strstr(buf.data, "\"q\\\"b\\\\s/\\u0001\\n\\t\x7f caf\xc3\xa9\\u0000end\"") != NULL,
                "%s", buf.data);
  ck_assert_msg(strstr(buf.data, "0.1,-2.5,") != NULL, "%s", buf.data);

  fc_json *v = parse_ok(buf.data, buf.length);
  const fc_json *s = fc_json_get(v, "s");
  ck_assert_uint_eq(s->length, sizeof raw - 1);
  ck_assert(memcmp(s->string, raw, sizeof raw) == 0);
  const fc_json *n = fc_json_get(v, "n");
  ck_assert_uint_eq(n->count, 10);
  for (size_t i = 0; i < 6; i++) ck_assert(n->items[i].number == numbers[i]);
  ck_assert_int_eq(n->items[6].type, FC_JSON_NULL);
  ck_assert(n->items[7].is_integer && n->items[7].integer == INT64_MIN);
  ck_assert(n->items[8].is_integer && n->items[8].integer == INT64_MAX);
  ck_assert(!n->items[9].is_integer && n->items[9].number == 0.0 && signbit(n->items[9].number));
  fc_json_free(v);
  fc_json_buf_free(&buf);
  ck_assert_ptr_null(buf.data);
}
END_TEST

START_TEST(validates_utf8) {
  ck_assert(fc_json_valid_utf8("plain caf\xc3\xa9 \xf0\x9f\x98\x80", 16));
  ck_assert(!fc_json_valid_utf8("plain caf\xc3\xa9 \xf0\x9f\x98\x80", 15)); /* emoji cut */
  ck_assert(fc_json_valid_utf8("", 0));
  ck_assert(!fc_json_valid_utf8("\xff", 1));
  ck_assert(!fc_json_valid_utf8("\xc0\xaf", 2));     /* overlong */
  ck_assert(!fc_json_valid_utf8("\xed\xa0\x80", 3)); /* surrogate */
  ck_assert(!fc_json_valid_utf8("ok\xe2\x82", 4));   /* cut short */
}
END_TEST

static Suite *json_suite(void) {
  Suite *s = suite_create("json");
  TCase *tc = tcase_create("parse");
  tcase_add_loop_test(tc, accepts_valid_documents, 0, (int)(sizeof accepted / sizeof accepted[0]));
  tcase_add_loop_test(tc, rejects_invalid_documents, 0,
                      (int)(sizeof rejected / sizeof rejected[0]));
  tcase_add_test(tc, decodes_values);
  tcase_add_test(tc, respects_size);
  tcase_add_test(tc, limits_depth);
  tcase_add_test(tc, limits_size_and_values);
  tcase_add_test(tc, writer_round_trips);
  tcase_add_test(tc, validates_utf8);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return fc_test_run_suite(json_suite(), 0); }
