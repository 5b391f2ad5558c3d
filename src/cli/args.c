/* Option tables: argv and config-file parsing, help, effective config. */
#include "cli/args.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *command_label(const fc_args_spec *spec, char *buf, size_t size) {
  if (spec->command)
    snprintf(buf, size, "fer-cl %s", spec->command);
  else
    snprintf(buf, size, "fer-cl");
  return buf;
}

static size_t edit_distance(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la > 63 || lb > 63) return 99;
  size_t row[64];
  for (size_t j = 0; j <= lb; j++) row[j] = j;
  for (size_t i = 1; i <= la; i++) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= lb; j++) {
      size_t up = row[j];
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      size_t best = diag + cost;
      if (row[j] + 1 < best) best = row[j] + 1;
      if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
      row[j] = best;
      diag = up;
    }
  }
  return row[lb];
}

static const fc_option *find_long(const fc_option *opts, const char *name, size_t len) {
  for (; opts && opts->name; opts++)
    if (strlen(opts->name) == len && strncmp(opts->name, name, len) == 0) return opts;
  return NULL;
}

static const fc_option *find_short(const fc_option *opts, char c) {
  for (; opts && opts->name; opts++)
    if (opts->short_name && opts->short_name == c) return opts;
  return NULL;
}

static const char *closest(const fc_args_spec *spec, const char *name) {
  const char *best = NULL;
  size_t best_d = 3;
  const fc_option *tables[2] = {spec->options, spec->global_options};
  for (int t = 0; t < 2; t++)
    for (const fc_option *o = tables[t]; o && o->name; o++) {
      size_t d = edit_distance(name, o->name);
      if (d < best_d) {
        best_d = d;
        best = o->name;
      }
    }
  return best;
}

static fc_status usage_error(const fc_args_spec *spec, const char *fmt, const char *a,
                             const char *b) {
  char label[128], msg[512];
  snprintf(msg, sizeof msg, fmt, a, b);
  command_label(spec, label, sizeof label);
  return fc_errorf(FC_ERR_USAGE, "%s: %s (see '%s --help')", label, msg, label);
}

static fc_status range_error(const fc_args_spec *spec, const fc_option *o, const char *value) {
  char label[128];
  command_label(spec, label, sizeof label);
  return fc_errorf(FC_ERR_USAGE, "%s: --%s must be between %g and %g, got %s (see '%s --help')",
                   label, o->name, o->min, o->max, value, label);
}

/* Stores a value; origin names where it came from for messages. */
static fc_status set_value(const fc_args_spec *spec, const fc_option *o, const char *value) {
  char name[96];
  snprintf(name, sizeof name, "--%s", o->name);
  switch (o->type) {
  case FC_OPT_FLAG:
    if (value) {
      if (!strcmp(value, "true") || !strcmp(value, "1") || !strcmp(value, "yes")) {
        *(int *)o->target = o->flag_value;
      } else if (!strcmp(value, "false") || !strcmp(value, "0") || !strcmp(value, "no")) {
        *(int *)o->target = !o->flag_value; /* off, even over a --config that set it */
      } else {
        return usage_error(spec, "%s is a switch: give it alone, or =true or =false (got '%s')",
                           name, value);
      }
    } else {
      *(int *)o->target = o->flag_value;
    }
    return FC_OK;
  case FC_OPT_INT: {
    char *end = NULL;
    errno = 0;
    long long v = strtoll(value, &end, 10);
    if (errno || end == value || *end != '\0' || v < -2147483647LL || v > 2147483647LL)
      return usage_error(spec, "%s expects a whole number, got '%s'", name, value);
    if (o->min < o->max && ((double)v < o->min || (double)v > o->max)) {
      return range_error(spec, o, value);
    }
    *(int *)o->target = (int)v;
    return FC_OK;
  }
  case FC_OPT_DOUBLE: {
    char *end = NULL;
    errno = 0;
    double v = strtod(value, &end);
    if (errno || end == value || *end != '\0' || !isfinite(v))
      return usage_error(spec, "%s expects a number, got '%s'", name, value);
    if (o->min < o->max && (v < o->min || v > o->max)) {
      return range_error(spec, o, value);
    }
    *(double *)o->target = v;
    return FC_OK;
  }
  case FC_OPT_STRING: *(const char **)o->target = value; return FC_OK;
  case FC_OPT_CHOICE:
    for (int i = 0; o->choices[i]; i++) {
      if (!strcmp(o->choices[i], value)) {
        *(int *)o->target = i;
        return FC_OK;
      }
    }
    {
      char list[256] = "";
      for (int i = 0; o->choices[i]; i++) {
        strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
        strncat(list, o->choices[i], sizeof list - strlen(list) - 1);
      }
      char msg[256];
      snprintf(msg, sizeof msg, "%s '%s'", name, value);
      return usage_error(spec, "%s is not one of: %s", msg, list);
    }
  }
  return FC_ERR_INTERNAL;
}

