/* Selective negative learning on the device (METHOD §5): per sample, the negative set
 * N_b ("not class c") and, for logging, whether it holds the true label. q: the
 * teacher's probabilities [B][C]; orders over classes break ties towards the lowest
 * index. One work-item per sample. */

/* Rank of class c in row qr: how many classes come before it in the order
 * (value descending, index ascending). c is in the top-k iff rank < k. */
uint snl_rank(__global const float *qr, const uint C, const uint c) {
  const float v = qr[c];
  uint r = 0;
  for (uint j = 0; j < C; j++) r += (qr[j] > v || (qr[j] == v && j < c)) ? 1u : 0u;
  return r;
}

#define SNL_THRESH 0
#define SNL_TOPK 1
#define SNL_RANDOM 2

/* Per sample: the negative set N_b as a 0/1 row, and its size.
 *   THRESH: q < tau_n and rank ≥ 2 (never the top-2)
 *   TOPK:   rank ≥ k and student p ≤ cap
 *   RANDOM: one member of the THRESH set, uniform, from fc_rng
 * Samples with mask_b ≠ 0 get none (has_mask 0: every sample is eligible). */
__kernel void snl_negatives(__global const float *q, const uint q_off, __global const float *mask,
                      const uint m_off, const uint has_mask, __global const float *sp,
                      const uint sp_off, const uint B, const uint C, const int mode,
                      const float tau_n, const uint k, const float cap, const uint key0,
                      const uint key1, const uint step_lo, const uint step_hi, const uint stream,
                      __global int *neg, const uint n_off, __global int *count, const uint c_off) {
  const uint b = get_global_id(0);
  if (b >= B) return;
  __global const float *qr = q + q_off + b * C;
  __global int *nr = neg + n_off + b * C;
  const int eligible = !has_mask || mask[m_off + b] == 0.0f;
  uint total = 0;
  for (uint c = 0; c < C; c++) {
    int is_neg = 0;
    if (eligible) {
      const uint rank = snl_rank(qr, C, c);
      if (mode == SNL_TOPK)
        is_neg = rank >= k && !(sp[sp_off + b * C + c] > cap);
      else
        is_neg = qr[c] < tau_n && rank >= 2;
    }
    nr[c] = is_neg;
    total += (uint)is_neg;
  }
  if (mode == SNL_RANDOM && total > 0) {
    uint r[4];
    fc_philox(b, step_lo, step_hi, stream, key0, key1, r);
    const uint pick = fc_philox_below(r[0], total);
    uint seen = 0;
    for (uint c = 0; c < C; c++) {
      if (!nr[c]) continue;
      nr[c] = seen == pick;
      seen++;
    }
    total = 1;
  }
  count[c_off + b] = (int)total;
}

/* hits_b = 1 when the true label is among the negatives (label outside 0..C−1: 0). */
__kernel void snl_hits(__global const int *neg, const uint n_off, __global const int *labels,
                           const uint l_off, const uint B, const uint C, __global int *hits,
                           const uint h_off) {
  const uint b = get_global_id(0);
  if (b >= B) return;
  const int y = labels[l_off + b];
  hits[h_off + b] = (y >= 0 && y < (int)C) ? (neg[n_off + b * C + (uint)y] != 0) : 0;
}
