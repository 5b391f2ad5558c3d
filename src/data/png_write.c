/* Writing 8-bit gray / RGB PNG files (png_write.h). */
#include "data/png_write.h"

#include <png.h>
#include <stdio.h>
#include <stdlib.h>

#include "fercl/data.h"
#include "fercl/fileio.h"
#include "fercl/log.h"

static void on_error(png_structp png, png_const_charp message) {
  snprintf(png_get_error_ptr(png), 256, "%s", message);
  png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp message) {
  (void)png;
  fc_log(FC_LOG_DEBUG, "libpng: %s", message);
}

fc_status fc_png_write(const char *path, const uint8_t *pixels, int width, int height,
                       int channels) {
  if (!pixels || (channels != 1 && channels != 3) || width < 1 || height < 1)
    return fc_errorf(FC_ERR_INVALID_ARG, "%s: only 1- or 3-channel images can be written as PNG",
                     path);
  fc_atomic_file file;
  FC_TRY(fc_atomic_file_open(&file, path));
  char message[256] = "";
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, message, on_error, on_warning);
  png_infop info = png ? png_create_info_struct(png) : NULL;
  if (!png || !info) {
    png_destroy_write_struct(&png, &info);
    fc_atomic_file_abort(&file);
    return fc_errorf(FC_ERR_NOMEM, "%s: out of memory starting the PNG encoder", path);
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    fc_atomic_file_abort(&file);
    return fc_errorf(FC_ERR_IO, "cannot write %s: %s", path, message);
  }
  png_init_io(png, file.fp);
  png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8,
               channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  const size_t stride = (size_t)width * (size_t)channels;
  for (int y = 0; y < height; y++) png_write_row(png, pixels + (size_t)y * stride);
  png_write_end(png, NULL);
  png_destroy_write_struct(&png, &info);
  return fc_atomic_file_commit(&file);
}

fc_status fc_image_write_png(const char *path, const fc_image *image) {
  if (!image || !image->data || (image->channels != 1 && image->channels != 3) ||
      image->width < 1 || image->height < 1)
    return fc_errorf(FC_ERR_INVALID_ARG, "%s: only 1- or 3-channel images can be written as PNG",
                     path);
  const int C = image->channels, H = image->height, W = image->width;
  const size_t plane = (size_t)H * (size_t)W;
  uint8_t *pixels = malloc(plane * (size_t)C);
  if (!pixels) return fc_errorf(FC_ERR_NOMEM, "%s: out of memory for the PNG rows", path);
  for (size_t i = 0; i < plane; i++) /* planar → interleaved */
    for (int c = 0; c < C; c++)
      pixels[i * (size_t)C + (size_t)c] = image->data[(size_t)c * plane + i];
  fc_status st = fc_png_write(path, pixels, W, H, C);
  free(pixels);
  return st;
}
