/* safetensors writer/reader: round trips, conversions, every rejection, and
 * the atomic write keeping the previous file when a write fails. */
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../testutil.h"
#include "core/json.h"
#include "fercl/fileio.h"
#include "fercl/safetensors.h"

static const char *temp_path(const char *name) {
  static char path[4][600];
  static int next;
  char *p = path[next++ % 4];
  snprintf(p, sizeof path[0], "%s/%s", fc_test_temp_dir(), name);
  return p;
}

/* Checks the last message against fmt with %s standing for path. */
static void check_message(const char *fmt, const char *path) {
  char full[1200];
  snprintf(full, sizeof full, fmt, path);
  ck_assert_str_eq(fc_last_error(), full);
}

static void fill_bytes(unsigned char *p, size_t n, uint32_t seed) {
  for (size_t i = 0; i < n; i++) {
    seed = seed * 1664525u + 1013904223u;
    p[i] = (unsigned char)(seed >> 24);
  }
}

static size_t nbytes_of(const fc_st_tensor *t) {
  size_t n = fc_st_dtype_size(t->dtype);
  for (int d = 0; d < t->ndim; d++) n *= (size_t)t->shape[d];
  return n;
}

/* Several dtypes, a scalar, zero-size dims, 8 dims; random bytes (including
 * NaN patterns in float tensors) must come back bit-exact. */
#define N_TENSORS 15
static fc_st_tensor tensors[N_TENSORS] = {
    {"u8.image", FC_ST_U8, 2, {3, 3}, NULL},
    {"conv.weight", FC_ST_F32, 2, {2, 3}, NULL},
    {"stats.f64", FC_ST_F64, 1, {4}, NULL},
    {"half", FC_ST_F16, 3, {3, 1, 2}, NULL},
    {"brain", FC_ST_BF16, 1, {5}, NULL},
    {"steps", FC_ST_I64, 2, {2, 2}, NULL},
    {"ids", FC_ST_I32, 1, {3}, NULL},
    {"short", FC_ST_I16, 1, {2}, NULL},
    {"bytes", FC_ST_I8, 1, {7}, NULL},
    {"mask", FC_ST_BOOL, 1, {4}, NULL},
    {"scalar", FC_ST_F32, 0, {0}, NULL},
    {"empty", FC_ST_F32, 2, {0, 5}, NULL},
    {"empty.i8", FC_ST_I8, 2, {3, 0}, NULL},
    {"eight.dims", FC_ST_F32, 8, {1, 2, 1, 2, 1, 1, 1, 2}, NULL},
    {"name with \"quotes\" and caf\xc3\xa9", FC_ST_F16, 1, {1}, NULL},
};
static unsigned char *tensor_data[N_TENSORS];
static const char *meta_keys[] = {"format", "note"};
static const char *meta_values[] = {"pt", "caf\xc3\xa9 \"quoted\"\n"};

static void make_tensors(void) {
  for (int i = 0; i < N_TENSORS; i++) {
    size_t n = nbytes_of(&tensors[i]);
    tensor_data[i] = malloc(n ? n : 1);
    fill_bytes(tensor_data[i], n, (uint32_t)i + 1);
    if (tensors[i].dtype == FC_ST_BOOL)
      for (size_t j = 0; j < n; j++) tensor_data[i][j] &= 1;
    tensors[i].data = tensor_data[i];
  }
}

static void free_tensors(void) {
  for (int i = 0; i < N_TENSORS; i++) free(tensor_data[i]);
}

static void write_sample(const char *path) {
  FC_CHECK_OK(fc_safetensors_write(path, tensors, N_TENSORS, meta_keys, meta_values, 2));
}

