#include "oracle.h"

#include "shrinker.h"

namespace shunt_diff {

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
  const OpKind kind = seq[first.verdict.index].kind;
  Sequence start(seq.begin(),
                 seq.begin() + static_cast<long>(first.verdict.index) + 1);
  Sequence small = shunt_diff::Shrink(start, [&](const Sequence& cand) {
    const Check c = Run(cand);
    return c.verdict.diverged && cand[c.verdict.index].kind == kind;
  });
  *out = Run(small);
  return small;
}

}  // namespace shunt_diff
