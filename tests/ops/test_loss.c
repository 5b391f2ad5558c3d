/* Softmax, weighted cross-entropy and the negative-learning loss: device vs reference
 * (batch 1, 3, 31, 33; classes 7, 8; extreme logits), accumulation, bad labels;
 * finite differences of the reference backward w.r.t. the logits. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "op_registry.h"
#include "ops/ref/ref.h"

static const int batches[] = {1, 3, 31, 33};
static const int classes[] = {7, 8};

/* Logits in ±scale; row 1 (if any) gets huge values, which overflow exp() in float
 * unless the maximum is subtracted first. */
static void fill_logits(fc_test_rng *rng, float *z, double *zd, int B, int C, double scale) {
  fc_test_fill_uniform(rng, z, zd, (size_t)B * C, -scale, scale);
  if (B > 1)
    for (int c = 0; c < C; c++) zd[C + c] = z[C + c] = (float)(90.0 + 3.0 * c * (c % 2 ? 1 : -1));
}

void fc_test_softmax(fc_device *dev) {
  fc_test_rng rng = fc_test_rng_make(301);
  for (int bi = 0; bi < 4; bi++)
    for (int ci = 0; ci < 2; ci++) {
      int B = batches[bi], C = classes[ci];
      size_t n = (size_t)B * C;
      float *z = fc_test_alloc_floats(n), *o = fc_test_alloc_floats(n);
      double *zd = fc_test_alloc_doubles(n), *pd = fc_test_alloc_doubles(n);
      fill_logits(&rng, z, zd, B, C, 8.0);
      fc_gbuf gz = fc_gbuf_from_floats(dev, "logits", z, n), gp = fc_gbuf_alloc(dev, "probs", n, 4);
      FC_CHECK_OK(fc_softmax_forward(dev, B, C, gz.view, gp.view));
      fc_ref_softmax_forward(B, C, zd, pd);
      char what[64];
      snprintf(what, sizeof what, "softmax B=%d C=%d", B, C);
      fc_gbuf_download(dev, &gp, o);
      fc_test_expect_close(what, o, pd, n, FC_NMSE_FORWARD);
      FC_CHECK_OK(fc_softmax_forward(dev, B, C, gz.view, gz.view)); /* in place */
      fc_gbuf_download(dev, &gz, o);
      fc_test_expect_close(what, o, pd, n, FC_NMSE_FORWARD);
      fc_gbuf_free(&gz), fc_gbuf_free(&gp);
      free(z), free(o), free(zd), free(pd);
    }
}

