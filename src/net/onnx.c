/* ONNX export: the checkpoint's layer list (graph.h) as ONNX nodes, written
 * with our protobuf encoder (core/protobuf.h says why not libprotobuf-c).
 *
 * Field numbers are onnx.proto's (onnx/onnx.proto in the ONNX repository);
 * each message type has its own enum below so that a number is written once. */
#include "fercl/onnx.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/protobuf.h"
#include "fercl/fercl.h"
#include "fercl/fileio.h"
#include "net/net_internal.h"

enum {
  MODEL_IR_VERSION = 1,
  MODEL_PRODUCER_NAME = 2,
  MODEL_PRODUCER_VERSION = 3,
  MODEL_DOC = 6,
  MODEL_GRAPH = 7,
  MODEL_OPSET_IMPORT = 8,
  MODEL_METADATA = 14
};
enum { OPSET_VERSION = 2 };
enum { ENTRY_KEY = 1, ENTRY_VALUE = 2 };
enum {
  GRAPH_NODE = 1,
  GRAPH_NAME = 2,
  GRAPH_INITIALIZER = 5,
  GRAPH_DOC = 10,
  GRAPH_INPUT = 11,
  GRAPH_OUTPUT = 12
};
enum { NODE_INPUT = 1, NODE_OUTPUT = 2, NODE_NAME = 3, NODE_OP_TYPE = 4, NODE_ATTRIBUTE = 5 };
enum { ATTR_NAME = 1, ATTR_I = 3, ATTR_INTS = 8, ATTR_TYPE = 20 };
enum { ATTR_TYPE_INT = 2, ATTR_TYPE_INTS = 7 };
enum { TENSOR_DIMS = 1, TENSOR_DATA_TYPE = 2, TENSOR_NAME = 8, TENSOR_RAW_DATA = 9 };
enum { TENSOR_FLOAT = 1 };
enum { VALUE_NAME = 1, VALUE_TYPE = 2 };
enum { TYPE_TENSOR = 1 };
enum { TYPE_TENSOR_ELEM_TYPE = 1, TYPE_TENSOR_SHAPE = 2 };
enum { SHAPE_DIM = 1 };
enum { DIM_VALUE = 1, DIM_PARAM = 2 };

#define NAME_MAX_LEN 64

typedef struct exporter {
  const fc_graph *g;
  const fc_model_meta *meta;
  const float *params, *stats;
  fc_pb graph;                 /* GraphProto: nodes and initializers as they come */
  char (*names)[NAME_MAX_LEN]; /* per slot: the ONNX value holding it */
  char *folded;                /* per layer: a BN already folded into its conv */
  int nodes, initializers;
  size_t parameters;
  fc_status status; /* the first structural problem (FC_ERR_UNSUPPORTED) */
} exporter;

/* ---- protobuf pieces ---- */

static void attr_int(fc_pb *node, const char *name, int64_t v) {
  fc_pb a = {0};
  fc_pb_string(&a, ATTR_NAME, name);
  fc_pb_varint(&a, ATTR_TYPE, ATTR_TYPE_INT);
  fc_pb_varint(&a, ATTR_I, v);
  fc_pb_message(node, NODE_ATTRIBUTE, &a);
  fc_pb_free(&a);
}

static void attr_ints(fc_pb *node, const char *name, const int64_t *v, int n) {
  fc_pb a = {0};
  fc_pb_string(&a, ATTR_NAME, name);
  fc_pb_varint(&a, ATTR_TYPE, ATTR_TYPE_INTS);
  for (int i = 0; i < n; i++) fc_pb_varint(&a, ATTR_INTS, v[i]);
  fc_pb_message(node, NODE_ATTRIBUTE, &a);
  fc_pb_free(&a);
}

/* kernel_shape, strides and pads of a square window (Conv, MaxPool). */
static void attr_window(fc_pb *node, int k, int stride, int pad) {
  const int64_t kernel[2] = {k, k}, strides[2] = {stride, stride}, pads[4] = {pad, pad, pad, pad};
  attr_ints(node, "kernel_shape", kernel, 2);
  attr_ints(node, "strides", strides, 2);
  attr_ints(node, "pads", pads, 4);
}

/* Starts a NodeProto; the caller adds attributes and calls node_end. */
static void node_begin(fc_pb *node, const char *op, const char *name, const char *const *inputs,
                       int n_in, const char *output) {
  for (int i = 0; i < n_in; i++) fc_pb_string(node, NODE_INPUT, inputs[i]);
  fc_pb_string(node, NODE_OUTPUT, output);
  fc_pb_string(node, NODE_NAME, name);
  fc_pb_string(node, NODE_OP_TYPE, op);
}

