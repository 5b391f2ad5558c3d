/* Element-wise ops. One work-item per element; bounds-checked because the
 * host rounds the global size up to the work-group size. */

__kernel void relu_forward(__global const float *x, const uint x_off, __global float *y,
                           const uint y_off, const uint n) {
  const uint i = get_global_id(0);
  if (i >= n) return;
  y[y_off + i] = fmax(x[x_off + i], 0.0f);
}

__kernel void relu_backward(__global const float *y, const uint y_off, __global const float *dy,
                            const uint dy_off, __global float *dx, const uint dx_off, const uint n) {
  const uint i = get_global_id(0);
  if (i >= n) return;
  dx[dx_off + i] = y[y_off + i] > 0.0f ? dy[dy_off + i] : 0.0f;
}

__kernel void add_forward(__global const float *a, const uint a_off, __global const float *b,
                          const uint b_off, __global float *y, const uint y_off, const uint n) {
  const uint i = get_global_id(0);
  if (i >= n) return;
  y[y_off + i] = a[a_off + i] + b[b_off + i];
}

__kernel void axpby(const float alpha, __global const float *x, const uint x_off, const float beta,
                    __global float *y, const uint y_off, const uint n) {
  const uint i = get_global_id(0);
  if (i >= n) return;
  const float old = beta != 0.0f ? beta * y[y_off + i] : 0.0f;
  y[y_off + i] = alpha * x[x_off + i] + old;
}

__kernel void fill(__global float *y, const uint y_off, const float value, const uint n) {
  const uint i = get_global_id(0);
  if (i >= n) return;
  y[y_off + i] = value;
}
