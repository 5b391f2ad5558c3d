/* Seed inputs for the fuzz targets in tests/fuzz: small valid files of every
 * format fer-cl reads, generated in memory (no binary corpus is committed).
 * tools/fuzz/make_corpus writes them out for libFuzzer; the replay tests feed
 * them (and mutations of them) to the targets directly. */
#ifndef FERCL_TOOLS_FUZZ_SEEDS_H
#define FERCL_TOOLS_FUZZ_SEEDS_H

#include <stddef.h>
#include <stdint.h>

#include "fercl/data.h"
#include "fercl/status.h"

/* The targets, NULL-terminated: "image", "fer2013", "rafdb", "affectnet",
 * "safetensors", "ckpt_meta", "json", "config", "runlog", "split". */
extern const char *const fc_fuzz_targets[];

typedef void (*fc_seed_fn)(const char *name, const uint8_t *data, size_t size, void *user);

/* Calls emit once per seed of target. FC_ERR_NOT_FOUND for an unknown target. */
fc_status fc_fuzz_seeds(const char *target, fc_seed_fn emit, void *user);

/* The image target reads this many leading bytes as the decode request
 * (channels, output size, crop box); the file follows. */
#define FC_FUZZ_IMAGE_HEADER 8

/* The dataset the "split" target checks labels.txt files against: 21 tiny
 * synthetic faces (3 per class, training split only). */
fc_status fc_fuzz_split_dataset(fc_dataset **out);

#endif
