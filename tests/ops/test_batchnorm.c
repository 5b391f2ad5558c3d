/* batchnorm (plain, + ReLU, + residual + ReLU) and channel_sum: device vs
 * reference in both layouts, reference gradients by finite differences. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "op_registry.h"
#include "ops/ref/ref.h"

/* n, c, h, w: batch 1 and 3, spatial 1..63, and shapes whose N·H·W spans
 * several reduction slices, including slices that wrap across samples. */
static const int shapes[][4] = {{1, 3, 7, 7},   {3, 5, 31, 31},  {3, 3, 33, 33}, {3, 4, 1, 1},
                                {1, 2, 63, 63}, {1500, 2, 1, 3}, {2, 3, 1, 2}};
#define N_SHAPES (sizeof shapes / sizeof shapes[0])

static const char *epi_name(fc_bn_epilogue e) {
  return e == FC_BN_PLAIN ? "plain" : e == FC_BN_RELU ? "relu" : "add_relu";
}

static fc_shape4 shape_of(const int *s, int li) {
  fc_shape4 r = {s[0], s[1], s[2], s[3], li ? FC_LAYOUT_CNHW : FC_LAYOUT_NCHW};
  return r;
}

/* Channel c of x gets offset c·0.7 − 1 and scale 1 + c/2: the centered variance
 * pass matters, and channels differ. */
static void fill_activation(fc_test_rng *rng, fc_shape4 s, float *f, double *d) {
  size_t hw = (size_t)s.h * s.w;
  for (int n = 0; n < s.n; n++)
    for (int c = 0; c < s.c; c++)
      for (size_t p = 0; p < hw; p++) {
        size_t i = n * fc_shape4_stride_n(s) + c * fc_shape4_stride_c(s) + p;
        float v = (float)(0.7 * c - 1.0 + (1.0 + 0.5 * c) * fc_test_rng_uniform(rng, -1, 1));
        f[i] = v;
        d[i] = v;
      }
}

/* The device side of one batchnorm case: inputs x, residual, dy (count
 * floats), parameters pf = [gamma | beta | running mean | running var] ([C]
 * each), and room for every output. */
typedef struct bn_bufs {
  fc_gbuf x, res, dy, y, dx, dres, gamma, beta, rmean, rvar, mean, invstd, dgamma, dbeta, ws;
} bn_bufs;

static bn_bufs bn_bufs_make(fc_device *dev, const float *x, const float *res, const float *dy,
                            const float *pf, size_t count, size_t c, size_t ws_size) {
  bn_bufs b;
  b.x = fc_gbuf_from_floats(dev, "x", x, count);
  b.res = fc_gbuf_from_floats(dev, "residual", res, count);
  b.dy = fc_gbuf_from_floats(dev, "dy", dy, count);
  b.y = fc_gbuf_alloc(dev, "y", count, sizeof(float));
  b.dx = fc_gbuf_alloc(dev, "dx", count, sizeof(float));
  b.dres = fc_gbuf_alloc(dev, "d_residual", count, sizeof(float));
  b.gamma = fc_gbuf_from_floats(dev, "gamma", pf, c);
  b.beta = fc_gbuf_from_floats(dev, "beta", pf + c, c);
  b.rmean = fc_gbuf_from_floats(dev, "running_mean", pf + 2 * c, c);
  b.rvar = fc_gbuf_from_floats(dev, "running_var", pf + 3 * c, c);
  b.mean = fc_gbuf_alloc(dev, "save_mean", c, sizeof(float));
  b.invstd = fc_gbuf_alloc(dev, "save_invstd", c, sizeof(float));
  b.dgamma = fc_gbuf_alloc(dev, "dgamma", c, sizeof(float));
  b.dbeta = fc_gbuf_alloc(dev, "dbeta", c, sizeof(float));
  b.ws = fc_gbuf_alloc(dev, "workspace", ws_size, sizeof(float));
  return b;
}

static void bn_bufs_free(bn_bufs *b) {
  fc_gbuf *all[] = {&b->x,    &b->res,    &b->dy,     &b->y,     &b->dx,
                    &b->dres, &b->gamma,  &b->beta,   &b->rmean, &b->rvar,
                    &b->mean, &b->invstd, &b->dgamma, &b->dbeta, &b->ws};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) fc_gbuf_free(all[i]);
}

