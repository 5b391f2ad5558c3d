/* Pseudo-label selection, SNL negative sets and DTA thresholds on the device
 * (METHOD §3–§5). q: the teacher's probabilities [B][C]. Orders over classes break
 * ties towards the lowest index. One work-item per sample (or per class); sums over
 * the batch run in sample order, so every result is deterministic. */

/* conf_b = max_c q_b(c), argmax_b = first maximal class. */
__kernel void sel_confidence(__global const float *q, const uint q_off, const uint B, const uint C,
                             __global float *conf, const uint conf_off, __global int *arg,
                             const uint arg_off) {
  const uint b = get_global_id(0);
  if (b >= B) return;
  __global const float *qr = q + q_off + b * C;
  float best = qr[0];
  int best_c = 0;
  for (uint c = 1; c < C; c++)
    if (qr[c] > best) {
      best = qr[c];
      best_c = (int)c;
    }
  conf[conf_off + b] = best;
  arg[arg_off + b] = best_c;
}

/* mask_b = conf_b ≥ tau[argmax_b] (0 for an argmax outside 0..C−1). */
__kernel void sel_threshold_mask(__global const float *conf, const uint conf_off,
                                 __global const int *arg, const uint arg_off,
                                 __global const float *tau, const uint tau_off, const uint B,
                                 const uint C, __global float *mask, const uint mask_off) {
  const uint b = get_global_id(0);
  if (b >= B) return;
  const int a = arg[arg_off + b];
  mask[mask_off + b] =
      (a >= 0 && a < (int)C && conf[conf_off + b] >= tau[tau_off + a]) ? 1.0f : 0.0f;
}

/* Rank of class c in row qr: how many classes come before it in the order
 * (value descending, index ascending). c is in the top-k iff rank < k. */
uint sel_rank(__global const float *qr, const uint C, const uint c) {
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
__kernel void sel_snl(__global const float *q, const uint q_off, __global const float *mask,
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
      const uint rank = sel_rank(qr, C, c);
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
__kernel void sel_snl_hits(__global const int *neg, const uint n_off, __global const int *labels,
                           const uint l_off, const uint B, const uint C, __global int *hits,
                           const uint h_off) {
  const uint b = get_global_id(0);
  if (b >= B) return;
  const int y = labels[l_off + b];
  hits[h_off + b] = (y >= 0 && y < (int)C) ? (neg[n_off + b * C + (uint)y] != 0) : 0;
}

/* One work-item per output j: stats[0] = mean_b conf_b, stats[1 + c] = mean_b q_b(c). */
__kernel void sel_batch_stats(__global const float *q, const uint q_off, __global const float *conf,
                              const uint conf_off, const uint B, const uint C,
                              __global float *stats, const uint s_off) {
  const uint j = get_global_id(0);
  if (j > C) return;
  float acc = 0.0f;
  if (j == 0)
    for (uint b = 0; b < B; b++) acc += conf[conf_off + b];
  else
    for (uint b = 0; b < B; b++) acc += q[q_off + b * C + (j - 1)];
  stats[s_off + j] = acc / (float)B;
}

/* τ(c) from state [g, p̃[C], τ[C]] with β(c) = p̃(c)/max p̃:
 *   rescale = 0 (freematch-fer):      τ(c) = clamp(g·β(c), tau_min, tau_max)
 *   rescale ≠ 0 (freematch-rescaled): τ(c) = tau_min + (tau_max − tau_min)·g·β(c)
 * The second maps FreeMatch's [0, 1] range onto [tau_min, tau_max] instead of cutting
 * it, so a high floor keeps the classes apart. */
void sel_dta_tau(__global float *st, const uint C, const float tau_min, const float tau_max,
                 const uint rescale) {
  float mx = st[1];
  for (uint c = 1; c < C; c++) mx = fmax(mx, st[1 + c]);
  for (uint c = 0; c < C; c++) {
    const float gb = mx > 0.0f ? st[0] * st[1 + c] / mx : 1.0f;
    st[1 + C + c] = rescale ? tau_min + (tau_max - tau_min) * clamp(gb, 0.0f, 1.0f)
                            : (mx > 0.0f ? clamp(gb, tau_min, tau_max) : tau_max);
  }
}

/* One work-item: freematch-fer state update (init when init ≠ 0: g = p̃ = 1/C). */
__kernel void sel_dta_update(__global const float *stats, const uint s_off, const uint C,
                             const float m, const float tau_min, const float tau_max,
                             const uint init, const uint rescale, __global float *state,
                             const uint st_off) {
  if (get_global_id(0) != 0) return;
  __global float *st = state + st_off;
  if (init) {
    for (uint c = 0; c <= C; c++) st[c] = 1.0f / (float)C;
  } else {
    st[0] = m * st[0] + (1.0f - m) * stats[s_off];
    for (uint c = 0; c < C; c++) st[1 + c] = m * st[1 + c] + (1.0f - m) * stats[s_off + 1 + c];
  }
  sel_dta_tau(st, C, tau_min, tau_max, rescale);
}

/* Distribution alignment (ReMixMatch), state [prior[C], pbar[C]]. One work-item per
 * class: pbar(c) ← m·pbar(c) + (1−m)·mean_b q_b(c), summed in sample order. */
__kernel void sel_da_update(__global const float *q, const uint q_off, const uint B,
                            const uint C, const float m, __global float *state,
                            const uint st_off) {
  const uint c = get_global_id(0);
  if (c >= C) return;
  float acc = 0.0f;
  for (uint b = 0; b < B; b++) acc += q[q_off + b * C + c];
  __global float *pbar = state + st_off + C;
  pbar[c] = m * pbar[c] + (1.0f - m) * (acc / (float)B);
}

/* One work-item per sample: out_b(c) = q_b(c)·prior(c)/pbar(c), renormalised to sum 1
 * (pbar floored at FC_DA_PBAR_MIN; a row whose products sum to 0 is copied).
 * out may alias q. */
#define FC_DA_PBAR_MIN 1e-6f
__kernel void sel_da_apply(__global const float *q, const uint q_off, const uint B,
                           const uint C, __global const float *state, const uint st_off,
                           __global float *out, const uint out_off) {
  const uint b = get_global_id(0);
  if (b >= B) return;
  __global const float *qr = q + q_off + b * C;
  __global float *orow = out + out_off + b * C;
  __global const float *prior = state + st_off, *pbar = state + st_off + C;
  float sum = 0.0f;
  for (uint c = 0; c < C; c++) sum += qr[c] * prior[c] / fmax(pbar[c], FC_DA_PBAR_MIN);
  if (!(sum > 0.0f)) {
    for (uint c = 0; c < C; c++) orow[c] = qr[c];
    return;
  }
  for (uint c = 0; c < C; c++) orow[c] = qr[c] * prior[c] / fmax(pbar[c], FC_DA_PBAR_MIN) / sum;
}

/* One work-item per class: hist[c] = #{b : conf_b ≥ tau, argmax_b = c}. */
__kernel void sel_histogram(__global const float *conf, const uint conf_off,
                            __global const int *arg, const uint arg_off, const uint B, const uint C,
                            const float tau, __global int *hist, const uint h_off) {
  const uint c = get_global_id(0);
  if (c >= C) return;
  int n = 0;
  for (uint b = 0; b < B; b++) n += (arg[arg_off + b] == (int)c && conf[conf_off + b] >= tau);
  hist[h_off + c] = n;
}
