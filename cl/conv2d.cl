/* conv2d (src/ops/conv2d.c, src/ops/im2col.c): the column-matrix kernels
 * (im2col / col2im, their GEMM-panel forms) and the conv bias broadcast; the
 * GEMMs, the implicit-GEMM convolution kernels included, are cl/gemm.cl.
 *
 * Activations are read and written through (sn, sc) strides, so one kernel
 * serves NCHW and CNHW. The column matrix has K = C·KH·KW rows (row
 * (c·KH + i)·KW + j) and one column per output pixel of the chunk:
 * (n − n0)·OH·OW + oh·OW + ow, row stride ld.
 *
 * Geometry comes as kernel arguments: one program serves every convolution.
 * Pinning it with -D constants was measured on PoCL (ResNet-18 shapes) and
 * gained nothing — im2col is memory-bound and a few % of a convolution. */

/* Output column q (sample n, pixel (y, xo)): returns n, and the input corner
 * (iy0, ix0) of its receptive field. */
uint patch_origin(const uint q, const int oh, const int ow, const int stride, const int pad,
                  int *iy0, int *ix0) {
  const uint plane = (uint)(oh * ow);
  const uint n = q / plane, rem = q - n * plane;
  const int y = (int)(rem / (uint)ow), xo = (int)rem - y * ow;
  *iy0 = y * stride - pad;
  *ix0 = xo * stride - pad;
  return n;
}

/* The KH·KW values of one channel's receptive field (zeros outside the image)
 * to col[out], col[out + step], ... */
void gather_patch(__global const float *src, const int iy0, const int ix0, const int h,
                  const int w, const int kh, const int kw, __global float *col, uint out,
                  const uint step) {
  for (int i = 0; i < kh; i++) {
    const int iy = iy0 + i;
    const int row_ok = iy >= 0 && iy < h;
    for (int j = 0; j < kw; j++, out += step) {
      const int ix = ix0 + j;
      col[out] = (row_ok && ix >= 0 && ix < w) ? src[iy * w + ix] : 0.0f;
    }
  }
}

/* One work-item per (output column q, input channel c): writes the KH·KW rows
 * of channel c in column q. x_off already points at sample n0. */
__kernel void im2col(__global const float *x, const uint x_off, const uint sn, const uint sc,
                     const int h, const int w, const int oh, const int ow, const uint columns,
                     const uint channels, const int kh, const int kw, const int stride,
                     const int pad, __global float *col, const uint col_off, const uint ld) {
  const uint q = get_global_id(0), c = get_global_id(1);
  if (q >= columns || c >= channels) return;
  int iy0, ix0;
  const uint n = patch_origin(q, oh, ow, stride, pad, &iy0, &ix0);
  gather_patch(x + x_off + n * sn + c * sc, iy0, ix0, h, w, kh, kw, col,
               col_off + c * (uint)(kh * kw) * ld + q, ld);
}

/* im2col straight into GEMM B panels of width `width` (src/ops/gemm_internal.h):
 * entry (row r, column q) at ((q/width)·K + r)·width + q%width with K = C·KH·KW,
 * so fer-cl's packed GEMM reads it without a packing copy. Columns from `columns`
 * up to `columns_padded` (a multiple of width) are written as zeros. */
__kernel void im2col_panels(__global const float *x, const uint x_off, const uint sn,
                            const uint sc, const int h, const int w, const int oh, const int ow,
                            const uint columns, const uint columns_padded, const uint channels,
                            const int kh, const int kw, const int stride, const int pad,
                            __global float *col, const uint col_off, const uint width) {
  const uint q = get_global_id(0), c = get_global_id(1);
  if (q >= columns_padded || c >= channels) return;
  const uint khw = (uint)(kh * kw), rows = channels * khw;
  const uint t = q / width;
  uint out = col_off + (t * rows + c * khw) * width + (q - t * width);
  if (q >= columns) {
    for (uint r = 0; r < khw; r++, out += width) col[out] = 0.0f;
    return;
  }
  int iy0, ix0;
  const uint n = patch_origin(q, oh, ow, stride, pad, &iy0, &ix0);
  gather_patch(x + x_off + n * sn + c * sc, iy0, ix0, h, w, kh, kw, col, out, width);
}

