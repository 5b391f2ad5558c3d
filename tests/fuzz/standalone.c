/* main() for the fuzz targets without libFuzzer: replays inputs so that the
 * targets run in the normal test suites (and under the sanitizer build).
 *
 *   fuzz_NAME_replay [--seeds] [--mutate N] [FILE|DIR ...]
 *
 * --seeds runs the target's built-in seeds (tools/fuzz/seeds.c); FILE and
 * DIR (every regular file in it) add inputs, e.g. the regression inputs in
 * tests/fuzz/regress/NAME and a libFuzzer corpus; --mutate N also runs N
 * deterministic mutations of every input (bit flips, interesting bytes and
 * numbers, cuts, repeats): a fuzz smoke run cheap enough for CI. A finding
 * aborts (sanitizer report or FC_FUZZ_CHECK message) and the exit status is
 * non-zero. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fercl/fileio.h"
#include "fuzz_common.h"
#include "seeds.h"

#ifndef FUZZ_TARGET
#error "define FUZZ_TARGET as the target's name"
#endif

typedef struct input {
  char *name;
  uint8_t *data;
  size_t size;
} input;

typedef struct input_list {
  input *items;
  size_t count, cap;
} input_list;

static void add_input(input_list *l, const char *name, const uint8_t *data, size_t size) {
  if (l->count == l->cap) {
    l->cap = l->cap ? 2 * l->cap : 32;
    l->items = realloc(l->items, l->cap * sizeof *l->items);
    if (!l->items) abort();
  }
  input *in = &l->items[l->count++];
  in->name = strdup(name);
  in->data = malloc(size ? size : 1);
  if (!in->name || !in->data) abort();
  if (size) memcpy(in->data, data, size);
  in->size = size;
}

static void on_seed(const char *name, const uint8_t *data, size_t size, void *user) {
  char label[300];
  snprintf(label, sizeof label, "seed:%s", name);
  add_input(user, label, data, size);
}

static int add_file(input_list *l, const char *path) {
  char *data = NULL;
  size_t size = 0;
  if (fc_file_read_all(path, (size_t)1 << 28, &data, &size) != FC_OK) {
    fprintf(stderr, "%s\n", fc_last_error());
    return 0;
  }
  add_input(l, path, (const uint8_t *)data, size);
  free(data);
  return 1;
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_path(input_list *l, const char *path) {
  struct stat sb;
  if (stat(path, &sb) != 0) {
    fprintf(stderr, "cannot read %s\n", path);
    return 0;
  }
  if (!S_ISDIR(sb.st_mode)) return add_file(l, path);
  DIR *d = opendir(path);
  if (!d) return 0;
  char **names = NULL;
  size_t n = 0, cap = 0;
  for (struct dirent *e; (e = readdir(d));) {
    if (e->d_name[0] == '.') continue;
    if (n == cap) {
      cap = cap ? 2 * cap : 64;
      names = realloc(names, cap * sizeof *names);
      if (!names) abort();
    }
    if (asprintf(&names[n++], "%s/%s", path, e->d_name) < 0) abort();
  }
  closedir(d);
  qsort(names, n, sizeof *names, by_name);
  int ok = 1;
  for (size_t i = 0; i < n; i++) {
    if (stat(names[i], &sb) == 0 && S_ISREG(sb.st_mode)) ok &= add_file(l, names[i]);
    free(names[i]);
  }
  free(names);
  return ok;
}

/* ---- deterministic mutations ---- */

