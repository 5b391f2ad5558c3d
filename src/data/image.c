/* Planar uint8 images: allocation, channel conversion and resizing. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/internal.h"

fc_status fc_image_alloc(fc_image *image, int channels, int height, int width) {
  memset(image, 0, sizeof *image);
  if (channels < 1 || channels > 4 || height < 1 || width < 1)
    return fc_errorf(FC_ERR_INVALID_ARG, "image of %d channel(s), %dx%d: sizes must be positive",
                     channels, width, height);
  if ((long long)height * width > FC_IMAGE_MAX_PIXELS)
    return fc_errorf(FC_ERR_LIMIT, "image of %dx%d pixels is above the limit of %lld pixels", width,
                     height, (long long)FC_IMAGE_MAX_PIXELS);
  image->data = calloc((size_t)channels * (size_t)height * (size_t)width, 1);
  if (!image->data)
    return fc_errorf(FC_ERR_NOMEM, "out of memory for a %dx%d image", width, height);
  image->channels = channels;
  image->height = height;
  image->width = width;
  return FC_OK;
}

void fc_image_free(fc_image *image) {
  if (!image) return;
  free(image->data);
  memset(image, 0, sizeof *image);
}

uint8_t fc_luma601(uint8_t r, uint8_t g, uint8_t b) {
  /* PIL's integer form of 0.299 R + 0.587 G + 0.114 B, rounded. */
  return (uint8_t)(((uint32_t)r * 19595u + (uint32_t)g * 38470u + (uint32_t)b * 7471u + 0x8000u) >>
                   16);
}

void fc_interleaved_to_planar(const uint8_t *src, int src_channels, size_t src_stride, int height,
                              int width, int x0, int y0, fc_image *dst) {
  const size_t plane = (size_t)height * (size_t)width;
  for (int y = 0; y < height; y++) {
    const uint8_t *row = src + (size_t)(y + y0) * src_stride + (size_t)x0 * (size_t)src_channels;
    size_t o = (size_t)y * (size_t)width;
    if (src_channels == dst->channels) {
      for (int x = 0; x < width; x++)
        for (int c = 0; c < src_channels; c++)
          dst->data[c * plane + o + (size_t)x] = row[x * src_channels + c];
    } else if (src_channels == 3 && dst->channels == 1) {
      for (int x = 0; x < width; x++)
        dst->data[o + (size_t)x] = fc_luma601(row[3 * x], row[3 * x + 1], row[3 * x + 2]);
    } else { /* gray -> RGB */
      for (int x = 0; x < width; x++) {
        uint8_t v = row[x];
        dst->data[o + (size_t)x] = v;
        dst->data[plane + o + (size_t)x] = v;
        dst->data[2 * plane + o + (size_t)x] = v;
      }
    }
  }
}

/* How one output sample along an axis is made from input samples. */
typedef struct axis_weights {
  int *first;    /* [out] first input index */
  int *count;    /* [out] number of input samples */
  float *weight; /* [out][max_count] */
  int max_count;
} axis_weights;

static void axis_free(axis_weights *a) {
  free(a->first);
  free(a->count);
  free(a->weight);
}

