/* fer-cl faces (detection only) and predict's face path: find faces with
 * MTCNN on the device, align each to the checkpoint's input with a similarity
 * transform of its 5 landmarks, classify, print / JSON / CSV, draw. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/faces.h"
#include "fercl/face.h"
#include "fercl/fileio.h"
#include "fercl/json.h"

const char *const fc_faces_mode_names[] = {"auto", "always", "never", NULL};

/* ---- inputs: files, and folders of frames ---- */

/* DIR/<file name of path><suffix>; malloc'd, NULL when out of memory. */
static char *output_path(const char *dir, const char *path, const char *suffix) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  size_t len = strlen(dir);
  const char *sep = len && dir[len - 1] != '/' ? "/" : "";
  int n = snprintf(NULL, 0, "%s%s%s%s", dir, sep, base, suffix);
  char *out = n >= 0 ? malloc((size_t)n + 1) : NULL;
  if (out) snprintf(out, (size_t)n + 1, "%s%s%s%s", dir, sep, base, suffix);
  return out;
}

static fc_status open_detector(fc_device *dev, const char *explicit_path, fc_face_detector **out) {
  char path[4096];
  FC_TRY(fc_face_detector_path(explicit_path, path, sizeof path));
  return fc_face_detector_create(dev, path, out);
}

/* ---- output ---- */

/* A CSV field: quoted (RFC 4180) when it holds a comma, quote or line break. */
static void csv_field(const char *text) {
  if (!strpbrk(text, ",\"\r\n")) {
    fputs(text, stdout);
    return;
  }
  putchar('"');
  for (const char *p = text; *p; p++) {
    if (*p == '"') putchar('"');
    putchar(*p);
  }
  putchar('"');
}

static void top_order(const float *probs, int classes, int *order) {
  for (int c = 0; c < classes; c++) order[c] = c;
  for (int a = 0; a < classes; a++)
    for (int b = a + 1; b < classes; b++)
      if (probs[order[b]] > probs[order[a]]) {
        int t = order[a];
        order[a] = order[b];
        order[b] = t;
      }
}

static void json_face(const fc_face *f) {
  printf("{\"box\": [%.2f, %.2f, %.2f, %.2f], ", (double)f->box[0], (double)f->box[1],
         (double)f->box[2], (double)f->box[3]);
  printf("\"score\": %.6f, \"landmarks\": [", (double)f->score);
  for (int k = 0; k < 5; k++)
    printf("%s[%.2f, %.2f]", k ? ", " : "", (double)f->landmarks[2 * k],
           (double)f->landmarks[2 * k + 1]);
  printf("]");
}

/* Boxes (and labels when given) drawn on the picture, written as DIR/<name>.png. */
static fc_status annotate(const char *dir, const char *path, const fc_image *img,
                          const fc_face *faces, int n, const char *const *labels) {
  FC_TRY(fc_mkdir_p(dir));
  char *out = output_path(dir, path, ".png");
  fc_status st = out ? fc_face_annotate_png(out, img, faces, n, labels)
                     : fc_errorf(FC_ERR_NOMEM, "out of memory");
  free(out);
  return st;
}

/* ---- fer-cl faces ---- */

static const char *faces_detector, *faces_annotate;
static int faces_json, faces_min = 20;

/* Option tables and command specs keep one entry a line. */
// clang-format off
static const fc_option faces_options[] = {
    FC_OPTION_STRING("detector", &faces_detector, "FILE",
                     "MTCNN weights (default: $FERCL_DETECTOR, else ~/.local/share/fer-cl/mtcnn.safetensors)"),
    FC_OPTION_FLAG("json", &faces_json, "print JSON"),
    FC_OPTION_INT("min-face", &faces_min, "PX", "smallest face side searched for", 12, 4096),
    FC_OPTION_STRING("annotate", &faces_annotate, "DIR", "also write each picture with its boxes drawn"),
    {0}};

