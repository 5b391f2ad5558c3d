/* safetensors reader and writer: the header is validated completely before
 * any size it claims is trusted; tensor bytes are read on demand with pread. */
#include "fercl/safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/json.h"
#include "fercl/fileio.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#error "safetensors.c copies tensor bytes as they are, which assumes a little-endian host"
#endif

static const struct {
  const char *name;
  size_t size;
} dtypes[FC_ST_DTYPE_COUNT] = {
    [FC_ST_F32] = {"F32", 4},   [FC_ST_F64] = {"F64", 8}, [FC_ST_F16] = {"F16", 2},
    [FC_ST_BF16] = {"BF16", 2}, [FC_ST_I64] = {"I64", 8}, [FC_ST_I32] = {"I32", 4},
    [FC_ST_I16] = {"I16", 2},   [FC_ST_I8] = {"I8", 1},   [FC_ST_U8] = {"U8", 1},
    [FC_ST_BOOL] = {"BOOL", 1},
};

const char *fc_st_dtype_name(fc_st_dtype dtype) {
  return (unsigned)dtype < FC_ST_DTYPE_COUNT ? dtypes[dtype].name : "?";
}

size_t fc_st_dtype_size(fc_st_dtype dtype) {
  return (unsigned)dtype < FC_ST_DTYPE_COUNT ? dtypes[dtype].size : 0;
}

/* "[7,512]" (truncated with "..." if buf is short). */
static const char *format_shape(char *buf, size_t size, int ndim, const int64_t *shape) {
  size_t n = (size_t)snprintf(buf, size, "[");
  for (int i = 0; i < ndim && n < size; i++)
    n += (size_t)snprintf(buf + n, size - n, "%s%" PRId64, i ? "," : "", shape[i]);
  if (n < size)
    snprintf(buf + n, size - n, "]");
  else
    snprintf(buf + size - 4, 4, "...");
  return buf;
}

/* Elements and bytes of a shape; 0 when the byte count overflows 64 bits. */
static int shape_size(fc_st_dtype dtype, int ndim, const int64_t *shape, uint64_t *numel,
                      uint64_t *nbytes) {
  uint64_t n = 1;
  for (int i = 0; i < ndim; i++)
    if (shape[i] == 0) n = 0;
  for (int i = 0; i < ndim && n; i++) {
    if ((uint64_t)shape[i] > UINT64_MAX / n) return 0;
    n *= (uint64_t)shape[i];
  }
  uint64_t elem = fc_st_dtype_size(dtype);
  if (n > UINT64_MAX / elem) return 0;
  *numel = n;
  *nbytes = n * elem;
  return 1;
}

