// The differential oracle behind `shunt diff` (tools/diff/): its generator
// is deterministic, its comparator masks only the documented differences,
// its shrinker finds a minimal diverging sequence (shown with a deliberately
// faulty backend), and the sequences and blocking scenarios it generates
// agree between the kernel and shunt.
#include <gtest/gtest.h>
#include <linux/sockios.h>
#include <shunt/shunt.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "api.h"
#include "backend.h"
#include "comparator.h"
#include "concurrent.h"
#include "generator.h"
#include "oracle.h"
#include "rng.h"

namespace shunt_diff {
namespace {

using shunt_test::CountOpenFds;

// A world directory and abstract prefix for the test's lifetime.
class DiffOracle : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/shunt-diff-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    world_.dir = dir;
    world_.abstract_prefix =
        "shunt-diff-test-" + std::to_string(getpid()) + "-";
  }
  void TearDown() override {
    CleanDir(world_.dir);
    rmdir(world_.dir.c_str());
  }
  WorldConfig world_;
};

TEST_F(DiffOracle, SameSeedSameSequence) {
  const Generator gen{GeneratorOptions{}};
  for (uint64_t seed : {1ULL, 42ULL, 0xdeadbeefULL}) {
    EXPECT_EQ(gen.Generate(seed, 200), gen.Generate(seed, 200));
    // A prefix of a longer sequence is the shorter sequence.
    const Sequence longer = gen.Generate(seed, 300);
    EXPECT_EQ(Sequence(longer.begin(), longer.begin() + 200),
              gen.Generate(seed, 200));
  }
  EXPECT_NE(gen.Generate(1, 50), gen.Generate(2, 50));
  EXPECT_EQ(SequenceSeed(7, 3), SequenceSeed(7, 3));
  EXPECT_NE(SequenceSeed(7, 3), SequenceSeed(7, 4));
}

TEST_F(DiffOracle, GeneratorCoversEveryOpKind) {
  const Generator gen{GeneratorOptions{}};
  std::vector<int> seen(17, 0);
  for (const Op& op : gen.Generate(5, 2000)) ++seen[static_cast<int>(op.kind)];
  for (size_t k = 0; k < seen.size(); ++k) EXPECT_GT(seen[k], 0) << k;
}

// n sequences of a run with `seed` agree between the kernel and `candidate`.
void ExpectAgreement(const Api& candidate, const WorldConfig& world,
                     uint64_t seed, int n, GeneratorOptions options = {}) {
  Oracle oracle(KernelApi(), candidate, world);
  const Generator gen{options};
  for (int i = 0; i < n; ++i) {
    const Sequence seq = gen.Generate(SequenceSeed(seed, i), 50);
    const Check c = oracle.Run(seq);
    ASSERT_FALSE(c.verdict.diverged) << c.verdict.what << "\n"
                                     << Listing(seq, c);
  }
}

// The executor's own normalisation (autobind names, canaries) must not make
// two runs of one world differ.
TEST_F(DiffOracle, KernelAgreesWithItself) {
  ExpectAgreement(KernelApi(), world_, 11, 100);
}

// The same with control messages and urgent data, which shunt does not
// send yet (DIFFERENCES.md #7): received descriptors are compared by what
// they are, never by number, and are closed after.
TEST_F(DiffOracle, KernelAgreesWithItselfWithAncillaryData) {
  const int fds = CountOpenFds();
  ExpectAgreement(KernelApi(), world_, 14, 200,
                  {.ancillary = true, .oob_send = true});
  EXPECT_EQ(CountOpenFds(), fds);
}

TEST_F(DiffOracle, ShuntAgreesWithKernel) {
  ExpectAgreement(ShuntApi(), world_, 12, 300);
}

// A deliberately faulty backend: shunt, except that a peeking receive
// consumes what it returns.
ssize_t FaultyRecv(int fd, void* buf, size_t len, int flags) {
  return shunt_recv(fd, buf, len, flags & ~MSG_PEEK);
}
ssize_t FaultyRecvfrom(int fd, void* buf, size_t len, int flags, sockaddr* a,
                       socklen_t* al) {
  return shunt_recvfrom(fd, buf, len, flags & ~MSG_PEEK, a, al);
}
ssize_t FaultyRecvmsg(int fd, msghdr* m, int flags) {
  return shunt_recvmsg(fd, m, flags & ~MSG_PEEK);
}
int FaultyRecvmmsg(int fd, mmsghdr* v, unsigned n, int flags, timespec* t) {
  return shunt_recvmmsg(fd, v, n, flags & ~MSG_PEEK, t);
}

