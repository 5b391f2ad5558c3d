/* ops_dump: runs one op on the OpenCL device and on its C reference with
 * inputs read from raw files, and writes every output, so tools/
 * check_ops_torch.py can compare fer-cl with PyTorch without the test suite
 * depending on torch. Tensors in files are float32 (int32 for argmax), NCHW,
 * row-major; device outputs are written as dev_NAME.f32, reference outputs as
 * ref_NAME.f64. The layout argument picks the layout the device op runs in
 * (inputs are transposed on the host).
 *   ops_dump DIR conv2d    nchw|cnhw N C_IN H W C_OUT K STRIDE PAD
 *            inputs x w b dy      outputs y dx dw db
 *   ops_dump DIR batchnorm nchw|cnhw N C H W plain|relu|add_relu
 *            inputs x gamma beta running_mean running_var dy [residual]
 *            outputs y save_mean save_invstd running_mean running_var dx dgamma dbeta
 *   ops_dump DIR maxpool2d nchw|cnhw N C H W K STRIDE PAD
 *            inputs x dy          outputs y argmax dx
 *   ops_dump DIR linear N IN OUT
 *            inputs x w b dy      outputs y dx dw db */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device/runtime.h"
#include "fercl/fileio.h"
#include "fercl/ops.h"
#include "ops/ref/ref.h"

static const char *dir;
static fc_device *dev;

static void die(const char *what) {
  fprintf(stderr, "ops_dump: %s: %s\n", what, fc_last_error());
  exit(1);
}

static float *load(const char *name, size_t n) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s.f32", dir, name);
  char *data = NULL;
  size_t size = 0;
  if (fc_file_read_all(path, n * 4 + 1, &data, &size) != FC_OK) die(path);
  if (size != n * 4) {
    fprintf(stderr, "ops_dump: %s holds %zu bytes, expected %zu (%zu floats)\n", path, size, n * 4,
            n);
    exit(1);
  }
  return (float *)data;
}

static void save(const char *prefix, const char *name, const void *data, size_t bytes,
                 const char *ext) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s_%s.%s", dir, prefix, name, ext);
  if (fc_file_write_atomic(path, data, bytes) != FC_OK) die(path);
}

static double *to_double(const float *f, size_t n) {
  double *d = malloc(n * sizeof *d);
  for (size_t i = 0; i < n; i++) d[i] = f[i];
  return d;
}

/* NCHW ↔ layout transposes on the host (elements of any 4-byte type). */
static void *relayout(const void *src, fc_shape4 s, fc_layout from, fc_layout to) {
  fc_shape4 a = s, b = s;
  a.layout = from;
  b.layout = to;
  size_t hw = (size_t)s.h * s.w, n = fc_shape4_count(s);
  uint32_t *out = malloc(n * 4);
  const uint32_t *in = src;
  for (int i = 0; i < s.n; i++)
    for (int c = 0; c < s.c; c++)
      for (size_t p = 0; p < hw; p++)
        out[i * fc_shape4_stride_n(b) + c * fc_shape4_stride_c(b) + p] =
            in[i * fc_shape4_stride_n(a) + c * fc_shape4_stride_c(a) + p];
  return out;
}

static cl_mem upload(const float *host, size_t n) {
  cl_mem m = NULL;
  if (fc_buffer_alloc(dev, (n ? n : 1) * 4, "tensor", &m) != FC_OK) die("alloc");
  if (host && fc_buffer_write(dev, m, 0, n * 4, host, 1) != FC_OK) die("write");
  return m;
}

static cl_mem upload_act(const float *nchw, fc_shape4 s) {
  float *h = relayout(nchw, s, FC_LAYOUT_NCHW, s.layout);
  cl_mem m = upload(h, fc_shape4_count(s));
  free(h);
  return m;
}

static void *download(cl_mem m, size_t n) {
  void *h = malloc(n * 4);
  if (fc_buffer_read(dev, m, 0, n * 4, h, 1) != FC_OK) die("read");
  return h;
}

static void save_dev_act(const char *name, cl_mem m, fc_shape4 s) {
  void *h = download(m, fc_shape4_count(s));
  void *nchw = relayout(h, s, s.layout, FC_LAYOUT_NCHW);
  save("dev", name, nchw, fc_shape4_count(s) * 4, "f32");
  free(h), free(nchw);
}

