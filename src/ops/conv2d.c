/* 2-D convolution as im2col + GEMM.
 *
 * Two engines (src/device/tuning.h). With fer-cl's packed GEMM (CPU devices),
 * CNHW convolutions write the column matrix straight into GEMM panels
 * (im2col_panels / im2col_panels_t in cl/conv2d.cl) and pack only the small
 * operands (weights, dY), so no pass copies the big column matrix:
 *   forward      Y[:, chunk] = pack(W) · panels(col)
 *   backward-x   dcol = pack(Wᵀ) · pack(dY[:, chunk]), then col2im
 *   backward-w   dW += pack(dY[:, chunk]) · panelsᵀ(col)
 * Stride-1 "same" convolutions skip the column matrix altogether in forward and
 * backward-data: conv_panel_s1 (cl/gemm.cl) builds each column panel's slice
 * in private memory (implicit GEMM), and backward-data is the convolution of dY
 * with the transposed weights rotated by 180° (no col2im). Where it pays
 * (use_tap_panels), forward of any stride and stride-1 backward-data run on
 * batch panels instead (conv_tap: 16 samples at one output pixel, the taps
 * in the padding skipped, the source copied once by conv_batch_panels).
 * Otherwise (CLBlast, or NCHW) as follows.
 *
 * CNHW: x is [C_in][N·H·W] and y [C_out][N·OH·OW], so a chunk of samples is
 *   Y[:, chunk] = W[C_out×K] · col[K × chunk·OH·OW]          one GEMM, ldc = N·OH·OW
 *   dcol        = Wᵀ · dY[:, chunk]  then col2im              one GEMM
 *   dW         += dY[:, chunk] · colᵀ                         one GEMM per chunk
 * NCHW: the same per sample, as strided-batched GEMMs over the chunk; dW sums
 * sample by sample. Chunks and samples are visited in a fixed order (beta = 1
 * after the first), so results are deterministic. A 1×1 stride-1 unpadded
 * convolution needs no im2col: x already is the column matrix. */
#include <stdio.h>

#include "ops/conv_internal.h"
#include "ops/gemm_internal.h"
#include "ops/spatial.h"

static int is_pointwise(const fc_conv2d_desc *d) {
  return d->kh == 1 && d->kw == 1 && d->stride == 1 && d->pad == 0;
}

static size_t rows_k(const fc_conv2d_desc *d) { return (size_t)d->c_in * d->kh * d->kw; }
static size_t plane_out(const fc_conv2d_desc *d) {
  return (size_t)fc_conv2d_out_h(d) * fc_conv2d_out_w(d);
}

static size_t panel_part(size_t p, size_t k, int w) {
  return w > 0 ? fc_gemm_panel_floats(p, k, w) : fc_gemm_panel_floats_max(p, k);
}

/* Packed-GEMM workspace of a chunk (floats), each part rounded to `aw` / `bw`
 * panel widths (0: a bound for every width): forward [W panels | col panels],
 * backward-x [Wᵀ panels | dY panels | dcol], backward-w [dY panels | colᵀ panels]. */
typedef struct packed_parts {
  size_t fwd_a, fwd_b, bx_a, bx_b, bx_col, bw_a, bw_b;
  size_t bx_flip; /* implicit backward-data: panels of W̃ [c_in × c_out·kh·kw] */
  size_t tap;     /* batch panels (whole batch): tap-major weight panels + source */
} packed_parts;

/* Batch panels of the whole batch (conv_tap): `rows` output channels of
 * weight panels over `inner` input channels per tap, then the source's
 * `inner` channels in blocks of 16 samples. */
static size_t tap_floats(const fc_conv2d_desc *d, size_t rows, size_t inner, int aw) {
  size_t samples = ((size_t)d->n + 15) / 16 * 16;
  return panel_part(rows, inner * d->kh * d->kw, aw) + samples * d->h * d->w * inner;
}

static packed_parts packed_layout(const fc_conv2d_desc *d, size_t chunk, int aw, int bw) {
  size_t k = rows_k(d), co = (size_t)d->c_out, cols = chunk * plane_out(d);
  packed_parts p;
  p.fwd_a = panel_part(co, k, aw);
  p.fwd_b = panel_part(cols, k, bw);
  p.bx_a = panel_part(k, co, aw);
  p.bx_b = panel_part(cols, co, bw);
  p.bx_col = is_pointwise(d) ? 0 : k * cols;
  p.bw_a = panel_part(co, cols, aw);
  p.bw_b = panel_part(k, cols, bw);
  p.bx_flip = panel_part((size_t)d->c_in, (size_t)d->c_out * d->kh * d->kw, aw);
  p.tap = 0;
  if (chunk >= (size_t)d->n) {
    size_t f = tap_floats(d, co, (size_t)d->c_in, aw), b = tap_floats(d, (size_t)d->c_in, co, aw);
    p.tap = f > b ? f : b;
  }
  return p;
}

static size_t packed_floats(const fc_conv2d_desc *d, size_t chunk) {
  packed_parts p = packed_layout(d, chunk, 0, 0);
  size_t need = p.fwd_a + p.fwd_b;
  if (p.bx_a + p.bx_b + p.bx_col > need) need = p.bx_a + p.bx_b + p.bx_col;
  if (p.bw_a + p.bw_b > need) need = p.bw_a + p.bw_b;
  if (p.bx_flip > need) need = p.bx_flip;
  if (p.tap > need) need = p.tap;
  return need;
}

