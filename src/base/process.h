// The calling process's id without a system call (glibc stopped caching
// getpid). Kept current across fork by a pthread_atfork child handler.
#pragma once

#include <stdint.h>

#include <atomic>

namespace shunt {

extern std::atomic<int32_t> g_process_id;  // 0 until first use
int32_t ProcessIdSlow();

inline int32_t ProcessId() {
  const int32_t pid = g_process_id.load(std::memory_order_relaxed);
  return pid != 0 ? pid : ProcessIdSlow();
}

}  // namespace shunt