START_TEST(round_trip_is_bit_exact) {
  const char *path = temp_path("round.safetensors");
  write_sample(path);
  fc_safetensors *f = NULL;
  FC_CHECK_OK(fc_safetensors_open(path, &f));
  ck_assert_str_eq(fc_safetensors_path(f), path);
  ck_assert_uint_eq(fc_safetensors_count(f), N_TENSORS);
  for (int i = 0; i < N_TENSORS; i++) {
    size_t index = 99;
    FC_CHECK_OK(fc_safetensors_find(f, tensors[i].name, &index));
    const fc_st_tensor *t = fc_safetensors_tensor(f, index);
    ck_assert_str_eq(t->name, tensors[i].name);
    ck_assert_int_eq(t->dtype, tensors[i].dtype);
    ck_assert_int_eq(t->ndim, tensors[i].ndim);
    for (int d = 0; d < t->ndim; d++) ck_assert_int_eq(t->shape[d], tensors[i].shape[d]);
    size_t n = nbytes_of(&tensors[i]);
    ck_assert_uint_eq(fc_safetensors_nbytes(f, index), n);
    unsigned char *back = malloc(n + 1);
    FC_CHECK_OK(fc_safetensors_read(f, index, back, n));
    ck_assert_msg(memcmp(back, tensor_data[i], n) == 0, "tensor %s differs", t->name);
    free(back);
  }
  ck_assert_uint_eq(fc_safetensors_numel(f, 0), 1 * 1 * 4); /* I64 / F64 come first */
  /* Data order: larger elements first, the given order within one size. */
  const char *expected_order[] = {"stats.f64",
                                  "steps",
                                  "conv.weight",
                                  "ids",
                                  "scalar",
                                  "empty",
                                  "eight.dims",
                                  "half",
                                  "brain",
                                  "short",
                                  "name with \"quotes\" and caf\xc3\xa9",
                                  "u8.image",
                                  "bytes",
                                  "mask",
                                  "empty.i8"};
  for (int i = 0; i < N_TENSORS; i++)
    ck_assert_str_eq(fc_safetensors_tensor(f, (size_t)i)->name, expected_order[i]);
  ck_assert_ptr_null(fc_safetensors_tensor(f, N_TENSORS));
  ck_assert_str_eq(fc_safetensors_metadata(f, "format"), "pt");
  ck_assert_str_eq(fc_safetensors_metadata(f, "note"), meta_values[1]);
  ck_assert_ptr_null(fc_safetensors_metadata(f, "missing"));
  ck_assert_uint_eq(fc_safetensors_metadata_count(f), 2);
  const char *k, *v;
  FC_CHECK_OK(fc_safetensors_metadata_at(f, 1, &k, &v));
  ck_assert_str_eq(k, "note");
  ck_assert_int_eq(fc_safetensors_metadata_at(f, 2, &k, &v), FC_ERR_INVALID_ARG);
  size_t index;
  ck_assert_int_eq(fc_safetensors_find(f, "fc.bias", &index), FC_ERR_NOT_FOUND);
  check_message("%s has no tensor named \"fc.bias\"", path);
  fc_safetensors_close(f);
}
END_TEST

/* The bytes on disk: padded header listing __metadata__ first, aligned data. */
START_TEST(file_layout) {
  const char *path = temp_path("layout.safetensors");
  write_sample(path);
  char *bytes;
  size_t size;
  FC_CHECK_OK(fc_file_read_all(path, 1 << 20, &bytes, &size));
  uint64_t n = 0;
  for (int i = 7; i >= 0; i--) n = n << 8 | (unsigned char)bytes[i];
  ck_assert_uint_eq(n % 8, 0);
  size_t data = 0;
  for (int i = 0; i < N_TENSORS; i++) data += nbytes_of(&tensors[i]);
  ck_assert_uint_eq(size, 8 + n + data);
  ck_assert(strncmp(bytes + 8, "{\"__metadata__\":{\"format\":\"pt\",", 31) == 0);
  fc_json *header;
  FC_CHECK_OK(fc_json_parse(bytes + 8, n, NULL, &header));
  ck_assert_uint_eq(header->count, N_TENSORS + 1);
  for (size_t i = 1; i < header->count; i++) {
    const fc_json *t = &header->members[i].value;
    const fc_json *offsets = fc_json_get(t, "data_offsets");
    const char *dtype = fc_json_get(t, "dtype")->string;
    int64_t elem = strcmp(dtype, "F64") == 0 || strcmp(dtype, "I64") == 0   ? 8
                   : strcmp(dtype, "F32") == 0 || strcmp(dtype, "I32") == 0 ? 4
                   : dtype[1] == '1' || dtype[2] == '1'                     ? 2
                                                                            : 1;
    ck_assert_int_eq(offsets->items[0].integer % elem, 0);
  }
  fc_json_free(header);
  free(bytes);

  /* No tensors and no metadata: "{}" padded to 8 bytes. */
  path = temp_path("empty.safetensors");
  FC_CHECK_OK(fc_safetensors_write(path, NULL, 0, NULL, NULL, 0));
  FC_CHECK_OK(fc_file_read_all(path, 1 << 20, &bytes, &size));
  ck_assert_uint_eq(size, 16);
  ck_assert(memcmp(bytes, "\x08\0\0\0\0\0\0\0{}      ", 16) == 0);
  free(bytes);
  fc_safetensors *f;
  FC_CHECK_OK(fc_safetensors_open(path, &f));
  ck_assert_uint_eq(fc_safetensors_count(f), 0);
  ck_assert_uint_eq(fc_safetensors_metadata_count(f), 0);
  fc_safetensors_close(f);
}
END_TEST