void fc_test_softmax_xent(fc_device *dev) {
  fc_test_rng rng = fc_test_rng_make(302);
  for (int bi = 0; bi < 4; bi++)
    for (int ci = 0; ci < 2; ci++)
      for (int weighted = 0; weighted < 2; weighted++) {
        int B = batches[bi], C = classes[ci];
        size_t n = (size_t)B * C;
        float *z = fc_test_alloc_floats(n), *o = fc_test_alloc_floats(n),
              *w = fc_test_alloc_floats(B);
        float *dz0 = fc_test_alloc_floats(n), loss = 0;
        double *zd = fc_test_alloc_doubles(n), *pd = fc_test_alloc_doubles(n),
               *wd = fc_test_alloc_doubles(B);
        double *ld = fc_test_alloc_doubles(B), *dzd = fc_test_alloc_doubles(n),
               *dz0d = fc_test_alloc_doubles(n);
        double lossd = 0;
        int32_t *y = calloc((size_t)B, sizeof *y);
        ck_assert_ptr_nonnull(y);
        fill_logits(&rng, z, zd, B, C, 6.0);
        fc_test_fill_uniform(&rng, dz0, dz0d, n, -1, 1);
        for (int b = 0; b < B; b++) {
          y[b] = (b % 5 == 4) ? -1 : (int32_t)(fc_test_rng_u64(&rng) % (uint64_t)C);
          static const float wv[3] = {0.0f, 1.0f, 0.5f};
          wd[b] = w[b] = wv[fc_test_rng_u64(&rng) % 3];
        }
        const float b_norm = (float)B + 2.0f, lambda = 0.7f;
        fc_gbuf gz = fc_gbuf_from_floats(dev, "logits", z, n),
                gw = fc_gbuf_from_floats(dev, "w", w, B);
        fc_gbuf gy = fc_gbuf_alloc(dev, "labels", B, 4), gp = fc_gbuf_alloc(dev, "probs", n, 4);
        fc_gbuf gl = fc_gbuf_alloc(dev, "loss_per_sample", B, 4),
                gs = fc_gbuf_alloc(dev, "loss", 1, 4);
        fc_gbuf gd = fc_gbuf_from_floats(dev, "dlogits", dz0, n);
        fc_gbuf_upload(dev, &gy, y);
        fc_view wview = weighted ? gw.view : fc_view_of(NULL, 0);
        const double *wref = weighted ? wd : NULL;
        FC_CHECK_OK(fc_softmax_xent_forward(dev, B, C, gz.view, gy.view, wview, b_norm, gp.view,
                                            gl.view, gs.view));
        fc_ref_softmax_xent_forward(B, C, zd, y, wref, b_norm, pd, ld, &lossd);
        char what[96], msg[160];
        snprintf(what, sizeof what, "softmax_xent B=%d C=%d%s", B, C, weighted ? " weighted" : "");
        fc_test_expect_download(dev, &gp, o, pd, n, FC_NMSE_FORWARD, "%s: probs", what);
        fc_test_expect_download(dev, &gl, o, ld, B, FC_NMSE_FORWARD, "%s: loss per sample", what);
        fc_gbuf_download(dev, &gs, &loss);
        snprintf(msg, sizeof msg, "%s: loss", what);
        fc_test_expect_close(msg, &loss, &lossd, 1, FC_NMSE_FORWARD);

        /* accumulate onto dz0, then overwrite. */
        FC_CHECK_OK(fc_softmax_xent_backward(dev, B, C, gp.view, gy.view, wview, b_norm, lambda,
                                             gd.view, 1));
        fc_ref_softmax_xent_backward(B, C, pd, y, wref, b_norm, lambda, dzd);
        for (size_t i = 0; i < n; i++) dz0d[i] += dzd[i];
        fc_test_expect_download(dev, &gd, o, dz0d, n, FC_NMSE_FORWARD, "%s: dlogits accumulated",
                                what);
        FC_CHECK_OK(fc_softmax_xent_backward(dev, B, C, gp.view, gy.view, wview, b_norm, lambda,
                                             gd.view, 0));
        fc_test_expect_download(dev, &gd, o, dzd, n, FC_NMSE_FORWARD, "%s: dlogits", what);

        /* probs in place of the logits: the same losses and probabilities. */
        FC_CHECK_OK(fc_softmax_xent_forward(dev, B, C, gz.view, gy.view, wview, b_norm, gz.view,
                                            gl.view, gs.view));
        fc_test_expect_download(dev, &gz, o, pd, n, FC_NMSE_FORWARD, "%s: probs in place", what);
        fc_test_expect_download(dev, &gl, o, ld, B, FC_NMSE_FORWARD,
                                "%s: loss per sample (probs in place)", what);

        fc_gbuf_free(&gz), fc_gbuf_free(&gw), fc_gbuf_free(&gy), fc_gbuf_free(&gp);
        fc_gbuf_free(&gl), fc_gbuf_free(&gs), fc_gbuf_free(&gd);
        free(z), free(o), free(w), free(dz0), free(zd), free(pd), free(wd), free(ld), free(dzd);
        free(dz0d), free(y);
      }

  /* A label outside −1..C−1 makes its loss (and the scalar) NaN and its gradient 0. */
  const int B = 3, C = 7;
  float z[21], o[21], l[3], s;
  int32_t y[3] = {1, 7, -1};
  fc_test_fill_uniform(&rng, z, NULL, 21, -1, 1);
  fc_gbuf gz = fc_gbuf_from_floats(dev, "logits", z, 21), gp = fc_gbuf_alloc(dev, "probs", 21, 4);
  fc_gbuf gy = fc_gbuf_alloc(dev, "labels", 3, 4), gl = fc_gbuf_alloc(dev, "lps", 3, 4);
  fc_gbuf gs = fc_gbuf_alloc(dev, "loss", 1, 4), gd = fc_gbuf_alloc(dev, "dlogits", 21, 4);
  fc_gbuf_upload(dev, &gy, y);
  FC_CHECK_OK(fc_softmax_xent_forward(dev, B, C, gz.view, gy.view, fc_view_of(NULL, 0), 3.0f,
                                      gp.view, gl.view, gs.view));
  FC_CHECK_OK(fc_softmax_xent_backward(dev, B, C, gp.view, gy.view, fc_view_of(NULL, 0), 3.0f, 1.0f,
                                       gd.view, 0));
  fc_gbuf_download(dev, &gl, l), fc_gbuf_download(dev, &gs, &s), fc_gbuf_download(dev, &gd, o);
  ck_assert(isfinite(l[0]) && l[0] > 0.0f && isnan(l[1]) && l[2] == 0.0f && isnan(s));
  for (int c = 0; c < C; c++) ck_assert(o[C + c] == 0.0f && o[2 * C + c] == 0.0f);
  ck_assert_int_eq(fc_softmax_xent_forward(dev, B, C, gz.view, gy.view, fc_view_of(NULL, 0), 0.0f,
                                           gp.view, gl.view, gs.view),
                   FC_ERR_INVALID_ARG);
  fc_gbuf_free(&gz), fc_gbuf_free(&gp), fc_gbuf_free(&gy), fc_gbuf_free(&gl), fc_gbuf_free(&gs);
  fc_gbuf_free(&gd);
}

