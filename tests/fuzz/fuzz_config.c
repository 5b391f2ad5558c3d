/* Fuzz target: config files (`fer-cl train --config FILE`, and the run's
 * config.txt that --resume reads), parsed with the train option table. What
 * is accepted is written back with fc_args_write_config (as config.txt is)
 * and must parse again to exactly the same values: otherwise a resumed run
 * would not train with the options it was started with. */
#include <string.h>

#include "cli/cli.h"
#include "fuzz_common.h"

typedef struct snapshot {
  int i;
  double d;
  char *s;
  int has_s;
} snapshot;

static void take(const fc_option *o, snapshot *s) {
  memset(s, 0, sizeof *s);
  switch (o->type) {
  case FC_OPT_FLAG:
  case FC_OPT_INT:
  case FC_OPT_CHOICE: s->i = *(int *)o->target; break;
  case FC_OPT_DOUBLE: s->d = *(double *)o->target; break;
  case FC_OPT_STRING: {
    const char *v = *(const char **)o->target;
    s->has_s = v != NULL;
    s->s = v ? strdup(v) : NULL;
    break;
  }
  }
}

static char *write_config(const fc_option *options) {
  char *text = NULL;
  size_t size = 0;
  FILE *mem = open_memstream(&text, &size);
  FC_FUZZ_CHECK(mem != NULL, "open_memstream");
  fc_args_write_config(mem, options);
  fclose(mem);
  return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fc_fuzz_init();
  const fc_args_spec *spec = fc_cmd_train_args();
  char *text = malloc(size + 1);
  FC_FUZZ_CHECK(text != NULL, "out of memory");
  memcpy(text, data, size);
  text[size] = '\0';
  if (fc_args_parse_config(spec, "fuzz.txt", text) != FC_OK) {
    FC_FUZZ_CHECK(fc_last_error()[0] != '\0', "rejected without a message");
    free(text);
    return 0;
  }
  int n = 0;
  while (spec->options[n].name) n++;
  snapshot *before = calloc((size_t)n, sizeof *before);
  FC_FUZZ_CHECK(before != NULL, "out of memory");
  for (int i = 0; i < n; i++) take(&spec->options[i], &before[i]);
  char *written = write_config(spec->options);

  spec = fc_cmd_train_args(); /* back to the defaults, then the written file */
  char *reread = strdup(written);
  fc_status st = fc_args_parse_config(spec, "config.txt", reread);
  FC_FUZZ_CHECK(st == FC_OK, "the written config does not parse: %s\n%s", fc_last_error(), written);
  for (int i = 0; i < n; i++) {
    const fc_option *o = &spec->options[i];
    if (o->not_in_config) continue;
    snapshot after;
    take(o, &after);
    switch (o->type) {
    case FC_OPT_FLAG:
    case FC_OPT_INT:
    case FC_OPT_CHOICE:
      FC_FUZZ_CHECK(after.i == before[i].i, "--%s was %d, reads back as %d", o->name, before[i].i,
                    after.i);
      break;
    case FC_OPT_DOUBLE:
      FC_FUZZ_CHECK(!memcmp(&after.d, &before[i].d, sizeof after.d),
                    "--%s was %.17g, reads back as %.17g", o->name, before[i].d, after.d);
      break;
    case FC_OPT_STRING:
      FC_FUZZ_CHECK(
          after.has_s == before[i].has_s && (!after.has_s || !strcmp(after.s, before[i].s)),
          "--%s was '%s', reads back as '%s'", o->name, before[i].s ? before[i].s : "(none)",
          after.s ? after.s : "(none)");
      break;
    }
    free(after.s);
  }
  for (int i = 0; i < n; i++) free(before[i].s);
  free(before);
  free(written);
  free(reread);
  free(text);
  fc_cmd_train_args(); /* no option may point into freed text */
  return 0;
}
