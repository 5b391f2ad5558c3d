/* fer-cl tune (placeholder while bench is built). */
#include "cli/cli.h"
int fc_cmd_tune(int argc, char **argv) { (void)argc; (void)argv; return 0; }
