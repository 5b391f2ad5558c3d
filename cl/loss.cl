/* Softmax, weighted cross-entropy and the negative-learning loss (METHOD §3, §5).
 * Logits and probabilities are [B][C] row-major; one work-item per sample row
 * (C is small: 7 expressions). Scalar losses are summed over the rows by one
 * work-item in row order, so they are deterministic. */

/* A row's maximum m, and *sum = Σ_c exp(z_c − m). */
float row_max_expsum(__global const float *zr, const uint C, float *sum) {
  float m = zr[0];
  for (uint c = 1; c < C; c++) m = fmax(m, zr[c]);
  float s = 0.0f;
  for (uint c = 0; c < C; c++) s += exp(zr[c] - m);
  *sum = s;
  return m;
}

/* p = softmax(z) of one row, max-subtracted (p may alias z: it is written last); returns
 * logsumexp(z). */
float softmax_row(__global const float *zr, __global float *pr, const uint C) {
  float s;
  const float m = row_max_expsum(zr, C, &s);
  const float inv = 1.0f / s;
  for (uint c = 0; c < C; c++) pr[c] = exp(zr[c] - m) * inv;
  return m + log(s);
}

/* probs = softmax(logits) per row. probs may alias logits. */
__kernel void softmax_rows(__global const float *z, const uint z_off, const uint B, const uint C,
                           __global float *p, const uint p_off) {
  const uint b = get_global_id(0);
  if (b < B) softmax_row(z + z_off + b * C, p + p_off + b * C, C);
}

/* Per row: CE = logsumexp(z) − z_y and probs (probs may alias z). Label −1: loss 0; a label outside
 * −1..C−1: NaN, so the bad label shows in the logged loss. */
__kernel void xent_rows(__global const float *z, const uint z_off, __global const int *labels,
                        const uint l_off, const uint B, const uint C, __global float *p,
                        const uint p_off, __global float *loss, const uint loss_off) {
  const uint b = get_global_id(0);
  if (b >= B) return;
  __global const float *zr = z + z_off + b * C;
  const int y = labels[l_off + b];
  const int known = y >= 0 && y < (int)C;
  const float zy = known ? zr[y] : 0.0f; /* read before the probs overwrite z */
  const float lse = softmax_row(zr, p + p_off + b * C, C);
  loss[loss_off + b] = y == -1 ? 0.0f : known ? lse - zy : NAN;
}

/* One work-item: out = Σ_b w_b·loss_b / b_norm over rows with a label (w = 1 when
 * has_w is 0). A NaN loss (bad label) is kept whatever its weight. */
__kernel void xent_sum(__global const float *loss, const uint loss_off, __global const int *labels,
                       const uint l_off, __global const float *w, const uint w_off,
                       const uint has_w, const uint B, const float b_norm, __global float *out,
                       const uint out_off) {
  if (get_global_id(0) != 0) return;
  float acc = 0.0f;
  for (uint b = 0; b < B; b++) {
    const float l = loss[loss_off + b];
    if (isnan(l)) {
      acc += l;
      continue;
    }
    if (labels[l_off + b] < 0) continue;
    const float wb = has_w ? w[w_off + b] : 1.0f;
    if (wb != 0.0f) acc += wb * l;
  }
  out[out_off] = acc / b_norm;
}

/* One work-item per element: dz = lambda·w_b·(p − onehot(y_b)) / b_norm, written or
 * added (accumulate). Rows without a valid label give 0. */
__kernel void xent_backward(__global const float *p, const uint p_off, __global const int *labels,
                            const uint l_off, __global const float *w, const uint w_off,
                            const uint has_w, const uint B, const uint C, const float scale,
                            __global float *dz, const uint dz_off, const uint accumulate) {
  const uint i = get_global_id(0);
  if (i >= B * C) return;
  const uint b = i / C, c = i - b * C;
  const int y = labels[l_off + b];
  float g = 0.0f;
  if (y >= 0 && y < (int)C) {
    const float wb = has_w ? w[w_off + b] : 1.0f;
    g = scale * wb * (p[p_off + i] - (c == (uint)y ? 1.0f : 0.0f));
  }
  dz[dz_off + i] = accumulate ? dz[dz_off + i] + g : g;
}

/* NL kernels work with e_j = exp(z_j − max z) (recomputed, not stored) and S = Σ_j e_j.
 * 1 − p_c = (S − e_c)/S, or Σ_{j≠c} e_j / S when e_c holds more than half of S (then
 * S − e_c would cancel: exactly the case p_c → 1 where the loss is steep). */
