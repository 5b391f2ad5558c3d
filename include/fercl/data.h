/* fer-cl: datasets, label splits, augmentation and the prefetching loader.
 *
 * Everything here runs on the host. A dataset is decoded ONCE at load time
 * (libpng / libjpeg, converted to the model's channel count and resized to
 * its input size) and kept in memory as uint8, layout [N][C][H][W]. Images
 * are planar (CHW) everywhere in this header.
 *
 * Reproducibility: the label split and every batch are pure functions of a
 * seed (and, for batches, of the training step), never of thread scheduling,
 * so a run resumed at step t sees exactly the batches it would have seen. */
#ifndef FERCL_DATA_H
#define FERCL_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "fercl/api.h"
#include "fercl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Images                                                                   */

/* Headers that claim more than this are refused before anything is allocated. */
#define FC_IMAGE_MAX_SIDE 16384
#define FC_IMAGE_MAX_PIXELS (1LL << 26)
/* Image files larger than this are refused unread. */
#define FC_IMAGE_MAX_FILE_BYTES (256u << 20)

/* A planar uint8 image: data[(c * height + y) * width + x]. */
typedef struct fc_image {
  uint8_t *data;
  int channels; /* 1 or 3 */
  int height;
  int width;
} fc_image;

/* Allocates data (zeroed); FC_ERR_LIMIT above FC_IMAGE_MAX_PIXELS. */
FC_API fc_status fc_image_alloc(fc_image *image, int channels, int height, int width);
FC_API void fc_image_free(fc_image *image);

/* What a decode request wants. Zero fields mean "as stored in the file". */
typedef struct fc_decode_request {
  int channels;       /* 1 (ITU-R 601 luma) or 3; 0 = the file's own (gray 1, else 3) */
  int height, width;  /* output size; 0 = the (cropped) image's size */
  int crop_x, crop_y; /* crop box in file pixels, applied before resizing; */
  int crop_w, crop_h; /* crop_w == 0 means the whole image; clipped to the image */
} fc_decode_request;

/* Facts about the file as stored. */
typedef struct fc_image_info {
  int width, height;
  int channels;  /* colour channels in the file, alpha not counted: 1 or 3 */
  int bit_depth; /* 8 or 16 (PNG), 8 (JPEG) */
  int has_alpha;
  const char *format; /* "png" or "jpeg" */
} fc_image_info;

/* Decodes PNG or JPEG bytes (told apart by their signature). 16-bit samples
 * are scaled to 8 bits, palettes expanded, alpha dropped (as PIL's
 * convert("RGB") / convert("L") do), gray = (19595 R + 38470 G + 7471 B) >> 16
 * rounded (ITU-R 601). Shrinking averages areas, enlarging is bilinear
 * (pixel centres aligned). name is used in messages only. out is allocated;
 * info may be NULL. Never exits: a corrupt or truncated file is FC_ERR_FORMAT. */
FC_API fc_status fc_image_decode(const void *bytes, size_t size, const char *name,
                                 const fc_decode_request *request, fc_image *out,
                                 fc_image_info *info);
/* Reads a file (up to FC_IMAGE_MAX_FILE_BYTES) and decodes it. */
FC_API fc_status fc_image_load(const char *path, const fc_decode_request *request, fc_image *out,
                               fc_image_info *info);

/* Resizes src into dst, whose channels/height/width (and data) the caller
 * set; dst->channels must equal src->channels. Per axis: area averaging when
 * shrinking, bilinear (half-pixel centres) when enlarging, copy when equal. */
FC_API fc_status fc_image_resize(const fc_image *src, fc_image *dst);

/* Writes an 8-bit gray (1 channel) or RGB (3) PNG, temp-then-rename. */
FC_API fc_status fc_image_write_png(const char *path, const fc_image *image);

/* A list of malloc'd strings (file names, paths). */
typedef struct fc_name_list {
  char **names;
  size_t count, capacity;
} fc_name_list;
FC_API void fc_name_list_free(fc_name_list *list);

/* The pictures named on a command line, appended to out: a folder becomes its image files
 * (.jpg / .jpeg / .png, any case; not its sub-folders; sorted by byte order, joined to the
 * folder's path), anything else stays as given. Free out with fc_name_list_free, also on failure. */
FC_API fc_status fc_image_paths(char *const *paths, int count, fc_name_list *out);

/* ------------------------------------------------------------------------ */
/* Datasets                                                                 */

