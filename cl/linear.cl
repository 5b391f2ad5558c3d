/* Bias of the fully connected layer; the products are CLBlast GEMMs. */

/* y[r][o] += b[o]; one work-item per (o, r). */
__kernel void linear_bias_add(__global float *y, const uint y_off, __global const float *b,
                              const uint b_off, const uint rows, const uint cols) {
  const uint o = get_global_id(0), r = get_global_id(1);
  if (o >= cols || r >= rows) return;
  y[y_off + r * cols + o] += b[b_off + o];
}

/* db[o] (+)= Σ_r dy[r][o], rows in order (deterministic); one work-item per o. */
__kernel void linear_bias_grad(__global const float *dy, const uint dy_off, const uint rows,
                               const uint cols, const int accumulate, __global float *db,
                               const uint db_off) {
  const uint o = get_global_id(0);
  if (o >= cols) return;
  const float acc = fc_column_sum(dy + dy_off, rows, cols, o);
  db[db_off + o] = (accumulate ? db[db_off + o] : 0.0f) + acc;
}
