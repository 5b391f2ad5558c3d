/* Face alignment: the FER2013 landmark template and the similarity transform that takes it to a
 * detected face's 5 landmarks, sampled on the device (fc_affine_warp, cl/warp.cl). */
#include <stdlib.h>

#include "device/runtime.h"
#include "fercl/face.h"
#include "fercl/ops_vision.h"

/* Mean landmark positions of FER2013 faces in their 48×48 crops, as fractions of the side,
 * made left-right symmetric: measured by tools/face_alignment_study.py (this detector on
 * 188 FER2013 val faces pasted into canvases; README "Faces in photos"). */
static const double fer_template[10] = {0.3150, 0.3921, 0.6850, 0.3921, 0.5000,
                                        0.6017, 0.3501, 0.8094, 0.6499, 0.8094};

void fc_face_template(double margin, int side, float points[10]) {
  for (int k = 0; k < 10; k++)
    points[k] = (float)((0.5 + (fer_template[k] - 0.5) / (1.0 + 2.0 * margin)) * side - 0.5);
}

/* The similarity transform (least squares over the 5 points) taking template points to the
 * face's landmarks: output pixel → source point, as fc_affine_warp wants. */
static void similarity(const float *from, const float *to, float m[6]) {
  double fx = 0, fy = 0, tx = 0, ty = 0;
  for (int k = 0; k < 5; k++)
    fx += from[2 * k], fy += from[2 * k + 1], tx += to[2 * k], ty += to[2 * k + 1];
  fx /= 5, fy /= 5, tx /= 5, ty /= 5;
  double den = 0, a = 0, b = 0;
  for (int k = 0; k < 5; k++) {
    double px = from[2 * k] - fx, py = from[2 * k + 1] - fy, qx = to[2 * k] - tx,
           qy = to[2 * k + 1] - ty;
    den += px * px + py * py;
    a += px * qx + py * qy;
    b += px * qy - py * qx;
  }
  if (den <= 0) den = 1;
  a /= den, b /= den;
  m[0] = (float)a, m[1] = (float)-b, m[2] = (float)(tx - a * fx + b * fy);
  m[3] = (float)b, m[4] = (float)a, m[5] = (float)(ty - b * fx - a * fy);
}

enum { PICTURE, MATRICES, CROPS, BUFFERS };

struct fc_face_aligner {
  fc_device *dev;
  cl_mem mem[BUFFERS]; /* the picture, the alignment matrices, the crops */
  size_t bytes[BUFFERS];
};

fc_status fc_face_aligner_create(fc_device *dev, fc_face_aligner **out) {
  *out = NULL;
  if (!dev) return fc_errorf(FC_ERR_INVALID_ARG, "fc_face_aligner_create: no device");
  fc_face_aligner *a = calloc(1, sizeof *a);
  if (!a) return fc_errorf(FC_ERR_NOMEM, "out of memory");
  a->dev = dev;
  *out = a;
  return FC_OK;
}

void fc_face_aligner_free(fc_face_aligner *aligner) {
  if (!aligner) return;
  for (int i = 0; i < BUFFERS; i++) fc_buffer_release(&aligner->mem[i]);
  free(aligner);
}

/* Buffer i grows to the largest need seen, and is kept. */
static fc_status grow(fc_face_aligner *a, int i, size_t need, const char *what) {
  if (a->mem[i] && a->bytes[i] >= need) return FC_OK;
  fc_buffer_release(&a->mem[i]);
  a->bytes[i] = 0;
  FC_TRY(fc_buffer_alloc(a->dev, need, what, &a->mem[i]));
  a->bytes[i] = need;
  return FC_OK;
}

fc_status fc_face_align(fc_face_aligner *r, const fc_image *rgb, const fc_face *faces, int n,
                        int channels, int side, double margin, uint8_t *crops) {
  if (n <= 0) return FC_OK;
  if (rgb->channels != 3 || (channels != 1 && channels != 3) || side < 1)
    return fc_errorf(FC_ERR_INVALID_ARG,
                     "fc_face_align: needs an RGB picture and 1 or 3 output channels");
  size_t img_bytes = (size_t)3 * rgb->height * rgb->width, crop = (size_t)channels * side * side;
  size_t mat_bytes = (size_t)n * 6 * sizeof(float);
  FC_TRY(grow(r, PICTURE, img_bytes, "picture"));
  FC_TRY(grow(r, MATRICES, mat_bytes, "alignment matrices"));
  FC_TRY(grow(r, CROPS, (size_t)n * crop, "face crops"));
  float tmpl[10], *m = malloc((size_t)n * 6 * sizeof *m);
  if (!m) return fc_errorf(FC_ERR_NOMEM, "out of memory");
  fc_face_template(margin, side, tmpl);
  for (int i = 0; i < n; i++) similarity(tmpl, faces[i].landmarks, m + 6 * i);
  cl_mem src = r->mem[PICTURE], mats = r->mem[MATRICES], out = r->mem[CROPS];
  fc_status st = fc_buffer_write(r->dev, src, 0, img_bytes, rgb->data, 0);
  if (st == FC_OK) st = fc_buffer_write(r->dev, mats, 0, mat_bytes, m, 1);
  if (st == FC_OK)
    st = fc_affine_warp(r->dev, fc_view_of(src, 0), 3, rgb->height, rgb->width, fc_view_of(mats, 0),
                        n, channels, side, side, fc_view_of(out, 0));
  if (st == FC_OK) st = fc_buffer_read(r->dev, out, 0, (size_t)n * crop, crops, 1);
  free(m);
  return st;
}