static const fc_args_spec faces_spec = {
    .command = "faces",
    .usage = "IMAGE|FOLDER...",
    .summary = "Finds faces (MTCNN on the device): box, probability and 5 landmarks per face.\n"
               "Get the detector once with tools/get-face-detector.",
    .options = faces_options,
    .global_options = fc_cli_global_options};
// clang-format on

int fc_cmd_faces(int argc, char **argv) {
  char *positional[argc > 0 ? argc : 1];
  int npos = 0;
  int rc = fc_cli_parse(&faces_spec, argc, argv, positional, &npos);
  if (rc >= 0) return rc;
  if (npos == 0) {
    fprintf(stderr,
            "fer-cl: error: fer-cl faces needs at least one IMAGE (see 'fer-cl faces --help')\n");
    return 2;
  }
  fc_device *dev = NULL;
  fc_face_detector *det = NULL;
  fc_name_list paths = {0};
  fc_status st = fc_image_paths(positional, npos, &paths);
  if (st == FC_OK) st = fc_device_open_selected(fc_cli.device, 0, &dev);
  if (st == FC_OK) st = open_detector(dev, faces_detector, &det);
  if (st != FC_OK) {
    fc_face_detector_free(det);
    fc_device_close(dev);
    fc_name_list_free(&paths);
    return fc_cli_fail(st);
  }
  fc_face_options opt;
  fc_face_options_default(&opt);
  opt.min_face = faces_min;
  int failures = 0, printed = 0;
  if (faces_json) printf("[");
  for (size_t i = 0; i < paths.count; i++) {
    const char *path = paths.names[i];
    fc_image img = {0};
    fc_face *faces = NULL;
    int n = 0;
    st = fc_image_load(path, &(fc_decode_request){.channels = 3}, &img, NULL);
    if (st == FC_OK) st = fc_face_detect(det, &img, &opt, &faces, &n);
    if (st == FC_OK && faces_annotate) st = annotate(faces_annotate, path, &img, faces, n, NULL);
    if (st != FC_OK) {
      fprintf(stderr, "fer-cl: error: %s: %s\n", path, fc_last_error());
      failures++;
    } else if (faces_json) {
      printf("%s\n  {\"image\": ", printed++ ? "," : "");
      fc_json_write_string(stdout, path);
      printf(", \"width\": %d, \"height\": %d, \"faces\": [", img.width, img.height);
      for (int k = 0; k < n; k++) {
        printf("%s\n    ", k ? "," : "");
        json_face(&faces[k]);
        printf("}");
      }
      printf("]}");
    } else if (n == 0) {
      printf("%s: no face found\n", path);
    } else {
      printf("%s: %d face%s\n", path, n, n == 1 ? "" : "s");
      for (int k = 0; k < n; k++) {
        const fc_face *f = &faces[k];
        printf(
            "  box %.1f %.1f %.1f %.1f  p %.4f  eyes (%.1f,%.1f) (%.1f,%.1f) nose (%.1f,%.1f) "
            "mouth (%.1f,%.1f) (%.1f,%.1f)\n",
            (double)f->box[0], (double)f->box[1], (double)f->box[2], (double)f->box[3],
            (double)f->score, (double)f->landmarks[0], (double)f->landmarks[1],
            (double)f->landmarks[2], (double)f->landmarks[3], (double)f->landmarks[4],
            (double)f->landmarks[5], (double)f->landmarks[6], (double)f->landmarks[7],
            (double)f->landmarks[8], (double)f->landmarks[9]);
      }
    }
    free(faces);
    fc_image_free(&img);
  }
  if (faces_json) printf("\n]\n");
  fc_face_detector_free(det);
  fc_device_close(dev);
  fc_name_list_free(&paths);
  return failures ? 1 : 0;
}

/* ---- predict with faces ---- */

/* auto: a picture no larger than twice the checkpoint's input on its longer side is taken
 * as a face crop already (FER2013's 48×48, RAF-DB's 100×100 aligned faces); larger ones
 * go through the detector. */