size_t fc_conv2d_workspace_size(const fc_conv2d_desc *d, int max_chunk_samples) {
  if (fc_conv2d_check(d) != FC_OK) return 0;
  size_t chunk =
      max_chunk_samples <= 0 || max_chunk_samples > d->n ? (size_t)d->n : (size_t)max_chunk_samples;
  /* Enough for either GEMM engine, so callers need not know the device's. */
  size_t col = is_pointwise(d) ? 0 : rows_k(d) * plane_out(d) * chunk;
  size_t packed = packed_floats(d, chunk);
  if (packed > col) col = packed;
  size_t bias = fc_channel_sum_workspace_size(fc_conv2d_out_shape(d));
  return col > bias ? col : bias;
}

/* Samples per im2col for the workspace we were given: the largest chunk whose
 * fc_conv2d_workspace_size fits. */
static fc_status choose_chunk(const char *op, const fc_conv2d_desc *d, fc_view ws, size_t ws_size,
                              int *chunk) {
  if (ws.mem && ws_size >= fc_conv2d_workspace_size(d, d->n)) {
    *chunk = d->n;
    return FC_OK;
  }
  size_t one = fc_conv2d_workspace_size(d, 1);
  size_t per_sample = rows_k(d) * plane_out(d);
  if (ws_size < one || !ws.mem)
    return fc_errorf(FC_ERR_INVALID_ARG,
                     "%s: the workspace holds %zu floats, less than one sample needs "
                     "(%zu floats for %dx%dx%d input, %dx%d kernel); size it with "
                     "fc_conv2d_workspace_size",
                     op, ws.mem ? ws_size : 0, one, d->c_in, d->h, d->w, d->kh, d->kw);
  /* Sizes grow linearly with the chunk: estimate, then step down to a fit. */
  size_t n = ws_size / (one > 0 ? one : 1);
  size_t lo = n > 0 ? n : 1;
  while (lo + 1 < (size_t)d->n && fc_conv2d_workspace_size(d, (int)(lo + 1)) <= ws_size) lo++;
  while (lo > 1 && fc_conv2d_workspace_size(d, (int)lo) > ws_size) lo--;
  n = lo;
  size_t max_u32 = 0xffffffffu / per_sample; /* column matrix indices are uints */
  if (n > max_u32) n = max_u32;
  if (n > (size_t)d->n) n = (size_t)d->n;
  if (n == 0)
    return fc_errorf(FC_ERR_LIMIT,
                     "%s: one sample's column matrix (%zu floats) exceeds 32-bit "
                     "indices",
                     op, per_sample);
  *chunk = (int)n;
  return FC_OK;
}

static fc_status check_common(const char *op, const fc_conv2d_desc *d, fc_view x, fc_view w,
                              fc_view y) {
  FC_TRY(fc_conv2d_check(d));
  FC_TRY(fc_ops_check_view(op, "x (or dx)", x, fc_shape4_count(fc_conv2d_in_shape(d))));
  FC_TRY(fc_ops_check_view(op, "weights (or their gradient)", w, fc_conv2d_weight_count(d)));
  return fc_ops_check_view(op, "y (or dy)", y, fc_shape4_count(fc_conv2d_out_shape(d)));
}

/* The column matrix of a chunk: either the workspace filled by im2col, or x itself
 * for pointwise convolutions. For NCHW, `sample_stride` is the distance between the
 * samples' matrices (strided-batched B); for CNHW the chunk is one matrix. */
typedef struct col_matrix {
  fc_view view;
  size_t ld, sample_stride;
} col_matrix;

static col_matrix chunk_columns(const fc_conv2d_desc *d, fc_view x, fc_view ws, int n0, int nc) {
  col_matrix m;
  size_t p = plane_out(d);
  if (!is_pointwise(d)) {
    m.view = ws;
    m.ld = (size_t)nc * p;
    m.sample_stride = p;
  } else if (d->layout == FC_LAYOUT_CNHW) {
    m.view = fc_view_add(x, (size_t)n0 * p);
    m.ld = (size_t)d->n * p;
    m.sample_stride = p;
  } else {
    m.view = fc_view_add(x, (size_t)n0 * d->c_in * p);
    m.ld = p;
    m.sample_stride = (size_t)d->c_in * p;
  }
  return m;
}

static fc_status bias_add(fc_device *dev, const fc_conv2d_desc *d, fc_view b, fc_view y) {
  fc_shape4 s = fc_conv2d_out_shape(d);
  FC_TRY(fc_ops_check_view("conv2d_forward", "bias", b, (size_t)d->c_out));
  cl_kernel k = NULL;
  FC_TRY(fc_conv2d_kernel(dev, "channel_bias_add", &k));
  size_t hw = (size_t)s.h * s.w, count = (size_t)s.n * hw;
  const fc_kernel_arg args[] = {FC_ARG_VIEW(y),
                                FC_ARG_UINT(fc_shape4_stride_n(s)),
                                FC_ARG_UINT(fc_shape4_stride_c(s)),
                                FC_ARG_UINT(hw),
                                FC_ARG_UINT(count),
                                FC_ARG_UINT(s.c),
                                FC_ARG_VIEW(b)};
  return fc_ops_launch_2d(dev, k, "conv2d_bias", count, (size_t)s.c, args, FC_NARGS(args));
}

/* ---- packed-GEMM paths (CNHW on fer-cl's GEMM engine) ---- */

static int use_packed(const fc_device *dev, const fc_conv2d_desc *d) {
  return fc_gemm_packed_active(dev) && d->layout == FC_LAYOUT_CNHW;
}

