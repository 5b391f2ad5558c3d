/* PNG and JPEG decoding into planar uint8 images. Neither library may exit
 * or print: both report through handlers that longjmp back here. */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jerror.h>
#include <jpeglib.h>
#include <png.h>

#include "data/internal.h"
#include "fercl/fileio.h"

/* The decoded file before conversion: interleaved 8-bit gray or RGB. */
typedef struct raw_image {
  uint8_t *pixels;
  size_t stride;
  int channels; /* 1 or 3 */
  int width, height;
} raw_image;

static fc_status check_dimensions(const char *name, const char *what, long long w, long long h) {
  if (w < 1 || h < 1)
    return fc_errorf(FC_ERR_FORMAT, "%s: %s header claims an empty image (%lldx%lld)", name, what,
                     w, h);
  if (w > FC_IMAGE_MAX_SIDE || h > FC_IMAGE_MAX_SIDE || w * h > FC_IMAGE_MAX_PIXELS)
    return fc_errorf(
        FC_ERR_LIMIT,
        "%s: %s header claims %lldx%lld pixels, above the limit (%d per side, %lld in all); "
        "the file is corrupt or not a face image",
        name, what, w, h, FC_IMAGE_MAX_SIDE, (long long)FC_IMAGE_MAX_PIXELS);
  return FC_OK;
}

/* ---- PNG ---------------------------------------------------------------- */

typedef struct png_context {
  const uint8_t *data;
  size_t size, pos;
  char message[256];
  /* Allocations live here (not in locals) so they survive the longjmp. */
  uint8_t *pixels;
  png_bytep *rows;
} png_context;

static void png_fail(png_structp png, png_const_charp msg) {
  png_context *ctx = png_get_error_ptr(png);
  snprintf(ctx->message, sizeof ctx->message, "%s", msg);
  png_longjmp(png, 1);
}

static void png_warn(png_structp png, png_const_charp msg) {
  (void)png;
  (void)msg; /* benign (unknown chunks, sRGB profile quirks): PIL ignores them too */
}

static void png_read_memory(png_structp png, png_bytep out, size_t n) {
  png_context *ctx = png_get_io_ptr(png);
  if (n > ctx->size - ctx->pos) png_error(png, "file is truncated");
  memcpy(out, ctx->data + ctx->pos, n);
  ctx->pos += n;
}

