/* Per-device performance parameters: defaults, the tuning file, overrides. */
#include "device/tuning.h"

#include <clblast_c.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "device/runtime.h"
#include "fercl/fileio.h"
#include "fercl/log.h"

#define TUNING_MAGIC "fer-cl tuning 1"
#define TUNING_MAX_FILE (64u << 10)

void fc_tuning_defaults(const fc_device *dev, fc_tuning *t) {
  memset(t, 0, sizeof *t);
  /* CPUs: our packed kernel (CLBlast's defaults reach ~15 GFLOP/s on PoCL). GPUs:
   * CLBlast, whose kernels are tuned for them. The 6×16 tile is the AVX2 shape;
   * kc 256 keeps a B panel slice (256 × 16 floats = 16 KiB) in L1 while a
   * work-item runs every row tile over it. */
  t->gemm.engine =
      dev->info.type == FC_DEVICE_TYPE_CPU ? FC_GEMM_ENGINE_FERCL : FC_GEMM_ENGINE_CLBLAST;
  t->gemm.mr = 6;
  t->gemm.nv = 2;
  t->gemm.vec = 8;
  /* 512-bit vectors (AVX-512: 32 registers): a tile row is one float16, 16 rows
   * = 16 accumulators, one B load and 16 broadcast FMAs per k. Measured on a
   * 2-core Zen 4 (PoCL pthread-skylake-avx512): 0.85x the CPU time of 6x16
   * float8 for a ResNet-18 step at 1x48x48; 8 and 16 rows tie. */
  if (dev->info.type == FC_DEVICE_TYPE_CPU && dev->info.native_float_width >= 16) {
    t->gemm.mr = 16;
    t->gemm.vec = 16;
  }
  t->gemm.wg = 1;
  t->gemm.kc = 256;
  t->gemm.ablock = 8192;
  t->conv_implicit = 1;
}

void fc_tuning_path(const fc_device *dev, char *path, size_t size) {
  path[0] = '\0';
  char dir[900];
  const char *env = getenv("FERCL_CACHE_DIR");
  const char *xdg = getenv("XDG_CACHE_HOME");
  const char *home = getenv("HOME");
  if (env && strcmp(env, "off") == 0) return;
  if (env && *env)
    snprintf(dir, sizeof dir, "%s/tuning", env);
  else if (xdg && *xdg)
    snprintf(dir, sizeof dir, "%s/fer-cl/tuning", xdg);
  else if (home && *home)
    snprintf(dir, sizeof dir, "%s/.cache/fer-cl/tuning", home);
  else
    return;
  uint64_t h = fc_hash_string(FC_HASH_INIT, dev->info.platform_name);
  h = fc_hash_string(h, dev->info.platform_version);
  h = fc_hash_string(h, dev->info.name);
  h = fc_hash_string(h, dev->info.driver_version);
  h = fc_hash_string(h, dev->info.device_version);
  snprintf(path, size, "%s/%016llx.txt", dir, (unsigned long long)h);
}

void fc_tuning_gemm_options(const fc_tuning *t, char *out, size_t size) {
  if (t->gemm.vec == 16)
    snprintf(out, size, "-DGEMM_MR=%d -DGEMM_NV=2 -DGEMM_V16=1", t->gemm.mr);
  else if (t->gemm.mr == 6 && t->gemm.nv == 2)
    snprintf(out, size, "%s", "");
  else
    snprintf(out, size, "-DGEMM_MR=%d -DGEMM_NV=%d", t->gemm.mr, t->gemm.nv);
}

void fc_gemm_params_describe(const fc_gemm_params *p, char *out, size_t size) {
  if (p->engine == FC_GEMM_ENGINE_CLBLAST)
    snprintf(out, size, "clblast");
  else
    snprintf(out, size, "fercl %dx%d%s wg%d kc%d ab%d", p->mr, 8 * p->nv,
             p->vec == 16 ? " v16" : "", p->wg, p->kc, p->ablock);
}

static int valid_params(const fc_gemm_params *p) {
  /* tile shapes cl/gemm.cl compiles, sane sizes */
  return (p->mr == 4 || p->mr == 5 || p->mr == 6 || p->mr == 8 || p->mr == 12 || p->mr == 16) &&
         (p->vec == 8 || (p->vec == 16 && p->nv == 2)) && p->nv >= 1 && p->nv <= 3 && p->wg >= 1 &&
         p->wg <= 256 && p->kc >= 0 && p->kc <= (1 << 20) && p->ablock >= 0;
}

static char *trim(char *s) {
  while (isspace((unsigned char)*s)) s++;
  size_t n = strlen(s);
  while (n && isspace((unsigned char)s[n - 1])) s[--n] = '\0';
  return s;
}

static int parse_int(const char *s, long lo, long hi, int *out) {
  errno = 0;
  char *end = NULL;
  long v = strtol(s, &end, 10);
  if (errno || end == s || *trim(end) || v < lo || v > hi) return 0;
  *out = (int)v;
  return 1;
}

