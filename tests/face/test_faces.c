/* Face detection (MTCNN on the device).
 *
 * detector_file: a missing, truncated or foreign detector file is refused with
 * one message naming tools/get-face-detector, by the library and by the CLI
 * (non-zero exit). Needs no weights.
 *
 * photos: on the 9 annotated photos of ../shared/data/photos (dlib's
 * training.xml + testing.xml, 43 faces), recall at IoU ≥ 0.5 must be at least
 * 42/43 with no detection that matches no face (facenet-pytorch 2.6.0's MTCNN:
 * 42 found, none unmatched); dogs.jpg has no face, the Tom Cruise portrait one.
 * Needs the weights (tools/get-face-detector; $FERCL_DETECTOR or the default
 * path): without them this part is skipped with a message, unless
 * FERCL_REQUIRE_DETECTOR=1 (CI) makes that a failure. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../cli/clirun.h"
#include "fercl/face.h"
#include "fercl/safetensors.h"
#include "testutil.h"

static char photos[4096], detector[4096];

typedef struct gt_image {
  char file[128];
  float boxes[16][4];
  int n;
} gt_image;

/* dlib imglab XML: <image file='...'> then <box top='' left='' width='' height=''/> lines. */
static int read_boxes(const char *xml, gt_image *out, int max) {
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", photos, xml);
  FILE *f = fopen(path, "r");
  ck_assert_msg(f != NULL, "cannot open %s", path);
  char line[512];
  int n = -1;
  while (fgets(line, sizeof line, f)) {
    const char *p;
    if ((p = strstr(line, "<image file='"))) {
      ck_assert_int_lt(n + 1, max);
      n++;
      memset(&out[n], 0, sizeof out[n]);
      sscanf(p + 13, "%127[^']", out[n].file);
    } else if ((p = strstr(line, "<box ")) && n >= 0) {
      int top, left, w, h;
      ck_assert_msg(
          sscanf(p, "<box top='%d' left='%d' width='%d' height='%d'", &top, &left, &w, &h) == 4,
          "%s: cannot read %s", xml, line);
      gt_image *g = &out[n];
      ck_assert_int_lt(g->n, 16);
      g->boxes[g->n][0] = (float)left, g->boxes[g->n][1] = (float)top;
      g->boxes[g->n][2] = (float)(left + w), g->boxes[g->n][3] = (float)(top + h);
      g->n++;
    }
  }
  fclose(f);
  return n + 1;
}

static double iou(const float *a, const float *b) {
  double w = (a[2] < b[2] ? a[2] : b[2]) - (a[0] > b[0] ? a[0] : b[0]);
  double h = (a[3] < b[3] ? a[3] : b[3]) - (a[1] > b[1] ? a[1] : b[1]);
  if (w <= 0 || h <= 0) return 0;
  double inter = w * h;
  return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter);
}

static int detect_file(fc_face_detector *det, const char *name, fc_face **faces) {
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", photos, name);
  fc_image img = {0};
  FC_CHECK_OK(fc_image_load(path, &(fc_decode_request){.channels = 3}, &img, NULL));
  int n = 0;
  FC_CHECK_OK(fc_face_detect(det, &img, NULL, faces, &n));
  fc_image_free(&img);
  return n;
}