static fc_status parse(const fc_args_spec *spec, int argc, char **argv, int first,
                       char **positional, int *positional_count, int *stopped_at) {
  *positional_count = 0;
  int only_positional = 0;
  for (int i = first; i < argc; i++) {
    char *arg = argv[i];
    if (only_positional || arg[0] != '-' || arg[1] == '\0') {
      if (stopped_at) {
        *stopped_at = i;
        return FC_OK;
      }
      positional[(*positional_count)++] = arg;
      continue;
    }
    if (!strcmp(arg, "--")) {
      only_positional = 1;
      continue;
    }
    const fc_option *o = NULL;
    const char *inline_value = NULL;
    if (arg[1] == '-') {
      const char *name = arg + 2;
      const char *eq = strchr(name, '=');
      size_t len = eq ? (size_t)(eq - name) : strlen(name);
      o = find_long(spec->options, name, len);
      if (!o) o = find_long(spec->global_options, name, len);
      if (!o) {
        char unknown[96];
        snprintf(unknown, sizeof unknown, "%.*s", (int)(len < 80 ? len : 80), name);
        const char *guess = closest(spec, unknown);
        if (guess) {
          char hint[128];
          snprintf(hint, sizeof hint, "; did you mean --%s?", guess);
          return usage_error(spec, "unknown option --%s%s", unknown, hint);
        }
        return usage_error(spec, "unknown option --%s%s", unknown, "");
      }
      if (eq) inline_value = eq + 1;
    } else {
      if (arg[2] != '\0') return usage_error(spec, "unknown option %s%s", arg, "");
      o = find_short(spec->options, arg[1]);
      if (!o) o = find_short(spec->global_options, arg[1]);
      if (!o) return usage_error(spec, "unknown option %s%s", arg, "");
    }
    if (o->type == FC_OPT_FLAG) {
      FC_TRY(set_value(spec, o, inline_value));
      continue;
    }
    const char *value = inline_value;
    if (!value) {
      if (i + 1 >= argc) {
        char name[96];
        snprintf(name, sizeof name, "--%s", o->name);
        return usage_error(spec, "%s needs a value (%s)", name,
                           o->arg_name ? o->arg_name : "VALUE");
      }
      value = argv[++i];
    }
    FC_TRY(set_value(spec, o, value));
  }
  if (stopped_at) *stopped_at = argc;
  return FC_OK;
}

fc_status fc_args_parse(const fc_args_spec *spec, int argc, char **argv, int first,
                        char **positional, int *positional_count) {
  return parse(spec, argc, argv, first, positional, positional_count, NULL);
}

fc_status fc_args_parse_leading(const fc_args_spec *spec, int argc, char **argv, int first,
                                int *command_index) {
  int unused = 0;
  return parse(spec, argc, argv, first, NULL, &unused, command_index);
}

static char *trim(char *s) {
  while (isspace((unsigned char)*s)) s++;
  char *e = s + strlen(s);
  while (e > s && isspace((unsigned char)e[-1])) *--e = '\0';
  return s;
}

/* A "quoted value": \" and \\ are escapes (what fc_args_write_config writes),
 * other backslashes stay as they are. Unquotes in place; after it only
 * spaces and a '#' comment may follow. NULL when the quote is not closed or
 * text follows it. */
static char *unquote(char *q) {
  char *w = q, *r = q + 1;
  while (*r && *r != '"') {
    if (*r == '\\' && (r[1] == '"' || r[1] == '\\')) r++;
    *w++ = *r++;
  }
  if (*r != '"') return NULL;
  r++;
  *w = '\0';
  while (isspace((unsigned char)*r)) r++;
  return *r == '\0' || *r == '#' ? q : NULL;
}

fc_status fc_args_parse_config(const fc_args_spec *spec, const char *path, char *text) {
  int line_no = 0;
  char *line = text;
  if (!strncmp(line, "\xEF\xBB\xBF", 3)) line += 3; /* a UTF-8 byte order mark */
  while (line && *line) {
    char *next = strchr(line, '\n');
    if (next) *next++ = '\0';
    line_no++;
    /* name [= value]; '#' starts a comment, except inside a "quoted value"
     * (config.txt quotes every path, and paths may hold '#'). */
    char *eq = line + strcspn(line, "=#");
    char *value = NULL;
    if (*eq == '=') {
      *eq = '\0';
      value = eq + 1;
      while (isspace((unsigned char)*value)) value++;
      if (*value == '"') {
        if (!unquote(value))
          return fc_errorf(
              FC_ERR_USAGE,
              "%s:%d: a quoted value must end with '\"' (write \\\" for a quote inside)", path,
              line_no);
      } else {
        value[strcspn(value, "#")] = '\0';
        value = trim(value);
      }
    } else {
      *eq = '\0';
    }
    char *key = trim(line);
    if (*key || value) {
      if (key[0] == '-' && key[1] == '-') key += 2;
      const fc_option *o = find_long(spec->options, key, strlen(key));
      if (!o || o->not_in_config)
        return fc_errorf(FC_ERR_USAGE, "%s:%d: unknown setting '%s'", path, line_no, key);
      if (o->type != FC_OPT_FLAG && !value)
        return fc_errorf(FC_ERR_USAGE, "%s:%d: '%s' needs '= value'", path, line_no, key);
      fc_status st = set_value(spec, o, value);
      if (st != FC_OK) return fc_error_context(st, "%s:%d", path, line_no);
    }
    line = next;
  }
  return FC_OK;
}

