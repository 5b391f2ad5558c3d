#include "op_registry.h"

#include <stddef.h>

const fc_op_test fc_op_tests[] = {
    {"relu", fc_test_relu, fc_test_relu_grad},
    {"add", fc_test_add, fc_test_add_grad},
    {"gemm", fc_test_gemm, fc_test_gemm_grad},
    /* opsb */
    {"spatial_attention", fc_test_spatial_attention, fc_test_spatial_attention_grad},
    {"rfd", fc_test_rfd, fc_test_rfd_grad},
    {"softmax", fc_test_softmax, NULL},
    {"softmax_xent", fc_test_softmax_xent, fc_test_softmax_xent_grad},
    {"nl_loss", fc_test_nl_loss, fc_test_nl_loss_grad},
    {"confidence", fc_test_confidence, NULL},
    {"snl_negatives", fc_test_snl_negatives, NULL},
    {"dta", fc_test_dta, NULL},
    {"sgd", fc_test_sgd, NULL},
    {"adam", fc_test_adam, NULL},
    {"ema", fc_test_ema, NULL},
    {"sum_gather", fc_test_sum_gather, NULL},
    /* end opsb */
};
const int fc_op_test_count = (int)(sizeof fc_op_tests / sizeof fc_op_tests[0]);
