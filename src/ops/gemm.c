/* Matrix multiply: fer-cl's packed kernel (cl/gemm.cl) on CPU devices, CLBlast
 * elsewhere (src/device/tuning.h chooses; `fer-cl tune` measures both).
 *
 * The packed path copies op(A) and op(B) into panels in a per-device scratch
 * buffer that grows to the largest shape seen and is then reused, so a
 * training step — whose shapes were all seen by the plan's warm-up — never
 * allocates. CLBlast's GEMMs get an event when the queue profiles, so they
 * show up in profiles like our kernels. */
#include <clblast_c.h>
#include <stdio.h>

#include "fercl/log.h"
#include "ops/gemm_internal.h"

static fc_status clblast_error(fc_device *dev, CLBlastStatusCode code, const char *what, size_t m,
                               size_t n, size_t k) {
  if (code == CLBlastSuccess) return FC_OK;
  if (code < 0 && code > -1000) {
    char ctx[256];
    snprintf(ctx, sizeof ctx, "CLBlast %s (m=%zu n=%zu k=%zu)", what, m, n, k);
    return fc_cl_error(dev, (cl_int)code, ctx);
  }
  return fc_errorf(FC_ERR_OPENCL, "CLBlast %s (m=%zu n=%zu k=%zu) failed on %s with status %d",
                   what, m, n, k, dev->info.name, (int)code);
}

int fc_gemm_packed_active(const fc_device *dev) {
  return dev->tuning.gemm.engine == FC_GEMM_ENGINE_FERCL;
}
int fc_gemm_mr(const fc_device *dev) { return dev->tuning.gemm.mr; }
int fc_gemm_nr(const fc_device *dev) { return 8 * dev->tuning.gemm.nv; }

fc_status fc_gemm_kernel(fc_device *dev, const char *name, cl_kernel *k) {
  char opts[64];
  fc_tuning_gemm_options(&dev->tuning, opts, sizeof opts);
  return fc_device_kernel(dev, "gemm", opts, name, k);
}

static void set_shape(fc_device *dev, size_t m, size_t n, size_t k, size_t batch) {
  if (!fc_device_profiling(dev)) return;
  if (batch > 1)
    snprintf(dev->prof_shape, sizeof dev->prof_shape, "m=%zu n=%zu k=%zu b=%zu", m, n, k, batch);
  else
    snprintf(dev->prof_shape, sizeof dev->prof_shape, "m=%zu n=%zu k=%zu", m, n, k);
}

void fc_gemm_groups(const fc_device *dev, size_t m_tiles, size_t n_tiles, size_t batch,
                    size_t *groups, size_t *per_group) {
  /* Work-items own column panels; when there are few, rows are split into groups
   * too, so every compute unit gets several work-items. */
  size_t want = 8 * (size_t)(dev->info.compute_units ? dev->info.compute_units : 1);
  size_t g = 1;
  while (n_tiles * batch * g < want && g < m_tiles) g++;
  size_t per = m_tiles ? (m_tiles + g - 1) / g : 1;
  *per_group = per;
  *groups = m_tiles ? (m_tiles + per - 1) / per : 1;
}

fc_status fc_gemm_pack(fc_device *dev, fc_view x, size_t sp, size_t sk, size_t p, size_t k, int w,
                       fc_view out, size_t batch, size_t x_batch, size_t out_batch) {
  if (p == 0 || k == 0 || batch == 0) return FC_OK;
  size_t padded = (p + (size_t)w - 1) / (size_t)w * (size_t)w;
  size_t last_x = (batch - 1) * x_batch + (p - 1) * sp + (k - 1) * sk;
  FC_TRY(fc_ops_check_u32("gemm_pack", x.offset + last_x, "source extent"));
  FC_TRY(fc_ops_check_u32("gemm_pack", out.offset + (batch - 1) * out_batch + padded * k,
                          "packed extent"));
  /* Walk the unit-stride index fastest. */
  int by_p = sp == 1 && sk != 1;
  cl_kernel kernel = NULL;
  FC_TRY(fc_gemm_kernel(dev, by_p ? "gemm_pack_p" : "gemm_pack_k", &kernel));
  for (size_t b = 0; b < batch; b++) {
    fc_view xb = fc_view_add(x, b * x_batch), ob = fc_view_add(out, b * out_batch);
    const fc_kernel_arg args[] = {FC_ARG_VIEW_MEM(xb), FC_ARG_VIEW_OFF(xb), FC_ARG_UINT(sp),
                                  FC_ARG_UINT(sk),     FC_ARG_UINT(p),      FC_ARG_UINT(k),
                                  FC_ARG_UINT(padded), FC_ARG_UINT(w),      FC_ARG_VIEW_MEM(ob),
                                  FC_ARG_VIEW_OFF(ob), FC_ARG_UINT(k)};
    size_t panels = padded / (size_t)w;
    size_t global[2] = {by_p ? panels : (k + 7) / 8, by_p ? k : panels};
    size_t local[2] = {dev->wg_1d, 1};
    FC_TRY(fc_launch(dev, kernel, "gemm_pack", 2, global, local, args, FC_NARGS(args)));
  }
  return FC_OK;
}

