/* The protocol-buffers encoder of protobuf.h. */
#include "core/protobuf.h"

#include <stdlib.h>
#include <string.h>

enum { WIRE_VARINT = 0, WIRE_LEN = 2, WIRE_FIXED32 = 5 };

static void append(fc_pb *pb, const void *data, size_t size) {
  if (pb->failed) return;
  if (size > FC_PB_MAX_MESSAGE - pb->length) {
    pb->failed = 1;
    return;
  }
  if (pb->length + size > pb->capacity) {
    size_t cap = pb->capacity ? pb->capacity : 256;
    while (cap < pb->length + size) cap = cap > SIZE_MAX / 2 ? pb->length + size : cap * 2;
    uint8_t *grown = realloc(pb->data, cap);
    if (!grown) {
      pb->failed = 1;
      return;
    }
    pb->data = grown;
    pb->capacity = cap;
  }
  if (size) memcpy(pb->data + pb->length, data, size);
  pb->length += size;
}

static void raw_varint(fc_pb *pb, uint64_t v) {
  uint8_t bytes[10];
  size_t n = 0;
  do {
    bytes[n] = (uint8_t)(v & 0x7f);
    v >>= 7;
    if (v) bytes[n] |= 0x80;
    n++;
  } while (v);
  append(pb, bytes, n);
}

static void tag(fc_pb *pb, int field, int wire) {
  raw_varint(pb, ((uint64_t)field << 3) | (uint64_t)wire);
}

void fc_pb_varint(fc_pb *pb, int field, int64_t value) {
  tag(pb, field, WIRE_VARINT);
  raw_varint(pb, (uint64_t)value);
}

void fc_pb_float(fc_pb *pb, int field, float value) {
  uint32_t bits;
  memcpy(&bits, &value, sizeof bits);
  uint8_t le[4] = {(uint8_t)bits, (uint8_t)(bits >> 8), (uint8_t)(bits >> 16),
                   (uint8_t)(bits >> 24)};
  tag(pb, field, WIRE_FIXED32);
  append(pb, le, sizeof le);
}

void fc_pb_bytes(fc_pb *pb, int field, const void *data, size_t size) {
  tag(pb, field, WIRE_LEN);
  raw_varint(pb, size);
  append(pb, data, size);
}

void fc_pb_string(fc_pb *pb, int field, const char *text) {
  fc_pb_bytes(pb, field, text, strlen(text));
}

void fc_pb_message(fc_pb *pb, int field, const fc_pb *message) {
  if (message->failed) pb->failed = 1;
  fc_pb_bytes(pb, field, message->data, message->length);
}

void fc_pb_free(fc_pb *pb) {
  free(pb->data);
  memset(pb, 0, sizeof *pb);
}