typedef enum fc_data_format {
  FC_DATA_AUTO = 0,
  FC_DATA_FOLDER, /* root/<class>/ images (.jpg .jpeg .png) or root/{train,val,test}/<class>/ */
  FC_DATA_FER2013_CSV, /* emotion,pixels,Usage */
  FC_DATA_RAFDB,       /* EmoLabel/list_patition_label.txt + Image/aligned/ */
  FC_DATA_AFFECTNET,   /* training.csv / validation.csv + Manually_Annotated_Images/ */
  FC_DATA_UNLABELED,   /* any images below a folder, recursively; no labels */
  FC_DATA_SYNTH,       /* procedurally drawn faces (fc_synth_generate) */
  FC_DATA_FORMAT_COUNT
} fc_data_format;

/* "auto", "folder", "fer2013-csv", "rafdb", "affectnet", "unlabeled", "synth" */
FC_API const char *fc_data_format_name(fc_data_format format);
/* Which format a path holds (what FC_DATA_AUTO picks); FC_ERR_FORMAT saying
 * what was expected when it cannot tell. */
FC_API fc_status fc_data_format_detect(const char *path, fc_data_format *out);
/* Parses one of the names above (FC_ERR_INVALID_ARG listing them otherwise). */
FC_API fc_status fc_data_format_parse(const char *name, fc_data_format *out);

typedef enum fc_split {
  FC_SPLIT_TRAIN = 0,
  FC_SPLIT_VAL = 1,       /* folder val/, FER2013 PublicTest, AffectNet validation */
  FC_SPLIT_TEST = 2,      /* folder test/, FER2013 PrivateTest, RAF-DB test */
  FC_SPLIT_UNLABELED = 3, /* extra images for the unlabelled pool only */
  FC_SPLIT_COUNT
} fc_split;

/* "train", "val", "test", "unlabeled" */
FC_API const char *fc_split_name(fc_split split);

/* An image the loader skipped (or, in strict mode, stopped at). */
typedef struct fc_data_problem {
  char *source;  /* as in fc_dataset.sources */
  char *message; /* why */
} fc_data_problem;

/* A decoded dataset; every field is owned by it and read-only for users. */
typedef struct fc_dataset {
  char *root; /* the path it was loaded from */
  fc_data_format format;
  int channels, height, width;
  int class_count;
  char **class_names; /* [class_count], in label order */
  int64_t count;
  uint8_t *pixels;     /* [count][channels][height][width] */
  int32_t *labels;     /* [count]; -1 = unknown (unlabelled images) */
  uint8_t *splits;     /* [count]; fc_split */
  char **sources;      /* [count]; path relative to root, or "file.csv:LINE" */
  int32_t *file_width; /* [count]; size and colour channels as stored */
  int32_t *file_height;
  uint8_t *file_channels;
  int64_t problem_count; /* images skipped as unreadable or corrupt */
  fc_data_problem *problems;
  int64_t ignored_count; /* rows the format says to ignore (AffectNet codes 8-10, contempt) */
} fc_dataset;

typedef struct fc_data_options {
  fc_data_format format; /* FC_DATA_AUTO: detected from the path */
  int channels;          /* 1 or 3; 0 = the first image's (gray 1, else 3) */
  int height, width;     /* model input; 0 = the first image's size */
  int threads;           /* decode threads; 0 = online CPUs */
  int strict;            /* an unreadable or corrupt image is an error, not a skip */
  int affectnet_classes; /* 7 (drops contempt, the default) or 8 */
  int affectnet_crop;    /* crop AffectNet images to their face box (default 1) */
  uint64_t max_bytes;    /* refuse a decoded set larger than this; default 16 GiB */
} fc_data_options;

FC_API void fc_data_options_default(fc_data_options *options);

/* Loads a dataset from a folder or file. Format errors (unknown layout, empty
 * class, label out of range, malformed CSV) are fatal and name the file and
 * line. Unreadable or corrupt images are skipped with a warning, listed in
 * problems and summarised (unless options->strict); a set in which nothing
 * decodes is an error. */
FC_API fc_status fc_dataset_load(const char *path, const fc_data_options *options,
                                 fc_dataset **out);

/* Adds every image below dir (recursively; .jpg/.jpeg/.png, any case) to ds
 * as FC_SPLIT_UNLABELED with label -1, converted to ds's channels and size. */
FC_API fc_status fc_dataset_add_unlabeled(fc_dataset *ds, const char *dir,
                                          const fc_data_options *options);