/* gemm_panel over packed A and a B whose column panel tn starts at tn·b_panel and
 * advances b_step floats per k: packed panels (b_panel = k·nr, b_step = nr) or a
 * row-major B read in place (b_panel = nr, b_step = ldb). */
static fc_status gemm_panel_launch(fc_device *dev, size_t m, size_t n, size_t k, float alpha,
                                   fc_view ap, fc_view bp, size_t b_panel, size_t b_step,
                                   size_t b_extent, float beta, fc_view c, size_t ldc, size_t batch,
                                   size_t a_batch, size_t b_batch, size_t c_batch) {
  const fc_gemm_params *g = &dev->tuning.gemm;
  const size_t mr = (size_t)g->mr, nr = 8 * (size_t)g->nv;
  const size_t m_tiles = (m + mr - 1) / mr, n_tiles = (n + nr - 1) / nr;
  FC_TRY(fc_ops_check_u32("gemm", m_tiles * mr * k + (batch - 1) * a_batch + ap.offset,
                          "packed A extent"));
  FC_TRY(fc_ops_check_u32("gemm", b_extent + (batch - 1) * b_batch + bp.offset, "B extent"));
  FC_TRY(
      fc_ops_check_u32("gemm", (m - 1) * ldc + n + (batch - 1) * c_batch + c.offset, "C extent"));
  if (m > 0x7fffffff || n > 0x7fffffff || k > 0x7fffffff)
    return fc_errorf(FC_ERR_LIMIT, "gemm: m=%zu n=%zu k=%zu exceed 32-bit sizes", m, n, k);
  cl_kernel kernel = NULL;
  FC_TRY(fc_gemm_kernel(dev, "gemm_panel", &kernel));
  set_shape(dev, m, n, k, batch);
  size_t groups = 1, per_group = 1;
  fc_gemm_groups(dev, m_tiles, n_tiles, batch, &groups, &per_group);
  size_t kc = g->kc > 0 && (size_t)g->kc < k ? (size_t)g->kc : (k > 0 ? k : 1);
  /* A long k (weight gradients: k = batch pixels) goes in launches of ko rows,
   * so every work-item of a launch works on the same A block (about 256 KiB,
   * shared in cache) instead of each streaming all of A once per column panel. */
  size_t ko = k;
  size_t a_block = (size_t)65536 / (m_tiles * mr); /* rows of A per 256 KiB */
  if (a_block < kc) a_block = kc;
  a_block = (a_block + kc - 1) / kc * kc;
  if (k > 2 * a_block && n_tiles > 1) ko = a_block;
  /* Keep a group's A panels (per_group · mr · ko floats: one launch's k) within
   * gemm.ablock floats, so they stay in cache while consecutive work-items
   * (column panels) reuse them; B panels are then re-read once per group, from
   * a cheaper level. Measured on PoCL (1024³): 32 KiB blocks 0.82-0.88x
   * OpenBLAS, no cap 0.63-0.68x. Capping by the whole k instead of ko left one
   * tile per group once k was split (every B slice used once, from L3): 1024³
   * 25.7-30.0 -> 22.6-23.1 ms, 2048³ 205-248 -> 166-167 ms on a Zen 3 (AVX2). */
  if (g->ablock > 0) {
    /* A whole A within 32 blocks (1 MiB at the default 8192: an L2 of today's
     * x86 cores) is served from L2 to every group, so groups of 8 blocks pay
     * fewer work-group starts: measured 256³ 0.48 -> 0.41 ms, 512³ 3.16 -> 2.93 ms. */
    size_t block = (size_t)g->ablock;
    if (m_tiles * mr * k <= 32 * block) block *= 8;
    size_t cap = block / (mr * (ko > 0 ? ko : 1));
    if (cap < 1) cap = 1;
    if (per_group > cap) { /* as few groups as the cap allows, of equal size */
      groups = (m_tiles + cap - 1) / cap;
      per_group = (m_tiles + groups - 1) / groups;
      groups = (m_tiles + per_group - 1) / per_group;
    }
  }
  fc_status st = FC_OK;
  for (size_t k0 = 0; st == FC_OK && (k0 < k || k0 == 0); k0 += ko) {
    size_t kn = k - k0 < ko ? k - k0 : ko;
    fc_view a0 = fc_view_add(ap, k0 * mr), b0 = fc_view_add(bp, k0 * b_step);
    const fc_kernel_arg args[] = {
        FC_ARG_INT(m),        FC_ARG_INT(n),        FC_ARG_INT(kn),
        FC_ARG_INT(kc),       FC_ARG_FLOAT(alpha),  FC_ARG_VIEW_MEM(a0),
        FC_ARG_VIEW_OFF(a0),  FC_ARG_UINT(k * mr),  FC_ARG_UINT(a_batch),
        FC_ARG_VIEW_MEM(b0),  FC_ARG_VIEW_OFF(b0),  FC_ARG_UINT(b_panel),
        FC_ARG_UINT(b_step),  FC_ARG_UINT(b_batch), FC_ARG_FLOAT(k0 == 0 ? beta : 1.0f),
        FC_ARG_VIEW_MEM(c),   FC_ARG_VIEW_OFF(c),   FC_ARG_UINT(ldc),
        FC_ARG_UINT(c_batch), FC_ARG_INT(per_group)};
    size_t global[3] = {n_tiles, groups, batch}, local[3] = {(size_t)g->wg, 1, 1};
    st = fc_launch(dev, kernel, "gemm", 3, global, local, args, FC_NARGS(args));
    if (kn == 0) break;
  }
  dev->prof_shape[0] = '\0';
  return st;
}

