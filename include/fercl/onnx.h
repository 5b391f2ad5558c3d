/* fer-cl: ONNX export of a checkpoint's network, for deployment (ONNX
 * Runtime, OpenCV's dnn module, TensorRT, ...).
 *
 * The graph (opset 17, IR version 8, one self-contained file) is the teacher
 * network at inference:
 *   input  "input"  float32 [N, C, S, S]: pixel values 0..255, gray (C = 1) or
 *                    RGB (C = 3) as the checkpoint says; N is dynamic;
 *   output "logits" float32 [N, classes] (softmax gives the probabilities).
 * The checkpoint's normalisation (v/255 − mean)/std is the graph's first two
 * nodes (Mul, Add); every BatchNorm is folded into the convolution before it
 * (inference uses fixed running statistics, so conv+BN is one affine conv:
 * fewer nodes, and what runtimes fuse anyway); local attention is
 * ReduceMean/ReduceMax → Concat → Conv → Sigmoid → Add 1 → Mul, i.e.
 * F·(1 + σ(conv[mean_c F; max_c F])); random feature-map dropout and dropout
 * are training-only and left out. metadata_props: "classes" (a JSON list in
 * output order), "input_size", "channels", "fercl_version", and the
 * architecture and normalisation for information.
 *
 * Needs no OpenCL device: the weights are read on the host. */
#ifndef FERCL_ONNX_H
#define FERCL_ONNX_H

#include <stddef.h>

#include "fercl/api.h"
#include "fercl/ckpt.h"
#include "fercl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FC_ONNX_OPSET 17
#define FC_ONNX_IR_VERSION 8

typedef struct fc_onnx_summary {
  fc_model_meta meta; /* the checkpoint's config, classes, normalisation */
  int nodes;
  int initializers;
  size_t parameters; /* floats in the initializers (after BN folding) */
  size_t bytes;      /* file size */
} fc_onnx_summary;

/* Writes the network of checkpoint_path to onnx_path (temp file + rename: on
 * failure nothing is left at onnx_path, or its previous content stays).
 * Refuses a file that is not a fer-cl checkpoint, a damaged one, and a model
 * an ONNX file cannot hold (weights over protobuf's 2 GiB limit:
 * FC_ERR_UNSUPPORTED). summary may be NULL. */
FC_API fc_status fc_onnx_export(const char *checkpoint_path, const char *onnx_path,
                                fc_onnx_summary *summary);

#ifdef __cplusplus
}
#endif
#endif
