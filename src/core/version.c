#include "fercl/fercl.h"
#include "fercl_version.h"

const char *fc_version(void) { return FERCL_VERSION; }