static void save_dev(const char *name, cl_mem m, size_t n) {
  void *h = download(m, n);
  save("dev", name, h, n * 4, "f32");
  free(h);
}

static void save_ref(const char *name, const double *d, size_t n) {
  save("ref", name, d, n * 8, "f64");
}

static fc_layout parse_layout(const char *s) {
  if (!strcmp(s, "nchw")) return FC_LAYOUT_NCHW;
  if (!strcmp(s, "cnhw")) return FC_LAYOUT_CNHW;
  fprintf(stderr, "ops_dump: layout '%s' is not nchw or cnhw\n", s);
  exit(2);
}

static int conv2d(char **a) {
  fc_conv2d_desc d = {atoi(a[1]), atoi(a[2]), atoi(a[3]), atoi(a[4]), atoi(a[5]),
                      atoi(a[6]), atoi(a[6]), atoi(a[7]), atoi(a[8]), parse_layout(a[0])};
  if (fc_conv2d_check(&d) != FC_OK) die("conv2d");
  fc_shape4 is = fc_conv2d_in_shape(&d), os = fc_conv2d_out_shape(&d);
  size_t nx = fc_shape4_count(is), ny = fc_shape4_count(os);
  size_t nw = (size_t)d.c_out * d.c_in * d.kh * d.kw, nb = (size_t)d.c_out;
  float *x = load("x", nx), *w = load("w", nw), *b = load("b", nb), *dy = load("dy", ny);
  cl_mem gx = upload_act(x, is), gw = upload(w, nw), gb = upload(b, nb), gdy = upload_act(dy, os);
  cl_mem gy = upload(NULL, ny), gdx = upload(NULL, nx), gdw = upload(NULL, nw),
         gdb = upload(NULL, nb);
  size_t ws = fc_conv2d_workspace_size(&d, 0);
  cl_mem gws = upload(NULL, ws);
  if (fc_conv2d_forward(dev, &d, fc_view_of(gx, 0), fc_view_of(gw, 0), fc_view_of(gb, 0),
                        fc_view_of(gy, 0), fc_view_of(gws, 0), ws) != FC_OK ||
      fc_conv2d_backward_data(dev, &d, fc_view_of(gdy, 0), fc_view_of(gw, 0), fc_view_of(gdx, 0),
                              fc_view_of(gws, 0), ws) != FC_OK ||
      fc_conv2d_backward_weights(dev, &d, fc_view_of(gx, 0), fc_view_of(gdy, 0), fc_view_of(gdw, 0),
                                 fc_view_of(gdb, 0), 0, fc_view_of(gws, 0), ws) != FC_OK)
    die("conv2d on the device");
  save_dev_act("y", gy, os), save_dev_act("dx", gdx, is), save_dev("dw", gdw, nw);
  save_dev("db", gdb, nb);
  /* The reference runs in NCHW on the same values. */
  fc_conv2d_desc r = d;
  r.layout = FC_LAYOUT_NCHW;
  double *xd = to_double(x, nx), *wd = to_double(w, nw), *bd = to_double(b, nb);
  double *dyd = to_double(dy, ny), *yd = malloc(ny * 8), *dxd = malloc(nx * 8);
  double *dwd = malloc(nw * 8), *dbd = malloc(nb * 8);
  fc_ref_conv2d_forward(&r, xd, wd, bd, yd);
  fc_ref_conv2d_backward_data(&r, dyd, wd, dxd);
  fc_ref_conv2d_backward_weights(&r, xd, dyd, dwd, dbd);
  save_ref("y", yd, ny), save_ref("dx", dxd, nx), save_ref("dw", dwd, nw), save_ref("db", dbd, nb);
  return 0;
}

