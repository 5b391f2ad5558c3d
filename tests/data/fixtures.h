/* Test fixtures written by the tests themselves: PNG of every colour type
 * and depth, JPEG, text files, folders. */
#ifndef FERCL_TESTS_DATA_FIXTURES_H
#define FERCL_TESTS_DATA_FIXTURES_H

#include <stddef.h>
#include <stdint.h>

/* PNG colour types as libpng numbers them. */
enum { FX_GRAY = 0, FX_RGB = 2, FX_PALETTE = 3, FX_GRAY_ALPHA = 4, FX_RGBA = 6 };

/* Writes a PNG. samples: interleaved, height*width*channels values, each
 * 8-bit or (depth 16) 16-bit big values given as uint16_t; for FX_PALETTE,
 * samples are palette indices and palette holds n_palette RGB triples. */
/* Non-zero: fx_write_png writes Adam7-interlaced files. */
extern int fx_png_interlace;
void fx_write_png(const char *path, int width, int height, int color_type, int depth,
                  const uint16_t *samples, const uint8_t *palette, int n_palette);
/* Writes a baseline JPEG (channels 1 or 3, interleaved 8-bit) at quality q. */
void fx_write_jpeg(const char *path, int width, int height, int channels, const uint8_t *pixels,
                   int quality);
/* A JPEG in memory (malloc'd), for truncation tests. */
uint8_t *fx_jpeg_bytes(int width, int height, int channels, const uint8_t *pixels, int quality,
                       size_t *size);
void fx_write_bytes(const char *path, const void *data, size_t size);
void fx_write_text(const char *path, const char *text);
/* mkdir -p of a path formed like printf. */
void fx_mkdirs(const char *fmt, ...);
/* A folder of its own under the test's temp dir ("<tmp>/<name>"). */
const char *fx_dir(const char *name);
/* A simple gray test pattern value for (x, y, seed). */
uint8_t fx_pattern(int x, int y, int seed);

#endif