FC_API void fc_dataset_free(fc_dataset *ds);

static inline const uint8_t *fc_dataset_image(const fc_dataset *ds, int64_t i) {
  return ds->pixels + (size_t)i * (size_t)ds->channels * (size_t)ds->height * (size_t)ds->width;
}
static inline size_t fc_dataset_image_bytes(const fc_dataset *ds) {
  return (size_t)ds->channels * (size_t)ds->height * (size_t)ds->width;
}

/* A list of dataset indices; free with fc_index_list_free. */
typedef struct fc_index_list {
  int64_t *index;
  int64_t count;
} fc_index_list;

FC_API void fc_index_list_free(fc_index_list *list);
/* All images of one split, ascending. */
FC_API fc_status fc_dataset_split_indices(const fc_dataset *ds, fc_split split, fc_index_list *out);
/* Images per class among list (counts has class_count entries; -1 labels not counted). */
FC_API void fc_dataset_class_counts(const fc_dataset *ds, const fc_index_list *list,
                                    int64_t *counts);
/* Copies images idx[0..n) one after the other into dst (n * image bytes). */
FC_API void fc_dataset_gather(const fc_dataset *ds, const int64_t *idx, int64_t n, uint8_t *dst);
/* Writes ds as a folder-per-class PNG dataset: dir/<split>/<class>/<name>.png,
 * where name is the source's file stem; unlabelled images go to dir/unlabeled/. */
FC_API fc_status fc_dataset_write_folder(const fc_dataset *ds, const char *dir);

/* Per-channel normalisation the device applies: x = (v / 255 - mean) / std. */
typedef struct fc_data_norm {
  int channels;
  float mean[3];
  float std[3];
} fc_data_norm;

/* Mean and standard deviation of the images in list (pixel values / 255). */
FC_API fc_status fc_data_norm_compute(const fc_dataset *ds, const fc_index_list *list,
                                      fc_data_norm *out);
/* ImageNet's values for 3 channels; for 1 channel the same converted to luma
 * (mean 0.4590, std 0.2256). */
FC_API void fc_data_norm_default(int channels, fc_data_norm *out);

/* ------------------------------------------------------------------------ */
/* Label split                                                              */

typedef struct fc_label_split_config {
  int64_t labels;           /* N labelled images in total, class-balanced; or */
  int64_t labels_per_class; /* K per class (used when labels == 0). Both 0: all labelled. */
  uint64_t seed;
  /* A class too small for its share keeps this much unlabelled (and gives
   * the rest); its shortfall is spread over the other classes. */
  double margin_fraction; /* default 0.1 */
  int64_t margin_min;     /* default 1 */
} fc_label_split_config;

FC_API void fc_label_split_config_default(fc_label_split_config *config);

/* Chooses the labelled images among ds's training split. labeled gets them
 * (ascending); unlabeled gets the rest of the training split plus every
 * FC_SPLIT_UNLABELED image (ascending). Deterministic in (ds, config). */
FC_API fc_status fc_label_split(const fc_dataset *ds, const fc_label_split_config *config,
                                fc_index_list *labeled, fc_index_list *unlabeled);

/* Writes the labelled list as text (one "source<TAB>label<TAB>class" line per
 * image), temp-then-rename. */
FC_API fc_status fc_label_split_write(const char *path, const fc_dataset *ds,
                                      const fc_index_list *labeled);
/* Reads such a file back against ds: every source must exist in the training
 * split with the same label. Fills labeled and unlabeled as fc_label_split does. */
FC_API fc_status fc_label_split_read(const char *path, const fc_dataset *ds, fc_index_list *labeled,
                                     fc_index_list *unlabeled);

/* ------------------------------------------------------------------------ */
/* Counter-based randomness                                                 */

/* A key from a seed and up to three counters (a strong 64-bit mix). */
FC_API uint64_t fc_rng_key(uint64_t seed, uint64_t stream, uint64_t a, uint64_t b);
/* Splitmix64 step: advances *state and returns the next value. */
FC_API uint64_t fc_rng_next(uint64_t *state);
/* Uniform in [0, n) (n >= 1), and in [0, 1). */
FC_API uint64_t fc_rng_below(uint64_t *state, uint64_t n);
FC_API double fc_rng_uniform(uint64_t *state);
/* Element i of a pseudo-random permutation of [0, n) selected by key:
 * a bijection computed in O(1) without a table (Feistel + cycle walking). */