static void node_end(exporter *e, fc_pb *node) {
  fc_pb_message(&e->graph, GRAPH_NODE, node);
  fc_pb_free(node);
  e->nodes++;
}

/* A node without attributes. */
static void node_plain(exporter *e, const char *op, const char *name, const char *const *inputs,
                       int n_in, const char *output) {
  fc_pb node = {0};
  node_begin(&node, op, name, inputs, n_in, output);
  node_end(e, &node);
}

static void initializer(exporter *e, const char *name, const int64_t *dims, int ndim,
                        const float *data) {
  size_t count = 1;
  fc_pb t = {0};
  for (int d = 0; d < ndim; d++) {
    fc_pb_varint(&t, TENSOR_DIMS, dims[d]);
    count *= (size_t)dims[d];
  }
  fc_pb_varint(&t, TENSOR_DATA_TYPE, TENSOR_FLOAT);
  fc_pb_string(&t, TENSOR_NAME, name);
  /* raw_data is little-endian float32: the host's layout (fer-cl runs on little-endian hosts). */
  fc_pb_bytes(&t, TENSOR_RAW_DATA, data, count * sizeof(float));
  fc_pb_message(&e->graph, GRAPH_INITIALIZER, &t);
  fc_pb_free(&t);
  e->initializers++;
  e->parameters += count;
}

/* ValueInfoProto of a float tensor; dims < 0 are the dynamic batch "N". */
static void value_info(fc_pb *graph, int field, const char *name, const int64_t *dims, int ndim) {
  fc_pb shape = {0}, tensor = {0}, type = {0}, value = {0};
  for (int d = 0; d < ndim; d++) {
    fc_pb dim = {0};
    if (dims[d] < 0)
      fc_pb_string(&dim, DIM_PARAM, "N");
    else
      fc_pb_varint(&dim, DIM_VALUE, dims[d]);
    fc_pb_message(&shape, SHAPE_DIM, &dim);
    fc_pb_free(&dim);
  }
  fc_pb_varint(&tensor, TYPE_TENSOR_ELEM_TYPE, TENSOR_FLOAT);
  fc_pb_message(&tensor, TYPE_TENSOR_SHAPE, &shape);
  fc_pb_message(&type, TYPE_TENSOR, &tensor);
  fc_pb_string(&value, VALUE_NAME, name);
  fc_pb_message(&value, VALUE_TYPE, &type);
  fc_pb_message(graph, field, &value);
  fc_pb_free(&shape);
  fc_pb_free(&tensor);
  fc_pb_free(&type);
  fc_pb_free(&value);
}

static void metadata(fc_pb *model, const char *key, const char *value) {
  fc_pb entry = {0};
  fc_pb_string(&entry, ENTRY_KEY, key);
  fc_pb_string(&entry, ENTRY_VALUE, value);
  fc_pb_message(model, MODEL_METADATA, &entry);
  fc_pb_free(&entry);
}

/* ---- layers ---- */

static const float *param(const exporter *e, int tensor) {
  const fc_tensor_info *t = &e->g->tensors[tensor];
  return (t->store == FC_STORE_PARAM ? e->params : e->stats) + t->offset;
}

static void set_name(exporter *e, int slot, const char *fmt, const char *module) {
  snprintf(e->names[slot], NAME_MAX_LEN, fmt, module);
}

static fc_status unsupported(exporter *e, const fc_layer *l, const char *why) {
  if (e->status == FC_OK)
    e->status = fc_errorf(FC_ERR_UNSUPPORTED, "layer %s: %s; the ONNX exporter cannot express it",
                          l->name, why);
  return e->status;
}

static void emit_input(exporter *e, const fc_layer *l) {
  const int channels = e->meta->config.in_channels;
  /* The device's formula (cl/convert.cl): v·(1/(255·std)) + (−mean/std). */
  float scale[4], shift[4];
  for (int c = 0; c < channels; c++) {
    scale[c] = (float)(1.0 / (255.0 * e->meta->norm.std[c]));
    shift[c] = (float)(-(double)e->meta->norm.mean[c] / e->meta->norm.std[c]);
  }
  const int64_t dims[4] = {1, channels, 1, 1};
  initializer(e, "normalize.scale", dims, 4, scale);
  initializer(e, "normalize.shift", dims, 4, shift);
  const char *mul_in[] = {"input", "normalize.scale"};
  node_plain(e, "Mul", "normalize/scale", mul_in, 2, "normalize/scaled");
  const char *add_in[] = {"normalize/scaled", "normalize.shift"};
  node_plain(e, "Add", "normalize/shift", add_in, 2, "normalized");
  set_name(e, l->y, "%s", "normalized");
}

