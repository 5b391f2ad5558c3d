/* Data-parallel training over MPI ranks (README "Several devices"): one
 * process per device, launched by mpirun. Every MPI call of fer-cl is in
 * dist.c; built without MPI (-Dmpi=disabled, or no Open MPI found) the same
 * functions describe a world of one process: size 1, rank 0, and every
 * reduction, broadcast and gather is a copy or nothing. */
#ifndef FERCL_DIST_H
#define FERCL_DIST_H

#include <stddef.h>
#include <stdint.h>

#include "fercl/api.h"
#include "fercl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 1 when fer-cl was built with MPI. */
FC_API int fc_dist_built_with_mpi(void);
/* Initialises MPI when this process was started by mpirun (or another PMI
 * launcher: $OMPI_COMM_WORLD_SIZE, $PMI_SIZE, $PMIX_RANK); otherwise, and
 * always without MPI, the world is this process alone. Fails when a launcher
 * asked for several ranks but fer-cl has no MPI (each would train alone). */
FC_API fc_status fc_dist_init(void);
/* MPI_Finalize when fc_dist_init initialised MPI. */
FC_API void fc_dist_finalize(void);
FC_API int fc_dist_size(void);
FC_API int fc_dist_rank(void);
/* This rank's index among the ranks of its machine (picks its device). */
FC_API int fc_dist_local_rank(void);
/* Ends every rank of the job at once (MPI_Abort), or exits this process. */
FC_API _Noreturn void fc_dist_abort(int exit_code);

/* In place: v = the sum of every rank's v (MPI_Allreduce). */
FC_API fc_status fc_dist_sum_f32(float *v, size_t n);
FC_API fc_status fc_dist_sum_f64(double *v, size_t n);
/* bytes from rank 0 to every rank. */
FC_API fc_status fc_dist_broadcast(void *buf, size_t bytes);
/* all[r·bytes ..] = rank r's mine[0 .. bytes). */
FC_API fc_status fc_dist_allgather(const void *mine, size_t bytes, void *all);
/* A collective check before the next collective: returns st when this rank
 * failed, an error saying another rank failed when one did (its message is
 * printed by that rank), FC_OK when none did. */
FC_API fc_status fc_dist_agree(fc_status st);
/* 1 when the last fc_dist_agree failed because of another rank, not this one. */
FC_API int fc_dist_failed_elsewhere(void);
/* Collective (every rank calls it): 1 on a rank whose `message` differs from
 * rank 0's, so each distinct error is printed once; 0 on rank 0, with one
 * rank, or when the ranks cannot compare. */
FC_API int fc_dist_differs_from_lead(const char *message);
/* Seconds, for timing the reductions. */
FC_API double fc_dist_seconds(void);

#ifdef __cplusplus
}
#endif
#endif