static fc_status decode_png(const uint8_t *bytes, size_t size, const char *name, raw_image *out,
                            fc_image_info *info) {
  /* The IHDR chunk comes first: refuse absurd sizes before libpng reads on. */
  if (size >= 24 && !memcmp(bytes + 12, "IHDR", 4)) {
    uint32_t w = (uint32_t)bytes[16] << 24 | (uint32_t)bytes[17] << 16 | (uint32_t)bytes[18] << 8 |
                 bytes[19];
    uint32_t h = (uint32_t)bytes[20] << 24 | (uint32_t)bytes[21] << 16 | (uint32_t)bytes[22] << 8 |
                 bytes[23];
    FC_TRY(check_dimensions(name, "PNG", (long long)w, (long long)h));
  }
  png_context ctx;
  memset(&ctx, 0, sizeof ctx);
  ctx.data = bytes;
  ctx.size = size;
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &ctx, png_fail, png_warn);
  if (!png) return fc_errorf(FC_ERR_NOMEM, "%s: out of memory starting the PNG decoder", name);
  png_infop pinfo = png_create_info_struct(png);
  if (!pinfo) {
    png_destroy_read_struct(&png, NULL, NULL);
    return fc_errorf(FC_ERR_NOMEM, "%s: out of memory starting the PNG decoder", name);
  }
  fc_status st = FC_OK;
  if (setjmp(png_jmpbuf(png))) {
    free(ctx.pixels);
    free(ctx.rows);
    png_destroy_read_struct(&png, &pinfo, NULL);
    return fc_errorf(FC_ERR_FORMAT, "%s: corrupt PNG: %s", name,
                     ctx.message[0] ? ctx.message : "decoder error");
  }
  png_set_read_fn(png, &ctx, png_read_memory);
  /* Chunks the decode does not use are skipped unread, and no chunk may make
   * libpng allocate more than the file could hold (a 100-byte file claiming a
   * 2 GB tEXt chunk made it try). */
  static const png_byte ignored[] =
      "tEXt\0zTXt\0iTXt\0iCCP\0sPLT\0eXIf\0pCAL\0sCAL\0hIST\0tIME\0pHYs\0oFFs\0"
      "sBIT\0sRGB\0cHRM\0gAMA\0bKGD\0";
  png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, ignored, (int)(sizeof ignored / 5));
  png_set_chunk_malloc_max(png, size + 4096 < ((size_t)8 << 20) ? size + 4096 : ((size_t)8 << 20));
  png_read_info(png, pinfo);
  png_uint_32 w = png_get_image_width(png, pinfo), h = png_get_image_height(png, pinfo);
  st = check_dimensions(name, "PNG", (long long)w, (long long)h);
  if (st != FC_OK) {
    png_destroy_read_struct(&png, &pinfo, NULL);
    return st;
  }
  int color = png_get_color_type(png, pinfo);
  int depth = png_get_bit_depth(png, pinfo);
  info->width = (int)w;
  info->height = (int)h;
  info->bit_depth = depth;
  info->channels = (color & PNG_COLOR_MASK_COLOR) ? 3 : 1;
  info->has_alpha = (color & PNG_COLOR_MASK_ALPHA) || png_get_valid(png, pinfo, PNG_INFO_tRNS);
  info->format = "png";
  png_set_expand(png); /* palette -> RGB, 1/2/4-bit gray -> 8-bit, tRNS -> alpha */
  png_set_scale_16(png);
  png_set_strip_alpha(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, pinfo);
  int channels = png_get_channels(png, pinfo);
  size_t rowbytes = png_get_rowbytes(png, pinfo);
  if ((channels != 1 && channels != 3) || rowbytes != (size_t)channels * w) {
    png_destroy_read_struct(&png, &pinfo, NULL);
    return fc_errorf(FC_ERR_INTERNAL, "%s: PNG decoder produced %d channels, %zu bytes per row",
                     name, channels, rowbytes);
  }
  ctx.pixels = malloc(rowbytes * h);
  ctx.rows = malloc(sizeof(png_bytep) * h);
  if (!ctx.pixels || !ctx.rows) {
    free(ctx.pixels);
    free(ctx.rows);
    png_destroy_read_struct(&png, &pinfo, NULL);
    return fc_errorf(FC_ERR_NOMEM, "%s: out of memory for %ux%u pixels", name, (unsigned)w,
                     (unsigned)h);
  }
  for (png_uint_32 y = 0; y < h; y++) ctx.rows[y] = ctx.pixels + (size_t)y * rowbytes;
  png_read_image(png, ctx.rows);
  png_read_end(png, NULL);
  free(ctx.rows);
  png_destroy_read_struct(&png, &pinfo, NULL);
  out->pixels = ctx.pixels;
  out->stride = rowbytes;
  out->channels = channels;
  out->width = (int)w;
  out->height = (int)h;
  return FC_OK;
}

/* ---- JPEG --------------------------------------------------------------- */

typedef struct jpeg_context {
  struct jpeg_error_mgr pub; /* first: libjpeg casts cinfo->err to this */
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX + 64];
  uint8_t *pixels;
  uint8_t *cmyk_row;
} jpeg_context;

static void jpeg_fail(j_common_ptr cinfo) {
  jpeg_context *ctx = (jpeg_context *)cinfo->err;
  (*cinfo->err->format_message)(cinfo, ctx->message);
  longjmp(ctx->jump, 1);
}

static void jpeg_message(j_common_ptr cinfo, int level) {
  jpeg_context *ctx = (jpeg_context *)cinfo->err;
  if (level >= 0) return; /* trace messages */
  cinfo->err->num_warnings++;
  /* A file that ends early decodes as grey filler: treat it as corrupt, as
   * PIL does ("image file is truncated"). Other warnings (extraneous bytes)
   * are common in real collections and harmless. */
  if (cinfo->err->msg_code == JWRN_JPEG_EOF) {
    snprintf(ctx->message, sizeof ctx->message, "file is truncated (premature end of JPEG data)");
    longjmp(ctx->jump, 1);
  }
}