fc_status fc_gemm_packed(fc_device *dev, size_t m, size_t n, size_t k, float alpha, fc_view ap,
                         fc_view bp, float beta, fc_view c, size_t ldc, size_t batch,
                         size_t a_batch, size_t b_batch, size_t c_batch) {
  if (m == 0 || n == 0 || batch == 0) return FC_OK;
  const size_t nr = (size_t)fc_gemm_nr(dev), n_tiles = (n + nr - 1) / nr;
  return gemm_panel_launch(dev, m, n, k, alpha, ap, bp, k * nr, nr, n_tiles * nr * k, beta, c, ldc,
                           batch, a_batch, b_batch, c_batch);
}

/* The scratch buffer for packing, grown to `floats` (never shrunk). */
static fc_status scratch(fc_device *dev, size_t floats, cl_mem *out) {
  size_t bytes = floats * sizeof(float);
  if (bytes > dev->gemm_scratch_bytes) {
    if (dev->gemm_scratch) clReleaseMemObject(dev->gemm_scratch);
    dev->gemm_scratch = NULL;
    dev->gemm_scratch_bytes = 0;
    if (dev->compile_locked)
      fc_log(FC_LOG_DEBUG, "gemm: growing the packing scratch inside a step (%zu bytes)", bytes);
    FC_TRY(fc_buffer_alloc(dev, bytes, "GEMM packing scratch", &dev->gemm_scratch));
    dev->gemm_scratch_bytes = bytes;
  }
  *out = dev->gemm_scratch;
  return FC_OK;
}

/* Packs op(A) and op(B) of `batch` products into the scratch buffer and runs
 * the packed kernel. */