void fc_args_write_config(FILE *out, const fc_option *opts) {
  for (; opts && opts->name; opts++) {
    if (opts->not_in_config) continue;
    switch (opts->type) {
    case FC_OPT_FLAG:
      fprintf(out, "%s = %s\n", opts->name,
              *(int *)opts->target == opts->flag_value ? "true" : "false");
      break;
    case FC_OPT_INT: fprintf(out, "%s = %d\n", opts->name, *(int *)opts->target); break;
    case FC_OPT_DOUBLE: {
      /* The shortest text that reads back as the same double, so a resumed
       * run uses exactly the values it started with. */
      double v = *(double *)opts->target;
      char text[40];
      for (int precision = 9; precision <= 17; precision++) {
        snprintf(text, sizeof text, "%.*g", precision, v);
        if (strtod(text, NULL) == v) break;
      }
      fprintf(out, "%s = %s\n", opts->name, text);
      break;
    }
    case FC_OPT_STRING: {
      const char *v = *(const char **)opts->target;
      if (!v) break;
      fprintf(out, "%s = \"", opts->name);
      for (; *v; v++) {
        if (*v == '"' || *v == '\\') fputc('\\', out);
        fputc(*v, out);
      }
      fprintf(out, "\"\n");
      break;
    }
    case FC_OPT_CHOICE:
      fprintf(out, "%s = %s\n", opts->name, opts->choices[*(int *)opts->target]);
      break;
    }
  }
}

static void print_option(FILE *out, const fc_option *o) {
  char left[96];
  char arg[64] = "";
  if (o->type == FC_OPT_CHOICE) {
    size_t used = 0;
    arg[used++] = '{';
    for (int i = 0; o->choices[i] && used < sizeof arg - 2; i++) {
      int n = snprintf(arg + used, sizeof arg - used, "%s%s", i ? "," : "", o->choices[i]);
      if (n < 0) break;
      used += (size_t)n;
    }
    if (used < sizeof arg - 1) {
      arg[used++] = '}';
      arg[used] = '\0';
    }
  } else if (o->type != FC_OPT_FLAG) {
    snprintf(arg, sizeof arg, "%s", o->arg_name ? o->arg_name : "VALUE");
  }
  if (o->short_name)
    snprintf(left, sizeof left, "-%c, --%s%s%s", o->short_name, o->name, arg[0] ? " " : "", arg);
  else
    snprintf(left, sizeof left, "    --%s%s%s", o->name, arg[0] ? " " : "", arg);
  char dflt[96] = "";
  if (!o->not_in_config) {
    if (o->type == FC_OPT_INT) snprintf(dflt, sizeof dflt, " (default %d)", *(int *)o->target);
    if (o->type == FC_OPT_DOUBLE)
      snprintf(dflt, sizeof dflt, " (default %g)", *(double *)o->target);
    if (o->type == FC_OPT_CHOICE)
      snprintf(dflt, sizeof dflt, " (default %s)", o->choices[*(int *)o->target]);
    if (o->type == FC_OPT_STRING && *(const char **)o->target)
      snprintf(dflt, sizeof dflt, " (default %s)", *(const char **)o->target);
  }
  if (strlen(left) > 30)
    fprintf(out, "  %s\n  %-30s %s%s\n", left, "", o->help ? o->help : "", dflt);
  else
    fprintf(out, "  %-30s %s%s\n", left, o->help ? o->help : "", dflt);
}

void fc_args_print_options(FILE *out, const fc_option *options) {
  for (const fc_option *o = options; o && o->name; o++) print_option(out, o);
}

void fc_args_print_help(FILE *out, const fc_args_spec *spec) {
  char label[128];
  command_label(spec, label, sizeof label);
  fprintf(out, "usage: %s %s\n", label, spec->usage ? spec->usage : "[options]");
  if (spec->summary) fprintf(out, "\n%s\n", spec->summary);
  if (spec->options && spec->options->name) {
    fprintf(out, "\noptions:\n");
    fc_args_print_options(out, spec->options);
  }
  if (spec->global_options && spec->global_options->name) {
    fprintf(out, "\nglobal options:\n");
    fc_args_print_options(out, spec->global_options);
  }
  if (spec->details) fprintf(out, "\n%s\n", spec->details);
}