FC_API int64_t fc_permute(uint64_t key, int64_t n, int64_t i);

/* ------------------------------------------------------------------------ */
/* Augmentation (uint8, planar, in place unless noted)                      */

/* The ops; each takes its own parameter meaning (see fc_augment_apply_op). */
typedef enum fc_aug_op {
  FC_AUG_AUTOCONTRAST = 0, /* per channel: (v - min) * 255 / (max - min), rounded down */
  FC_AUG_BRIGHTNESS,       /* v * f                                           (f = param) */
  FC_AUG_COLOR,            /* blend(gray(v), v, f); identity on 1 channel     (f = param) */
  FC_AUG_CONTRAST,         /* blend(mean luma, v, f)                          (f = param) */
  FC_AUG_EQUALIZE,         /* per channel histogram equalisation (PIL's rule) */
  FC_AUG_IDENTITY,
  FC_AUG_POSTERIZE,   /* keep the top `param` bits (1..8) */
  FC_AUG_ROTATE,      /* `param` degrees counter-clockwise about the centre, nearest, fill */
  FC_AUG_SHARPNESS,   /* blend(smooth(v), v, f): 3x3 [1 1 1;1 5 1;1 1 1]/13, border kept */
  FC_AUG_SHEAR_X,     /* out(x, y) = in(x + param * (y - cy), y), nearest, fill */
  FC_AUG_SHEAR_Y,     /* out(x, y) = in(x, y + param * (x - cx)) */
  FC_AUG_SOLARIZE,    /* v >= param ? 255 - v : v */
  FC_AUG_TRANSLATE_X, /* shift right by `param` pixels (rounded), fill */
  FC_AUG_TRANSLATE_Y, /* shift down by `param` pixels */
  FC_AUG_OP_COUNT
} fc_aug_op;

/* "AutoContrast", "Brightness", ... */
FC_API const char *fc_aug_op_name(fc_aug_op op);

/* Blends are round(d + f * (v - d)) clamped to 0..255, d the degenerate image.
 * fill is used where geometric ops uncover pixels. scratch must hold one
 * image (channels*height*width bytes). */
FC_API void fc_augment_apply_op(fc_image *image, fc_aug_op op, double param, uint8_t fill,
                                uint8_t *scratch);

/* Mirror left-right. */
FC_API void fc_augment_flip(fc_image *image);
/* out(x, y) = in(x - dx, y - dy), reflecting at the borders (a random crop of
 * the reflect-padded image). |dx|, |dy| < the side. */
FC_API void fc_augment_shift_reflect(fc_image *image, int dx, int dy, uint8_t *scratch);
/* Fills the size x size square whose top-left corner is (x0, y0), clipped. */
FC_API void fc_augment_cutout(fc_image *image, int x0, int y0, int size, uint8_t fill);

typedef struct fc_augment_config {
  int flip;              /* weak: random horizontal flip (default 1) */
  int pad;               /* weak: max shift in pixels; -1 = 4 at 48 px, scaled with the side */
  int strong_ops;        /* RandAugment ops per image (default 2) */
  int strong_weak_first; /* strong view starts with the weak flip+shift (default 1, FixMatch) */
  double cutout;         /* Cutout square: up to this fraction of the side (default 0.5; 0 = off) */
  int fill;              /* grey used by geometric ops and Cutout (default 128) */
  int augment_labeled;   /* weak augmentation on the labelled batch (default 1) */
} fc_augment_config;

FC_API void fc_augment_config_default(fc_augment_config *config);

/* The weak view of image in place, randomness drawn from *rng. */
FC_API void fc_augment_weak(fc_image *image, const fc_augment_config *config, uint64_t *rng,
                            uint8_t *scratch);
/* The strong view: (weak), RandAugment, Cutout. Magnitudes: a uniform v in
 * [0, 1] per op; Brightness/Color/Contrast/Sharpness f = 1 +- 0.9 v,
 * Rotate +-30 v degrees, Shear +-0.3 v, Translate +-0.3 v of the side,
 * Posterize 8 - round(4 v) bits, Solarize threshold 256 - round(256 v). */
FC_API void fc_augment_strong(fc_image *image, const fc_augment_config *config, uint64_t *rng,
                              uint8_t *scratch);

/* ------------------------------------------------------------------------ */
/* The prefetching loader                                                   */

