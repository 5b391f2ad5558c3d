/* perf: every GEMM engine and kernel variant `fer-cl tune` may pick, against
 * the reference — fc_gemm (all transposes, k blocks shorter than k, several
 * tile shapes and work-groups), strided-batched GEMMs, and convolutions through
 * each engine and panel width (which selects different im2col kernels). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device/tuning.h"
#include "harness.h"
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
    {FC_GEMM_ENGINE_FERCL, 8, 1, 2, 0, 0, 100, 8},    /* 8-wide panels, all of k, a group per tile */
    {FC_GEMM_ENGINE_FERCL, 5, 2, 1, 33, 0, 8192, 8},  /* odd tile rows */
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
static const gshape shapes[] = {{1, 1, 1},     {7, 31, 33},  {13, 17, 0},
                                {33, 65, 129}, {9, 25, 300}, {300, 20, 600},
                                /* whole panels of every width (48): B read in place, k blocks, k split */
                                {31, 48, 33},  {300, 48, 600}};

void fc_test_gemm_variants(fc_device *dev) {
  fc_tuning saved = dev->tuning;
  fc_test_rng rng = fc_test_rng_make(701);
  for (size_t vi = 0; vi < N_VARIANTS; vi++) {
    if (variant_skipped(&variants[vi])) continue;
    set_variant(dev, &variants[vi]);
    char vname[64];
    describe(vname, sizeof vname, &variants[vi]);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
      if (fc_test_over_budget(fc_test_gemm_largest(shapes[s].m, shapes[s].n, shapes[s].k))) continue;
      for (int tr = 0; tr < 4; tr++) {
        int ta = tr & 1, tb = tr >> 1;
        size_t m = shapes[s].m, n = shapes[s].n, k = shapes[s].k;
        if (variants[vi].engine == FC_GEMM_ENGINE_CLBLAST && k == 0) continue; /* CLBlast's rule */
        size_t lda = (ta ? m : k) + 2, ldb = (tb ? k : n) + 3, ldc = n + 1;
        size_t na = (ta ? k : m) * lda + 1, nb = (tb ? n : k) * ldb + 1, nc = m * ldc;
        float *a = fc_test_alloc_floats(na), *b = fc_test_alloc_floats(nb),
              *c = fc_test_alloc_floats(nc);
        double *ad = fc_test_alloc_doubles(na), *bd = fc_test_alloc_doubles(nb),
               *cd = fc_test_alloc_doubles(nc);
        fc_test_fill_uniform(&rng, a, ad, na, -1, 1);
        fc_test_fill_uniform(&rng, b, bd, nb, -1, 1);
        fc_test_fill_uniform(&rng, c, cd, nc, -1, 1);
        fc_gbuf ga = fc_gbuf_from_floats(dev, "A", a, na);
        fc_gbuf gb = fc_gbuf_from_floats(dev, "B", b, nb);
        fc_gbuf gc = fc_gbuf_from_floats(dev, "C", c, nc);
        float beta = s % 2 ? 0.0f : -0.5f;
        FC_CHECK_OK(
            fc_gemm(dev, ta, tb, m, n, k, 1.25f, ga.view, lda, gb.view, ldb, beta, gc.view, ldc));
        fc_ref_gemm(ta, tb, m, n, k, 1.25, ad, lda, bd, ldb, beta, cd, ldc);
        fc_gbuf_download(dev, &gc, c);
        char what[160];
        snprintf(what, sizeof what, "gemm [%s] m=%zu n=%zu k=%zu ta=%d tb=%d", vname, m, n, k, ta,
                 tb);
        fc_test_expect_close(what, c, cd, nc, FC_NMSE_FORWARD);
        fc_gbuf_free(&ga), fc_gbuf_free(&gb), fc_gbuf_free(&gc);
        free(a), free(b), free(c), free(ad), free(bd), free(cd);
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

/* Convolutions through each engine and kernel path: implicit GEMM (stride-1
 * same convolutions), explicit column matrices with 16-wide panels (shifted
 * copies, 16-column im2col) or other widths (per-element im2col), CLBlast; in
 * chunks of 2 samples so chunk offsets are exercised. */
static const int conv_cases[][9] = {
    /* n, c_in, h, w, c_out, kh, kw, stride, pad */
    {3, 5, 9, 7, 7, 3, 3, 1, 1},     /* stride-1 same: shifted copies, 9x7 planes */
    {3, 3, 11, 11, 4, 3, 3, 2, 1},   /* stride 2 */
    {3, 4, 6, 6, 5, 1, 1, 2, 0},     /* strided 1x1 shortcut */
    {2, 2, 13, 13, 3, 7, 7, 2, 3},   /* stem-like */
    {3, 6, 5, 5, 9, 1, 1, 1, 0},     /* pointwise */
    {2, 16, 9, 7, 7, 3, 3, 1, 1},    /* channels a multiple of 16: channel-last weight gradient */
    {4, 16, 32, 32, 13, 3, 3, 1, 1}, /* ... over several launches of pixels */
    {3, 32, 5, 5, 13, 1, 1, 1, 0},   /* ... pointwise */
    {2, 3, 1, 2, 4, 3, 3, 2, 1},     /* windows reaching past a 1x2 image (col2im bounds) */
    {2, 3, 4, 3, 2, 5, 5, 3, 2},     /* stride 3 */
    {33, 16, 2, 2, 64, 3, 3, 1, 1},  /* small plane, batch panels that skip padded taps */
};

void fc_test_conv2d_engines(fc_device *dev) {
  fc_tuning saved = dev->tuning;
  fc_test_rng rng = fc_test_rng_make(702);
  static const variant conv_variants[] = {
      {FC_GEMM_ENGINE_FERCL, 6, 2, 1, 16, 0, 8192, 8}, /* implicit GEMM */
      {FC_GEMM_ENGINE_FERCL, 5, 2, 1, 64, 1, 50, 8},   /* shifted-copy and 16-column im2col kernels */
      {FC_GEMM_ENGINE_FERCL, 4, 3, 2, 0, 0, 0, 8},     /* 24-wide panels: per-element im2col kernels */
      {FC_GEMM_ENGINE_FERCL, 16, 2, 1, 256, 0, 8192, 16}, /* float16 tile rows */
      {FC_GEMM_ENGINE_FERCL, 12, 2, 1, 40, 0, 0, 16},     /* float16 rows, short k blocks */
      {FC_GEMM_ENGINE_CLBLAST, 6, 2, 1, 256, 0, 0, 8}};
  for (size_t vi = 0; vi < sizeof conv_variants / sizeof conv_variants[0]; vi++) {
    if (variant_skipped(&conv_variants[vi])) continue;
    set_variant(dev, &conv_variants[vi]);
    char vname[64];
    describe(vname, sizeof vname, &conv_variants[vi]);
    for (size_t ci = 0; ci < sizeof conv_cases / sizeof conv_cases[0]; ci++) {
      const int *cc = conv_cases[ci];
      fc_conv2d_desc d = {cc[0], cc[1], cc[2], cc[3], cc[4],
                          cc[5], cc[6], cc[7], cc[8], FC_LAYOUT_CNHW};
      FC_CHECK_OK(fc_conv2d_check(&d));
      fc_shape4 is = fc_conv2d_in_shape(&d), os = fc_conv2d_out_shape(&d);
      size_t nx = fc_shape4_count(is), ny = fc_shape4_count(os);
      size_t nw = (size_t)d.c_out * d.c_in * d.kh * d.kw;
      if (fc_test_over_budget(ny / (size_t)d.c_out * d.c_in * d.kh * d.kw)) continue; /* columns */
      /* Chunks of 2, except the whole batch where the channel-last weight gradient applies. */
      size_t ws = fc_conv2d_workspace_size(&d, d.c_in % 16 == 0 ? 0 : 2);
      float *x = fc_test_alloc_floats(nx), *w = fc_test_alloc_floats(nw),
            *dy = fc_test_alloc_floats(ny);
      size_t nout = nx > ny ? nx : ny;
      if (nw > nout) nout = nw;
      if (ws > nout) nout = ws;
      float *out = fc_test_alloc_floats(nout);
      double *xd = fc_test_alloc_doubles(nx), *wd = fc_test_alloc_doubles(nw),
             *dyd = fc_test_alloc_doubles(ny);
      double *yd = fc_test_alloc_doubles(ny), *dxd = fc_test_alloc_doubles(nx),
             *dwd = fc_test_alloc_doubles(nw);
      fc_test_fill_uniform(&rng, x, xd, nx, -1, 1);
      fc_test_fill_uniform(&rng, w, wd, nw, -0.5, 0.5);
      fc_test_fill_uniform(&rng, dy, dyd, ny, -1, 1);
      fc_gbuf gx = fc_gbuf_from_floats(dev, "x", x, nx), gw = fc_gbuf_from_floats(dev, "w", w, nw);
      fc_gbuf gdy = fc_gbuf_from_floats(dev, "dy", dy, ny);
      fc_gbuf gy = fc_gbuf_alloc(dev, "y", ny, 4), gdx = fc_gbuf_alloc(dev, "dx", nx, 4);
      fc_gbuf gdw = fc_gbuf_alloc(dev, "dw", nw, 4), gws = fc_gbuf_alloc(dev, "workspace", ws, 4);
      fc_view none = {0};
      char what[200];
      FC_CHECK_OK(fc_conv2d_forward(dev, &d, gx.view, gw.view, none, gy.view, gws.view, ws));
      fc_ref_conv2d_forward(&d, xd, wd, NULL, yd);
      fc_gbuf_download(dev, &gy, out);
      snprintf(what, sizeof what, "conv2d_forward [%s] case %zu", vname, ci);
      fc_test_expect_close(what, out, yd, ny, FC_NMSE_FORWARD);
      FC_CHECK_OK(fc_conv2d_backward_data(dev, &d, gdy.view, gw.view, gdx.view, gws.view, ws));
      fc_ref_conv2d_backward_data(&d, dyd, wd, dxd);
      fc_gbuf_download(dev, &gdx, out);
      snprintf(what, sizeof what, "conv2d_backward_data [%s] case %zu", vname, ci);
      fc_test_expect_close(what, out, dxd, nx, FC_NMSE_FORWARD);
      FC_CHECK_OK(
          fc_conv2d_backward_weights(dev, &d, gx.view, gdy.view, gdw.view, none, 0, gws.view, ws));
      fc_ref_conv2d_backward_weights(&d, xd, dyd, dwd, NULL);
      fc_gbuf_download(dev, &gdw, out);
      snprintf(what, sizeof what, "conv2d_backward_weights [%s] case %zu", vname, ci);
      fc_test_expect_close(what, out, dwd, nw, FC_NMSE_FORWARD);
      /* accumulate = 1 adds a second copy. */
      FC_CHECK_OK(
          fc_conv2d_backward_weights(dev, &d, gx.view, gdy.view, gdw.view, none, 1, gws.view, ws));
      for (size_t e = 0; e < nw; e++) dwd[e] *= 2.0;
      fc_gbuf_download(dev, &gdw, out);
      snprintf(what, sizeof what, "conv2d_backward_weights accumulate [%s] case %zu", vname, ci);
      fc_test_expect_close(what, out, dwd, nw, FC_NMSE_FORWARD);
      fc_gbuf_download(dev, &gws, out); /* guard bands of the workspace */
      fc_gbuf_free(&gx), fc_gbuf_free(&gw), fc_gbuf_free(&gdy), fc_gbuf_free(&gy);
      fc_gbuf_free(&gdx), fc_gbuf_free(&gdw), fc_gbuf_free(&gws);
      free(x), free(w), free(dy), free(out), free(xd), free(wd), free(dyd), free(yd), free(dxd);
      free(dwd);
    }
  }
  FC_CHECK_OK(fc_tuning_apply(dev, &saved));
}
