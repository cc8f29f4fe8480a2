// The calling process's id without a system call (glibc stopped caching
// getpid). Kept current across fork by a pthread_atfork child handler.
#pragma once

#include <stdint.h>

namespace shunt {

int32_t ProcessId();

}  // namespace shunt
