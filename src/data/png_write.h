/* The one PNG writer of fer-cl: synthetic sets and test fixtures
 * (fc_image_write_png) and plots (fc_canvas_write_png) go through it. */
#ifndef FERCL_DATA_PNG_WRITE_H
#define FERCL_DATA_PNG_WRITE_H

#include <stdint.h>

#include "fercl/status.h"

/* Writes height rows of width pixels, channels (1 gray, 3 RGB) interleaved
 * bytes each, rows width·channels bytes apart, as an 8-bit PNG at path,
 * atomically (fercl/fileio.h). FC_ERR_IO naming path when it cannot. */
fc_status fc_png_write(const char *path, const uint8_t *pixels, int width, int height,
                       int channels);

#endif