fc_status fc_tuning_parse(const fc_device *dev, const char *text, fc_tuning *t) {
  (void)dev;
  char *copy = strdup(text);
  if (!copy) return fc_errorf(FC_ERR_NOMEM, "out of memory");
  fc_tuning out = *t;
  out.clblast_count = 0;
  int line_no = 0, saw_magic = 0, saw_mr = 0, saw_vec = 0;
  fc_status st = FC_OK;
  for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line && st == FC_OK;
       line = strtok_r(NULL, "\n", &save)) {
    line_no++;
    char *l = trim(line);
    if (!*l) continue;
    if (!saw_magic) {
      if (strcmp(l, TUNING_MAGIC) != 0) {
        st = fc_errorf(FC_ERR_FORMAT, "line 1 is not '%s'", TUNING_MAGIC);
        break;
      }
      saw_magic = 1;
      continue;
    }
    if (*l == '#') continue;
    char *sp = l;
    while (*sp && !isspace((unsigned char)*sp)) sp++;
    if (*sp) *sp++ = '\0';
    const char *key = l, *val = trim(sp);
    int ok = 1;
    if (strcmp(key, "device") == 0 || strcmp(key, "driver") == 0 || strcmp(key, "platform") == 0) {
      /* informational */
    } else if (strcmp(key, "gemm.engine") == 0) {
      if (strcmp(val, "fercl") == 0)
        out.gemm.engine = FC_GEMM_ENGINE_FERCL;
      else if (strcmp(val, "clblast") == 0)
        out.gemm.engine = FC_GEMM_ENGINE_CLBLAST;
      else
        ok = 0;
    } else if (strcmp(key, "gemm.mr") == 0) {
      ok = parse_int(val, 1, 64, &out.gemm.mr);
      saw_mr = 1;
    } else if (strcmp(key, "gemm.nv") == 0) {
      ok = parse_int(val, 1, 64, &out.gemm.nv);
    } else if (strcmp(key, "gemm.vec") == 0) {
      ok = parse_int(val, 8, 16, &out.gemm.vec);
      saw_vec = 1;
    } else if (strcmp(key, "gemm.wg") == 0) {
      ok = parse_int(val, 1, 4096, &out.gemm.wg);
    } else if (strcmp(key, "gemm.kc") == 0) {
      ok = parse_int(val, 0, 1 << 20, &out.gemm.kc);
    } else if (strcmp(key, "gemm.ablock") == 0) {
      ok = parse_int(val, 0, 1 << 24, &out.gemm.ablock);
    } else if (strcmp(key, "ops.wg") == 0) {
      ok = parse_int(val, 0, 4096, &out.ops_wg);
    } else if (strcmp(key, "conv.implicit") == 0) {
      ok = parse_int(val, 0, 1, &out.conv_implicit);
    } else if (strcmp(key, "clblast.xgemm") == 0) {
      /* NAME=VALUE pairs separated by spaces */
      char *save2 = NULL;
      for (char *tok = strtok_r((char *)val, " \t", &save2); tok && ok;
           tok = strtok_r(NULL, " \t", &save2)) {
        char *eq = strchr(tok, '=');
        int v = 0;
        if (!eq || eq == tok || (size_t)(eq - tok) >= sizeof out.clblast_names[0] ||
            out.clblast_count >= FC_TUNING_MAX_CLBLAST || !parse_int(eq + 1, 0, 4096, &v)) {
          ok = 0;
          break;
        }
        memcpy(out.clblast_names[out.clblast_count], tok, (size_t)(eq - tok));
        out.clblast_names[out.clblast_count][eq - tok] = '\0';
        out.clblast_values[out.clblast_count++] = (size_t)v;
      }
    } else {
      ok = 0;
    }
    if (!ok) st = fc_errorf(FC_ERR_FORMAT, "line %d: cannot use '%s %s'", line_no, key, val);
  }
  /* Files from before gemm.vec tuned float8 tile rows. */
  if (saw_mr && !saw_vec) out.gemm.vec = 8;
  free(copy);
  if (st == FC_OK && !saw_magic) st = fc_errorf(FC_ERR_FORMAT, "the file is empty");
  if (st == FC_OK && !valid_params(&out.gemm))
    st = fc_errorf(FC_ERR_FORMAT, "GEMM parameters out of range (mr %d, nv %d, wg %d, kc %d)",
                   out.gemm.mr, out.gemm.nv, out.gemm.wg, out.gemm.kc);
  if (st == FC_OK) {
    out.tuned = 1;
    *t = out;
  }
  return st;
}