/* The four [C] statistics after a training forward against the reference's. */
static void expect_bn_stats(fc_device *dev, bn_bufs *B, const double *mean, const double *invstd,
                            const double *running, size_t c, const char *label, const char *tag) {
  char what[256];
  float *small = fc_test_alloc_floats(c);
  const struct {
    fc_gbuf *buf;
    const double *ref;
    const char *name;
  } stats[] = {{&B->mean, mean, "save_mean"},
               {&B->invstd, invstd, "save_invstd"},
               {&B->rmean, running, "running_mean"},
               {&B->rvar, running + c, "running_var"}};
  for (size_t i = 0; i < sizeof stats / sizeof stats[0]; i++) {
    fc_gbuf_download(dev, stats[i].buf, small);
    snprintf(what, sizeof what, "%s %s %s", label, stats[i].name, tag);
    fc_test_expect_close(what, small, stats[i].ref, c, FC_NMSE_FORWARD);
  }
  free(small);
}

static void run_bn_case(fc_device *dev, fc_test_rng *rng, fc_shape4 s, fc_bn_epilogue epi) {
  size_t count = fc_shape4_count(s), c = (size_t)s.c;
  if (fc_test_over_budget(count)) return;
  size_t ws_size = fc_batchnorm_workspace_size(s);
  char what[256], tag[160];
  snprintf(tag, sizeof tag, "n=%d c=%d %dx%d %s %s", s.n, s.c, s.h, s.w,
           s.layout == FC_LAYOUT_NCHW ? "NCHW" : "CNHW", epi_name(epi));
  float *x = fc_test_alloc_floats(count), *res = fc_test_alloc_floats(count);
  float *dy = fc_test_alloc_floats(count), *out = fc_test_alloc_floats(count);
  float *pf = fc_test_alloc_floats(4 * c), *small = fc_test_alloc_floats(c);
  double *xd = fc_test_alloc_doubles(count), *resd = fc_test_alloc_doubles(count);
  double *dyd = fc_test_alloc_doubles(count), *yd = fc_test_alloc_doubles(count);
  double *dxd = fc_test_alloc_doubles(count), *dresd = fc_test_alloc_doubles(count);
  double *pd = fc_test_alloc_doubles(4 * c); /* gamma, beta, running mean, running var */
  double *mean = fc_test_alloc_doubles(c), *invstd = fc_test_alloc_doubles(c);
  double *dgamma = fc_test_alloc_doubles(c), *dbeta = fc_test_alloc_doubles(c);
  fill_activation(rng, s, x, xd);
  fc_test_fill_uniform(rng, res, resd, count, -1, 1);
  fc_test_fill_uniform(rng, dy, dyd, count, -1, 1);
  fc_test_fill_uniform(rng, pf, pd, c, 0.5, 1.5);
  fc_test_fill_uniform(rng, pf + c, pd + c, c, -0.5, 0.5);
  fc_test_fill_uniform(rng, pf + 2 * c, pd + 2 * c, c, -0.2, 0.2);
  fc_test_fill_uniform(rng, pf + 3 * c, pd + 3 * c, c, 0.5, 2.0);
  bn_bufs B = bn_bufs_make(dev, x, res, dy, pf, count, c, ws_size);
  fc_batchnorm_params p = {B.gamma.view, B.beta.view, B.rmean.view, B.rvar.view, 0.1f, 1e-5f, NULL};
  fc_view rv = epi == FC_BN_ADD_RELU ? B.res.view : fc_view_of(NULL, 0);
  const double *rd = epi == FC_BN_ADD_RELU ? resd : NULL;

  /* Inference first (it reads the initial running statistics). */
  FC_CHECK_OK(fc_batchnorm_forward_infer(dev, s, B.x.view, &p, epi, rv, B.y.view));
  fc_ref_batchnorm_forward_infer(s, xd, pd, pd + c, pd + 2 * c, pd + 3 * c, 1e-5, epi, rd, yd);
  fc_gbuf_download(dev, &B.y, out);
  snprintf(what, sizeof what, "batchnorm_forward_infer %s", tag);
  fc_test_expect_close(what, out, yd, count, FC_NMSE_FORWARD);

  FC_CHECK_OK(fc_batchnorm_forward_train(dev, s, B.x.view, &p, B.mean.view, B.invstd.view, epi, rv,
                                         B.y.view, B.ws.view, ws_size));
  fc_ref_batchnorm_forward_train(s, xd, pd, pd + c, pd + 2 * c, pd + 3 * c, 0.1, 1e-5, mean, invstd,
                                 epi, rd, yd);
  fc_gbuf_download(dev, &B.y, out);
  snprintf(what, sizeof what, "batchnorm_forward_train y %s", tag);
  fc_test_expect_close(what, out, yd, count, FC_NMSE_FORWARD);
  expect_bn_stats(dev, &B, mean, invstd, pd + 2 * c, c, "batchnorm_forward_train", tag);

  /* Backward from the device's own saved statistics and output. */
  FC_CHECK_OK(fc_batchnorm_backward(dev, s, B.x.view, B.dy.view, &p, B.mean.view, B.invstd.view,
                                    epi, B.y.view, B.dres.view, B.dx.view, B.dgamma.view,
                                    B.dbeta.view, 0, B.ws.view, ws_size));
  fc_ref_batchnorm_backward(s, xd, dyd, pd, mean, invstd, epi, yd, dresd, dxd, dgamma, dbeta);
  /* dx = γ·invstd·(g − mean(g) − x̂·mean(g·x̂)) cancels when N·H·W is small (two
   * values per channel leave little after removing mean and slope): compare
   * with 1e-6 there; larger batches meet the forward bound. */
  double dx_bound = fc_shape4_count(s) / c < 8 ? 1e-6 : FC_NMSE_FORWARD;
  fc_gbuf_download(dev, &B.dx, out);
  snprintf(what, sizeof what, "batchnorm_backward dx %s", tag);
  fc_test_expect_close(what, out, dxd, count, dx_bound);
  fc_gbuf_download(dev, &B.dgamma, small);
  snprintf(what, sizeof what, "batchnorm_backward dgamma %s", tag);
  fc_test_expect_close(what, small, dgamma, c, FC_NMSE_FORWARD);
  fc_gbuf_download(dev, &B.dbeta, small);
  snprintf(what, sizeof what, "batchnorm_backward dbeta %s", tag);
  fc_test_expect_close(what, small, dbeta, c, FC_NMSE_FORWARD);
  if (epi == FC_BN_ADD_RELU) {
    fc_gbuf_download(dev, &B.dres, out);
    snprintf(what, sizeof what, "batchnorm_backward d_residual %s", tag);
    fc_test_expect_close(what, out, dresd, count, 0.0);
  }
  /* accumulate = 1 adds to dgamma/dbeta; dx stays a plain gradient. */
  FC_CHECK_OK(fc_batchnorm_backward(dev, s, B.x.view, B.dy.view, &p, B.mean.view, B.invstd.view,
                                    epi, B.y.view, B.dres.view, B.dx.view, B.dgamma.view,
                                    B.dbeta.view, 1, B.ws.view, ws_size));
  for (size_t i = 0; i < c; i++) dgamma[i] *= 2, dbeta[i] *= 2;
  fc_gbuf_download(dev, &B.dgamma, small);
  snprintf(what, sizeof what, "batchnorm_backward accumulate dgamma %s", tag);
  fc_test_expect_close(what, small, dgamma, c, FC_NMSE_FORWARD);
  fc_gbuf_download(dev, &B.dbeta, small);
  snprintf(what, sizeof what, "batchnorm_backward accumulate dbeta %s", tag);
  fc_test_expect_close(what, small, dbeta, c, FC_NMSE_FORWARD);
  fc_gbuf_download(dev, &B.dx, out);
  snprintf(what, sizeof what, "batchnorm_backward accumulate dx %s", tag);
  fc_test_expect_close(what, out, dxd, count, dx_bound);
  float *wsf = fc_test_alloc_floats(ws_size);
  fc_gbuf_download(dev, &B.ws, wsf); /* its guard bands */
  free(wsf);

  bn_bufs_free(&B);
  free(x), free(res), free(dy), free(out), free(pf), free(small), free(xd), free(resd);
  free(dyd), free(yd), free(dxd), free(dresd), free(pd), free(mean), free(invstd);
  free(dgamma), free(dbeta);
}

