/* C twin of fc_rng in cl/prelude.cl: Philox-4x32-10, bit-identical to the
 * device version, so references and host code draw the same numbers. */
#ifndef FERCL_OPS_REF_RNG_H
#define FERCL_OPS_REF_RNG_H

#include <stdint.h>

#define FC_RNG_STREAM_RFD 1u /* random feature-map dropout; instance = layer */
#define FC_RNG_STREAM_SNL 2u /* SNL `random` negatives */

/* counter (c0..c3), key (k0, k1) -> out[4]. */
void fc_philox(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3, uint32_t k0, uint32_t k1,
               uint32_t out[4]);
/* Uniform integer in [0, range): floor(word · range / 2^32). */
uint32_t fc_philox_below(uint32_t word, uint32_t range);
/* The stream word of the counter: kind << 24 | instance (24 bits). */
uint32_t fc_philox_stream(uint32_t kind, uint32_t instance);
/* An event of probability p happens when (word >> 8) < fc_philox_prob_threshold(p):
 * integer compare, so device and host agree exactly; p <= 0 never, p >= 1 always. */
uint32_t fc_philox_prob_threshold(float p);

#endif
