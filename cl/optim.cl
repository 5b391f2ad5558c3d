/* Optimizer steps over flat parameter buffers, PyTorch semantics (torch.optim.SGD,
 * Adam, AdamW), and the EMA teacher update. One work-item per element of a segment;
 * the host launches once per (offset, count, decay) segment with wd already 0 for
 * no-decay segments. Per-step scalars (bias corrections) are computed on the host. */

/* SGD: g = grad + wd·θ; buf = g (first step) or μ·buf + (1 − dampening)·g;
 * g = g + μ·buf (nesterov) or buf; θ -= lr·g. With momentum 0 buf is untouched. */
__kernel void sgd_step(__global float *p, const uint p_off, __global const float *g,
                       const uint g_off, __global float *buf, const uint b_off, const uint n,
                       const float lr, const float wd, const float momentum, const float dampening,
                       const uint nesterov, const uint first) {
  const uint i = get_global_id(0);
  if (i >= n) return;
  const float theta = p[p_off + i];
  float d = g[g_off + i];
  if (wd != 0.0f) d += wd * theta;
  if (momentum != 0.0f) {
    const float bv = first ? d : momentum * buf[b_off + i] + (1.0f - dampening) * d;
    buf[b_off + i] = bv;
    d = nesterov ? d + momentum * bv : bv;
  }
  p[p_off + i] = theta - lr * d;
}

/* Adam / AdamW: decay_mul = 1 − lr·wd for AdamW (1 for Adam), wd_grad = wd for Adam
 * (0 for AdamW); step_size = lr / (1 − β1^t); inv_sqrt_bc2 = 1/√(1 − β2^t). */
__kernel void adam_step(__global float *p, const uint p_off, __global const float *g,
                        const uint g_off, __global float *m, const uint m_off, __global float *v,
                        const uint v_off, const uint n, const float step_size,
                        const float inv_sqrt_bc2, const float beta1, const float beta2,
                        const float eps, const float wd_grad, const float decay_mul) {
  const uint i = get_global_id(0);
  if (i >= n) return;
  float theta = p[p_off + i];
  float d = g[g_off + i];
  if (wd_grad != 0.0f) d += wd_grad * theta;
  theta *= decay_mul;
  const float mi = beta1 * m[m_off + i] + (1.0f - beta1) * d;
  const float vi = beta2 * v[v_off + i] + (1.0f - beta2) * d * d;
  m[m_off + i] = mi;
  v[v_off + i] = vi;
  p[p_off + i] = theta - step_size * mi / (sqrt(vi) * inv_sqrt_bc2 + eps);
}

/* teacher ← m·teacher + (1 − m)·student. */
__kernel void ema_update(__global float *t, const uint t_off, __global const float *s,
                         const uint s_off, const uint n, const float m) {
  const uint i = get_global_id(0);
  if (i >= n) return;
  t[t_off + i] = m * t[t_off + i] + (1.0f - m) * s[s_off + i];
}