/* The transposed column matrix as GEMM B panels, for the weight gradient
 * dW = dY · colᵀ: logical B[k = column q][n = row r], entry at
 * ((r/width)·columns + q)·width + r%width. Rows from K up to the next multiple of
 * width are zeros: work-items with c = channels write them. */
__kernel void im2col_panels_t(__global const float *x, const uint x_off, const uint sn,
                              const uint sc, const int h, const int w, const int oh, const int ow,
                              const uint columns, const uint channels, const int kh, const int kw,
                              const int stride, const int pad, __global float *col,
                              const uint col_off, const uint width) {
  const uint q = get_global_id(0), c = get_global_id(1);
  if (q >= columns || c > channels) return;
  const uint khw = (uint)(kh * kw), rows = channels * khw;
  if (c == channels) {
    const uint padded = (rows + width - 1) / width * width;
    for (uint r = rows; r < padded; r++) {
      const uint t = r / width;
      col[col_off + (t * columns + q) * width + (r - t * width)] = 0.0f;
    }
    return;
  }
  int iy0, ix0;
  const uint n = patch_origin(q, oh, ow, stride, pad, &iy0, &ix0);
  __global const float *src = x + x_off + n * sn + c * sc;
  uint r = c * khw;
  for (int i = 0; i < kh; i++) {
    const int iy = iy0 + i;
    const int row_ok = iy >= 0 && iy < h;
    for (int j = 0; j < kw; j++, r++) {
      const int ix = ix0 + j;
      const uint t = r / width;
      col[col_off + (t * columns + q) * width + (r - t * width)] =
          (row_ok && ix >= 0 && ix < w) ? src[iy * w + ix] : 0.0f;
    }
  }
}

/* ---- stride-1 "same" convolutions on channel-contiguous activations ----
 * When stride = 1, OH = H, OW = W and each channel's samples are contiguous
 * (CNHW: sn = H·W), column row (c, i, j) is channel c shifted by
 * s = (i − pad)·W + (j − pad) with zeros where the shift leaves the image:
 *   col[(c,i,j)][q] = x[c][q + s]  if 0 ≤ oy(q)+i−pad < H and 0 ≤ ox(q)+j−pad < W.
 * So 16 consecutive columns are unaligned vector loads and a select with a mask
 * from the columns' (oy, ox): no per-element index arithmetic. Reads stay
 * inside [lo, hi) (the tensor's part of channel c around the chunk); a shifted
 * run that would leave it takes the scalar path. */

/* 16 columns are handled as two halves of 8 (float8/int8: AVX2's width; 16-wide
 * vectors would be split anyway and trip ABI warnings in PoCL). */
int8 im2col_iota8(void) { return (int8)(0, 1, 2, 3, 4, 5, 6, 7); }

/* 8 values of row[at ..], masked; a run leaving [lo, hi) is read lane by lane. */
float8 im2col_shift_load8(__global const float *row, const int at, const int lo, const int hi,
                          const int8 ok) {
  float8 v;
  if (at >= lo && at + 8 <= hi) {
    v = vload8(0, row + at);
  } else {
    float t[8];
    for (int l = 0; l < 8; l++) t[l] = (at + l >= lo && at + l < hi) ? row[at + l] : 0.0f;
    v = vload8(0, t);
  }
  return select((float8)(0.0f), v, ok);
}

/* (oy, ox) of the 8 columns q0 .. q0+7 of a chunk with planes of h × w. */
void im2col_coords8(const int q0, const int h, const int w, int8 *oy, int8 *ox) {
  const int8 q = (int8)(q0) + im2col_iota8();
  const int8 r = q % (int8)(h * w);
  *oy = r / (int8)(w);
  *ox = r - *oy * (int8)(w);
}

