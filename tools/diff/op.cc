#include "op.h"

#include <fcntl.h>
#include <linux/sockios.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cstdio>

namespace shunt_diff {
namespace {

struct Bit {
  int bit;
  const char* name;
};

std::string BitsText(int v, const Bit* bits, size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    if ((v & bits[i].bit) == 0) continue;
    if (!s.empty()) s += "|";
    s += bits[i].name;
    v &= ~bits[i].bit;
  }
  if (v != 0) {
    char hex[16];
    snprintf(hex, sizeof hex, "0x%x", static_cast<unsigned>(v));
    if (!s.empty()) s += "|";
    s += hex;
  }
  return s.empty() ? "0" : s;
}

// SOCK_NONBLOCK | SOCK_CLOEXEC as socket, socketpair and accept4 take them.
std::string SockFlagsText(int f) {
  static const Bit kBits[] = {{SOCK_NONBLOCK, "SOCK_NONBLOCK"},
                              {SOCK_CLOEXEC, "SOCK_CLOEXEC"}};
  return BitsText(f, kBits, 2);
}

std::string TypeText(int t) {
  std::string base;
  switch (t & 0xf) {
    case SOCK_STREAM:
      base = "SOCK_STREAM";
      break;
    case SOCK_DGRAM:
      base = "SOCK_DGRAM";
      break;
    case SOCK_SEQPACKET:
      base = "SOCK_SEQPACKET";
      break;
    default:
      base = std::to_string(t & 0xf);
  }
  if ((t & ~0xf) == 0) return base;
  return base + "|" + SockFlagsText(t & ~0xf);
}

std::string OptText(int level, int name) {
  static const struct {
    int v;
    const char* n;
  } kNames[] = {
      {SO_SNDBUF, "SO_SNDBUF"},       {SO_RCVBUF, "SO_RCVBUF"},
      {SO_RCVLOWAT, "SO_RCVLOWAT"},   {SO_PEEK_OFF, "SO_PEEK_OFF"},
      {SO_PASSCRED, "SO_PASSCRED"},   {SO_RCVTIMEO, "SO_RCVTIMEO"},
      {SO_SNDTIMEO, "SO_SNDTIMEO"},   {SO_TYPE, "SO_TYPE"},
      {SO_ERROR, "SO_ERROR"},         {SO_DOMAIN, "SO_DOMAIN"},
      {SO_PROTOCOL, "SO_PROTOCOL"},   {SO_ACCEPTCONN, "SO_ACCEPTCONN"},
      {SO_PEERCRED, "SO_PEERCRED"},   {SO_REUSEADDR, "SO_REUSEADDR"},
      {SO_KEEPALIVE, "SO_KEEPALIVE"}, {SO_LINGER, "SO_LINGER"},
      {SO_PRIORITY, "SO_PRIORITY"},   {SO_SNDLOWAT, "SO_SNDLOWAT"},
      {SO_BROADCAST, "SO_BROADCAST"}, {SO_OOBINLINE, "SO_OOBINLINE"},
      {SO_DONTROUTE, "SO_DONTROUTE"}};
  std::string s = level == SOL_SOCKET ? "SOL_SOCKET" : std::to_string(level);
  for (const auto& k : kNames)
    if (k.v == name) return s + ", " + k.n;
  return s + ", " + std::to_string(name);
}

std::string Buf(int len) {
  return len < 0 ? "NULL" : "buf[" + std::to_string(len) + "]";
}

}  // namespace

std::string EventsText(int ev) {
  static const Bit kBits[] = {
      {POLLIN, "POLLIN"},         {POLLPRI, "POLLPRI"},
      {POLLOUT, "POLLOUT"},       {POLLERR, "POLLERR"},
      {POLLHUP, "POLLHUP"},       {POLLNVAL, "POLLNVAL"},
      {POLLRDNORM, "POLLRDNORM"}, {POLLRDBAND, "POLLRDBAND"},
      {POLLWRNORM, "POLLWRNORM"}, {POLLWRBAND, "POLLWRBAND"},
      {POLLRDHUP, "POLLRDHUP"}};
  return BitsText(ev, kBits, sizeof kBits / sizeof kBits[0]);
}

