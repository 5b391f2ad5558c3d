/* Kernel profiles: launch records → CSV, Chrome trace and a text summary. */
#include "fercl/profile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "device/runtime.h"
#include "fercl/fileio.h"

typedef struct prof_row {
  int64_t step;
  const char *tag, *kernel, *layer;
  int backward;
  double start_us, dur_us; /* start relative to the profile's first launch */
  size_t global[3], local[3];
  cl_uint dims;
  char shape[40];
} prof_row;

/* Summary accumulator: one per (tag, kernel) and one per (layer, pass). */
typedef struct prof_sum {
  const char *a, *b; /* tag + kernel, or layer + NULL */
  int backward;
  double us;
  int64_t calls;
} prof_sum;

#define MAX_SUMS 512
#define MAX_NAMES 256

struct fc_profile {
  fc_device *dev;
  prof_row *rows;
  size_t n_rows, cap_rows, dropped_rows;
  prof_sum by_kernel[MAX_SUMS], by_layer[MAX_SUMS];
  int n_by_kernel, n_by_layer;
  char *names[MAX_NAMES]; /* interned kernel names */
  int n_names;
  int64_t steps, last_step;
  double total_us;
  cl_ulong origin_ns;
  int have_origin;
};

fc_status fc_profile_create(fc_device *dev, fc_profile **out) {
  *out = NULL;
  if (!fc_device_profiling(dev))
    return fc_errorf(FC_ERR_INVALID_ARG,
                     "profiling needs a device opened with FC_DEVICE_OPEN_PROFILING");
  fc_profile *p = calloc(1, sizeof *p);
  if (!p) return fc_errorf(FC_ERR_NOMEM, "out of memory");
  p->dev = dev;
  p->last_step = INT64_MIN;
  fc_device_clear_launches(dev);
  *out = p;
  return FC_OK;
}

void fc_profile_free(fc_profile *p) {
  if (!p) return;
  for (int i = 0; i < p->n_names; i++) free(p->names[i]);
  free(p->rows);
  free(p);
}

static const char *intern(fc_profile *p, const char *name) {
  for (int i = 0; i < p->n_names; i++)
    if (strcmp(p->names[i], name) == 0) return p->names[i];
  if (p->n_names == MAX_NAMES) return "(other)";
  char *copy = strdup(name);
  if (!copy) return "(other)";
  p->names[p->n_names++] = copy;
  return copy;
}

static const char *kernel_name(fc_profile *p, cl_kernel k) {
  if (!k) return "(library)";
  char name[128] = "";
  if (clGetKernelInfo(k, CL_KERNEL_FUNCTION_NAME, sizeof name, name, NULL) != CL_SUCCESS)
    return "(unknown)";
  name[sizeof name - 1] = '\0';
  return intern(p, name);
}

static void add_sum(prof_sum *sums, int *n, const char *a, const char *b, int backward, double us) {
  for (int i = 0; i < *n; i++) {
    if (sums[i].a == a && sums[i].b == b && sums[i].backward == backward) {
      sums[i].us += us;
      sums[i].calls++;
      return;
    }
  }
  if (*n == MAX_SUMS) return;
  prof_sum *s = &sums[(*n)++];
  s->a = a;
  s->b = b;
  s->backward = backward;
  s->us = us;
  s->calls = 1;
}