/* Mask of the 8 columns whose shifted source (dy, dx) lies in the image. */
int8 im2col_ok8(const int q0, const int columns, const int8 oy, const int8 ox, const int dy,
                const int dx, const int h, const int w) {
  const int8 q = (int8)(q0) + im2col_iota8();
  const int8 yy = oy + (int8)(dy), xx = ox + (int8)(dx);
  return (q < (int8)(columns)) & (yy >= (int8)(0)) & (yy < (int8)(h)) & (xx >= (int8)(0)) &
         (xx < (int8)(w));
}

/* Work-item (panel t, channel c): panel rows (c, i, j) of 16 columns. Panel
 * width 16 (fc_gemm_nr = 16) only. lo/hi: readable element range of channel c
 * relative to x_off (−n0·HW, (N−n0)·HW). */
__kernel void im2col_panels_s1(__global const float *x, const uint x_off, const uint sc,
                               const int h, const int w, const uint columns,
                               const uint columns_padded, const uint channels, const int kh,
                               const int kw, const int pad, const int lo, const int hi,
                               __global float *col, const uint col_off) {
  const uint t = get_global_id(0), c = get_global_id(1);
  if (t * 16u >= columns_padded || c >= channels) return;
  const uint khw = (uint)(kh * kw), rows = channels * khw;
  const int q0 = (int)(t * 16u);
  int8 oy0, ox0, oy1, ox1;
  im2col_coords8(q0, h, w, &oy0, &ox0);
  im2col_coords8(q0 + 8, h, w, &oy1, &ox1);
  __global const float *row = x + x_off + c * sc;
  __global float *out = col + col_off + (t * rows + c * khw) * 16u;
  for (int i = 0; i < kh; i++) {
    for (int j = 0; j < kw; j++) {
      const int dy = i - pad, dx = j - pad, shift = dy * w + dx;
      const int8 ok0 = im2col_ok8(q0, (int)columns, oy0, ox0, dy, dx, h, w);
      const int8 ok1 = im2col_ok8(q0 + 8, (int)columns, oy1, ox1, dy, dx, h, w);
      vstore8(im2col_shift_load8(row, q0 + shift, lo, hi, ok0), 0, out);
      vstore8(im2col_shift_load8(row, q0 + 8 + shift, lo, hi, ok1), 0, out + 8);
      out += 16;
    }
  }
}

/* The transposed panels (dW = dY · colᵀ), width 16 over the K rows: work-item
 * (16-column block b, row panel rt) builds the 16 rows × 16 columns block in
 * private memory, then writes each column's 16 row values contiguously. */
__kernel void im2col_panels_t_s1(__global const float *x, const uint x_off, const uint sc,
                                 const int h, const int w, const uint columns,
                                 const uint channels, const int kh, const int kw, const int pad,
                                 const int lo, const int hi, __global float *col,
                                 const uint col_off) {
  const uint b = get_global_id(0), rt = get_global_id(1);
  const uint khw = (uint)(kh * kw), rows = channels * khw;
  if (b * 16u >= columns || rt * 16u >= rows) return;
  const int q0 = (int)(b * 16u);
  int8 oy0, ox0, oy1, ox1;
  im2col_coords8(q0, h, w, &oy0, &ox0);
  im2col_coords8(q0 + 8, h, w, &oy1, &ox1);
  float tile[16][16]; /* [row in panel][column] */
  for (uint jr = 0; jr < 16u; jr++) {
    const uint rr = rt * 16u + jr;
    if (rr >= rows) {
      vstore8((float8)(0.0f), 0, tile[jr]);
      vstore8((float8)(0.0f), 1, tile[jr]);
      continue;
    }
    const uint c = rr / khw, ij = rr - c * khw;
    const int i = (int)(ij / (uint)kw), j = (int)ij - i * kw;
    const int dy = i - pad, dx = j - pad, shift = dy * w + dx;
    __global const float *row = x + x_off + c * sc;
    const int8 ok0 = im2col_ok8(q0, (int)columns, oy0, ox0, dy, dx, h, w);
    const int8 ok1 = im2col_ok8(q0 + 8, (int)columns, oy1, ox1, dy, dx, h, w);
    vstore8(im2col_shift_load8(row, q0 + shift, lo, hi, ok0), 0, tile[jr]);
    vstore8(im2col_shift_load8(row, q0 + 8 + shift, lo, hi, ok1), 1, tile[jr]);
  }
  const uint nq = min(16u, columns - (uint)q0);
  __global float *out = col + col_off + (rt * columns + (uint)q0) * 16u;
  for (uint l = 0; l < nq; l++) {
    const float8 v0 = (float8)(tile[0][l], tile[1][l], tile[2][l], tile[3][l], tile[4][l],
                               tile[5][l], tile[6][l], tile[7][l]);
    const float8 v1 = (float8)(tile[8][l], tile[9][l], tile[10][l], tile[11][l], tile[12][l],
                               tile[13][l], tile[14][l], tile[15][l]);
    vstore8(v0, 0, out + l * 16u);
    vstore8(v1, 1, out + l * 16u);
  }
}