std::string MsgFlagsText(int flags) {
  static const Bit kBits[] = {
      {MSG_OOB, "MSG_OOB"},           {MSG_PEEK, "MSG_PEEK"},
      {MSG_CTRUNC, "MSG_CTRUNC"},     {MSG_TRUNC, "MSG_TRUNC"},
      {MSG_DONTWAIT, "MSG_DONTWAIT"}, {MSG_EOR, "MSG_EOR"},
      {MSG_WAITALL, "MSG_WAITALL"},   {MSG_CONFIRM, "MSG_CONFIRM"},
      {MSG_ERRQUEUE, "MSG_ERRQUEUE"}, {MSG_NOSIGNAL, "MSG_NOSIGNAL"},
      {MSG_MORE, "MSG_MORE"},         {MSG_CMSG_CLOEXEC, "MSG_CMSG_CLOEXEC"}};
  return BitsText(flags, kBits, sizeof kBits / sizeof kBits[0]);
}

std::string TargetName(int t) {
  if (t >= 0 && t < kSlots) return "s" + std::to_string(t);
  switch (t) {
    case kPipeRead:
      return "pipe[0]";
    case kPipeWrite:
      return "pipe[1]";
    case kBadNegative:
      return "-1";
    case kBadClosed:
      return "CLOSED_FD";
    default:
      return "?";
  }
}

std::string NameText(uint32_t name) {
  const std::string id = std::to_string(NameIdOf(name));
  const char* form = NameFormOf(name) == kFormFull    ? ", sizeof(sockaddr_un)"
                     : NameFormOf(name) == kFormNoNul ? ", no NUL"
                                                      : "";
  switch (NameKindOf(name)) {
    case kNameNone:
      return "NULL, 0";
    case kNamePath:
      return std::string("path(\"DIR/n") + id + "\"" + form + ")";
    case kNameAbstract:
      return std::string("abstract(\"\\0PREFIXn") + id + "\"" + form + ")";
    case kNameAutobind:
      return "{AF_UNIX}, 2 /* autobind */";
    case kNameShort:
      return "{AF_UNIX}, 1";
    case kNameInet:
      return "{AF_INET}, 16";
    case kNameOversize:
      return "{AF_UNIX}, sizeof(sockaddr_un) + 1";
    case kNameNoDir:
      return "path(\"DIR/missing/n0\")";
    case kNameLongPath:
      return "path(\"DIR/LLL...\", 108 bytes, no NUL)";
    case kNameUnspec:
      return "{AF_UNSPEC}, 2";
  }
  return "?";
}

