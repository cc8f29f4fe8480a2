#include "arena/wait_queue.h"

#include <errno.h>
#include <immintrin.h>

namespace shunt {

WaitResult BlockOnce(WaitQueue* wq, uint32_t seen, WaitBudget* budget) {
  if (budget->timeout_ns > 0 && !budget->has_deadline) {
    budget->deadline = DeadlineAfterNs(budget->timeout_ns);
    budget->has_deadline = true;
  }
  if (budget->spin_ns > 0) {
    const timespec spin_end = DeadlineAfterNs(budget->spin_ns);
    do {
      for (int i = 0; i < 64; ++i) {
        if (wq->seq.load(std::memory_order_acquire) != seen)
          return WaitResult::kChanged;
        _mm_pause();
      }
    } while (NsUntil(spin_end) > 0);
  }
  const int rc = FutexWait(&wq->seq, seen,
                           budget->has_deadline ? &budget->deadline : nullptr);
  if (rc == -EINTR) return WaitResult::kInterrupted;
  if (budget->has_deadline && NsUntil(budget->deadline) == 0)
    return WaitResult::kTimedOut;
  return WaitResult::kChanged;
}

}  // namespace shunt
