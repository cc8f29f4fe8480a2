#include "base/user_copy.h"

#include <signal.h>
#include <string.h>
#include <ucontext.h>

#include <mutex>

extern "C" {
extern const char shunt_copy_user_begin[];
extern const char shunt_copy_user_end[];
extern const char shunt_copy_user_rep[];
extern const char shunt_copy_user_fixup[];
// The linker's bounds of the inline copies' fixup table (user_copy.h);
// hidden, so that each module finds its own.
[[gnu::visibility("hidden"),
  gnu::weak]] extern const shunt::UserCopyFixup __start_shunt_copy_fixups[];
[[gnu::visibility("hidden"),
  gnu::weak]] extern const shunt::UserCopyFixup __stop_shunt_copy_fixups[];
}

namespace shunt {
namespace {

struct sigaction g_prev_segv;
struct sigaction g_prev_bus;

void Chain(const struct sigaction& prev, int sig, siginfo_t* info, void* uc) {
  if (prev.sa_flags & SA_SIGINFO) {
    prev.sa_sigaction(sig, info, uc);
  } else if (prev.sa_handler == SIG_IGN) {
    return;
  } else if (prev.sa_handler == SIG_DFL) {
    // Returning re-executes the faulting instruction under the default
    // action: the process dies exactly as it would have without shunt.
    signal(sig, SIG_DFL);
  } else {
    prev.sa_handler(sig);
  }
}

// The address an offset field of a fixup entry stands for.
const char* Target(const int32_t* field) {
  return reinterpret_cast<const char*>(field) + *field;
}

// Where a fault at pc inside a user copy resumes, or nullptr if pc is not
// in one (the kernel's search_exception_tables, for shunt's copies).
const char* FixupFor(const char* pc, ucontext_t* uc) {
  if (pc >= shunt_copy_user_begin && pc < shunt_copy_user_end) {
    if (pc == shunt_copy_user_rep)
      uc->uc_mcontext.gregs[REG_RDX] = uc->uc_mcontext.gregs[REG_RCX];
    return shunt_copy_user_fixup;
  }
  for (const UserCopyFixup* e = __start_shunt_copy_fixups;
       e != nullptr && e < __stop_shunt_copy_fixups; ++e) {
    if (pc >= Target(&e->begin) && pc < Target(&e->end))
      return Target(&e->fixup);
  }
  return nullptr;
}

void OnFault(int sig, siginfo_t* info, void* ucv) {
  auto* uc = static_cast<ucontext_t*>(ucv);
  greg_t& rip = uc->uc_mcontext.gregs[REG_RIP];
  if (const char* fixup = FixupFor(reinterpret_cast<const char*>(rip), uc)) {
    rip = reinterpret_cast<greg_t>(fixup);
    return;
  }
  Chain(sig == SIGBUS ? g_prev_bus : g_prev_segv, sig, info, ucv);
}

}  // namespace

void InstallUserCopyFaultHandler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = OnFault;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &g_prev_segv);
    sigaction(SIGBUS, &sa, &g_prev_bus);
  });
}

}  // namespace shunt
