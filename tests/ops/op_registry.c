#include "op_registry.h"

#include <stddef.h>

const fc_op_test fc_op_tests[] = {
    {"relu", fc_test_relu, fc_test_relu_grad},
    {"add", fc_test_add, fc_test_add_grad},
    {"gemm", fc_test_gemm, fc_test_gemm_grad},
    /* ---- backbone ops (opsa) ---- */
    {"im2col", fc_test_im2col, fc_test_im2col_grad},
    {"conv2d", fc_test_conv2d, fc_test_conv2d_grad},
    {"batchnorm", fc_test_batchnorm, fc_test_batchnorm_grad},
    {"channel_sum", fc_test_channel_sum, NULL},
    {"maxpool2d", fc_test_maxpool2d, fc_test_maxpool2d_grad},
    {"global_avgpool", fc_test_global_avgpool, fc_test_global_avgpool_grad},
    {"linear", fc_test_linear, fc_test_linear_grad},
    {"dropout", fc_test_dropout, fc_test_dropout_grad},
    {"input_from_u8", fc_test_input_from_u8, NULL},
    {"layout_convert", fc_test_layout_convert, NULL},
    /* ---- end of backbone ops (opsa) ---- */
};
const int fc_op_test_count = (int)(sizeof fc_op_tests / sizeof fc_op_tests[0]);
