/* C twin of fc_rng in cl/prelude.cl: Philox-4x32-10 with integer arithmetic
 * only, bit-identical to the device. */
#include "ops/ref/ref.h"
#include "ops/ref/rng.h"

void fc_philox(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3, uint32_t k0, uint32_t k1,
               uint32_t out[4]) {
  for (int round = 0; round < 10; round++) {
    if (round > 0) {
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    const uint64_t p0 = (uint64_t)0xD2511F53u * c0, p1 = (uint64_t)0xCD9E8D57u * c2;
    const uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0, n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
    c0 = n0;
    c1 = (uint32_t)p1;
    c2 = n2;
    c3 = (uint32_t)p0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

uint32_t fc_philox_below(uint32_t word, uint32_t range) {
  return (uint32_t)(((uint64_t)word * range) >> 32);
}

uint32_t fc_philox_stream(uint32_t kind, uint32_t instance) {
  return kind << 24 | (instance & 0xffffffu);
}

uint32_t fc_philox_prob_threshold(float p) {
  if (!(p > 0.0f)) return 0; /* also NaN */
  if (p >= 1.0f) return 1u << 24;
  return (uint32_t)((double)p * 16777216.0);
}

void fc_ref_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]) {
  fc_philox(ctr[0], ctr[1], ctr[2], ctr[3], key[0], key[1], out);
}

uint32_t fc_ref_rng_u32(uint64_t seed, uint32_t index, uint32_t stream) {
  uint32_t out[4];
  fc_philox(index, stream, 0, 0, (uint32_t)seed, (uint32_t)(seed >> 32), out);
  return out[0];
}