static int is_face_crop(const fc_predict_faces *opt, const fc_model_meta *meta,
                        const fc_image *img) {
  if (opt->mode == FC_FACES_ALWAYS) return 0;
  if (opt->mode == FC_FACES_NEVER) return 1;
  int side = img->width > img->height ? img->width : img->height;
  return side <= 2 * meta->config.input_size;
}

int fc_cli_predict_faces(fc_device *dev, fc_evaluator *ev, const fc_model_meta *meta,
                         const fc_predict_faces *opt, char **argpaths, int npaths) {
  int C = meta->config.num_classes, S = meta->config.input_size, ch = meta->config.in_channels;
  int top = opt->top < C ? opt->top : C;
  fc_name_list paths = {0};
  fc_face_detector *det = NULL;
  fc_face_aligner *aligner = NULL;
  fc_status st = fc_image_paths(argpaths, npaths, &paths);
  if (st != FC_OK) {
    fc_name_list_free(&paths);
    return fc_cli_fail(st);
  }
  fc_face_options fopt;
  fc_face_options_default(&fopt);
  int failures = 0, printed = 0;
  fc_status detector_failed = FC_OK;
  if (opt->json) printf("[");
  if (opt->csv) {
    printf("image,face,x1,y1,x2,y2,detector_score,predicted");
    for (int c = 0; c < C; c++) {
      char head[96];
      snprintf(head, sizeof head, "p_%s", meta->class_names[c]);
      putchar(',');
      csv_field(head);
    }
    printf("\n");
  }
  float probs[FC_NET_MAX_CLASSES];
  for (size_t i = 0; i < paths.count; i++) {
    const char *path = paths.names[i];
    fc_image img = {0};
    fc_face *faces = NULL, whole;
    int n = 0, crop_given = 0;
    uint8_t *crops = NULL;
    char(*labels)[96] = NULL;
    const char **label_of = NULL; /* labels as fc_face_annotate_png takes them */
    st = fc_image_load(path, &(fc_decode_request){.channels = 3}, &img, NULL);
    if (st == FC_OK && (crop_given = is_face_crop(opt, meta, &img))) {
      memset(&whole, 0, sizeof whole);
      whole.box[2] = (float)img.width, whole.box[3] = (float)img.height;
      faces = &whole, n = 1;
    } else if (st == FC_OK) {
      if (!det) st = open_detector(dev, opt->detector, &det); /* only when a picture needs it */
      if (st != FC_OK) { /* no detector: every later picture would fail the same way */
        detector_failed = st;
        fc_image_free(&img);
        break;
      }
      st = fc_face_detect(det, &img, &fopt, &faces, &n);
    }
    if (st == FC_OK && n > 0) {
      crops = malloc((size_t)n * ch * S * S);
      labels = calloc((size_t)n, sizeof *labels);
      label_of = calloc((size_t)n, sizeof *label_of);
      if (!crops || !labels || !label_of) st = fc_errorf(FC_ERR_NOMEM, "out of memory");
    }
    if (st == FC_OK && n > 0) {
      if (crop_given) { /* today's predict: the whole picture resized */
        fc_image small = {0};
        st = fc_image_load(path, &(fc_decode_request){.channels = ch, .height = S, .width = S},
                           &small, NULL);
        if (st == FC_OK) memcpy(crops, small.data, (size_t)ch * S * S);
        fc_image_free(&small);
      } else {
        if (!aligner) st = fc_face_aligner_create(dev, &aligner);
        if (st == FC_OK) st = fc_face_align(aligner, &img, faces, n, ch, S, opt->margin, crops);
      }
    }
    /* A picture taken as a face crop prints as predict always did (one entry, no "faces"). */
    if (opt->json && st == FC_OK) {
      printf("%s\n  {\"image\": ", printed++ ? "," : "");
      fc_json_write_string(stdout, path);
      if (!crop_given) printf(", \"faces\": [");
    } else if (!opt->json && !opt->csv && st == FC_OK) {
      if (n == 0)
        printf("%s: no face found\n", path);
      else if (crop_given)
        printf("%s:", path);
      else
        printf("%s: %d face%s\n", path, n, n == 1 ? "" : "s");
    } else if (opt->csv && st == FC_OK && n == 0) {
      csv_field(path);
      printf(",,,,,,,");
      for (int c = 0; c < C; c++) printf(",");
      printf("\n");
    }
    for (int k = 0; k < n && st == FC_OK; k++) {
      st = fc_evaluator_run(ev, crops + (size_t)k * ch * S * S, 1, &meta->norm, probs);
      if (st != FC_OK) break;
      int order[FC_NET_MAX_CLASSES];
      top_order(probs, C, order);
      const fc_face *f = &faces[k];
      snprintf(labels[k], sizeof labels[k], "%s %.2f", meta->class_names[order[0]],
               (double)probs[order[0]]);
      label_of[k] = labels[k];
      if (opt->json) {
        if (crop_given && opt->logits) {
          printf(", \"logits\": [");
          for (int c = 0; c < C; c++) printf("%s%.9g", c ? ", " : "", ev->logits[c]);
          printf("]");
        } else if (!crop_given) {
          printf("%s\n    ", k ? "," : "");
          json_face(f);
        }
        printf(", \"top\": [");
        for (int t = 0; t < top; t++) {
          printf("%s{\"class\": ", t ? ", " : "");
          fc_json_write_string(stdout, meta->class_names[order[t]]);
          printf(", \"probability\": %.6f}", (double)probs[order[t]]);
        }
        printf("]}");
      } else if (opt->csv) {
        csv_field(path);
        printf(",%d,%.2f,%.2f,%.2f,%.2f,%.6f,", k + 1, (double)f->box[0], (double)f->box[1],
               (double)f->box[2], (double)f->box[3], crop_given ? 1.0 : (double)f->score);
        csv_field(meta->class_names[order[0]]);
        for (int c = 0; c < C; c++) printf(",%.6f", (double)probs[c]);
        printf("\n");
      } else if (crop_given) {
        for (int t = 0; t < top; t++)
          printf("%s %s %.3f", t ? "," : "", meta->class_names[order[t]], (double)probs[order[t]]);
        printf("\n");
      } else {
        printf("  face %d box %.0f %.0f %.0f %.0f:", k + 1, (double)f->box[0], (double)f->box[1],
               (double)f->box[2], (double)f->box[3]);
        for (int t = 0; t < top; t++)
          printf("%s %s %.3f", t ? "," : "", meta->class_names[order[t]], (double)probs[order[t]]);
        printf("\n");
      }
    }
    if (opt->json && st == FC_OK && !crop_given) printf("]}");
    if (st == FC_OK && opt->annotate) st = annotate(opt->annotate, path, &img, faces, n, label_of);
    if (st == FC_OK && opt->crops && n > 0) st = fc_mkdir_p(opt->crops);
    for (int k = 0; k < n && st == FC_OK && opt->crops; k++) {
      char suffix[32];
      snprintf(suffix, sizeof suffix, ".face%d.png", k + 1);
      char *out = output_path(opt->crops, path, suffix);
      fc_image crop = {crops + (size_t)k * ch * S * S, ch, S, S};
      st = out ? fc_image_write_png(out, &crop) : fc_errorf(FC_ERR_NOMEM, "out of memory");
      free(out);
    }
    if (st != FC_OK) {
      fprintf(stderr, "fer-cl: error: %s: %s\n", path, fc_last_error());
      failures++;
    }
    if (faces != &whole) free(faces);
    free(crops);
    free(labels);
    free(label_of);
    fc_image_free(&img);
  }
  if (opt->json) printf("\n]\n");
  if (detector_failed) failures = -fc_cli_fail(detector_failed);
  fc_face_aligner_free(aligner);
  fc_face_detector_free(det);
  fc_name_list_free(&paths);
  return failures < 0 ? -failures : failures ? 1 : 0;
}
