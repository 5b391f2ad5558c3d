/* fer-cl eval and fer-cl predict: a saved model on a dataset or on images. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/json.h"
#include "fercl/ckpt.h"
#include "fercl/data.h"
#include "fercl/device.h"
#include "fercl/metrics.h"
#include "ssl/evaluate.h"
#include "ssl/plot.h"

/* The model of a checkpoint, on the selected device, ready for inference. */
typedef struct loaded_model {
  fc_device *dev;
  fc_model_meta meta;
  fc_net *net;
  fc_evaluator ev;
  int ev_ready;
} loaded_model;

static void unload(loaded_model *m) {
  if (m->ev_ready) fc_evaluator_free(&m->ev);
  fc_net_free(m->net);
  fc_device_close(m->dev);
  memset(m, 0, sizeof *m);
}

static fc_status load_model(const char *path, int batch, loaded_model *m) {
  memset(m, 0, sizeof *m);
  if (!path) return fc_errorf(FC_ERR_USAGE, "--model FILE is required (a .safetensors written by fer-cl train)");
  FC_TRY(fc_checkpoint_read_meta(path, &m->meta));
  fc_status st = fc_device_open_selected(fc_cli.device, 0, &m->dev);
  if (st == FC_OK) st = fc_net_create(m->dev, &m->meta.config, 0, &m->net);
  if (st == FC_OK) st = fc_checkpoint_load(path, m->net);
  if (st == FC_OK) st = fc_evaluator_create(m->net, batch, &m->ev);
  m->ev_ready = st == FC_OK;
  if (st != FC_OK) unload(m);
  return st;
}

/* ---- eval ---- */

static const char *eval_model, *eval_data, *eval_format, *eval_png;
static int eval_json, eval_batch = 128, eval_split = 0;
static const char *const split_names[] = {"auto", "val", "test", "train", "all", NULL};

static const fc_option eval_options[] = {
    FC_OPTION_STRING("model", &eval_model, "FILE", "checkpoint (best.safetensors, last.safetensors)"),
    FC_OPTION_STRING("data", &eval_data, "PATH", "dataset to evaluate on"),
    FC_OPTION_STRING("format", &eval_format, "NAME", "dataset format (default: detected)"),
    FC_OPTION_CHOICE("split", &eval_split, split_names, "which images (auto: val, else test, else all)"),
    FC_OPTION_FLAG("json", &eval_json, "print the metrics as JSON"),
    FC_OPTION_STRING("png", &eval_png, "FILE", "also draw the confusion matrix"),
    FC_OPTION_INT("batch", &eval_batch, "B", "images per forward pass", 1, 4096),
    {0}};

static const fc_args_spec eval_spec = {
    .command = "eval",
    .usage = "--model FILE --data PATH [options]",
    .summary = "Accuracy, mean class accuracy, macro-F1, per-class precision/recall and the confusion\n"
               "matrix of a saved model on a dataset (its preprocessing comes from the checkpoint).",
    .options = eval_options,
    .global_options = fc_cli_global_options};

static fc_status pick_list(const fc_dataset *ds, fc_index_list *list) {
  fc_split order[4];
  int n = 0;
  switch (eval_split) {
  case 0: order[n++] = FC_SPLIT_VAL, order[n++] = FC_SPLIT_TEST; break;
  case 1: order[n++] = FC_SPLIT_VAL; break;
  case 2: order[n++] = FC_SPLIT_TEST; break;
  case 3: order[n++] = FC_SPLIT_TRAIN; break;
  default: break;
  }
  for (int i = 0; i < n; i++) {
    FC_TRY(fc_dataset_split_indices(ds, order[i], list));
    if (list->count > 0) return FC_OK;
    fc_index_list_free(list);
  }
  if (eval_split == 1 || eval_split == 2 || eval_split == 3)
    return fc_errorf(FC_ERR_NOT_FOUND, "%s has no %s split", ds->root, split_names[eval_split]);
  /* Everything labelled. */
  list->index = malloc((size_t)(ds->count > 0 ? ds->count : 1) * sizeof(int64_t));
  if (!list->index) return fc_errorf(FC_ERR_NOMEM, "out of memory");
  list->count = 0;
  for (int64_t i = 0; i < ds->count; i++)
    if (ds->labels[i] >= 0) list->index[list->count++] = i;
  return FC_OK;
}

