/* A minimal protocol-buffers encoder: enough of the wire format to write an
 * ONNX model (varints, 32-bit floats, length-delimited bytes and nested
 * messages). Internal to fer-cl.
 *
 * Why our own and not libprotobuf-c: ONNX needs a few dozen fields of a dozen
 * message types, all written once in a fixed order; an encoder for that is a
 * page of code, while protobuf-c would add a build and run dependency, a code
 * generator (protoc-c) and a generated copy of onnx.proto to the build.
 * Nothing here decodes: the ONNX checker and ONNX Runtime read the output in
 * tools/check_onnx.py, and tests/net/test_onnx.c walks it with its own reader.
 *
 * A message is built in an fc_pb buffer; a nested message is built in its
 * own buffer and appended with fc_pb_message. Appends never fail loudly: an
 * allocation failure (or a message over protobuf's 2 GiB limit) sets
 * `failed`, later appends do nothing, and the caller checks once. */
#ifndef FERCL_CORE_PROTOBUF_H
#define FERCL_CORE_PROTOBUF_H

#include <stddef.h>
#include <stdint.h>

/* Protobuf messages must stay below 2 GiB (parsers use signed 32-bit sizes). */
#define FC_PB_MAX_MESSAGE ((size_t)INT32_MAX)

typedef struct fc_pb {
  uint8_t *data;
  size_t length;
  size_t capacity;
  int failed;
} fc_pb;

/* Wire type 0: int32, int64, uint64, enum, bool. Negative values are written as
 * their 64-bit two's complement (10 bytes), as protobuf does for int64. */
void fc_pb_varint(fc_pb *pb, int field, int64_t value);
/* Wire type 5: float. */
void fc_pb_float(fc_pb *pb, int field, float value);
/* Wire type 2: bytes. */
void fc_pb_bytes(fc_pb *pb, int field, const void *data, size_t size);
/* Wire type 2: a NUL-terminated string. */
void fc_pb_string(fc_pb *pb, int field, const char *text);
/* Wire type 2: a nested message (its failure propagates). */
void fc_pb_message(fc_pb *pb, int field, const fc_pb *message);
void fc_pb_free(fc_pb *pb);

#endif