const Api& FaultyApi() {
  static const Api api = [] {
    Api a = ShuntApi();
    a.name = "faulty";
    a.recv = FaultyRecv;
    a.recvfrom = FaultyRecvfrom;
    a.recvmsg = FaultyRecvmsg;
    a.recvmmsg = FaultyRecvmmsg;
    return a;
  }();
  return api;
}

TEST_F(DiffOracle, ShrinkerFindsMinimalSequence) {
  Oracle oracle(KernelApi(), FaultyApi(), world_);
  const Generator gen{GeneratorOptions{}};
  Sequence diverging;
  for (uint64_t i = 0; i < 500 && diverging.empty(); ++i) {
    const Sequence seq = gen.Generate(SequenceSeed(13, i), 50);
    if (oracle.Run(seq).verdict.diverged) diverging = seq;
  }
  ASSERT_FALSE(diverging.empty()) << "the faulty backend was never caught";
  Check shrunk;
  const Sequence small = oracle.Shrink(diverging, &shrunk);
  ASSERT_TRUE(shrunk.verdict.diverged);
  EXPECT_LT(small.size(), diverging.size());
  // A pair, a send, the peek and a receive that sees what the peek ate.
  EXPECT_LE(small.size(), 5u) << Listing(small, shrunk);
  bool peeks = false;
  for (const Op& op : small)
    peeks |= op.kind == OpKind::kRecv && (op.flags & MSG_PEEK);
  EXPECT_TRUE(peeks) << Listing(small, shrunk);
  // 1-minimal: without any one of its ops the sequence agrees.
  for (size_t i = 0; i < small.size(); ++i) {
    Sequence less = small;
    less.erase(less.begin() + static_cast<long>(i));
    EXPECT_FALSE(oracle.Run(less).verdict.diverged) << "op " << i;
  }
  const std::string listing = Listing(small, shrunk);
  EXPECT_NE(listing.find("<<< DIVERGES"), std::string::npos) << listing;
  EXPECT_NE(listing.find("MSG_PEEK"), std::string::npos) << listing;
}

Outcome Out(long ret, int err = 0, int type = 0) {
  Outcome o;
  o.ret = ret;
  o.err = err;
  o.type = type;
  return o;
}

// Each documented difference is allowed only where DIFFERENCES.md #1 says
// and only in the direction it explains.
TEST_F(DiffOracle, ComparatorAllowsOnlyDocumentedDifferences) {
  Op send;
  send.kind = OpKind::kSend;
  send.call = kSendPlain;
  // A stream send Linux cut short (truesize) that shunt took: comparison
  // stops there.
  Verdict v =
      Compare({send}, {Out(100, 0, SOCK_STREAM)}, {Out(300, 0, SOCK_STREAM)});
  EXPECT_FALSE(v.diverged);
  EXPECT_TRUE(v.cut);
  v = Compare({send}, {Out(-1, EAGAIN, SOCK_STREAM)}, {Out(5, 0, SOCK_STREAM)});
  EXPECT_FALSE(v.diverged);
  // Shunt taking less, another errno, or another socket type: divergence.
  EXPECT_TRUE(
      Compare({send}, {Out(300, 0, SOCK_STREAM)}, {Out(100, 0, SOCK_STREAM)})
          .diverged);
  EXPECT_TRUE(
      Compare({send}, {Out(-1, EPIPE, SOCK_STREAM)}, {Out(5, 0, SOCK_STREAM)})
          .diverged);
  EXPECT_TRUE(
      Compare({send}, {Out(-1, EAGAIN, SOCK_DGRAM)}, {Out(5, 0, SOCK_DGRAM)})
          .diverged);

  Op outq;
  outq.kind = OpKind::kIoctl;
  outq.a = SIOCOUTQ;
  Outcome k = Out(0, 0, SOCK_STREAM), s = Out(0, 0, SOCK_STREAM);
  k.Add("value", 768);
  s.Add("value", 6);
  EXPECT_FALSE(Compare({outq}, {k}, {s}).diverged);
  k.type = s.type = SOCK_SEQPACKET;
  EXPECT_TRUE(Compare({outq}, {k}, {s}).diverged);
  Op inq = outq;
  inq.a = FIONREAD;
  k.type = s.type = SOCK_STREAM;
  EXPECT_TRUE(Compare({inq}, {k}, {s}).diverged);

  Op poll;
  poll.kind = OpKind::kPoll;
  Outcome pk = Out(0), ps = Out(1);
  pk.types[0] = ps.types[0] = SOCK_STREAM;
  pk.Add("revents[0]", 0);
  ps.Add("revents[0]", POLLOUT | POLLWRNORM | POLLWRBAND);
  EXPECT_FALSE(Compare({poll}, {pk}, {ps}).diverged);
  // Never the other way round, never another bit, never a datagram.
  EXPECT_TRUE(Compare({poll}, {ps}, {pk}).diverged);
  ps.fields[0].value = std::to_string(POLLOUT | POLLIN);
  EXPECT_TRUE(Compare({poll}, {pk}, {ps}).diverged);
  ps.fields[0].value = std::to_string(POLLOUT);
  pk.types[0] = ps.types[0] = SOCK_DGRAM;
  EXPECT_TRUE(Compare({poll}, {pk}, {ps}).diverged);
}