/* GEMM B panels of the chunk's column matrix (logical [K × cols]). */
static fc_status panels_of_columns(fc_device *dev, const fc_conv2d_desc *d, fc_view x, int n0,
                                   int nc, fc_view out) {
  const int nr = fc_gemm_nr(dev);
  size_t p = plane_out(d), cols = (size_t)nc * p, k = rows_k(d);
  if (is_pointwise(d)) /* x[c][n0·p + q] is the column matrix */
    return fc_gemm_pack(dev, fc_view_add(x, (size_t)n0 * p), 1, (size_t)d->n * p, cols, k, nr, out,
                        1, 0, 0);
  fc_shape4 s = fc_conv2d_in_shape(d);
  size_t padded = (cols + (size_t)nr - 1) / (size_t)nr * (size_t)nr;
  FC_TRY(fc_ops_check_u32("im2col", out.offset + padded * k, "panel extent"));
  cl_kernel kernel = NULL;
  fc_view xs = fc_view_add(x, (size_t)n0 * fc_shape4_stride_n(s));
  if (nr == 16 && fc_conv2d_shift_eligible(d)) {
    FC_TRY(fc_conv2d_kernel(dev, "im2col_panels_s1", &kernel));
    int before = n0 * d->h * d->w, after = (d->n - n0) * d->h * d->w;
    const fc_kernel_arg args[] = {FC_ARG_VIEW(xs),      FC_ARG_UINT(fc_shape4_stride_c(s)),
                                  FC_ARG_INT(d->h),     FC_ARG_INT(d->w),
                                  FC_ARG_UINT(cols),    FC_ARG_UINT(padded),
                                  FC_ARG_UINT(d->c_in), FC_ARG_INT(d->kh),
                                  FC_ARG_INT(d->kw),    FC_ARG_INT(d->pad),
                                  FC_ARG_INT(-before),  FC_ARG_INT(after),
                                  FC_ARG_VIEW(out)};
    return fc_ops_launch_2d(dev, kernel, "im2col", padded / 16, (size_t)d->c_in, args,
                            FC_NARGS(args));
  }
  int wide = nr == 16; /* 16-column work-items */
  FC_TRY(fc_conv2d_kernel(dev, wide ? "im2col_panels_g" : "im2col_panels", &kernel));
  const fc_kernel_arg args[] = {FC_ARG_VIEW(xs),     FC_ARG_CONV_PLANES(d, s), FC_ARG_UINT(cols),
                                FC_ARG_UINT(padded), FC_ARG_CONV_WINDOW(d),    FC_ARG_VIEW(out),
                                FC_ARG_UINT(nr)};
  if (wide)
    return fc_ops_launch_2d(dev, kernel, "im2col", padded / 16, (size_t)d->c_in, args,
                            FC_NARGS(args) - 1);
  return fc_ops_launch_2d(dev, kernel, "im2col", padded, (size_t)d->c_in, args, FC_NARGS(args));
}

/* GEMM B panels of the chunk's transposed column matrix (logical [cols × K]). */
static fc_status panels_of_columns_t(fc_device *dev, const fc_conv2d_desc *d, fc_view x, int n0,
                                     int nc, fc_view out) {
  const int nr = fc_gemm_nr(dev);
  size_t p = plane_out(d), cols = (size_t)nc * p, k = rows_k(d);
  if (is_pointwise(d)) /* row kk of the column matrix is x[kk][n0·p ..] */
    return fc_gemm_pack(dev, fc_view_add(x, (size_t)n0 * p), (size_t)d->n * p, 1, k, cols, nr, out,
                        1, 0, 0);
  fc_shape4 s = fc_conv2d_in_shape(d);
  FC_TRY(
      fc_ops_check_u32("im2col", out.offset + fc_gemm_panel_floats(k, cols, nr), "panel extent"));
  cl_kernel kernel = NULL;
  fc_view xs = fc_view_add(x, (size_t)n0 * fc_shape4_stride_n(s));
  if (nr == 16 && fc_conv2d_shift_eligible(d)) {
    FC_TRY(fc_conv2d_kernel(dev, "im2col_panels_t_s1", &kernel));
    int before = n0 * d->h * d->w, after = (d->n - n0) * d->h * d->w;
    const fc_kernel_arg args[] = {FC_ARG_VIEW(xs),    FC_ARG_UINT(fc_shape4_stride_c(s)),
                                  FC_ARG_INT(d->h),   FC_ARG_INT(d->w),
                                  FC_ARG_UINT(cols),  FC_ARG_UINT(d->c_in),
                                  FC_ARG_INT(d->kh),  FC_ARG_INT(d->kw),
                                  FC_ARG_INT(d->pad), FC_ARG_INT(-before),
                                  FC_ARG_INT(after),  FC_ARG_VIEW(out)};
    return fc_ops_launch_2d(dev, kernel, "im2col_t", (cols + 15) / 16, (k + 15) / 16, args,
                            FC_NARGS(args));
  }
  int wide = nr == 16; /* 16-column work-items */
  FC_TRY(fc_conv2d_kernel(dev, wide ? "im2col_panels_t_g" : "im2col_panels_t", &kernel));
  const fc_kernel_arg args[] = {FC_ARG_VIEW(xs),       FC_ARG_CONV_PLANES(d, s), FC_ARG_UINT(cols),
                                FC_ARG_CONV_WINDOW(d), FC_ARG_VIEW(out),         FC_ARG_UINT(nr)};
  if (wide)
    return fc_ops_launch_2d(dev, kernel, "im2col_t", (cols + 15) / 16, (k + 15) / 16, args,
                            FC_NARGS(args) - 1);
  return fc_ops_launch_2d(dev, kernel, "im2col_t", cols, (size_t)d->c_in + 1, args, FC_NARGS(args));
}

/* ---- implicit GEMM (conv_panel_s1 in cl/gemm.cl): stride-1 same convolutions ---- */

