#include "arena/futex.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace shunt {

int FutexWait(std::atomic<uint32_t>* word, uint32_t expected,
              const timespec* deadline) {
  FlushDeferredWakes();  // never sleep on a wake this thread still owes
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

namespace internal {

thread_local int t_deferred_wakes __attribute__((tls_model("initial-exec"))) =
    0;

namespace {
struct DeferredWake {
  std::atomic<uint32_t>* word;
  int n;
};
constexpr int kMaxDeferred = 8;
thread_local DeferredWake t_deferred[kMaxDeferred]
    __attribute__((tls_model("initial-exec")));
}  // namespace

void FlushDeferredWakesSlow() {
  // Reset first: a wake never defers another, but keep the loop re-entrant.
  const int n = t_deferred_wakes;
  t_deferred_wakes = 0;
  for (int i = 0; i < n; ++i) FutexWake(t_deferred[i].word, t_deferred[i].n);
}

}  // namespace internal

void FutexWakeDeferred(std::atomic<uint32_t>* word, int n) {
  using internal::t_deferred;
  using internal::t_deferred_wakes;
  for (int i = 0; i < t_deferred_wakes; ++i) {
    if (t_deferred[i].word == word) {
      if (n > t_deferred[i].n) t_deferred[i].n = n;
      return;
    }
  }
  if (t_deferred_wakes == internal::kMaxDeferred) {
    FutexWake(word, n);  // full: wake now rather than lose it
    return;
  }
  t_deferred[t_deferred_wakes++] = {word, n};
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

timespec DeadlineAfter(const timespec& timeout) {
  timespec ts = MonotonicNow();
  ts.tv_nsec += timeout.tv_nsec;
  const time_t carry = ts.tv_nsec / 1000000000;
  ts.tv_nsec %= 1000000000;
  if (timeout.tv_sec > INT64_MAX - ts.tv_sec - carry) {
    ts.tv_sec = INT64_MAX;
    ts.tv_nsec = 999999999;
  } else {
    ts.tv_sec += timeout.tv_sec + carry;
  }
  return ts;
}

int64_t NsUntil(const timespec& deadline) {
  const timespec now = MonotonicNow();
  const int64_t secs = deadline.tv_sec - now.tv_sec;
  if (secs >= INT64_MAX / 1000000000 - 1) return INT64_MAX;
  const int64_t ns = secs * 1000000000LL + (deadline.tv_nsec - now.tv_nsec);
  return ns > 0 ? ns : 0;
}

}  // namespace shunt
