#include "base/process.h"

#include <pthread.h>
#include <unistd.h>

#include <atomic>

namespace shunt {
namespace {

std::atomic<int32_t> g_pid{0};

void Refresh() { g_pid.store(getpid(), std::memory_order_relaxed); }

}  // namespace

int32_t ProcessId() {
  int32_t pid = g_pid.load(std::memory_order_relaxed);
  if (pid == 0) {
    static const bool registered = [] {
      pthread_atfork(nullptr, nullptr, Refresh);
      return true;
    }();
    (void)registered;
    Refresh();
    pid = g_pid.load(std::memory_order_relaxed);
  }
  return pid;
}

}  // namespace shunt