/* A convolution and the BN after it, as one Conv with folded weights and bias
 * (the BN's shortcut Add and Relu follow at the BN's place: emit_bn_epilogue). */
static void emit_conv(exporter *e, int index) {
  const fc_graph *g = e->g;
  const fc_layer *l = &g->layers[index];
  int bn_index = -1;
  for (int j = index + 1; j < g->n_layers && bn_index < 0; j++)
    if (g->layers[j].kind == FC_LAYER_BN && g->layers[j].x == l->y) bn_index = j;
  if (bn_index < 0) {
    unsupported(e, l, "a convolution without a BatchNorm after it");
    return;
  }
  const fc_layer *bn = &g->layers[bn_index];
  e->folded[bn_index] = 1;
  const fc_slot *x = &g->slots[l->x], *y = &g->slots[l->y];
  const size_t per_out = (size_t)x->c * l->k * l->k;
  float *w = malloc((size_t)y->c * per_out * sizeof(float));
  float *b = malloc((size_t)y->c * sizeof(float));
  if (!w || !b) {
    e->graph.failed = 1;
    free(w);
    free(b);
    return;
  }
  const float *w0 = param(e, l->weight), *gamma = param(e, bn->gamma), *beta = param(e, bn->beta),
              *mean = param(e, bn->rmean), *var = param(e, bn->rvar);
  for (int o = 0; o < y->c && e->status == FC_OK; o++)
    if (!((double)var[o] + e->meta->config.bn_eps > 0.0))
      e->status =
          fc_errorf(FC_ERR_NUMERIC, "%s.running_var[%d] = %g: a variance must not be negative",
                    bn->name, o, (double)var[o]);
  for (int o = 0; o < y->c; o++) {
    /* BN(conv(x)) = s·conv(x) + (β − μ·s), s = γ/√(σ² + ε); in double, rounded once. */
    const double s = (double)gamma[o] / sqrt((double)var[o] + e->meta->config.bn_eps);
    for (size_t i = 0; i < per_out; i++)
      w[(size_t)o * per_out + i] = (float)(s * w0[(size_t)o * per_out + i]);
    b[o] = (float)((double)beta[o] - (double)mean[o] * s);
  }
  char wname[NAME_MAX_LEN + 16], bname[NAME_MAX_LEN + 16];
  snprintf(wname, sizeof wname, "%s.weight", l->name);
  snprintf(bname, sizeof bname, "%s.bias", l->name);
  const int64_t wdims[4] = {y->c, x->c, l->k, l->k}, bdims[1] = {y->c};
  initializer(e, wname, wdims, 4, w);
  initializer(e, bname, bdims, 1, b);
  free(w);
  free(b);

  /* The conv's output is BN(conv(x)); the BN layer adds its epilogue (emit_bn_epilogue). */
  set_name(e, l->y, "%s", l->name);
  fc_pb node = {0};
  const char *in[] = {e->names[l->x], wname, bname};
  node_begin(&node, "Conv", l->name, in, 3, e->names[l->y]);
  attr_window(&node, l->k, l->stride, l->pad);
  node_end(e, &node);
}

/* At the BN's place in the layer list (its shortcut exists by then): + shortcut, ReLU. */
static void emit_bn_epilogue(exporter *e, int index) {
  const fc_layer *bn = &e->g->layers[index];
  if (!e->folded[index]) {
    unsupported(e, bn, "a BatchNorm that follows no convolution");
    return;
  }
  if (bn->epilogue == FC_BN_PLAIN) {
    memcpy(e->names[bn->y], e->names[bn->x], NAME_MAX_LEN);
    return;
  }
  const char *relu_in = e->names[bn->x];
  char add_name[NAME_MAX_LEN + 8];
  if (bn->epilogue == FC_BN_ADD_RELU) {
    snprintf(add_name, sizeof add_name, "%s/add", bn->name);
    const char *add_in[] = {e->names[bn->x], e->names[bn->residual]};
    node_plain(e, "Add", add_name, add_in, 2, add_name);
    relu_in = add_name;
  }
  set_name(e, bn->y, "%s/relu", bn->name);
  node_plain(e, "Relu", e->names[bn->y], &relu_in, 1, e->names[bn->y]);
}

