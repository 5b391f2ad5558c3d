/* Fuzz target: reading a run's log.csv back (train --resume). */
#include <string.h>

#include "fuzz_common.h"
#include "ssl/runlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fc_fuzz_init();
  char path[1024];
  fc_fuzz_write("log.csv", data, size, path, sizeof path);
  char *names[3] = {"a", "b", "c"};
  fc_runlog log;
  FC_FUZZ_CHECK(fc_runlog_init(&log, 3, names) == FC_OK, "init");
  int64_t up_to = size ? (int64_t)data[size - 1] : 1000;
  if (fc_runlog_read_csv(&log, path, up_to) == FC_OK)
    for (int64_t i = 0; i < log.count; i++)
      FC_FUZZ_CHECK(log.rows[i].step >= 1 && log.rows[i].step <= up_to, "row step %lld beyond %lld",
                    (long long)log.rows[i].step, (long long)up_to);
  fc_runlog_free(&log);
  return 0;
}
