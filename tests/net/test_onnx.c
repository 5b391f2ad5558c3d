/* ONNX export without a device: the file's protobuf structure read back by a
 * decoder of its own (fields, opset, interface, metadata, BN folding of one
 * convolution), and every refusal — not a checkpoint, a truncated or
 * mismatched one, NaN weights, a negative variance, a model over ONNX's
 * 2 GiB — with one message, no file left behind and a previous file kept;
 * and the same through
 * `fer-cl export` (exit codes, one message line). The numbers against ONNX
 * Runtime are tools/check_onnx.py's (suite 'onnx'). */
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../cli/clirun.h"
#include "fercl/fercl.h"
#include "fercl/fileio.h"
#include "net/net_internal.h"
#include "testutil.h"

static const char *temp_path(const char *name) {
  static char path[8][600];
  static int next;
  char *p = path[next++ % 8];
  snprintf(p, sizeof path[0], "%s/%s", fc_test_temp_dir(), name);
  return p;
}

static int exists(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0;
}

/* No "<name>.tmp.<pid>" left in the temp folder. */
static void assert_no_temp_files(void) {
  DIR *d = opendir(fc_test_temp_dir());
  ck_assert_ptr_nonnull(d);
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    ck_assert_msg(strstr(e->d_name, ".tmp.") == NULL, "left behind: %s", e->d_name);
  closedir(d);
}

/* ---- a small checkpoint written on the host ---- */

static void tiny_config(fc_net_config *cfg) {
  fc_net_config_default(cfg);
  fc_net_config_set_arch(cfg, "resnet10");
  cfg->width = 1.0 / 16; /* 4, 8, 16, 32 channels */
  cfg->input_size = 32;
  cfg->in_channels = 3;
  cfg->num_classes = 3;
  cfg->stem = FC_STEM_IMAGENET;
  cfg->lae_kernel = 3;
  cfg->dropout = 0.2;
}

/* Parameters drawn from seed; BN variances positive. */
static void write_checkpoint(const char *path, const fc_net_config *cfg) {
  fc_graph g;
  FC_CHECK_OK(fc_graph_build(cfg, &g));
  float *params = malloc(g.n_params * sizeof(float)), *stats = malloc(g.n_stats * sizeof(float));
  uint32_t s = 12345;
  for (size_t i = 0; i < g.n_params; i++) {
    s = s * 1664525u + 1013904223u;
    params[i] = ((float)(s >> 8) / 16777216.0f - 0.5f);
  }
  for (size_t i = 0; i < g.n_stats; i++) {
    s = s * 1664525u + 1013904223u;
    stats[i] = 0.25f + (float)(s >> 8) / 16777216.0f; /* means and variances in [0.25, 1.25) */
  }
  fc_model_meta meta;
  memset(&meta, 0, sizeof meta);
  meta.config = *cfg;
  const char *names[] = {"calm", "gr\"in", "frown"};
  for (int c = 0; c < cfg->num_classes; c++)
    snprintf(meta.class_names[c], FC_CLASS_NAME_MAX, "%s", names[c % 3]);
  fc_input_norm_default(&meta.norm, cfg->in_channels);
  meta.norm.mean[1] = 0.4f;
  FC_CHECK_OK(fc_checkpoint_write_host(path, &g, &meta, params, stats, 5, NULL, 0, NULL, NULL, 0));
  free(params);
  free(stats);
  fc_graph_free(&g);
}

/* ---- a protobuf reader of our own, to check the writer against ---- */

typedef struct pb_field {
  int number, wire;
  uint64_t varint;     /* wire 0, and wire 5's 32 bits */
  const uint8_t *data; /* wire 2 */
  size_t size;
} pb_field;

typedef struct pb_reader {
  const uint8_t *p, *end;
  int bad;
} pb_reader;

static uint64_t read_varint(pb_reader *r) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (r->p >= r->end) break;
    uint8_t b = *r->p++;
    v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
  }
  r->bad = 1;
  return 0;
}

/* The next field, or 0 at the end; sets bad on malformed input. */
static int next_field(pb_reader *r, pb_field *f) {
  if (r->bad || r->p >= r->end) return 0;
  uint64_t key = read_varint(r);
  f->number = (int)(key >> 3);
  f->wire = (int)(key & 7);
  if (f->wire == 0) {
    f->varint = read_varint(r);
  } else if (f->wire == 2) {
    uint64_t n = read_varint(r);
    if (n > (uint64_t)(r->end - r->p))
      r->bad = 1;
    else
      f->data = r->p, f->size = (size_t)n, r->p += n;
  } else if (f->wire == 5 && r->end - r->p >= 4) {
    f->varint = (uint64_t)r->p[0] | (uint64_t)r->p[1] << 8 | (uint64_t)r->p[2] << 16 |
                (uint64_t)r->p[3] << 24;
    r->p += 4;
  } else {
    r->bad = 1;
  }
  return !r->bad && f->number > 0;
}