float nl_one_minus_p(__global const float *zr, const uint C, const float m, const float S,
                     const uint c) {
  const float ec = exp(zr[c] - m);
  if (ec <= 0.5f * S) return (S - ec) / S;
  float rest = 0.0f;
  for (uint j = 0; j < C; j++)
    if (j != c) rest += exp(zr[j] - m);
  return rest / S;
}

/* Per row: ℓ_b = Σ_{c ∈ N_b} −log(1 − p_b(c) + eps). */
__kernel void nl_rows(__global const float *z, const uint z_off, __global const int *neg,
                      const uint n_off, const uint B, const uint C, const float eps,
                      __global float *loss, const uint loss_off) {
  const uint b = get_global_id(0);
  if (b >= B) return;
  __global const float *zr = z + z_off + b * C;
  __global const int *nr = neg + n_off + b * C;
  float S;
  const float m = row_max_expsum(zr, C, &S);
  float l = 0.0f;
  for (uint c = 0; c < C; c++)
    if (nr[c]) l -= log(nl_one_minus_p(zr, C, m, S, c) + eps);
  loss[loss_off + b] = l;
}

/* One work-item: out = Σ_b (1 − mask_b)·ℓ_b / b_norm (mask 0 when has_mask is 0). */
__kernel void nl_sum(__global const float *loss, const uint loss_off, __global const float *mask,
                     const uint m_off, const uint has_mask, const uint B, const float b_norm,
                     __global float *out, const uint out_off) {
  if (get_global_id(0) != 0) return;
  float acc = 0.0f;
  for (uint b = 0; b < B; b++) {
    const float keep = has_mask ? 1.0f - mask[m_off + b] : 1.0f;
    if (keep != 0.0f) acc += keep * loss[loss_off + b];
  }
  out[out_off] = acc / b_norm;
}

/* Per row: with g_c = 1/(1 − p_c + eps) for c ∈ N_b, dℓ/dz_j = p_j·([j∈N]·g_j − Σ_{c∈N} p_c g_c);
 * scaled by lambda·(1 − mask_b)/b_norm, written or added. When the top class d is a
 * negative and p_d → 1, g_d − Σ p_c g_c cancels (g_d ~ 1/eps): it is evaluated as
 * g_d·(1 − p_d) − Σ_{c∈N, c≠d} p_c g_c with the accurate 1 − p_d. */
__kernel void nl_backward(__global const float *z, const uint z_off, __global const int *neg,
                          const uint n_off, __global const float *mask, const uint m_off,
                          const uint has_mask, const uint B, const uint C, const float eps,
                          const float scale, __global float *dz, const uint dz_off,
                          const uint accumulate) {
  const uint b = get_global_id(0);
  if (b >= B) return;
  __global const float *zr = z + z_off + b * C;
  __global const int *nr = neg + n_off + b * C;
  __global float *dr = dz + dz_off + b * C;
  float m = zr[0];
  uint d = 0;
  for (uint c = 1; c < C; c++)
    if (zr[c] > m) {
      m = zr[c];
      d = c;
    }
  float S = 0.0f;
  for (uint c = 0; c < C; c++) S += exp(zr[c] - m);
  const float invS = 1.0f / S;
  float sg_rest = 0.0f, term_d = 0.0f, g_d = 0.0f, omp_d = 0.0f;
  for (uint c = 0; c < C; c++) {
    if (!nr[c]) continue;
    const float omp = nl_one_minus_p(zr, C, m, S, c), g = 1.0f / (omp + eps);
    const float pg = exp(zr[c] - m) * invS * g;
    if (c == d) {
      term_d = pg;
      g_d = g;
      omp_d = omp;
    } else {
      sg_rest += pg;
    }
  }
  const float k = scale * (has_mask ? 1.0f - mask[m_off + b] : 1.0f);
  for (uint j = 0; j < C; j++) {
    const float pj = exp(zr[j] - m) * invS;
    float inner;
    if (j == d && nr[j])
      inner = g_d * omp_d - sg_rest;
    else
      inner = (nr[j] ? 1.0f / (nl_one_minus_p(zr, C, m, S, j) + eps) : 0.0f) - (sg_rest + term_d);
    const float g = k * pj * inner;
    dr[j] = accumulate ? dr[j] + g : g;
  }
}
