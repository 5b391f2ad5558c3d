/* Non-cryptographic 64-bit hashing (FNV-1a) for cache keys and checksums. */
#ifndef FERCL_CORE_HASH_H
#define FERCL_CORE_HASH_H

#include <stddef.h>
#include <stdint.h>

#define FC_HASH_INIT 0xcbf29ce484222325ULL

uint64_t fc_hash_bytes(uint64_t h, const void *data, size_t size);
uint64_t fc_hash_string(uint64_t h,
                        const char *s); /* includes the terminator, so "a","b" != "ab" */

#endif