std::string Describe(const Op& op) {
  const std::string fd = TargetName(op.fd);
  const std::string dst = TargetName(op.dst);
  switch (op.kind) {
    case OpKind::kSocket:
      return dst + " = socket(" +
             (op.a == AF_UNIX ? std::string("AF_UNIX") : std::to_string(op.a)) +
             ", " + TypeText(op.b) + ", " + std::to_string(op.c) + ")";
    case OpKind::kSocketpair:
      return "socketpair(" +
             (op.a == AF_UNIX ? std::string("AF_UNIX") : std::to_string(op.a)) +
             ", " + TypeText(op.b) + ", " + std::to_string(op.c) + ", {" + dst +
             ", " + TargetName(op.dst2) + "})";
    case OpKind::kBind:
      return "bind(" + fd + ", " + NameText(op.name) + ")";
    case OpKind::kListen:
      return "listen(" + fd + ", " + std::to_string(op.a) + ")";
    case OpKind::kConnect:
      return "connect(" + fd + ", " + NameText(op.name) + ")";
    case OpKind::kAccept:
      return dst + " = accept4(" + fd + ", " + Buf(op.a) + ", " +
             SockFlagsText(op.flags) + ")";
    case OpKind::kSend: {
      static const char* kCalls[] = {"send",     "sendto", "sendmsg",
                                     "sendmmsg", "write",  "writev"};
      std::string s = std::string(kCalls[op.call]) + "(" + fd + ", <" +
                      std::to_string(op.a) + " bytes in " +
                      std::to_string(op.b) + " iov>";
      if (op.call == kSendMmsg) s += " x " + std::to_string(op.c) + " msgs";
      if (op.call == kSendTo || op.call == kSendMsg || op.call == kSendMmsg)
        s += ", to " + NameText(op.name);
      if (op.e == 1) s += ", SCM_RIGHTS{pipe[0]}";
      if (op.e == 2) s += ", SCM_CREDENTIALS{self}";
      if (op.call != kWrite && op.call != kWritev)
        s += ", " + MsgFlagsText(op.flags);
      return s + ")";
    }
    case OpKind::kRecv: {
      static const char* kCalls[] = {"recv",     "recvfrom", "recvmsg",
                                     "recvmmsg", "read",     "readv"};
      std::string s = std::string(kCalls[op.call]) + "(" + fd + ", " +
                      Buf(op.a) + " in " + std::to_string(op.b) + " iov";
      if (op.call == kRecvFrom || op.call == kRecvMsg || op.call == kRecvMmsg)
        s += ", name " + Buf(op.c);
      if (op.call == kRecvMsg || op.call == kRecvMmsg)
        s += ", control " + Buf(op.d);
      if (op.call == kRecvMmsg) s += " x " + std::to_string(op.e) + " msgs";
      if (op.call != kRead && op.call != kReadv)
        s += ", " + MsgFlagsText(op.flags);
      return s + ")";
    }
    case OpKind::kShutdown:
      return "shutdown(" + fd + ", " + std::to_string(op.a) + ")";
    case OpKind::kClose:
      return "close(" + fd + ")";
    case OpKind::kDup:
      return dst + " = dup(" + fd + ")";
    case OpKind::kSetsockopt: {
      const bool tv = op.b == SO_RCVTIMEO || op.b == SO_SNDTIMEO;
      std::string v = std::to_string(op.c);
      if (tv)
        v = "{" + v + "s, " + std::to_string(op.e) + "us}";
      else if (op.b == SO_LINGER)
        v = "{" + v + ", " + std::to_string(op.e) + "s}";
      return "setsockopt(" + fd + ", " + OptText(op.a, op.b) + ", " + v + ", " +
             std::to_string(op.d) + ")";
    }
    case OpKind::kGetsockopt:
      return "getsockopt(" + fd + ", " + OptText(op.a, op.b) + ", buf, " +
             std::to_string(op.d) + ")";
    case OpKind::kIoctl: {
      const char* r = op.a == FIONREAD     ? "FIONREAD"
                      : op.a == SIOCATMARK ? "SIOCATMARK"
                      : op.a == SIOCOUTQ   ? "SIOCOUTQ"
                      : op.a == FIONBIO    ? "FIONBIO"
                      : op.a == FIOCLEX    ? "FIOCLEX"
                                           : "TCGETS";
      return std::string("ioctl(") + fd + ", " + r +
             (op.a == FIONBIO ? ", &" + std::to_string(op.b) : ", &v") + ")";
    }
    case OpKind::kFcntl: {
      const char* c = op.a == F_GETFL   ? "F_GETFL"
                      : op.a == F_SETFL ? "F_SETFL"
                      : op.a == F_GETFD ? "F_GETFD"
                      : op.a == F_SETFD ? "F_SETFD"
                                        : "9999";
      return std::string("fcntl(") + fd + ", " + c + ", " +
             std::to_string(op.b) + ")";
    }
    case OpKind::kPoll: {
      std::string s = "poll({" + fd + ", " + EventsText(op.a) + "}";
      if (op.fd2 != kNoTarget)
        s += ", {" + TargetName(op.fd2) + ", " + EventsText(op.b) + "}";
      if (op.dst != kNoTarget) s += ", {" + dst + ", " + EventsText(op.c) + "}";
      return s + ", 0)";
    }
    case OpKind::kGetname:
      return std::string(op.call == 0 ? "getsockname(" : "getpeername(") + fd +
             ", buf, &(len = " + std::to_string(op.a) + "))";
  }
  return "?";
}

}  // namespace shunt_diff
