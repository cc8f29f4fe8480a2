// The socket layer's fast paths: the common send and receive of one flat
// buffer with plain flags, tried by the POSIX layer before it builds a
// message. Each protocol's fast path does exactly what its general path
// would when nothing has to wait, fail or be reported, and otherwise
// returns kWouldBlock having changed nothing (net/unix_stream.h,
// net/unix_dgram.h).
#pragma once

#include "net/sock.h"
#include "net/unix_dgram.h"
#include "net/unix_stream.h"

namespace shunt {

// The caller has looked sk up in arena a and keeps it alive.
[[gnu::always_inline]] inline long SockSendFast(Arena* a, SockState* sk,
                                                const void* buf, size_t n,
                                                int flags) {
  return sk->type == SOCK_STREAM ? StreamSendFast(a, sk, buf, n, flags)
                                 : DgramSendFast(a, sk, buf, n, flags);
}
[[gnu::always_inline]] inline long SockRecvFast(Arena* a, SockState* sk,
                                                void* buf, size_t n,
                                                int flags) {
  return sk->type == SOCK_STREAM ? StreamRecvFast(a, sk, buf, n, flags)
                                 : DgramRecvFast(a, sk, buf, n, flags);
}

}  // namespace shunt
