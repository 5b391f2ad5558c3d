/* Test-only fault injection, so the fault tests (tests/ssl/test_faults.c) can
 * make rare failures happen at a chosen moment of a real run.
 *
 * FERCL_TEST_FAULT="name@N[,name@N...]" arms faults; fc_fault_at(name, n) is
 * 1 when name@n was given. Unset (always, outside tests) it costs one getenv
 * per process. Faults the trainer knows:
 *   nan@S          the student's parameters turn NaN during step S (1-based)
 *   device-lost@S  from step S on, every kernel launch fails as if the device
 *                  had gone away (CL_DEVICE_NOT_AVAILABLE)
 *   step-delay-ms@M  every step takes M ms longer (so a test can signal a run
 *                  mid-way on any device)
 *   commit-delay-ms@M  atomic file writes wait M ms between writing the temp
 *                  file and renaming it (so a test can kill a save mid-way)
 *   rank-exit@S    under mpirun, the last rank dies (_exit) during step S
 *   dist-drift-rank@R  under mpirun, rank R's initial weights differ from
 *                  rank 0's (the replica check at the end must catch it) */
#ifndef FERCL_CORE_FAULT_H
#define FERCL_CORE_FAULT_H

#include <stdint.h>

int fc_fault_at(const char *name, int64_t n);
/* N of the first name@N given, or -1. */
int64_t fc_fault_value(const char *name);

/* Set by the device-lost fault; fc_launch fails while it is set. */
extern volatile int fc_fault_device_lost;

#endif