static int batchnorm(char **a) {
  fc_shape4 s = {atoi(a[1]), atoi(a[2]), atoi(a[3]), atoi(a[4]), parse_layout(a[0])};
  fc_bn_epilogue epi = !strcmp(a[5], "relu")       ? FC_BN_RELU
                       : !strcmp(a[5], "add_relu") ? FC_BN_ADD_RELU
                                                   : FC_BN_PLAIN;
  fc_shape4 ns = s;
  ns.layout = FC_LAYOUT_NCHW;
  size_t n = fc_shape4_count(s), c = (size_t)s.c;
  float *x = load("x", n), *g = load("gamma", c), *b = load("beta", c);
  float *rm = load("running_mean", c), *rv = load("running_var", c), *dy = load("dy", n);
  float *res = epi == FC_BN_ADD_RELU ? load("residual", n) : NULL;
  cl_mem gx = upload_act(x, s), gdy = upload_act(dy, s), gres = res ? upload_act(res, s) : NULL;
  cl_mem gg = upload(g, c), gb = upload(b, c), grm = upload(rm, c), grv = upload(rv, c);
  cl_mem gy = upload(NULL, n), gdx = upload(NULL, n), gdr = upload(NULL, n);
  cl_mem gmean = upload(NULL, c), ginv = upload(NULL, c), gdg = upload(NULL, c),
         gdb = upload(NULL, c);
  size_t ws = fc_batchnorm_workspace_size(s);
  cl_mem gws = upload(NULL, ws);
  fc_batchnorm_params p = {fc_view_of(gg, 0),
                           fc_view_of(gb, 0),
                           fc_view_of(grm, 0),
                           fc_view_of(grv, 0),
                           0.1f,
                           1e-5f,
                           NULL};
  fc_view vres = fc_view_of(gres, 0);
  if (fc_batchnorm_forward_train(dev, s, fc_view_of(gx, 0), &p, fc_view_of(gmean, 0),
                                 fc_view_of(ginv, 0), epi, vres, fc_view_of(gy, 0),
                                 fc_view_of(gws, 0), ws) != FC_OK ||
      fc_batchnorm_backward(dev, s, fc_view_of(gx, 0), fc_view_of(gdy, 0), &p, fc_view_of(gmean, 0),
                            fc_view_of(ginv, 0), epi, fc_view_of(gy, 0), fc_view_of(gdr, 0),
                            fc_view_of(gdx, 0), fc_view_of(gdg, 0), fc_view_of(gdb, 0), 0,
                            fc_view_of(gws, 0), ws) != FC_OK)
    die("batchnorm on the device");
  save_dev_act("y", gy, s), save_dev_act("dx", gdx, s), save_dev("save_mean", gmean, c);
  save_dev("save_invstd", ginv, c), save_dev("running_mean", grm, c);
  save_dev("running_var", grv, c), save_dev("dgamma", gdg, c), save_dev("dbeta", gdb, c);
  if (res) save_dev_act("d_residual", gdr, s);
  double *xd = to_double(x, n), *gd = to_double(g, c), *bd = to_double(b, c);
  double *rmd = to_double(rm, c), *rvd = to_double(rv, c), *dyd = to_double(dy, n);
  double *resd = res ? to_double(res, n) : NULL, *yd = malloc(n * 8), *dxd = malloc(n * 8);
  double *drd = malloc(n * 8), *mean = malloc(c * 8), *inv = malloc(c * 8);
  double *dg = malloc(c * 8), *db = malloc(c * 8);
  fc_ref_batchnorm_forward_train(ns, xd, gd, bd, rmd, rvd, 0.1, 1e-5, mean, inv, epi, resd, yd);
  fc_ref_batchnorm_backward(ns, xd, dyd, gd, mean, inv, epi, yd, drd, dxd, dg, db);
  save_ref("y", yd, n), save_ref("dx", dxd, n), save_ref("save_mean", mean, c);
  save_ref("save_invstd", inv, c), save_ref("running_mean", rmd, c);
  save_ref("running_var", rvd, c), save_ref("dgamma", dg, c), save_ref("dbeta", db, c);
  if (res) save_ref("d_residual", drd, n);
  return 0;
}