static void emit_maxpool(exporter *e, const fc_layer *l) {
  set_name(e, l->y, "%s", l->name);
  fc_pb node = {0};
  const char *in[] = {e->names[l->x]};
  node_begin(&node, "MaxPool", l->name, in, 1, e->names[l->y]);
  attr_window(&node, l->k, l->stride, l->pad);
  node_end(e, &node);
}

/* LAE (ops/ref/lae.c): y = x·(1 + σ(conv_k([mean_c x; max_c x]) + b)). */
static void emit_lae(exporter *e, const fc_layer *l) {
  char mean[NAME_MAX_LEN + 16], max[NAME_MAX_LEN + 16], maps[NAME_MAX_LEN + 16],
      logit[NAME_MAX_LEN + 16], gate[NAME_MAX_LEN + 16], scale[NAME_MAX_LEN + 16],
      wname[NAME_MAX_LEN + 16], bname[NAME_MAX_LEN + 16], one[NAME_MAX_LEN + 16];
  snprintf(mean, sizeof mean, "%s/mean", l->name);
  snprintf(max, sizeof max, "%s/max", l->name);
  snprintf(maps, sizeof maps, "%s/maps", l->name);
  snprintf(logit, sizeof logit, "%s/conv", l->name);
  snprintf(gate, sizeof gate, "%s/sigmoid", l->name);
  snprintf(scale, sizeof scale, "%s/one_plus", l->name);
  snprintf(wname, sizeof wname, "%s.conv.weight", l->name);
  snprintf(bname, sizeof bname, "%s.conv.bias", l->name);
  snprintf(one, sizeof one, "%s.one", l->name);
  const char *x = e->names[l->x];
  const int64_t axes[1] = {1};
  fc_pb node = {0};
  node_begin(&node, "ReduceMean", mean, &x, 1, mean);
  attr_ints(&node, "axes", axes, 1); /* an attribute up to opset 17 (an input from 18) */
  attr_int(&node, "keepdims", 1);
  node_end(e, &node);
  node_begin(&node, "ReduceMax", max, &x, 1, max);
  attr_ints(&node, "axes", axes, 1);
  attr_int(&node, "keepdims", 1);
  node_end(e, &node);
  const char *cat_in[] = {mean, max}; /* channel 0 the mean, 1 the max: the weight's input order */
  node_begin(&node, "Concat", maps, cat_in, 2, maps);
  attr_int(&node, "axis", 1);
  node_end(e, &node);

  const int64_t wdims[4] = {1, 2, l->k, l->k}, bdims[1] = {1}, one_dims[1] = {1};
  const float one_value[1] = {1.0f};
  initializer(e, wname, wdims, 4, param(e, l->weight));
  initializer(e, bname, bdims, 1, param(e, l->bias));
  initializer(e, one, one_dims, 1, one_value);
  const char *conv_in[] = {maps, wname, bname};
  node_begin(&node, "Conv", logit, conv_in, 3, logit);
  attr_window(&node, l->k, 1, l->k / 2);
  node_end(e, &node);
  const char *sig_in[] = {logit};
  node_plain(e, "Sigmoid", gate, sig_in, 1, gate);
  const char *add_in[] = {gate, one};
  node_plain(e, "Add", scale, add_in, 2, scale);
  set_name(e, l->y, "%s", l->name);
  const char *mul_in[] = {x, scale};
  node_plain(e, "Mul", l->name, mul_in, 2, e->names[l->y]);
}

static void emit_gap(exporter *e, const fc_layer *l) {
  char pooled[NAME_MAX_LEN + 16];
  snprintf(pooled, sizeof pooled, "%s/nchw", l->name);
  const char *in[] = {e->names[l->x]};
  node_plain(e, "GlobalAveragePool", pooled, in, 1, pooled);
  set_name(e, l->y, "%s", l->name);
  fc_pb node = {0};
  const char *flat_in[] = {pooled};
  node_begin(&node, "Flatten", l->name, flat_in, 1, e->names[l->y]);
  attr_int(&node, "axis", 1);
  node_end(e, &node);
}

