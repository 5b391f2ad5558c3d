/* Network configuration: defaults, architectures, validation. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fercl/net.h"

typedef struct arch_entry {
  const char *name;
  int blocks[4];
} arch_entry;

static const arch_entry archs[] = {
    {"resnet10", {1, 1, 1, 1}},
    {"resnet18", {2, 2, 2, 2}},
    {"resnet34", {3, 4, 6, 3}},
};

void fc_net_config_default(fc_net_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  fc_net_config_set_arch(cfg, "resnet18");
  cfg->in_channels = 1;
  cfg->input_size = 48;
  cfg->num_classes = 7;
  cfg->width = 1.0;
  cfg->stem = FC_STEM_SMALL;
  cfg->lae3 = 1;
  cfg->lae4 = 1;
  cfg->lae_kernel = 7;
  cfg->rfd = 1;
  cfg->rfd_prob = 0.5;
  cfg->rfd_block = 0;
  cfg->dropout = 0.0;
  cfg->bn_momentum = 0.1;
  cfg->bn_eps = 1e-5;
}

fc_status fc_net_config_set_arch(fc_net_config *cfg, const char *arch) {
  for (size_t i = 0; i < sizeof archs / sizeof archs[0]; i++) {
    if (strcmp(archs[i].name, arch) == 0) {
      snprintf(cfg->arch, sizeof cfg->arch, "%s", arch);
      memcpy(cfg->blocks, archs[i].blocks, sizeof cfg->blocks);
      return FC_OK;
    }
  }
  return fc_errorf(FC_ERR_INVALID_ARG,
                   "unknown architecture '%s' (use resnet10, resnet18 or resnet34)", arch);
}

int fc_net_stage_channels(const fc_net_config *cfg, int stage) {
  int base = (int)lround(64.0 * cfg->width);
  if (base < 1) base = 1;
  return base << stage;
}

const char *fc_stem_name(fc_stem stem) { return stem == FC_STEM_SMALL ? "small" : "imagenet"; }

fc_status fc_stem_parse(const char *name, fc_stem *stem) {
  if (strcmp(name, "imagenet") == 0)
    *stem = FC_STEM_IMAGENET;
  else if (strcmp(name, "small") == 0)
    *stem = FC_STEM_SMALL;
  else
    return fc_errorf(FC_ERR_INVALID_ARG, "unknown stem '%s' (use imagenet or small)", name);
  return FC_OK;
}

fc_status fc_net_config_check(const fc_net_config *cfg) {
  int known = 0;
  for (size_t i = 0; i < sizeof archs / sizeof archs[0]; i++)
    if (strcmp(archs[i].name, cfg->arch) == 0 &&
        memcmp(archs[i].blocks, cfg->blocks, sizeof cfg->blocks) == 0)
      known = 1;
  if (!known) return fc_errorf(FC_ERR_INVALID_ARG, "network: unknown architecture '%s'", cfg->arch);
  if (cfg->in_channels != 1 && cfg->in_channels != 3)
    return fc_errorf(FC_ERR_INVALID_ARG, "network: input channels must be 1 or 3, not %d",
                     cfg->in_channels);
  if (cfg->input_size < 32 || cfg->input_size > 1024)
    return fc_errorf(FC_ERR_INVALID_ARG, "network: input size must be 32..1024, not %d",
                     cfg->input_size);
  if (cfg->num_classes < 2 || cfg->num_classes > FC_NET_MAX_CLASSES)
    return fc_errorf(FC_ERR_INVALID_ARG, "network: class count must be 2..%d, not %d",
                     FC_NET_MAX_CLASSES, cfg->num_classes);
  if (!(cfg->width >= 1.0 / 64.0 && cfg->width <= 8.0))
    return fc_errorf(FC_ERR_INVALID_ARG, "network: width multiplier must be 1/64..8, not %g",
                     cfg->width);
  if (cfg->stem != FC_STEM_IMAGENET && cfg->stem != FC_STEM_SMALL)
    return fc_errorf(FC_ERR_INVALID_ARG, "network: unknown stem %d", (int)cfg->stem);
  if ((cfg->lae3 || cfg->lae4) && cfg->lae_kernel != 3 && cfg->lae_kernel != 7)
    return fc_errorf(FC_ERR_INVALID_ARG, "network: attention kernel must be 3 or 7, not %d",
                     cfg->lae_kernel);
  if (!(cfg->rfd_prob >= 0.0 && cfg->rfd_prob <= 1.0))
    return fc_errorf(FC_ERR_INVALID_ARG, "network: RFD probability must be in [0, 1], not %g",
                     cfg->rfd_prob);
  if (cfg->rfd_block < 0 || cfg->rfd_block > 1024)
    return fc_errorf(FC_ERR_INVALID_ARG,
                     "network: RFD block must be 0 (auto) or a side length, not %d",
                     cfg->rfd_block);
  if (!(cfg->dropout >= 0.0 && cfg->dropout < 1.0))
    return fc_errorf(FC_ERR_INVALID_ARG, "network: dropout must be in [0, 1), not %g",
                     cfg->dropout);
  if (!(cfg->bn_momentum >= 0.0 && cfg->bn_momentum <= 1.0) ||
      !(cfg->bn_eps > 0.0 && cfg->bn_eps < 1.0))
    return fc_errorf(FC_ERR_INVALID_ARG,
                     "network: BN momentum must be in [0, 1] and eps in (0, 1)");
  return FC_OK;
}
