// Several threads on one stream at once. Shunt copies bytes into and out
// of a stream's queue with the socket's lock dropped (net/unix_stream.cc),
// as Linux fills an skb before it takes the receiver's lock and copies out
// under u->iolock only: what each call sees must still be what Linux
// guarantees. A read returns one contiguous run of the stream; a send that
// fits one skb arrives whole; closing the receiver under running sends
// loses nothing else and breaks nothing.
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "backend.h"

namespace {

class ConcurrentStreams : public shunt_test::BothBackends {
 protected:
  void BlockingPair(int sv[2]) {
    Pair(SOCK_STREAM, sv);
    ASSERT_EQ(SetTimeoutMs(sv[0], SO_SNDTIMEO, 10000), 0);
    ASSERT_EQ(SetTimeoutMs(sv[1], SO_RCVTIMEO, 10000), 0);
  }
  int SetTimeoutMs(int fd, int opt, long ms) {
    timeval tv{ms / 1000, (ms % 1000) * 1000};
    return api().setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof tv);
  }
  // Sends all of buf (blocking); false on an error.
  bool SendAll(int fd, const void* buf, size_t len) {
    const char* p = static_cast<const char*>(buf);
    while (len > 0) {
      const ssize_t n = api().send(fd, p, len, MSG_NOSIGNAL);
      if (n <= 0) return false;
      p += n;
      len -= static_cast<size_t>(n);
    }
    return true;
  }
};

// Two readers share the stream of a counting pattern (word i holds i):
// each read is one contiguous run of it, and the runs tile the stream.
TEST_P(ConcurrentStreams, ReadsAreContiguousRunsSharedWithoutLoss) {
  constexpr uint32_t kWords = 1 << 19;  // 2 MiB
  constexpr size_t kBytes = size_t{kWords} * 4;
  int sv[2];
  ASSERT_NO_FATAL_FAILURE(BlockingPair(sv));
  std::vector<uint32_t> data(kWords);
  for (uint32_t i = 0; i < kWords; ++i) data[i] = i;
  auto byte_at = [&](size_t pos) {
    return reinterpret_cast<const char*>(data.data())[pos];
  };
  struct Run {
    size_t start, len;
  };
  std::atomic<bool> broken{false};
  std::atomic<size_t> unplaced{0};  // bytes of reads too short to place
  auto reader = [&](size_t read_size, std::vector<Run>* runs) {
    std::vector<char> buf(read_size);
    for (;;) {
      const ssize_t n = api().recv(sv[1], buf.data(), buf.size(), 0);
      if (n <= 0) return;
      const size_t got = static_cast<size_t>(n);
      // Place the read by the first whole word it holds: a word and its
      // successor, at one of four alignments.
      bool placed = false;
      for (size_t off = 0; off < 4 && off + 8 <= got && !placed; ++off) {
        uint32_t w, next;
        memcpy(&w, buf.data() + off, 4);
        memcpy(&next, buf.data() + off + 4, 4);
        if (w >= kWords || next != w + 1 || size_t{w} * 4 < off) continue;
        const size_t start = size_t{w} * 4 - off;
        placed = true;
        for (size_t k = 0; k < got; ++k) {
          if (start + k >= kBytes || buf[k] != byte_at(start + k)) {
            broken = true;
            break;
          }
        }
        runs->push_back({start, got});
      }
      if (!placed) unplaced += got;
    }
  };
  std::vector<Run> runs1, runs2;
  std::thread r1(reader, 7001, &runs1);
  std::thread r2(reader, 65536, &runs2);
  ASSERT_TRUE(SendAll(sv[0], data.data(), kBytes));
  ASSERT_EQ(Close(sv[0]), 0);
  r1.join();
  r2.join();
  EXPECT_FALSE(broken.load()) << "a read was not one run of the stream";
  std::vector<Run> runs = runs1;
  runs.insert(runs.end(), runs2.begin(), runs2.end());
  std::sort(runs.begin(), runs.end(),
            [](const Run& x, const Run& y) { return x.start < y.start; });
  size_t covered = 0, at = 0;
  for (const Run& r : runs) {
    EXPECT_GE(r.start, at) << "two reads returned the same bytes";
    at = r.start + r.len;
    covered += r.len;
  }
  EXPECT_EQ(covered + unplaced.load(), kBytes);
  EXPECT_LT(unplaced.load(), 64u);
}