/* col2im for the same geometry: dx[c][p] = Σ_(i,j) dcol[(c,i,j)][p − s(i,j)] over
 * the (i, j) whose source column lies inside the image, in (i, j) order like
 * col2im (adding 0 for the others leaves the sum unchanged). Work-item
 * (16-pixel block, channel c); dcol row-major with row stride ld. */
__kernel void col2im_s1(__global const float *col, const uint col_off, const uint ld,
                        const int h, const int w, const uint pixels, const uint channels,
                        const int kh, const int kw, const int pad, __global float *dx,
                        const uint dx_off, const uint sc) {
  const uint t = get_global_id(0), c = get_global_id(1);
  if (t * 16u >= pixels || c >= channels) return;
  const int q0 = (int)(t * 16u);
  int8 ry0, rx0, ry1, rx1;
  im2col_coords8(q0, h, w, &ry0, &rx0);
  im2col_coords8(q0 + 8, h, w, &ry1, &rx1);
  float8 acc0 = 0.0f, acc1 = 0.0f;
  __global const float *rows = col + col_off + c * (uint)(kh * kw) * ld;
  for (int i = 0; i < kh; i++) {
    for (int j = 0; j < kw; j++) {
      /* Source column q = p − shift, at (ry − dy, rx − dx). */
      const int dy = i - pad, dx = j - pad, shift = dy * w + dx;
      const int8 ok0 = im2col_ok8(q0, (int)pixels, ry0, rx0, -dy, -dx, h, w);
      const int8 ok1 = im2col_ok8(q0 + 8, (int)pixels, ry1, rx1, -dy, -dx, h, w);
      acc0 += im2col_shift_load8(rows, q0 - shift, 0, (int)pixels, ok0);
      acc1 += im2col_shift_load8(rows, q0 + 8 - shift, 0, (int)pixels, ok1);
      rows += ld;
    }
  }
  __global float *out = dx + dx_off + c * sc + (uint)q0;
  const uint nq = min(16u, pixels - (uint)q0);
  if (nq == 16u) {
    vstore8(acc0, 0, out);
    vstore8(acc1, 1, out);
  } else {
    float t16[16];
    vstore8(acc0, 0, t16);
    vstore8(acc1, 1, t16);
    for (uint l = 0; l < nq; l++) out[l] = t16[l];
  }
}

/* ---- any geometry, 16 columns per work-item ----
 * The same panels as im2col_panels / _t, but a work-item computes the 16
 * columns' (n, oy, ox) once with vector arithmetic instead of per element;
 * loads are per lane (strided sources). */

/* Sample offset and top-left input corner of the 8 columns q0 .. q0+7. */
void im2col_corner8(const int q0, const int oh, const int ow, const int stride, const int pad,
                    const uint sn, int8 *base, int8 *iy0, int8 *ix0) {
  const int8 q = (int8)(q0) + im2col_iota8();
  const int8 n = q / (int8)(oh * ow), r = q - n * (int8)(oh * ow);
  const int8 y = r / (int8)(ow), xo = r - y * (int8)(ow);
  *base = n * (int8)((int)sn);
  *iy0 = y * (int8)(stride) - (int8)(pad);
  *ix0 = xo * (int8)(stride) - (int8)(pad);
}

