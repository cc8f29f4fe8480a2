#include "arena/wait_queue.h"

#include <errno.h>
#include <immintrin.h>

#include <algorithm>

namespace shunt {

namespace {

void StartDeadline(WaitBudget* budget) {
  if (budget->timeout_ns > 0 && !budget->has_deadline) {
    budget->deadline = DeadlineAfterNs(budget->timeout_ns);
    budget->has_deadline = true;
  }
}

}  // namespace

bool SpinUntilChanged(const WaitQueue* wq, uint32_t seen, WaitBudget* budget) {
  if (budget->spin_ns <= 0) return false;
  StartDeadline(budget);
  int64_t spin = budget->spin_ns;
  if (budget->has_deadline) spin = std::min(spin, NsUntil(budget->deadline));
  const timespec spin_end = DeadlineAfterNs(spin);
  do {
    for (int i = 0; i < 64; ++i) {
      if (wq->seq.load(std::memory_order_acquire) != seen) return true;
      _mm_pause();
    }
  } while (NsUntil(spin_end) > 0);
  return false;
}

WaitResult BlockOnce(WaitQueue* wq, uint32_t seen, WaitBudget* budget) {
  StartDeadline(budget);
  // A wait with a deadline ends with EINTR when a handler runs, restarted
  // or not (arena/futex.h); a far one serves a call that has progressed.
  timespec far{};
  const timespec* deadline = nullptr;
  if (budget->has_deadline) {
    deadline = &budget->deadline;
  } else if (budget->progress) {
    far = DeadlineAfterNs(int64_t{86400} * 1000000000);
    deadline = &far;
  }
  const int rc = FutexWait(&wq->seq, seen, deadline);
  if (rc == -EINTR) return WaitResult::kInterrupted;
  if (budget->has_deadline && NsUntil(budget->deadline) == 0)
    return WaitResult::kTimedOut;
  return WaitResult::kChanged;
}

}  // namespace shunt
