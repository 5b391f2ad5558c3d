/* Max-pool with argmax, and global average pool. Activations are addressed
 * through (sn, sc) strides, so NCHW and CNHW share the kernels. */

/* The maximum of window rows ya..yb−1, columns xa..xb−1 of a plane w wide, and where it is
 * (*at = row·w + column): padding never wins; ties keep the first maximum in scan order and
 * NaN propagates (PyTorch's rule). */
float maxpool_window(__global const float *src, const int w, const int ya, const int yb,
                     const int xa, const int xb, int *at) {
  float best = src[ya * w + xa];
  int best_i = ya * w + xa;
  for (int yy = ya; yy < yb; yy++)
    for (int xx = xa; xx < xb; xx++) {
      const float v = src[yy * w + xx];
      if (v > best || isnan(v)) {
        best = v;
        best_i = yy * w + xx;
      }
    }
  *at = best_i;
  return best;
}

/* The arguments every max-pool forward kernel takes, and every backward one: the host
 * launches whichever suits the device alike (src/ops/pool.c). */
#define MAXPOOL_FORWARD_ARGS                                                                   \
  __global const float *x, const uint x_off, const uint sn, const uint sc, const int h,        \
      const int w, __global float *y, const uint y_off, __global int *argmax, const uint a_off, \
      const uint osn, const uint osc, const int oh, const int ow, const uint count,             \
      const uint channels, const int k, const int stride, const int pad
#define MAXPOOL_BACKWARD_ARGS                                                                   \
  __global const int *argmax, const uint a_off, __global const float *dy, const uint dy_off,    \
      const uint osn, const uint osc, const int oh, const int ow, __global float *dx,           \
      const uint dx_off, const uint sn, const uint sc, const int h, const int w,                \
      const uint count, const uint channels, const int k, const int stride, const int pad

/* One work-item per (n·OH·OW + output pixel, c); the window as maxpool_window says. */
__kernel void maxpool_forward(MAXPOOL_FORWARD_ARGS) {
  const uint q = get_global_id(0), c = get_global_id(1);
  if (q >= count || c >= channels) return;
  const uint plane = (uint)(oh * ow);
  const uint n = q / plane, r = q - n * plane;
  const int py = (int)(r / (uint)ow), px = (int)r - py * ow;
  const int y0 = py * stride - pad, x0 = px * stride - pad;
  const int ya = max(y0, 0), yb = min(y0 + k, h), xa = max(x0, 0), xb = min(x0 + k, w);
  __global const float *src = x + x_off + n * sn + c * sc;
  int best_i;
  const float best = maxpool_window(src, w, ya, yb, xa, xb, &best_i);
  const uint at = n * osn + c * osc + r;
  y[y_off + at] = best;
  argmax[a_off + at] = best_i;
}

/* One work-item per (n·H·W + input pixel, c): sums dy of every window that
 * covers the pixel and chose it, in (oy, ox) order — deterministic even where
 * windows overlap (3×3 stride 2). */
__kernel void maxpool_backward(MAXPOOL_BACKWARD_ARGS) {
  const uint q = get_global_id(0), c = get_global_id(1);
  if (q >= count || c >= channels) return;
  const uint plane = (uint)(h * w);
  const uint n = q / plane, r = q - n * plane;
  const int iy = (int)(r / (uint)w), ix = (int)r - iy * w;
  /* Windows oy with oy·stride − pad ≤ iy ≤ oy·stride − pad + k − 1. */
  const int ty = iy + pad - k + 1, tx = ix + pad - k + 1;
  const int oy0 = ty <= 0 ? 0 : (ty + stride - 1) / stride;
  const int ox0 = tx <= 0 ? 0 : (tx + stride - 1) / stride;
  const int oy1 = min((iy + pad) / stride, oh - 1), ox1 = min((ix + pad) / stride, ow - 1);
  const uint base = n * osn + c * osc;
  float acc = 0.0f;
  for (int oy = oy0; oy <= oy1; oy++)
    for (int ox = ox0; ox <= ox1; ox++) {
      const uint at = base + (uint)(oy * ow + ox);
      if (argmax[a_off + at] == (int)r) acc += dy[dy_off + at];
    }
  dx[dx_off + n * sn + c * sc + r] = acc;
}

/* y[n][c] = mean of x(n, c, ·, ·); one work-item per (n, c). */
__kernel void global_avgpool_forward(__global const float *x, const uint x_off, const uint sn,
                                     const uint sc, const uint hw, const uint batch,
                                     const uint channels, __global float *y, const uint y_off) {
  const uint n = get_global_id(0), c = get_global_id(1);
  if (n >= batch || c >= channels) return;
  __global const float *src = x + x_off + n * sn + c * sc;
  float acc = 0.0f;
  for (uint p = 0; p < hw; p++) acc += src[p];
  y[y_off + n * channels + c] = acc / (float)hw;
}

/* dx(n, c, ·, ·) = dy[n][c] / HW; one work-item per (n·HW + p, c). */
__kernel void global_avgpool_backward(__global const float *dy, const uint dy_off,
                                      __global float *dx, const uint dx_off, const uint sn,
                                      const uint sc, const uint hw, const uint count,
                                      const uint channels) {
  const uint q = get_global_id(0), c = get_global_id(1);
  if (q >= count || c >= channels) return;
  const uint n = q / hw;
  dx[dx_off + n * sn + c * sc + (q - n * hw)] = dy[dy_off + n * channels + c] / (float)hw;
}