typedef struct xent_fd_ctx {
  int B, C;
  const int32_t *y;
  const double *w;
  double b_norm;
  double *p, *l;
} xent_fd_ctx;

static void xent_fd_forward(void *ctx, double *const *in, double *out) {
  xent_fd_ctx *c = ctx;
  fc_ref_softmax_xent_forward(c->B, c->C, in[0], c->y, c->w, c->b_norm, c->p, c->l, out);
}

void fc_test_softmax_xent_grad(fc_device *dev) {
  (void)dev;
  fc_test_rng rng = fc_test_rng_make(303);
  const int B = 5, C = 7;
  int32_t y[5] = {0, 6, -1, 3, 3};
  double w[5] = {1.0, 0.5, 1.0, 0.0, 2.0}, z[35], dz[35], p[35], l[5], dout = 1.0;
  fc_test_fill_uniform(&rng, NULL, z, 35, -3, 3);
  xent_fd_ctx ctx = {B, C, y, w, 8.0, p, l};
  double loss;
  fc_ref_softmax_xent_forward(B, C, z, y, w, 8.0, p, l, &loss);
  fc_ref_softmax_xent_backward(B, C, p, y, w, 8.0, 1.0, dz);
  const fc_fd_input fd_in[] = {{"logits", z, 35, dz}};
  fc_test_fd("softmax_xent", xent_fd_forward, &ctx, fd_in, 1, &dout, 1, 1e-7, 35, 304);
}