void RunScenarios(const WorldConfig& world, bool process) {
  int runs = 0;
  std::vector<int> slept(6, 0);
  for (uint64_t i = 0; runs < 40 && i < 1000; ++i) {
    const Scenario sc = MakeScenario(SequenceSeed(21, i));
    if (sc.process != process) continue;
    ++runs;
    const std::vector<Outcome> k = RunScenario(KernelApi(), world, sc);
    CleanDir(world.dir);
    const std::vector<Outcome> s = RunScenario(ShuntApi(), world, sc);
    CleanDir(world.dir);
    std::string what;
    EXPECT_EQ(CompareScenario(k, s, &what), -1)
        << DescribeScenario(sc) << ": " << what;
    for (const Outcome& o : k)
      for (const Field& f : o.fields)
        if (f.name == "slept" && f.value == "yes")
          ++slept[static_cast<int>(sc.kind)];
  }
  EXPECT_EQ(runs, 40);
  // Every kind with a wake-up really put its sleeper to sleep.
  for (ScenarioKind kind :
       {ScenarioKind::kRecvWokenBySend, ScenarioKind::kSendFreedByRecv,
        ScenarioKind::kAcceptWokenByConnect, ScenarioKind::kRecvWokenByClose,
        ScenarioKind::kWaitallWokenByTwoSends})
    EXPECT_GT(slept[static_cast<int>(kind)], 0) << static_cast<int>(kind);
}

// Every op the generator makes has a listing line (accept4 with no flags
// once threw while a divergence was being printed).
TEST_F(DiffOracle, EveryOpCanBeDescribed) {
  const Generator gen{GeneratorOptions{.ancillary = true, .oob_send = true}};
  for (const Op& op : gen.Generate(11, 5000))
    EXPECT_FALSE(Describe(op).empty());
  Op accept;
  accept.kind = OpKind::kAccept;
  accept.flags = 0;
  EXPECT_NE(Describe(accept).find(", 0)"), std::string::npos)
      << Describe(accept);
}

// A divergence in a long byte field says where the values part.
TEST_F(DiffOracle, LongByteFieldsReportTheirFirstDifference) {
  Op recv;
  recv.kind = OpKind::kRecv;
  recv.call = kRecvPlain;
  Outcome k = Out(3, 0, SOCK_STREAM), s = Out(3, 0, SOCK_STREAM);
  std::string bytes(100, 'a');
  k.Add("data", bytes);
  bytes[70] = 'b';
  s.Add("data", bytes);
  const Verdict v = Compare({recv}, {k}, {s});
  ASSERT_TRUE(v.diverged);
  EXPECT_NE(v.what.find("first difference at byte 70"), std::string::npos)
      << v.what;
}

TEST_F(DiffOracle, ThreadedVariantAgrees) { RunScenarios(world_, false); }

TEST_F(DiffOracle, ProcessVariantAgrees) { RunScenarios(world_, true); }

}  // namespace
}  // namespace shunt_diff
