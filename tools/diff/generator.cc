#include "generator.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/sockios.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>

#include <iterator>

namespace shunt_diff {
namespace {

template <typename T, size_t N>
T PickOf(Rng& rng, const T (&values)[N]) {
  return values[rng.Below(N)];
}

// A payload or buffer length: mostly small, sometimes a few skbs' worth.
int PickLength(Rng& rng) {
  const uint32_t r = rng.Below(100);
  if (r < 70) return rng.Range(0, 64);
  if (r < 90) return rng.Range(65, 2048);
  if (r < 98) return rng.Range(2049, 20000);
  return rng.Range(20001, 70000);
}

// iovec entries: a few, or rarely just over IOV_MAX (EMSGSIZE, EINVAL).
int PickIovCount(Rng& rng) {
  if (rng.Percent(1)) return IOV_MAX + 1;
  return rng.Range(1, 4);
}

int PickEvents(Rng& rng) {
  static const int kBits[] = {POLLIN,     POLLOUT,    POLLPRI,    POLLRDHUP,
                              POLLRDNORM, POLLWRNORM, POLLRDBAND, POLLWRBAND};
  int ev = 0;
  for (int bit : kBits)
    if (rng.Percent(30)) ev |= bit;
  return ev;
}

}  // namespace

Sequence Generator::Generate(uint64_t seed, int ops) const {
  Rng rng(seed);
  Model model;
  Sequence seq;
  seq.reserve(static_cast<size_t>(ops));
  for (int i = 0; i < ops; ++i) seq.push_back(Next(rng, model));
  return seq;
}

int8_t Generator::PickTarget(Rng& rng, const Model& m) const {
  const uint32_t r = rng.Below(100);
  if (r < 3) return kPipeRead;
  if (r < 5) return kPipeWrite;
  if (r < 7) return rng.Percent(50) ? kBadNegative : kBadClosed;
  int live[kSlots], n = 0;
  for (int s = 0; s < kSlots; ++s)
    if (m.live[s]) live[n++] = s;
  if (n == 0 || r < 10) return static_cast<int8_t>(rng.Below(kSlots));
  return static_cast<int8_t>(live[rng.Below(static_cast<uint32_t>(n))]);
}

int8_t Generator::PickFreeSlot(Rng& rng, const Model& m) const {
  int free[kSlots], n = 0;
  for (int s = 0; s < kSlots; ++s)
    if (!m.live[s]) free[n++] = s;
  // A full world reuses a slot: the executor closes what is there first.
  if (n == 0) return static_cast<int8_t>(rng.Below(kSlots));
  return static_cast<int8_t>(free[rng.Below(static_cast<uint32_t>(n))]);
}

int Generator::PickType(Rng& rng) const {
  const uint32_t r = rng.Below(100);
  if (r < 40) return SOCK_STREAM;
  if (r < 70) return SOCK_DGRAM;
  return SOCK_SEQPACKET;
}

uint32_t Generator::PickName(Rng& rng, const Model& m, bool for_connect) const {
  if (rng.Percent(12)) {
    static const NameKind kOdd[] = {kNameAutobind, kNameShort, kNameInet,
                                    kNameOversize, kNameNoDir, kNameLongPath,
                                    kNameUnspec};
    return MakeName(PickOf(rng, kOdd), 0, kFormNul);
  }
  int id = rng.Range(0, 3);
  if (for_connect && rng.Percent(80)) {
    int bound[4], n = 0;
    for (int i = 0; i < 4; ++i)
      if (m.bound[i]) bound[n++] = i;
    if (n > 0) id = bound[rng.Below(static_cast<uint32_t>(n))];
  }
  NameForm form = kFormNul;
  const uint32_t r = rng.Below(100);
  if (r < 15)
    form = kFormNoNul;
  else if (r < 30)
    form = kFormFull;
  return MakeName(id < 2 ? kNamePath : kNameAbstract, id, form);
}

void Generator::FillSend(Rng& rng, const Model& m, Op* op) const {
  static const uint8_t kCalls[] = {kSendPlain, kSendPlain, kSendTo,
                                   kSendTo,    kSendMsg,   kSendMsg,
                                   kSendMmsg,  kWrite,     kWritev};
  op->call = PickOf(rng, kCalls);
  op->a = PickLength(rng);
  op->b = PickIovCount(rng);
  op->c = rng.Range(1, 3);
  op->seed = rng.Next();
  int f = 0;
  if (rng.Percent(80)) f |= MSG_DONTWAIT;
  if (rng.Percent(50)) f |= MSG_NOSIGNAL;
  if (rng.Percent(10)) f |= MSG_EOR;
  if (rng.Percent(5)) f |= MSG_MORE;
  if (rng.Percent(3)) f |= MSG_CONFIRM;
  if (options_.oob_send && rng.Percent(5)) f |= MSG_OOB;
  op->flags = op->call == kWrite || op->call == kWritev ? 0 : f;
  if ((op->call == kSendTo || op->call == kSendMsg) && rng.Percent(40))
    op->name = PickName(rng, m, true);
  // Control messages only under --ancillary (DIFFERENCES.md #7): e = 1
  // SCM_RIGHTS of the pipe's read end, 2 SCM_CREDENTIALS.
  if (options_.ancillary && op->call == kSendMsg && rng.Percent(30))
    op->e = rng.Range(1, 2);
}

void Generator::FillRecv(Rng& rng, Op* op) const {
  static const uint8_t kCalls[] = {kRecvPlain, kRecvPlain, kRecvFrom, kRecvFrom,
                                   kRecvMsg,   kRecvMsg,   kRecvMsg,  kRecvMmsg,
                                   kRead,      kReadv};
  static const int kNameBufs[] = {-1, 0, 1, 4, 8, 110, 120};
  static const int kControlBufs[] = {-1, -1, 0, 8, 16, 24, 32, 64};
  op->call = PickOf(rng, kCalls);
  op->a = PickLength(rng);
  op->b = PickIovCount(rng);
  op->c = PickOf(rng, kNameBufs);
  op->d = PickOf(rng, kControlBufs);
  op->e = rng.Range(1, 3);
  op->seed = rng.Next();
  int f = 0;
  if (rng.Percent(70)) f |= MSG_DONTWAIT;
  if (rng.Percent(25)) f |= MSG_PEEK;
  if (rng.Percent(15)) f |= MSG_TRUNC;
  if (rng.Percent(10)) f |= MSG_WAITALL;
  if (rng.Percent(3)) f |= MSG_OOB;
  if (rng.Percent(10)) f |= MSG_CMSG_CLOEXEC;
  if (rng.Percent(2)) f |= MSG_ERRQUEUE;
  op->flags = op->call == kRead || op->call == kReadv ? 0 : f;
}

void Generator::FillOption(Rng& rng, Op* op, bool set) const {
  struct Opt {
    int level, name;
  };
  static const Opt kOpts[] = {
      {SOL_SOCKET, SO_SNDBUF},
      {SOL_SOCKET, SO_RCVBUF},
      {SOL_SOCKET, SO_RCVLOWAT},
      {SOL_SOCKET, SO_PEEK_OFF},
      {SOL_SOCKET, SO_PASSCRED},
      {SOL_SOCKET, SO_RCVTIMEO},
      {SOL_SOCKET, SO_SNDTIMEO},
      {SOL_SOCKET, SO_TYPE},
      {SOL_SOCKET, SO_ERROR},
      {SOL_SOCKET, SO_DOMAIN},
      {SOL_SOCKET, SO_PROTOCOL},
      {SOL_SOCKET, SO_ACCEPTCONN},
      {SOL_SOCKET, SO_PEERCRED},
      {SOL_SOCKET, SO_REUSEADDR},
      {SOL_SOCKET, SO_SNDLOWAT},
      {SOL_SOCKET, SO_PRIORITY},
      {SOL_SOCKET, SO_BROADCAST},
      {SOL_SOCKET, SO_OOBINLINE},
      {SOL_SOCKET, SO_DONTROUTE},
      {SOL_SOCKET, SO_LINGER},
      {SOL_SOCKET, SO_KEEPALIVE},
      {SOL_SOCKET, 999},
      {0, SO_SNDBUF},
      {SOL_SOCKET, SO_SNDBUF},
      {SOL_SOCKET, SO_RCVBUF},
      {SOL_SOCKET, SO_PEEK_OFF},
      {SOL_SOCKET, SO_RCVLOWAT},
      {SOL_SOCKET, SO_RCVTIMEO},
  };
  const Opt o = PickOf(rng, kOpts);
  op->a = o.level;
  op->b = o.name;
  const bool timeval_opt = o.name == SO_RCVTIMEO || o.name == SO_SNDTIMEO;
  if (set) {
    static const int kBufs[] = {0,     1,     100,    2048, 4608,
                                10000, 65536, 300000, -1};
    static const int kSmall[] = {-5, -1, 0, 1, 2, 3, 7, 100};
    static const int kSecs[] = {0, 0, 1, 3, -1};
    static const int kUsecs[] = {0, 1, 1000, 999999, 1000000, -1};
    if (o.name == SO_SNDBUF || o.name == SO_RCVBUF)
      op->c = PickOf(rng, kBufs);
    else if (timeval_opt) {
      op->c = PickOf(rng, kSecs);
      op->e = PickOf(rng, kUsecs);
    } else if (o.name == SO_LINGER) {
      static const int kLingers[] = {0, 1, 5, -1, 100000000};
      op->c = rng.Range(0, 1);
      op->e = PickOf(rng, kLingers);
    } else if (o.name == SO_PASSCRED)
      // SO_PASSCRED=1 makes Linux attach SCM_CREDENTIALS to every message
      // received, which shunt does not do yet (DIFFERENCES.md #7).
      op->c = options_.ancillary ? rng.Range(0, 1) : 0;
    else
      op->c = PickOf(rng, kSmall);
  }
  const int natural = timeval_opt ? 16 : o.name == SO_LINGER ? 8 : 4;
  const uint32_t r = rng.Below(100);
  if (r < 80)
    op->d = natural;
  else if (r < 88)
    op->d = rng.Range(0, natural - 1);
  else if (r < 96)
    op->d = natural + rng.Range(1, 8);
  else
    op->d = -1;
}

Op Generator::Next(Rng& rng, Model& m) const {
  static const uint8_t kWeights[] = {
      6,   // kSocket
      6,   // kSocketpair
      6,   // kBind
      4,   // kListen
      7,   // kConnect
      5,   // kAccept
      20,  // kSend
      20,  // kRecv
      3,   // kShutdown
      4,   // kClose
      2,   // kDup
      5,   // kSetsockopt
      5,   // kGetsockopt
      4,   // kIoctl
      3,   // kFcntl
      5,   // kPoll
      3,   // kGetname
  };
  uint32_t total = 0;
  for (uint8_t w : kWeights) total += w;
  uint32_t r = rng.Below(total);
  int k = 0;
  while (r >= kWeights[k]) r -= kWeights[k++];
  Op op;
  op.kind = OpKind(k);
  switch (op.kind) {
    case OpKind::kSocket:
    case OpKind::kSocketpair: {
      op.dst = PickFreeSlot(rng, m);
      op.a = rng.Percent(98) ? AF_UNIX : 12345;
      int type = PickType(rng);
      if (rng.Percent(2)) type = rng.Percent(50) ? SOCK_RAW : SOCK_RDM;
      if (rng.Percent(90)) type |= SOCK_NONBLOCK;
      if (rng.Percent(50)) type |= SOCK_CLOEXEC;
      if (rng.Percent(1)) type |= 0x100000;
      op.b = type;
      op.c = rng.Percent(98) ? 0 : 1;
      m.live[op.dst] = true;
      m.type[op.dst] = type & 0xf;
      if (op.kind == OpKind::kSocketpair) {
        Model tmp = m;
        op.dst2 = PickFreeSlot(rng, tmp);
        if (op.dst2 == op.dst) op.dst2 = (op.dst + 1) % kSlots;
        m.live[op.dst2] = true;
        m.type[op.dst2] = type & 0xf;
      }
      break;
    }
    case OpKind::kBind:
      op.fd = PickTarget(rng, m);
      op.name = PickName(rng, m, false);
      if (NameKindOf(op.name) == kNamePath ||
          NameKindOf(op.name) == kNameAbstract)
        m.bound[NameIdOf(op.name)] = true;
      break;
    case OpKind::kListen: {
      static const int kBacklogs[] = {0, 1, 1, 2, 5, 128, -1};
      op.fd = PickTarget(rng, m);
      op.a = PickOf(rng, kBacklogs);
      break;
    }
    case OpKind::kConnect:
      op.fd = PickTarget(rng, m);
      op.name = PickName(rng, m, true);
      break;
    case OpKind::kAccept: {
      static const int kNameBufs[] = {-1, -1, 0, 1, 2, 110, 120};
      op.fd = PickTarget(rng, m);
      op.dst = PickFreeSlot(rng, m);
      op.a = PickOf(rng, kNameBufs);
      int f = 0;
      if (rng.Percent(85)) f |= SOCK_NONBLOCK;
      if (rng.Percent(40)) f |= SOCK_CLOEXEC;
      if (rng.Percent(2)) f |= 0x40;
      op.flags = f;
      m.live[op.dst] = true;
      m.type[op.dst] = op.fd < kSlots && op.fd >= 0 ? m.type[op.fd] : 0;
      break;
    }
    case OpKind::kSend:
      op.fd = PickTarget(rng, m);
      FillSend(rng, m, &op);
      break;
    case OpKind::kRecv:
      op.fd = PickTarget(rng, m);
      FillRecv(rng, &op);
      break;
    case OpKind::kShutdown: {
      static const int kHows[] = {SHUT_RD, SHUT_WR, SHUT_RDWR, SHUT_WR, 3, -1};
      op.fd = PickTarget(rng, m);
      op.a = PickOf(rng, kHows);
      break;
    }
    case OpKind::kClose:
      op.fd = PickTarget(rng, m);
      if (op.fd >= 0 && op.fd < kSlots) m.live[op.fd] = false;
      break;
    case OpKind::kDup:
      op.fd = PickTarget(rng, m);
      if (op.fd == kPipeRead || op.fd == kPipeWrite) op.fd = 0;
      op.dst = PickFreeSlot(rng, m);
      if (op.dst == op.fd) op.dst = (op.dst + 1) % kSlots;
      m.live[op.dst] = true;
      m.type[op.dst] = op.fd >= 0 && op.fd < kSlots ? m.type[op.fd] : 0;
      break;
    case OpKind::kSetsockopt:
      op.fd = PickTarget(rng, m);
      FillOption(rng, &op, true);
      break;
    case OpKind::kGetsockopt:
      op.fd = PickTarget(rng, m);
      FillOption(rng, &op, false);
      break;
    case OpKind::kIoctl: {
      static const int kRequests[] = {FIONREAD, FIONREAD, SIOCATMARK, SIOCOUTQ,
                                      SIOCOUTQ, FIONBIO,  FIOCLEX,    TCGETS};
      op.fd = PickTarget(rng, m);
      op.a = PickOf(rng, kRequests);
      op.b = rng.Range(0, 1);
      break;
    }
    case OpKind::kFcntl: {
      static const int kCmds[] = {F_GETFL, F_GETFL, F_SETFL, F_SETFL,
                                  F_GETFD, F_SETFD, 9999};
      static const int kFl[] = {O_NONBLOCK, O_NONBLOCK, 0,
                                O_NONBLOCK | O_APPEND};
      op.fd = PickTarget(rng, m);
      op.a = PickOf(rng, kCmds);
      op.b = op.a == F_SETFL ? PickOf(rng, kFl) : rng.Range(0, 1);
      break;
    }
    case OpKind::kPoll:
      op.fd = PickTarget(rng, m);
      op.a = PickEvents(rng);
      if (rng.Percent(60)) {
        op.fd2 = PickTarget(rng, m);
        op.b = PickEvents(rng);
      }
      if (rng.Percent(30)) {
        op.dst = PickTarget(rng, m);
        op.c = PickEvents(rng);
      }
      break;
    case OpKind::kGetname: {
      static const int kBufs[] = {0, 1, 2, 5, 110, 110, 120};
      op.call = static_cast<uint8_t>(rng.Below(2));
      op.fd = PickTarget(rng, m);
      op.a = PickOf(rng, kBufs);
      break;
    }
  }
  return op;
}

}  // namespace shunt_diff
