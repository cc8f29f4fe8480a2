#include "base/process.h"

#include <pthread.h>
#include <unistd.h>

namespace shunt {

std::atomic<int32_t> g_process_id{0};

namespace {
void Refresh() { g_process_id.store(getpid(), std::memory_order_relaxed); }
}  // namespace

int32_t ProcessIdSlow() {
  static const bool registered = [] {
    pthread_atfork(nullptr, nullptr, Refresh);
    return true;
  }();
  (void)registered;
  Refresh();
  return g_process_id.load(std::memory_order_relaxed);
}

}  // namespace shunt
