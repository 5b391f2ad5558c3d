/* Prepended to every fer-cl program: shared helpers and defaults.
 * Kernels are OpenCL C 1.2. Host-provided -D constants always include
 * FC_DEVICE_CPU (1 on CPU devices, 0 otherwise). */
#ifndef FC_DEVICE_CPU
#define FC_DEVICE_CPU 0
#endif

/* ---- counter-based RNG: Philox-4x32-10 (Salmon et al., SC'11) ----
 * Self-contained block, shared by every op that draws random numbers
 * (dropout, DropBlock, ...). Its bit-exact C twin is src/ops/ref/rng.c
 * (fc_ref_philox4x32_10), so a reference draws the same numbers as the
 * device. Each (key, counter) pair gives four independent 32-bit words;
 * ops use key = 64-bit seed, counter = (element index, stream, 0, 0). */
uint4 fc_philox4x32_10(uint4 ctr, uint2 key) {
  for (int round = 0; round < 10; round++) {
    if (round > 0) {
      key.x += 0x9E3779B9u;
      key.y += 0xBB67AE85u;
    }
    const uint lo0 = 0xD2511F53u * ctr.x, hi0 = mul_hi(0xD2511F53u, ctr.x);
    const uint lo1 = 0xCD9E8D57u * ctr.z, hi1 = mul_hi(0xCD9E8D57u, ctr.z);
    ctr = (uint4)(hi1 ^ ctr.y ^ key.x, lo1, hi0 ^ ctr.w ^ key.y, lo0);
  }
  return ctr;
}

/* First word of Philox for (seed, index, stream); seed split into (lo, hi). */
uint fc_rng_u32(uint seed_lo, uint seed_hi, uint index, uint stream) {
  return fc_philox4x32_10((uint4)(index, stream, 0u, 0u), (uint2)(seed_lo, seed_hi)).x;
}

/* 24-bit uniform in [0, 1): exact in float and double, so host and device
 * comparisons against a threshold agree. */
float fc_rng_uniform24(uint r) { return (float)(r >> 8) * (1.0f / 16777216.0f); }
/* ---- end of RNG block ---- */