static fc_status axis_build(int in, int out, axis_weights *a) {
  memset(a, 0, sizeof *a);
  a->max_count = in > out ? (in + out - 1) / out + 1 : 2;
  a->first = malloc(sizeof(int) * (size_t)out);
  a->count = malloc(sizeof(int) * (size_t)out);
  a->weight = calloc((size_t)out * (size_t)a->max_count, sizeof(float));
  if (!a->first || !a->count || !a->weight) {
    axis_free(a);
    return fc_errorf(FC_ERR_NOMEM, "out of memory resizing an image");
  }
  for (int j = 0; j < out; j++) {
    float *w = a->weight + (size_t)j * (size_t)a->max_count;
    if (in == out) {
      a->first[j] = j;
      a->count[j] = 1;
      w[0] = 1.0f;
    } else if (in > out) {
      /* Area: output j covers [j*in, (j+1)*in) and input i covers
       * [i*out, (i+1)*out), both in units of 1/out input pixels; exact. */
      long long lo = (long long)j * in, hi = (long long)(j + 1) * in;
      int i0 = (int)(lo / out), i1 = (int)((hi - 1) / out);
      a->first[j] = i0;
      a->count[j] = i1 - i0 + 1;
      for (int i = i0; i <= i1; i++) {
        long long s = (long long)i * out, e = s + out;
        long long ov = (e < hi ? e : hi) - (s > lo ? s : lo);
        w[i - i0] = (float)((double)ov / (double)in);
      }
    } else {
      /* Bilinear with pixel centres aligned (align_corners = false). */
      double src = ((double)j + 0.5) * (double)in / (double)out - 0.5;
      if (src < 0) src = 0;
      if (src > in - 1) src = in - 1;
      int i0 = (int)floor(src);
      double f = src - i0;
      if (i0 >= in - 1) {
        i0 = in - 1;
        f = 0;
      }
      a->first[j] = i0;
      a->count[j] = f > 0 ? 2 : 1;
      w[0] = (float)(1.0 - f);
      w[1] = (float)f;
    }
  }
  return FC_OK;
}

static inline uint8_t round_u8(float v) {
  if (v <= 0.0f) return 0;
  if (v >= 255.0f) return 255;
  return (uint8_t)(v + 0.5f);
}

fc_status fc_image_resize(const fc_image *src, fc_image *dst) {
  if (!src || !dst || !src->data || !dst->data || src->channels != dst->channels)
    return fc_errorf(FC_ERR_INVALID_ARG,
                     "resize: source and destination must be allocated with equal channels");
  const int C = src->channels, H = src->height, W = src->width, OH = dst->height, OW = dst->width;
  if (H == OH && W == OW) {
    memcpy(dst->data, src->data, (size_t)C * (size_t)H * (size_t)W);
    return FC_OK;
  }
  axis_weights ax, ay;
  FC_TRY(axis_build(W, OW, &ax));
  fc_status st = axis_build(H, OH, &ay);
  if (st != FC_OK) {
    axis_free(&ax);
    return st;
  }
  float *tmp = malloc(sizeof(float) * (size_t)H * (size_t)OW);
  if (!tmp) {
    axis_free(&ax);
    axis_free(&ay);
    return fc_errorf(FC_ERR_NOMEM, "out of memory resizing a %dx%d image", W, H);
  }
  for (int c = 0; c < C; c++) {
    const uint8_t *in = src->data + (size_t)c * (size_t)H * (size_t)W;
    uint8_t *out = dst->data + (size_t)c * (size_t)OH * (size_t)OW;
    for (int y = 0; y < H; y++) {
      const uint8_t *row = in + (size_t)y * (size_t)W;
      float *t = tmp + (size_t)y * (size_t)OW;
      for (int j = 0; j < OW; j++) {
        const float *w = ax.weight + (size_t)j * (size_t)ax.max_count;
        const uint8_t *p = row + ax.first[j];
        float s = 0.0f;
        for (int k = 0; k < ax.count[j]; k++) s += w[k] * (float)p[k];
        t[j] = s;
      }
    }
    for (int j = 0; j < OH; j++) {
      const float *w = ay.weight + (size_t)j * (size_t)ay.max_count;
      uint8_t *o = out + (size_t)j * (size_t)OW;
      for (int x = 0; x < OW; x++) {
        float s = 0.0f;
        for (int k = 0; k < ay.count[j]; k++)
          s += w[k] * tmp[(size_t)(ay.first[j] + k) * (size_t)OW + (size_t)x];
        o[x] = round_u8(s);
      }
    }
  }
  free(tmp);
  axis_free(&ax);
  axis_free(&ay);
  return FC_OK;
}