static uint64_t next(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static size_t below(uint64_t *s, size_t n) { return n ? (size_t)(next(s) % n) : 0; }

/* Text that tends to break parsers: boundaries, huge counts, separators. */
static const char *const tokens[] = {"0",
                                     "-1",
                                     "255",
                                     "256",
                                     "65535",
                                     "4294967296",
                                     "9223372036854775807",
                                     "99999999999999999999",
                                     "1e308",
                                     "-0",
                                     "nan",
                                     "inf",
                                     ",",
                                     "\n",
                                     "\"",
                                     "\\",
                                     "\t",
                                     " ",
                                     "#",
                                     "=",
                                     "[",
                                     "]",
                                     "{",
                                     "}",
                                     ":",
                                     "\\u0000",
                                     "\xff",
                                     "..",
                                     "/",
                                     "\r\n"};

static size_t mutate(const uint8_t *src, size_t size, uint8_t *dst, size_t cap, uint64_t *rng) {
  size_t n = size < cap ? size : cap;
  memcpy(dst, src, n);
  int ops = 1 + (int)below(rng, 4);
  for (int k = 0; k < ops; k++) {
    switch (below(rng, 7)) {
    case 0: /* flip a bit */
      if (n) dst[below(rng, n)] ^= (uint8_t)(1u << below(rng, 8));
      break;
    case 1: { /* an interesting byte */
      static const uint8_t v[] = {0, 1, 0x7f, 0x80, 0xff, '0', '9', ',', '\n', '"', ' '};
      if (n) dst[below(rng, n)] = v[below(rng, sizeof v)];
      break;
    }
    case 2: /* cut the end */ n = below(rng, n + 1); break;
    case 3: { /* delete a range */
      if (!n) break;
      size_t a = below(rng, n), len = 1 + below(rng, n - a < 64 ? n - a : 64);
      memmove(dst + a, dst + a + len, n - a - len);
      n -= len;
      break;
    }
    case 4: { /* repeat a range */
      if (!n) break;
      size_t a = below(rng, n), len = 1 + below(rng, n - a < 256 ? n - a : 256);
      if (n + len > cap) break;
      memmove(dst + a + len, dst + a, n - a);
      n += len;
      break;
    }
    case 5: { /* insert a token */
      const char *t = tokens[below(rng, sizeof tokens / sizeof tokens[0])];
      size_t len = strlen(t), at = below(rng, n + 1);
      if (n + len > cap) break;
      memmove(dst + at + len, dst + at, n - at);
      memcpy(dst + at, t, len);
      n += len;
      break;
    }
    case 6: /* overwrite 8 bytes with a random word (binary headers, lengths) */
      if (n >= 8) {
        uint64_t w = next(rng);
        size_t at = below(rng, n - 7);
        if (below(rng, 2)) w >>= 8 * below(rng, 8); /* small values too */
        memcpy(dst + at, &w, 8);
      }
      break;
    }
  }
  return n;
}

int main(int argc, char **argv) {
  input_list inputs = {0};
  long mutations = 0;
  int ok = 1;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--seeds")) {
      if (fc_fuzz_seeds(FUZZ_TARGET, on_seed, &inputs) != FC_OK) {
        fprintf(stderr, "seeds: %s\n", fc_last_error());
        return 1;
      }
    } else if (!strcmp(argv[i], "--mutate") && i + 1 < argc) {
      mutations = strtol(argv[++i], NULL, 10);
    } else if (argv[i][0] == '-') {
      fprintf(stderr, "usage: %s [--seeds] [--mutate N] [FILE|DIR ...]\n", argv[0]);
      return 2;
    } else {
      ok &= add_path(&inputs, argv[i]);
    }
  }
  if (!ok) return 1;
  if (inputs.count == 0) {
    fprintf(stderr, "%s: no inputs (give --seeds, files or folders)\n", argv[0]);
    return 2;
  }
  const int verbose = getenv("FERCL_FUZZ_VERBOSE") != NULL;
  long runs = 0;
  for (size_t i = 0; i < inputs.count; i++) {
    const input *in = &inputs.items[i];
    if (verbose) fprintf(stderr, "%s (%zu bytes)\n", in->name, in->size);
    LLVMFuzzerTestOneInput(in->data, in->size);
    runs++;
    size_t cap = in->size + 4096;
    uint8_t *buf = malloc(cap);
    if (!buf) abort();
    uint64_t rng = 0x5eed0000ull + i;
    for (long m = 0; m < mutations; m++) {
      size_t n = mutate(in->data, in->size, buf, cap, &rng);
      /* An exact-size copy, so reads past the end trip AddressSanitizer. */
      uint8_t *exact = malloc(n ? n : 1);
      if (!exact) abort();
      memcpy(exact, buf, n);
      LLVMFuzzerTestOneInput(exact, n);
      free(exact);
      runs++;
    }
    free(buf);
  }
  printf("fuzz_%s: %ld inputs (%zu given, %ld mutations each), no findings\n", FUZZ_TARGET, runs,
         inputs.count, mutations);
  for (size_t i = 0; i < inputs.count; i++) {
    free(inputs.items[i].name);
    free(inputs.items[i].data);
  }
  free(inputs.items);
  return 0;
}
