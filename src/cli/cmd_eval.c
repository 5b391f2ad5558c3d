/* fer-cl eval and fer-cl predict: a saved model on a dataset or on images. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/faces.h"
#include "fercl/ckpt.h"
#include "fercl/data.h"
#include "fercl/device.h"
#include "fercl/eval.h"
#include "fercl/json.h"
#include "fercl/metrics.h"

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
  if (!path)
    return fc_errorf(FC_ERR_USAGE,
                     "--model FILE is required (a .safetensors written by fer-cl train)");
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

static const char *eval_model, *eval_data, *eval_format, *eval_png, *eval_class_map;
static int eval_json, eval_batch = 128, eval_split = 0;
static const char *const split_names[] = {"auto", "val", "test", "train", "all", NULL};

/* Option tables and command specs keep one entry a line. */
// clang-format off
static const fc_option eval_options[] = {
    FC_OPTION_STRING("model", &eval_model, "FILE", "checkpoint (best.safetensors, last.safetensors)"),
    FC_OPTION_STRING("data", &eval_data, "PATH", "dataset to evaluate on"),
    FC_OPTION_STRING("format", &eval_format, "NAME", "dataset format (default: detected)"),
    FC_OPTION_CHOICE("split", &eval_split, split_names, "which images (auto: val, else test, else all)"),
    FC_OPTION_FLAG("json", &eval_json, "print the metrics as JSON"),
    FC_OPTION_STRING("png", &eval_png, "FILE", "also draw the confusion matrix"),
    FC_OPTION_INT("batch", &eval_batch, "B", "images per forward pass", 1, 4096),
    FC_OPTION_STRING("class-map", &eval_class_map, "LIST",
                     "data class=model class pairs for other names, e.g. anger=angry,sadness=sad"),
    {0}};

static const fc_args_spec eval_spec = {
    .command = "eval",
    .usage = "--model FILE --data PATH [options]",
    .summary = "Accuracy, mean class accuracy, macro-F1, per-class precision/recall and the confusion\n"
               "matrix of a saved model on a dataset (its preprocessing comes from the checkpoint).",
    .details = "Classes are matched by name, case-insensitively, in any order; --class-map names the others.\n"
               "The data may hold a subset of the model's classes. Images of a data class the model lacks\n"
               "(CK+'s contempt) are left out of the metrics and reported apart.",
    .options = eval_options,
    .global_options = fc_cli_global_options};
// clang-format on

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

/* Which model class each class of the data is: by name, case-insensitively,
 * after --class-map renames; -1 when the model has no such class (its
 * images are left out and reported apart). */
typedef struct class_match {
  int data_classes;
  int *to_model;      /* [data_classes] */
  int64_t *images;    /* [data_classes]: images of each class among those evaluated */
  int64_t *predicted; /* [data_classes][model classes]: what the model said for left-out images */
} class_match;

static void class_match_free(class_match *cm) {
  free(cm->to_model);
  free(cm->images);
  free(cm->predicted);
  memset(cm, 0, sizeof *cm);
}

static void list_names(char *out, size_t size, char *const *names, int n) {
  out[0] = '\0';
  for (int c = 0; c < n; c++) {
    strncat(out, c ? ", " : "", size - strlen(out) - 1);
    strncat(out, names[c], size - strlen(out) - 1);
  }
}

static int find_name(char *const *names, int n, const char *name, size_t len) {
  for (int c = 0; c < n; c++)
    if (strlen(names[c]) == len && !strncasecmp(names[c], name, len)) return c;
  return -1;
}

