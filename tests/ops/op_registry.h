/* Every op's test, so one program (test_ops) runs them all and `-o NAME`
 * runs one. Add a line to op_registry.c for each new op. */
#ifndef FERCL_TESTS_OPS_REGISTRY_H
#define FERCL_TESTS_OPS_REGISTRY_H

#include "fercl/device.h"

typedef void (*fc_op_test_fn)(fc_device *dev);

typedef struct fc_op_test {
  const char *name;   /* the op's name, as in include/fercl/ops.h */
  fc_op_test_fn run;  /* device vs reference on awkward shapes, guard bands */
  fc_op_test_fn grad; /* finite differences on the reference backward; NULL if no backward */
} fc_op_test;

extern const fc_op_test fc_op_tests[];
extern const int fc_op_test_count;

/* test_ops --perf: the ops with a perf runner (perf_ops.c), timing their
 * declarative cases (op_cases.c) and the model's shapes. */
typedef struct fc_op_perf {
  const char *name; /* as in fc_op_tests */
  fc_op_test_fn run;
} fc_op_perf;

extern const fc_op_perf fc_op_perfs[];
extern const int fc_op_perf_count;

/* Test functions, one pair per op (defined in tests/ops/test_<family>.c). */
void fc_test_relu(fc_device *dev);
void fc_test_relu_grad(fc_device *dev);
void fc_test_add(fc_device *dev);
void fc_test_add_grad(fc_device *dev);
void fc_test_gemm(fc_device *dev);
void fc_test_gemm_grad(fc_device *dev);
/* GEMM engines and kernel variants (tests/ops/test_gemm_variants.c) */
void fc_test_gemm_variants(fc_device *dev);
void fc_test_conv2d_engines(fc_device *dev);

/* the backbone's ops */
void fc_test_im2col(fc_device *dev);
void fc_test_im2col_grad(fc_device *dev);
void fc_test_conv2d(fc_device *dev);
void fc_test_conv2d_grad(fc_device *dev);
void fc_perf_conv2d(fc_device *dev);
void fc_test_batchnorm(fc_device *dev);
void fc_test_batchnorm_grad(fc_device *dev);
void fc_test_batchnorm_sync(fc_device *dev);
void fc_test_channel_sum(fc_device *dev);
void fc_test_maxpool2d(fc_device *dev);
void fc_test_maxpool2d_grad(fc_device *dev);
void fc_test_global_avgpool(fc_device *dev);
void fc_test_global_avgpool_grad(fc_device *dev);
void fc_test_linear(fc_device *dev);
void fc_test_linear_grad(fc_device *dev);
void fc_test_dropout(fc_device *dev);
void fc_test_dropout_grad(fc_device *dev);
void fc_test_input_from_u8(fc_device *dev);
void fc_test_layout_convert(fc_device *dev);
/* the method's ops: LAE, RFD, losses, DTA, SNL, optimizers, reductions */
void fc_test_lae(fc_device *dev);
void fc_test_lae_grad(fc_device *dev);
void fc_test_rfd(fc_device *dev);
void fc_test_rfd_grad(fc_device *dev);
void fc_test_softmax(fc_device *dev);
void fc_test_softmax_xent(fc_device *dev);
void fc_test_softmax_xent_grad(fc_device *dev);
void fc_test_nl_loss(fc_device *dev);
void fc_test_nl_loss_grad(fc_device *dev);
void fc_test_confidence(fc_device *dev);
void fc_test_snl(fc_device *dev);
void fc_test_dta(fc_device *dev);
void fc_test_dist_align(fc_device *dev);
void fc_test_sgd(fc_device *dev);
void fc_test_adam(fc_device *dev);
void fc_test_ema(fc_device *dev);
void fc_test_sum_gather(fc_device *dev);
/* picture ops (tests/ops/test_vision.c) */
void fc_test_prelu(fc_device *dev);
void fc_test_maxpool2d_ceil(fc_device *dev);
void fc_test_crop_resize(fc_device *dev);
void fc_test_affine_warp(fc_device *dev);

#endif