fc_status fc_tuning_save(const fc_device *dev, const fc_tuning *t, const char *path) {
  char dir[1024];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (slash) {
    *slash = '\0';
    FC_TRY(fc_mkdir_p(dir));
  }
  char text[4096];
  int n = snprintf(text, sizeof text,
                   "%s\n# written by fer-cl tune; delete this file to return to the defaults\n"
                   "platform %s\ndevice %s\ndriver %s\n"
                   "gemm.engine %s\ngemm.mr %d\ngemm.nv %d\ngemm.vec %d\ngemm.wg %d\ngemm.kc %d\n"
                   "gemm.ablock %d\nops.wg %d\nconv.implicit %d\n",
                   TUNING_MAGIC, dev->info.platform_name, dev->info.name, dev->info.driver_version,
                   t->gemm.engine == FC_GEMM_ENGINE_CLBLAST ? "clblast" : "fercl", t->gemm.mr,
                   t->gemm.nv, t->gemm.vec, t->gemm.wg, t->gemm.kc, t->gemm.ablock, t->ops_wg,
                   t->conv_implicit);
  if (t->clblast_count > 0 && n > 0 && (size_t)n < sizeof text) {
    n += snprintf(text + n, sizeof text - (size_t)n, "clblast.xgemm");
    for (int i = 0; i < t->clblast_count && (size_t)n < sizeof text; i++)
      n += snprintf(text + n, sizeof text - (size_t)n, " %s=%zu", t->clblast_names[i],
                    t->clblast_values[i]);
    if ((size_t)n < sizeof text) n += snprintf(text + n, sizeof text - (size_t)n, "\n");
  }
  if (n < 0 || (size_t)n >= sizeof text)
    return fc_errorf(FC_ERR_INTERNAL, "tuning file text too long");
  return fc_error_context(fc_file_write_atomic(path, text, (size_t)n), "saving tuning results");
}

/* Element-wise work-group size: the tuned one, within the device's limit. */
static void apply_ops_wg(fc_device *dev) {
  size_t wg = dev->tuning.ops_wg > 0 ? (size_t)dev->tuning.ops_wg
                                     : (dev->info.type == FC_DEVICE_TYPE_CPU ? 64 : 256);
  if (wg > dev->info.max_work_group_size && dev->info.max_work_group_size > 0)
    wg = dev->info.max_work_group_size;
  dev->wg_1d = wg;
}

fc_status fc_tuning_apply(fc_device *dev, const fc_tuning *t) {
  if (!valid_params(&t->gemm))
    return fc_errorf(FC_ERR_INVALID_ARG,
                     "GEMM parameters out of range (mr %d, nv %d, wg %d, kc %d)", t->gemm.mr,
                     t->gemm.nv, t->gemm.wg, t->gemm.kc);
  int applied = dev->tuning.clblast_applied;
  dev->tuning = *t;
  apply_ops_wg(dev);
  /* New overrides need handing over; none over applied ones cannot undo them. */
  dev->tuning.clblast_applied = t->clblast_count > 0 ? 0 : applied;
  return FC_OK;
}

fc_status fc_tuning_apply_clblast(fc_device *dev) {
  fc_tuning *t = &dev->tuning;
  if (t->clblast_applied || t->clblast_count == 0) return FC_OK;
  const char *names[FC_TUNING_MAX_CLBLAST];
  for (int i = 0; i < t->clblast_count; i++) names[i] = t->clblast_names[i];
  CLBlastStatusCode code = CLBlastOverrideParameters(
      dev->id, "Xgemm", CLBlastPrecisionSingle, (size_t)t->clblast_count, names, t->clblast_values);
  if (code != CLBlastSuccess)
    return fc_errorf(FC_ERR_INVALID_ARG,
                     "CLBlast refused the Xgemm parameters of %s (status %d): re-run fer-cl tune "
                     "or delete that file",
                     t->source[0] ? t->source : "the tuning", (int)code);
  t->clblast_applied = 1;
  return FC_OK;
}

void fc_tuning_load_at_open(fc_device *dev) {
  fc_tuning t;
  fc_tuning_defaults(dev, &t);
  char path[1024];
  fc_tuning_path(dev, path, sizeof path);
  char *text = NULL;
  size_t size = 0;
  if (path[0] && fc_file_read_all(path, TUNING_MAX_FILE, &text, &size) == FC_OK) {
    fc_tuning loaded = t;
    if (fc_tuning_parse(dev, text, &loaded) == FC_OK) {
      snprintf(loaded.source, sizeof loaded.source, "%s", path);
      t = loaded;
      fc_log(FC_LOG_DEBUG, "tuning parameters from %s", path);
    } else {
      fc_log(FC_LOG_WARN, "ignoring the tuning file %s: %s; re-run fer-cl tune", path,
             fc_last_error());
    }
  }
  free(text);
  const char *engine = getenv("FERCL_GEMM");
  if (engine && strcmp(engine, "clblast") == 0) t.gemm.engine = FC_GEMM_ENGINE_CLBLAST;
  if (engine && strcmp(engine, "fercl") == 0) t.gemm.engine = FC_GEMM_ENGINE_FERCL;
  /* FERCL_GEMM_TILE=6x16: the float8 tile whatever the device's vector width
   * (tools/oclgrind.sh: Oclgrind mis-tracks float16 results; see there). */
  const char *tile = getenv("FERCL_GEMM_TILE");
  if (tile && strcmp(tile, "6x16") == 0) t.gemm.mr = 6, t.gemm.nv = 2, t.gemm.vec = 8;
  dev->tuning = t; /* valid: defaults, or checked by the parser */
  apply_ops_wg(dev);
}