static fc_status match_classes(const fc_dataset *ds, const fc_model_meta *meta, class_match *out) {
  memset(out, 0, sizeof *out);
  const int D = ds->class_count, M = meta->config.num_classes;
  char *model_names[FC_NET_MAX_CLASSES];
  for (int c = 0; c < M; c++) model_names[c] = (char *)meta->class_names[c];
  out->data_classes = D;
  out->to_model = malloc((size_t)(D > 0 ? D : 1) * sizeof(int));
  out->images = calloc((size_t)(D > 0 ? D : 1), sizeof(int64_t));
  out->predicted = calloc((size_t)(D > 0 ? D : 1) * (size_t)M, sizeof(int64_t));
  if (!out->to_model || !out->images || !out->predicted)
    return fc_errorf(FC_ERR_NOMEM, "out of memory");
  for (int d = 0; d < D; d++)
    out->to_model[d] = find_name(model_names, M, ds->class_names[d], strlen(ds->class_names[d]));
  char data_list[1024], model_list[1024];
  list_names(data_list, sizeof data_list, ds->class_names, D);
  list_names(model_list, sizeof model_list, model_names, M);
  for (const char *p = eval_class_map; p && *p;) {
    const char *end = p + strcspn(p, ","), *eq = memchr(p, '=', (size_t)(end - p));
    if (!eq || eq == p || eq + 1 == end)
      return fc_errorf(FC_ERR_USAGE,
                       "--class-map: '%.*s' is not DATA=MODEL (e.g. anger=angry,sadness=sad)",
                       (int)(end - p), p);
    int d = find_name(ds->class_names, D, p, (size_t)(eq - p));
    int m = find_name(model_names, M, eq + 1, (size_t)(end - eq - 1));
    if (d < 0)
      return fc_errorf(FC_ERR_USAGE, "--class-map: the data has no class '%.*s' (its classes: %s)",
                       (int)(eq - p), p, data_list);
    if (m < 0)
      return fc_errorf(FC_ERR_USAGE, "--class-map: the model has no class '%.*s' (its classes: %s)",
                       (int)(end - eq - 1), eq + 1, model_list);
    out->to_model[d] = m;
    p = *end ? end + 1 : end;
  }
  int matched = 0;
  for (int d = 0; d < D; d++) matched += out->to_model[d] >= 0;
  if (matched == 0)
    return fc_errorf(
        FC_ERR_MISMATCH,
        "none of the data's classes (%s) is a class of the model (%s): name the pairs with "
        "--class-map DATA=MODEL,... (e.g. anger=angry)",
        data_list, model_list);
  return FC_OK;
}

/* Relabels the data in the model's classes: list keeps the matched images,
 * left gets the others (their labels stay the data's, in left_labels). */
static fc_status split_by_match(fc_dataset *ds, class_match *cm, fc_index_list *list,
                                fc_index_list *left, int32_t **left_labels) {
  left->index = malloc((size_t)(list->count > 0 ? list->count : 1) * sizeof(int64_t));
  *left_labels = malloc((size_t)(list->count > 0 ? list->count : 1) * sizeof(int32_t));
  if (!left->index || !*left_labels) return fc_errorf(FC_ERR_NOMEM, "out of memory");
  int64_t kept = 0;
  left->count = 0;
  for (int64_t i = 0; i < list->count; i++) {
    int64_t k = list->index[i];
    int32_t y = ds->labels[k];
    if (y < 0 || y >= cm->data_classes) continue;
    cm->images[y]++;
    if (cm->to_model[y] >= 0) {
      list->index[kept++] = k;
    } else {
      (*left_labels)[left->count] = y;
      left->index[left->count++] = k;
    }
  }
  list->count = kept;
  for (int64_t k = 0; k < ds->count; k++) /* in the model's classes from here on */
    if (ds->labels[k] >= 0 && ds->labels[k] < cm->data_classes)
      ds->labels[k] = cm->to_model[ds->labels[k]];
  return FC_OK;
}

/* Whether the data's classes are the model's, same names in the same order. */
static int identical_classes(const fc_dataset *ds, const fc_model_meta *meta,
                             const class_match *cm) {
  if (ds->class_count != meta->config.num_classes) return 0;
  for (int d = 0; d < ds->class_count; d++)
    if (cm->to_model[d] != d || strcmp(ds->class_names[d], meta->class_names[d]) != 0) return 0;
  return 1;
}

static void print_match(FILE *out, const fc_dataset *ds, const fc_model_meta *meta,
                        const class_match *cm) {
  fprintf(out, "classes (data -> model):");
  for (int d = 0; d < ds->class_count; d++) {
    int m = cm->to_model[d];
    if (m < 0)
      fprintf(out, "%s %s -> (left out)", d ? "," : "", ds->class_names[d]);
    else if (strcmp(ds->class_names[d], meta->class_names[m]) != 0)
      fprintf(out, "%s %s -> %s", d ? "," : "", ds->class_names[d], meta->class_names[m]);
    else
      fprintf(out, "%s %s", d ? "," : "", ds->class_names[d]);
  }
  fprintf(out, "\n");
}