fc_status fc_profile_collect(fc_profile *p, int64_t step) {
  fc_device *dev = p->dev;
  FC_TRY(fc_device_finish(dev));
  fc_status st = FC_OK;
  if (step >= 0 && step != p->last_step) {
    p->steps++;
    p->last_step = step;
  }
  for (size_t i = 0; i < dev->launch_count && step >= 0; i++) {
    const fc_launch_record *r = &dev->launches[i];
    cl_ulong t0 = 0, t1 = 0;
    if (clGetEventProfilingInfo(r->event, CL_PROFILING_COMMAND_START, sizeof t0, &t0, NULL) !=
            CL_SUCCESS ||
        clGetEventProfilingInfo(r->event, CL_PROFILING_COMMAND_END, sizeof t1, &t1, NULL) !=
            CL_SUCCESS)
      continue;
    if (!p->have_origin) {
      p->origin_ns = t0;
      p->have_origin = 1;
    }
    double dur = t1 > t0 ? (double)(t1 - t0) * 1e-3 : 0.0;
    const char *kname = kernel_name(p, r->kernel);
    const char *layer = r->layer ? intern(p, r->layer) : NULL;
    add_sum(p->by_kernel, &p->n_by_kernel, r->tag, kname, 0, dur);
    add_sum(p->by_layer, &p->n_by_layer, layer, NULL, r->backward, dur);
    p->total_us += dur;
    if (p->n_rows == p->cap_rows) {
      if (p->cap_rows >= FC_PROFILE_MAX_ROWS) {
        p->dropped_rows++;
        continue;
      }
      size_t cap = p->cap_rows ? 2 * p->cap_rows : 4096;
      prof_row *rows = realloc(p->rows, cap * sizeof *rows);
      if (!rows) {
        st = fc_errorf(FC_ERR_NOMEM, "out of memory collecting a profile");
        break;
      }
      p->rows = rows;
      p->cap_rows = cap;
    }
    prof_row *row = &p->rows[p->n_rows++];
    row->step = step;
    row->tag = r->tag;
    row->kernel = kname;
    row->layer = layer;
    row->backward = r->backward;
    row->start_us = t0 >= p->origin_ns ? (double)(t0 - p->origin_ns) * 1e-3
                                       : -(double)(p->origin_ns - t0) * 1e-3;
    row->dur_us = dur;
    row->dims = r->dims;
    for (int d = 0; d < 3; d++) {
      row->global[d] = d < (int)r->dims ? r->global[d] : 1;
      row->local[d] = d < (int)r->dims ? r->local[d] : 0;
    }
    memcpy(row->shape, r->shape, sizeof row->shape);
  }
  fc_device_clear_launches(dev);
  return st;
}

int64_t fc_profile_steps(const fc_profile *p) { return p->steps; }
double fc_profile_kernel_seconds(const fc_profile *p) { return p->total_us * 1e-6; }

static const char *pass_name(int pass) {
  switch (pass) {
  case FC_PASS_FORWARD: return "forward";
  case FC_PASS_BACKWARD_DATA: return "backward-data";
  case FC_PASS_BACKWARD_WEIGHTS: return "backward-weights";
  default: return "backward";
  }
}

static void size_text(const size_t *v, cl_uint dims, char *out, size_t size) {
  if (dims == 0) {
    snprintf(out, size, "-");
    return;
  }
  int n = 0;
  out[0] = '\0';
  for (cl_uint d = 0; d < dims && n >= 0 && (size_t)n < size; d++)
    n += snprintf(out + n, size - (size_t)n, d ? "x%zu" : "%zu", v[d]);
}

static fc_status write_csv(const fc_profile *p, const char *path) {
  fc_atomic_file f;
  FC_TRY(fc_atomic_file_open(&f, path));
  fprintf(f.fp, "step,op,kernel,layer,pass,start_us,us,global,local,shape\n");
  for (size_t i = 0; i < p->n_rows; i++) {
    const prof_row *r = &p->rows[i];
    char g[64], l[64];
    size_text(r->global, r->dims, g, sizeof g);
    if (r->dims && r->local[0] == 0)
      snprintf(l, sizeof l, "auto");
    else
      size_text(r->local, r->dims, l, sizeof l);
    fprintf(f.fp, "%lld,%s,%s,%s,%s,%.1f,%.1f,%s,%s,%s\n", (long long)r->step, r->tag, r->kernel,
            r->layer ? r->layer : "", r->layer ? pass_name(r->backward) : "", r->start_us,
            r->dur_us, g, l, r->shape);
  }
  return fc_atomic_file_commit(&f);
}

static fc_status write_trace(const fc_profile *p, const char *path) {
  fc_atomic_file f;
  FC_TRY(fc_atomic_file_open(&f, path));
  fprintf(f.fp, "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n");
  for (size_t i = 0; i < p->n_rows; i++) {
    const prof_row *r = &p->rows[i];
    char g[64];
    size_text(r->global, r->dims, g, sizeof g);
    fprintf(f.fp, "%s{\"name\":", i ? ",\n" : "");
    fc_json_write_string(f.fp, r->kernel);
    fprintf(f.fp, ",\"cat\":");
    fc_json_write_string(f.fp, r->tag);
    fprintf(f.fp,
            ",\"ph\":\"X\",\"pid\":1,\"tid\":1,\"ts\":%.3f,\"dur\":%.3f,\"args\":{\"step\":%lld",
            r->start_us, r->dur_us, (long long)r->step);
    if (r->layer) {
      fprintf(f.fp, ",\"layer\":");
      fc_json_write_string(f.fp, r->layer);
      fprintf(f.fp, ",\"pass\":\"%s\"", pass_name(r->backward));
    }
    fprintf(f.fp, ",\"global\":\"%s\"", g);
    if (r->shape[0]) {
      fprintf(f.fp, ",\"shape\":");
      fc_json_write_string(f.fp, r->shape);
    }
    fprintf(f.fp, "}}");
  }
  fprintf(f.fp, "\n]}\n");
  return fc_atomic_file_commit(&f);
}