START_TEST(annotated_photos) {
  fc_device *dev = fc_test_device();
  fc_face_detector *det = NULL;
  FC_CHECK_OK(fc_face_detector_create(dev, detector, &det));
  gt_image gt[16];
  int images = read_boxes("training.xml", gt, 16);
  images += read_boxes("testing.xml", gt + images, 16 - images);
  int faces_total = 0, found = 0, unmatched = 0;
  for (int i = 0; i < images; i++) {
    fc_face *faces = NULL;
    int n = detect_file(det, gt[i].file, &faces);
    char used[64] = {0};
    ck_assert_int_le(n, 64);
    int found_here = 0;
    for (int g = 0; g < gt[i].n; g++) {
      int best = -1;
      double best_iou = 0.5;
      for (int k = 0; k < n; k++) {
        double v = iou(gt[i].boxes[g], faces[k].box);
        if (!used[k] && v >= best_iou) best = k, best_iou = v;
      }
      if (best >= 0) used[best] = 1, found_here++;
    }
    int extra = 0;
    for (int k = 0; k < n; k++) extra += !used[k];
    printf("%s: %d of %d faces found, %d other detections\n", gt[i].file, found_here, gt[i].n,
           extra);
    faces_total += gt[i].n, found += found_here, unmatched += extra;
    free(faces);
  }
  printf(
      "annotated photos: %d images, %d of %d faces found at IoU >= 0.5, %d unmatched detections\n",
      images, found, faces_total, unmatched);
  ck_assert_int_eq(images, 9);
  ck_assert_int_eq(faces_total, 43);
  ck_assert_msg(found >= 42, "recall %d/43, need at least 42", found);
  ck_assert_msg(unmatched == 0, "%d detections match no annotated face (facenet-pytorch: 0)",
                unmatched);

  fc_face *faces = NULL;
  int n = detect_file(det, "dogs.jpg", &faces);
  free(faces);
  ck_assert_msg(n == 0, "dogs.jpg: %d faces found, expected none", n);
  n = detect_file(det, "Tom_Cruise_avp_2014_4.jpg", &faces);
  ck_assert_msg(n == 1, "Tom_Cruise_avp_2014_4.jpg: %d faces found, expected 1", n);
  ck_assert(faces[0].score > 0.9f);
  /* Landmarks inside the box, eyes above the mouth. */
  for (int k = 0; k < 5; k++) {
    ck_assert(faces[0].landmarks[2 * k] > faces[0].box[0] &&
              faces[0].landmarks[2 * k] < faces[0].box[2]);
    ck_assert(faces[0].landmarks[2 * k + 1] > faces[0].box[1] &&
              faces[0].landmarks[2 * k + 1] < faces[0].box[3]);
  }
  ck_assert(faces[0].landmarks[1] < faces[0].landmarks[7] &&
            faces[0].landmarks[3] < faces[0].landmarks[9]);
  free(faces);
  fc_face_detector_free(det);
}
END_TEST

static int count_of(const char *text, const char *needle) {
  int n = 0;
  for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle)) n++;
  return n;
}

/* predict on photos with a tiny synthetic-data model: faces found, JSON, CSV over a folder,
 * the drawn picture, and --faces never as before. */
