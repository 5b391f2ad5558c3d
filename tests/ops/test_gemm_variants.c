/* Every GEMM engine and kernel variant `fer-cl tune` may pick, against
 * the reference — fc_gemm (all transposes, k blocks shorter than k, several
 * tile shapes and work-groups), strided-batched GEMMs, and convolutions through
 * each engine and panel width (which selects different im2col kernels). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device/tuning.h"
#include "harness.h"
#include "op_cases.h"
#include "op_registry.h"
#include "ops/ref/ref.h"

typedef struct variant {
  fc_gemm_engine engine;
  int mr, nv, wg, kc;
  int explicit_conv; /* conv_implicit off: column matrices through memory */
  int ablock;        /* gemm.ablock */
  int vec;           /* gemm.vec: 8, or 16 = float16 tile rows */
} variant;

/* Tile shapes of each register budget, k blocks that split k unevenly, CLBlast. */
static const variant variants[] = {
    {FC_GEMM_ENGINE_FERCL, 6, 2, 1, 256, 0, 8192, 8}, /* the defaults */
    {FC_GEMM_ENGINE_FERCL, 4, 3, 3, 7, 0, 0, 8},      /* 24-wide panels, k blocks of 7, one group */
    {FC_GEMM_ENGINE_FERCL, 8, 1, 2, 0, 0, 100, 8},   /* 8-wide panels, all of k, a group per tile */
    {FC_GEMM_ENGINE_FERCL, 5, 2, 1, 33, 0, 8192, 8}, /* odd tile rows */
    {FC_GEMM_ENGINE_FERCL, 16, 2, 1, 256, 0, 8192, 16}, /* float16 rows (512-bit devices) */
    {FC_GEMM_ENGINE_FERCL, 12, 2, 1, 100, 0, 0, 16},    /* float16 rows, uneven k blocks */
    {FC_GEMM_ENGINE_CLBLAST, 6, 2, 1, 256, 0, 0, 8},
};
#define N_VARIANTS (sizeof variants / sizeof variants[0])

static void set_variant(fc_device *dev, const variant *v) {
  fc_tuning t = dev->tuning;
  t.gemm.engine = v->engine;
  t.gemm.mr = v->mr;
  t.gemm.nv = v->nv;
  t.gemm.wg = v->wg;
  t.gemm.kc = v->kc;
  t.gemm.ablock = v->ablock;
  t.gemm.vec = v->vec;
  t.conv_implicit = !v->explicit_conv;
  FC_CHECK_OK(fc_tuning_apply(dev, &t));
}

/* FERCL_GEMM_TILE=6x16 (tools/oclgrind.sh) pins the float8 tile: the float16
 * variants are left to the runs without it. */
static int variant_skipped(const variant *v) {
  const char *tile = getenv("FERCL_GEMM_TILE");
  return v->vec == 16 && tile && strcmp(tile, "6x16") == 0;
}

static void describe(char *out, size_t size, const variant *v) {
  fc_gemm_params p = {v->engine, v->mr, v->nv, v->wg, v->kc, v->ablock, v->vec};
  fc_gemm_params_describe(&p, out, size);
  if (v->explicit_conv) snprintf(out + strlen(out), size - strlen(out), " explicit");
}

typedef struct gshape {
  size_t m, n, k;
} gshape;

/* Edges of every tile shape (1, 7, 17, 25 columns...), k = 0 (C = beta·C), k above kc,
 * and a long k for a tall A (several launches of k rows, src/ops/gemm.c). */
static const gshape shapes[] = {
    {1, 1, 1},
    {7, 31, 33},
    {13, 17, 0},
    {33, 65, 129},
    {9, 25, 300},
    {300, 20, 600},
    /* whole panels of every width (48): B read in place, k blocks, k split */
    {31, 48, 33},
    {300, 48, 600},
    /* above 256³ with ldb a multiple of 64: B packed after all (cache sets) */
    {64, 64, 4097}};