static int use_implicit(const fc_device *dev, const fc_conv2d_desc *d) {
  return dev->tuning.conv_implicit && use_packed(dev, d) && fc_gemm_nr(dev) == 16 &&
         fc_conv2d_shift_eligible(d);
}

/* Batch panels (conv_tap) skip the taps that fall in the padding: their
 * work is the taps that reach the image over the batch rounded up to 16;
 * conv_panel_s1's is every tap over N·H·W columns rounded up to 16. Per k row
 * of 16 columns both run one FMA per output row (m); conv_panel_s1 builds the
 * row first (two vector loads, selects and stores), which weighs most when m
 * is small, while conv_tap reads a copy made once per convolution. */
static int use_tap_panels(const fc_conv2d_desc *d, size_t m) {
  if (d->kh * d->kw > 49) return 0;
  int oh = fc_conv2d_out_h(d), ow = fc_conv2d_out_w(d);
  size_t valid = 0;
  for (int y = 0; y < oh; y++)
    for (int x = 0; x < ow; x++)
      for (int i = 0; i < d->kh; i++)
        for (int j = 0; j < d->kw; j++) {
          int yy = y * d->stride + i - d->pad, xx = x * d->stride + j - d->pad;
          valid += yy >= 0 && yy < d->h && xx >= 0 && xx < d->w;
        }
  size_t cols = (size_t)d->n * oh * ow;
  double tap_work = (double)((d->n + 15) / 16 * 16) * (double)valid;
  double panel_work = (double)((cols + 15) / 16 * 16) * d->kh * d->kw;
  /* Measured on PoCL skylake-avx512 (bench --only conv, resnet18 at 3×112²,
   * 1×48² and width 0.5, batch 64-128): batch panels were as fast or faster
   * on every plane from 2×2 to 28×28, 1.1-1.3x on 12×12 to 28×28 planes,
   * which the former weight of the strided build (m + 32 against m + 8)
   * sent to column panels. */
  return tap_work * (double)m < panel_work * ((double)m + 8.0);
}

/* C[m × N·H·W] (ldc = N·H·W) = A panels · cols(src), src [channels][N·H·W],
 * by conv_panel_s1 over 16-column panels. */
static fc_status implicit_gemm(fc_device *dev, const fc_conv2d_desc *d, size_t m, size_t channels,
                               fc_view ap, fc_view src, fc_view c) {
  const int mr = fc_gemm_mr(dev);
  size_t plane = (size_t)d->h * d->w, cols = (size_t)d->n * plane, k = channels * d->kh * d->kw;
  size_t m_tiles = (m + (size_t)mr - 1) / (size_t)mr, n_tiles = (cols + 15) / 16;
  size_t groups = 1, per_group = 1;
  fc_gemm_groups(dev, m_tiles, n_tiles, 1, &groups, &per_group);
  int kc = dev->tuning.gemm.kc;
  if (kc <= 0 || kc > 256) kc = 256; /* GEMM_KC_MAX: the slice lives in private memory */
  FC_TRY(fc_ops_check_u32("conv2d", ap.offset + m_tiles * (size_t)mr * k, "A panel extent"));
  cl_kernel kernel = NULL;
  FC_TRY(fc_gemm_kernel(dev, "conv_panel_s1", &kernel));
  if (fc_device_profiling(dev))
    snprintf(dev->prof_shape, sizeof dev->prof_shape, "m=%zu n=%zu k=%zu implicit", m, cols, k);
  const fc_kernel_arg args[] = {
      FC_ARG_INT(m),      FC_ARG_INT(cols),     FC_ARG_INT(k),
      FC_ARG_INT(kc),     FC_ARG_VIEW(ap),      FC_ARG_UINT(k * (size_t)mr),
      FC_ARG_VIEW(src),   FC_ARG_UINT(cols),    FC_ARG_INT(d->h),
      FC_ARG_INT(d->w),   FC_ARG_INT(d->kh),    FC_ARG_INT(d->kw),
      FC_ARG_INT(d->pad), FC_ARG_FLOAT(0.0f),   FC_ARG_VIEW(c),
      FC_ARG_UINT(cols),  FC_ARG_INT(per_group)};
  size_t global[2] = {n_tiles, groups}, local[2] = {(size_t)dev->tuning.gemm.wg, 1};
  fc_status st = fc_launch(dev, kernel, "conv_gemm", 2, global, local, args, FC_NARGS(args));
  dev->prof_shape[0] = '\0';
  return st;
}

/* C[m × N·OH·OW] (ldc = N·OH·OW) = A panels · cols(src), src [channels][N·H·W],
 * by conv_tap over batch panels: src is first copied into batch panels at xb
 * (conv_batch_panels), which conv_tap reads in place. */