START_TEST(predict_faces_cli) {
  char dir[] = "/tmp/fercl-predict-faces-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  char run[256], model[300], frames[256], annotated[256], group[4200], dogs[4200], link1[300],
      link2[300];
  snprintf(run, sizeof run, "%s/run", dir);
  snprintf(model, sizeof model, "%s/best.safetensors", run);
  const char *train[] = {"train", "--width", "0.125", "--synth-train", "70", "--synth-val",
                         "14",    "--batch", "8",     "--mu",          "1",  "--threads",
                         "1",     "--steps", "2",     "--out",         run,  NULL};
  fc_cli_result r = fc_cli_run(train, NULL);
  ck_assert_msg(r.exit_code == 0, "tiny training run: %s", r.err);
  fc_cli_result_free(&r);
  snprintf(group, sizeof group, "%s/2008_002506.jpg", photos);
  snprintf(dogs, sizeof dogs, "%s/dogs.jpg", photos);

  r = fc_cli_run((const char *[]){"predict", "--model", model, "--json", group, dogs, NULL}, NULL);
  ck_assert_msg(r.exit_code == 0, "predict --json: %s", r.err);
  ck_assert_msg(count_of(r.out, "\"box\"") == 3 && count_of(r.out, "\"landmarks\"") == 3 &&
                    count_of(r.out, "\"top\"") == 3 && strstr(r.out, "\"faces\": []"),
                "predict --json: expected 3 faces and an empty list for dogs.jpg:\n%s", r.out);
  fc_cli_result_free(&r);

  r = fc_cli_run((const char *[]){"predict", "--model", model, dogs, NULL}, NULL);
  ck_assert_msg(r.exit_code == 0 && strstr(r.out, "dogs.jpg: no face found"), "dogs.jpg: %s%s",
                r.out, r.err);
  fc_cli_result_free(&r);

  /* A folder of frames: one CSV row per frame and face, a frame without a face included. */
  snprintf(frames, sizeof frames, "%s/frames", dir);
  snprintf(annotated, sizeof annotated, "%s/annotated", dir);
  ck_assert_int_eq(mkdir(frames, 0700), 0);
  ck_assert_int_eq(mkdir(annotated, 0700), 0);
  snprintf(link1, sizeof link1, "%s/frame1.jpg", frames);
  snprintf(link2, sizeof link2, "%s/frame2.jpg", frames);
  ck_assert_int_eq(symlink(group, link1), 0);
  ck_assert_int_eq(symlink(dogs, link2), 0);
  r = fc_cli_run(
      (const char *[]){"predict", "--model", model, "--csv", "--annotate", annotated, frames, NULL},
      NULL);
  ck_assert_msg(r.exit_code == 0, "predict --csv: %s", r.err);
  ck_assert_msg(count_of(r.out, "\n") == 5 &&
                    !strncmp(r.out, "image,face,x1,y1,x2,y2,detector_score,predicted,p_", 50) &&
                    count_of(r.out, "frame1.jpg,") == 3 && count_of(r.out, "frame2.jpg,,") == 1,
                "predict --csv: header, 3 face rows and an empty row expected:\n%s", r.out);
  fc_cli_result_free(&r);
  char png[400];
  snprintf(png, sizeof png, "%s/frame1.jpg.png", annotated);
  fc_image drawn = {0};
  FC_CHECK_OK(fc_image_load(png, NULL, &drawn, NULL));
  ck_assert(drawn.width == 500 && drawn.height == 375 && drawn.channels == 3);
  fc_image_free(&drawn);

  /* --faces auto on a picture no larger than twice the model's input: a face crop, printed
   * exactly as predict always did (no "faces" key). */
  char small[4200];
  snprintf(small, sizeof small, "%s/tests/face/one_pixel.png", getenv("FERCL_SOURCE_ROOT"));
  r = fc_cli_run((const char *[]){"predict", "--model", model, "--json", "--logits", small, NULL},
                 NULL);
  ck_assert_msg(r.exit_code == 0 && !strstr(r.out, "\"faces\"") && strstr(r.out, "\"logits\": [") &&
                    strstr(r.out, "\"top\": ["),
                "a face crop under --faces auto: %s%s", r.out, r.err);
  fc_cli_result_free(&r);

  /* --faces never: today's whole-picture predict. */
  r = fc_cli_run((const char *[]){"predict", "--model", model, "--faces", "never", group, NULL},
                 NULL);
  ck_assert_msg(r.exit_code == 0 && !strstr(r.out, "face") && strstr(r.out, "2008_002506.jpg:"),
                "--faces never: %s", r.out);
  fc_cli_result_free(&r);
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  ck_assert_int_eq(system(cmd), 0);
}
END_TEST

static void expect_refused(fc_device *dev, const char *path, const char *what) {
  fc_face_detector *det = NULL;
  fc_status st = fc_face_detector_create(dev, path, &det);
  ck_assert_msg(st != FC_OK && det == NULL, "%s: accepted", what);
  const char *msg = fc_last_error();
  ck_assert_msg(strstr(msg, "tools/get-face-detector") && strstr(msg, path),
                "%s: the message should name the file and tools/get-face-detector: %s", what, msg);
  /* The CLI: one message, non-zero exit. */
  const char *args[] = {"faces", "--detector", path, "--device", "0", NULL, NULL};
  char img[4200];
  snprintf(img, sizeof img, "%s/tests/face/one_pixel.png", getenv("FERCL_SOURCE_ROOT"));
  args[5] = img;
  fc_cli_result r = fc_cli_run(args, NULL);
  ck_assert_msg(r.exit_code != 0 && r.exit_code != -1, "%s: fer-cl faces exit %d", what,
                r.exit_code);
  ck_assert_msg(strstr(r.err, "tools/get-face-detector") != NULL, "%s: fer-cl faces said: %s", what,
                r.err);
  fc_cli_result_free(&r);
}

