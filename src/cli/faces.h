/* fer-cl faces, and the face-finding part of fer-cl predict (cmd_faces.c). */
#ifndef FERCL_CLI_FACES_H
#define FERCL_CLI_FACES_H

#include "fercl/ckpt.h"
#include "fercl/device.h"
#include "fercl/eval.h"

typedef enum fc_faces_mode {
  FC_FACES_AUTO = 0,
  FC_FACES_ALWAYS = 1,
  FC_FACES_NEVER = 2
} fc_faces_mode;
extern const char *const fc_faces_mode_names[];

/* The options predict adds for faces. */
typedef struct fc_predict_faces {
  int mode;             /* fc_faces_mode */
  const char *detector; /* --detector FILE, or NULL */
  const char *annotate; /* --annotate DIR, or NULL */
  const char *crops;    /* --crops DIR: each face as the model sees it, or NULL */
  int csv, json, top, logits;
  double margin; /* --face-margin: the alignment template's margin */
} fc_predict_faces;

/* Predicts each face of each picture (folders expand to their images, sorted).
 * Returns the process exit code. */
int fc_cli_predict_faces(fc_device *dev, fc_evaluator *ev, const fc_model_meta *meta,
                         const fc_predict_faces *opt, char **paths, int npaths);

#endif
