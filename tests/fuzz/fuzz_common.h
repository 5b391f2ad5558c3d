/* Shared pieces of the fuzz targets. Each fuzz_<name>.c defines
 * LLVMFuzzerTestOneInput; it is linked either with libFuzzer (meson
 * -Dfuzzing=true, clang) or with standalone.c, which replays files, the
 * built-in seeds (tools/fuzz/seeds.c) and deterministic mutations of them. */
#ifndef FERCL_TESTS_FUZZ_COMMON_H
#define FERCL_TESTS_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Once per process: silences fer-cl's log (warnings about skipped images
 * would flood the output). Cheap to call on every input. */
void fc_fuzz_init(void);

/* A scratch folder private to this process (on /dev/shm when it exists),
 * removed at exit. */
const char *fc_fuzz_dir(void);

/* Writes data to fc_fuzz_dir()/name (creating parent folders) and returns the
 * full path (in buf). Aborts when the file cannot be written: that is the
 * harness failing, not the code under test. */
const char *fc_fuzz_write(const char *name, const void *data, size_t size, char *buf,
                          size_t buf_size);

/* A property the code under test must keep: a failed one is a finding. */
#define FC_FUZZ_CHECK(cond, ...)                                                      \
  do {                                                                                \
    if (!(cond)) {                                                                    \
      fprintf(stderr, "fuzz check failed at %s:%d: %s: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                                                   \
      fputc('\n', stderr);                                                            \
      abort();                                                                        \
    }                                                                                 \
  } while (0)

#endif
