/* Fuzz target: the safetensors reader. Opens the file, reads every tensor
 * (raw and, for float dtypes, as F32) and, when the file is accepted, writes
 * it back with fc_safetensors_write and checks that the copy reads back the
 * same: names, dtypes, shapes, bytes and metadata. */
#include <string.h>

#include "fercl/safetensors.h"
#include "fuzz_common.h"

static int is_float(fc_st_dtype d) {
  return d == FC_ST_F32 || d == FC_ST_F64 || d == FC_ST_F16 || d == FC_ST_BF16;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fc_fuzz_init();
  char path[1024], copy_path[1024];
  fc_fuzz_write("in.safetensors", data, size, path, sizeof path);
  snprintf(copy_path, sizeof copy_path, "%s/copy.safetensors", fc_fuzz_dir());
  fc_safetensors *f = NULL;
  if (fc_safetensors_open(path, &f) != FC_OK) {
    FC_FUZZ_CHECK(f == NULL, "handle left behind after a failure");
    return 0;
  }
  size_t n = fc_safetensors_count(f);
  uint64_t total = 0;
  fc_st_tensor *t = calloc(n ? n : 1, sizeof *t);
  void **buf = calloc(n ? n : 1, sizeof *buf);
  FC_FUZZ_CHECK(t && buf, "out of memory");
  for (size_t i = 0; i < n; i++) {
    const fc_st_tensor *ti = fc_safetensors_tensor(f, i);
    uint64_t nbytes = fc_safetensors_nbytes(f, i);
    total += nbytes;
    FC_FUZZ_CHECK(total <= size, "tensors claim %llu bytes of a %zu-byte file",
                  (unsigned long long)total, size);
    FC_FUZZ_CHECK(nbytes == fc_safetensors_numel(f, i) * fc_st_dtype_size(ti->dtype), "size of %s",
                  ti->name);
    buf[i] = malloc(nbytes ? nbytes : 1);
    FC_FUZZ_CHECK(buf[i] != NULL, "out of memory");
    FC_FUZZ_CHECK(fc_safetensors_read(f, i, buf[i], nbytes) == FC_OK, "read %s: %s", ti->name,
                  fc_last_error());
    if (is_float(ti->dtype)) {
      uint64_t numel = fc_safetensors_numel(f, i);
      float *fl = malloc(numel ? numel * sizeof(float) : 1);
      FC_FUZZ_CHECK(fl != NULL, "out of memory");
      FC_FUZZ_CHECK(fc_safetensors_read_f32(f, i, fl, numel) == FC_OK, "read_f32 %s: %s", ti->name,
                    fc_last_error());
      free(fl);
    }
    t[i] = *ti;
    t[i].data = buf[i];
  }
  size_t m = fc_safetensors_metadata_count(f);
  const char **keys = calloc(m ? m : 1, sizeof *keys), **values = calloc(m ? m : 1, sizeof *values);
  FC_FUZZ_CHECK(keys && values, "out of memory");
  for (size_t i = 0; i < m; i++)
    FC_FUZZ_CHECK(fc_safetensors_metadata_at(f, i, &keys[i], &values[i]) == FC_OK, "metadata %zu",
                  i);

  /* What was accepted must write back and read back identically. */
  fc_status st = fc_safetensors_write(copy_path, t, n, keys, values, m);
  FC_FUZZ_CHECK(st == FC_OK, "an accepted file does not write back: %s", fc_last_error());
  fc_safetensors *g = NULL;
  st = fc_safetensors_open(copy_path, &g);
  FC_FUZZ_CHECK(st == FC_OK, "the written copy does not read back: %s", fc_last_error());
  FC_FUZZ_CHECK(fc_safetensors_count(g) == n && fc_safetensors_metadata_count(g) == m,
                "counts differ");
  for (size_t i = 0; i < n; i++) {
    size_t j = 0;
    FC_FUZZ_CHECK(fc_safetensors_find(g, t[i].name, &j) == FC_OK, "%s missing in the copy",
                  t[i].name);
    const fc_st_tensor *u = fc_safetensors_tensor(g, j);
    FC_FUZZ_CHECK(u->dtype == t[i].dtype && u->ndim == t[i].ndim &&
                      !memcmp(u->shape, t[i].shape, sizeof(int64_t) * (size_t)t[i].ndim),
                  "%s changed dtype or shape", t[i].name);
    uint64_t nbytes = fc_safetensors_nbytes(g, j);
    void *back = malloc(nbytes ? nbytes : 1);
    FC_FUZZ_CHECK(back && fc_safetensors_read(g, j, back, nbytes) == FC_OK, "read back %s",
                  t[i].name);
    FC_FUZZ_CHECK(!memcmp(back, buf[i], nbytes), "%s changed bytes", t[i].name);
    free(back);
  }
  for (size_t i = 0; i < m; i++) {
    const char *v = fc_safetensors_metadata(g, keys[i]);
    FC_FUZZ_CHECK(v && !strcmp(v, values[i]), "metadata %s changed", keys[i]);
  }
  fc_safetensors_close(g);
  for (size_t i = 0; i < n; i++) free(buf[i]);
  free(buf);
  free(t);
  free(keys);
  free(values);
  fc_safetensors_close(f);
  return 0;
}