static pb_reader sub(const pb_field *f) { return (pb_reader){f->data, f->data + f->size, 0}; }

static int str_eq(const pb_field *f, const char *s) {
  return f->size == strlen(s) && memcmp(f->data, s, f->size) == 0;
}

/* Field `number` of a message as a string (first occurrence), into out. */
static void string_field(pb_reader r, int number, char *out, size_t size) {
  pb_field f;
  out[0] = '\0';
  while (next_field(&r, &f))
    if (f.number == number && f.wire == 2) {
      snprintf(out, size, "%.*s", (int)f.size, (const char *)f.data);
      return;
    }
}

typedef struct onnx_facts {
  int64_t ir_version, opset;
  int nodes, initializers, batchnorm_nodes, dropout_nodes, reduce_nodes, sigmoid_nodes;
  char classes[256], input_size[256], channels[256], version[256];
  char input_name[32], output_name[32];
  int64_t input_dims[4], output_dims[2]; /* -1: the dim_param "N" */
  float conv1_bias0;                     /* folded bias of conv1's first output channel */
  int conv1_bias_found;
} onnx_facts;

static void read_dims(pb_field value, int64_t *dims, int max, char *name, size_t name_size) {
  pb_reader v = sub(&value), t, tt, shape, dim;
  pb_field f, g, h, d, e;
  int n = 0;
  string_field(v, 1, name, name_size);
  while (next_field(&v, &f))
    if (f.number == 2) /* type */
      for (t = sub(&f); next_field(&t, &g);)
        if (g.number == 1) /* tensor_type */
          for (tt = sub(&g); next_field(&tt, &h);)
            if (h.number == 2) /* shape */
              for (shape = sub(&h); next_field(&shape, &d);)
                if (d.number == 1 && n < max) {
                  dims[n] = 0;
                  for (dim = sub(&d); next_field(&dim, &e);) {
                    if (e.number == 1) dims[n] = (int64_t)e.varint;
                    if (e.number == 2 && str_eq(&e, "N")) dims[n] = -1;
                  }
                  n++;
                }
}

static void read_onnx(const char *path, onnx_facts *x) {
  char *data = NULL;
  size_t size = 0;
  FC_CHECK_OK(fc_file_read_all(path, (size_t)1 << 30, &data, &size));
  memset(x, 0, sizeof *x);
  pb_reader model = {(const uint8_t *)data, (const uint8_t *)data + size, 0};
  pb_field f, g, h;
  while (next_field(&model, &f)) {
    if (f.number == 1) x->ir_version = (int64_t)f.varint;
    if (f.number == 8)
      for (pb_reader o = sub(&f); next_field(&o, &g);)
        if (g.number == 2) x->opset = (int64_t)g.varint;
    if (f.number == 14) {
      char key[64], value[256];
      string_field(sub(&f), 1, key, sizeof key);
      string_field(sub(&f), 2, value, sizeof value);
      if (!strcmp(key, "classes")) snprintf(x->classes, sizeof x->classes, "%s", value);
      if (!strcmp(key, "input_size")) snprintf(x->input_size, sizeof x->input_size, "%s", value);
      if (!strcmp(key, "channels")) snprintf(x->channels, sizeof x->channels, "%s", value);
      if (!strcmp(key, "fercl_version")) snprintf(x->version, sizeof x->version, "%s", value);
    }
    if (f.number != 7) continue;
    pb_reader graph = sub(&f);
    while (next_field(&graph, &g)) {
      if (g.number == 1) {
        x->nodes++;
        char op[64];
        string_field(sub(&g), 4, op, sizeof op);
        x->batchnorm_nodes += !strcmp(op, "BatchNormalization");
        x->dropout_nodes += !strcmp(op, "Dropout");
        x->reduce_nodes += !strcmp(op, "ReduceMean") || !strcmp(op, "ReduceMax");
        x->sigmoid_nodes += !strcmp(op, "Sigmoid");
        pb_reader node = sub(&g);
        while (next_field(&node, &h)) ck_assert(h.number >= 1 && h.number <= 7);
        ck_assert(!node.bad);
      }
      if (g.number == 5) {
        x->initializers++;
        char name[64];
        string_field(sub(&g), 8, name, sizeof name);
        size_t count = 1, raw = 0;
        const uint8_t *raw_data = NULL;
        for (pb_reader t = sub(&g); next_field(&t, &h);) {
          if (h.number == 1) count *= (size_t)h.varint;
          if (h.number == 2) ck_assert_int_eq((int)h.varint, 1); /* FLOAT */
          if (h.number == 9) raw = h.size, raw_data = h.data;
        }
        ck_assert_msg(raw == 4 * count, "initializer %s: %zu raw bytes for %zu floats", name, raw,
                      count);
        if (!strcmp(name, "conv1.bias")) {
          memcpy(&x->conv1_bias0, raw_data, 4);
          x->conv1_bias_found = 1;
        }
      }
      if (g.number == 11) read_dims(g, x->input_dims, 4, x->input_name, sizeof x->input_name);
      if (g.number == 12) read_dims(g, x->output_dims, 2, x->output_name, sizeof x->output_name);
    }
    ck_assert(!graph.bad);
  }
  ck_assert_msg(!model.bad && model.p == model.end, "%s does not decode as protobuf to its end",
                path);
  free(data);
}