static fc_status decode_jpeg(const uint8_t *bytes, const size_t size, const char *name,
                             int want_channels, int scale_h, int scale_w, raw_image *out,
                             fc_image_info *info) {
  struct jpeg_decompress_struct cinfo;
  jpeg_context ctx;
  memset(&ctx, 0, sizeof ctx);
  cinfo.err = jpeg_std_error(&ctx.pub);
  ctx.pub.error_exit = jpeg_fail;
  ctx.pub.emit_message = jpeg_message;
  if (setjmp(ctx.jump)) {
    free(ctx.pixels);
    free(ctx.cmyk_row);
    jpeg_destroy_decompress(&cinfo);
    return fc_errorf(FC_ERR_FORMAT, "%s: corrupt JPEG: %s", name, ctx.message);
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, bytes,
               (unsigned long)size); /* size <= FC_IMAGE_MAX_FILE_BYTES in practice */
  jpeg_read_header(&cinfo, TRUE);
  fc_status st =
      check_dimensions(name, "JPEG", (long long)cinfo.image_width, (long long)cinfo.image_height);
  if (st != FC_OK) {
    jpeg_destroy_decompress(&cinfo);
    return st;
  }
  int comps = cinfo.num_components;
  info->width = (int)cinfo.image_width;
  info->height = (int)cinfo.image_height;
  info->bit_depth = 8;
  info->channels = comps == 1 ? 1 : 3;
  info->has_alpha = 0;
  info->format = "jpeg";
  int cmyk = 0;
  if (comps == 1) {
    cinfo.out_color_space = JCS_GRAYSCALE;
  } else if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
    cinfo.out_color_space = JCS_CMYK;
    cmyk = 1;
  } else if (want_channels == 1 && cinfo.jpeg_color_space == JCS_YCbCr) {
    cinfo.out_color_space = JCS_GRAYSCALE; /* Y is the ITU-R 601 luma already */
  } else {
    cinfo.out_color_space = JCS_RGB;
  }
  if (scale_h > 0 && scale_w > 0) {
    /* Let the IDCT shrink large images (s/8) as long as the result stays
     * at least as large as the target; the area resize does the rest. */
    for (unsigned s = 1; s <= 8; s++) {
      if ((cinfo.image_width * s + 7) / 8 >= (unsigned)scale_w &&
          (cinfo.image_height * s + 7) / 8 >= (unsigned)scale_h) {
        cinfo.scale_num = s;
        cinfo.scale_denom = 8;
        break;
      }
    }
  }
  jpeg_start_decompress(&cinfo);
  int ow = (int)cinfo.output_width, oh = (int)cinfo.output_height;
  int oc = cmyk ? 3 : cinfo.output_components;
  size_t stride = (size_t)ow * (size_t)oc;
  ctx.pixels = malloc(stride * (size_t)oh);
  if (cmyk) ctx.cmyk_row = malloc((size_t)ow * 4);
  if (!ctx.pixels || (cmyk && !ctx.cmyk_row)) {
    snprintf(ctx.message, sizeof ctx.message, "out of memory for %dx%d pixels", ow, oh);
    free(ctx.pixels);
    free(ctx.cmyk_row);
    jpeg_destroy_decompress(&cinfo);
    return fc_errorf(FC_ERR_NOMEM, "%s: %s", name, ctx.message);
  }
  while (cinfo.output_scanline < cinfo.output_height) {
    uint8_t *row = ctx.pixels + (size_t)cinfo.output_scanline * stride;
    JSAMPROW rp = cmyk ? ctx.cmyk_row : row;
    jpeg_read_scanlines(&cinfo, &rp, 1);
    if (cmyk) {
      /* Adobe writes inverted CMYK: value = C * K / 255 gives RGB. */
      int inverted = cinfo.saw_Adobe_marker;
      for (int x = 0; x < ow; x++) {
        int k = ctx.cmyk_row[4 * x + 3];
        for (int c = 0; c < 3; c++) {
          int v = ctx.cmyk_row[4 * x + c];
          row[3 * x + c] = inverted ? (uint8_t)((v * k + 127) / 255)
                                    : (uint8_t)(((255 - v) * (255 - k) + 127) / 255);
        }
      }
    }
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  free(ctx.cmyk_row);
  out->pixels = ctx.pixels;
  out->stride = stride;
  out->channels = oc;
  out->width = ow;
  out->height = oh;
  return FC_OK;
}