static int compare_strings(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorts names in place and returns one that appears twice, or NULL. */
static const char *find_duplicate(const char **names, size_t n) {
  if (n < 2) return NULL;
  qsort(names, n, sizeof *names, compare_strings);
  for (size_t i = 1; i < n; i++)
    if (strcmp(names[i - 1], names[i]) == 0) return names[i];
  return NULL;
}

/* ---- writer ------------------------------------------------------------ */

typedef struct write_order {
  size_t index;
  size_t elem;
} write_order;

static int compare_write_order(const void *a, const void *b) {
  const write_order *x = a, *y = b;
  if (x->elem != y->elem) return x->elem > y->elem ? -1 : 1;
  return x->index < y->index ? -1 : x->index > y->index;
}

static fc_status check_write_args(const char *path, const fc_st_tensor *tensors, size_t count,
                                  const char *const *meta_keys, const char *const *meta_values,
                                  size_t meta_count, const char **names) {
  char shape[160];
  if ((count && !tensors) || (meta_count && (!meta_keys || !meta_values)))
    return fc_errorf(FC_ERR_INVALID_ARG,
                     "%s: no tensor or metadata arrays given for a nonzero count", path);
  for (size_t i = 0; i < count; i++) {
    const fc_st_tensor *t = &tensors[i];
    uint64_t numel, nbytes;
    if (!t->name || !t->name[0])
      return fc_errorf(FC_ERR_INVALID_ARG, "%s: tensor %zu has no name", path, i);
    if (!fc_json_valid_utf8(t->name, strlen(t->name)))
      return fc_errorf(FC_ERR_INVALID_ARG, "%s: tensor %zu: the name is not valid UTF-8", path, i);
    if (strcmp(t->name, "__metadata__") == 0)
      return fc_errorf(FC_ERR_INVALID_ARG,
                       "%s: \"__metadata__\" is reserved and cannot name a tensor", path);
    if ((unsigned)t->dtype >= FC_ST_DTYPE_COUNT)
      return fc_errorf(FC_ERR_INVALID_ARG, "%s: tensor %s: invalid dtype %d", path, t->name,
                       (int)t->dtype);
    if (t->ndim < 0 || t->ndim > FC_ST_MAX_DIMS)
      return fc_errorf(FC_ERR_INVALID_ARG,
                       "%s: tensor %s: %d dimensions; safetensors files from fer-cl allow 0 to %d",
                       path, t->name, t->ndim, FC_ST_MAX_DIMS);
    for (int d = 0; d < t->ndim; d++)
      if (t->shape[d] < 0)
        return fc_errorf(FC_ERR_INVALID_ARG, "%s: tensor %s: negative dimension in shape %s", path,
                         t->name, format_shape(shape, sizeof shape, t->ndim, t->shape));
    if (!shape_size(t->dtype, t->ndim, t->shape, &numel, &nbytes) || nbytes > SIZE_MAX)
      return fc_errorf(FC_ERR_INVALID_ARG, "%s: tensor %s: shape %s is too large", path, t->name,
                       format_shape(shape, sizeof shape, t->ndim, t->shape));
    if (nbytes && !t->data)
      return fc_errorf(FC_ERR_INVALID_ARG, "%s: tensor %s has no data", path, t->name);
    names[i] = t->name;
  }
  const char *dup = find_duplicate(names, count);
  if (dup)
    return fc_errorf(FC_ERR_INVALID_ARG, "%s: two tensors are named \"%s\"; names must be unique",
                     path, dup);
  for (size_t i = 0; i < meta_count; i++) {
    if (!meta_keys[i] || !meta_values[i])
      return fc_errorf(FC_ERR_INVALID_ARG, "%s: metadata entry %zu has no key or no value", path,
                       i);
    if (!fc_json_valid_utf8(meta_keys[i], strlen(meta_keys[i])) ||
        !fc_json_valid_utf8(meta_values[i], strlen(meta_values[i])))
      return fc_errorf(FC_ERR_INVALID_ARG, "%s: metadata entry %zu is not valid UTF-8", path, i);
    names[i] = meta_keys[i];
  }
  dup = find_duplicate(names, meta_count);
  if (dup) return fc_errorf(FC_ERR_INVALID_ARG, "%s: metadata key \"%s\" appears twice", path, dup);
  return FC_OK;
}

/* Builds the header (padded with spaces to a multiple of 8) for tensors in order. */
static fc_status build_header(const char *path, const fc_st_tensor *tensors,
                              const write_order *order, size_t count, const char *const *meta_keys,
                              const char *const *meta_values, size_t meta_count, fc_json_buf *buf) {
  fc_json_buf_raw(buf, "{", 1);
  if (meta_count) {
    fc_json_buf_cstr(buf, "\"__metadata__\":{");
    for (size_t i = 0; i < meta_count; i++) {
      if (i) fc_json_buf_raw(buf, ",", 1);
      fc_json_buf_string(buf, meta_keys[i], strlen(meta_keys[i]));
      fc_json_buf_raw(buf, ":", 1);
      fc_json_buf_string(buf, meta_values[i], strlen(meta_values[i]));
    }
    fc_json_buf_raw(buf, "}", 1);
  }
  uint64_t offset = 0;
  for (size_t i = 0; i < count; i++) {
    const fc_st_tensor *t = &tensors[order[i].index];
    uint64_t numel, nbytes;
    shape_size(t->dtype, t->ndim, t->shape, &numel, &nbytes);
    if (i || meta_count) fc_json_buf_raw(buf, ",", 1);
    fc_json_buf_string(buf, t->name, strlen(t->name));
    fc_json_buf_cstr(buf, ":{\"dtype\":\"");
    fc_json_buf_cstr(buf, fc_st_dtype_name(t->dtype));
    fc_json_buf_cstr(buf, "\",\"shape\":[");
    for (int d = 0; d < t->ndim; d++) {
      if (d) fc_json_buf_raw(buf, ",", 1);
      fc_json_buf_int(buf, t->shape[d]);
    }
    fc_json_buf_cstr(buf, "],\"data_offsets\":[");
    fc_json_buf_uint(buf, offset);
    fc_json_buf_raw(buf, ",", 1);
    if (nbytes > UINT64_MAX - offset)
      return fc_errorf(FC_ERR_INVALID_ARG, "%s: the tensors add up to more than 2^64 bytes", path);
    offset += nbytes;
    fc_json_buf_uint(buf, offset);
    fc_json_buf_cstr(buf, "]}");
  }
  fc_json_buf_raw(buf, "}", 1);
  while (!buf->failed && buf->length % 8) fc_json_buf_raw(buf, " ", 1);
  if (buf->failed) return fc_errorf(FC_ERR_NOMEM, "%s: out of memory building the header", path);
  if (buf->length > FC_ST_MAX_HEADER)
    return fc_errorf(FC_ERR_LIMIT,
                     "%s: the header would be %zu bytes, over the %" PRIu64
                     "-byte limit readers accept",
                     path, buf->length, FC_ST_MAX_HEADER);
  return FC_OK;
}

fc_status fc_safetensors_write(const char *path, const fc_st_tensor *tensors, size_t count,
                               const char *const *meta_keys, const char *const *meta_values,
                               size_t meta_count) {
  size_t most = count > meta_count ? count : meta_count;
  const char **names = malloc((most ? most : 1) * sizeof *names);
  write_order *order = malloc((count ? count : 1) * sizeof *order);
  fc_json_buf header = {0};
  fc_status st = names && order ? FC_OK : fc_errorf(FC_ERR_NOMEM, "out of memory writing %s", path);
  if (st == FC_OK)
    st = check_write_args(path, tensors, count, meta_keys, meta_values, meta_count, names);
  if (st == FC_OK) {
    for (size_t i = 0; i < count; i++)
      order[i] = (write_order){i, fc_st_dtype_size(tensors[i].dtype)};
    qsort(order, count, sizeof *order, compare_write_order);
    st = build_header(path, tensors, order, count, meta_keys, meta_values, meta_count, &header);
  }
  fc_atomic_file file;
  if (st == FC_OK) st = fc_atomic_file_open(&file, path);
  if (st == FC_OK) {
    unsigned char length[8];
    for (int i = 0; i < 8; i++) length[i] = (unsigned char)((uint64_t)header.length >> (8 * i));
    st = fc_atomic_file_write(&file, length, sizeof length);
    if (st == FC_OK) st = fc_atomic_file_write(&file, header.data, header.length);
    for (size_t i = 0; i < count && st == FC_OK; i++) {
      const fc_st_tensor *t = &tensors[order[i].index];
      uint64_t numel, nbytes;
      shape_size(t->dtype, t->ndim, t->shape, &numel, &nbytes);
      st = fc_atomic_file_write(&file, t->data, (size_t)nbytes);
    }
    if (st == FC_OK)
      st = fc_atomic_file_commit(&file);
    else
      fc_atomic_file_abort(&file);
  }
  fc_json_buf_free(&header);
  free(names);
  free(order);
  return st;
}

/* ---- reader ------------------------------------------------------------ */

typedef struct entry {
  fc_st_tensor info;
  uint64_t begin, end, numel;
} entry;

struct fc_safetensors {
  char *path;
  int fd;
  uint64_t data_start, data_size;
  fc_json *header; /* names and metadata point into it */
  entry *tensors;  /* sorted by data offset */
  size_t count;
  const fc_json *metadata; /* "__metadata__" object, or NULL */
};

static fc_status read_at(const fc_safetensors *f, void *dst, size_t size, uint64_t offset) {
  unsigned char *p = dst;
  while (size) {
    ssize_t got = pread(f->fd, p, size, (off_t)offset);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return fc_errorf(FC_ERR_IO, "cannot read %s: %s", f->path, strerror(errno));
    if (got == 0)
      return fc_errorf(
          FC_ERR_IO, "%s: the file ended early at byte %" PRIu64 " (was it truncated while open?)",
          f->path, offset);
    p += got;
    size -= (size_t)got;
    offset += (uint64_t)got;
  }
  return FC_OK;
}

/* Reads an array of at most max non-negative integers; 0 if v is not one. */
static int read_uints(const fc_json *v, size_t max, int64_t *out, size_t *n) {
  if (!v || v->type != FC_JSON_ARRAY || v->count > max) return 0;
  for (size_t i = 0; i < v->count; i++) {
    const fc_json *e = &v->items[i];
    if (e->type != FC_JSON_NUMBER || !e->is_integer || e->integer < 0) return 0;
    out[i] = e->integer;
  }
  *n = v->count;
  return 1;
}

static fc_status parse_tensor(fc_safetensors *f, const fc_json_member *m, entry *e) {
  const char *path = f->path, *name = m->key;
  if (m->key_length == 0) return fc_errorf(FC_ERR_FORMAT, "%s: a tensor has an empty name", path);
  if (strlen(name) != m->key_length)
    return fc_errorf(FC_ERR_FORMAT, "%s: tensor name \"%s...\" contains a NUL character", path,
                     name);
  const fc_json *v = &m->value;
  if (v->type != FC_JSON_OBJECT)
    return fc_errorf(
        FC_ERR_FORMAT,
        "%s: tensor %s: expected an object with dtype, shape and data_offsets, found JSON %s", path,
        name, fc_json_type_name(v->type));
  for (size_t i = 0; i < v->count; i++) {
    const char *k = v->members[i].key;
    if (strcmp(k, "dtype") && strcmp(k, "shape") && strcmp(k, "data_offsets"))
      return fc_errorf(FC_ERR_FORMAT, "%s: tensor %s: unknown field \"%s\"", path, name, k);
  }
  const fc_json *dtype = fc_json_get(v, "dtype");
  if (!dtype || dtype->type != FC_JSON_STRING)
    return fc_errorf(FC_ERR_FORMAT, "%s: tensor %s: \"dtype\" is missing or not a string", path,
                     name);
  e->info.dtype = FC_ST_DTYPE_COUNT;
  for (int i = 0; i < FC_ST_DTYPE_COUNT; i++)
    if (strcmp(dtype->string, dtypes[i].name) == 0 && strlen(dtypes[i].name) == dtype->length)
      e->info.dtype = (fc_st_dtype)i;
  if (e->info.dtype == FC_ST_DTYPE_COUNT)
    return fc_errorf(FC_ERR_UNSUPPORTED,
                     "%s: tensor %s: unsupported dtype \"%.40s\" (fer-cl reads F32, F64, F16, "
                     "BF16, I64, I32, I16, I8, U8, BOOL)",
                     path, name, dtype->string);
  size_t ndim = 0, noff = 0;
  int64_t offsets[2];
  const fc_json *shape_json = fc_json_get(v, "shape");
  if (shape_json && shape_json->type == FC_JSON_ARRAY && shape_json->count > FC_ST_MAX_DIMS)
    return fc_errorf(FC_ERR_UNSUPPORTED, "%s: tensor %s: %zu dimensions; fer-cl reads at most %d",
                     path, name, shape_json->count, FC_ST_MAX_DIMS);
  if (!read_uints(shape_json, FC_ST_MAX_DIMS, e->info.shape, &ndim))
    return fc_errorf(FC_ERR_FORMAT,
                     "%s: tensor %s: \"shape\" must be an array of non-negative integers", path,
                     name);
  if (!read_uints(fc_json_get(v, "data_offsets"), 2, offsets, &noff) || noff != 2 ||
      offsets[0] > offsets[1])
    return fc_errorf(FC_ERR_FORMAT,
                     "%s: tensor %s: \"data_offsets\" must be [begin, end] with 0 <= begin <= end",
                     path, name);
  e->info.name = name;
  e->info.ndim = (int)ndim;
  e->begin = (uint64_t)offsets[0];
  e->end = (uint64_t)offsets[1];
  char shape[160];
  uint64_t nbytes;
  if (!shape_size(e->info.dtype, e->info.ndim, e->info.shape, &e->numel, &nbytes))
    return fc_errorf(FC_ERR_FORMAT, "%s: tensor %s: shape %s is too large", path, name,
                     format_shape(shape, sizeof shape, e->info.ndim, e->info.shape));
  if (e->end - e->begin != nbytes)
    return fc_errorf(
        FC_ERR_FORMAT,
        "%s: tensor %s: dtype %s shape %s needs %" PRIu64 " bytes, offsets give %" PRIu64, path,
        name, dtypes[e->info.dtype].name,
        format_shape(shape, sizeof shape, e->info.ndim, e->info.shape), nbytes, e->end - e->begin);
  if (e->end > f->data_size)
    return fc_errorf(FC_ERR_FORMAT,
                     "%s: tensor %s: data_offsets [%" PRIu64 ",%" PRIu64
                     "] go past the end of the %" PRIu64 "-byte data section (truncated file?)",
                     path, name, e->begin, e->end, f->data_size);
  return FC_OK;
}

static fc_status parse_metadata(const fc_safetensors *f, const fc_json *v) {
  if (v->type != FC_JSON_OBJECT)
    return fc_errorf(FC_ERR_FORMAT,
                     "%s: \"__metadata__\" must be an object of strings, found JSON %s", f->path,
                     fc_json_type_name(v->type));
  for (size_t i = 0; i < v->count; i++) {
    const fc_json_member *m = &v->members[i];
    if (m->value.type != FC_JSON_STRING)
      return fc_errorf(FC_ERR_FORMAT,
                       "%s: metadata \"%s\" is JSON %s; metadata values must be strings", f->path,
                       m->key, fc_json_type_name(m->value.type));
    if (strlen(m->key) != m->key_length || strlen(m->value.string) != m->value.length)
      return fc_errorf(FC_ERR_FORMAT, "%s: metadata \"%s\" contains a NUL character", f->path,
                       m->key);
  }
  return FC_OK;
}

static int compare_entries(const void *a, const void *b) {
  const entry *x = a, *y = b;
  if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
  if (x->end != y->end) return x->end < y->end ? -1 : 1;
  return strcmp(x->info.name, y->info.name);
}

/* With tensors sorted by offset, the data section must be tiled exactly. */
static fc_status check_coverage(const fc_safetensors *f) {
  uint64_t covered = 0;
  for (size_t i = 0; i < f->count; i++) {
    const entry *e = &f->tensors[i];
    if (e->begin < covered) {
      const entry *prev = &f->tensors[i - 1];
      return fc_errorf(
          FC_ERR_FORMAT,
          "%s: tensors %s [%" PRIu64 ",%" PRIu64 "] and %s [%" PRIu64 ",%" PRIu64 "] overlap",
          f->path, prev->info.name, prev->begin, prev->end, e->info.name, e->begin, e->end);
    }
    if (e->begin > covered)
      return fc_errorf(FC_ERR_FORMAT,
                       "%s: gap in the data section: bytes [%" PRIu64 ",%" PRIu64
                       ") before tensor %s belong to no tensor",
                       f->path, covered, e->begin, e->info.name);
    covered = e->end;
  }
  if (covered != f->data_size)
    return fc_errorf(FC_ERR_FORMAT,
                     "%s: the data section has %" PRIu64
                     " bytes but the tensors cover only the first %" PRIu64,
                     f->path, f->data_size, covered);
  return FC_OK;
}

static fc_status load(fc_safetensors *f) {
  const char *path = f->path;
  f->fd = open(path, O_RDONLY | O_CLOEXEC);
  if (f->fd < 0) return fc_errorf(FC_ERR_IO, "cannot open %s: %s", path, strerror(errno));
  struct stat sb;
  if (fstat(f->fd, &sb) != 0 || !S_ISREG(sb.st_mode))
    return fc_errorf(FC_ERR_IO, "cannot read %s: not a regular file", path);
  uint64_t file_size = (uint64_t)sb.st_size;
  if (file_size < 8)
    return fc_errorf(FC_ERR_FORMAT,
                     "%s: truncated: %" PRIu64 " bytes, too short for the 8-byte header length",
                     path, file_size);
  unsigned char length[8];
  FC_TRY(read_at(f, length, 8, 0));
  uint64_t n = 0;
  for (int i = 7; i >= 0; i--) n = n << 8 | length[i];
  if (n > FC_ST_MAX_HEADER)
    return fc_errorf(FC_ERR_LIMIT,
                     "%s: header length %" PRIu64 " is over the %" PRIu64
                     "-byte limit (corrupt file, or not safetensors)",
                     path, n, FC_ST_MAX_HEADER);
  if (n > file_size - 8)
    return fc_errorf(FC_ERR_FORMAT,
                     "%s: truncated: header says %" PRIu64 " bytes but the file has %" PRIu64, path,
                     n, file_size - 8);
  f->data_start = 8 + n;
  f->data_size = file_size - 8 - n;
  char *text = malloc(n ? n : 1);
  if (!text) return fc_errorf(FC_ERR_NOMEM, "out of memory reading the header of %s", path);
  fc_status st = read_at(f, text, n, 8);
  fc_json_limits limits = {.max_size = FC_ST_MAX_HEADER, .max_depth = 8};
  if (st == FC_OK)
    st = fc_error_context(fc_json_parse(text, n, &limits, &f->header), "%s: header", path);
  free(text);
  FC_TRY(st);
  const fc_json *root = f->header;
  if (root->type != FC_JSON_OBJECT)
    return fc_errorf(FC_ERR_FORMAT, "%s: the header is JSON %s, expected an object", path,
                     fc_json_type_name(root->type));
  f->tensors = calloc(root->count ? root->count : 1, sizeof *f->tensors);
  if (!f->tensors) return fc_errorf(FC_ERR_NOMEM, "out of memory reading the header of %s", path);
  for (size_t i = 0; i < root->count; i++) {
    const fc_json_member *m = &root->members[i];
    if (strcmp(m->key, "__metadata__") == 0 && m->key_length == 12) {
      FC_TRY(parse_metadata(f, &m->value));
      f->metadata = &m->value;
    } else {
      FC_TRY(parse_tensor(f, m, &f->tensors[f->count++]));
    }
  }
  qsort(f->tensors, f->count, sizeof *f->tensors, compare_entries);
  return check_coverage(f);
}

fc_status fc_safetensors_open(const char *path, fc_safetensors **out) {
  *out = NULL;
  fc_safetensors *f = calloc(1, sizeof *f);
  size_t len = strlen(path);
  if (f) f->path = malloc(len + 1);
  if (!f || !f->path) {
    free(f);
    return fc_errorf(FC_ERR_NOMEM, "out of memory opening %s", path);
  }
  memcpy(f->path, path, len + 1);
  f->fd = -1;
  fc_status st = load(f);
  if (st != FC_OK) {
    fc_safetensors_close(f);
    return st;
  }
  *out = f;
  return FC_OK;
}

void fc_safetensors_close(fc_safetensors *file) {
  if (!file) return;
  if (file->fd >= 0) close(file->fd);
  fc_json_free(file->header);
  free(file->tensors);
  free(file->path);
  free(file);
}

const char *fc_safetensors_path(const fc_safetensors *file) { return file->path; }
size_t fc_safetensors_count(const fc_safetensors *file) { return file->count; }

const fc_st_tensor *fc_safetensors_tensor(const fc_safetensors *file, size_t index) {
  return index < file->count ? &file->tensors[index].info : NULL;
}

uint64_t fc_safetensors_numel(const fc_safetensors *file, size_t index) {
  return index < file->count ? file->tensors[index].numel : 0;
}

uint64_t fc_safetensors_nbytes(const fc_safetensors *file, size_t index) {
  return index < file->count ? file->tensors[index].end - file->tensors[index].begin : 0;
}

fc_status fc_safetensors_find(const fc_safetensors *file, const char *name, size_t *index) {
  for (size_t i = 0; i < file->count; i++)
    if (strcmp(file->tensors[i].info.name, name) == 0) {
      *index = i;
      return FC_OK;
    }
  return fc_errorf(FC_ERR_NOT_FOUND, "%s has no tensor named \"%s\"", file->path, name);
}

static fc_status check_index(const fc_safetensors *file, size_t index) {
  if (index < file->count) return FC_OK;
  return fc_errorf(FC_ERR_INVALID_ARG, "%s: tensor index %zu is out of range (the file has %zu)",
                   file->path, index, file->count);
}

fc_status fc_safetensors_read(fc_safetensors *file, size_t index, void *dst, size_t size) {
  FC_TRY(check_index(file, index));
  const entry *e = &file->tensors[index];
  if (size != e->end - e->begin)
    return fc_errorf(FC_ERR_MISMATCH, "%s: tensor %s has %" PRIu64 " bytes, the destination %zu",
                     file->path, e->info.name, e->end - e->begin, size);
  return read_at(file, dst, size, file->data_start + e->begin);
}

static float half_to_float(uint16_t h) {
  unsigned exponent = h >> 10 & 0x1f, mantissa = h & 0x3ff;
  float magnitude;
  if (exponent == 0x1f)
    magnitude = mantissa ? NAN : INFINITY;
  else if (exponent == 0)
    magnitude = ldexpf((float)mantissa, -24);
  else
    magnitude = ldexpf((float)(mantissa | 0x400), (int)exponent - 25);
  return h & 0x8000 ? -magnitude : magnitude;
}

fc_status fc_safetensors_read_f32(fc_safetensors *file, size_t index, float *dst, size_t count) {
  FC_TRY(check_index(file, index));
  const entry *e = &file->tensors[index];
  fc_st_dtype dtype = e->info.dtype;
  if (dtype != FC_ST_F32 && dtype != FC_ST_F16 && dtype != FC_ST_BF16 && dtype != FC_ST_F64)
    return fc_errorf(FC_ERR_MISMATCH,
                     "%s: tensor %s is %s; only F32, F16, BF16 and F64 convert to F32", file->path,
                     e->info.name, dtypes[dtype].name);
  if (count != e->numel)
    return fc_errorf(FC_ERR_MISMATCH, "%s: tensor %s has %" PRIu64 " elements, the destination %zu",
                     file->path, e->info.name, e->numel, count);
  if (dtype == FC_ST_F32)
    return read_at(file, dst, count * sizeof *dst, file->data_start + e->begin);
  /* Convert in chunks so a large tensor needs no second full-size buffer. */
  unsigned char raw[16384];
  size_t elem = dtypes[dtype].size, per_chunk = sizeof raw / elem;
  for (size_t done = 0; done < count;) {
    size_t n = count - done < per_chunk ? count - done : per_chunk;
    FC_TRY(read_at(file, raw, n * elem, file->data_start + e->begin + done * elem));
    for (size_t i = 0; i < n; i++) {
      const unsigned char *s = raw + i * elem;
      if (dtype == FC_ST_F64) {
        double d;
        memcpy(&d, s, sizeof d);
        dst[done + i] = (float)d;
      } else {
        uint16_t h = (uint16_t)(s[0] | s[1] << 8);
        if (dtype == FC_ST_F16) {
          dst[done + i] = half_to_float(h);
        } else {
          uint32_t bits = (uint32_t)h << 16;
          memcpy(&dst[done + i], &bits, sizeof bits);
        }
      }
    }
    done += n;
  }
  return FC_OK;
}

const char *fc_safetensors_metadata(const fc_safetensors *file, const char *key) {
  const fc_json *v = fc_json_get(file->metadata, key);
  return v ? v->string : NULL;
}

size_t fc_safetensors_metadata_count(const fc_safetensors *file) {
  return file->metadata ? file->metadata->count : 0;
}

fc_status fc_safetensors_metadata_at(const fc_safetensors *file, size_t index, const char **key,
                                     const char **value) {
  if (index >= fc_safetensors_metadata_count(file))
    return fc_errorf(FC_ERR_INVALID_ARG, "%s: metadata index %zu is out of range", file->path,
                     index);
  *key = file->metadata->members[index].key;
  *value = file->metadata->members[index].value.string;
  return FC_OK;
}