/* The model's three most frequent answers for the left-out images of data class d. */
static void print_left_out_answers(FILE *out, const class_match *match, const fc_model_meta *meta,
                                   int d) {
  const int M = meta->config.num_classes;
  const int64_t *row = match->predicted + (size_t)d * (size_t)M;
  int shown[3] = {-1, -1, -1};
  for (int k = 0; k < 3; k++)
    for (int c = 0; c < M; c++) {
      int taken = 0;
      for (int j = 0; j < k; j++) taken |= shown[j] == c;
      if (!taken && row[c] > 0 && (shown[k] < 0 || row[c] > row[shown[k]])) shown[k] = c;
    }
  fprintf(out, " (the model called them");
  for (int k = 0; k < 3 && shown[k] >= 0; k++)
    fprintf(out, "%s %s %lld", k ? "," : "", meta->class_names[shown[k]], (long long)row[shown[k]]);
  fprintf(out, ")");
}

static fc_status print_text(const fc_dataset *ds, const fc_model_meta *meta,
                            const class_match *match, const fc_confusion *cm,
                            const char *const *names, int64_t evaluated, int64_t left_out,
                            int same) {
  if (!same) print_match(stdout, ds, meta, match);
  printf("model %s on %s (%lld images)\n\n", eval_model, eval_data, (long long)evaluated);
  FC_TRY(fc_metrics_write_report(stdout, cm, names));
  printf("\nconfusion matrix (rows: true class, columns: predicted)\n");
  FC_TRY(fc_confusion_write_text(stdout, cm, names));
  fc_metrics mt;
  FC_TRY(fc_metrics_compute(cm, &mt));
  const int M = meta->config.num_classes;
  if (mt.classes_with_support < M) {
    double f1 = 0;
    printf("\nthe data has no images of the model's class%s",
           M - mt.classes_with_support == 1 ? "" : "es");
    for (int c = 0, k = 0; c < M; c++) {
      if (mt.per_class[c].support == 0)
        printf("%s %s", k++ ? "," : "", names[c]);
      else
        f1 += mt.per_class[c].f1;
    }
    printf(
        ": mean class accuracy averages the %d classes it has; macro-F1 over those: %.4f (over all "
        "%d: %.4f)\n",
        mt.classes_with_support, f1 / mt.classes_with_support, M, mt.macro_f1);
  }
  if (left_out > 0) {
    int left_classes = 0;
    for (int d = 0; d < ds->class_count; d++)
      left_classes += match->to_model[d] < 0 && match->images[d] > 0;
    printf(
        "\nleft out: %lld image%s of %d data class%s the model does not have:", (long long)left_out,
        left_out == 1 ? "" : "s", left_classes, left_classes == 1 ? "" : "es");
    for (int d = 0, k = 0; d < ds->class_count; d++) {
      if (match->to_model[d] >= 0 || match->images[d] == 0) continue;
      printf("%s %s %lld", k++ ? ";" : "", ds->class_names[d], (long long)match->images[d]);
      print_left_out_answers(stdout, match, meta, d);
    }
    printf(
        "\naccuracy %.4f on the %lld images of the matched classes; %.4f on all %lld images, "
        "counting the left-out "
        "ones as errors\n",
        mt.accuracy, (long long)evaluated,
        mt.accuracy * (double)evaluated / (double)(evaluated + left_out),
        (long long)(evaluated + left_out));
    printf(
        "(a left-out class that is one of the model's under another name: --class-map "
        "DATA=MODEL)\n");
  }
  fc_metrics_free(&mt);
  return FC_OK;
}

