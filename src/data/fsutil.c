/* File-system listing, path and text helpers of the data pipeline. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/internal.h"

char *fc_strdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

char *fc_strprintf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0) return NULL;
  char *s = malloc((size_t)n + 1);
  if (!s) return NULL;
  va_start(ap, fmt);
  vsnprintf(s, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return s;
}

char *fc_path_join(const char *a, const char *b) {
  if (!a || !*a) return fc_strdup(b);
  size_t la = strlen(a);
  return fc_strprintf("%s%s%s", a, a[la - 1] == '/' ? "" : "/", b);
}

int fc_is_dir(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

int fc_is_file(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

int fc_has_image_extension(const char *name) {
  const char *dot = strrchr(name, '.');
  if (!dot) return 0;
  return !strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg") || !strcasecmp(dot, ".png");
}

void fc_name_list_free(fc_name_list *list) {
  for (size_t i = 0; i < list->count; i++) free(list->names[i]);
  free(list->names);
  memset(list, 0, sizeof *list);
}

fc_status fc_name_list_push(fc_name_list *list, const char *name) {
  if (list->count == list->capacity) {
    size_t cap = list->capacity ? list->capacity * 2 : 64;
    char **n = realloc(list->names, cap * sizeof *n);
    if (!n) return fc_errorf(FC_ERR_NOMEM, "out of memory listing files");
    list->names = n;
    list->capacity = cap;
  }
  char *copy = fc_strdup(name);
  if (!copy) return fc_errorf(FC_ERR_NOMEM, "out of memory listing files");
  list->names[list->count++] = copy;
  return FC_OK;
}

static int compare_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

void fc_name_list_sort(fc_name_list *list) {
  if (list->count > 1) qsort(list->names, list->count, sizeof *list->names, compare_names);
}

fc_status fc_image_paths(char *const *paths, int count, fc_name_list *out) {
  for (int i = 0; i < count; i++) {
    if (!fc_is_dir(paths[i])) {
      FC_TRY(fc_name_list_push(out, paths[i]));
      continue;
    }
    fc_name_list files = {0};
    fc_status st = fc_list_dir(paths[i], 0, &files);
    for (size_t k = 0; st == FC_OK && k < files.count; k++) {
      if (!fc_has_image_extension(files.names[k])) continue;
      char *p = fc_path_join(paths[i], files.names[k]);
      st = p ? fc_name_list_push(out, p) : fc_errorf(FC_ERR_NOMEM, "out of memory");
      free(p);
    }
    fc_name_list_free(&files);
    FC_TRY(st);
  }
  return FC_OK;
}

fc_status fc_list_dir(const char *dir, int want_dirs, fc_name_list *out) {
  memset(out, 0, sizeof *out);
  DIR *d = opendir(dir);
  if (!d) return fc_errorf(FC_ERR_IO, "cannot open folder %s: %s", dir, strerror(errno));
  struct dirent *e;
  fc_status st = FC_OK;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue; /* ".", "..", hidden files and folders */
    int is_dir;
    if (e->d_type == DT_DIR) {
      is_dir = 1;
    } else if (e->d_type == DT_REG) {
      is_dir = 0;
    } else { /* symlink or unknown: ask stat */
      char *p = fc_path_join(dir, e->d_name);
      if (!p) {
        st = fc_errorf(FC_ERR_NOMEM, "out of memory listing %s", dir);
        break;
      }
      struct stat sb;
      int ok = stat(p, &sb) == 0;
      free(p);
      if (!ok) continue;
      if (S_ISDIR(sb.st_mode))
        is_dir = 1;
      else if (S_ISREG(sb.st_mode))
        is_dir = 0;
      else
        continue;
    }
    if (is_dir != want_dirs) continue;
    st = fc_name_list_push(out, e->d_name);
    if (st != FC_OK) break;
  }
  closedir(d);
  if (st != FC_OK) {
    fc_name_list_free(out);
    return st;
  }
  fc_name_list_sort(out);
  return FC_OK;
}