static fc_status tap_gemm(fc_device *dev, const fc_conv2d_desc *d, size_t m, size_t channels,
                          fc_view ap, fc_view src, fc_view xb, fc_view c) {
  const int mr = fc_gemm_mr(dev);
  size_t plane = (size_t)d->h * d->w, oplane = plane_out(d), cols = (size_t)d->n * oplane;
  size_t k = channels * d->kh * d->kw;
  size_t blocks = ((size_t)d->n + 15) / 16, m_tiles = (m + (size_t)mr - 1) / (size_t)mr;
  FC_TRY(
      fc_ops_check_u32("conv2d", xb.offset + blocks * plane * channels * 16, "batch panel extent"));
  FC_TRY(fc_ops_check_u32("conv2d", ap.offset + m_tiles * (size_t)mr * k, "A panel extent"));
  cl_kernel kernel = NULL;
  FC_TRY(fc_gemm_kernel(dev, "conv_batch_panels", &kernel));
  {
    const fc_kernel_arg args[] = {FC_ARG_VIEW(src),     FC_ARG_UINT((size_t)d->n * plane),
                                  FC_ARG_INT(d->n),     FC_ARG_INT(plane),
                                  FC_ARG_INT(channels), FC_ARG_VIEW(xb)};
    FC_TRY(fc_ops_launch_2d(dev, kernel, "batch_panels", blocks * plane, channels, args,
                            FC_NARGS(args)));
  }
  size_t groups = 1, per_group = 1;
  fc_gemm_groups(dev, m_tiles, blocks * oplane, 1, &groups, &per_group);
  FC_TRY(fc_gemm_kernel(dev, "conv_tap", &kernel));
  if (fc_device_profiling(dev))
    snprintf(dev->prof_shape, sizeof dev->prof_shape, "m=%zu n=%zu k=%zu taps", m, cols, k);
  const fc_kernel_arg args[] = {FC_ARG_INT(m),
                                FC_ARG_INT(d->n),
                                FC_ARG_INT(channels),
                                FC_ARG_VIEW(ap),
                                FC_ARG_UINT(k * (size_t)mr),
                                FC_ARG_VIEW(xb),
                                FC_ARG_INT(d->h),
                                FC_ARG_INT(d->w),
                                FC_ARG_INT(fc_conv2d_out_h(d)),
                                FC_ARG_INT(fc_conv2d_out_w(d)),
                                FC_ARG_INT(d->kh),
                                FC_ARG_INT(d->kw),
                                FC_ARG_INT(d->stride),
                                FC_ARG_INT(d->pad),
                                FC_ARG_FLOAT(0.0f),
                                FC_ARG_VIEW(c),
                                FC_ARG_UINT(cols),
                                FC_ARG_INT(per_group)};
  size_t global[2] = {blocks * oplane, groups}, local[2] = {1, 1};
  fc_status st = fc_launch(dev, kernel, "conv_gemm", 2, global, local, args, FC_NARGS(args));
  dev->prof_shape[0] = '\0';
  return st;
}

/* Tap-major weight panels (gemm_pack_wtap): forward, or backward-data's
 * rotated transpose (flip). */
static fc_status pack_weights_tap_major(fc_device *dev, const fc_conv2d_desc *d, fc_view w,
                                        int flip, fc_view ws) {
  const int mr = fc_gemm_mr(dev);
  size_t khw = (size_t)d->kh * d->kw, rows = flip ? (size_t)d->c_in : (size_t)d->c_out;
  size_t k = (flip ? (size_t)d->c_out : (size_t)d->c_in) * khw;
  size_t panels = (rows + (size_t)mr - 1) / (size_t)mr;
  FC_TRY(fc_ops_check_u32("conv2d", ws.offset + panels * (size_t)mr * k, "A panel extent"));
  cl_kernel kernel = NULL;
  FC_TRY(fc_gemm_kernel(dev, "gemm_pack_wtap", &kernel));
  const fc_kernel_arg args[] = {FC_ARG_VIEW(w),   FC_ARG_UINT(d->c_in), FC_ARG_UINT(d->c_out),
                                FC_ARG_UINT(khw), FC_ARG_INT(flip),     FC_ARG_UINT(mr),
                                FC_ARG_VIEW(ws)};
  size_t global[2] = {k, panels}, local[2] = {dev->wg_1d, 1};
  return fc_launch(dev, kernel, "gemm_pack", 2, global, local, args, FC_NARGS(args));
}

/* Batch panels when they pay (use_tap_panels) and the workspace holds them:
 * C[m × N·OH·OW] by conv_tap over `channels` source channels. Any stride in
 * forward (the caller checks fc_conv2d_shift_eligible for backward-data).
 * Not for 1×1 kernels: they have no padded taps to skip, and a strided one
 * would copy every input pixel into the panels to read a quarter of them
 * (measured 0.6-0.8x of im2col + GEMM on ResNet's shortcuts). */
static int tap_path(fc_device *dev, const fc_conv2d_desc *d, size_t m, size_t channels,
                    size_t ws_size) {
  return dev->tuning.conv_implicit && use_packed(dev, d) && fc_gemm_nr(dev) == 16 &&
         d->kh * d->kw > 1 && use_tap_panels(d, m) &&
         ws_size >= tap_floats(d, m, channels, fc_gemm_mr(dev));
}

static fc_status tap_conv(fc_device *dev, const fc_conv2d_desc *d, size_t m, size_t channels,
                          int flip, fc_view w, fc_view src, fc_view c, fc_view ws) {
  size_t a_floats = fc_gemm_panel_floats(m, channels * d->kh * d->kw, fc_gemm_mr(dev));
  FC_TRY(pack_weights_tap_major(dev, d, w, flip, ws));
  return tap_gemm(dev, d, m, channels, ws, src, fc_view_add(ws, a_floats), c);
}

static fc_status implicit_forward(fc_device *dev, const fc_conv2d_desc *d, fc_view x, fc_view w,
                                  fc_view y, fc_view ws) {
  const int mr = fc_gemm_mr(dev);
  size_t k = rows_k(d), co = (size_t)d->c_out, ci = (size_t)d->c_in;
  FC_TRY(fc_gemm_pack(dev, w, k, 1, co, k, mr, ws, 1, 0, 0));
  return implicit_gemm(dev, d, co, ci, ws, x, y);
}