START_TEST(converts_to_f32) {
  const uint16_t half[] = {0x3c00, 0xc000, 0x7bff, 0x0001, 0x03ff, 0x0400,
                           0x7c00, 0xfc00, 0x7e00, 0x8000, 0x3555};
  const float half_expect[] = {1.0f,     -2.0f,     65504.0f, 0x1p-24f, 1023 * 0x1p-24f, 0x1p-14f,
                               INFINITY, -INFINITY, NAN,      -0.0f,    0.333251953125f};
  const uint16_t bf16[] = {0x3f80, 0xc0a0, 0x7f80, 0x0001, 0x4049};
  const float bf16_expect[] = {1.0f, -5.0f, INFINITY, 0x1p-133f, 3.140625f};
  const double f64[] = {0.1, -1e300, 1e-50, 12345.678};
  const float f64_expect[] = {0.1f, -INFINITY, 0.0f, 12345.678f};
  const float f32[] = {1.5f, -0.25f};
  const int32_t i32[] = {1, 2};
  fc_st_tensor t[] = {
      {"h", FC_ST_F16, 1, {11}, half}, {"b", FC_ST_BF16, 1, {5}, bf16},
      {"d", FC_ST_F64, 1, {4}, f64},   {"f", FC_ST_F32, 2, {1, 2}, f32},
      {"i", FC_ST_I32, 1, {2}, i32},
  };
  const char *path = temp_path("convert.safetensors");
  FC_CHECK_OK(fc_safetensors_write(path, t, 5, NULL, NULL, 0));
  fc_safetensors *f;
  FC_CHECK_OK(fc_safetensors_open(path, &f));
  const struct {
    const char *name;
    const float *expect;
    size_t n;
  } cases[] = {{"h", half_expect, 11}, {"b", bf16_expect, 5}, {"d", f64_expect, 4}, {"f", f32, 2}};
  for (int c = 0; c < 4; c++) {
    size_t index;
    float got[16];
    FC_CHECK_OK(fc_safetensors_find(f, cases[c].name, &index));
    FC_CHECK_OK(fc_safetensors_read_f32(f, index, got, cases[c].n));
    for (size_t i = 0; i < cases[c].n; i++) {
      float e = cases[c].expect[i];
      ck_assert_msg(isnan(e) ? isnan(got[i]) : got[i] == e && signbit(got[i]) == signbit(e),
                    "%s[%zu]: %a, expected %a", cases[c].name, i, (double)got[i], (double)e);
    }
  }
  size_t index;
  float got[16];
  FC_CHECK_OK(fc_safetensors_find(f, "i", &index));
  ck_assert_int_eq(fc_safetensors_read_f32(f, index, got, 2), FC_ERR_MISMATCH);
  check_message("%s: tensor i is I32; only F32, F16, BF16 and F64 convert to F32", path);
  FC_CHECK_OK(fc_safetensors_find(f, "h", &index));
  ck_assert_int_eq(fc_safetensors_read_f32(f, index, got, 10), FC_ERR_MISMATCH);
  check_message("%s: tensor h has 11 elements, the destination 10", path);
  ck_assert_int_eq(fc_safetensors_read(f, index, got, 20), FC_ERR_MISMATCH);
  check_message("%s: tensor h has 22 bytes, the destination 20", path);
  ck_assert_int_eq(fc_safetensors_read(f, 7, got, 20), FC_ERR_INVALID_ARG);
  check_message("%s: tensor index 7 is out of range (the file has 5)", path);
  fc_safetensors_close(f);
}
END_TEST

/* ---- rejections ---- */

