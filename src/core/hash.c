#include "core/hash.h"

#include <string.h>

uint64_t fc_hash_bytes(uint64_t h, const void *data, size_t size) {
  const unsigned char *p = data;
  for (size_t i = 0; i < size; i++) {
    h ^= p[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

uint64_t fc_hash_string(uint64_t h, const char *s) {
  return fc_hash_bytes(h, s ? s : "", s ? strlen(s) + 1 : 1);
}