static fc_status implicit_backward_data(fc_device *dev, const fc_conv2d_desc *d, fc_view dy,
                                        fc_view w, fc_view dx, fc_view ws, size_t ws_size) {
  const int mr = fc_gemm_mr(dev);
  size_t khw = (size_t)d->kh * d->kw, ci = (size_t)d->c_in, co = (size_t)d->c_out, k = co * khw;
  if (tap_path(dev, d, ci, co, ws_size)) /* rotated weights, same padding: see below */
    return tap_conv(dev, d, ci, co, 1, w, dy, dx, ws);
  size_t panels = (ci + (size_t)mr - 1) / (size_t)mr;
  FC_TRY(fc_ops_check_u32("conv2d", ws.offset + panels * (size_t)mr * k, "A panel extent"));
  cl_kernel kernel = NULL;
  FC_TRY(fc_gemm_kernel(dev, "gemm_pack_wflip", &kernel));
  const fc_kernel_arg args[] = {FC_ARG_VIEW(w),   FC_ARG_UINT(ci), FC_ARG_UINT(d->c_out),
                                FC_ARG_UINT(khw), FC_ARG_UINT(mr), FC_ARG_VIEW(ws)};
  size_t global[2] = {k, panels}, local[2] = {dev->wg_1d, 1};
  FC_TRY(fc_launch(dev, kernel, "gemm_pack", 2, global, local, args, FC_NARGS(args)));
  /* Rotated weights with same padding (2·pad = K − 1, implied by OH = H, OW = W):
   * a forward convolution of dY. */
  return implicit_gemm(dev, d, ci, co, ws, dy, dx);
}

/* Weight gradient through conv_wgrad_s1: the whole batch at once, so the
 * workspace must hold dY's A panels and x channel-last. */
static size_t wgrad_floats(const fc_conv2d_desc *d, int mr) {
  size_t cols = (size_t)d->n * d->h * d->w;
  return fc_gemm_panel_floats((size_t)d->c_out, cols, mr) + cols * (size_t)d->c_in +
         (size_t)d->c_out * d->c_in * d->kh * d->kw;
}

static int use_implicit_wgrad(const fc_device *dev, const fc_conv2d_desc *d, size_t ws_size) {
  return use_implicit(dev, d) && d->c_in % 16 == 0 && ws_size >= wgrad_floats(d, fc_gemm_mr(dev));
}

static fc_status implicit_backward_weights(fc_device *dev, const fc_conv2d_desc *d, fc_view x,
                                           fc_view dy, fc_view dw, int accumulate, fc_view ws) {
  const int mr = fc_gemm_mr(dev);
  size_t cols = (size_t)d->n * d->h * d->w, co = (size_t)d->c_out, ci = (size_t)d->c_in;
  size_t khw = (size_t)d->kh * d->kw;
  size_t a_floats = fc_gemm_panel_floats(co, cols, mr);
  fc_view ap = ws, xt = fc_view_add(ws, a_floats), dwp = fc_view_add(xt, cols * ci);
  FC_TRY(fc_ops_check_u32("conv2d", dwp.offset + co * ci * khw, "workspace extent"));
  FC_TRY(fc_gemm_pack(dev, dy, cols, 1, co, cols, mr, ap, 1, 0, 0));
  cl_kernel kernel = NULL;
  FC_TRY(fc_gemm_kernel(dev, "gemm_transpose_cl", &kernel));
  {
    const fc_kernel_arg args[] = {FC_ARG_VIEW(x), FC_ARG_UINT(cols), FC_ARG_UINT(ci),
                                  FC_ARG_VIEW(xt)};
    FC_TRY(fc_ops_launch_2d(dev, kernel, "transpose", cols, ci / 16, args, FC_NARGS(args)));
  }
  FC_TRY(fc_gemm_kernel(dev, "conv_wgrad_s1", &kernel));
  size_t m_tiles = (co + (size_t)mr - 1) / (size_t)mr, n_tiles = ci * khw / 16;
  size_t groups = 1, per_group = 1;
  fc_gemm_groups(dev, m_tiles, n_tiles, 1, &groups, &per_group);
  size_t kc =
      dev->tuning.gemm.kc > 0 && dev->tuning.gemm.kc <= 256 ? (size_t)dev->tuning.gemm.kc : 256;
  /* Launches of ko pixels: the work-items of a launch share that block of A. */
  size_t ko = (size_t)65536 / (m_tiles * (size_t)mr);
  ko = ko < kc ? kc : (ko + kc - 1) / kc * kc;
  if (fc_device_profiling(dev))
    snprintf(dev->prof_shape, sizeof dev->prof_shape, "m=%zu n=%zu k=%zu implicit", co, ci * khw,
             cols);
  fc_status st = FC_OK;
  for (size_t q0 = 0; q0 < cols && st == FC_OK; q0 += ko) {
    size_t kq = cols - q0 < ko ? cols - q0 : ko;
    fc_view a0 = fc_view_add(ap, q0 * (size_t)mr);
    float beta = q0 == 0 ? 0.0f : 1.0f;
    const fc_kernel_arg args[] = {
        FC_ARG_INT(co),       FC_ARG_INT(ci),     FC_ARG_INT(kq),
        FC_ARG_INT(kc),       FC_ARG_VIEW(a0),    FC_ARG_UINT(cols * (size_t)mr),
        FC_ARG_VIEW(xt),      FC_ARG_INT(d->h),   FC_ARG_INT(d->w),
        FC_ARG_INT(d->kh),    FC_ARG_INT(d->kw),  FC_ARG_INT(d->pad),
        FC_ARG_INT(q0),       FC_ARG_FLOAT(beta), FC_ARG_VIEW(dwp),
        FC_ARG_INT(per_group)};
    size_t global[2] = {n_tiles, groups}, local[2] = {(size_t)dev->tuning.gemm.wg, 1};
    st = fc_launch(dev, kernel, "conv_wgrad", 2, global, local, args, FC_NARGS(args));
  }
  dev->prof_shape[0] = '\0';
  if (st == FC_OK) st = fc_gemm_kernel(dev, "wgrad_permute", &kernel);
  if (st == FC_OK) {
    const fc_kernel_arg args[] = {FC_ARG_VIEW(dwp), FC_ARG_VIEW(dw), FC_ARG_UINT(ci),
                                  FC_ARG_UINT(khw), FC_ARG_UINT(co), FC_ARG_INT(accumulate != 0)};
    st = fc_ops_launch_2d(dev, kernel, "wgrad_permute", ci * khw, co, args, FC_NARGS(args));
  }
  return st;
}