/* The metrics object, plus how the data's classes were matched and what was left out. */
static fc_status print_json(const fc_dataset *ds, const fc_model_meta *meta,
                            const class_match *match, const fc_confusion *cm,
                            const char *const *names, int64_t evaluated, int64_t left_out) {
  char *buf = NULL;
  size_t size = 0;
  FILE *mem = open_memstream(&buf, &size);
  if (!mem) return fc_errorf(FC_ERR_NOMEM, "out of memory");
  fc_status st = fc_metrics_write_json(mem, cm, names);
  fclose(mem);
  fc_metrics mt;
  if (st == FC_OK) st = fc_metrics_compute(cm, &mt);
  if (st != FC_OK || size < 2 || buf[size - 1] != '}') {
    free(buf);
    return st != FC_OK ? st : fc_errorf(FC_ERR_INTERNAL, "metrics JSON is not an object");
  }
  const int M = meta->config.num_classes;
  fwrite(buf, 1, size - 1, stdout);
  printf(",\"left_out_images\":%lld,\"accuracy_with_left_out_as_errors\":", (long long)left_out);
  fc_json_write_number(stdout, mt.accuracy * (double)evaluated / (double)(evaluated + left_out));
  printf(",\"data_classes\":[");
  for (int d = 0; d < ds->class_count; d++) {
    printf("%s{\"name\":", d ? "," : "");
    fc_json_write_string(stdout, ds->class_names[d]);
    printf(",\"model_class\":");
    if (match->to_model[d] >= 0)
      fc_json_write_string(stdout, meta->class_names[match->to_model[d]]);
    else
      printf("null");
    printf(",\"images\":%lld", (long long)match->images[d]);
    if (match->to_model[d] < 0) {
      printf(",\"predicted\":{");
      for (int c = 0, k = 0; c < M; c++) {
        int64_t n = match->predicted[(size_t)d * (size_t)M + (size_t)c];
        if (!n) continue;
        printf("%s", k++ ? "," : "");
        fc_json_write_string(stdout, meta->class_names[c]);
        printf(":%lld", (long long)n);
      }
      printf("}");
    }
    printf("}");
  }
  printf("]}\n");
  fc_metrics_free(&mt);
  free(buf);
  return FC_OK;
}

/* The folder a file will be written to exists and may be written. */
static fc_status check_writable_folder(const char *file) {
  const char *slash = strrchr(file, '/');
  char dir[1024];
  snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - file) + (slash == file) : 1,
           slash ? file : ".");
  if (access(dir, W_OK) != 0)
    return fc_errorf(FC_ERR_IO, "cannot write %s: the folder %s %s", file, dir,
                     access(dir, F_OK) != 0 ? "does not exist" : "is not writable");
  return FC_OK;
}