static fc_status check_classes(const fc_dataset *ds, const fc_model_meta *meta) {
  int same = ds->class_count == meta->config.num_classes;
  for (int c = 0; same && c < ds->class_count; c++) same = strcmp(ds->class_names[c], meta->class_names[c]) == 0;
  if (same) return FC_OK;
  char a[1024] = "", b[1024] = "";
  for (int c = 0; c < ds->class_count; c++) {
    strncat(a, c ? ", " : "", sizeof a - strlen(a) - 1);
    strncat(a, ds->class_names[c], sizeof a - strlen(a) - 1);
  }
  for (int c = 0; c < meta->config.num_classes; c++) {
    strncat(b, c ? ", " : "", sizeof b - strlen(b) - 1);
    strncat(b, meta->class_names[c], sizeof b - strlen(b) - 1);
  }
  return fc_errorf(FC_ERR_MISMATCH, "the data's classes (%s) are not the model's (%s)", a, b);
}

/* The folder a file will be written to exists and may be written. */
static fc_status check_writable_folder(const char *file) {
  const char *slash = strrchr(file, '/');
  char dir[1024];
  snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - file) + (slash == file) : 1, slash ? file : ".");
  if (access(dir, W_OK) != 0)
    return fc_errorf(FC_ERR_IO, "cannot write %s: the folder %s %s", file, dir,
                     access(dir, F_OK) != 0 ? "does not exist" : "is not writable");
  return FC_OK;
}

int fc_cmd_eval(int argc, char **argv) {
  char *positional[argc > 0 ? argc : 1];
  int npos = 0;
  int rc = fc_cli_parse(&eval_spec, argc, argv, positional, &npos);
  if (rc >= 0) return rc;
  if (npos > 0) {
    fprintf(stderr, "fer-cl: error: fer-cl eval takes no arguments (got '%s'); see 'fer-cl eval --help'\n", positional[0]);
    return 2;
  }
  if (!eval_model || !eval_data) {
    fprintf(stderr, "fer-cl: error: fer-cl eval needs --model FILE and --data PATH (see 'fer-cl eval --help')\n");
    return 2;
  }
  /* Every argument is checked before the model and the data are loaded. */
  fc_data_options o;
  fc_data_options_default(&o);
  fc_status st = eval_format ? fc_data_format_parse(eval_format, &o.format) : FC_OK;
  if (st == FC_OK && eval_png) st = check_writable_folder(eval_png);
  if (st != FC_OK) return fc_cli_fail(st);
  loaded_model m;
  st = load_model(eval_model, eval_batch, &m);
  if (st != FC_OK) return fc_cli_fail(st);
  o.channels = m.meta.config.in_channels;
  o.height = o.width = m.meta.config.input_size;
  fc_dataset *ds = NULL;
  fc_index_list list = {0};
  fc_confusion *cm = NULL;
  if (st == FC_OK) st = fc_dataset_load(eval_data, &o, &ds);
  if (st == FC_OK) st = check_classes(ds, &m.meta);
  if (st == FC_OK) st = pick_list(ds, &list);
  if (st == FC_OK && list.count == 0) st = fc_errorf(FC_ERR_NOT_FOUND, "%s has no labelled images to evaluate", eval_data);
  if (st == FC_OK) st = fc_confusion_create(m.meta.config.num_classes, &cm);
  if (st == FC_OK) st = fc_evaluate_list(&m.ev, ds, &list, &m.meta.norm, cm);
  const char *names[FC_NET_MAX_CLASSES];
  for (int c = 0; c < m.meta.config.num_classes; c++) names[c] = m.meta.class_names[c];
  if (st == FC_OK) {
    if (eval_json) {
      st = fc_metrics_write_json(stdout, cm, names);
      printf("\n");
    } else {
      printf("model %s on %s (%lld images)\n\n", eval_model, eval_data, (long long)list.count);
      st = fc_metrics_write_report(stdout, cm, names);
      if (st == FC_OK) {
        printf("\nconfusion matrix (rows: true class, columns: predicted)\n");
        st = fc_confusion_write_text(stdout, cm, names);
      }
    }
  }
  if (st == FC_OK && eval_png) {
    char title[512];
    snprintf(title, sizeof title, "%s on %s", eval_model, eval_data);
    st = fc_plot_confusion_png(eval_png, fc_confusion_counts(cm), m.meta.config.num_classes, names, title);
  }
  fc_confusion_free(cm);
  fc_index_list_free(&list);
  fc_dataset_free(ds);
  unload(&m);
  return st == FC_OK ? 0 : fc_cli_fail(st);
}