static fc_status packed_forward(fc_device *dev, const fc_conv2d_desc *d, fc_view x, fc_view w,
                                fc_view y, fc_view ws, int chunk) {
  const int mr = fc_gemm_mr(dev), nr = fc_gemm_nr(dev);
  size_t k = rows_k(d), p = plane_out(d), co = (size_t)d->c_out;
  packed_parts parts = packed_layout(d, (size_t)chunk, mr, nr);
  fc_view wp = ws, colp = fc_view_add(ws, parts.fwd_a);
  FC_TRY(fc_gemm_pack(dev, w, k, 1, co, k, mr, wp, 1, 0, 0));
  for (int n0 = 0; n0 < d->n; n0 += chunk) {
    int nc = d->n - n0 < chunk ? d->n - n0 : chunk;
    FC_TRY(panels_of_columns(dev, d, x, n0, nc, colp));
    FC_TRY(fc_gemm_packed(dev, co, (size_t)nc * p, k, 1.0f, wp, colp, 0.0f,
                          fc_view_add(y, (size_t)n0 * p), (size_t)d->n * p, 1, 0, 0, 0));
  }
  return FC_OK;
}

static fc_status packed_backward_data(fc_device *dev, const fc_conv2d_desc *d, fc_view dy,
                                      fc_view w, fc_view dx, fc_view ws, int chunk) {
  const int mr = fc_gemm_mr(dev), nr = fc_gemm_nr(dev);
  size_t k = rows_k(d), p = plane_out(d), co = (size_t)d->c_out, ld = (size_t)d->n * p;
  packed_parts parts = packed_layout(d, (size_t)chunk, mr, nr);
  fc_view wtp = ws, dyp = fc_view_add(ws, parts.bx_a), dcol = fc_view_add(dyp, parts.bx_b);
  FC_TRY(fc_gemm_pack(dev, w, 1, k, k, co, mr, wtp, 1, 0, 0)); /* Wᵀ: (kk, o) at o·K + kk */
  for (int n0 = 0; n0 < d->n; n0 += chunk) {
    int nc = d->n - n0 < chunk ? d->n - n0 : chunk;
    size_t cols = (size_t)nc * p;
    FC_TRY(fc_gemm_pack(dev, fc_view_add(dy, (size_t)n0 * p), 1, ld, cols, co, nr, dyp, 1, 0, 0));
    if (is_pointwise(d)) {
      FC_TRY(fc_gemm_packed(dev, k, cols, co, 1.0f, wtp, dyp, 0.0f, fc_view_add(dx, (size_t)n0 * p),
                            ld, 1, 0, 0, 0));
    } else {
      FC_TRY(fc_gemm_packed(dev, k, cols, co, 1.0f, wtp, dyp, 0.0f, dcol, cols, 1, 0, 0, 0));
      FC_TRY(fc_col2im(dev, d, dcol, cols, n0, nc, dx));
    }
  }
  return FC_OK;
}

static fc_status packed_backward_weights(fc_device *dev, const fc_conv2d_desc *d, fc_view x,
                                         fc_view dy, fc_view dw, int accumulate, fc_view ws,
                                         int chunk) {
  const int mr = fc_gemm_mr(dev), nr = fc_gemm_nr(dev);
  size_t k = rows_k(d), p = plane_out(d), co = (size_t)d->c_out, ld = (size_t)d->n * p;
  packed_parts parts = packed_layout(d, (size_t)chunk, mr, nr);
  fc_view dyp = ws, colp = fc_view_add(ws, parts.bw_a);
  for (int n0 = 0; n0 < d->n; n0 += chunk) {
    int nc = d->n - n0 < chunk ? d->n - n0 : chunk;
    size_t cols = (size_t)nc * p;
    FC_TRY(fc_gemm_pack(dev, fc_view_add(dy, (size_t)n0 * p), ld, 1, co, cols, mr, dyp, 1, 0, 0));
    FC_TRY(panels_of_columns_t(dev, d, x, n0, nc, colp));
    float beta = n0 == 0 && !accumulate ? 0.0f : 1.0f;
    FC_TRY(fc_gemm_packed(dev, co, k, cols, 1.0f, dyp, colp, beta, dw, k, 1, 0, 0, 0));
  }
  return FC_OK;
}