// Sends that fit one skb arrive whole, never interleaved with another
// thread's (unix_stream_sendmsg queues each skb at once).
TEST_P(ConcurrentStreams, SendsOfOneSkbArriveWhole) {
  constexpr size_t kBlock = 16384;
  constexpr int kBlocksEach = 96;
  int sv[2];
  ASSERT_NO_FATAL_FAILURE(BlockingPair(sv));
  std::atomic<bool> send_failed{false};
  auto writer = [&](char tag) {
    std::string block(kBlock, tag);
    for (int i = 0; i < kBlocksEach; ++i) {
      if (api().send(sv[0], block.data(), block.size(), MSG_NOSIGNAL) !=
          static_cast<ssize_t>(kBlock))
        send_failed = true;
    }
  };
  std::thread w1(writer, 'a');
  std::thread w2(writer, 'b');
  std::string got;
  std::vector<char> buf(100000);
  while (got.size() < 2 * kBlock * kBlocksEach) {
    const ssize_t n = api().recv(sv[1], buf.data(), buf.size(), 0);
    if (n <= 0) break;
    got.append(buf.data(), static_cast<size_t>(n));
  }
  w1.join();
  w2.join();
  EXPECT_FALSE(send_failed.load());
  ASSERT_EQ(got.size(), 2 * kBlock * kBlocksEach);
  for (size_t at = 0; at < got.size(); at += kBlock) {
    const char tag = got[at];
    ASSERT_TRUE(std::all_of(got.begin() + at, got.begin() + at + kBlock,
                            [&](char c) { return c == tag; }))
        << "block at " << at << " is not whole";
  }
}

// The receiver closes while several threads send large writes: each send
// ends with what it had queued or EPIPE, and nothing hangs or breaks.
TEST_P(ConcurrentStreams, ReceiverClosedUnderRunningSends) {
  constexpr size_t kWrite = 1 << 20;
  int sv[2];
  ASSERT_NO_FATAL_FAILURE(BlockingPair(sv));
  std::string data(kWrite, 'x');
  std::atomic<int> unexpected{0};
  std::atomic<int> ended{0};
  auto writer = [&] {
    for (;;) {
      const ssize_t n =
          api().send(sv[0], data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0) {
        if (errno != EPIPE && errno != ECONNRESET) unexpected = errno;
        break;
      }
      if (n == 0) {
        unexpected = -1;
        break;
      }
    }
    ++ended;
  };
  std::thread w1(writer);
  std::thread w2(writer);
  std::vector<char> buf(1 << 16);
  for (int i = 0; i < 64; ++i) {
    if (api().recv(sv[1], buf.data(), buf.size(), 0) <= 0) break;
  }
  ASSERT_EQ(Close(sv[1]), 0);
  w1.join();
  w2.join();
  EXPECT_EQ(ended.load(), 2);
  EXPECT_EQ(unexpected.load(), 0) << strerror(unexpected.load());
}

SHUNT_BOTH_BACKENDS(ConcurrentStreams);

// A send racing the peer's close, over and over with varying timing.
class PeerCloseRace : public shunt_test::BothBackends {};

// SOCK_SEQPACKET: a send that finds the peer being released fails with
// EPIPE (or ECONNRESET once the release has shut us down), never the
// datagram ECONNREFUSED; the socket stays connected, and the messages the
// peer queued for us before closing are still read (after the reset its
// unread messages cause), then EOF (unix_dgram_sendmsg's SOCK_SEQPACKET
// branch).
TEST_P(PeerCloseRace, SeqpacketSenderKeepsItsQueue) {
  for (int it = 0; it < 200; ++it) {
    SCOPED_TRACE(it);
    int sv[2];
    ASSERT_EQ(api().socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
    for (const char* m : {"m1", "m2", "m3"})
      ASSERT_EQ(api().send(sv[1], m, 2, 0), 2);
    std::atomic<bool> started{false};
    int send_errno = 0;
    std::thread sender([&] {
      started = true;
      for (;;) {
        if (api().send(sv[0], "x", 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 &&
            errno != EAGAIN) {
          send_errno = errno;
          return;
        }
      }
    });
    while (!started) {
    }
    for (int spin = 0; spin < (it % 50) * 100; ++spin)
      asm volatile("" ::: "memory");  // varies when the close lands
    ASSERT_EQ(api().close(sv[1]), 0);
    sender.join();
    EXPECT_TRUE(send_errno == EPIPE || send_errno == ECONNRESET)
        << strerror(send_errno);
    // The peer closed with our sends unread: one ECONNRESET first, then
    // its messages.
    std::string got;
    char buf[8];
    ssize_t n;
    int resets = 0;
    while ((n = api().recv(sv[0], buf, sizeof buf, MSG_DONTWAIT)) != 0) {
      if (n < 0 && (errno != ECONNRESET || ++resets > 1)) break;
      if (n > 0) got.append(buf, static_cast<size_t>(n));
    }
    EXPECT_EQ(got, "m1m2m3");
    EXPECT_EQ(n, 0) << strerror(errno);
    ASSERT_EQ(api().close(sv[0]), 0);
  }
}

SHUNT_BOTH_BACKENDS(PeerCloseRace);

}  // namespace