void fc_test_nl_loss(fc_device *dev) {
  fc_test_rng rng = fc_test_rng_make(305);
  for (int bi = 0; bi < 4; bi++)
    for (int ci = 0; ci < 2; ci++)
      for (int masked = 0; masked < 2; masked++) {
        int B = batches[bi], C = classes[ci];
        size_t n = (size_t)B * C;
        float *z = fc_test_alloc_floats(n), *o = fc_test_alloc_floats(n),
              *m = fc_test_alloc_floats(B);
        float *dz0 = fc_test_alloc_floats(n), loss = 0;
        double *zd = fc_test_alloc_doubles(n), *md = fc_test_alloc_doubles(B),
               *ld = fc_test_alloc_doubles(B);
        double *dzd = fc_test_alloc_doubles(n), *dz0d = fc_test_alloc_doubles(n), lossd = 0;
        int32_t *neg = calloc(n, sizeof *neg);
        ck_assert_ptr_nonnull(neg);
        fill_logits(&rng, z, zd, B, C, 5.0);
        fc_test_fill_uniform(&rng, dz0, dz0d, n, -1, 1);
        for (size_t i = 0; i < n; i++) neg[i] = fc_test_rng_u64(&rng) % 3 == 0;
        for (int b = 0; b < B; b++) md[b] = m[b] = (float)(fc_test_rng_u64(&rng) % 2);
        if (B > 2) {
          /* Row 2: a negative class the student is nearly sure of (1 − p ≈ 1e-8): the
           * steep end of the loss, where 1 − p must not be computed as 1 − p. */
          for (int c = 0; c < C; c++) zd[2 * C + c] = z[2 * C + c] = 0.0f, neg[2 * C + c] = 0;
          zd[2 * C + 1] = z[2 * C + 1] = 20.0f;
          neg[2 * C + 1] = 1;
          md[2] = m[2] = 0.0f;
        }
        const float eps = 1e-7f, b_norm = (float)B, lambda = 0.9f;
        fc_gbuf gz = fc_gbuf_from_floats(dev, "logits", z, n),
                gm = fc_gbuf_from_floats(dev, "mask", m, B);
        fc_gbuf gn = fc_gbuf_alloc(dev, "negatives", n, 4),
                gl = fc_gbuf_alloc(dev, "loss_per_sample", B, 4);
        fc_gbuf gs = fc_gbuf_alloc(dev, "loss", 1, 4),
                gd = fc_gbuf_from_floats(dev, "dlogits", dz0, n);
        fc_gbuf_upload(dev, &gn, neg);
        fc_view mview = masked ? gm.view : fc_view_of(NULL, 0);
        const double *mref = masked ? md : NULL;
        FC_CHECK_OK(
            fc_nl_loss_forward(dev, B, C, gz.view, gn.view, mview, eps, b_norm, gl.view, gs.view));
        fc_ref_nl_loss_forward(B, C, zd, neg, mref, eps, b_norm, ld, &lossd);
        char what[96], msg[160];
        snprintf(what, sizeof what, "nl_loss B=%d C=%d%s", B, C, masked ? " masked" : "");
        fc_test_expect_download(dev, &gl, o, ld, B, FC_NMSE_FORWARD, "%s: loss per sample", what);
        fc_gbuf_download(dev, &gs, &loss);
        snprintf(msg, sizeof msg, "%s: loss", what);
        fc_test_expect_close(msg, &loss, &lossd, 1, FC_NMSE_FORWARD);

        FC_CHECK_OK(fc_nl_loss_backward(dev, B, C, gz.view, gn.view, mview, eps, b_norm, lambda,
                                        gd.view, 1));
        fc_ref_nl_loss_backward(B, C, zd, neg, mref, eps, b_norm, lambda, dzd);
        for (size_t i = 0; i < n; i++) dz0d[i] += dzd[i];
        fc_test_expect_download(dev, &gd, o, dz0d, n, FC_NMSE_FORWARD, "%s: dlogits accumulated",
                                what);
        FC_CHECK_OK(fc_nl_loss_backward(dev, B, C, gz.view, gn.view, mview, eps, b_norm, lambda,
                                        gd.view, 0));
        fc_test_expect_download(dev, &gd, o, dzd, n, FC_NMSE_FORWARD, "%s: dlogits", what);

        fc_gbuf_free(&gz), fc_gbuf_free(&gm), fc_gbuf_free(&gn), fc_gbuf_free(&gl);
        fc_gbuf_free(&gs), fc_gbuf_free(&gd);
        free(z), free(o), free(m), free(dz0), free(zd), free(md), free(ld), free(dzd), free(dz0d);
        free(neg);
      }
}

typedef struct nl_fd_ctx {
  int B, C;
  const int32_t *neg;
  const double *mask;
  double *l;
} nl_fd_ctx;

static void nl_fd_forward(void *ctx, double *const *in, double *out) {
  nl_fd_ctx *c = ctx;
  fc_ref_nl_loss_forward(c->B, c->C, in[0], c->neg, c->mask, 1e-7, 4.0, c->l, out);
}

void fc_test_nl_loss_grad(fc_device *dev) {
  (void)dev;
  fc_test_rng rng = fc_test_rng_make(306);
  const int B = 4, C = 8;
  int32_t neg[32];
  double mask[4] = {0.0, 1.0, 0.0, 0.0}, z[32], dz[32], l[4], dout = 1.0, loss;
  fc_test_fill_uniform(&rng, NULL, z, 32, -3, 3);
  for (int i = 0; i < 32; i++) neg[i] = fc_test_rng_u64(&rng) % 2;
  z[3 * C + 2] = 6.0, neg[3 * C + 2] = 1; /* a confidently predicted negative: steep loss */
  nl_fd_ctx ctx = {B, C, neg, mask, l};
  fc_ref_nl_loss_forward(B, C, z, neg, mask, 1e-7, 4.0, l, &loss);
  fc_ref_nl_loss_backward(B, C, z, neg, mask, 1e-7, 4.0, 1.0, dz);
  const fc_fd_input fd_in[] = {{"logits", z, 32, dz}};
  fc_test_fd("nl_loss", nl_fd_forward, &ctx, fd_in, 1, &dout, 1, 1e-7, 32, 307);
}