/* Writes length (le64), header, then data_size zero bytes. */
static const char *write_raw(const char *name, uint64_t length, const char *header,
                             size_t data_size) {
  const char *path = temp_path(name);
  FILE *fp = fopen(path, "wb");
  ck_assert_ptr_nonnull(fp);
  for (int i = 0; i < 8; i++) fputc((int)(length >> (8 * i) & 0xff), fp);
  fputs(header, fp);
  for (size_t i = 0; i < data_size; i++) fputc(0, fp);
  ck_assert_int_eq(fclose(fp), 0);
  return path;
}

static void expect_rejection(const char *path, fc_status status, const char *message) {
  fc_safetensors *f = (fc_safetensors *)1;
  fc_error_clear();
  fc_status st = fc_safetensors_open(path, &f);
  ck_assert_msg(st == status, "%s: got %s (%s)", path, fc_status_name(st), fc_last_error());
  ck_assert_ptr_null(f);
  check_message(message, path);
}

typedef struct bad_header {
  const char *header;
  size_t data_size;
  fc_status status;
  const char *message; /* %s is the path */
} bad_header;

#define T_F32_2(name, b, e) \
  "\"" name "\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[" #b "," #e "]}"

static const bad_header bad_headers[] = {
    {"{\"a\":", 0, FC_ERR_FORMAT,
     "%s: header: JSON error at byte 5: unexpected token near end of file"},
    {"{\"a\":{}} x", 0, FC_ERR_FORMAT,
     "%s: header: JSON error at byte 10: end of file expected near 'x'"},
    {"{}\0\0\0\0\0\0", 0, FC_ERR_FORMAT,
     "%s: the header is JSON array, expected an object"}, /* replaced below */
    {"[]", 0, FC_ERR_FORMAT, "%s: the header is JSON array, expected an object"},
    {"{\"a\":{\"dtype\":\"F33\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, FC_ERR_UNSUPPORTED,
     "%s: tensor a: unsupported dtype \"F33\" (fer-cl reads F32, F64, F16, BF16, I64, I32, I16, "
     "I8, U8, BOOL)"},
    {"{\"a\":{\"dtype\":\"U32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, FC_ERR_UNSUPPORTED,
     "%s: tensor a: unsupported dtype \"U32\" (fer-cl reads F32, F64, F16, BF16, I64, I32, I16, "
     "I8, U8, BOOL)"},
    {"{\"a\":{\"dtype\":7,\"shape\":[2],\"data_offsets\":[0,8]}}", 8, FC_ERR_FORMAT,
     "%s: tensor a: \"dtype\" is missing or not a string"},
    {"{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8, FC_ERR_FORMAT,
     "%s: tensor a: \"dtype\" is missing or not a string"},
    {"{\"fc.weight\":{\"dtype\":\"F16\",\"shape\":[7,512],\"data_offsets\":[0,7000]}}", 7000,
     FC_ERR_FORMAT,
     "%s: tensor fc.weight: dtype F16 shape [7,512] needs 7168 bytes, offsets give 7000"},
    {"{" T_F32_2("a", 0, 8) "}", 4, FC_ERR_FORMAT,
     "%s: tensor a: data_offsets [0,8] go past the end of the 4-byte data section (truncated "
     "file?)"},
    {"{" T_F32_2("a", 0, 8) "," T_F32_2("b", 4, 12) "}", 12, FC_ERR_FORMAT,
     "%s: tensors a [0,8] and b [4,12] overlap"},
    {"{" T_F32_2("b", 4, 12) "," T_F32_2("a", 0, 8) "}", 12, FC_ERR_FORMAT,
     "%s: tensors a [0,8] and b [4,12] overlap"},
    {"{" T_F32_2("a", 0, 8) "," T_F32_2("b", 0, 8) "}", 8, FC_ERR_FORMAT,
     "%s: tensors a [0,8] and b [0,8] overlap"},
    {"{" T_F32_2("a", 0, 8) "," T_F32_2("b", 12, 20) "}", 20, FC_ERR_FORMAT,
     "%s: gap in the data section: bytes [8,12) before tensor b belong to no tensor"},
    {"{" T_F32_2("a", 4, 12) "}", 12, FC_ERR_FORMAT,
     "%s: gap in the data section: bytes [0,4) before tensor a belong to no tensor"},
    {"{" T_F32_2("a", 0, 8) "}", 12, FC_ERR_FORMAT,
     "%s: the data section has 12 bytes but the tensors cover only the first 8"},
    {"{" T_F32_2("a", 0, 8) "," T_F32_2("a", 8, 16) "}", 16, FC_ERR_FORMAT,
     "%s: header: JSON error at byte 57: duplicate object key near '\"a\"'"},
    {"{" T_F32_2("", 0, 8) "}", 8, FC_ERR_FORMAT, "%s: a tensor has an empty name"},
    {"{\"a\\u0000b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, FC_ERR_FORMAT,
     "%s: header: JSON error at byte 11: NUL byte in object key not supported near "
     "'\"a\\u0000b\"'"},
    {"{\"__metadata__\":{\"epoch\":3}}", 0, FC_ERR_FORMAT,
     "%s: metadata \"epoch\" is JSON number; metadata values must be strings"},
    {"{\"__metadata__\":{\"a\":\"b\",\"nested\":{}}}", 0, FC_ERR_FORMAT,
     "%s: metadata \"nested\" is JSON object; metadata values must be strings"},
    {"{\"__metadata__\":[\"a\"]}", 0, FC_ERR_FORMAT,
     "%s: \"__metadata__\" must be an object of strings, found JSON array"},
    {"{\"a\":[1]}", 0, FC_ERR_FORMAT,
     "%s: tensor a: expected an object with dtype, shape and data_offsets, found JSON array"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"extra\":1}}", 8,
     FC_ERR_FORMAT, "%s: tensor a: unknown field \"extra\""},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, FC_ERR_FORMAT,
     "%s: tensor a: \"shape\" must be an array of non-negative integers"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]}}", 8, FC_ERR_FORMAT,
     "%s: tensor a: \"shape\" must be an array of non-negative integers"},
    {"{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8, FC_ERR_FORMAT,
     "%s: tensor a: \"shape\" must be an array of non-negative integers"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,2],\"data_offsets\":[0,8]}}", 8,
     FC_ERR_UNSUPPORTED, "%s: tensor a: 9 dimensions; fer-cl reads at most 8"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8, FC_ERR_FORMAT,
     "%s: tensor a: \"data_offsets\" must be [begin, end] with 0 <= begin <= end"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8,16]}}", 8, FC_ERR_FORMAT,
     "%s: tensor a: \"data_offsets\" must be [begin, end] with 0 <= begin <= end"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,\"8\"]}}", 8, FC_ERR_FORMAT,
     "%s: tensor a: \"data_offsets\" must be [begin, end] with 0 <= begin <= end"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4],\"data_offsets\":[0,8]}}", 8,
     FC_ERR_FORMAT, "%s: tensor a: shape [4294967296,4294967296,4] is too large"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,18446744073709551615]}}", 8,
     FC_ERR_FORMAT,
     "%s: header: JSON error at byte 70: too big integer near '18446744073709551615'"},
    {"{\"a\":{\"dtype\":\"I8\",\"shape\":[[[[[[[[1]]]]]]]],\"data_offsets\":[0,1]}}", 1,
     FC_ERR_LIMIT, "%s: header: JSON error: nesting deeper than 8 levels"},
};

