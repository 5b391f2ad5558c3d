/* fer-cl: safetensors checkpoints (the format of PyTorch's `safetensors`).
 *
 * Layout: an 8-byte little-endian header length N, N bytes of JSON header,
 * then the raw little-endian tensor data. The header maps each tensor name to
 * {"dtype": "F32", "shape": [7, 512], "data_offsets": [begin, end]} (offsets
 * relative to the data section) plus an optional "__metadata__" object of
 * string → string. fer-cl reads and writes it on little-endian hosts. */
#ifndef FERCL_SAFETENSORS_H
#define FERCL_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "fercl/api.h"
#include "fercl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum fc_st_dtype {
  FC_ST_F32,
  FC_ST_F64,
  FC_ST_F16,
  FC_ST_BF16,
  FC_ST_I64,
  FC_ST_I32,
  FC_ST_I16,
  FC_ST_I8,
  FC_ST_U8,
  FC_ST_BOOL,
  FC_ST_DTYPE_COUNT
} fc_st_dtype;

#define FC_ST_MAX_DIMS 8
/* The reader refuses headers above this size (real ones are kilobytes). */
#define FC_ST_MAX_HEADER ((uint64_t)100 << 20)

/* "F32", "BF16", ...; "?" when out of range. */
FC_API const char *fc_st_dtype_name(fc_st_dtype dtype);
/* Bytes per element (BOOL is one byte); 0 when out of range. */
FC_API size_t fc_st_dtype_size(fc_st_dtype dtype);

/* One tensor: what the writer takes, and what the reader describes (data is
 * NULL there; read the bytes with fc_safetensors_read). ndim 0 is a scalar
 * (one element); a zero dimension makes an empty tensor. */
typedef struct fc_st_tensor {
  const char *name;
  fc_st_dtype dtype;
  int ndim;
  int64_t shape[FC_ST_MAX_DIMS];
  const void *data; /* product(shape) * fc_st_dtype_size(dtype) bytes, little-endian */
} fc_st_tensor;

/* Writes a safetensors file atomically (temp file, then rename: on any failure
 * the previous file at path is unchanged and no temp file is left).
 *
 * Layout: the header lists "__metadata__" first (only when meta_count > 0,
 * keys in the order given), then the tensors in data order. Data order is the
 * order given, except that dtypes with larger elements come first (a stable
 * sort, as PyTorch's library does), so every tensor starts at an offset aligned
 * to its element size. The header is padded with spaces to a multiple of 8.
 * Names must be non-empty, unique, valid UTF-8 and not "__metadata__";
 * metadata keys must be unique; keys and values valid UTF-8. */
FC_API fc_status fc_safetensors_write(const char *path, const fc_st_tensor *tensors, size_t count,
                                      const char *const *meta_keys, const char *const *meta_values,
                                      size_t meta_count);

typedef struct fc_safetensors fc_safetensors;

/* Opens path and validates the whole header before trusting any size in it:
 * header length within the file and FC_ST_MAX_HEADER, strict JSON, known
 * dtypes, shapes of at most FC_ST_MAX_DIMS non-negative dims whose byte size
 * (overflow-checked) matches data_offsets, offsets inside the data section,
 * the data section covered exactly (no gaps, no overlaps), names unique and
 * non-empty, metadata values strings. Tensor bytes are read on demand. Every
 * rejection is one message naming the file and the problem (FC_ERR_IO,
 * FC_ERR_FORMAT, FC_ERR_LIMIT, FC_ERR_UNSUPPORTED for a dtype fer-cl does
 * not read). JSON errors give byte offsets within the header (file offset - 8). */
FC_API fc_status fc_safetensors_open(const char *path, fc_safetensors **out);
FC_API void fc_safetensors_close(fc_safetensors *file);

FC_API const char *fc_safetensors_path(const fc_safetensors *file);
/* Tensors are indexed in data order (by data_offsets). */
FC_API size_t fc_safetensors_count(const fc_safetensors *file);
/* Name, dtype and shape of tensor index (data is NULL); NULL when out of range.
 * Valid until fc_safetensors_close. */
FC_API const fc_st_tensor *fc_safetensors_tensor(const fc_safetensors *file, size_t index);
FC_API uint64_t fc_safetensors_numel(const fc_safetensors *file, size_t index);
FC_API uint64_t fc_safetensors_nbytes(const fc_safetensors *file, size_t index);
/* FC_ERR_NOT_FOUND naming the file and the tensor when absent. */
FC_API fc_status fc_safetensors_find(const fc_safetensors *file, const char *name, size_t *index);

/* Copies the tensor's raw bytes; size must equal fc_safetensors_nbytes. */
FC_API fc_status fc_safetensors_read(fc_safetensors *file, size_t index, void *dst, size_t size);
/* Reads an F32, F16, BF16 or F64 tensor as float (count must equal
 * fc_safetensors_numel); for loading checkpoints stored in other precisions.
 * FC_ERR_MISMATCH for other dtypes. */
FC_API fc_status fc_safetensors_read_f32(fc_safetensors *file, size_t index, float *dst,
                                         size_t count);

/* Metadata value for key, or NULL. */
FC_API const char *fc_safetensors_metadata(const fc_safetensors *file, const char *key);
FC_API size_t fc_safetensors_metadata_count(const fc_safetensors *file);
/* The index-th metadata pair in header order; FC_ERR_INVALID_ARG out of range. */
FC_API fc_status fc_safetensors_metadata_at(const fc_safetensors *file, size_t index,
                                            const char **key, const char **value);

#ifdef __cplusplus
}
#endif
#endif
