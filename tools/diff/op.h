// Op and Sequence: one socket operation of a generated test, as plain data.
// An op names descriptors by world slot (never by number), so the same op
// means the same thing in the kernel world and in the shunt world. Owns no
// resources; every field is a value the executor interprets (op.cc says how,
// for the listing).
#ifndef SHUNT_TOOLS_DIFF_OP_H_
#define SHUNT_TOOLS_DIFF_OP_H_

#include <cstdint>
#include <string>
#include <vector>

namespace shunt_diff {

// Live descriptors a world can hold.
constexpr int kSlots = 6;

// Descriptor targets beyond the slots 0..kSlots-1.
enum Target : int8_t {
  kPipeRead = kSlots,         // read end of a non-blocking pipe (not a socket)
  kPipeWrite = kSlots + 1,    // its write end
  kBadNegative = kSlots + 2,  // -1
  kBadClosed = kSlots + 3,    // a number no descriptor uses
  kNoTarget = -1,
};

enum class OpKind : uint8_t {
  kSocket,      // dst = socket(a, b, c)
  kSocketpair,  // dst, dst2 = socketpair(a, b, c)
  kBind,        // bind(fd, name)
  kListen,      // listen(fd, a)
  kConnect,     // connect(fd, name)
  kAccept,      // dst = accept4(fd, namebuf[a] or NULL if a < 0, flags)
  kSend,        // call: SendCall; a bytes in b iovecs, c messages (mmsg)
  kRecv,        // call: RecvCall; a bytes in b iovecs, name buffer c,
                // control buffer d, c/d < 0: NULL; vlen e (mmsg)
  kShutdown,    // shutdown(fd, a)
  kClose,       // close(fd)
  kDup,         // dst = dup(fd)
  kSetsockopt,  // setsockopt(fd, a, b, value c, optlen d)
  kGetsockopt,  // getsockopt(fd, a, b, buffer d)
  kIoctl,       // ioctl(fd, a)
  kFcntl,       // fcntl(fd, a, b)
  kPoll,        // poll({fd, a}, {fd2, b}, {dst, c}, timeout 0)
  kGetname,     // call 0: getsockname, 1: getpeername, buffer a
};

enum SendCall : uint8_t {
  kSendPlain,
  kSendTo,
  kSendMsg,
  kSendMmsg,
  kWrite,
  kWritev
};
enum RecvCall : uint8_t {
  kRecvPlain,
  kRecvFrom,
  kRecvMsg,
  kRecvMmsg,
  kRead,
  kReadv
};

// A socket address the executor builds in each world (name field of Op):
// kind | id << 8 | form << 16.
enum NameKind : uint8_t {
  kNameNone,      // NULL, length 0
  kNamePath,      // <world dir>/n<id>
  kNameAbstract,  // "\0" + <run prefix> + "n<id>"
  kNameAutobind,  // family only (length 2)
  kNameShort,     // length 1
  kNameInet,      // AF_INET family, full length
  kNameOversize,  // length sizeof(sockaddr_un) + 1
  kNameNoDir,     // <world dir>/missing/n<id> (ENOENT)
  kNameLongPath,  // sun_path filled without a NUL
  kNameUnspec,    // AF_UNSPEC family only (length 2): dissolves a datagram
                  // association
};
// Path name length forms.
enum NameForm : uint8_t { kFormNul, kFormNoNul, kFormFull };

inline uint32_t MakeName(NameKind kind, int id, NameForm form) {
  return kind | static_cast<uint32_t>(id) << 8 |
         static_cast<uint32_t>(form) << 16;
}
inline NameKind NameKindOf(uint32_t n) { return NameKind(n & 0xff); }
inline int NameIdOf(uint32_t n) { return (n >> 8) & 0xff; }
inline NameForm NameFormOf(uint32_t n) { return NameForm((n >> 16) & 0xff); }

struct Op {
  OpKind kind = OpKind::kClose;
  uint8_t call = 0;
  int8_t fd = kNoTarget;
  int8_t fd2 = kNoTarget;
  int8_t dst = kNoTarget;
  int8_t dst2 = kNoTarget;
  int32_t a = 0, b = 0, c = 0, d = 0, e = 0;
  int32_t flags = 0;
  uint32_t name = 0;
  uint64_t seed = 0;  // payload bytes and iovec split points
  bool operator==(const Op&) const = default;
};

using Sequence = std::vector<Op>;

// The op as a C-like statement, e.g. "send(s2, <12 bytes>, 12, MSG_PEEK)".
std::string Describe(const Op& op);
// "s0".."s5", "pipe[0]", "-1", ...
std::string TargetName(int t);
std::string NameText(uint32_t name);
std::string MsgFlagsText(int flags);
std::string EventsText(int events);

}  // namespace shunt_diff

#endif  // SHUNT_TOOLS_DIFF_OP_H_