void fc_test_gemm_variants(fc_device *dev) {
  fc_tuning saved = dev->tuning;
  fc_test_rng rng = fc_test_rng_make(701);
  for (size_t vi = 0; vi < N_VARIANTS; vi++) {
    if (variant_skipped(&variants[vi])) continue;
    set_variant(dev, &variants[vi]);
    char vname[64];
    describe(vname, sizeof vname, &variants[vi]);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
      if (fc_test_over_budget(fc_test_gemm_largest(shapes[s].m, shapes[s].n, shapes[s].k)))
        continue;
      for (int tr = 0; tr < 4; tr++) {
        int ta = tr & 1, tb = tr >> 1;
        size_t m = shapes[s].m, n = shapes[s].n, k = shapes[s].k;
        if (variants[vi].engine == FC_GEMM_ENGINE_CLBLAST && k == 0) continue; /* CLBlast's rule */
        float beta = s % 2 ? 0.0f : -0.5f;
        fc_test_gemm_case(dev, &rng, ta, tb, m, n, k, (size_t[]){2, 3, 1, 1}, 1.25f, beta, vname);
      }
    }
    /* Strided batched, shared and per-matrix A. */
    for (int shared = 0; shared < 2; shared++) {
      size_t m = 11, n = 19, k = 23, batch = 3;
      size_t sa = shared ? 0 : m * k, na = shared ? m * k : batch * m * k;
      float *a = fc_test_alloc_floats(na), *b = fc_test_alloc_floats(batch * k * n);
      float *c = fc_test_alloc_floats(batch * m * n);
      double *ad = fc_test_alloc_doubles(na), *bd = fc_test_alloc_doubles(batch * k * n);
      double *cd = fc_test_alloc_doubles(batch * m * n);
      fc_test_fill_uniform(&rng, a, ad, na, -1, 1);
      fc_test_fill_uniform(&rng, b, bd, batch * k * n, -1, 1);
      fc_gbuf ga = fc_gbuf_from_floats(dev, "A", a, na);
      fc_gbuf gb = fc_gbuf_from_floats(dev, "B", b, batch * k * n);
      fc_gbuf gc = fc_gbuf_alloc(dev, "C", batch * m * n, sizeof(float));
      FC_CHECK_OK(fc_gemm_strided_batched(dev, 0, 1, m, n, k, 1.0f, ga.view, k, sa, gb.view, k,
                                          k * n, 0.0f, gc.view, n, m * n, batch));
      for (size_t i = 0; i < batch; i++)
        fc_ref_gemm(0, 1, m, n, k, 1.0, ad + i * sa, k, bd + i * k * n, k, 0.0, cd + i * m * n, n);
      fc_gbuf_download(dev, &gc, c);
      char what[160];
      snprintf(what, sizeof what, "gemm strided batched [%s] shared A %d", vname, shared);
      fc_test_expect_close(what, c, cd, batch * m * n, FC_NMSE_FORWARD);
      fc_gbuf_free(&ga), fc_gbuf_free(&gb), fc_gbuf_free(&gc);
      free(a), free(b), free(c), free(ad), free(bd), free(cd);
    }
  }
  FC_CHECK_OK(fc_tuning_apply(dev, &saved));
}

/* Convolutions through each engine and kernel path (op_cases.c:
 * fc_conv_engine_cases), in chunks of 2 samples so chunk offsets are exercised. */
void fc_test_conv2d_engines(fc_device *dev) {
  fc_tuning saved = dev->tuning;
  fc_test_rng rng = fc_test_rng_make(702);
  static const variant conv_variants[] = {
      {FC_GEMM_ENGINE_FERCL, 6, 2, 1, 16, 0, 8192, 8}, /* implicit GEMM */
      {FC_GEMM_ENGINE_FERCL, 5, 2, 1, 64, 1, 50, 8}, /* shifted-copy and 16-column im2col kernels */
      {FC_GEMM_ENGINE_FERCL, 4, 3, 2, 0, 0, 0, 8}, /* 24-wide panels: per-element im2col kernels */
      {FC_GEMM_ENGINE_FERCL, 16, 2, 1, 256, 0, 8192, 16}, /* float16 tile rows */
      {FC_GEMM_ENGINE_FERCL, 12, 2, 1, 40, 0, 0, 16},     /* float16 rows, short k blocks */
      {FC_GEMM_ENGINE_CLBLAST, 6, 2, 1, 256, 0, 0, 8}};
  for (size_t vi = 0; vi < sizeof conv_variants / sizeof conv_variants[0]; vi++) {
    if (variant_skipped(&conv_variants[vi])) continue;
    set_variant(dev, &conv_variants[vi]);
    char vname[64];
    describe(vname, sizeof vname, &conv_variants[vi]);
    for (size_t ci = 0; ci < fc_conv_engine_case_count; ci++) {
      fc_conv2d_desc d = fc_conv_case_desc(&fc_conv_engine_cases[ci], FC_LAYOUT_CNHW);
      FC_CHECK_OK(fc_conv2d_check(&d));
      size_t ny = fc_shape4_count(fc_conv2d_out_shape(&d));
      if (fc_test_over_budget(ny / (size_t)d.c_out * d.c_in * d.kh * d.kw)) continue; /* columns */
      /* Chunks of 2, except the whole batch where the channel-last weight gradient applies. */
      char tag[96];
      snprintf(tag, sizeof tag, "%s, case %zu", vname, ci);
      fc_test_conv2d_case(dev, &rng, &d, d.c_in % 16 == 0 ? d.n : 2, 0, tag);
    }
  }
  FC_CHECK_OK(fc_tuning_apply(dev, &saved));
}
