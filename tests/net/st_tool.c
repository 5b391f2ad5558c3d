/* A small front end to fer-cl's safetensors code for
 * tools/check_safetensors_interop.py:
 *   st_tool write PATH   writes a fixed sample (every dtype, a scalar, an empty tensor)
 *   st_tool dump PATH    reads PATH and prints it as JSON: metadata, then per tensor its
 *                        name, dtype, shape, raw bytes in hex and, for float dtypes, the
 *                        bytes of fc_safetensors_read_f32's output in hex
 * On a rejected file it prints fer-cl's message to stderr and exits 1. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "fercl/safetensors.h"

static int write_sample(const char *path) {
  float f32[12];
  for (int i = 0; i < 12; i++) f32[i] = (float)i * 0.5f - 2.0f;
  double f64[6];
  for (int i = 0; i < 6; i++) f64[i] = i / 3.0;
  const uint16_t f16[5] = {0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001}; /* 1, -2, 0.5, 65504, 2^-24 */
  const uint16_t bf16[4] = {0x3f80, 0xc0a0, 0x4049, 0x0000};        /* 1, -5, 3.140625, 0 */
  const int64_t i64[3] = {-1, (int64_t)1 << 40, INT64_MIN};
  const int32_t i32[4] = {-7, 0, 7, 123456};
  const int16_t i16[3] = {-300, 0, 300};
  const int8_t i8[4] = {-128, -1, 0, 127};
  const uint8_t u8[6] = {0, 1, 2, 253, 254, 255};
  const uint8_t boolean[3] = {1, 0, 1};
  const float scalar = 3.25f;
  const fc_st_tensor t[] = {
      {"f32", FC_ST_F32, 2, {3, 4}, f32},     {"f64", FC_ST_F64, 2, {2, 3}, f64},
      {"f16", FC_ST_F16, 1, {5}, f16},        {"bf16", FC_ST_BF16, 2, {2, 2}, bf16},
      {"i64", FC_ST_I64, 1, {3}, i64},        {"i32", FC_ST_I32, 2, {2, 2}, i32},
      {"i16", FC_ST_I16, 1, {3}, i16},        {"i8", FC_ST_I8, 1, {4}, i8},
      {"u8", FC_ST_U8, 2, {2, 3}, u8},        {"bool", FC_ST_BOOL, 1, {3}, boolean},
      {"scalar", FC_ST_F32, 0, {0}, &scalar}, {"empty", FC_ST_F32, 2, {0, 3}, NULL},
  };
  const char *keys[] = {"format", "producer"}, *values[] = {"pt", "fer-cl st_tool"};
  if (fc_safetensors_write(path, t, sizeof t / sizeof t[0], keys, values, 2) != FC_OK) {
    fprintf(stderr, "%s\n", fc_last_error());
    return 1;
  }
  return 0;
}

static void append_hex(fc_json_buf *out, const unsigned char *bytes, size_t n) {
  fc_json_buf_raw(out, "\"", 1);
  for (size_t i = 0; i < n; i++) {
    char hex[3];
    snprintf(hex, sizeof hex, "%02x", bytes[i]);
    fc_json_buf_raw(out, hex, 2);
  }
  fc_json_buf_raw(out, "\"", 1);
}

static int dump(const char *path) {
  fc_safetensors *f;
  if (fc_safetensors_open(path, &f) != FC_OK) {
    fprintf(stderr, "%s\n", fc_last_error());
    return 1;
  }
  fc_json_buf out = {0};
  fc_json_buf_cstr(&out, "{\"metadata\":{");
  for (size_t i = 0; i < fc_safetensors_metadata_count(f); i++) {
    const char *key, *value;
    fc_safetensors_metadata_at(f, i, &key, &value);
    if (i) fc_json_buf_raw(&out, ",", 1);
    fc_json_buf_string(&out, key, strlen(key));
    fc_json_buf_raw(&out, ":", 1);
    fc_json_buf_string(&out, value, strlen(value));
  }
  fc_json_buf_cstr(&out, "},\"tensors\":[");
  fc_status st = FC_OK;
  for (size_t i = 0; i < fc_safetensors_count(f) && st == FC_OK; i++) {
    const fc_st_tensor *t = fc_safetensors_tensor(f, i);
    size_t nbytes = (size_t)fc_safetensors_nbytes(f, i), numel = (size_t)fc_safetensors_numel(f, i);
    unsigned char *bytes = malloc(nbytes + 1);
    float *floats = malloc(numel * sizeof *floats + 1);
    if (!bytes || !floats) st = fc_errorf(FC_ERR_NOMEM, "out of memory");
    if (st == FC_OK) st = fc_safetensors_read(f, i, bytes, nbytes);
    if (i) fc_json_buf_raw(&out, ",", 1);
    fc_json_buf_cstr(&out, "{\"name\":");
    fc_json_buf_string(&out, t->name, strlen(t->name));
    fc_json_buf_cstr(&out, ",\"dtype\":\"");
    fc_json_buf_cstr(&out, fc_st_dtype_name(t->dtype));
    fc_json_buf_cstr(&out, "\",\"shape\":[");
    for (int d = 0; d < t->ndim; d++) {
      if (d) fc_json_buf_raw(&out, ",", 1);
      fc_json_buf_int(&out, t->shape[d]);
    }
    fc_json_buf_cstr(&out, "],\"hex\":");
    if (st == FC_OK) append_hex(&out, bytes, nbytes);
    if (st == FC_OK && (t->dtype == FC_ST_F32 || t->dtype == FC_ST_F64 || t->dtype == FC_ST_F16 ||
                        t->dtype == FC_ST_BF16)) {
      st = fc_safetensors_read_f32(f, i, floats, numel);
      fc_json_buf_cstr(&out, ",\"f32hex\":");
      if (st == FC_OK) append_hex(&out, (const unsigned char *)floats, numel * sizeof *floats);
    }
    fc_json_buf_raw(&out, "}", 1);
    free(bytes);
    free(floats);
  }
  fc_json_buf_cstr(&out, "]}\n");
  fc_safetensors_close(f);
  if (st == FC_OK && out.failed) st = fc_errorf(FC_ERR_NOMEM, "out of memory");
  if (st != FC_OK) {
    fprintf(stderr, "%s\n", fc_last_error());
    fc_json_buf_free(&out);
    return 1;
  }
  fputs(out.data, stdout);
  fc_json_buf_free(&out);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "write") == 0) return write_sample(argv[2]);
  if (argc == 3 && strcmp(argv[1], "dump") == 0) return dump(argv[2]);
  fprintf(stderr, "usage: st_tool write PATH | st_tool dump PATH\n");
  return 2;
}
