/* The training progress line (fer-cl train on a terminal). */
#ifndef FERCL_CLI_PROGRESS_LINE_H
#define FERCL_CLI_PROGRESS_LINE_H

#include <stddef.h>

#include "fercl/train.h"

/* The terminal's width in columns: TIOCGWINSZ on fd, else $COLUMNS, else 80. */
int fc_cli_terminal_columns(int fd);

/* Writes the progress line of p (eta: its remaining time, already
 * formatted) into buf: the longest of its forms (full; without epoch and loss
 * parts, short, counter only) that is narrower than columns, else the
 * shortest cut to columns - 1 characters. columns <= 0: no limit (the full
 * form, for plain log lines). Returns strlen(buf). */
size_t fc_cli_progress_line(const fc_train_progress *p, const char *eta, int columns, char *buf,
                            size_t size);

#endif