/* ---- predict ---- */

static const char *predict_model;
static int predict_json, predict_top = 3, predict_logits;

static const fc_option predict_options[] = {
    FC_OPTION_STRING("model", &predict_model, "FILE", "checkpoint written by fer-cl train"),
    FC_OPTION_INT("top", &predict_top, "K", "classes to show per image", 1, FC_NET_MAX_CLASSES),
    FC_OPTION_FLAG("json", &predict_json, "print JSON"),
    FC_OPTION_FLAG("logits", &predict_logits, "with --json: also every class's raw logit"),
    {0}};

static const fc_args_spec predict_spec = {
    .command = "predict",
    .usage = "--model FILE IMAGE...",
    .summary = "The most likely expressions of each image (PNG or JPEG), with probabilities. Images are\n"
               "converted and resized as the checkpoint's metadata says.",
    .options = predict_options,
    .global_options = fc_cli_global_options};

int fc_cmd_predict(int argc, char **argv) {
  char *positional[argc > 0 ? argc : 1];
  int npos = 0;
  int rc = fc_cli_parse(&predict_spec, argc, argv, positional, &npos);
  if (rc >= 0) return rc;
  if (!predict_model || npos == 0) {
    fprintf(stderr, "fer-cl: error: fer-cl predict needs --model FILE and at least one IMAGE (see 'fer-cl predict --help')\n");
    return 2;
  }
  loaded_model m;
  fc_status st = load_model(predict_model, 1, &m);
  if (st != FC_OK) return fc_cli_fail(st);
  int C = m.meta.config.num_classes, failures = 0;
  if (predict_top > C) predict_top = C;
  float probs[FC_NET_MAX_CLASSES];
  fc_decode_request req = {.channels = m.meta.config.in_channels, .height = m.meta.config.input_size,
                           .width = m.meta.config.input_size};
  if (predict_json) printf("[");
  int printed = 0;
  for (int i = 0; i < npos; i++) {
    fc_image img = {0};
    st = fc_image_load(positional[i], &req, &img, NULL);
    if (st == FC_OK) st = fc_evaluator_run(&m.ev, img.data, 1, &m.meta.norm, probs);
    fc_image_free(&img);
    if (st != FC_OK) {
      fprintf(stderr, "fer-cl: error: %s\n", fc_last_error());
      failures++;
      continue;
    }
    int order[FC_NET_MAX_CLASSES];
    for (int c = 0; c < C; c++) order[c] = c;
    for (int a = 0; a < C; a++)
      for (int b = a + 1; b < C; b++)
        if (probs[order[b]] > probs[order[a]]) {
          int tmp = order[a];
          order[a] = order[b];
          order[b] = tmp;
        }
    if (predict_json) {
      printf("%s\n  {\"image\": ", printed++ ? "," : "");
      fc_json_write_string(stdout, positional[i]);
      if (predict_logits) {
        printf(", \"logits\": [");
        for (int c = 0; c < C; c++) printf("%s%.9g", c ? ", " : "", m.ev.logits[c]);
        printf("]");
      }
      printf(", \"top\": [");
      for (int k = 0; k < predict_top; k++) {
        printf("%s{\"class\": ", k ? ", " : "");
        fc_json_write_string(stdout, m.meta.class_names[order[k]]);
        printf(", \"probability\": %.6f}", probs[order[k]]);
      }
      printf("]}");
    } else {
      printf("%s:", positional[i]);
      for (int k = 0; k < predict_top; k++)
        printf("%s %s %.3f", k ? "," : "", m.meta.class_names[order[k]], probs[order[k]]);
      printf("\n");
    }
  }
  if (predict_json) printf("\n]\n");
  unload(&m);
  return failures ? 1 : 0;
}