START_TEST(detector_file) {
  fc_device *dev = fc_test_device();
  char dir[] = "/tmp/fercl-faces-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  char missing[256], foreign[256], truncated[256];
  snprintf(missing, sizeof missing, "%s/absent.safetensors", dir);
  expect_refused(dev, missing, "a missing file");

  /* A valid safetensors file that is no detector: the tensors of a different net. */
  snprintf(foreign, sizeof foreign, "%s/foreign.safetensors", dir);
  float w[4 * 3 * 3 * 3] = {0};
  fc_st_tensor t = {
      .name = "pnet.conv1.weight", .dtype = FC_ST_F32, .ndim = 4, .shape = {4, 3, 3, 3}, .data = w};
  const char *keys[] = {"format"}, *values[] = {"fer-cl mtcnn 1"};
  FC_CHECK_OK(fc_safetensors_write(foreign, &t, 1, keys, values, 1));
  expect_refused(dev, foreign, "a file with other tensors");

  /* The same cut short. */
  snprintf(truncated, sizeof truncated, "%s/truncated.safetensors", dir);
  FILE *in = fopen(foreign, "rb"), *out = fopen(truncated, "wb");
  ck_assert(in && out);
  char buf[4096];
  size_t n = fread(buf, 1, sizeof buf, in);
  fwrite(buf, 1, n - 40, out);
  fclose(in), fclose(out);
  expect_refused(dev, truncated, "a truncated file");

  /* Not a safetensors file at all. */
  out = fopen(truncated, "wb");
  fputs("<html>404</html>", out);
  fclose(out);
  expect_refused(dev, truncated, "an HTML page");
  unlink(foreign), unlink(truncated), rmdir(dir);
}
END_TEST

int main(void) {
  const char *src = getenv("FERCL_SOURCE_ROOT");
  snprintf(photos, sizeof photos, "%s/../shared/data/photos", src ? src : ".");
  const char *env = getenv("FERCL_PHOTOS_DIR");
  if (env && *env) snprintf(photos, sizeof photos, "%s", env);
  fc_face_detector_path(NULL, detector, sizeof detector);
  int have_weights = access(detector, R_OK) == 0;
  char probe[4200];
  snprintf(probe, sizeof probe, "%s/training.xml", photos);
  int have_photos = access(probe, R_OK) == 0;
  const char *require = getenv("FERCL_REQUIRE_DETECTOR");
  Suite *s = suite_create("faces");
  TCase *tc = tcase_create("faces");
  tcase_set_timeout(tc, 900);
  tcase_add_test(tc, detector_file);
  if (have_weights && have_photos) {
    tcase_add_test(tc, annotated_photos);
    tcase_add_test(tc, predict_faces_cli);
  } else if (require && !strcmp(require, "1") && !have_weights) {
    printf(
        "FAIL: FERCL_REQUIRE_DETECTOR=1 but no detector weights at %s (run "
        "tools/get-face-detector)\n",
        detector);
    return 1;
  } else {
    printf("SKIP (detection on photos): %s\n",
           !have_weights
               ? "no detector weights; run tools/get-face-detector (or set FERCL_DETECTOR)"
               : "no annotated photos at ../shared/data/photos (set FERCL_PHOTOS_DIR)");
  }
  suite_add_tcase(s, tc);
  return fc_test_run_suite(s, 0);
}
