/* Prepended to every fer-cl program: shared helpers and defaults.
 * Kernels are OpenCL C 1.2. Host-provided -D constants always include
 * FC_DEVICE_CPU (1 on CPU devices, 0 otherwise). */
#ifndef FC_DEVICE_CPU
#define FC_DEVICE_CPU 0
#endif