static fc_status packed_gemm(fc_device *dev, int trans_a, int trans_b, size_t m, size_t n, size_t k,
                             float alpha, fc_view a, size_t lda, size_t stride_a, fc_view b,
                             size_t ldb, size_t stride_b, float beta, fc_view c, size_t ldc,
                             size_t stride_c, size_t batch) {
  const int mr = fc_gemm_mr(dev), nr = fc_gemm_nr(dev);
  /* A batch stride of 0 (shared matrix) is packed once. */
  size_t a_batches = stride_a ? batch : 1, b_batches = stride_b ? batch : 1;
  /* A row-major B whose width is whole panels is read in place: its rows are
   * the panels' rows already, and packing it costed ~9% of a 256³ product.
   * Except when ldb is a multiple of 64 floats (256 bytes) in a product above
   * 256³: the kc rows of a B slice then fall into at most 16 of L1's 64 sets and
   * evict each other, so every B load misses L1. Packing them pays there (Zen 3,
   * min of 4: 512³ 1.98 -> 1.69 ms, 1024³ 16.3 -> 13.9, 2048³ 128 -> 107), not at
   * 256³ and below, where the packing launch costs more (0.32 -> 0.35 ms). */
  int b_direct = !trans_b && n % (size_t)nr == 0 && k > 0 &&
                 (ldb % 64 != 0 || (double)m * (double)n * (double)k <= 16777216.0);
  size_t a_floats = fc_gemm_panel_floats(m, k, mr), b_floats = fc_gemm_panel_floats(n, k, nr);
  size_t need = a_floats * a_batches + (b_direct ? 0 : b_floats * b_batches);
  cl_mem mem = NULL;
  FC_TRY(scratch(dev, need ? need : 1, &mem));
  fc_view ap = fc_view_of(mem, 0), bp = fc_view_of(mem, a_floats * a_batches);
  if (k > 0)
    FC_TRY(fc_gemm_pack(dev, a, trans_a ? 1 : lda, trans_a ? lda : 1, m, k, mr, ap, a_batches,
                        stride_a, a_floats));
  if (b_direct)
    return gemm_panel_launch(dev, m, n, k, alpha, ap, b, (size_t)nr, ldb, (k - 1) * ldb + n, beta,
                             c, ldc, batch, stride_a ? a_floats : 0, stride_b, stride_c);
  if (k > 0)
    FC_TRY(fc_gemm_pack(dev, b, trans_b ? ldb : 1, trans_b ? 1 : ldb, n, k, nr, bp, b_batches,
                        stride_b, b_floats));
  return fc_gemm_packed(dev, m, n, k, alpha, ap, bp, beta, c, ldc, batch, stride_a ? a_floats : 0,
                        stride_b ? b_floats : 0, stride_c);
}

/* CLBlast with an event for profiles. */
static fc_status clblast_done(fc_device *dev, CLBlastStatusCode code, cl_event event,
                              const char *what, size_t m, size_t n, size_t k, size_t batch) {
  if (code != CLBlastSuccess) {
    if (event) clReleaseEvent(event);
    return clblast_error(dev, code, what, m, n, k);
  }
  if (!event) return FC_OK;
  set_shape(dev, m, n, k, batch);
  fc_status st = fc_device_record_event(dev, "gemm_clblast", event, NULL);
  dev->prof_shape[0] = '\0';
  return st;
}

fc_status fc_gemm(fc_device *dev, int trans_a, int trans_b, size_t m, size_t n, size_t k,
                  float alpha, fc_view a, size_t lda, fc_view b, size_t ldb, float beta, fc_view c,
                  size_t ldc) {
  if (m == 0 || n == 0) return FC_OK;
  if (fc_gemm_packed_active(dev))
    return packed_gemm(dev, trans_a, trans_b, m, n, k, alpha, a, lda, 0, b, ldb, 0, beta, c, ldc, 0,
                       1);
  FC_TRY(fc_tuning_apply_clblast(dev));
  cl_event event = NULL;
  CLBlastStatusCode code =
      CLBlastSgemm(CLBlastLayoutRowMajor, trans_a ? CLBlastTransposeYes : CLBlastTransposeNo,
                   trans_b ? CLBlastTransposeYes : CLBlastTransposeNo, m, n, k, alpha, a.mem,
                   a.offset, lda, b.mem, b.offset, ldb, beta, c.mem, c.offset, ldc, &dev->queue,
                   fc_device_profiling(dev) ? &event : NULL);
  return clblast_done(dev, code, event, "SGEMM", m, n, k, 1);
}

fc_status fc_gemm_strided_batched(fc_device *dev, int trans_a, int trans_b, size_t m, size_t n,
                                  size_t k, float alpha, fc_view a, size_t lda, size_t stride_a,
                                  fc_view b, size_t ldb, size_t stride_b, float beta, fc_view c,
                                  size_t ldc, size_t stride_c, size_t batch) {
  if (m == 0 || n == 0 || batch == 0) return FC_OK;
  if (fc_gemm_packed_active(dev))
    return packed_gemm(dev, trans_a, trans_b, m, n, k, alpha, a, lda, stride_a, b, ldb, stride_b,
                       beta, c, ldc, stride_c, batch);
  FC_TRY(fc_tuning_apply_clblast(dev));
  cl_event event = NULL;
  CLBlastStatusCode code = CLBlastSgemmStridedBatched(
      CLBlastLayoutRowMajor, trans_a ? CLBlastTransposeYes : CLBlastTransposeNo,
      trans_b ? CLBlastTransposeYes : CLBlastTransposeNo, m, n, k, alpha, a.mem, a.offset, lda,
      stride_a, b.mem, b.offset, ldb, stride_b, beta, c.mem, c.offset, ldc, stride_c, batch,
      &dev->queue, fc_device_profiling(dev) ? &event : NULL);
  return clblast_done(dev, code, event, "SGEMM strided-batched", m, n, k, batch);
}