/* The 8 values x[base + iy·w + ix] (0 outside the image or past `columns`). */
float8 im2col_gather8(__global const float *src, const int q0, const int columns,
                      const int8 base, const int8 iy, const int8 ix, const int h, const int w) {
  const int8 q = (int8)(q0) + im2col_iota8();
  const int8 ok = (q < (int8)(columns)) & (iy >= (int8)(0)) & (iy < (int8)(h)) &
                  (ix >= (int8)(0)) & (ix < (int8)(w));
  const int8 at = select((int8)(0), base + iy * (int8)(w) + ix, ok);
  float8 v = (float8)(src[at.s0], src[at.s1], src[at.s2], src[at.s3], src[at.s4], src[at.s5],
                      src[at.s6], src[at.s7]);
  return select((float8)(0.0f), v, ok);
}

/* Work-item (panel t, channel c) of im2col_panels (width 16). */
__kernel void im2col_panels_g(__global const float *x, const uint x_off, const uint sn,
                              const uint sc, const int h, const int w, const int oh, const int ow,
                              const uint columns, const uint columns_padded, const uint channels,
                              const int kh, const int kw, const int stride, const int pad,
                              __global float *col, const uint col_off) {
  const uint t = get_global_id(0), c = get_global_id(1);
  if (t * 16u >= columns_padded || c >= channels) return;
  const uint khw = (uint)(kh * kw), rows = channels * khw;
  const int q0 = (int)(t * 16u);
  int8 b0, y0, x0, b1, y1, x1;
  im2col_corner8(q0, oh, ow, stride, pad, sn, &b0, &y0, &x0);
  im2col_corner8(q0 + 8, oh, ow, stride, pad, sn, &b1, &y1, &x1);
  __global const float *src = x + x_off + c * sc;
  __global float *out = col + col_off + (t * rows + c * khw) * 16u;
  for (int i = 0; i < kh; i++)
    for (int j = 0; j < kw; j++) {
      vstore8(im2col_gather8(src, q0, (int)columns, b0, y0 + (int8)(i), x0 + (int8)(j), h, w), 0,
              out);
      vstore8(im2col_gather8(src, q0 + 8, (int)columns, b1, y1 + (int8)(i), x1 + (int8)(j), h, w),
              1, out);
      out += 16;
    }
}

/* Work-item (16-column block b, row panel rt) of im2col_panels_t (width 16). */
__kernel void im2col_panels_t_g(__global const float *x, const uint x_off, const uint sn,
                                const uint sc, const int h, const int w, const int oh,
                                const int ow, const uint columns, const uint channels,
                                const int kh, const int kw, const int stride, const int pad,
                                __global float *col, const uint col_off) {
  const uint b = get_global_id(0), rt = get_global_id(1);
  const uint khw = (uint)(kh * kw), rows = channels * khw;
  if (b * 16u >= columns || rt * 16u >= rows) return;
  const int q0 = (int)(b * 16u);
  int8 b0, y0, x0, b1, y1, x1;
  im2col_corner8(q0, oh, ow, stride, pad, sn, &b0, &y0, &x0);
  im2col_corner8(q0 + 8, oh, ow, stride, pad, sn, &b1, &y1, &x1);
  float tile[16][16];
  for (uint jr = 0; jr < 16u; jr++) {
    const uint rr = rt * 16u + jr;
    if (rr >= rows) {
      vstore8((float8)(0.0f), 0, tile[jr]);
      vstore8((float8)(0.0f), 1, tile[jr]);
      continue;
    }
    const uint c = rr / khw, ij = rr - c * khw;
    const int i = (int)(ij / (uint)kw), j = (int)ij - i * kw;
    __global const float *src = x + x_off + c * sc;
    vstore8(im2col_gather8(src, q0, (int)columns, b0, y0 + (int8)(i), x0 + (int8)(j), h, w), 0,
            tile[jr]);
    vstore8(im2col_gather8(src, q0 + 8, (int)columns, b1, y1 + (int8)(i), x1 + (int8)(j), h, w),
            1, tile[jr]);
  }
  const uint nq = min(16u, columns - (uint)q0);
  __global float *out = col + col_off + (rt * columns + (uint)q0) * 16u;
  for (uint l = 0; l < nq; l++) {
    const float8 v0 = (float8)(tile[0][l], tile[1][l], tile[2][l], tile[3][l], tile[4][l],
                               tile[5][l], tile[6][l], tile[7][l]);
    const float8 v1 = (float8)(tile[8][l], tile[9][l], tile[10][l], tile[11][l], tile[12][l],
                               tile[13][l], tile[14][l], tile[15][l]);
    vstore8(v0, 0, out + l * 16u);
    vstore8(v1, 1, out + l * 16u);
  }
}