START_TEST(exports_a_checkpoint) {
  fc_net_config cfg;
  tiny_config(&cfg);
  const char *ckpt = temp_path("tiny.safetensors"), *out = temp_path("tiny.onnx");
  write_checkpoint(ckpt, &cfg);
  fc_onnx_summary s;
  FC_CHECK_OK(fc_onnx_export(ckpt, out, &s));
  onnx_facts x;
  read_onnx(out, &x);
  struct stat sb;
  ck_assert_int_eq(stat(out, &sb), 0);
  ck_assert_int_eq((long long)sb.st_size, (long long)s.bytes);
  ck_assert_int_eq(x.ir_version, FC_ONNX_IR_VERSION);
  ck_assert_int_eq(x.opset, 17);
  ck_assert_int_eq(x.nodes, s.nodes);
  ck_assert_int_eq(x.initializers, s.initializers);
  ck_assert_str_eq(x.input_name, "input");
  ck_assert_str_eq(x.output_name, "logits");
  const int64_t in_dims[4] = {-1, 3, 32, 32}, out_dims[2] = {-1, 3};
  for (int d = 0; d < 4; d++) ck_assert_int_eq(x.input_dims[d], in_dims[d]);
  for (int d = 0; d < 2; d++) ck_assert_int_eq(x.output_dims[d], out_dims[d]);
  ck_assert_str_eq(x.classes, "[\"calm\",\"gr\\\"in\",\"frown\"]");
  ck_assert_str_eq(x.input_size, "32");
  ck_assert_str_eq(x.channels, "3");
  ck_assert_str_eq(x.version, fc_version());
  ck_assert_int_eq(x.batchnorm_nodes, 0); /* folded */
  ck_assert_int_eq(x.dropout_nodes, 0);   /* training only */
  ck_assert_int_eq(x.reduce_nodes, 4);    /* mean and max of lae3 and lae4 */
  ck_assert_int_eq(x.sigmoid_nodes, 2);
  /* resnet10: 1 + 4·2 + 3 downsample convs + 2 LAE convs = 14 Conv; the checkpoint's
   * tensors minus the BN ones, plus normalisation (2) and one constant per LAE. */
  ck_assert_int_eq(x.initializers, 2 * 12 + 2 * 2 + 2 + 2 + 2);
  /* conv1's folded bias, channel 0: beta − mean·gamma/sqrt(var + eps), from the checkpoint. */
  fc_graph g;
  FC_CHECK_OK(fc_graph_build(&cfg, &g));
  float *params = malloc(g.n_params * sizeof(float)), *stats = malloc(g.n_stats * sizeof(float));
  FC_CHECK_OK(fc_checkpoint_read_tensors(ckpt, &cfg, &g, params, stats, NULL));
  const fc_layer *bn1 = NULL;
  for (int i = 0; i < g.n_layers; i++)
    if (!strcmp(g.layers[i].name, "bn1")) bn1 = &g.layers[i];
  ck_assert_ptr_nonnull(bn1);
  const double gamma = params[g.tensors[bn1->gamma].offset],
               beta = params[g.tensors[bn1->beta].offset],
               mean = stats[g.tensors[bn1->rmean].offset], var = stats[g.tensors[bn1->rvar].offset];
  ck_assert(x.conv1_bias_found);
  ck_assert_double_eq_tol(x.conv1_bias0, beta - mean * gamma / sqrt(var + cfg.bn_eps), 1e-6);
  free(params);
  free(stats);
  fc_graph_free(&g);
  assert_no_temp_files();
}
END_TEST