/* ---- CPU variants: same arguments, coarser work-items ----
 * Forward: one work-item per output row (n·OH + oy, c), no index divisions in
 * the pixel loop. Backward: one work-item per plane (n, c) that zeroes dx and
 * then adds each output's dy to its argmax in output order — for every input
 * pixel the same terms in the same order as maxpool_backward's gather, so the
 * result is bit-identical, at a fraction of the reads. */
__kernel void maxpool_forward_cpu(MAXPOOL_FORWARD_ARGS) {
  const uint row = get_global_id(0), c = get_global_id(1);
  if (row >= count / (uint)ow || c >= channels) return;
  const uint n = row / (uint)oh;
  const int py = (int)(row - n * (uint)oh);
  const int y0 = py * stride - pad;
  const int ya = max(y0, 0), yb = min(y0 + k, h);
  __global const float *src = x + x_off + n * sn + c * sc;
  const uint at0 = n * osn + c * osc + (uint)(py * ow);
  for (int px = 0; px < ow; px++) {
    const int x0 = px * stride - pad;
    const int xa = max(x0, 0), xb = min(x0 + k, w);
    int best_i;
    const float best = maxpool_window(src, w, ya, yb, xa, xb, &best_i);
    y[y_off + at0 + (uint)px] = best;
    argmax[a_off + at0 + (uint)px] = best_i;
  }
}

__kernel void maxpool_backward_cpu(MAXPOOL_BACKWARD_ARGS) {
  const uint n = get_global_id(0), c = get_global_id(1);
  if (n >= count / (uint)(h * w) || c >= channels) return;
  (void)k, (void)stride, (void)pad;
  __global float *plane = dx + dx_off + n * sn + c * sc;
  const uint hw = (uint)(h * w);
  uint i = 0;
  for (; i + 8 <= hw; i += 8) vstore8((float8)(0.0f), 0, plane + i);
  for (; i < hw; i++) plane[i] = 0.0f;
  const uint base = n * osn + c * osc, ohw = (uint)(oh * ow);
  for (uint o = 0; o < ohw; o++) plane[argmax[a_off + base + o]] += dy[dy_off + base + o];
}

/* The ResNet stem's 3×3 stride-2 pad-1 max-pool on CPUs, 8 outputs at a time:
 * a window row is in[2x−1], in[2x], in[2x+1], i.e. the odd lane before, the
 * even lane and the odd lane of 16 consecutive floats. Scan order, tie and NaN
 * rules as maxpool_forward (padding never wins: masked out). Same arguments;
 * work-item per output row as maxpool_forward_cpu. */
__kernel void maxpool3s2_forward_cpu(MAXPOOL_FORWARD_ARGS) {
  const uint row = get_global_id(0), c = get_global_id(1);
  if (row >= count / (uint)ow || c >= channels) return;
  (void)k, (void)stride, (void)pad;
  const uint n = row / (uint)oh;
  const int py = (int)(row - n * (uint)oh);
  const int y0 = py * 2 - 1;
  const int ya = max(y0, 0), yb = min(y0 + 3, h);
  __global const float *src = x + x_off + n * sn + c * sc;
  const uint at0 = n * osn + c * osc + (uint)(py * ow);
  const int8 lane = (int8)(0, 1, 2, 3, 4, 5, 6, 7);
  int px = 0;
  for (; px + 8 <= ow && 2 * px + 16 <= w; px += 8) {
    const int8 xs = (int8)(2 * px) + lane * (int8)(2); /* window centres */
    const int8 left_ok = xs >= (int8)(1);
    float8 best = (float8)(-INFINITY);
    int8 bi = (int8)(ya * w) + max(xs - (int8)(1), (int8)(0)); /* first element of the window */
    for (int r = ya; r < yb; r++) {
      __global const float *p = src + r * w + 2 * px;
      const float8 v0 = vload8(0, p), v1 = vload8(1, p);
      const float8 ctr = shuffle2(v0, v1, (uint8)(0, 2, 4, 6, 8, 10, 12, 14));
      const float8 rgt = shuffle2(v0, v1, (uint8)(1, 3, 5, 7, 9, 11, 13, 15));
      const float first = 2 * px >= 1 ? p[-1] : 0.0f;
      const float8 lft = (float8)(first, rgt.s0, rgt.s1, rgt.s2, rgt.s3, rgt.s4, rgt.s5, rgt.s6);
      const int8 base = (int8)(r * w) + xs;
#define MP_TAKE(val, idx, ok)                                          \
  {                                                                    \
    const int8 take_ = (isgreater(val, best) | isnan(val)) & (ok);     \
    best = select(best, val, take_);                                   \
    bi = select(bi, idx, take_);                                       \
  }
      MP_TAKE(lft, base - (int8)(1), left_ok)
      MP_TAKE(ctr, base, (int8)(-1))
      MP_TAKE(rgt, base + (int8)(1), (int8)(-1))
#undef MP_TAKE
    }
    vstore8(best, 0, y + y_off + at0 + (uint)px);
    vstore8(bi, 0, argmax + a_off + at0 + (uint)px);
  }
  for (; px < ow; px++) {
    const int x0 = px * 2 - 1;
    const int xa = max(x0, 0), xb = min(x0 + 3, w);
    int best_i;
    const float best = maxpool_window(src, w, ya, yb, xa, xb, &best_i);
    y[y_off + at0 + (uint)px] = best;
    argmax[a_off + at0 + (uint)px] = best_i;
  }
}
