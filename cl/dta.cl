/* Pseudo-label selection and DTA thresholds on the device (METHOD §3–§4). q: the
 * teacher's probabilities [B][C]. Orders over classes break ties towards the lowest
 * index. One work-item per sample (or per class); sums over the batch run in sample
 * order, so every result is deterministic. */

/* conf_b = max_c q_b(c), argmax_b = first maximal class. */
__kernel void dta_confidence(__global const float *q, const uint q_off, const uint B, const uint C,
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
__kernel void dta_threshold_mask(__global const float *conf, const uint conf_off,
                                 __global const int *arg, const uint arg_off,
                                 __global const float *tau, const uint tau_off, const uint B,
                                 const uint C, __global float *mask, const uint mask_off) {
  const uint b = get_global_id(0);
  if (b >= B) return;
  const int a = arg[arg_off + b];
  mask[mask_off + b] =
      (a >= 0 && a < (int)C && conf[conf_off + b] >= tau[tau_off + a]) ? 1.0f : 0.0f;
}

/* One work-item per output j: stats[0] = mean_b conf_b, stats[1 + c] = mean_b q_b(c). */
__kernel void dta_batch_stats(__global const float *q, const uint q_off, __global const float *conf,
                              const uint conf_off, const uint B, const uint C,
                              __global float *stats, const uint s_off) {
  const uint j = get_global_id(0);
  if (j > C) return;
  const float acc =
      j == 0 ? fc_column_sum(conf + conf_off, B, 1, 0) : fc_column_sum(q + q_off, B, C, j - 1);
  stats[s_off + j] = acc / (float)B;
}

/* τ(c) from state [g, p̃[C], τ[C]] with β(c) = p̃(c)/max p̃:
 *   rescale = 0 (freematch-fer):      τ(c) = clamp(g·β(c), tau_min, tau_max)
 *   rescale ≠ 0 (freematch-rescaled): τ(c) = tau_min + (tau_max − tau_min)·g·β(c)
 * The second maps FreeMatch's [0, 1] range onto [tau_min, tau_max] instead of cutting
 * it, so a high floor keeps the classes apart. */
void dta_tau(__global float *st, const uint C, const float tau_min, const float tau_max,
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
__kernel void dta_update(__global const float *stats, const uint s_off, const uint C,
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
  dta_tau(st, C, tau_min, tau_max, rescale);
}

/* Distribution alignment (ReMixMatch), state [prior[C], pbar[C]]. One work-item per
 * class: pbar(c) ← m·pbar(c) + (1−m)·mean_b q_b(c), summed in sample order. */
__kernel void dta_align_update(__global const float *q, const uint q_off, const uint B,
                            const uint C, const float m, __global float *state,
                            const uint st_off) {
  const uint c = get_global_id(0);
  if (c >= C) return;
  const float acc = fc_column_sum(q + q_off, B, C, c);
  __global float *pbar = state + st_off + C;
  pbar[c] = m * pbar[c] + (1.0f - m) * (acc / (float)B);
}

/* One work-item per sample: out_b(c) = q_b(c)·prior(c)/pbar(c), renormalised to sum 1
 * (pbar floored at FC_DA_PBAR_MIN; a row whose products sum to 0 is copied).
 * out may alias q. */
#define FC_DA_PBAR_MIN 1e-6f
__kernel void dta_align_apply(__global const float *q, const uint q_off, const uint B,
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
__kernel void dta_histogram(__global const float *conf, const uint conf_off,
                            __global const int *arg, const uint arg_off, const uint B, const uint C,
                            const float tau, __global int *hist, const uint h_off) {
  const uint c = get_global_id(0);
  if (c >= C) return;
  int n = 0;
  for (uint b = 0; b < B; b++) n += (arg[arg_off + b] == (int)c && conf[conf_off + b] >= tau);
  hist[h_off + c] = n;
}