START_TEST(rejects_bad_headers) {
  const bad_header *b = &bad_headers[_i];
  if (_i == 2) { /* NUL padding is not JSON whitespace */
    const char *path = temp_path("nulpad.safetensors");
    FILE *fp = fopen(path, "wb");
    fwrite("\x08\0\0\0\0\0\0\0{}\0\0\0\0\0\0", 1, 16, fp);
    fclose(fp);
    expect_rejection(path, FC_ERR_FORMAT,
                     "%s: header: JSON error at byte 2: NUL byte, not allowed in JSON text");
    return;
  }
  char name[64];
  snprintf(name, sizeof name, "bad%d.safetensors", _i);
  const char *path = write_raw(name, strlen(b->header), b->header, b->data_size);
  expect_rejection(path, b->status, b->message);
}
END_TEST

START_TEST(rejects_bad_lengths) {
  /* Shorter than the length field. */
  const char *path = temp_path("short.safetensors");
  FILE *fp = fopen(path, "wb");
  fputs("abc", fp);
  fclose(fp);
  expect_rejection(path, FC_ERR_FORMAT,
                   "%s: truncated: 3 bytes, too short for the 8-byte header length");
  /* Header length past the end of the file. */
  char header[801];
  memset(header, ' ', 800);
  header[800] = '\0';
  path = write_raw("past.safetensors", 1200, header, 0);
  expect_rejection(path, FC_ERR_FORMAT,
                   "%s: truncated: header says 1200 bytes but the file has 800");
  /* Absurd lengths are refused before anything is allocated. */
  path = write_raw("huge.safetensors", (uint64_t)1 << 62, "{}", 0);
  expect_rejection(path, FC_ERR_LIMIT,
                   "%s: header length 4611686018427387904 is over the 104857600-byte limit "
                   "(corrupt file, or not safetensors)");
  path = write_raw("max.safetensors", UINT64_MAX, "{}", 0);
  expect_rejection(path, FC_ERR_LIMIT,
                   "%s: header length 18446744073709551615 is over the 104857600-byte limit "
                   "(corrupt file, or not safetensors)");
  /* A valid file cut short inside its data. */
  path = temp_path("cut.safetensors");
  write_sample(path);
  struct stat sb;
  ck_assert_int_eq(stat(path, &sb), 0);
  ck_assert_int_eq(truncate(path, sb.st_size - 3), 0);
  fc_safetensors *f;
  ck_assert_int_eq(fc_safetensors_open(path, &f), FC_ERR_FORMAT);
  ck_assert_msg(strstr(fc_last_error(), "go past the end of the") &&
                    strstr(fc_last_error(), "(truncated file?)"),
                "%s", fc_last_error());
  /* Not a file at all. */
  expect_rejection(fc_test_temp_dir(), FC_ERR_IO, "cannot read %s: not a regular file");
  expect_rejection(temp_path("missing.safetensors"), FC_ERR_IO,
                   "cannot open %s: No such file or directory");
}
END_TEST

