#include "op_registry.h"

#include <stddef.h>

const fc_op_test fc_op_tests[] = {
    {"relu", fc_test_relu, fc_test_relu_grad},
    {"add", fc_test_add, fc_test_add_grad},
    {"gemm", fc_test_gemm, fc_test_gemm_grad},
};
const int fc_op_test_count = (int)(sizeof fc_op_tests / sizeof fc_op_tests[0]);
