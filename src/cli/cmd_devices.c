/* fer-cl devices: the OpenCL platforms and devices, clinfo -l style. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "fercl/device.h"
#include "fercl/json.h"
#include "fercl/log.h"

static int as_json = 0;
static int skip_probe = 0;

/* Option tables and command specs keep one entry a line. */
// clang-format off
static const fc_option devices_options[] = {
    FC_OPTION_FLAG("json", &as_json, "print the same facts as JSON"),
    FC_OPTION_FLAG("no-probe", &skip_probe, "do not open devices (skips the preferred work-group multiple)"),
    {0}};

static const fc_args_spec devices_spec = {
    .command = "devices",
    .usage = "[--json]",
    .summary = "List every OpenCL platform and device with the index that --device takes.",
    .details = "A device is selected by its index (--device 1), by platform:device (--device 0:1)\n"
               "or by part of its name (--device nvidia); FERCL_DEVICE sets the default.",
    .options = devices_options,
    .global_options = fc_cli_global_options};
// clang-format on

static const char *type_name(fc_device_type t) {
  switch (t) {
  case FC_DEVICE_TYPE_CPU: return "CPU";
  case FC_DEVICE_TYPE_GPU: return "GPU";
  case FC_DEVICE_TYPE_ACCELERATOR: return "accelerator";
  default: return "other";
  }
}

static void human_bytes(unsigned long long b, char *out, size_t size) {
  if (b >= (1ull << 30))
    snprintf(out, size, "%.1f GiB", (double)b / (double)(1ull << 30));
  else if (b >= (1ull << 20))
    snprintf(out, size, "%.1f MiB", (double)b / (double)(1ull << 20));
  else
    snprintf(out, size, "%.0f KiB", (double)b / 1024.0);
}

/* The preferred work-group multiple needs a compiled kernel: open the device. */
static long long probe_wg_multiple(const fc_device_registry *reg, int index) {
  if (skip_probe) return -1;
  fc_device *dev = NULL;
  size_t m = 0;
  if (fc_device_open(reg, index, 0, &dev) != FC_OK) {
    fc_log(FC_LOG_WARN, "device %d: %s", index, fc_last_error());
    return -1;
  }
  fc_status st = fc_device_preferred_wg_multiple(dev, &m);
  if (st != FC_OK) fc_log(FC_LOG_WARN, "device %d: %s", index, fc_last_error());
  fc_device_close(dev);
  return st == FC_OK ? (long long)m : -1;
}

static void print_text(const fc_device_registry *reg, const long long *multiples, int only) {
  int n = fc_device_registry_count(reg);
  int last_platform = -1;
  for (int i = 0; i < n; i++) {
    const fc_device_info *d = fc_device_registry_info(reg, i);
    if (only >= 0 && i != only) continue;
    if (d->platform_index != last_platform) {
      printf("%sPlatform %d: %s\n", i ? "\n" : "", d->platform_index, d->platform_name);
      printf("  version: %s\n", d->platform_version);
      last_platform = d->platform_index;
    }
    int last_of_platform = only >= 0 || i + 1 == n ||
                           fc_device_registry_info(reg, i + 1)->platform_index != d->platform_index;
    const char *branch = last_of_platform ? " `--" : " +--";
    const char *rail = last_of_platform ? "    " : " |  ";
    char global[32], local[32], alloc[32];
    human_bytes(d->global_mem_bytes, global, sizeof global);
    human_bytes(d->local_mem_bytes, local, sizeof local);
    human_bytes(d->max_alloc_bytes, alloc, sizeof alloc);
    printf("%s Device %d [%d:%d]: %s\n", branch, d->index, d->platform_index, d->device_index,
           d->name);
    printf("%s     type             %s, %s\n", rail, type_name(d->type), d->vendor);
    printf("%s     version          %s; driver %s\n", rail, d->device_version, d->driver_version);
    printf("%s     OpenCL C         %s\n", rail, d->opencl_c_version);
    printf("%s     compute units    %u @ %u MHz\n", rail, d->compute_units, d->max_clock_mhz);
    printf("%s     global memory    %s (max allocation %s)\n", rail, global, alloc);
    printf("%s     local memory     %s\n", rail, local);
    printf("%s     fp16 / fp64      %s / %s\n", rail, d->has_fp16 ? "yes" : "no",
           d->has_fp64 ? "yes" : "no");
    printf("%s     float vector     %u (native width)\n", rail, d->native_float_width);
    if (multiples[i] > 0)
      printf("%s     work-group       max %zu, preferred multiple %lld\n", rail,
             d->max_work_group_size, multiples[i]);
    else
      printf("%s     work-group       max %zu\n", rail, d->max_work_group_size);
  }
  int skipped = fc_device_registry_skipped_platforms(reg);
  if (skipped)
    printf("\n(%d platform%s skipped: see the warnings above)\n", skipped, skipped == 1 ? "" : "s");
}