fc_status fc_profile_write(const fc_profile *p, const char *csv_path, const char *trace_path) {
  if (csv_path) FC_TRY(fc_error_context(write_csv(p, csv_path), "writing the profile CSV"));
  if (trace_path) FC_TRY(fc_error_context(write_trace(p, trace_path), "writing the profile trace"));
  return FC_OK;
}

static int by_us_desc(const void *a, const void *b) {
  double x = ((const prof_sum *)a)->us, y = ((const prof_sum *)b)->us;
  return (x < y) - (x > y);
}

void fc_profile_print_summary(const fc_profile *p, FILE *out) {
  double steps = p->steps > 0 ? (double)p->steps : 1.0;
  double total_ms = p->total_us * 1e-3 / steps;
  fprintf(out, "profile: %lld step(s), %.1f ms of kernel time per step%s\n", (long long)p->steps,
          total_ms, p->dropped_rows ? " (some launches only in the totals: CSV row cap)" : "");
  /* Layers in the order they first ran; forward and backward side by side. */
  if (p->n_by_layer > 0) {
    fprintf(out, "\n  %-28s %12s %12s %12s\n", "layer (ms/step)", "forward", "backward", "total");
    const char *seen[MAX_SUMS];
    int n_seen = 0;
    double fw_all = 0, bw_all = 0;
    for (int i = 0; i < p->n_by_layer; i++) {
      const char *layer = p->by_layer[i].a;
      int dup = 0;
      for (int j = 0; j < n_seen && !dup; j++) dup = seen[j] == layer;
      if (dup) continue;
      seen[n_seen++] = layer;
      double fw = 0, bw = 0;
      for (int j = 0; j < p->n_by_layer; j++)
        if (p->by_layer[j].a == layer) *(p->by_layer[j].backward ? &bw : &fw) += p->by_layer[j].us;
      fw_all += fw;
      bw_all += bw;
      fprintf(out, "  %-28s %12.2f %12.2f %12.2f\n", layer ? layer : "(outside the network)",
              fw * 1e-3 / steps, bw * 1e-3 / steps, (fw + bw) * 1e-3 / steps);
    }
    fprintf(out, "  %-28s %12.2f %12.2f %12.2f\n", "all", fw_all * 1e-3 / steps,
            bw_all * 1e-3 / steps, (fw_all + bw_all) * 1e-3 / steps);
  }
  if (p->n_by_kernel > 0) {
    prof_sum sorted[MAX_SUMS];
    memcpy(sorted, p->by_kernel, (size_t)p->n_by_kernel * sizeof sorted[0]);
    qsort(sorted, (size_t)p->n_by_kernel, sizeof sorted[0], by_us_desc);
    fprintf(out, "\n  %-24s %-28s %10s %7s %10s\n", "op", "kernel", "ms/step", "share",
            "calls/step");
    for (int i = 0; i < p->n_by_kernel; i++)
      fprintf(out, "  %-24s %-28s %10.2f %6.1f%% %10.1f\n", sorted[i].a, sorted[i].b,
              sorted[i].us * 1e-3 / steps,
              p->total_us > 0 ? 100.0 * sorted[i].us / p->total_us : 0.0,
              (double)sorted[i].calls / steps);
  }
}

fc_status fc_profile_save_run(const fc_profile *p, const char *dir, FILE *summary) {
  char csv[1100], trace[1100];
  snprintf(csv, sizeof csv, "%s/profile.csv", dir);
  snprintf(trace, sizeof trace, "%s/profile.trace.json", dir);
  FC_TRY(fc_profile_write(p, csv, trace));
  if (summary) {
    fc_profile_print_summary(p, summary);
    fprintf(summary, "profile: %s, %s (open the trace in ui.perfetto.dev or chrome://tracing)\n",
            csv, trace);
  }
  return FC_OK;
}
