#include "comparator.h"

#include <errno.h>
#include <linux/sockios.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdlib>

namespace shunt_diff {
namespace {

const Field* Find(const Outcome& o, const std::string& name) {
  for (const Field& f : o.fields)
    if (f.name == name) return &f;
  return nullptr;
}

// Bytes a send-family call took: its return value, or for sendmmsg the sum
// of the msg_len of the messages it reports sent.
long BytesTaken(const Op& op, const Outcome& o) {
  if (o.ret < 0) return -1;
  if (op.call != kSendMmsg) return o.ret;
  long sum = 0;
  for (long m = 0; m < o.ret; ++m)
    if (const Field* f = Find(o, "msg_len[" + std::to_string(m) + "]"))
      sum += std::atol(f->value.c_str());
  return sum;
}

// DIFFERENCES.md #1: a stream sender is charged payload bytes by shunt and
// skb truesize by Linux, so Linux may refuse (EAGAIN) or cut short a stream
// send that shunt takes whole. Only that direction is explained: shunt
// taking fewer bytes than Linux is a divergence.
bool StreamSendTookMore(const Op& op, const Outcome& k, const Outcome& s) {
  if (op.kind != OpKind::kSend || k.type != SOCK_STREAM ||
      s.type != SOCK_STREAM || k.skipped || s.skipped)
    return false;
  const long shunt_took = BytesTaken(op, s);
  if (shunt_took < 0) return false;
  long kernel_took = BytesTaken(op, k);
  if (k.ret < 0) {
    if (k.err != EAGAIN) return false;
    kernel_took = 0;
  }
  return shunt_took > kernel_took;
}

// DIFFERENCES.md #1: SIOCOUTQ on a stream socket is the truesize charge in
// Linux, payload bytes in shunt. The call's result and errno still count.
bool IsStreamOutq(const Op& op, const Outcome& k, const std::string& field) {
  return op.kind == OpKind::kIoctl && op.a == SIOCOUTQ &&
         k.type == SOCK_STREAM && field == "value";
}

// DIFFERENCES.md #1: a stream socket's POLLOUT threshold (in-flight charge
// <= SO_SNDBUF/4) is computed on truesize by Linux, so shunt may report a
// stream socket writable that Linux does not; never the reverse, and no
// other bit may differ. Returns true if k and s agree up to that.
bool PollAgreesUpToStreamPollout(const Outcome& k, const Outcome& s,
                                 bool* applied) {
  constexpr int kWrite = POLLOUT | POLLWRNORM | POLLWRBAND;
  if (k.fields.size() != s.fields.size()) return false;
  long extra_ready = 0;
  for (size_t i = 0; i < k.fields.size(); ++i) {
    if (k.fields[i].name != s.fields[i].name) return false;
    const int kr = std::atoi(k.fields[i].value.c_str());
    const int sr = std::atoi(s.fields[i].value.c_str());
    if (kr == sr) continue;
    const bool stream =
        i < 3 && k.types[i] == SOCK_STREAM && s.types[i] == SOCK_STREAM;
    if (!stream || (kr & ~kWrite) != (sr & ~kWrite) || (kr & kWrite & ~sr) != 0)
      return false;
    *applied = true;
    if (kr == 0) ++extra_ready;
  }
  return k.err == s.err && k.ret >= 0 && k.ret + extra_ready == s.ret;
}

std::string Show(const std::string& name, const std::string& v) {
  if (name == "msg_flags" || name.ends_with(".msg_flags")) return v;
  if (name.starts_with("revents")) return EventsText(std::atoi(v.c_str()));
  bool numeric = !v.empty();
  for (char c : v)
    if (!(c == '-' || (c >= '0' && c <= '9'))) numeric = false;
  return numeric ? v : BytesText(v);
}

// Where two long byte values part, which their listing (the first 16
// bytes and a hash) does not show: "" for short ones.
std::string FirstDifference(const std::string& k, const std::string& s) {
  if (k.size() <= 24 && s.size() <= 24) return "";
  size_t at = 0;
  while (at < k.size() && at < s.size() && k[at] == s[at]) ++at;
  const size_t from = at >= 8 ? at - 8 : 0;
  return "; first difference at byte " + std::to_string(at) + ": kernel " +
         BytesText(k.substr(from, 24)) + ", shunt " +
         BytesText(s.substr(from, 24)) + " (from byte " +
         std::to_string(from) + ")";
}

}  // namespace

Verdict Compare(const Sequence& seq, const std::vector<Outcome>& kernel,
                const std::vector<Outcome>& shunt) {
  Verdict v;
  auto diverge = [&](size_t i, std::string what) {
    v.diverged = true;
    v.index = i;
    v.what = std::move(what);
    return v;
  };
  const size_t n = std::min({seq.size(), kernel.size(), shunt.size()});
  for (size_t i = 0; i < n; ++i) {
    const Op& op = seq[i];
    const Outcome& k = kernel[i];
    const Outcome& s = shunt[i];
    if (StreamSendTookMore(op, k, s)) {
      ++v.allowed[1];
      v.cut = true;
      v.cut_at = i;
      return v;
    }
    if (op.kind == OpKind::kPoll && (k.ret != s.ret || k.fields != s.fields)) {
      bool applied = false;
      if (PollAgreesUpToStreamPollout(k, s, &applied) && applied) {
        ++v.allowed[1];
        continue;
      }
    }
    if (k.skipped != s.skipped || k.ret != s.ret || k.err != s.err)
      return diverge(i,
                     "result: kernel " + k.Result() + ", shunt " + s.Result());
    const size_t nf = std::max(k.fields.size(), s.fields.size());
    for (size_t f = 0; f < nf; ++f) {
      if (f >= k.fields.size() || f >= s.fields.size() ||
          k.fields[f].name != s.fields[f].name) {
        const std::string kn = f < k.fields.size() ? k.fields[f].name : "-";
        const std::string sn = f < s.fields.size() ? s.fields[f].name : "-";
        return diverge(i, "fields: kernel has " + kn + ", shunt has " + sn);
      }
      if (k.fields[f].value == s.fields[f].value) continue;
      if (IsStreamOutq(op, k, k.fields[f].name)) {
        ++v.allowed[1];
        continue;
      }
      const std::string& name = k.fields[f].name;
      return diverge(i, name + ": kernel " + Show(name, k.fields[f].value) +
                            ", shunt " + Show(name, s.fields[f].value) +
                            FirstDifference(k.fields[f].value,
                                            s.fields[f].value));
    }
  }
  return v;
}

}  // namespace shunt_diff