void fc_test_batchnorm(fc_device *dev) {
  fc_test_rng rng = fc_test_rng_make(201);
  for (size_t si = 0; si < N_SHAPES; si++)
    for (int li = 0; li < 2; li++)
      for (int e = 0; e < 3; e++) {
        fc_shape4 s = shape_of(shapes[si], li);
        if ((size_t)s.n * s.h * s.w < 2) continue;
        run_bn_case(dev, &rng, s, (fc_bn_epilogue)e);
      }

  /* Training on one value per channel is refused (the variance is undefined). */
  fc_shape4 one = {1, 3, 1, 1, FC_LAYOUT_CNHW};
  fc_gbuf g = fc_gbuf_alloc(dev, "bn", 64, sizeof(float));
  fc_batchnorm_params p = {g.view, g.view, fc_view_of(NULL, 0), fc_view_of(NULL, 0), 0.1f,
                           1e-5f,  NULL};
  fc_status st = fc_batchnorm_forward_train(dev, one, g.view, &p, g.view, g.view, FC_BN_PLAIN,
                                            fc_view_of(NULL, 0), g.view, g.view, 64);
  ck_assert_int_eq(st, FC_ERR_INVALID_ARG);
  ck_assert_msg(strstr(fc_last_error(), "at least 2 values") != NULL, "message: %s",
                fc_last_error());
  fc_gbuf_free(&g);
}