static void emit_linear(exporter *e, const fc_layer *l) {
  const fc_slot *x = &e->g->slots[l->x], *y = &e->g->slots[l->y];
  char wname[NAME_MAX_LEN + 16], bname[NAME_MAX_LEN + 16];
  snprintf(wname, sizeof wname, "%s.weight", l->name);
  snprintf(bname, sizeof bname, "%s.bias", l->name);
  const int64_t wdims[2] = {y->c, x->c}, bdims[1] = {y->c};
  initializer(e, wname, wdims, 2, param(e, l->weight));
  initializer(e, bname, bdims, 1, param(e, l->bias));
  if (l->y == e->g->logits_slot)
    set_name(e, l->y, "%s", "logits");
  else
    set_name(e, l->y, "%s", l->name);
  fc_pb node = {0};
  const char *in[] = {e->names[l->x], wname, bname};
  node_begin(&node, "Gemm", l->name, in, 3, e->names[l->y]);
  attr_int(&node, "transB", 1); /* the weight is [out][in], as nn.Linear's */
  node_end(e, &node);
}

static void emit_layers(exporter *e) {
  const fc_graph *g = e->g;
  for (int i = 0; i < g->n_layers && e->status == FC_OK && !e->graph.failed; i++) {
    const fc_layer *l = &g->layers[i];
    switch (l->kind) {
    case FC_LAYER_INPUT: emit_input(e, l); break;
    case FC_LAYER_CONV: emit_conv(e, i); break;
    case FC_LAYER_BN: emit_bn_epilogue(e, i); break;
    case FC_LAYER_MAXPOOL: emit_maxpool(e, l); break;
    case FC_LAYER_LAE: emit_lae(e, l); break;
    case FC_LAYER_RFD: /* training only: the identity at inference */
    case FC_LAYER_DROPOUT: memcpy(e->names[l->y], e->names[l->x], NAME_MAX_LEN); break;
    case FC_LAYER_GAP: emit_gap(e, l); break;
    case FC_LAYER_LINEAR: emit_linear(e, l); break;
    default: unsupported(e, l, "an unknown layer kind"); break;
    }
  }
  if (e->status == FC_OK && strcmp(e->names[g->logits_slot], "logits") != 0)
    unsupported(e, &g->layers[g->n_layers - 1], "the network does not end in its classifier");
}

/* ---- the model ---- */

static void json_floats(char *out, size_t size, const float *v, int n) {
  size_t used = (size_t)snprintf(out, size, "[");
  for (int i = 0; i < n && used < size; i++)
    used += (size_t)snprintf(out + used, size - used, "%s%.9g", i ? ", " : "", v[i]);
  if (used < size) snprintf(out + used, size - used, "]");
}

static fc_status build_model(exporter *e, fc_pb *model) {
  const fc_model_meta *meta = e->meta;
  const fc_net_config *c = &meta->config;
  char text[512];
  snprintf(text, sizeof text, "fer-cl %s %s x%g, %s stem", fc_version(), c->arch, c->width,
           fc_stem_name(c->stem));
  fc_pb_string(&e->graph, GRAPH_NAME, text);
  fc_pb_string(
      &e->graph, GRAPH_DOC,
      "Teacher network at inference. BatchNorm folded into the convolutions; random feature-map "
      "dropout and dropout (training only) left out.");
  const int64_t in_dims[4] = {-1, c->in_channels, c->input_size, c->input_size};
  const int64_t out_dims[2] = {-1, c->num_classes};
  value_info(&e->graph, GRAPH_INPUT, "input", in_dims, 4);
  value_info(&e->graph, GRAPH_OUTPUT, "logits", out_dims, 2);
  emit_layers(e);
  if (e->status != FC_OK) return e->status;

  fc_pb opset = {0};
  fc_pb_varint(&opset, OPSET_VERSION, FC_ONNX_OPSET); /* domain "" (ai.onnx) is the default */
  fc_pb_varint(model, MODEL_IR_VERSION, FC_ONNX_IR_VERSION);
  fc_pb_message(model, MODEL_OPSET_IMPORT, &opset);
  fc_pb_free(&opset);
  fc_pb_string(model, MODEL_PRODUCER_NAME, "fer-cl");
  fc_pb_string(model, MODEL_PRODUCER_VERSION, fc_version());
  snprintf(
      text, sizeof text,
      "Facial-expression classifier. input: float32 [N, %d, %d, %d], pixel values 0-255 (%s), "
      "normalised inside the graph. output: logits [N, %d] in the order of metadata 'classes'; "
      "softmax gives probabilities.",
      c->in_channels, c->input_size, c->input_size, c->in_channels == 1 ? "gray" : "RGB",
      c->num_classes);
  fc_pb_string(model, MODEL_DOC, text);
  fc_pb_message(model, MODEL_GRAPH, &e->graph);

  char *classes = fc_model_meta_classes_json(meta);
  if (!classes) return fc_errorf(FC_ERR_NOMEM, "out of memory");
  metadata(model, "classes", classes);
  free(classes);
  snprintf(text, sizeof text, "%d", c->input_size);
  metadata(model, "input_size", text);
  snprintf(text, sizeof text, "%d", c->in_channels);
  metadata(model, "channels", text);
  metadata(model, "fercl_version", fc_version());
  metadata(model, "input_range", "0-255");
  json_floats(text, sizeof text, meta->norm.mean, c->in_channels);
  metadata(model, "input_mean", text);
  json_floats(text, sizeof text, meta->norm.std, c->in_channels);
  metadata(model, "input_std", text);
  metadata(model, "arch", c->arch);
  snprintf(text, sizeof text, "%.17g", c->width);
  metadata(model, "width", text);
  metadata(model, "stem", fc_stem_name(c->stem));
  snprintf(text, sizeof text, "%d", (c->lae3 || c->lae4) ? c->lae_kernel : 0);
  metadata(model, "lae_kernel", text);
  return FC_OK;
}

