/* The training progress line: the longest of its forms that fits the
 * terminal, so a redraw (\r) never wraps onto a second row. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli/progress_line.h"

int fc_cli_terminal_columns(int fd) {
  struct winsize ws;
  if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  const char *env = getenv("COLUMNS");
  if (env && *env) {
    char *end = NULL;
    long v = strtol(env, &end, 10);
    if (end && *end == '\0' && v > 0 && v < 100000) return (int)v;
  }
  return 80;
}

size_t fc_cli_progress_line(const fc_train_progress *p, const char *eta, int columns, char *buf,
                            size_t size) {
  if (!buf || size == 0) return 0;
  const long long step = (long long)p->step, total = (long long)p->total_steps;
  const double mask = p->mask_rate == p->mask_rate ? p->mask_rate : 0.0;
  const int ssl = p->loss_u != 0 || p->loss_n != 0 || p->mask_rate == p->mask_rate;
  /* Longest first; each drops what matters least. */
  for (int form = 0; form < 5; form++) {
    int n = 0;
    switch (form) {
    case 0:
      n = ssl ? snprintf(buf, size,
                         "step %lld/%lld  ep %.2f  loss %.4f (sup %.4f  pseudo %.4f  neg %.4f)  "
                         "mask %.2f  lr %.4g  "
                         "%.1f img/s  ETA %s",
                         step, total, p->epoch, p->loss, p->loss_s, p->loss_u, p->loss_n, mask,
                         p->lr, p->images_per_s, eta)
              : snprintf(buf, size,
                         "step %lld/%lld  ep %.2f  loss %.4f  lr %.4g  %.1f img/s  ETA %s", step,
                         total, p->epoch, p->loss, p->lr, p->images_per_s, eta);
      break;
    case 1:
      n = ssl ? snprintf(buf, size,
                         "step %lld/%lld  loss %.4f  mask %.2f  lr %.4g  %.1f img/s  ETA %s", step,
                         total, p->loss, mask, p->lr, p->images_per_s, eta)
              : snprintf(buf, size, "step %lld/%lld  loss %.4f  %.1f img/s  ETA %s", step, total,
                         p->loss, p->images_per_s, eta);
      break;
    case 2:
      n = ssl ? snprintf(buf, size, "step %lld/%lld  loss %.4f  mask %.2f  ETA %s", step, total,
                         p->loss, mask, eta)
              : snprintf(buf, size, "step %lld/%lld  loss %.4f  ETA %s", step, total, p->loss, eta);
      break;
    case 3: n = snprintf(buf, size, "%lld/%lld  ETA %s", step, total, eta); break;
    default: n = snprintf(buf, size, "%lld/%lld", step, total); break;
    }
    if (n < 0) n = 0;
    if ((size_t)n >= size) n = (int)size - 1;
    /* Strictly narrower than the terminal: text in the last column wraps on some terminals. */
    if (columns <= 0 || n < columns) return (size_t)n;
  }
  size_t keep = columns > 1 ? (size_t)columns - 1 : 0; /* ASCII only: bytes are columns */
  if (keep < size) buf[keep] = '\0';
  return strlen(buf);
}