typedef struct bn_fd_ctx {
  fc_shape4 s;
  fc_bn_epilogue epi;
  double *mean, *invstd;
} bn_fd_ctx;

static void bn_fd_forward(void *ctx, double *const *in, double *out) {
  bn_fd_ctx *b = ctx;
  fc_ref_batchnorm_forward_train(b->s, in[0], in[1], in[2], NULL, NULL, 0.1, 1e-5, b->mean,
                                 b->invstd, b->epi, in[3], out);
}

void fc_test_batchnorm_grad(fc_device *dev) {
  (void)dev;
  fc_test_rng rng = fc_test_rng_make(202);
  static const int fd_shapes[][4] = {{2, 3, 3, 2}, {3, 2, 1, 1}, {1, 2, 4, 5}};
  for (size_t si = 0; si < sizeof fd_shapes / sizeof fd_shapes[0]; si++)
    for (int li = 0; li < 2; li++)
      for (int e = 0; e < 3; e++) {
        fc_shape4 s = shape_of(fd_shapes[si], li);
        size_t n = fc_shape4_count(s), c = (size_t)s.c;
        double *x = fc_test_alloc_doubles(n), *g = fc_test_alloc_doubles(c);
        double *b = fc_test_alloc_doubles(c), *r = fc_test_alloc_doubles(n);
        double *dy = fc_test_alloc_doubles(n), *y = fc_test_alloc_doubles(n);
        double *dx = fc_test_alloc_doubles(n), *dg = fc_test_alloc_doubles(c);
        double *db = fc_test_alloc_doubles(c), *dr = fc_test_alloc_doubles(n);
        double *mean = fc_test_alloc_doubles(c), *invstd = fc_test_alloc_doubles(c);
        fc_test_fill_uniform(&rng, NULL, x, n, -2, 2);
        fc_test_fill_uniform(&rng, NULL, g, c, 0.5, 1.5);
        fc_test_fill_uniform(&rng, NULL, b, c, -0.3, 0.3);
        fc_test_fill_uniform(&rng, NULL, r, n, -1, 1);
        fc_test_fill_uniform(&rng, NULL, dy, n, -1, 1);
        bn_fd_ctx ctx = {s, (fc_bn_epilogue)e, mean, invstd};
        double *inputs[] = {x, g, b, r};
        /* Keep the ReLU's kink out of reach of the finite-difference step: redraw x
         * until every pre-activation is at least 1e-3 away from 0. */
        for (int tries = 0; e != FC_BN_PLAIN; tries++) {
          bn_fd_ctx plain = {s, FC_BN_PLAIN, mean, invstd};
          bn_fd_forward(&plain, inputs, y);
          double closest = INFINITY;
          for (size_t i = 0; i < n; i++)
            closest = fmin(closest, fabs(y[i] + (e == FC_BN_ADD_RELU ? r[i] : 0.0)));
          if (closest > 1e-3) break;
          ck_assert_msg(tries < 100, "cannot draw batchnorm inputs away from the ReLU kink");
          fc_test_fill_uniform(&rng, NULL, x, n, -2, 2);
        }
        bn_fd_forward(&ctx, inputs, y);
        fc_ref_batchnorm_backward(s, x, dy, g, mean, invstd, (fc_bn_epilogue)e, y, dr, dx, dg, db);
        char what[128];
        snprintf(what, sizeof what, "batchnorm %s %s n=%d c=%d %dx%d", epi_name(ctx.epi),
                 li ? "CNHW" : "NCHW", s.n, s.c, s.h, s.w);
        const fc_fd_input fd_in[] = {{"x", x, n, dx},
                                     {"gamma", g, c, dg},
                                     {"beta", b, c, db},
                                     {"residual", r, n, e == FC_BN_ADD_RELU ? dr : NULL}};
        fc_test_fd(what, bn_fd_forward, &ctx, fd_in, 4, dy, n, 1e-6, 40, 203 + si);
        free(x), free(g), free(b), free(r), free(dy), free(y), free(dx), free(dg), free(db);
        free(dr), free(mean), free(invstd);
      }
}