/* ---- common ------------------------------------------------------------- */

fc_status fc_image_decode(const void *bytes, size_t size, const char *name,
                          const fc_decode_request *request, fc_image *out, fc_image_info *info) {
  static const fc_decode_request none = {0};
  const uint8_t *b = bytes;
  fc_image_info local_info;
  if (!info) info = &local_info;
  memset(info, 0, sizeof *info);
  memset(out, 0, sizeof *out);
  if (!request) request = &none;
  if (!name) name = "image";
  if (request->channels != 0 && request->channels != 1 && request->channels != 3)
    return fc_errorf(FC_ERR_INVALID_ARG, "%s: %d channels requested; use 1 (gray) or 3 (RGB)", name,
                     request->channels);
  if (request->height < 0 || request->width < 0 || request->height > FC_IMAGE_MAX_SIDE ||
      request->width > FC_IMAGE_MAX_SIDE)
    return fc_errorf(FC_ERR_INVALID_ARG, "%s: output size %dx%d is out of range", name,
                     request->width, request->height);
  raw_image raw = {0};
  int cropping = request->crop_w > 0 && request->crop_h > 0;
  if (size >= 8 && !memcmp(b, "\x89PNG\r\n\x1a\n", 8)) {
    FC_TRY(decode_png(b, size, name, &raw, info));
  } else if (size >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) {
    FC_TRY(decode_jpeg(b, size, name, request->channels, cropping ? 0 : request->height,
                       cropping ? 0 : request->width, &raw, info));
  } else {
    return fc_errorf(FC_ERR_FORMAT, "%s: not a PNG or JPEG file (%s)", name,
                     size == 0 ? "the file is empty" : "unknown signature");
  }
  /* Crop (clipped; an empty intersection keeps the whole image). */
  int x0 = 0, y0 = 0, cw = raw.width, ch = raw.height;
  if (cropping) {
    int ax = request->crop_x < 0 ? 0 : request->crop_x,
        ay = request->crop_y < 0 ? 0 : request->crop_y;
    long long bx = (long long)request->crop_x + request->crop_w,
              by = (long long)request->crop_y + request->crop_h;
    if (bx > raw.width) bx = raw.width;
    if (by > raw.height) by = raw.height;
    if (bx - ax >= 1 && by - ay >= 1) {
      x0 = ax;
      y0 = ay;
      cw = (int)(bx - ax);
      ch = (int)(by - ay);
    }
  }
  int want_c = request->channels ? request->channels : info->channels;
  int oh = request->height ? request->height : ch, ow = request->width ? request->width : cw;
  fc_image planar;
  fc_status st = fc_image_alloc(&planar, want_c, ch, cw);
  if (st == FC_OK) {
    fc_interleaved_to_planar(raw.pixels, raw.channels, raw.stride, ch, cw, x0, y0, &planar);
    if (oh == ch && ow == cw) {
      *out = planar;
    } else {
      st = fc_image_alloc(out, want_c, oh, ow);
      if (st == FC_OK) st = fc_image_resize(&planar, out);
      fc_image_free(&planar);
      if (st != FC_OK) fc_image_free(out);
    }
  }
  free(raw.pixels);
  if (st != FC_OK) return fc_error_context(st, "%s", name);
  return FC_OK;
}

fc_status fc_image_load(const char *path, const fc_decode_request *request, fc_image *out,
                        fc_image_info *info) {
  char *bytes = NULL;
  size_t size = 0;
  memset(out, 0, sizeof *out);
  FC_TRY(fc_file_read_all(path, FC_IMAGE_MAX_FILE_BYTES, &bytes, &size));
  fc_status st = fc_image_decode(bytes, size, path, request, out, info);
  free(bytes);
  return st;
}
