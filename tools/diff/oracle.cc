#include "oracle.h"

#include "shrinker.h"

namespace shunt_diff {
namespace {

std::string Signature(const Verdict& v) {
  if (v.what.starts_with("result:")) return v.what;
  return v.what.substr(0, v.what.find(':'));
}

}  // namespace

Oracle::Oracle(const Api& reference, const Api& candidate,
               const WorldConfig& world)
    : reference_(reference, world), candidate_(candidate, world) {}

Check Oracle::Run(const Sequence& seq) {
  Check c;
  c.reference = reference_.Run(seq);
  c.candidate = candidate_.Run(seq);
  c.verdict = Compare(seq, c.reference, c.candidate);
  return c;
}

Sequence Oracle::Shrink(const Sequence& seq, Check* out) {
  const Check first = Run(seq);
  if (!first.verdict.diverged) {
    *out = first;
    return seq;
  }
  // The shrunk sequence must diverge the same way: at an op of the same
  // kind, in the same field (and for a result, with the same results), so
  // that shrinking cannot wander off to a different bug.
  const OpKind kind = seq[first.verdict.index].kind;
  const std::string signature = Signature(first.verdict);
  Sequence start(seq.begin(),
                 seq.begin() + static_cast<long>(first.verdict.index) + 1);
  Sequence small = shunt_diff::Shrink(start, [&](const Sequence& cand) {
    const Check c = Run(cand);
    return c.verdict.diverged && cand[c.verdict.index].kind == kind &&
           Signature(c.verdict) == signature;
  });
  *out = Run(small);
  return small;
}

}  // namespace shunt_diff