static fc_status export_model(const char *checkpoint_path, const char *onnx_path,
                              fc_onnx_summary *summary) {
  fc_model_meta meta;
  FC_TRY(fc_checkpoint_read_meta(checkpoint_path, &meta));
  fc_graph g;
  FC_TRY(fc_graph_build(&meta.config, &g));
  /* An ONNX model is one protobuf message, so its weights must stay under 2 GiB
   * (bigger models need ONNX's external-data files, which we do not write).
   * Checked before reading a byte of weights; 1 MiB is room for the nodes. */
  const double weight_bytes = 4.0 * ((double)g.n_params + (double)g.n_stats);
  if (weight_bytes > (double)FC_PB_MAX_MESSAGE - (double)(1 << 20)) {
    fc_graph_free(&g);
    return fc_errorf(
        FC_ERR_UNSUPPORTED,
        "%s: %s x%g holds %.2f GiB of weights; an ONNX file holds at most 2 GiB (one protobuf "
        "message) and fer-cl does not write ONNX external-data files: export a smaller --width or "
        "--arch",
        checkpoint_path, meta.config.arch, meta.config.width, weight_bytes / (1 << 30));
  }
  exporter e = {.g = &g, .meta = &meta, .status = FC_OK};
  float *params = malloc((g.n_params + 1) * sizeof(float));
  float *stats = malloc((g.n_stats + 1) * sizeof(float));
  e.names = calloc((size_t)g.n_slots, sizeof *e.names);
  e.folded = calloc((size_t)g.n_layers, 1);
  fc_pb model = {0};
  fc_status st =
      params && stats && e.names && e.folded ? FC_OK : fc_errorf(FC_ERR_NOMEM, "out of memory");
  if (st == FC_OK)
    st = fc_checkpoint_read_tensors(checkpoint_path, &meta.config, &g, params, stats, NULL);
  for (size_t i = 0; st == FC_OK && i < g.n_params + g.n_stats; i++) {
    float v = i < g.n_params ? params[i] : stats[i - g.n_params];
    if (!isfinite(v))
      st = fc_errorf(FC_ERR_NUMERIC, "%s holds NaN or Inf weights; nothing to export",
                     checkpoint_path);
  }
  e.params = params;
  e.stats = stats;
  if (st == FC_OK) st = build_model(&e, &model);
  if (st == FC_OK && (model.failed || e.graph.failed))
    st = fc_errorf(FC_ERR_NOMEM, "out of memory building the ONNX model of %s", checkpoint_path);
  if (st == FC_OK) st = fc_file_write_atomic(onnx_path, model.data, model.length);
  if (st == FC_OK && summary) {
    summary->meta = meta;
    summary->nodes = e.nodes;
    summary->initializers = e.initializers;
    summary->parameters = e.parameters;
    summary->bytes = model.length;
  }
  fc_pb_free(&model);
  fc_pb_free(&e.graph);
  free(e.names);
  free(e.folded);
  free(params);
  free(stats);
  fc_graph_free(&g);
  return st;
}

fc_status fc_onnx_export(const char *checkpoint_path, const char *onnx_path,
                         fc_onnx_summary *summary) {
  fc_status st = export_model(checkpoint_path, onnx_path, summary);
  return fc_error_context(st, "ONNX export to %s", onnx_path);
}
