/* The MPI side of data-parallel training (dist.h). Everything else in fer-cl
 * sees only fc_dist_*; without FERCL_HAVE_MPI the world is one process. */
#include "fercl/dist.h"

#include "core/hash.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef FERCL_HAVE_MPI
#include <mpi.h>
#endif

static int world_size = 1, world_rank = 0, local_rank = 0, initialised = 0, failed_elsewhere = 0;

int fc_dist_failed_elsewhere(void) { return failed_elsewhere; }

int fc_dist_differs_from_lead(const char *message) {
  int n = fc_dist_size();
  if (n <= 1) return 0;
  uint64_t mine = fc_hash_string(FC_HASH_INIT, message ? message : ""), lead = mine;
  uint64_t all[n];
  if (fc_dist_allgather(&mine, sizeof mine, all) == FC_OK) lead = all[0];
  return mine != lead;
}

/* The rank count a launcher announced in the environment, 0 when none. */
static int launcher_size(void) {
  const char *names[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", NULL};
  for (int i = 0; names[i]; i++) {
    const char *v = getenv(names[i]);
    if (v && *v) return atoi(v) > 0 ? atoi(v) : 1;
  }
  if (getenv("PMIX_RANK") || getenv("PMI_RANK")) return 1;
  return 0;
}

int fc_dist_built_with_mpi(void) {
#ifdef FERCL_HAVE_MPI
  return 1;
#else
  return 0;
#endif
}

int fc_dist_size(void) { return world_size; }
int fc_dist_rank(void) { return world_rank; }
int fc_dist_local_rank(void) { return local_rank; }

double fc_dist_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#ifdef FERCL_HAVE_MPI

static fc_status mpi_error(int code, const char *what) {
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(code, text, &len) != MPI_SUCCESS)
    snprintf(text, sizeof text, "MPI error %d", code);
  return fc_errorf(FC_ERR_IO, "%s failed on rank %d of %d: %s", what, world_rank, world_size, text);
}

fc_status fc_dist_init(void) {
  int announced = launcher_size();
  if (announced == 0 || initialised) return FC_OK;
  int rc = MPI_Init(NULL, NULL);
  if (rc != MPI_SUCCESS)
    return fc_errorf(FC_ERR_IO, "MPI_Init failed (error %d): is mpirun working?", rc);
  initialised = 1;
  /* Errors come back as codes, so a failing call reports what it was doing
   * (and the caller then ends the whole job with fc_dist_abort). */
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_size(MPI_COMM_WORLD, &world_size);
  MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
  MPI_Comm node;
  if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, world_rank, MPI_INFO_NULL, &node) ==
      MPI_SUCCESS) {
    MPI_Comm_rank(node, &local_rank);
    MPI_Comm_free(&node);
  }
  return FC_OK;
}

void fc_dist_finalize(void) {
  if (!initialised) return;
  MPI_Finalize();
  initialised = 0;
  world_size = 1;
  world_rank = local_rank = 0;
}

_Noreturn void fc_dist_abort(int exit_code) {
  fflush(stdout);
  fflush(stderr);
  if (initialised && world_size > 1) MPI_Abort(MPI_COMM_WORLD, exit_code ? exit_code : 1);
  exit(exit_code);
}

/* MPI counts are ints: large buffers go in pieces. */
#define PIECE ((size_t)1 << 28)

static fc_status allreduce_sum(void *v, size_t n, size_t elem, MPI_Datatype type) {
  if (world_size <= 1) return FC_OK;
  for (size_t at = 0; at < n; at += PIECE) {
    size_t k = n - at < PIECE ? n - at : PIECE;
    int rc =
        MPI_Allreduce(MPI_IN_PLACE, (char *)v + at * elem, (int)k, type, MPI_SUM, MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS) return mpi_error(rc, "MPI_Allreduce");
  }
  return FC_OK;
}

fc_status fc_dist_sum_f32(float *v, size_t n) {
  return allreduce_sum(v, n, sizeof(float), MPI_FLOAT);
}
fc_status fc_dist_sum_f64(double *v, size_t n) {
  return allreduce_sum(v, n, sizeof(double), MPI_DOUBLE);
}

fc_status fc_dist_broadcast(void *buf, size_t bytes) {
  if (world_size <= 1) return FC_OK;
  for (size_t at = 0; at < bytes; at += PIECE) {
    size_t k = bytes - at < PIECE ? bytes - at : PIECE;
    int rc = MPI_Bcast((char *)buf + at, (int)k, MPI_BYTE, 0, MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS) return mpi_error(rc, "MPI_Bcast");
  }
  return FC_OK;
}

fc_status fc_dist_allgather(const void *mine, size_t bytes, void *all) {
  if (world_size <= 1) {
    memmove(all, mine, bytes);
    return FC_OK;
  }
  if (bytes > INT_MAX) return fc_errorf(FC_ERR_LIMIT, "MPI_Allgather of %zu bytes per rank", bytes);
  int rc = MPI_Allgather(mine, (int)bytes, MPI_BYTE, all, (int)bytes, MPI_BYTE, MPI_COMM_WORLD);
  return rc == MPI_SUCCESS ? FC_OK : mpi_error(rc, "MPI_Allgather");
}

fc_status fc_dist_agree(fc_status st) {
  if (world_size <= 1) return st;
  int failed = st != FC_OK, first = world_size;
  int mine = failed ? world_rank : world_size;
  int rc = MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  if (rc != MPI_SUCCESS) return mpi_error(rc, "MPI_Allreduce (agreeing on errors)");
  if (failed) return st;
  if (first < world_size) {
    failed_elsewhere = 1;
    return fc_errorf(FC_ERR_INTERNAL, "rank %d of %d failed (see its message); every rank stops",
                     first, world_size);
  }
  return FC_OK;
}

#else /* no MPI: a world of one */

fc_status fc_dist_init(void) {
  int announced = launcher_size();
  if (announced > 1)
    return fc_errorf(
        FC_ERR_UNSUPPORTED,
        "started as one of %d MPI ranks, but this fer-cl was built without MPI, so each rank would "
        "train a model of its own: install libopenmpi-dev and rebuild (meson setup --reconfigure "
        "build "
        "-Dmpi=enabled), or run fer-cl without mpirun",
        announced);
  (void)initialised;
  return FC_OK;
}

void fc_dist_finalize(void) {}

_Noreturn void fc_dist_abort(int exit_code) {
  fflush(stdout);
  fflush(stderr);
  exit(exit_code);
}

fc_status fc_dist_sum_f32(float *v, size_t n) {
  (void)v;
  (void)n;
  return FC_OK;
}

fc_status fc_dist_sum_f64(double *v, size_t n) {
  (void)v;
  (void)n;
  return FC_OK;
}

fc_status fc_dist_broadcast(void *buf, size_t bytes) {
  (void)buf;
  (void)bytes;
  return FC_OK;
}

fc_status fc_dist_allgather(const void *mine, size_t bytes, void *all) {
  memmove(all, mine, bytes);
  return FC_OK;
}

fc_status fc_dist_agree(fc_status st) {
  (void)failed_elsewhere;
  return st;
}

#endif
