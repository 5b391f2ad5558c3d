/* Host-transfer stand-ins, used only on the Oclgrind simulator (see
 * src/device/oclgrind.c): a kernel's stores update Oclgrind's shadow memory
 * byte by byte, where its host writes, fills and copies of part of a buffer
 * reset the whole buffer's shadow. Byte granularity keeps any offset legal. */

__kernel void copy_bytes(__global const uchar *src, const uint src_off, __global uchar *dst,
                         const uint dst_off, const uint n) {
  const uint i = get_global_id(0);
  if (i >= n) return;
  dst[dst_off + i] = src[src_off + i];
}

__kernel void fill_bytes(__global uchar *dst, const uint dst_off, const uchar value,
                         const uint n) {
  const uint i = get_global_id(0);
  if (i >= n) return;
  dst[dst_off + i] = value;
}

/* The same in 4-byte words, when offsets and sizes allow (nearly always). */
__kernel void copy_words(__global const uint *src, const uint src_off, __global uint *dst,
                         const uint dst_off, const uint n) {
  const uint i = get_global_id(0);
  if (i >= n) return;
  dst[dst_off + i] = src[src_off + i];
}

__kernel void fill_words(__global uint *dst, const uint dst_off, const uint value, const uint n) {
  const uint i = get_global_id(0);
  if (i >= n) return;
  dst[dst_off + i] = value;
}
