/* SNL on the device: negative sets (thresh, topk, random) and hits against the
 * reference. Integer outputs must equal it exactly: a hand-made batch with answers
 * written down below, plus random batches with many ties. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "op_registry.h"
#include "ops/ref/ref.h"

static const fc_view absent = {NULL, 0};

static void run_snl(fc_device *dev, int B, int C, const fc_snl_params *prm, const float *q,
                    const float *mask, const float *sp, const int32_t *labels, const char *what,
                    int32_t *neg_out, int32_t *count_out) {
  size_t n = (size_t)B * C;
  double *qd = fc_test_alloc_doubles(n), *spd = fc_test_alloc_doubles(n),
         *md = fc_test_alloc_doubles(B);
  int32_t *neg = calloc(n, 4), *negd = calloc(n, 4), *cnt = calloc(B, 4), *cntd = calloc(B, 4);
  int32_t *hits = calloc(B, 4), *hitsd = calloc(B, 4);
  fc_test_to_double(q, qd, n);
  if (sp) fc_test_to_double(sp, spd, n);
  if (mask) fc_test_to_double(mask, md, B);
  fc_gbuf gq = fc_gbuf_from_floats(dev, "q", q, n);
  fc_gbuf gsp = fc_gbuf_from_floats(dev, "student_probs", sp ? sp : q, n);
  fc_gbuf gm = fc_gbuf_from_floats(dev, "mask", mask ? mask : q, B);
  fc_gbuf gn = fc_gbuf_alloc(dev, "negatives", n, 4), gc = fc_gbuf_alloc(dev, "counts", B, 4);
  fc_gbuf gl = fc_gbuf_alloc(dev, "labels", B, 4), gh = fc_gbuf_alloc(dev, "hits", B, 4);
  fc_gbuf_upload(dev, &gl, labels);
  FC_CHECK_OK(fc_snl_negatives(dev, B, C, prm, gq.view, mask ? gm.view : absent,
                               sp ? gsp.view : absent, gn.view, gc.view));
  FC_CHECK_OK(fc_snl_hits(dev, B, C, gn.view, gl.view, gh.view));
  fc_ref_snl_negatives(B, C, prm, qd, mask ? md : NULL, spd, negd, cntd);
  fc_ref_snl_hits(B, C, negd, labels, hitsd);
  fc_gbuf_download(dev, &gn, neg), fc_gbuf_download(dev, &gc, cnt),
      fc_gbuf_download(dev, &gh, hits);
  char msg[160];
  snprintf(msg, sizeof msg, "%s: negatives", what);
  fc_test_expect_equal_i32(msg, neg, negd, n);
  snprintf(msg, sizeof msg, "%s: counts", what);
  fc_test_expect_equal_i32(msg, cnt, cntd, B);
  snprintf(msg, sizeof msg, "%s: hits", what);
  fc_test_expect_equal_i32(msg, hits, hitsd, B);
  for (int b = 0; b < B; b++) { /* counts agree with the rows */
    int sum = 0;
    for (int c = 0; c < C; c++) sum += neg[(size_t)b * C + c];
    ck_assert_msg(sum == cnt[b], "%s: row %d holds %d negatives, count says %d", what, b, sum,
                  cnt[b]);
  }
  if (neg_out) memcpy(neg_out, neg, n * 4);
  if (count_out) memcpy(count_out, cnt, (size_t)B * 4);
  fc_gbuf_free(&gq), fc_gbuf_free(&gsp), fc_gbuf_free(&gm), fc_gbuf_free(&gn), fc_gbuf_free(&gc);
  fc_gbuf_free(&gl), fc_gbuf_free(&gh);
  free(qd), free(spd), free(md), free(neg), free(negd), free(cnt), free(cntd), free(hits),
      free(hitsd);
}

