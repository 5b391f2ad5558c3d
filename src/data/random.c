/* Counter-based randomness: every random choice of the pipeline is derived
 * from (seed, stream, counters), never from a shared generator, so results do
 * not depend on which thread computes what, or in which order. */
#include "data/internal.h"

static inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t fc_rng_key(uint64_t seed, uint64_t stream, uint64_t a, uint64_t b) {
  uint64_t h = mix64(seed + 0x9e3779b97f4a7c15ULL);
  h = mix64(h + stream + 0x632be59bd9b4e019ULL);
  h = mix64(h + a + 0x8cb92ba72f3d8dd7ULL);
  return mix64(h + b + 0xd6e8feb86659fd93ULL);
}

uint64_t fc_rng_next(uint64_t *state) {
  *state += 0x9e3779b97f4a7c15ULL;
  return mix64(*state);
}

uint64_t fc_rng_below(uint64_t *state, uint64_t n) {
  if (n <= 1) return 0;
  /* Lemire's multiply-and-reject: unbiased. */
  uint64_t x = fc_rng_next(state);
  unsigned __int128 m = (unsigned __int128)x * n;
  uint64_t low = (uint64_t)m;
  if (low < n) {
    uint64_t threshold = (0 - n) % n;
    while (low < threshold) {
      x = fc_rng_next(state);
      m = (unsigned __int128)x * n;
      low = (uint64_t)m;
    }
  }
  return (uint64_t)(m >> 64);
}

double fc_rng_uniform(uint64_t *state) {
  return (double)(fc_rng_next(state) >> 11) * (1.0 / 9007199254740992.0);
}

int64_t fc_permute(uint64_t key, int64_t n, int64_t i) {
  if (n <= 1) return 0;
  int bits = 2;
  while (bits < 62 && ((int64_t)1 << bits) < n) bits++;
  if (bits & 1) bits++;
  const int half = bits / 2;
  const uint64_t mask = ((uint64_t)1 << half) - 1;
  uint64_t x = (uint64_t)i;
  do {
    uint64_t L = x >> half, R = x & mask;
    for (uint64_t round = 0; round < 4; round++) {
      uint64_t F = mix64(key + round * 0xa0761d6478bd642fULL + R) & mask;
      uint64_t nl = R;
      R = L ^ F;
      L = nl;
    }
    x = (L << half) | R;
  } while (x >= (uint64_t)n); /* cycle walking: stays a bijection on [0, n) */
  return (int64_t)x;
}