static void print_json(const fc_device_registry *reg, const long long *multiples, int only) {
  int n = fc_device_registry_count(reg);
  printf("{\n  \"devices\": [");
  int printed = 0;
  for (int i = 0; i < n; i++) {
    const fc_device_info *d = fc_device_registry_info(reg, i);
    if (only >= 0 && i != only) continue;
    printf(
        "%s\n    {\"index\": %d, \"platform_index\": %d, \"device_index\": %d, \"selector\": "
        "\"%d:%d\",\n",
        printed++ ? "," : "", d->index, d->platform_index, d->device_index, d->platform_index,
        d->device_index);
    printf("     \"name\": ");
    fc_json_write_string(stdout, d->name);
    printf(", \"type\": \"%s\", \"vendor\": ", type_name(d->type));
    fc_json_write_string(stdout, d->vendor);
    printf(",\n     \"platform\": ");
    fc_json_write_string(stdout, d->platform_name);
    printf(", \"platform_version\": ");
    fc_json_write_string(stdout, d->platform_version);
    printf(",\n     \"device_version\": ");
    fc_json_write_string(stdout, d->device_version);
    printf(", \"driver_version\": ");
    fc_json_write_string(stdout, d->driver_version);
    printf(", \"opencl_c_version\": ");
    fc_json_write_string(stdout, d->opencl_c_version);
    printf(
        ",\n     \"compute_units\": %u, \"max_clock_mhz\": %u, \"global_mem_bytes\": %llu, "
        "\"local_mem_bytes\": %llu, \"max_alloc_bytes\": %llu,\n",
        d->compute_units, d->max_clock_mhz, (unsigned long long)d->global_mem_bytes,
        (unsigned long long)d->local_mem_bytes, (unsigned long long)d->max_alloc_bytes);
    printf(
        "     \"fp16\": %s, \"fp64\": %s, \"native_float_width\": %u, \"max_work_group_size\": "
        "%zu, "
        "\"preferred_work_group_multiple\": ",
        d->has_fp16 ? "true" : "false", d->has_fp64 ? "true" : "false", d->native_float_width,
        d->max_work_group_size);
    if (multiples[i] > 0)
      printf("%lld}", multiples[i]);
    else
      printf("null}");
  }
  printf("\n  ],\n  \"skipped_platforms\": %d\n}\n", fc_device_registry_skipped_platforms(reg));
}

int fc_cmd_devices(int argc, char **argv) {
  int rc = fc_cli_parse_no_args(&devices_spec, argc, argv, NULL);
  if (rc >= 0) return rc;
  fc_device_registry *reg = NULL;
  fc_status st = fc_device_registry_create(&reg);
  if (st != FC_OK) return fc_cli_fail(st);
  int n = fc_device_registry_count(reg);
  int only = -1; /* an explicit --device shows that device alone */
  if (fc_cli.device) {
    st = fc_device_registry_select(reg, fc_cli.device, &only);
    if (st != FC_OK) {
      fc_device_registry_free(reg);
      return fc_cli_fail(st);
    }
  }
  long long multiples[n > 0 ? n : 1];
  for (int i = 0; i < n; i++)
    multiples[i] = (only < 0 || only == i) ? probe_wg_multiple(reg, i) : -1;
  if (as_json)
    print_json(reg, multiples, only);
  else
    print_text(reg, multiples, only);
  fc_device_registry_free(reg);
  return 0;
}
