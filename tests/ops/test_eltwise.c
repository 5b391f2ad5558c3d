/* relu and residual add: device vs reference, and reference gradients. */
#include <stdlib.h>

#include "harness.h"
#include "op_registry.h"
#include "ops/ref/ref.h"

static const size_t sizes[] = {1, 7, 31, 33, 63, 1000, 4099};
#define N_SIZES (sizeof sizes / sizeof sizes[0])

void fc_test_relu(fc_device *dev) {
  fc_test_rng rng = fc_test_rng_make(1);
  for (size_t s = 0; s < N_SIZES; s++) {
    size_t n = sizes[s];
    if (fc_test_over_budget(n)) continue;
    float *x = fc_test_alloc_floats(n), *out = fc_test_alloc_floats(n),
          *dy = fc_test_alloc_floats(n);
    double *xd = fc_test_alloc_doubles(n), *yd = fc_test_alloc_doubles(n);
    double *dyd = fc_test_alloc_doubles(n), *dxd = fc_test_alloc_doubles(n);
    fc_test_fill_uniform(&rng, x, xd, n, -1.0, 1.0);
    fc_test_fill_uniform(&rng, dy, dyd, n, -1.0, 1.0);
    fc_gbuf gx = fc_gbuf_from_floats(dev, "x", x, n);
    fc_gbuf gy = fc_gbuf_alloc(dev, "y", n, sizeof(float));
    fc_gbuf gdy = fc_gbuf_from_floats(dev, "dy", dy, n);
    fc_gbuf gdx = fc_gbuf_alloc(dev, "dx", n, sizeof(float));

    FC_CHECK_OK(fc_relu_forward(dev, gx.view, gy.view, n));
    fc_ref_relu_forward(xd, yd, n);
    fc_gbuf_download(dev, &gy, out);
    fc_test_expect_close("relu_forward", out, yd, n, FC_NMSE_FORWARD);

    FC_CHECK_OK(fc_relu_backward(dev, gy.view, gdy.view, gdx.view, n));
    fc_ref_relu_backward(yd, dyd, dxd, n);
    fc_gbuf_download(dev, &gdx, out);
    fc_test_expect_close("relu_backward", out, dxd, n, FC_NMSE_FORWARD);

    /* In place: y aliases x. */
    FC_CHECK_OK(fc_relu_forward(dev, gx.view, gx.view, n));
    fc_gbuf_download(dev, &gx, out);
    fc_test_expect_close("relu_forward in place", out, yd, n, FC_NMSE_FORWARD);

    fc_gbuf_free(&gx);
    fc_gbuf_free(&gy);
    fc_gbuf_free(&gdy);
    fc_gbuf_free(&gdx);
    free(x), free(out), free(dy), free(xd), free(yd), free(dyd), free(dxd);
  }
}

static void relu_fd_forward(void *ctx, double *const *in, double *out) {
  fc_ref_relu_forward(in[0], out, *(size_t *)ctx);
}

void fc_test_relu_grad(fc_device *dev) {
  (void)dev;
  size_t n = 63;
  fc_test_rng rng = fc_test_rng_make(2);
  double *x = fc_test_alloc_doubles(n), *y = fc_test_alloc_doubles(n);
  double *dy = fc_test_alloc_doubles(n), *dx = fc_test_alloc_doubles(n);
  fc_test_fill_away_from_zero(&rng, NULL, x, n, 1e-3, 1.0); /* no kink within ±h */
  fc_test_fill_uniform(&rng, NULL, dy, n, -1.0, 1.0);
  fc_ref_relu_forward(x, y, n);
  fc_ref_relu_backward(y, dy, dx, n);
  const fc_fd_input fd_in[] = {{"x", x, n, dx}};
  fc_test_fd("relu", relu_fd_forward, &n, fd_in, 1, dy, n, 1e-7, 63, 3);
  free(x), free(y), free(dy), free(dx);
}

void fc_test_add(fc_device *dev) {
  fc_test_rng rng = fc_test_rng_make(4);
  for (size_t s = 0; s < N_SIZES; s++) {
    size_t n = sizes[s];
    if (fc_test_over_budget(n)) continue;
    float *a = fc_test_alloc_floats(n), *b = fc_test_alloc_floats(n),
          *out = fc_test_alloc_floats(n);
    double *ad = fc_test_alloc_doubles(n), *bd = fc_test_alloc_doubles(n),
           *yd = fc_test_alloc_doubles(n);
    fc_test_fill_uniform(&rng, a, ad, n, -2.0, 2.0);
    fc_test_fill_uniform(&rng, b, bd, n, -2.0, 2.0);
    fc_gbuf ga = fc_gbuf_from_floats(dev, "a", a, n);
    fc_gbuf gb = fc_gbuf_from_floats(dev, "b", b, n);
    fc_gbuf gy = fc_gbuf_alloc(dev, "y", n, sizeof(float));
    FC_CHECK_OK(fc_add_forward(dev, ga.view, gb.view, gy.view, n));
    fc_ref_add_forward(ad, bd, yd, n);
    fc_gbuf_download(dev, &gy, out);
    fc_test_expect_close("add_forward", out, yd, n, FC_NMSE_FORWARD);

    /* axpby with beta = 0 must ignore y's NaN sentinel content. */
    fc_gbuf gz = fc_gbuf_alloc(dev, "z", n, sizeof(float));
    FC_CHECK_OK(fc_axpby(dev, 2.0f, ga.view, 0.0f, gz.view, n));
    for (size_t i = 0; i < n; i++) yd[i] = 2.0 * ad[i];
    fc_gbuf_download(dev, &gz, out);
    fc_test_expect_close("axpby beta=0", out, yd, n, FC_NMSE_FORWARD);
    FC_CHECK_OK(fc_axpby(dev, -1.0f, gb.view, 0.5f, gz.view, n));
    for (size_t i = 0; i < n; i++) yd[i] = 0.5 * yd[i] - bd[i];
    fc_gbuf_download(dev, &gz, out);
    fc_test_expect_close("axpby", out, yd, n, FC_NMSE_FORWARD);
    FC_CHECK_OK(fc_fill(dev, gz.view, 0.25f, n));
    for (size_t i = 0; i < n; i++) yd[i] = 0.25;
    fc_gbuf_download(dev, &gz, out);
    fc_test_expect_close("fill", out, yd, n, 0.0);

    fc_gbuf_free(&ga), fc_gbuf_free(&gb), fc_gbuf_free(&gy), fc_gbuf_free(&gz);
    free(a), free(b), free(out), free(ad), free(bd), free(yd);
  }
}

static void add_fd_forward(void *ctx, double *const *in, double *out) {
  fc_ref_add_forward(in[0], in[1], out, *(size_t *)ctx);
}

void fc_test_add_grad(fc_device *dev) {
  (void)dev;
  /* The backward of add is the identity for both inputs: check that claim. */
  size_t n = 33;
  fc_test_rng rng = fc_test_rng_make(5);
  double *a = fc_test_alloc_doubles(n), *b = fc_test_alloc_doubles(n),
         *dy = fc_test_alloc_doubles(n);
  fc_test_fill_uniform(&rng, NULL, a, n, -1, 1);
  fc_test_fill_uniform(&rng, NULL, b, n, -1, 1);
  fc_test_fill_uniform(&rng, NULL, dy, n, -1, 1);
  const fc_fd_input fd_in[] = {{"a", a, n, dy}, {"b", b, n, dy}};
  fc_test_fd("add", add_fd_forward, &n, fd_in, 2, dy, n, 1e-7, 33, 6);
  free(a), free(b), free(dy);
}
