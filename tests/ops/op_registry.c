#include "op_registry.h"

#include <stddef.h>

const fc_op_test fc_op_tests[] = {
    {"relu", fc_test_relu, fc_test_relu_grad},
    {"add", fc_test_add, fc_test_add_grad},
    {"gemm", fc_test_gemm, fc_test_gemm_grad},
    /* the backbone's ops */
    {"im2col", fc_test_im2col, fc_test_im2col_grad},
    {"conv2d", fc_test_conv2d, fc_test_conv2d_grad},
    /* every GEMM engine and convolution engine `fer-cl tune` may pick */
    {"gemm_variants", fc_test_gemm_variants, NULL},
    {"conv2d_engines", fc_test_conv2d_engines, NULL},
    {"batchnorm", fc_test_batchnorm, fc_test_batchnorm_grad},
    {"batchnorm_sync", fc_test_batchnorm_sync, NULL},
    {"channel_sum", fc_test_channel_sum, NULL},
    {"maxpool2d", fc_test_maxpool2d, fc_test_maxpool2d_grad},
    {"global_avgpool", fc_test_global_avgpool, fc_test_global_avgpool_grad},
    {"linear", fc_test_linear, fc_test_linear_grad},
    {"dropout", fc_test_dropout, fc_test_dropout_grad},
    {"input_from_u8", fc_test_input_from_u8, NULL},
    {"layout_convert", fc_test_layout_convert, NULL},
    /* the method's ops */
    {"lae", fc_test_lae, fc_test_lae_grad},
    {"rfd", fc_test_rfd, fc_test_rfd_grad},
    {"softmax", fc_test_softmax, NULL},
    {"softmax_xent", fc_test_softmax_xent, fc_test_softmax_xent_grad},
    {"nl_loss", fc_test_nl_loss, fc_test_nl_loss_grad},
    {"confidence", fc_test_confidence, NULL},
    {"snl", fc_test_snl, NULL},
    {"dta", fc_test_dta, NULL},
    {"dist_align", fc_test_dist_align, NULL},
    {"sgd", fc_test_sgd, NULL},
    {"adam", fc_test_adam, NULL},
    {"ema", fc_test_ema, NULL},
    {"sum_gather", fc_test_sum_gather, NULL},
    /* picture ops (face detection and alignment) */
    {"prelu", fc_test_prelu, NULL},
    {"maxpool2d_ceil", fc_test_maxpool2d_ceil, NULL},
    {"crop_resize", fc_test_crop_resize, NULL},
    {"affine_warp", fc_test_affine_warp, NULL},
};
const int fc_op_test_count = (int)(sizeof fc_op_tests / sizeof fc_op_tests[0]);

const fc_op_perf fc_op_perfs[] = {
    {"conv2d", fc_perf_conv2d},
};
const int fc_op_perf_count = (int)(sizeof fc_op_perfs / sizeof fc_op_perfs[0]);
