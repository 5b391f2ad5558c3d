/* Trivial kernels for the device self-test and `fer-cl devices` queries. */
#ifndef SELFTEST_SCALE
#define SELFTEST_SCALE 2.0f
#endif

/* y[i] = x[i] * SELFTEST_SCALE + bias: checks data round-trips and -D constants. */
__kernel void selftest_scale(__global const float *x, __global float *y, const float bias, const uint n) {
  const uint i = get_global_id(0);
  if (i < n) y[i] = x[i] * SELFTEST_SCALE + bias;
}