/* col2im for any geometry, 16 pixels per work-item: for each (i, j) in
 * order, the lanes whose pixel a window (i, j) covers add that column entry —
 * the same terms in the same order as col2im, with the index arithmetic done
 * once per 8 lanes. */
__kernel void col2im_g(__global const float *col, const uint col_off, const uint ld,
                       const int h, const int w, const int oh, const int ow, const uint pixels,
                       const uint channels, const int kh, const int kw, const int stride,
                       const int pad, __global float *dx, const uint dx_off, const uint sn,
                       const uint sc) {
  const uint t = get_global_id(0), c = get_global_id(1);
  if (t * 16u >= pixels || c >= channels) return;
  const int q0 = (int)(t * 16u);
  float8 acc[2];
  int8 n8[2], ty[2], tx[2], live[2];
  for (int hf = 0; hf < 2; hf++) {
    const int8 q = (int8)(q0 + 8 * hf) + im2col_iota8();
    n8[hf] = q / (int8)(h * w);
    const int8 r = q - n8[hf] * (int8)(h * w);
    const int8 iy = r / (int8)(w);
    ty[hf] = iy + (int8)(pad);
    tx[hf] = r - iy * (int8)(w) + (int8)(pad);
    live[hf] = q < (int8)((int)pixels);
    acc[hf] = 0.0f;
  }
  __global const float *rows = col + col_off + c * (uint)(kh * kw) * ld;
  for (int i = 0; i < kh; i++)
    for (int j = 0; j < kw; j++) {
      for (int hf = 0; hf < 2; hf++) {
        /* Output (y, x) with y·stride + i = iy + pad. */
        const int8 yn = ty[hf] - (int8)(i), xn = tx[hf] - (int8)(j);
        const int8 y = yn / (int8)(stride), xo = xn / (int8)(stride);
        const int8 ok = live[hf] & (yn >= (int8)(0)) & (xn >= (int8)(0)) &
                        (y * (int8)(stride) == yn) & (xo * (int8)(stride) == xn) &
                        (y < (int8)(oh)) & (xo < (int8)(ow));
        const int8 at = select((int8)(0), n8[hf] * (int8)(oh * ow) + y * (int8)(ow) + xo, ok);
        const float8 v = (float8)(rows[at.s0], rows[at.s1], rows[at.s2], rows[at.s3], rows[at.s4],
                                  rows[at.s5], rows[at.s6], rows[at.s7]);
        acc[hf] += select((float8)(0.0f), v, ok);
      }
      rows += ld;
    }
  for (int hf = 0; hf < 2; hf++) {
    float tmp[8];
    vstore8(acc[hf], 0, tmp);
    for (int l = 0; l < 8; l++) {
      const uint q = (uint)(q0 + 8 * hf + l);
      if (q >= pixels) break;
      const uint n = q / (uint)(h * w), r = q - n * (uint)(h * w);
      dx[dx_off + n * sn + c * sc + r] = tmp[l];
    }
  }
}

/* col2im by planes (CPU, any stride): work-item (sample n, channel c) zeroes
 * its dx plane, then adds every column entry of the plane to its pixel, with
 * (i, j) outermost — each pixel receives its terms in (i, j) order, as col2im
 * sums them, so the result is the same bit for bit; reads are contiguous runs
 * of dcol and the plane stays in L1. */
