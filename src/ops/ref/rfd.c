/* Reference random feature-map dropout (RFD), drawing with the C twin of fc_rng. */
#include "ops/ref/ref.h"
#include "ops/ref/rng.h"

static int clip(int block, int size) { return block < size ? block : size; }

void fc_ref_rfd_draw(fc_shape4 s, int block, float p, uint64_t seed, uint64_t step, uint32_t layer,
                     int32_t *params) {
  const uint32_t bh = (uint32_t)clip(block, s.h), bw = (uint32_t)clip(block, s.w);
  const uint32_t threshold = fc_philox_prob_threshold(p);
  for (int n = 0; n < s.n; n++) {
    uint32_t r[4];
    fc_philox((uint32_t)n, (uint32_t)step, (uint32_t)(step >> 32),
              fc_philox_stream(FC_RNG_STREAM_RFD, layer), (uint32_t)seed, (uint32_t)(seed >> 32),
              r);
    params[4 * n] = (r[0] >> 8) < threshold && bh * bw < (uint32_t)(s.h * s.w);
    params[4 * n + 1] = (int32_t)fc_philox_below(r[1], (uint32_t)s.h - bh + 1);
    params[4 * n + 2] = (int32_t)fc_philox_below(r[2], (uint32_t)s.w - bw + 1);
    params[4 * n + 3] = 0;
  }
}

void fc_ref_rfd_apply(fc_shape4 s, int block, const int32_t *params, const double *src,
                      double *dst) {
  const int bh = clip(block, s.h), bw = clip(block, s.w);
  const double hw = (double)s.h * s.w, scale = hw / (hw - (double)bh * bw);
  for (int n = 0; n < s.n; n++) {
    const int32_t *prm = params + 4 * n;
    for (int c = 0; c < s.c; c++)
      for (int y = 0; y < s.h; y++)
        for (int x = 0; x < s.w; x++) {
          size_t e = (size_t)n * fc_shape4_stride_n(s) + (size_t)c * fc_shape4_stride_c(s) +
                     (size_t)y * s.w + x;
          if (!prm[0]) {
            dst[e] = src[e];
          } else {
            int inside = y >= prm[1] && y < prm[1] + bh && x >= prm[2] && x < prm[2] + bw;
            dst[e] = inside ? 0.0 : src[e] * scale;
          }
        }
  }
}
