#include "fixtures.h"

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <png.h>

#include "fercl/fileio.h"
#include "testutil.h"

int fx_png_interlace = 0;

void fx_write_png(const char *path, int width, int height, int color_type, int depth,
                  const uint16_t *samples, const uint8_t *palette, int n_palette) {
  FILE *fp = fopen(path, "wb");
  ck_assert_msg(fp != NULL, "cannot write %s", path);
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png_create_info_struct(png);
  ck_assert(png && info);
  if (setjmp(png_jmpbuf(png))) ck_abort_msg("libpng failed writing %s", path);
  png_init_io(png, fp);
  png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, depth, color_type,
               fx_png_interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (color_type == FX_PALETTE) {
    png_color pal[256];
    for (int i = 0; i < n_palette; i++) {
      pal[i].red = palette[3 * i];
      pal[i].green = palette[3 * i + 1];
      pal[i].blue = palette[3 * i + 2];
    }
    png_set_PLTE(png, info, pal, n_palette);
  }
  png_write_info(png, info);
  int ch = color_type == FX_GRAY || color_type == FX_PALETTE ? 1
           : color_type == FX_GRAY_ALPHA                     ? 2
           : color_type == FX_RGB                            ? 3
                                                             : 4;
  int bytes = depth == 16 ? 2 : 1;
  uint8_t *row = malloc((size_t)width * ch * bytes);
  int passes = png_set_interlace_handling(png);
  for (int pass = 0; pass < passes; pass++)
    for (int y = 0; y < height; y++) {
      for (int i = 0; i < width * ch; i++) {
        uint16_t v = samples[(size_t)y * width * ch + i];
        if (bytes == 2) {
          row[2 * i] = (uint8_t)(v >> 8);
          row[2 * i + 1] = (uint8_t)(v & 0xff);
        } else {
          row[i] = (uint8_t)v;
        }
      }
      png_write_row(png, row);
    }
  png_write_end(png, NULL);
  png_destroy_write_struct(&png, &info);
  free(row);
  fclose(fp);
}

uint8_t *fx_jpeg_bytes(int width, int height, int channels, const uint8_t *pixels, int quality,
                       size_t *size) {
  struct jpeg_compress_struct c;
  struct jpeg_error_mgr err;
  c.err = jpeg_std_error(&err);
  jpeg_create_compress(&c);
  unsigned char *buf = NULL;
  unsigned long len = 0;
  jpeg_mem_dest(&c, &buf, &len);
  c.image_width = (JDIMENSION)width;
  c.image_height = (JDIMENSION)height;
  c.input_components = channels;
  c.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, quality, TRUE);
  jpeg_start_compress(&c, TRUE);
  while (c.next_scanline < c.image_height) {
    JSAMPROW r = (JSAMPROW)(pixels + (size_t)c.next_scanline * width * channels);
    jpeg_write_scanlines(&c, &r, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  uint8_t *out = malloc(len);
  memcpy(out, buf, len);
  free(buf);
  *size = len;
  return out;
}

void fx_write_bytes(const char *path, const void *data, size_t size) {
  FILE *fp = fopen(path, "wb");
  ck_assert_msg(fp != NULL, "cannot write %s", path);
  ck_assert(fwrite(data, 1, size, fp) == size);
  fclose(fp);
}

void fx_write_jpeg(const char *path, int width, int height, int channels, const uint8_t *pixels,
                   int quality) {
  size_t n = 0;
  uint8_t *b = fx_jpeg_bytes(width, height, channels, pixels, quality, &n);
  fx_write_bytes(path, b, n);
  free(b);
}

void fx_write_text(const char *path, const char *text) { fx_write_bytes(path, text, strlen(text)); }

void fx_mkdirs(const char *fmt, ...) {
  char path[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(path, sizeof path, fmt, ap);
  va_end(ap);
  fc_status st = fc_mkdir_p(path);
  ck_assert_msg(st == FC_OK, "mkdir %s: %s", path, fc_last_error());
}

const char *fx_dir(const char *name) {
  static char buf[8][1024];
  static int k = 0;
  char *p = buf[k++ % 8];
  snprintf(p, 1024, "%s/%s", fc_test_temp_dir(), name);
  fx_mkdirs("%s", p);
  return p;
}

uint8_t fx_pattern(int x, int y, int seed) {
  return (uint8_t)((x * 37 + y * 11 + seed * 53) & 0xff);
}