void fc_test_channel_sum(fc_device *dev) {
  fc_test_rng rng = fc_test_rng_make(204);
  for (size_t si = 0; si < N_SHAPES; si++)
    for (int li = 0; li < 2; li++) {
      fc_shape4 s = shape_of(shapes[si], li);
      size_t n = fc_shape4_count(s), c = (size_t)s.c, ws = fc_channel_sum_workspace_size(s);
      if (fc_test_over_budget(n)) continue;
      float *x = fc_test_alloc_floats(n), *out = fc_test_alloc_floats(c);
      double *xd = fc_test_alloc_doubles(n), *ref = fc_test_alloc_doubles(c);
      fill_activation(&rng, s, x, xd);
      fc_gbuf gx = fc_gbuf_from_floats(dev, "x", x, n);
      fc_gbuf go = fc_gbuf_alloc(dev, "out", c, sizeof(float));
      fc_gbuf gws = fc_gbuf_alloc(dev, "workspace", ws, sizeof(float));
      FC_CHECK_OK(fc_channel_sum(dev, s, gx.view, go.view, 0, gws.view, ws));
      fc_ref_channel_sum(s, xd, ref);
      fc_gbuf_download(dev, &go, out);
      char what[128];
      snprintf(what, sizeof what, "channel_sum n=%d c=%d %dx%d %s", s.n, s.c, s.h, s.w,
               li ? "CNHW" : "NCHW");
      fc_test_expect_close(what, out, ref, c, FC_NMSE_FORWARD);
      FC_CHECK_OK(fc_channel_sum(dev, s, gx.view, go.view, 1, gws.view, ws));
      for (size_t i = 0; i < c; i++) ref[i] *= 2;
      fc_gbuf_download(dev, &go, out);
      fc_test_expect_close(what, out, ref, c, FC_NMSE_FORWARD);
      fc_gbuf_free(&gx), fc_gbuf_free(&go), fc_gbuf_free(&gws);
      free(x), free(out), free(xd), free(ref);
    }
}

/* --sync-bn: a stand-in for a second rank that holds the very same batch
 * (the sum over "ranks" is twice this one's), so one device batch of N must
 * give what the reference gives on the 2N batch [x; x]: its output, batch and
 * running statistics, dx; dgamma and dbeta stay this rank's half. */
static fc_status twin_rank_sum(void *user, double *values, size_t n) {
  (void)user;
  for (size_t i = 0; i < n; i++) values[i] *= 2.0;
  return FC_OK;
}

