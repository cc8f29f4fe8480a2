#include "arena/futex.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace shunt {

int FutexWait(std::atomic<uint32_t>* word, uint32_t expected,
              const timespec* deadline) {
  // FUTEX_WAIT_BITSET takes an absolute deadline, so a restarted wait does
  // not stretch the timeout. Not FUTEX_PRIVATE_FLAG: sleepers and wakers
  // live in different processes.
  const long rc =
      syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAIT_BITSET,
              expected, deadline, nullptr, FUTEX_BITSET_MATCH_ANY);
  if (rc == 0) return 0;
  if (errno == EAGAIN) return 0;
  if (errno == ETIMEDOUT) return -ETIMEDOUT;
  if (errno == EINTR) return -EINTR;
  return -errno;
}

void FutexWake(std::atomic<uint32_t>* word, int n) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAKE, n, nullptr,
          nullptr, 0);
}

timespec MonotonicNow() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts;
}

timespec DeadlineAfterNs(int64_t ns) {
  timespec ts = MonotonicNow();
  const int64_t total = ts.tv_nsec + ns % 1000000000;
  ts.tv_sec += ns / 1000000000 + total / 1000000000;
  ts.tv_nsec = total % 1000000000;
  return ts;
}

int64_t NsUntil(const timespec& deadline) {
  const timespec now = MonotonicNow();
  const int64_t ns = (deadline.tv_sec - now.tv_sec) * 1000000000LL +
                     (deadline.tv_nsec - now.tv_nsec);
  return ns > 0 ? ns : 0;
}

}  // namespace shunt
