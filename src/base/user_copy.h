// Copies to and from caller-supplied memory that may be unmapped, as the
// kernel's copy_to_user/copy_from_user do: a bad address yields EFAULT
// instead of a crash.
#pragma once

#include <stddef.h>

extern "C" size_t shunt_copy_user(void* dst, const void* src, size_t n);

namespace shunt {

// Installs the fault handler that makes CopyUser recoverable. Idempotent;
// called when the arena is first attached. A fault anywhere else is passed
// to the handler that was installed before (or the default action).
void InstallUserCopyFaultHandler();

// Copies n bytes; returns true when all were copied, false on a fault (some
// prefix may have been copied).
inline bool CopyUser(void* dst, const void* src, size_t n) {
  return shunt_copy_user(dst, src, n) == 0;
}

}  // namespace shunt