static int maxpool2d(char **a) {
  fc_shape4 s = {atoi(a[1]), atoi(a[2]), atoi(a[3]), atoi(a[4]), parse_layout(a[0])};
  int k = atoi(a[5]), st = atoi(a[6]), pad = atoi(a[7]);
  fc_shape4 os = fc_pool2d_out_shape(s, k, st, pad), ns = s;
  ns.layout = FC_LAYOUT_NCHW;
  size_t nx = fc_shape4_count(s), ny = fc_shape4_count(os);
  float *x = load("x", nx), *dy = load("dy", ny);
  cl_mem gx = upload_act(x, s), gdy = upload_act(dy, os);
  cl_mem gy = upload(NULL, ny), ga = upload(NULL, ny), gdx = upload(NULL, nx);
  if (fc_maxpool2d_forward(dev, s, k, st, pad, fc_view_of(gx, 0), fc_view_of(gy, 0),
                           fc_view_of(ga, 0)) != FC_OK ||
      fc_maxpool2d_backward(dev, s, k, st, pad, fc_view_of(ga, 0), fc_view_of(gdy, 0),
                            fc_view_of(gdx, 0)) != FC_OK)
    die("maxpool2d on the device");
  save_dev_act("y", gy, os), save_dev_act("argmax", ga, os), save_dev_act("dx", gdx, s);
  double *xd = to_double(x, nx), *dyd = to_double(dy, ny), *yd = malloc(ny * 8);
  double *dxd = malloc(nx * 8);
  int32_t *am = malloc(ny * 4);
  fc_ref_maxpool2d_forward(ns, k, st, pad, xd, yd, am);
  fc_ref_maxpool2d_backward(ns, k, st, pad, am, dyd, dxd);
  save_ref("y", yd, ny), save_ref("dx", dxd, nx);
  save("ref", "argmax", am, ny * 4, "i32");
  return 0;
}

static int linear(char **a) {
  int n = atoi(a[0]), in = atoi(a[1]), out = atoi(a[2]);
  if (n < 1 || in < 1 || out < 1) {
    fprintf(stderr, "ops_dump: linear N IN OUT must be positive\n");
    return 2;
  }
  size_t nx = (size_t)n * in, nw = (size_t)out * in, ny = (size_t)n * out;
  float *x = load("x", nx), *w = load("w", nw), *b = load("b", out), *dy = load("dy", ny);
  cl_mem gx = upload(x, nx), gw = upload(w, nw), gb = upload(b, out), gdy = upload(dy, ny);
  cl_mem gy = upload(NULL, ny), gdx = upload(NULL, nx), gdw = upload(NULL, nw),
         gdb = upload(NULL, out);
  if (fc_linear_forward(dev, n, in, out, fc_view_of(gx, 0), fc_view_of(gw, 0), fc_view_of(gb, 0),
                        fc_view_of(gy, 0)) != FC_OK ||
      fc_linear_backward(dev, n, in, out, fc_view_of(gx, 0), fc_view_of(gw, 0), fc_view_of(gdy, 0),
                         fc_view_of(gdx, 0), fc_view_of(gdw, 0), fc_view_of(gdb, 0), 0) != FC_OK)
    die("linear on the device");
  save_dev("y", gy, ny), save_dev("dx", gdx, nx), save_dev("dw", gdw, nw), save_dev("db", gdb, out);
  double *xd = to_double(x, nx), *wd = to_double(w, nw), *bd = to_double(b, out);
  double *dyd = to_double(dy, ny), *yd = malloc(ny * 8), *dxd = malloc(nx * 8);
  double *dwd = malloc(nw * 8), *dbd = malloc(out * 8);
  fc_ref_linear_forward(n, in, out, xd, wd, bd, yd);
  fc_ref_linear_backward(n, in, out, xd, wd, dyd, dxd, dwd, dbd);
  save_ref("y", yd, ny), save_ref("dx", dxd, nx), save_ref("dw", dwd, nw), save_ref("db", dbd, out);
  return 0;
}

int main(int argc, char **argv) {
  static const struct {
    const char *name;
    int nargs;
    int (*run)(char **);
  } ops[] = {{"conv2d", 9, conv2d},
             {"batchnorm", 6, batchnorm},
             {"maxpool2d", 8, maxpool2d},
             {"linear", 3, linear}};
  if (argc >= 3) {
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
      if (strcmp(argv[2], ops[i].name) != 0) continue;
      if (argc != 3 + ops[i].nargs) break;
      dir = argv[1];
      if (fc_device_open_selected(NULL, 0, &dev) != FC_OK) die("opening the device");
      int rc = ops[i].run(argv + 3);
      fc_device_close(dev);
      return rc; /* host buffers are left to the process exit: a one-shot tool */
    }
  }
  fprintf(stderr, "usage: see the comment at the top of tools/ops_dump.c\n");
  return 2;
}