int fc_cmd_eval(int argc, char **argv) {
  int rc = fc_cli_parse_no_args(&eval_spec, argc, argv, NULL);
  if (rc >= 0) return rc;
  if (!eval_model || !eval_data) {
    fprintf(stderr,
            "fer-cl: error: fer-cl eval needs --model FILE and --data PATH (see 'fer-cl eval "
            "--help')\n");
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
  class_match match = {0};
  fc_index_list left = {0};
  int32_t *left_labels = NULL;
  int same = 0;
  if (st == FC_OK) st = match_classes(ds, &m.meta, &match);
  if (st == FC_OK) {
    same = identical_classes(ds, &m.meta, &match);
    st = pick_list(ds, &list);
  }
  if (st == FC_OK) st = split_by_match(ds, &match, &list, &left, &left_labels);
  if (st == FC_OK && list.count == 0)
    st = fc_errorf(FC_ERR_NOT_FOUND, "%s has no labelled images of the model's classes to evaluate",
                   eval_data);
  if (st == FC_OK) st = fc_confusion_create(m.meta.config.num_classes, &cm);
  if (st == FC_OK) st = fc_evaluate_list(&m.ev, ds, &list, &m.meta.norm, cm);
  if (st == FC_OK && left.count > 0) {
    int32_t *pred = malloc((size_t)left.count * sizeof(int32_t));
    st = pred ? fc_evaluate_predict(&m.ev, ds, &left, &m.meta.norm, pred)
              : fc_errorf(FC_ERR_NOMEM, "out of memory");
    for (int64_t i = 0; st == FC_OK && i < left.count; i++)
      match.predicted[(size_t)left_labels[i] * (size_t)m.meta.config.num_classes +
                      (size_t)pred[i]]++;
    free(pred);
  }
  const char *names[FC_NET_MAX_CLASSES];
  for (int c = 0; c < m.meta.config.num_classes; c++) names[c] = m.meta.class_names[c];
  if (st == FC_OK)
    st = eval_json ? print_json(ds, &m.meta, &match, cm, names, list.count, left.count)
                   : print_text(ds, &m.meta, &match, cm, names, list.count, left.count, same);
  if (st == FC_OK && eval_png) {
    char title[512];
    snprintf(title, sizeof title, "%s on %s", eval_model, eval_data);
    st = fc_plot_confusion_png(eval_png, fc_confusion_counts(cm), m.meta.config.num_classes, names,
                               title);
  }
  fc_confusion_free(cm);
  fc_index_list_free(&list);
  fc_index_list_free(&left);
  free(left_labels);
  class_match_free(&match);
  fc_dataset_free(ds);
  unload(&m);
  return st == FC_OK ? 0 : fc_cli_fail(st);
}

/* ---- predict ---- */

static const char *predict_model;
static int predict_json, predict_top = 3, predict_logits;
static fc_predict_faces predict_faces = {.mode = FC_FACES_AUTO, .margin = 0.0};

// clang-format off
static const fc_option predict_options[] = {
    FC_OPTION_STRING("model", &predict_model, "FILE", "checkpoint written by fer-cl train"),
    FC_OPTION_INT("top", &predict_top, "K", "classes to show per image", 1, FC_NET_MAX_CLASSES),
    FC_OPTION_FLAG("json", &predict_json, "print JSON"),
    FC_OPTION_FLAG("logits", &predict_logits, "with --json: also every class's raw logit"),
    FC_OPTION_CHOICE("faces", &predict_faces.mode, fc_faces_mode_names,
                     "find faces first: auto (pictures larger than twice the model's input), always, never"),
    FC_OPTION_STRING("detector", &predict_faces.detector, "FILE",
                     "MTCNN weights (default: $FERCL_DETECTOR, else ~/.local/share/fer-cl/mtcnn.safetensors)"),
    FC_OPTION_STRING("annotate", &predict_faces.annotate, "DIR", "write each picture with boxes and labels drawn"),
    FC_OPTION_STRING("crops", &predict_faces.crops, "DIR", "write each face as the model sees it (aligned, resized)"),
    FC_OPTION_FLAG("csv", &predict_faces.csv, "one CSV row per picture and face (folders of video frames)"),
    FC_OPTION_DOUBLE("face-margin", &predict_faces.margin, "M",
                     "alignment: the face template shrunk by 1 + 2M (0: FER2013's own framing)", -0.3, 1.0),
    {0}};

static const fc_args_spec predict_spec = {
    .command = "predict",
    .usage = "--model FILE IMAGE|FOLDER...",
    .summary = "The most likely expressions of each image (PNG or JPEG), with probabilities. Images are\n"
               "converted and resized as the checkpoint's metadata says.",
    .details = "Faces: with --faces auto (the default) a picture whose longer side is more than twice the\n"
               "model's input side goes through the face detector (MTCNN, tools/get-face-detector); each face\n"
               "is aligned by its 5 landmarks to the model's input and classified. Smaller pictures are taken\n"
               "as face crops and resized whole, as with --faces never. A folder stands for its images, sorted.",
    .options = predict_options,
    .global_options = fc_cli_global_options};
// clang-format on

int fc_cmd_predict(int argc, char **argv) {
  char *positional[argc > 0 ? argc : 1];
  int npos = 0;
  int rc = fc_cli_parse(&predict_spec, argc, argv, positional, &npos);
  if (rc >= 0) return rc;
  if (!predict_model || npos == 0) {
    fprintf(stderr,
            "fer-cl: error: fer-cl predict needs --model FILE and at least one IMAGE (see 'fer-cl "
            "predict --help')\n");
    return 2;
  }
  loaded_model m;
  fc_status st = load_model(predict_model, 1, &m);
  if (st != FC_OK) return fc_cli_fail(st);
  int C = m.meta.config.num_classes, failures = 0;
  if (predict_top > C) predict_top = C;
  if (predict_faces.mode != FC_FACES_NEVER || predict_faces.csv || predict_faces.annotate ||
      predict_faces.crops) {
    predict_faces.json = predict_json, predict_faces.top = predict_top,
    predict_faces.logits = predict_logits;
    rc = fc_cli_predict_faces(m.dev, &m.ev, &m.meta, &predict_faces, positional, npos);
    unload(&m);
    return rc;
  }
  float probs[FC_NET_MAX_CLASSES];
  fc_decode_request req = {.channels = m.meta.config.in_channels,
                           .height = m.meta.config.input_size,
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