static fc_status list_recursive(const char *base, const char *rel, int depth, fc_name_list *out) {
  if (depth > 32)
    return fc_errorf(FC_ERR_LIMIT, "%s/%s: folders nested more than 32 deep (a symlink loop?)",
                     base, rel);
  char *dir = rel[0] ? fc_path_join(base, rel) : fc_strdup(base);
  if (!dir) return fc_errorf(FC_ERR_NOMEM, "out of memory listing %s", base);
  fc_name_list files, dirs;
  fc_status st = fc_list_dir(dir, 0, &files);
  if (st == FC_OK) {
    st = fc_list_dir(dir, 1, &dirs);
    if (st != FC_OK) fc_name_list_free(&files);
  }
  free(dir);
  FC_TRY(st);
  for (size_t i = 0; i < files.count && st == FC_OK; i++) {
    if (!fc_has_image_extension(files.names[i])) continue;
    char *p = rel[0] ? fc_path_join(rel, files.names[i]) : fc_strdup(files.names[i]);
    if (!p)
      st = fc_errorf(FC_ERR_NOMEM, "out of memory listing %s", base);
    else
      st = fc_name_list_push(out, p);
    free(p);
  }
  for (size_t i = 0; i < dirs.count && st == FC_OK; i++) {
    char *p = rel[0] ? fc_path_join(rel, dirs.names[i]) : fc_strdup(dirs.names[i]);
    if (!p)
      st = fc_errorf(FC_ERR_NOMEM, "out of memory listing %s", base);
    else
      st = list_recursive(base, p, depth + 1, out);
    free(p);
  }
  fc_name_list_free(&files);
  fc_name_list_free(&dirs);
  return st;
}

fc_status fc_list_images_recursive(const char *dir, fc_name_list *out) {
  memset(out, 0, sizeof *out);
  fc_status st = list_recursive(dir, "", 0, out);
  if (st != FC_OK) {
    fc_name_list_free(out);
    return st;
  }
  fc_name_list_sort(out);
  return FC_OK;
}

fc_status fc_line_reader_open(fc_line_reader *r, const char *path) {
  memset(r, 0, sizeof *r);
  FILE *fp = fopen(path, "rb");
  if (!fp) return fc_errorf(FC_ERR_IO, "cannot open %s: %s", path, strerror(errno));
  r->fp = fp;
  r->path = path;
  return FC_OK;
}

fc_status fc_line_reader_next(fc_line_reader *r, size_t max_length, char **line) {
  *line = NULL;
  FILE *fp = r->fp;
  size_t n = 0;
  int c;
  int any = 0;
  while ((c = getc_unlocked(fp)) != EOF) {
    any = 1;
    if (c == '\n') break;
    if (n >= max_length) /* checked per byte: growing by doubling would overshoot the cap */
      return fc_errorf(FC_ERR_FORMAT,
                       "%s line %lld: longer than %zu bytes; is this the right file?", r->path,
                       r->number + 1, max_length);
    if (n + 2 > r->capacity) {
      size_t cap = r->capacity ? r->capacity * 2 : 4096;
      char *b = realloc(r->line, cap);
      if (!b) return fc_errorf(FC_ERR_NOMEM, "out of memory reading %s", r->path);
      r->line = b;
      r->capacity = cap;
    }
    r->line[n++] = (char)c;
  }
  if (ferror(fp)) return fc_errorf(FC_ERR_IO, "cannot read %s: %s", r->path, strerror(errno));
  if (!any) return FC_OK;
  if (!r->line) {
    r->line = malloc(16);
    if (!r->line) return fc_errorf(FC_ERR_NOMEM, "out of memory reading %s", r->path);
    r->capacity = 16;
  }
  if (n > 0 && r->line[n - 1] == '\r') n--;
  r->line[n] = '\0';
  r->number++;
  /* A UTF-8 byte order mark (Excel and Notepad write one) is not text. */
  if (r->number == 1 && n >= 3 && !memcmp(r->line, "\xEF\xBB\xBF", 3))
    memmove(r->line, r->line + 3, n - 2);
  *line = r->line;
  return FC_OK;
}

void fc_line_reader_close(fc_line_reader *r) {
  if (r->fp) fclose(r->fp);
  free(r->line);
  memset(r, 0, sizeof *r);
}

int fc_csv_split(char *line, char **fields, int max) {
  int n = 0;
  char *p = line;
  for (;;) {
    char *start = p, *w = p;
    if (*p == '"') {
      p++;
      for (;;) {
        if (*p == '\0') break;
        if (*p == '"') {
          if (p[1] == '"') {
            *w++ = '"';
            p += 2;
            continue;
          }
          p++;
          break;
        }
        *w++ = *p++;
      }
      while (*p && *p != ',') *w++ = *p++; /* text after a closing quote */
    } else {
      while (*p && *p != ',') p++;
      w = p;
    }
    char sep = *p;
    *w = '\0';
    if (n < max) fields[n] = start;
    n++;
    if (sep != ',') break;
    p++;
  }
  return n;
}

int fc_cpu_count(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1 : (n > 256 ? 256 : (int)n);
}