__kernel void col2im_plane(__global const float *col, const uint col_off, const uint ld,
                           const int h, const int w, const int oh, const int ow,
                           const uint pixels, const uint channels, const int kh, const int kw,
                           const int stride, const int pad, __global float *dx,
                           const uint dx_off, const uint sn, const uint sc) {
  const uint n = get_global_id(0), c = get_global_id(1);
  if (n >= pixels / (uint)(h * w) || c >= channels) return;
  __global float *plane = dx + dx_off + n * sn + c * sc;
  const int hw = h * w;
  int e = 0;
  for (; e + 8 <= hw; e += 8) vstore8((float8)(0.0f), 0, plane + e);
  for (; e < hw; e++) plane[e] = 0.0f;
  __global const float *rows = col + col_off + c * (uint)(kh * kw) * ld + n * (uint)(oh * ow);
  for (int i = 0; i < kh; i++)
    for (int j = 0; j < kw; j++) {
      /* Outputs whose window puts (i, j) inside the image. */
      /* (Negative bounds clamp before dividing: C division truncates.) */
      const int ya = max(0, pad - i) == 0 ? 0 : (pad - i + stride - 1) / stride;
      const int yb = h - 1 + pad - i < 0 ? 0 : min(oh, (h - 1 + pad - i) / stride + 1);
      const int xa = max(0, pad - j) == 0 ? 0 : (pad - j + stride - 1) / stride;
      const int xb = w - 1 + pad - j < 0 ? 0 : min(ow, (w - 1 + pad - j) / stride + 1);
      for (int y = ya; y < yb; y++) {
        __global float *drow = plane + (y * stride - pad + i) * w - pad + j;
        __global const float *srow = rows + y * ow;
        for (int x = xa; x < xb; x++) drow[x * stride] += srow[x];
      }
      rows += ld;
    }
}

/* One work-item per (input pixel q of the chunk, channel c): gathers every
 * column entry the pixel was copied to, in (i, j) order — deterministic, no
 * atomics. dx_off already points at sample n0. */
__kernel void col2im(__global const float *col, const uint col_off, const uint ld,
                     const int h, const int w, const int oh, const int ow, const uint pixels,
                     const uint channels, const int kh, const int kw, const int stride,
                     const int pad, __global float *dx, const uint dx_off, const uint sn,
                     const uint sc) {
  const uint q = get_global_id(0), c = get_global_id(1);
  if (q >= pixels || c >= channels) return;
  const uint plane = (uint)(h * w);
  const uint n = q / plane, r = q - n * plane;
  const int iy = (int)(r / (uint)w), ix = (int)r - iy * w;
  const uint col_n = n * (uint)(oh * ow);
  const uint row_c = c * (uint)(kh * kw);
  float acc = 0.0f;
  /* Output oh covers iy with kernel row i = iy + PAD − oh·STRIDE: walk the rows
   * congruent to (iy + PAD) mod STRIDE. */
  for (int i = (iy + pad) % stride; i < kh; i += stride) {
    const int ty = iy + pad - i;
    if (ty < 0) break;
    const int y = ty / stride;
    if (y >= oh) continue;
    for (int j = (ix + pad) % stride; j < kw; j += stride) {
      const int tx = ix + pad - j;
      if (tx < 0) break;
      const int xo = tx / stride;
      if (xo >= ow) continue;
      acc += col[col_off + (row_c + (uint)(i * kw + j)) * ld + col_n + (uint)(y * ow + xo)];
    }
  }
  dx[dx_off + n * sn + c * sc + r] = acc;
}

/* y(n, c, p) += b[c] over a whole activation; one work-item per (n·HW + p, c). */
__kernel void channel_bias_add(__global float *y, const uint y_off, const uint sn, const uint sc,
                               const uint hw, const uint count, const uint channels,
                               __global const float *b, const uint b_off) {
  const uint q = get_global_id(0), c = get_global_id(1);
  if (q >= count || c >= channels) return;
  const uint n = q / hw, p = q - n * hw;
  y[y_off + n * sn + c * sc + p] += b[b_off + c];
}
