/* Seed inputs for the fuzz targets (see seeds.h). */
#include "seeds.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jpeglib.h> /* after stdio.h, which it needs */
#include <png.h>

#include "fercl/fileio.h"
#include "fercl/safetensors.h"
#include "ssl/runlog.h"

const char *const fc_fuzz_targets[] = {"image",       "fer2013",   "rafdb", "affectnet",
                                       "safetensors", "ckpt_meta", "json",  "config",
                                       "runlog",      "split",     NULL};

/* ---- a growable byte buffer ---- */

typedef struct bytes {
  uint8_t *data;
  size_t size, cap;
} bytes;

static void put(bytes *b, const void *p, size_t n) {
  if (b->size + n > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->size + n) cap *= 2;
    uint8_t *d = realloc(b->data, cap);
    if (!d) abort();
    b->data = d;
    b->cap = cap;
  }
  memcpy(b->data + b->size, p, n);
  b->size += n;
}

static void puts_(bytes *b, const char *s) { put(b, s, strlen(s)); }

static void putf(bytes *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(bytes *b, const char *fmt, ...) {
  char tmp[4096];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n > 0) put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static void emit_bytes(fc_seed_fn emit, void *user, const char *name, bytes *b) {
  emit(name, b->data, b->size, user);
  b->size = 0;
}

static void emit_text(fc_seed_fn emit, void *user, const char *name, const char *text) {
  emit(name, (const uint8_t *)text, strlen(text), user);
}

/* A pattern pixel value, so decoded images are not flat. */
static uint8_t pattern(int x, int y, int c) {
  return (uint8_t)(x * 37 + y * 71 + c * 101 + ((x ^ y) & 3) * 13);
}

/* ---- PNG in memory ---- */

static void png_put(png_structp png, png_bytep data, size_t n) {
  put(png_get_io_ptr(png), data, n);
}
static void png_flush_none(png_structp png) { (void)png; }

/* color: PNG_COLOR_TYPE_*; depth 1..16. */
static void make_png(bytes *out, int w, int h, int color, int depth, int interlace, int trns) {
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png_create_info_struct(png);
  if (setjmp(png_jmpbuf(png))) abort();
  png_set_write_fn(png, out, png_put, png_flush_none);
  png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth, color,
               interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  int channels = color == PNG_COLOR_TYPE_GRAY || color == PNG_COLOR_TYPE_PALETTE ? 1
                 : color == PNG_COLOR_TYPE_GRAY_ALPHA                            ? 2
                 : color == PNG_COLOR_TYPE_RGB                                   ? 3
                                                                                 : 4;
  if (color == PNG_COLOR_TYPE_PALETTE) {
    png_color palette[16];
    for (int i = 0; i < 16; i++)
      palette[i] = (png_color){(png_byte)(i * 16), (png_byte)(255 - i * 16), (png_byte)(i * 7)};
    png_set_PLTE(png, info, palette, 1 << (depth < 4 ? depth : 4));
    if (trns) {
      png_byte alpha[2] = {0, 128};
      png_set_tRNS(png, info, alpha, 2, NULL);
    }
  } else if (trns && color == PNG_COLOR_TYPE_GRAY) {
    png_color_16 t = {0};
    t.gray = 1;
    png_set_tRNS(png, info, NULL, 0, &t);
  }
  png_text text = {
      .compression = PNG_TEXT_COMPRESSION_NONE, .key = "Comment", .text = "fer-cl fuzz seed"};
  png_set_text(png, info, &text, 1);
  png_write_info(png, info);
  if (depth == 16) png_set_swap(png); /* rows below are little-endian words */
  size_t rowbytes = ((size_t)w * (size_t)channels * (size_t)depth + 7) / 8;
  png_bytep row = calloc(1, rowbytes + 8);
  int passes = png_set_interlace_handling(png);
  for (int pass = 0; pass < passes; pass++) {
    for (int y = 0; y < h; y++) {
      memset(row, 0, rowbytes);
      for (int x = 0; x < w; x++) {
        for (int c = 0; c < channels; c++) {
          unsigned v = pattern(x, y, c);
          size_t bit = ((size_t)x * (size_t)channels + (size_t)c) * (size_t)depth;
          if (depth == 16) {
            row[bit / 8] = (png_byte)v;
            row[bit / 8 + 1] = (png_byte)(v ^ 0x5a);
          } else if (depth == 8) {
            row[bit / 8] = (png_byte)v;
          } else {
            unsigned max = (1u << depth) - 1;
            if (color == PNG_COLOR_TYPE_PALETTE && depth > 4) max = 15;
            unsigned q = (v % (max + 1)) & ((1u << depth) - 1);
            row[bit / 8] |= (png_byte)(q << (8 - depth - (int)(bit % 8)));
          }
        }
      }
      png_write_row(png, row);
    }
  }
  png_write_end(png, info);
  png_destroy_write_struct(&png, &info);
  free(row);
}

/* ---- JPEG in memory ---- */

/* space: JCS_GRAYSCALE, JCS_RGB or JCS_CMYK. */
static void make_jpeg(bytes *out, int w, int h, J_COLOR_SPACE space, int progressive, int quality) {
  struct jpeg_compress_struct c;
  struct jpeg_error_mgr err;
  c.err = jpeg_std_error(&err);
  jpeg_create_compress(&c);
  unsigned char *mem = NULL;
  unsigned long mem_size = 0;
  jpeg_mem_dest(&c, &mem, &mem_size);
  int comps = space == JCS_GRAYSCALE ? 1 : space == JCS_RGB ? 3 : 4;
  c.image_width = (JDIMENSION)w;
  c.image_height = (JDIMENSION)h;
  c.input_components = comps;
  c.in_color_space = space;
  jpeg_set_defaults(&c);
  if (space == JCS_CMYK) jpeg_set_colorspace(&c, JCS_YCCK);
  jpeg_set_quality(&c, quality, TRUE);
  if (progressive) jpeg_simple_progression(&c);
  jpeg_start_compress(&c, TRUE);
  unsigned char *row = malloc((size_t)w * (size_t)comps);
  while (c.next_scanline < c.image_height) {
    int y = (int)c.next_scanline;
    for (int x = 0; x < w; x++)
      for (int k = 0; k < comps; k++) row[x * comps + k] = pattern(x, y, k);
    JSAMPROW rp = row;
    jpeg_write_scanlines(&c, &rp, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  put(out, mem, mem_size);
  free(mem);
  free(row);
}

static fc_status image_seeds(fc_seed_fn emit, void *user) {
  /* Each seed: the 8-byte request header (see tests/fuzz/fuzz_image.c), then a file. */
  static const uint8_t headers[][FC_FUZZ_IMAGE_HEADER] = {
      {0, 0, 0, 0, 0, 0, 0, 0},        /* as stored */
      {1, 48, 48, 0, 0, 0, 0, 0},      /* gray, resized to 48x48 */
      {2, 7, 30, 1, 2, 1, 5, 4},       /* RGB, cropped, resized */
      {1, 96, 3, 1, 250, 255, 200, 9}, /* a crop partly outside */
  };
  struct {
    const char *name;
    int w, h, color, depth, interlace, trns;
  } pngs[] = {
      {"png-gray8", 9, 7, PNG_COLOR_TYPE_GRAY, 8, 0, 0},
      {"png-rgb8", 13, 11, PNG_COLOR_TYPE_RGB, 8, 0, 0},
      {"png-rgba8", 6, 5, PNG_COLOR_TYPE_RGB_ALPHA, 8, 0, 0},
      {"png-graya16", 5, 6, PNG_COLOR_TYPE_GRAY_ALPHA, 16, 0, 0},
      {"png-rgb16-interlaced", 17, 9, PNG_COLOR_TYPE_RGB, 16, 1, 0},
      {"png-palette4-trns", 10, 3, PNG_COLOR_TYPE_PALETTE, 4, 0, 1},
      {"png-gray1-trns", 19, 4, PNG_COLOR_TYPE_GRAY, 1, 1, 1},
      {"png-gray2", 3, 1, PNG_COLOR_TYPE_GRAY, 2, 0, 0},
  };
  struct {
    const char *name;
    int w, h;
    J_COLOR_SPACE space;
    int progressive, quality;
  } jpegs[] = {
      {"jpeg-gray", 16, 16, JCS_GRAYSCALE, 0, 90},
      {"jpeg-rgb", 23, 17, JCS_RGB, 0, 75},
      {"jpeg-rgb-progressive", 33, 9, JCS_RGB, 1, 60},
      {"jpeg-cmyk", 8, 8, JCS_CMYK, 0, 80},
  };
  bytes b = {0};
  char name[96];
  for (size_t i = 0; i < sizeof pngs / sizeof pngs[0]; i++) {
    const uint8_t *hdr = headers[i % (sizeof headers / sizeof headers[0])];
    put(&b, hdr, FC_FUZZ_IMAGE_HEADER);
    make_png(&b, pngs[i].w, pngs[i].h, pngs[i].color, pngs[i].depth, pngs[i].interlace,
             pngs[i].trns);
    snprintf(name, sizeof name, "%s", pngs[i].name);
    emit_bytes(emit, user, name, &b);
  }
  for (size_t i = 0; i < sizeof jpegs / sizeof jpegs[0]; i++) {
    const uint8_t *hdr = headers[(i + 1) % (sizeof headers / sizeof headers[0])];
    put(&b, hdr, FC_FUZZ_IMAGE_HEADER);
    make_jpeg(&b, jpegs[i].w, jpegs[i].h, jpegs[i].space, jpegs[i].progressive, jpegs[i].quality);
    emit_bytes(emit, user, jpegs[i].name, &b);
  }
  free(b.data);
  return FC_OK;
}

/* ---- text formats ---- */

static void fer_pixels(bytes *b, int seed) {
  for (int i = 0; i < 48 * 48; i++) putf(b, i ? " %d" : "%d", (i * 7 + seed * 31) % 256);
}

static fc_status fer2013_seeds(fc_seed_fn emit, void *user) {
  bytes b = {0};
  puts_(&b, "emotion,pixels,Usage\n");
  static const char *const usage[] = {"Training", "PublicTest", "PrivateTest"};
  for (int r = 0; r < 3; r++) {
    putf(&b, "%d,", r * 2);
    fer_pixels(&b, r);
    putf(&b, ",%s\n", usage[r]);
  }
  emit_bytes(emit, user, "fer2013-usage", &b);
  puts_(&b, "emotion,pixels\r\n3,\"");
  fer_pixels(&b, 4);
  puts_(&b, "\"\r\n\r\n");
  emit_bytes(emit, user, "fer2013-crlf-quoted", &b);
  puts_(&b, "pixels\n");
  fer_pixels(&b, 5);
  puts_(&b, "\n");
  emit_bytes(emit, user, "fer2013-unlabelled", &b);
  free(b.data);
  return FC_OK;
}

static fc_status rafdb_seeds(fc_seed_fn emit, void *user) {
  emit_text(emit, user, "rafdb-list", "train_00001.jpg 5\ntrain_00002.jpg 1\ntest_0001.jpg 7\n");
  emit_text(emit, user, "rafdb-crlf", "test_0001.jpg 4\r\n\r\ntrain_00001.png 2\r\n");
  return FC_OK;
}

static fc_status affectnet_seeds(fc_seed_fn emit, void *user) {
  emit_text(emit, user, "affectnet-header",
            "subDirectory_filePath,face_x,face_y,face_width,face_height,facial_landmarks,"
            "expression,valence,arousal\n"
            "1/a.jpg,2,3,10,9,\"1.0;2.0;3.0\",1,0.5,-0.2\n"
            "1/b.png,0,0,4,4,,7,0,0\n"
            "1/a.jpg,-5,-5,100,100,,0,0,0\n"
            "2/missing.jpg,0,0,1,1,,9,0,0\n");
  emit_text(emit, user, "affectnet-noheader",
            "1/a.jpg,1,1,5,5,,3,0.1,0.1\n1/b.png,0,0,2.0,2.0,,6,0,0\n");
  emit_text(
      emit, user, "affectnet-reordered",
      "expression,subDirectory_filePath,face_height,face_width,face_y,face_x\n4,1/a.jpg,6,6,1,1\n");
  return FC_OK;
}

static fc_status json_seeds(fc_seed_fn emit, void *user) {
  emit_text(
      emit, user, "json-object",
      "{\"a\": [1, -2.5e3, 0.1, 1E+2, 9007199254740993, -9223372036854775808], \"b\": {\"c\": "
      "null, "
      "\"d\": true, \"e\": false}, \"s\": \"tab\\t quote\\\" \\u00e9 \\ud83d\\ude00 \\u0000\"}");
  emit_text(emit, user, "json-safetensors-header",
            "{\"__metadata__\":{\"format\":\"pt\"},\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_"
            "offsets\":[0,24]}}");
  emit_text(emit, user, "json-scalars",
            "  [\"\", 0, -0, 1e-400, 1.7976931348623157e308, \"\\/\"]  ");
  emit_text(emit, user, "json-deep", "[[[[[[[[[[{\"k\":[[[]]]}]]]]]]]]]]");
  return FC_OK;
}

static fc_status config_seeds(fc_seed_fn emit, void *user) {
  emit_text(
      emit, user, "config-effective",
      "# fer-cl train: effective options of this run\n"
      "labels-per-class = 50\nsynth-train = 7000\nsynth-val = 1400\nstrict-data = false\n"
      "arch = resnet18\nstem = small\nwidth = 0.125\ninput = 48\nchannels = 1\nno-lae = false\n"
      "rfd-prob = 0.5\nbatch = 8\nmu = 3\nlr = 0.03\nschedule = cosine\ndta = freematch-fer\n"
      "snl = thresh\ntau-n = 0.05\nseed = 1\nout = \"runs/a b\"\nskip-nonfinite = true\n");
  emit_text(
      emit, user, "config-hand",
      "  --data = \"/data/fer2013.csv\"   # the CSV\n\n\tformat=fer2013-csv\nno-snl\nlr=1e-3\n"
      "optimizer = adamw\nsplit = labels.txt\nunlabeled = \"\"\n");
  return FC_OK;
}

/* ---- binary formats written by fer-cl itself ---- */

static char scratch_dir[256];

static const char *scratch_path(const char *name, char *buf, size_t size) {
  if (!scratch_dir[0]) {
    snprintf(scratch_dir, sizeof scratch_dir, "/tmp/fercl-seeds-%ld-XXXXXX", (long)getpid());
    if (!mkdtemp(scratch_dir)) abort();
  }
  snprintf(buf, size, "%s/%s", scratch_dir, name);
  return buf;
}

static fc_status emit_file(fc_seed_fn emit, void *user, const char *name, const char *path) {
  char *data = NULL;
  size_t size = 0;
  FC_TRY(fc_file_read_all(path, 1u << 26, &data, &size));
  emit(name, (const uint8_t *)data, size, user);
  free(data);
  unlink(path);
  return FC_OK;
}

static fc_status safetensors_seeds(fc_seed_fn emit, void *user) {
  char path[512];
  scratch_path("seed.safetensors", path, sizeof path);
  float f[6] = {1, -2, 3.5f, 0, 1e-3f, -7};
  double d[2] = {0.25, -1e10};
  uint16_t h[3] = {0x3c00, 0xc000, 0x7bff};
  int64_t i64 = 42;
  uint8_t u8[5] = {0, 1, 2, 254, 255};
  fc_st_tensor t[] = {
      {.name = "conv1.weight", .dtype = FC_ST_F32, .ndim = 4, .shape = {1, 1, 2, 3}, .data = f},
      {.name = "fc.bias", .dtype = FC_ST_F64, .ndim = 1, .shape = {2}, .data = d},
      {.name = "half", .dtype = FC_ST_F16, .ndim = 2, .shape = {3, 1}, .data = h},
      {.name = "bf", .dtype = FC_ST_BF16, .ndim = 1, .shape = {3}, .data = h},
      {.name = "bn1.num_batches_tracked", .dtype = FC_ST_I64, .ndim = 0, .data = &i64},
      {.name = "mask", .dtype = FC_ST_U8, .ndim = 1, .shape = {5}, .data = u8},
      {.name = "empty", .dtype = FC_ST_I32, .ndim = 2, .shape = {0, 4}, .data = u8},
  };
  const char *keys[] = {"format", "fercl.note"};
  const char *values[] = {"pt", "seed \"quoted\" \xc3\xa9"};
  FC_TRY(fc_safetensors_write(path, t, sizeof t / sizeof t[0], keys, values, 2));
  FC_TRY(emit_file(emit, user, "safetensors-mixed", path));
  FC_TRY(fc_safetensors_write(path, t, 1, NULL, NULL, 0));
  FC_TRY(emit_file(emit, user, "safetensors-one", path));
  FC_TRY(fc_safetensors_write(path, NULL, 0, keys, values, 1));
  return emit_file(emit, user, "safetensors-metadata-only", path);
}

static fc_status ckpt_meta_seeds(fc_seed_fn emit, void *user) {
  char path[512];
  scratch_path("ckpt.safetensors", path, sizeof path);
  const char *keys[] = {
      "fercl.format_version", "fercl.arch",       "fercl.in_channels", "fercl.input_size",
      "fercl.num_classes",    "fercl.width",      "fercl.stem",        "fercl.lae3",
      "fercl.lae4",           "fercl.lae_kernel", "fercl.rfd",         "fercl.rfd_prob",
      "fercl.rfd_block",      "fercl.dropout",    "fercl.bn_momentum", "fercl.bn_eps",
      "fercl.classes",        "fercl.input_mean", "fercl.input_std",   "fercl.train.step"};
  const char *gray[] = {
      "1",
      "resnet18",
      "1",
      "48",
      "7",
      "0.125",
      "small",
      "1",
      "1",
      "7",
      "1",
      "0.5",
      "0",
      "0",
      "0.10000000000000001",
      "1.0000000000000001e-05",
      "[\"angry\",\"disgust\",\"fear\",\"happy\",\"sad\",\"surprise\",\"neutral\"]",
      "[0.5]",
      "[0.25]",
      "120"};
  const char *rgb[] = {"1",
                       "resnet34",
                       "3",
                       "112",
                       "3",
                       "1",
                       "imagenet",
                       "0",
                       "1",
                       "3",
                       "0",
                       "0",
                       "5",
                       "0.5",
                       "0.01",
                       "0.001",
                       "[\"a\",\"b\",\"\xc3\xa9\"]",
                       "[0.485,0.456,0.406]",
                       "[0.229,0.224,0.225]",
                       "0"};
  float bias[7] = {0};
  fc_st_tensor t = {.name = "fc.bias", .dtype = FC_ST_F32, .ndim = 1, .shape = {7}, .data = bias};
  size_t n = sizeof keys / sizeof keys[0];
  FC_TRY(fc_safetensors_write(path, &t, 1, keys, gray, n));
  FC_TRY(emit_file(emit, user, "ckpt-gray", path));
  FC_TRY(fc_safetensors_write(path, NULL, 0, keys, rgb, n));
  return emit_file(emit, user, "ckpt-rgb", path);
}

static fc_status runlog_seeds(fc_seed_fn emit, void *user) {
  char path[512];
  scratch_path("log.csv", path, sizeof path);
  char *names[3] = {"a", "b", "c"};
  fc_runlog log;
  FC_TRY(fc_runlog_init(&log, 3, names));
  fc_status st = FC_OK;
  for (int i = 1; i <= 4 && st == FC_OK; i++) {
    fc_log_row r;
    memset(&r, 0, sizeof r);
    r.step = i;
    r.epoch = i / 3.0;
    r.lr = 0.03;
    r.loss = 2.0 / i;
    r.loss_s = r.loss;
    r.mask_rate = 0.5;
    r.val_acc = r.val_mca = r.val_f1 = i == 4 ? 0.25 : NAN;
    r.tau[0] = 0.5f;
    r.tau[2] = 0.95f;
    r.snl_k = 3;
    st = fc_runlog_append(&log, &r);
  }
  if (st == FC_OK) st = fc_runlog_write_csv(&log, path);
  fc_runlog_free(&log);
  FC_TRY(st);
  return emit_file(emit, user, "runlog", path);
}

fc_status fc_fuzz_split_dataset(fc_dataset **out) {
  fc_synth_config sc;
  fc_synth_config_default(&sc);
  sc.train_count = 21;
  sc.val_count = 0;
  sc.height = sc.width = 8;
  sc.threads = 1;
  return fc_synth_generate(&sc, out);
}

static fc_status split_seeds(fc_seed_fn emit, void *user) {
  fc_dataset *ds = NULL;
  FC_TRY(fc_fuzz_split_dataset(&ds));
  char path[512];
  scratch_path("labels.txt", path, sizeof path);
  fc_label_split_config sc;
  fc_label_split_config_default(&sc);
  sc.labels_per_class = 1;
  fc_index_list labeled = {0}, unlabeled = {0};
  fc_status st = fc_label_split(ds, &sc, &labeled, &unlabeled);
  if (st == FC_OK) st = fc_label_split_write(path, ds, &labeled);
  if (st == FC_OK) st = emit_file(emit, user, "labels", path);
  fc_index_list_free(&labeled);
  fc_index_list_free(&unlabeled);
  fc_dataset_free(ds);
  return st;
}

fc_status fc_fuzz_seeds(const char *target, fc_seed_fn emit, void *user) {
  fc_status st;
  if (!strcmp(target, "image"))
    st = image_seeds(emit, user);
  else if (!strcmp(target, "fer2013"))
    st = fer2013_seeds(emit, user);
  else if (!strcmp(target, "rafdb"))
    st = rafdb_seeds(emit, user);
  else if (!strcmp(target, "affectnet"))
    st = affectnet_seeds(emit, user);
  else if (!strcmp(target, "safetensors"))
    st = safetensors_seeds(emit, user);
  else if (!strcmp(target, "ckpt_meta"))
    st = ckpt_meta_seeds(emit, user);
  else if (!strcmp(target, "json"))
    st = json_seeds(emit, user);
  else if (!strcmp(target, "config"))
    st = config_seeds(emit, user);
  else if (!strcmp(target, "runlog"))
    st = runlog_seeds(emit, user);
  else if (!strcmp(target, "split"))
    st = split_seeds(emit, user);
  else
    return fc_errorf(FC_ERR_NOT_FOUND, "no fuzz target named '%s'", target);
  if (scratch_dir[0]) {
    rmdir(scratch_dir);
    scratch_dir[0] = '\0';
  }
  return st;
}