/* The export fails with `expected` and a message holding `needle`; a file
 * that was at out before is unchanged, and nothing else is left. */
static void expect_refusal(const char *ckpt, fc_status expected, const char *needle) {
  const char *out = temp_path("refused.onnx");
  FC_CHECK_OK(fc_file_write_atomic(out, "previous", 8));
  fc_status st = fc_onnx_export(ckpt, out, NULL);
  ck_assert_msg(st == expected, "%s: got %s (%s)", ckpt, fc_status_name(st), fc_last_error());
  ck_assert_msg(strstr(fc_last_error(), needle) != NULL, "expected '%s' in: %s", needle,
                fc_last_error());
  ck_assert_msg(strstr(fc_last_error(), "ONNX export to ") == fc_last_error(), "%s",
                fc_last_error());
  char *data = NULL;
  size_t size = 0;
  FC_CHECK_OK(fc_file_read_all(out, 100, &data, &size));
  ck_assert_str_eq(data, "previous");
  free(data);
  unlink(out);
  st = fc_onnx_export(ckpt, out, NULL);
  ck_assert(st == expected);
  ck_assert(!exists(out));
  assert_no_temp_files();
}

START_TEST(refuses_what_is_not_a_checkpoint) {
  const char *text = temp_path("notes.txt");
  FC_CHECK_OK(fc_file_write_atomic(text, "these are not weights\n", 22));
  expect_refusal(text, FC_ERR_LIMIT,
                 "notes.txt: header length"); /* its first 8 bytes, read as a length */
  expect_refusal(temp_path("absent.safetensors"), FC_ERR_IO, "absent.safetensors");
  /* A valid safetensors file that fer-cl did not write. */
  const char *other = temp_path("other.safetensors");
  const float w[2] = {1, 2};
  fc_st_tensor t = {"weight", FC_ST_F32, 1, {2}, w};
  FC_CHECK_OK(fc_safetensors_write(other, &t, 1, NULL, NULL, 0));
  expect_refusal(other, FC_ERR_FORMAT, "is not a fer-cl checkpoint");
}
END_TEST

START_TEST(refuses_a_damaged_checkpoint) {
  fc_net_config cfg;
  tiny_config(&cfg);
  const char *ckpt = temp_path("whole.safetensors"), *cut = temp_path("truncated.safetensors");
  write_checkpoint(ckpt, &cfg);
  char *data = NULL;
  size_t size = 0;
  FC_CHECK_OK(fc_file_read_all(ckpt, (size_t)1 << 30, &data, &size));
  FC_CHECK_OK(fc_file_write_atomic(cut, data, size / 2));
  expect_refusal(cut, FC_ERR_FORMAT, "truncated.safetensors");
  FC_CHECK_OK(fc_file_write_atomic(cut, data, 5)); /* not even the header length */
  expect_refusal(cut, FC_ERR_FORMAT, "truncated.safetensors");
  free(data);
  data = NULL;
  /* Metadata of one network, tensors of another. */
  const char *mixed = temp_path("mixed.safetensors");
  fc_net_config other = cfg;
  other.lae4 = 0; /* the tensors: no lae4.conv.*; the metadata says lae4 = 1 */
  fc_graph g;
  FC_CHECK_OK(fc_graph_build(&other, &g));
  float *params = calloc(g.n_params, sizeof(float)), *stats = calloc(g.n_stats, sizeof(float));
  for (size_t i = 0; i < g.n_stats; i++) stats[i] = 1.0f;
  fc_model_meta meta;
  memset(&meta, 0, sizeof meta);
  meta.config = cfg;
  for (int c = 0; c < cfg.num_classes; c++)
    snprintf(meta.class_names[c], FC_CLASS_NAME_MAX, "c%d", c);
  fc_input_norm_default(&meta.norm, cfg.in_channels);
  FC_CHECK_OK(fc_checkpoint_write_host(mixed, &g, &meta, params, stats, 0, NULL, 0, NULL, NULL, 0));
  expect_refusal(mixed, FC_ERR_MISMATCH, "missing tensor lae4.conv.weight");
  /* A negative BN variance (folding would take its square root). */
  meta.config = other;
  for (int i = 0; i < g.n_tensors; i++)
    if (!strcmp(g.tensors[i].name, "bn1.running_var")) stats[g.tensors[i].offset] = -2.0f;
  FC_CHECK_OK(fc_checkpoint_write_host(mixed, &g, &meta, params, stats, 0, NULL, 0, NULL, NULL, 0));
  expect_refusal(mixed, FC_ERR_NUMERIC, "bn1.running_var[0] = -2: a variance must not be negative");
  free(params);
  free(stats);
  fc_graph_free(&g);
  /* NaN weights (fer-cl never saves them; a file edited by hand): the last 4 bytes of
   * the data are a float of the last F32 tensor (I64 counters come first). */
  const char *nan_ckpt = temp_path("nan.safetensors");
  write_checkpoint(nan_ckpt, &cfg);
  FC_CHECK_OK(fc_file_read_all(nan_ckpt, (size_t)1 << 30, &data, &size));
  const float nan_value = NAN;
  memcpy(data + size - 4, &nan_value, 4);
  FC_CHECK_OK(fc_file_write_atomic(nan_ckpt, data, size));
  free(data);
  expect_refusal(nan_ckpt, FC_ERR_NUMERIC, "NaN");
}
END_TEST

