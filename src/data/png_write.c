/* Writing 8-bit gray / RGB PNG files (synthetic sets, test fixtures). */
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/internal.h"
#include "fercl/fileio.h"

typedef struct png_write_context {
  char message[256];
  uint8_t *row;
} png_write_context;

static void png_write_fail(png_structp png, png_const_charp msg) {
  png_write_context *ctx = png_get_error_ptr(png);
  snprintf(ctx->message, sizeof ctx->message, "%s", msg);
  png_longjmp(png, 1);
}

static void png_write_warn(png_structp png, png_const_charp msg) {
  (void)png;
  (void)msg;
}

fc_status fc_image_write_png(const char *path, const fc_image *image) {
  if (!image || !image->data || (image->channels != 1 && image->channels != 3) || image->width < 1 ||
      image->height < 1)
    return fc_errorf(FC_ERR_INVALID_ARG, "%s: only 1- or 3-channel images can be written as PNG", path);
  fc_atomic_file file;
  FC_TRY(fc_atomic_file_open(&file, path));
  png_write_context ctx;
  memset(&ctx, 0, sizeof ctx);
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &ctx, png_write_fail, png_write_warn);
  png_infop info = png ? png_create_info_struct(png) : NULL;
  if (!png || !info) {
    png_destroy_write_struct(&png, &info);
    fc_atomic_file_abort(&file);
    return fc_errorf(FC_ERR_NOMEM, "%s: out of memory starting the PNG encoder", path);
  }
  if (setjmp(png_jmpbuf(png))) {
    free(ctx.row);
    png_destroy_write_struct(&png, &info);
    fc_atomic_file_abort(&file);
    return fc_errorf(FC_ERR_IO, "cannot write %s: %s", path, ctx.message);
  }
  const int C = image->channels, H = image->height, W = image->width;
  png_init_io(png, file.fp);
  png_set_IHDR(png, info, (png_uint_32)W, (png_uint_32)H, 8, C == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  ctx.row = malloc((size_t)W * (size_t)C);
  if (!ctx.row) png_error(png, "out of memory");
  const size_t plane = (size_t)H * (size_t)W;
  for (int y = 0; y < H; y++) {
    for (int x = 0; x < W; x++)
      for (int c = 0; c < C; c++) ctx.row[x * C + c] = image->data[(size_t)c * plane + (size_t)y * (size_t)W + (size_t)x];
    png_write_row(png, ctx.row);
  }
  png_write_end(png, NULL);
  free(ctx.row);
  png_destroy_write_struct(&png, &info);
  return fc_atomic_file_commit(&file);
}
