/* fer-cl: semi-supervised facial-expression training on OpenCL devices.
 * The umbrella header of the public C API; every name has the fc_ prefix. */
#ifndef FERCL_FERCL_H
#define FERCL_FERCL_H

#include "fercl/api.h"
#include "fercl/ckpt.h"
#include "fercl/data.h"
#include "fercl/device.h"
#include "fercl/dist.h"
#include "fercl/eval.h"
#include "fercl/fileio.h"
#include "fercl/json.h"
#include "fercl/log.h"
#include "fercl/metrics.h"
#include "fercl/net.h"
#include "fercl/onnx.h"
#include "fercl/ops.h"
#include "fercl/perf.h"
#include "fercl/profile.h"
#include "fercl/safetensors.h"
#include "fercl/status.h"
#include "fercl/train.h"

#ifdef __cplusplus
extern "C" {
#endif

/* "0.1.0" */
FC_API const char *fc_version(void);

#ifdef __cplusplus
}
#endif
#endif