void fc_test_snl(fc_device *dev) {
  /* Hand-made, C = 7, tau_n = 0.05. */
  enum { B = 5, C = 7 };
  const float q[B * C] = {
      0.50f, 0.30f, 0.04f, 0.03f, 0.06f, 0.04f, 0.03f,  /* 0: THRESH {2,3,5,6} */
      0.50f, 0.30f, 0.04f, 0.03f, 0.06f, 0.04f, 0.03f,  /* 1: masked: none */
      0.02f, 0.02f, 0.90f, 0.02f, 0.02f, 0.01f, 0.01f,  /* 2: top-2 {2, 0}: {1,3,4,5,6} */
      0.15f, 0.14f, 0.14f, 0.14f, 0.15f, 0.14f, 0.14f,  /* 3: near uniform: none */
      0.01f, 0.01f, 0.01f, 0.01f, 0.01f, 0.01f, 0.94f}; /* 4: all ties: top-2 {6, 0} */
  const float mask[B] = {0, 1, 0, 0, 0};
  const float sp[B * C] = {/* student: class 3 of row 0 and class 4 of row 2 above the cap */
                           0.01f, 0.01f, 0.01f, 0.95f, 0.01f, 0.005f, 0.005f, 0.2f,  0.2f,
                           0.2f,  0.1f,  0.1f,  0.1f,  0.1f,  0.01f,  0.01f,  0.01f, 0.01f,
                           0.91f, 0.03f, 0.02f, 0.2f,  0.2f,  0.2f,   0.1f,   0.1f,  0.1f,
                           0.1f,  0.2f,  0.2f,  0.2f,  0.1f,  0.1f,   0.1f,   0.1f};
  const int32_t labels[B] = {2, 2, 2, -1, 6};
  int32_t neg[B * C], cnt[B];

  fc_snl_params thresh = {.mode = FC_SNL_THRESH, .tau_n = 0.05f};
  run_snl(dev, B, C, &thresh, q, mask, NULL, labels, "snl thresh hand-made", neg, cnt);
  const int32_t want_neg[B * C] = {0, 0, 1, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1,
                                   1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0};
  const int32_t want_cnt[B] = {4, 0, 5, 0, 5};
  fc_test_expect_equal_i32("snl thresh hand-made: expected negatives", neg, want_neg, B * C);
  fc_test_expect_equal_i32("snl thresh hand-made: expected counts", cnt, want_cnt, B);

  /* TOPK, k = 3, cap 0.9025 (τ_max²), no mask: outside the teacher's top-3 and not
   * above the cap. Row 0 top-3 {0,1,4} → {2,3,5,6} minus 3 (student 0.95);
   * row 1 (no mask in this call) {2,3,5,6}; row 2 top-3 {2,0,1} → {3,4,5,6} minus 4
   * (student 0.91); row 3 top-3 {0,4,1}; row 4 top-3 {6,0,1}. */
  fc_snl_params topk = {.mode = FC_SNL_TOPK, .k = 3, .cap = 0.9025f};
  run_snl(dev, B, C, &topk, q, NULL, sp, labels, "snl topk hand-made", neg, cnt);
  const int32_t want_topk[B * C] = {0, 0, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 1, 1, 0, 0, 0, 1,
                                    0, 1, 1, 0, 0, 1, 1, 0, 1, 1, 0, 0, 1, 1, 1, 1, 0};
  const int32_t want_topk_cnt[B] = {3, 4, 3, 4, 4};
  fc_test_expect_equal_i32("snl topk hand-made: expected negatives", neg, want_topk, B * C);
  fc_test_expect_equal_i32("snl topk hand-made: expected counts", cnt, want_topk_cnt, B);

  /* RANDOM: exactly one member of each non-empty THRESH set. */
  fc_snl_params rnd = {.mode = FC_SNL_RANDOM, .tau_n = 0.05f, .seed = 77, .step = 3};
  run_snl(dev, B, C, &rnd, q, mask, NULL, labels, "snl random hand-made", neg, cnt);
  for (int b = 0; b < B; b++) {
    ck_assert_int_eq(cnt[b], want_cnt[b] ? 1 : 0);
    for (int c = 0; c < C; c++)
      ck_assert_msg(!neg[b * C + c] || want_neg[b * C + c], "random negative %d of row %d", c, b);
  }

  /* Random batches with ties, every mode, against the reference. */
  fc_test_rng rng = fc_test_rng_make(402);
  static const int batches[] = {1, 3, 31, 33}, classes[] = {7, 8};
  for (int bi = 0; bi < 4; bi++)
    for (int ci = 0; ci < 2; ci++) {
      int nb = batches[bi], nc = classes[ci];
      size_t n = (size_t)nb * nc;
      float *qr = fc_test_alloc_floats(n), *spr = fc_test_alloc_floats(n),
            *mr = fc_test_alloc_floats(nb);
      int32_t *lr = calloc(nb, 4);
      fc_test_fill_probs(&rng, qr, nb, nc, 3.0);
      fc_test_fill_probs(&rng, spr, nb, nc, 4.0);
      for (int b = 0; b < nb; b++) {
        mr[b] = (float)(fc_test_rng_u64(&rng) % 3 == 0);
        lr[b] = (int32_t)(fc_test_rng_u64(&rng) % (uint64_t)(nc + 1)) - 1;
      }
      for (int mode = 0; mode < 3; mode++)
        for (int use_mask = 0; use_mask < 2; use_mask++) {
          fc_snl_params prm = {.mode = (fc_snl_mode)mode,
                               .tau_n = 0.0625f,
                               .k = 1 + (int)(fc_test_rng_u64(&rng) % (uint64_t)nc),
                               .cap = 0.5f,
                               .seed = 1000 + (uint64_t)bi,
                               .step = 5 + (uint64_t)ci};
          char what[96];
          snprintf(what, sizeof what, "snl mode %d B=%d C=%d%s k=%d", mode, nb, nc,
                   use_mask ? " masked" : "", prm.k);
          run_snl(dev, nb, nc, &prm, qr, use_mask ? mr : NULL, spr, lr, what, NULL, NULL);
        }
      free(qr), free(spr), free(mr), free(lr);
    }

  fc_gbuf g = fc_gbuf_alloc(dev, "any", 64, 4);
  fc_snl_params bad = {.mode = FC_SNL_TOPK, .k = 8, .cap = 0.9f};
  ck_assert_int_eq(fc_snl_negatives(dev, 2, 7, &bad, g.view, absent, g.view, g.view, g.view),
                   FC_ERR_INVALID_ARG);
  fc_gbuf_free(&g);
}
