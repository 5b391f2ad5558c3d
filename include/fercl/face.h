/* fer-cl: finding faces in pictures with MTCNN (Zhang et al. 2016) on the OpenCL device.
 *
 * P-Net runs fully convolutionally over an image pyramid, R-Net on 24×24 and
 * O-Net on 48×48 crops of the candidates; between the stages, bounding-box
 * regression and non-maximum suppression, as facenet-pytorch 2.6.0's MTCNN
 * does them (same order, same rounding). Weights: one safetensors file written
 * by tools/get-face-detector (see fc_face_detector_path). */
#ifndef FERCL_FACE_H
#define FERCL_FACE_H

#include <stddef.h>

#include "fercl/api.h"
#include "fercl/data.h"
#include "fercl/device.h"
#include "fercl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One face: box corners, O-Net's probability, five landmarks (x, y each) in the
 * order left eye, right eye, nose, left mouth corner, right mouth corner (as
 * seen in the picture). Pixel coordinates of the picture, facenet-pytorch's
 * convention (they may lie slightly outside it). */
typedef struct fc_face {
  float box[4]; /* x1, y1, x2, y2 */
  float score;
  float landmarks[10];
} fc_face;

typedef struct fc_face_options {
  int min_face;         /* smallest face side searched for, pixels (20) */
  float thresholds[3];  /* P-, R-, O-Net probability thresholds (0.6, 0.7, 0.7) */
  float factor;         /* pyramid scale step (0.709) */
  int max_pyramid_side; /* pyramid levels whose longer side exceeds this are skipped, so a
                            huge photo costs bounded memory (1280; 0 = no limit) */
} fc_face_options;

FC_API void fc_face_options_default(fc_face_options *options);

/* Where the detector file is: explicit (--detector) if not NULL, else
 * $FERCL_DETECTOR, else $XDG_DATA_HOME/fer-cl/mtcnn.safetensors, else
 * $HOME/.local/share/fer-cl/mtcnn.safetensors. FC_ERR_LIMIT if it does not fit. */
FC_API fc_status fc_face_detector_path(const char *explicit_path, char *buf, size_t size);

typedef struct fc_face_detector fc_face_detector;

/* Loads and checks every tensor (names and shapes) and builds the kernels. A
 * missing, truncated or foreign file is one message naming the file and
 * tools/get-face-detector. */
FC_API fc_status fc_face_detector_create(fc_device *dev, const char *path, fc_face_detector **out);
FC_API void fc_face_detector_free(fc_face_detector *detector);

/* Faces of an RGB picture (3 channels, planar), largest box first (as
 * facenet-pytorch's MTCNN.detect). *faces is malloc'd (NULL when none). */
FC_API fc_status fc_face_detect(fc_face_detector *detector, const fc_image *rgb,
                                const fc_face_options *options, fc_face **faces, int *count);

/* ---- alignment and drawing (src/face/align.c, annotate.c) ---- */

/* The alignment template: where the 5 landmarks go in a side × side crop, for a margin (a
 * fraction of the face's size added on every side): FER2013's mean landmark positions. */
FC_API void fc_face_template(double margin, int side, float points[10]);

/* Crops faces out of pictures on the device; keeps its device buffers between calls (they
 * grow to the largest picture and face count seen). */
typedef struct fc_face_aligner fc_face_aligner;
FC_API fc_status fc_face_aligner_create(fc_device *dev, fc_face_aligner **out);
FC_API void fc_face_aligner_free(fc_face_aligner *aligner);

/* Each face aligned to the template for margin: the similarity transform (least squares over
 * the 5 landmarks) taking the template to the face, sampled bilinearly (fc_affine_warp).
 * rgb: 3 channels, planar; crops: host memory for n × channels × side × side bytes, filled
 * with uint8 [n][channels][side][side] (channels 1: ITU-R 601 luma, or 3). Waits for the device. */
FC_API fc_status fc_face_align(fc_face_aligner *aligner, const fc_image *rgb, const fc_face *faces,
                               int n, int channels, int side, double margin, uint8_t *crops);

/* The picture with each face's box, its landmarks (when its score is above 0) and its label
 * (labels[i], when labels and labels[i] are not NULL) drawn in palette colour i, written as an
 * 8-bit RGB PNG at path (temp name, then renamed). rgb: 3 channels, planar. */
FC_API fc_status fc_face_annotate_png(const char *path, const fc_image *rgb, const fc_face *faces,
                                      int n, const char *const *labels);

#ifdef __cplusplus
}
#endif
#endif
