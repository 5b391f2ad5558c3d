/* Prepended to every fer-cl program: shared helpers and defaults.
 * Kernels are OpenCL C 1.2. Host-provided -D constants always include
 * FC_DEVICE_CPU (1 on CPU devices, 0 otherwise). */
#ifndef FC_DEVICE_CPU
#define FC_DEVICE_CPU 0
#endif

/* Σ_r a[r·cols + col] for r = 0..rows−1, in row order (deterministic): a column of a
 * row-major matrix. */
float fc_column_sum(__global const float *a, const uint rows, const uint cols, const uint col) {
  float acc = 0.0f;
  for (uint r = 0; r < rows; r++) acc += a[r * cols + col];
  return acc;
}

/* ---- fc_rng: counter-based random numbers (the C twin is src/ops/ref/rng.c) ----
 * Philox-4x32-10 (Salmon, Moraes, Dror, Shaw, SC'11): four 32-bit words that are a
 * bijection of a 128-bit counter under a 64-bit key. Stateless, so every work-item
 * draws independently, and the C twin reproduces every word bit for bit (integer
 * arithmetic only). Convention for fer-cl draws:
 *   key     = the run's 64-bit seed (low word, high word)
 *   counter = (index, step low, step high, stream),  stream = kind << 24 | instance
 * so a draw is reproducible from (seed, step, index) and independent per use. */
#define FC_RNG_STREAM_RFD 1u /* random feature-map dropout; instance = layer */
#define FC_RNG_STREAM_SNL 2u /* SNL `random` negatives */

void fc_philox(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1, uint *out) {
  for (int round = 0; round < 10; round++) {
    if (round > 0) {
      k0 += 0x9E3779B9u; /* key schedule: Weyl sequence */
      k1 += 0xBB67AE85u;
    }
    const uint lo0 = 0xD2511F53u * c0, hi0 = mul_hi(0xD2511F53u, c0);
    const uint lo1 = 0xCD9E8D57u * c2, hi1 = mul_hi(0xCD9E8D57u, c2);
    const uint n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
    c0 = n0;
    c1 = lo1;
    c2 = n2;
    c3 = lo0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

/* Uniform integer in [0, range): floor(word · range / 2^32). */
uint fc_philox_below(uint word, uint range) { return mul_hi(word, range); }

/* Dropout's draws: the first word of Philox for counter (index, stream, 0, 0)
 * under the 64-bit seed (lo, hi); dropout mixes the step into its seed. */
uint fc_rng_u32(uint seed_lo, uint seed_hi, uint index, uint stream) {
  uint r[4];
  fc_philox(index, stream, 0u, 0u, seed_lo, seed_hi, r);
  return r[0];
}

/* 24-bit uniform in [0, 1): exact in float and double, so host and device
 * comparisons against a threshold agree. */
float fc_rng_uniform24(uint r) { return (float)(r >> 8) * (1.0f / 16777216.0f); }
/* ---- end of fc_rng ---- */
