// ArenaMutex: a process-shared mutex in one 32-bit arena word.
#pragma once

#include <stdint.h>

#include <atomic>

#include "arena/futex.h"

namespace shunt {

// Three states (0 free, 1 locked, 2 locked with sleepers): the uncontended
// lock and unlock are one atomic instruction each and make no system call.
// A contended locker spins briefly, then sleeps on the word with a futex.
// Holds no pointers, so it works at any address in any process.
class ArenaMutex {
 public:
  void Lock() {
    uint32_t c = 0;
    if (word_.compare_exchange_strong(c, 1, std::memory_order_acquire,
                                      std::memory_order_relaxed))
      return;
    LockSlow(c);
  }
  bool TryLock() {
    uint32_t c = 0;
    return word_.compare_exchange_strong(c, 1, std::memory_order_acquire,
                                         std::memory_order_relaxed);
  }
  // Also performs the wakes this thread deferred while holding the lock.
  void Unlock() {
    if (word_.exchange(0, std::memory_order_release) == 2) FutexWake(&word_, 1);
    FlushDeferredWakes();
  }

 private:
  void LockSlow(uint32_t c);
  std::atomic<uint32_t> word_{0};
};

// Holds an ArenaMutex for a scope.
class MutexLock {
 public:
  explicit MutexLock(ArenaMutex* m) : m_(m) { m_->Lock(); }
  ~MutexLock() { m_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  ArenaMutex* m_;
};

}  // namespace shunt
