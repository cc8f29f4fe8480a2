#include "arena/mutex.h"

#include <immintrin.h>

namespace shunt {

void ArenaMutex::LockSlow(uint32_t c) {
  // Critical sections are a few hundred instructions: a short spin usually
  // finds the lock free without a system call.
  for (int i = 0; i < 100; ++i) {
    _mm_pause();
    c = 0;
    if (word_.compare_exchange_weak(c, 1, std::memory_order_acquire,
                                    std::memory_order_relaxed))
      return;
  }
  if (c != 2) c = word_.exchange(2, std::memory_order_acquire);
  while (c != 0) {
    FutexWait(&word_, 2, nullptr);
    c = word_.exchange(2, std::memory_order_acquire);
  }
}

}  // namespace shunt
