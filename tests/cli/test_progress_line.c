/* The progress line as a pure function (issue 19 item 11): at any terminal
 * width it is narrower than the terminal (a redraw never wraps onto a second
 * row), keeps the step counter, and is the full line when there is room or
 * when it is a plain log line (not a terminal). $COLUMNS is the width when
 * the terminal does not say. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/progress_line.h"
#include "testutil.h"

static fc_train_progress ssl_progress(void) {
  fc_train_progress p = {.step = 1234,
                         .total_steps = 70000,
                         .epoch = 17.5,
                         .loss = 1.2345,
                         .loss_s = 0.5,
                         .loss_u = 0.6,
                         .loss_n = 0.1345,
                         .mask_rate = 0.44,
                         .lr = 0.0291,
                         .images_per_s = 512.3,
                         .eta_seconds = 3600};
  return p;
}

START_TEST(every_width_fits) {
  fc_train_progress ssl = ssl_progress(), sup = ssl;
  sup.loss_u = sup.loss_n = 0;
  sup.mask_rate = NAN;
  const fc_train_progress *cases[2] = {&ssl, &sup};
  for (int c = 0; c < 2; c++) {
    char full[512];
    size_t full_n = fc_cli_progress_line(cases[c], "2h05m", 0, full, sizeof full);
    ck_assert_uint_eq(full_n, strlen(full));
    ck_assert_ptr_nonnull(strstr(full, "img/s"));
    for (int cols = 1; cols <= 200; cols++) {
      char line[512];
      size_t n = fc_cli_progress_line(cases[c], "2h05m", cols, line, sizeof line);
      ck_assert_uint_eq(n, strlen(line));
      ck_assert_msg((int)n < cols || (cols == 1 && n == 0), "%d columns: %zu characters: '%s'",
                    cols, n, line);
      if (cols > (int)full_n) ck_assert_str_eq(line, full);              /* room: nothing dropped */
      if (cols >= 12) ck_assert_ptr_nonnull(strstr(line, "1234/70000")); /* the counter survives */
      if (cols >= 40) ck_assert_ptr_nonnull(strstr(line, "ETA 2h05m"));
    }
  }
  /* 80 columns: the SSL line drops its loss parts, keeps mask, lr, speed. */
  char line[512];
  fc_cli_progress_line(&ssl, "2h05m", 80, line, sizeof line);
  ck_assert_ptr_null(strstr(line, "pseudo"));
  ck_assert_ptr_nonnull(strstr(line, "mask 0.44"));
  ck_assert_ptr_nonnull(strstr(line, "img/s"));
  /* A tiny buffer is cut, never overrun. */
  char small[8];
  ck_assert_uint_eq(fc_cli_progress_line(&ssl, "2h05m", 0, small, sizeof small), 7);
}
END_TEST

START_TEST(columns_from_the_environment) {
  /* Not a terminal (/dev/null as the fd): $COLUMNS, else 80. */
  FILE *null = fopen("/dev/null", "w");
  ck_assert_ptr_nonnull(null);
  int fd = fileno(null);
  setenv("COLUMNS", "57", 1);
  ck_assert_int_eq(fc_cli_terminal_columns(fd), 57);
  setenv("COLUMNS", "wide", 1);
  ck_assert_int_eq(fc_cli_terminal_columns(fd), 80);
  setenv("COLUMNS", "-3", 1);
  ck_assert_int_eq(fc_cli_terminal_columns(fd), 80);
  unsetenv("COLUMNS");
  ck_assert_int_eq(fc_cli_terminal_columns(fd), 80);
  fclose(null);
}
END_TEST

int main(void) {
  Suite *s = suite_create("cli-progress");
  TCase *tc = tcase_create("progress");
  tcase_add_test(tc, every_width_fits);
  tcase_add_test(tc, columns_from_the_environment);
  suite_add_tcase(s, tc);
  return fc_test_run_suite(s, 0);
}