/* resnet34 ×8 has 5.4 GiB of weights: more than one ONNX protobuf can hold.
 * Refused from the metadata alone, before any weight is read (the file has none). */
START_TEST(refuses_a_model_onnx_cannot_hold) {
  fc_net_config cfg;
  tiny_config(&cfg);
  const char *small = temp_path("meta_source.safetensors"), *huge = temp_path("huge.safetensors");
  write_checkpoint(small, &cfg);
  fc_safetensors *f = NULL;
  FC_CHECK_OK(fc_safetensors_open(small, &f));
  size_t n = fc_safetensors_metadata_count(f);
  const char *keys[64], *values[64];
  ck_assert(n <= 64);
  for (size_t i = 0; i < n; i++) {
    FC_CHECK_OK(fc_safetensors_metadata_at(f, i, &keys[i], &values[i]));
    if (!strcmp(keys[i], "fercl.arch")) values[i] = "resnet34";
    if (!strcmp(keys[i], "fercl.width")) values[i] = "8";
  }
  FC_CHECK_OK(fc_safetensors_write(huge, NULL, 0, keys, values, n));
  fc_safetensors_close(f);
  expect_refusal(huge, FC_ERR_UNSUPPORTED, "an ONNX file holds at most 2 GiB");
}
END_TEST

START_TEST(command_line) {
  fc_net_config cfg;
  tiny_config(&cfg);
  const char *ckpt = temp_path("cli.safetensors"), *out = temp_path("cli.onnx"),
             *bad = temp_path("cli.txt");
  write_checkpoint(ckpt, &cfg);
  fc_cli_result r =
      fc_cli_run((const char *[]){"export", "--model", ckpt, "--onnx", out, NULL}, NULL);
  ck_assert_msg(r.exit_code == 0, "%s", r.err);
  ck_assert_msg(strstr(r.out, "wrote ") == r.out && strstr(r.out, "opset 17"), "%s", r.out);
  ck_assert(exists(out));
  fc_cli_result_free(&r);

  FC_CHECK_OK(fc_file_write_atomic(bad, "not a model", 11));
  const char *bad_out = temp_path("cli_bad.onnx");
  r = fc_cli_run((const char *[]){"export", "--model", bad, "--onnx", bad_out, NULL}, NULL);
  ck_assert_int_eq(r.exit_code, 1);
  ck_assert_msg(strncmp(r.err, "fer-cl: error: ONNX export to ", 30) == 0, "%s", r.err);
  ck_assert_msg(strchr(r.err, '\n') == r.err + strlen(r.err) - 1, "one line expected:\n%s", r.err);
  ck_assert_str_eq(r.out, "");
  ck_assert(!exists(bad_out));
  fc_cli_result_free(&r);

  r = fc_cli_run((const char *[]){"export", "--model", ckpt, NULL}, NULL);
  ck_assert_int_eq(r.exit_code, 2);
  ck_assert_msg(strstr(r.err, "--onnx OUT.onnx") != NULL, "%s", r.err);
  fc_cli_result_free(&r);
  r = fc_cli_run((const char *[]){"export", "--help", NULL}, NULL);
  ck_assert_int_eq(r.exit_code, 0);
  ck_assert_msg(strstr(r.out, "usage: fer-cl export") != NULL, "%s", r.out);
  fc_cli_result_free(&r);
  assert_no_temp_files();
}
END_TEST

static Suite *onnx_suite(void) {
  Suite *s = suite_create("onnx");
  FC_TEST_CASE(s, "export", 0, exports_a_checkpoint, refuses_what_is_not_a_checkpoint,
               refuses_a_damaged_checkpoint, refuses_a_model_onnx_cannot_hold, command_line);
  return s;
}

int main(void) { return fc_test_run_suite(onnx_suite(), 0); }