fc_status fc_conv2d_forward(fc_device *dev, const fc_conv2d_desc *d, fc_view x, fc_view w,
                            fc_view b, fc_view y, fc_view ws, size_t ws_size) {
  const char *op = "conv2d_forward";
  FC_TRY(check_common(op, d, x, w, y));
  int chunk = 0;
  FC_TRY(choose_chunk(op, d, ws, ws_size, &chunk));
  if (tap_path(dev, d, (size_t)d->c_out, (size_t)d->c_in, ws_size)) {
    FC_TRY(tap_conv(dev, d, (size_t)d->c_out, (size_t)d->c_in, 0, w, x, y, ws));
    if (fc_view_present(b)) FC_TRY(bias_add(dev, d, b, y));
    return FC_OK;
  }
  if (use_implicit(dev, d)) {
    FC_TRY(implicit_forward(dev, d, x, w, y, ws));
    if (fc_view_present(b)) FC_TRY(bias_add(dev, d, b, y));
    return FC_OK;
  }
  if (use_packed(dev, d)) {
    FC_TRY(packed_forward(dev, d, x, w, y, ws, chunk));
    if (fc_view_present(b)) FC_TRY(bias_add(dev, d, b, y));
    return FC_OK;
  }
  size_t k = rows_k(d), p = plane_out(d), co = (size_t)d->c_out;
  for (int n0 = 0; n0 < d->n; n0 += chunk) {
    int nc = d->n - n0 < chunk ? d->n - n0 : chunk;
    if (!is_pointwise(d)) FC_TRY(fc_im2col(dev, d, x, n0, nc, ws, (size_t)nc * p));
    col_matrix m = chunk_columns(d, x, ws, n0, nc);
    if (d->layout == FC_LAYOUT_CNHW) {
      FC_TRY(fc_gemm(dev, 0, 0, co, (size_t)nc * p, k, 1.0f, w, k, m.view, m.ld, 0.0f,
                     fc_view_add(y, (size_t)n0 * p), (size_t)d->n * p));
    } else {
      FC_TRY(fc_gemm_strided_batched(dev, 0, 0, co, p, k, 1.0f, w, k, 0, m.view, m.ld,
                                     m.sample_stride, 0.0f, fc_view_add(y, (size_t)n0 * co * p), p,
                                     co * p, (size_t)nc));
    }
  }
  if (fc_view_present(b)) FC_TRY(bias_add(dev, d, b, y));
  return FC_OK;
}

fc_status fc_conv2d_backward_data(fc_device *dev, const fc_conv2d_desc *d, fc_view dy, fc_view w,
                                  fc_view dx, fc_view ws, size_t ws_size) {
  const char *op = "conv2d_backward_data";
  FC_TRY(check_common(op, d, dx, w, dy));
  int chunk = 0;
  FC_TRY(choose_chunk(op, d, ws, ws_size, &chunk));
  if (use_implicit(dev, d)) return implicit_backward_data(dev, d, dy, w, dx, ws, ws_size);
  if (use_packed(dev, d)) return packed_backward_data(dev, d, dy, w, dx, ws, chunk);
  size_t k = rows_k(d), p = plane_out(d), co = (size_t)d->c_out;
  for (int n0 = 0; n0 < d->n; n0 += chunk) {
    int nc = d->n - n0 < chunk ? d->n - n0 : chunk;
    /* dcol goes to the workspace, or straight to dx for pointwise convolutions. */
    col_matrix m = chunk_columns(d, dx, ws, n0, nc);
    if (d->layout == FC_LAYOUT_CNHW) {
      FC_TRY(fc_gemm(dev, 1, 0, k, (size_t)nc * p, co, 1.0f, w, k, fc_view_add(dy, (size_t)n0 * p),
                     (size_t)d->n * p, 0.0f, m.view, m.ld));
    } else {
      FC_TRY(fc_gemm_strided_batched(dev, 1, 0, k, p, co, 1.0f, w, k, 0,
                                     fc_view_add(dy, (size_t)n0 * co * p), p, co * p, 0.0f, m.view,
                                     m.ld, m.sample_stride, (size_t)nc));
    }
    if (!is_pointwise(d)) FC_TRY(fc_col2im(dev, d, ws, (size_t)nc * p, n0, nc, dx));
  }
  return FC_OK;
}

fc_status fc_conv2d_backward_weights(fc_device *dev, const fc_conv2d_desc *d, fc_view x, fc_view dy,
                                     fc_view dw, fc_view db, int accumulate, fc_view ws,
                                     size_t ws_size) {
  const char *op = "conv2d_backward_weights";
  FC_TRY(check_common(op, d, x, dw, dy));
  int chunk = 0;
  FC_TRY(choose_chunk(op, d, ws, ws_size, &chunk));
  if (fc_view_present(db)) {
    FC_TRY(fc_ops_check_view(op, "bias gradient", db, (size_t)d->c_out));
    FC_TRY(fc_channel_sum(dev, fc_conv2d_out_shape(d), dy, db, accumulate, ws, ws_size));
  }
  if (use_implicit_wgrad(dev, d, ws_size))
    return implicit_backward_weights(dev, d, x, dy, dw, accumulate, ws);
  if (use_packed(dev, d)) return packed_backward_weights(dev, d, x, dy, dw, accumulate, ws, chunk);
  size_t k = rows_k(d), p = plane_out(d), co = (size_t)d->c_out;
  int first = 1;
  for (int n0 = 0; n0 < d->n; n0 += chunk) {
    int nc = d->n - n0 < chunk ? d->n - n0 : chunk;
    if (!is_pointwise(d)) FC_TRY(fc_im2col(dev, d, x, n0, nc, ws, (size_t)nc * p));
    col_matrix m = chunk_columns(d, x, ws, n0, nc);
    if (d->layout == FC_LAYOUT_CNHW) {
      float beta = first && !accumulate ? 0.0f : 1.0f;
      FC_TRY(fc_gemm(dev, 0, 1, co, k, (size_t)nc * p, 1.0f, fc_view_add(dy, (size_t)n0 * p),
                     (size_t)d->n * p, m.view, m.ld, beta, dw, k));
      first = 0;
    } else {
      for (int i = 0; i < nc; i++) {
        float beta = first && !accumulate ? 0.0f : 1.0f;
        FC_TRY(fc_gemm(dev, 0, 1, co, k, p, 1.0f,
                       fc_view_add(dy, ((size_t)n0 + (size_t)i) * co * p), p,
                       fc_view_add(m.view, (size_t)i * m.sample_stride), m.ld, beta, dw, k));
        first = 0;
      }
    }
  }
  return FC_OK;
}