/* ---- writer arguments and atomicity ---- */

static int same_file(const char *path, const char *reference) {
  char *a, *b;
  size_t na, nb;
  FC_CHECK_OK(fc_file_read_all(path, 1 << 20, &a, &na));
  FC_CHECK_OK(fc_file_read_all(reference, 1 << 20, &b, &nb));
  int same = na == nb && memcmp(a, b, na) == 0;
  free(a);
  free(b);
  return same;
}

START_TEST(writer_rejects_bad_arguments) {
  const char *path = temp_path("args.safetensors"), *ref = temp_path("args.ref");
  write_sample(path);
  write_sample(ref);
  float x[2] = {1, 2};
  const struct {
    fc_st_tensor t[2];
    size_t count;
    const char *message;
  } cases[] = {
      {{{"a", FC_ST_F32, 1, {2}, x}, {"a", FC_ST_F32, 1, {2}, x}},
       2,
       "%s: two tensors are named \"a\"; names must be unique"},
      {{{"", FC_ST_F32, 1, {2}, x}}, 1, "%s: tensor 0 has no name"},
      {{{"a", FC_ST_F32, 1, {2}, x}, {NULL, FC_ST_F32, 1, {2}, x}}, 2, "%s: tensor 1 has no name"},
      {{{"__metadata__", FC_ST_F32, 1, {2}, x}},
       1,
       "%s: \"__metadata__\" is reserved and cannot name a tensor"},
      {{{"a", FC_ST_DTYPE_COUNT, 1, {2}, x}}, 1, "%s: tensor a: invalid dtype 10"},
      {{{"a", FC_ST_F32, 9, {2}, x}},
       1,
       "%s: tensor a: 9 dimensions; safetensors files from fer-cl allow 0 to 8"},
      {{{"a", FC_ST_F32, 2, {2, -1}, x}}, 1, "%s: tensor a: negative dimension in shape [2,-1]"},
      {{{"a", FC_ST_F32, 2, {INT64_MAX, 4}, x}},
       1,
       "%s: tensor a: shape [9223372036854775807,4] is too large"},
      {{{"a", FC_ST_F32, 1, {2}, NULL}}, 1, "%s: tensor a has no data"},
      {{{"a", FC_ST_F32, 1, {2}, x}, {"b\xff", FC_ST_F32, 1, {2}, x}},
       2,
       "%s: tensor 1: the name is not valid UTF-8"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    ck_assert_int_eq(fc_safetensors_write(path, cases[i].t, cases[i].count, NULL, NULL, 0),
                     FC_ERR_INVALID_ARG);
    check_message(cases[i].message, path);
  }
  const char *keys[] = {"k", "k"}, *values[] = {"1", "2"};
  ck_assert_int_eq(fc_safetensors_write(path, tensors, 1, keys, values, 2), FC_ERR_INVALID_ARG);
  check_message("%s: metadata key \"k\" appears twice", path);
  const char *bad_values[] = {"1", "\xc0\xaf"};
  ck_assert_int_eq(fc_safetensors_write(path, tensors, 1, keys, bad_values, 2), FC_ERR_INVALID_ARG);
  check_message("%s: metadata entry 1 is not valid UTF-8", path);
  ck_assert_int_eq(fc_safetensors_write(path, NULL, 1, NULL, NULL, 0), FC_ERR_INVALID_ARG);
  check_message("%s: no tensor or metadata arrays given for a nonzero count", path);
  ck_assert(same_file(path, ref));
}
END_TEST

static int temp_files_left(const char *path) {
  char temp[700];
  snprintf(temp, sizeof temp, "%s.tmp.%ld", path, (long)getpid());
  return access(temp, F_OK) == 0;
}

START_TEST(failed_write_keeps_previous_file) {
  const char *path = temp_path("keep.safetensors"), *ref = temp_path("keep.ref");
  write_sample(path);
  write_sample(ref);
  float big[16384] = {0};
  fc_st_tensor t = {"big", FC_ST_F32, 1, {16384}, big};

  /* 1. The temp file cannot be created (a folder sits at its name). */
  char temp[700];
  snprintf(temp, sizeof temp, "%s.tmp.%ld", path, (long)getpid());
  ck_assert_int_eq(mkdir(temp, 0700), 0);
  ck_assert_int_eq(fc_safetensors_write(path, &t, 1, NULL, NULL, 0), FC_ERR_IO);
  char expected[1024];
  snprintf(expected, sizeof expected,
           "cannot write %s: Is a directory (check that the folder exists and is writable)", path);
  ck_assert_str_eq(fc_last_error(), expected);
  ck_assert(same_file(path, ref));
  ck_assert_int_eq(rmdir(temp), 0);

  /* 2. The disk fills up mid-write: a file size limit makes writes fail with EFBIG. */
  struct rlimit old, small = {4096, 4096};
  ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
  small.rlim_max = old.rlim_max;
  signal(SIGXFSZ, SIG_IGN);
  ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
  fc_status st = fc_safetensors_write(path, &t, 1, NULL, NULL, 0);
  ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
  ck_assert_int_eq(st, FC_ERR_IO);
  snprintf(expected, sizeof expected, "cannot write %s: File too large", path);
  ck_assert_msg(strncmp(fc_last_error(), expected, strlen(expected)) == 0, "%s", fc_last_error());
  ck_assert(same_file(path, ref));
  ck_assert(!temp_files_left(path));

  /* 3. The folder does not exist. */
  char missing[700];
  snprintf(missing, sizeof missing, "%s/no/such/dir/x.safetensors", fc_test_temp_dir());
  ck_assert_int_eq(fc_safetensors_write(missing, &t, 1, NULL, NULL, 0), FC_ERR_IO);
  snprintf(
      expected, sizeof expected,
      "cannot write %s: No such file or directory (check that the folder exists and is writable)",
      missing);
  ck_assert_str_eq(fc_last_error(), expected);

  /* And a successful write replaces the file. */
  FC_CHECK_OK(fc_safetensors_write(path, &t, 1, NULL, NULL, 0));
  ck_assert(!same_file(path, ref));
  ck_assert(!temp_files_left(path));
}
END_TEST

static Suite *safetensors_suite(void) {
  Suite *s = suite_create("safetensors");
  TCase *tc = tcase_create("format");
  tcase_add_unchecked_fixture(tc, make_tensors, free_tensors);
  tcase_add_test(tc, round_trip_is_bit_exact);
  tcase_add_test(tc, file_layout);
  tcase_add_test(tc, converts_to_f32);
  tcase_add_loop_test(tc, rejects_bad_headers, 0,
                      (int)(sizeof bad_headers / sizeof bad_headers[0]));
  tcase_add_test(tc, rejects_bad_lengths);
  tcase_add_test(tc, writer_rejects_bad_arguments);
  tcase_add_test(tc, failed_write_keeps_previous_file);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return fc_test_run_suite(safetensors_suite(), 0); }