void fc_test_batchnorm_sync(fc_device *dev) {
  fc_test_rng rng = fc_test_rng_make(203);
  static const int sync_shapes[][4] = {
      {3, 5, 31, 31}, {1, 2, 63, 63}, {2, 3, 1, 2}, {1500, 2, 1, 3}};
  double scratch[64];
  fc_bn_sync sync = {.ranks = 2, .sum = twin_rank_sum, .host = scratch, .host_len = 64};
  for (size_t si = 0; si < sizeof sync_shapes / sizeof sync_shapes[0]; si++)
    for (int e = 0; e < 3; e++) {
      fc_bn_epilogue epi = (fc_bn_epilogue)e;
      fc_shape4 s = shape_of(sync_shapes[si], 0),
                s2 = s; /* NCHW: [x; x] is two copies back to back */
      s2.n *= 2;
      size_t count = fc_shape4_count(s), c = (size_t)s.c, ws_size = fc_batchnorm_workspace_size(s);
      char what[256], tag[160];
      snprintf(tag, sizeof tag, "n=%d c=%d %dx%d %s (2 ranks)", s.n, s.c, s.h, s.w, epi_name(epi));
      float *x = fc_test_alloc_floats(count), *res = fc_test_alloc_floats(count);
      float *dy = fc_test_alloc_floats(count), *out = fc_test_alloc_floats(count);
      float *pf = fc_test_alloc_floats(4 * c), *small = fc_test_alloc_floats(c);
      double *xd = fc_test_alloc_doubles(2 * count), *resd = fc_test_alloc_doubles(2 * count);
      double *dyd = fc_test_alloc_doubles(2 * count), *yd = fc_test_alloc_doubles(2 * count);
      double *dxd = fc_test_alloc_doubles(2 * count), *dresd = fc_test_alloc_doubles(2 * count);
      double *pd = fc_test_alloc_doubles(4 * c), *mean = fc_test_alloc_doubles(c);
      double *invstd = fc_test_alloc_doubles(c), *dgamma = fc_test_alloc_doubles(c),
             *dbeta = fc_test_alloc_doubles(c);
      fill_activation(&rng, s, x, xd);
      fc_test_fill_uniform(&rng, res, resd, count, -1, 1);
      fc_test_fill_uniform(&rng, dy, dyd, count, -1, 1);
      memcpy(xd + count, xd, count * sizeof *xd);
      memcpy(resd + count, resd, count * sizeof *resd);
      memcpy(dyd + count, dyd, count * sizeof *dyd);
      fc_test_fill_uniform(&rng, pf, pd, c, 0.5, 1.5);
      fc_test_fill_uniform(&rng, pf + c, pd + c, c, -0.5, 0.5);
      fc_test_fill_uniform(&rng, pf + 2 * c, pd + 2 * c, c, -0.2, 0.2);
      fc_test_fill_uniform(&rng, pf + 3 * c, pd + 3 * c, c, 0.5, 2.0);
      bn_bufs B = bn_bufs_make(dev, x, res, dy, pf, count, c, ws_size);
      fc_batchnorm_params p = {B.gamma.view, B.beta.view, B.rmean.view, B.rvar.view,
                               0.1f,         1e-5f,       &sync};
      fc_view rv = epi == FC_BN_ADD_RELU ? B.res.view : fc_view_of(NULL, 0);
      FC_CHECK_OK(fc_batchnorm_forward_train(dev, s, B.x.view, &p, B.mean.view, B.invstd.view, epi,
                                             rv, B.y.view, B.ws.view, ws_size));
      fc_ref_batchnorm_forward_train(s2, xd, pd, pd + c, pd + 2 * c, pd + 3 * c, 0.1, 1e-5, mean,
                                     invstd, epi, epi == FC_BN_ADD_RELU ? resd : NULL, yd);
      fc_gbuf_download(dev, &B.y, out);
      snprintf(what, sizeof what, "batchnorm_forward_train sync y %s", tag);
      fc_test_expect_close(what, out, yd, count, FC_NMSE_FORWARD);
      expect_bn_stats(dev, &B, mean, invstd, pd + 2 * c, c, "batchnorm_forward_train sync", tag);
      FC_CHECK_OK(fc_batchnorm_backward(dev, s, B.x.view, B.dy.view, &p, B.mean.view, B.invstd.view,
                                        epi, B.y.view, B.dres.view, B.dx.view, B.dgamma.view,
                                        B.dbeta.view, 0, B.ws.view, ws_size));
      fc_ref_batchnorm_backward(s2, xd, dyd, pd, mean, invstd, epi, yd, dresd, dxd, dgamma, dbeta);
      for (size_t i = 0; i < c; i++) dgamma[i] /= 2, dbeta[i] /= 2;
      fc_gbuf_download(dev, &B.dx, out);
      snprintf(what, sizeof what, "batchnorm_backward sync dx %s", tag);
      fc_test_expect_close(what, out, dxd, count,
                           fc_shape4_count(s2) / c < 8 ? 1e-6 : FC_NMSE_FORWARD);
      fc_gbuf_download(dev, &B.dgamma, small);
      snprintf(what, sizeof what, "batchnorm_backward sync dgamma %s", tag);
      fc_test_expect_close(what, small, dgamma, c, FC_NMSE_FORWARD);
      fc_gbuf_download(dev, &B.dbeta, small);
      snprintf(what, sizeof what, "batchnorm_backward sync dbeta %s", tag);
      fc_test_expect_close(what, small, dbeta, c, FC_NMSE_FORWARD);
      bn_bufs_free(&B);
      free(x), free(res), free(dy), free(out), free(pf), free(small), free(xd), free(resd);
      free(dyd), free(yd), free(dxd), free(dresd), free(pd), free(mean), free(invstd);
      free(dgamma), free(dbeta);
    }
}
