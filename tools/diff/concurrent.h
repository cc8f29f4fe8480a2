// Blocking scenarios: the concurrency variants of the oracle. Each scenario
// puts one call to sleep on a socket (in a second thread, or in a forked
// child process) and, once that call is seen asleep (/proc/.../stat state
// 'S'), wakes it from the first thread of control: a blocked receive woken
// by a send, by a close or a shutdown, a MSG_WAITALL receive completed by
// two sends; a receive whose SO_RCVTIMEO fires; a blocked sender freed by a
// receive; a blocked accept woken by a connect.
// The harness forces the interleaving, so both worlds run the same one and
// their outcomes are compared like a sequence's. Owns, while a scenario
// runs, the sockets and the helper thread or child it makes.
#ifndef SHUNT_TOOLS_DIFF_CONCURRENT_H_
#define SHUNT_TOOLS_DIFF_CONCURRENT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "api.h"
#include "executor.h"
#include "outcome.h"

namespace shunt_diff {

enum class ScenarioKind : uint8_t {
  kRecvWokenBySend,
  kRecvTimesOut,
  kSendFreedByRecv,
  kAcceptWokenByConnect,
  kRecvWokenByClose,
  kWaitallWokenByTwoSends,  // MSG_WAITALL for len + len bytes, sent in two
};

struct Scenario {
  ScenarioKind kind = ScenarioKind::kRecvWokenBySend;
  int type = 0;          // SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET
  bool process = false;  // the sleeper is a forked child, not a thread
  int len = 0;           // bytes the waker sends / the sleeper sends
  int buf = 0;           // the sleeper's receive buffer
  int flags = 0;         // the sleeper's receive flags
  int timeout_us = 0;    // kRecvTimesOut: SO_RCVTIMEO
  int how = 0;           // kRecvWokenByClose: 0 close, 1 SHUT_WR by the
                         // peer, 2 SHUT_RD on the sleeper's socket
  uint64_t seed = 0;     // payload bytes
};

Scenario MakeScenario(uint64_t seed);
std::string DescribeScenario(const Scenario& sc);

// Runs sc in the world of `api`: one Outcome per observed step.
std::vector<Outcome> RunScenario(const Api& api, const WorldConfig& world,
                                 const Scenario& sc);

// First index where a and b differ, or -1; *what says how.
long CompareScenario(const std::vector<Outcome>& a,
                     const std::vector<Outcome>& b, std::string* what);

}  // namespace shunt_diff

#endif  // SHUNT_TOOLS_DIFF_CONCURRENT_H_