typedef struct fc_loader_config {
  const fc_dataset *dataset; /* must outlive the loader */
  const int64_t *labeled;    /* labelled indices (copied) */
  int64_t labeled_count;
  const int64_t *unlabeled; /* unlabelled pool (copied) */
  int64_t unlabeled_count;
  int batch_labeled;   /* B_l */
  int batch_unlabeled; /* B_u; 0 = supervised only */
  int class_balanced;  /* labelled batch cycles through classes (default 1);
                                  0 = shuffled epochs like the unlabelled pool */
  uint64_t seed;
  fc_augment_config augment;
  int threads;        /* producer threads; 0 = build batches inside fc_loader_get */
  int queue_depth;    /* batch slots, prepared ahead (default 4) */
  int consumer_helps; /* fc_loader_get builds items of the batch it waits for instead
                                  of sleeping (default 1; always so with threads 0) */
  int shards, shard;  /* data-parallel ranks: batch_labeled and batch_unlabeled are the
                                  GLOBAL batch, divisible by shards; each batch holds part `shard`
                                  (positions shard·B/shards ..) of it, with the very images and
                                  augmentation draws one loader of the whole batch gives those
                                  positions (0 or 1 shards: all of it) */
} fc_loader_config;

FC_API void fc_loader_config_default(fc_loader_config *config);
/* The defaults, then a workload: the dataset, its labelled and unlabelled index lists (the
 * indices are copied by fc_loader_create) and the two batch sizes. */
FC_API void fc_loader_config_init(fc_loader_config *config, const fc_dataset *ds,
                                  const fc_index_list *labeled, const fc_index_list *unlabeled,
                                  int batch_labeled, int batch_unlabeled);

/* One training step's input. data is ONE contiguous buffer
 * [x_l: B_l*C*H*W | u_w: B_u*C*H*W | u_s: B_u*C*H*W] so it goes to the
 * device in one write; x_l, u_w, u_s point into it. */
typedef struct fc_batch {
  int64_t step;
  int batch_labeled, batch_unlabeled;
  int channels, height, width;
  uint8_t *data;
  size_t bytes;
  uint8_t *x_l, *u_w, *u_s;
  int32_t *labels;          /* [B_l] labels of x_l */
  int32_t *hidden_labels;   /* [B_u] true labels of u (-1 unknown); never for the loss */
  int64_t *labeled_index;   /* [B_l] dataset indices */
  int64_t *unlabeled_index; /* [B_u] */
} fc_batch;

typedef struct fc_loader fc_loader;

FC_API fc_status fc_loader_create(const fc_loader_config *config, fc_loader **out);
/* The batch of training step `step` (>= 0): a pure function of (seed, step,
 * dataset, index lists, augmentation settings). Blocks until it is ready and
 * keeps preparing the following steps. Asking for a step out of order (a
 * resume, a jump) discards what was prefetched and restarts from there.
 * The batch stays valid until released; hold at most queue_depth - 1. */
FC_API fc_status fc_loader_get(fc_loader *loader, int64_t step, const fc_batch **out);
FC_API void fc_loader_release(fc_loader *loader, const fc_batch *batch);
FC_API void fc_loader_free(fc_loader *loader);

/* Which dataset images step `step` uses (no pixels): labelled[B_l], unlabeled[B_u]. */
FC_API void fc_loader_step_indices(const fc_loader *loader, int64_t step, int64_t *labeled,
                                   int64_t *unlabeled);

/* ------------------------------------------------------------------------ */
/* Synthetic faces                                                          */

/* Class names and order of the synthetic set: FER2013's folder order. */
FC_API extern const char *const fc_synth_class_names[7];

typedef struct fc_synth_config {
  int64_t train_count; /* default 7000 */
  int64_t val_count;   /* default 1400 */
  int height, width;   /* default 48 x 48 */
  int channels;        /* 1 (default) or 3 */
  uint64_t seed;       /* default 1 */
  int threads;         /* 0 = online CPUs */
} fc_synth_config;

FC_API void fc_synth_config_default(fc_synth_config *config);

/* Draws one face of class label (0..6) for image number index of the set;
 * a pure function of (config seed, size, channels, index, label). out is
 * allocated. */
FC_API fc_status fc_synth_render(const fc_synth_config *config, int64_t index, int label,
                                 fc_image *out);
/* A whole dataset (train then val, classes in turn), deterministic in config. */
FC_API fc_status fc_synth_generate(const fc_synth_config *config, fc_dataset **out);

#ifdef __cplusplus
}
#endif
#endif
