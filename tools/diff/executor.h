// Executor: runs a Sequence in one world (one Api) and records an Outcome
// per op. It owns the world's descriptors (kSlots socket slots and a
// non-blocking pipe) for the duration of Run and closes them all before
// returning; it owns nothing between runs.
//
// Never blocks: before a call that could wait, it asks the descriptor's
// O_NONBLOCK (F_GETFL) and, if clear, adds MSG_DONTWAIT to a call that takes
// flags or skips one that does not (read, write, stream connect, accept with
// nothing pending); both worlds make the same decision from their own state
// and record it, so a difference there is itself a divergence.
#ifndef SHUNT_TOOLS_DIFF_EXECUTOR_H_
#define SHUNT_TOOLS_DIFF_EXECUTOR_H_

#include <sys/socket.h>
#include <sys/un.h>

#include <map>
#include <string>
#include <vector>

#include "api.h"
#include "op.h"
#include "outcome.h"

namespace shunt_diff {

// Where a world's names live. Both worlds of one comparison use the same
// directory and prefix (one after the other, the directory emptied
// between), so the names they report are the same bytes.
struct WorldConfig {
  std::string dir;              // an empty directory of fixed-length name
  std::string abstract_prefix;  // unique to the running process
};

class Executor {
 public:
  Executor(const Api& api, const WorldConfig& config);
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  std::vector<Outcome> Run(const Sequence& seq);

  // Runs one op on the current world (between Begin and End); for the
  // concurrency variants, which interleave ops of two executors themselves.
  void Begin();
  Outcome Step(const Op& op);
  void End();
  // The descriptor behind a target now (-1 for an empty slot).
  int Fd(int target) const;

 private:
  struct Name {
    sockaddr_un sun;
    socklen_t len;
    bool null;
    const sockaddr* sa() const {
      return null ? nullptr : reinterpret_cast<const sockaddr*>(&sun);
    }
  };
  Name BuildName(uint32_t spec) const;
  // Canonicalises an autobind name (5 hex digits chosen by the system) in a
  // returned name buffer of cap bytes holding a name of len bytes.
  std::string NameBytes(const char* buf, socklen_t cap, socklen_t len);
  void SetSlot(int slot, int fd, int type, Outcome* out);
  bool Blocking(int fd) const;
  // The never-block rule for the send and receive families: on a blocking
  // descriptor a call with flags gets MSG_DONTWAIT in *flags, a plain one
  // (read, write, ...) is skipped (false). Both are recorded in *out.
  bool NonBlockingFlags(int fd, bool plain, int op_flags, int* flags,
                        Outcome* out) const;

  void DoSocket(const Op& op, Outcome* out);
  void DoSocketpair(const Op& op, Outcome* out);
  void DoAccept(const Op& op, Outcome* out);
  void DoSend(const Op& op, Outcome* out);
  void DoRecv(const Op& op, Outcome* out);
  void DoSockopt(const Op& op, Outcome* out);
  void DoIoctl(const Op& op, Outcome* out);
  void DoPoll(const Op& op, Outcome* out);
  void DoGetname(const Op& op, Outcome* out);
  void RecordControl(const msghdr& mh, const std::string& prefix, Outcome* out);

  const Api& api_;
  WorldConfig config_;
  int slot_fd_[kSlots];
  int slot_type_[kSlots];
  int pipe_[2] = {-1, -1};
  std::map<std::string, int> autobind_;
};

// Empties dir (the world's socket files); the directory itself stays.
void CleanDir(const std::string& dir);

}  // namespace shunt_diff

#endif  // SHUNT_TOOLS_DIFF_EXECUTOR_H_
