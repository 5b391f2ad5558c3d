/* Fuzz target: PNG / JPEG decoding with crop and resize (fc_image_decode),
 * then a second resize. The first FC_FUZZ_IMAGE_HEADER bytes choose the
 * request: channels, output size, crop box; the rest is the file. */
#include <string.h>

#include "fercl/data.h"
#include "fuzz_common.h"
#include "seeds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fc_fuzz_init();
  if (size < FC_FUZZ_IMAGE_HEADER) return 0;
  static const int channels[3] = {0, 1, 3};
  fc_decode_request rq = {0};
  rq.channels = channels[data[0] % 3];
  rq.height = data[1] % 100;
  rq.width = data[2] % 100;
  if (data[3] & 1) {
    rq.crop_x = (int8_t)data[4];
    rq.crop_y = (int8_t)data[5];
    rq.crop_w = data[6];
    rq.crop_h = data[7];
  }
  fc_image img;
  fc_image_info info;
  fc_status st = fc_image_decode(data + FC_FUZZ_IMAGE_HEADER, size - FC_FUZZ_IMAGE_HEADER, "fuzz",
                                 &rq, &img, &info);
  if (st != FC_OK) {
    FC_FUZZ_CHECK(img.data == NULL, "a failed decode left pixels behind");
    FC_FUZZ_CHECK(fc_last_error()[0] != '\0', "a failed decode without a message (%s)",
                  fc_status_name(st));
    return 0;
  }
  FC_FUZZ_CHECK(img.data != NULL, "no pixels");
  FC_FUZZ_CHECK(img.channels == (rq.channels ? rq.channels : info.channels), "channels %d",
                img.channels);
  FC_FUZZ_CHECK(info.channels == 1 || info.channels == 3, "file channels %d", info.channels);
  FC_FUZZ_CHECK(info.width >= 1 && info.height >= 1 && info.width <= FC_IMAGE_MAX_SIDE &&
                    info.height <= FC_IMAGE_MAX_SIDE,
                "file size %dx%d", info.width, info.height);
  if (rq.height)
    FC_FUZZ_CHECK(img.height == rq.height, "height %d, asked %d", img.height, rq.height);
  if (rq.width) FC_FUZZ_CHECK(img.width == rq.width, "width %d, asked %d", img.width, rq.width);
  FC_FUZZ_CHECK(img.height >= 1 && img.width >= 1 && img.height <= info.height + 99 &&
                    img.width <= info.width + 99,
                "output %dx%d from %dx%d", img.width, img.height, info.width, info.height);
  /* Touch every pixel (AddressSanitizer checks the size), then resize again. */
  size_t n = (size_t)img.channels * (size_t)img.height * (size_t)img.width;
  unsigned sum = 0;
  for (size_t i = 0; i < n; i++) sum += img.data[i];
  fc_image small;
  st = fc_image_alloc(&small, img.channels, 1 + (int)(sum % 7), 1 + (int)(data[3] >> 1) % 64);
  FC_FUZZ_CHECK(st == FC_OK, "alloc: %s", fc_last_error());
  st = fc_image_resize(&img, &small);
  FC_FUZZ_CHECK(st == FC_OK, "resize: %s", fc_last_error());
  fc_image_free(&small);
  fc_image_free(&img);
  return 0;
}
