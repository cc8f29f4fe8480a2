#include "shrinker.h"

#include <algorithm>

namespace shunt_diff {
namespace {

class Budget {
 public:
  Budget(const DivergesFn& fn, int max) : fn_(fn), left_(max) {}
  bool Holds(const Sequence& s) {
    if (left_ <= 0) return false;
    --left_;
    return fn_(s);
  }
  bool Exhausted() const { return left_ <= 0; }

 private:
  const DivergesFn& fn_;
  int left_;
};

// ddmin's complement step: remove chunks of decreasing size.
void DropChunks(Sequence* seq, Budget* budget) {
  size_t parts = 2;
  while (seq->size() >= 2 && !budget->Exhausted()) {
    const size_t chunk = (seq->size() + parts - 1) / parts;
    bool removed = false;
    for (size_t start = 0; start < seq->size(); start += chunk) {
      Sequence cand;
      cand.insert(cand.end(), seq->begin(),
                  seq->begin() + static_cast<long>(start));
      cand.insert(cand.end(),
                  seq->begin() +
                      static_cast<long>(std::min(start + chunk, seq->size())),
                  seq->end());
      if (budget->Holds(cand)) {
        *seq = std::move(cand);
        parts = std::max<size_t>(parts - 1, 2);
        removed = true;
        break;
      }
    }
    if (!removed) {
      if (chunk == 1) break;
      parts = std::min(seq->size(), parts * 2);
    }
  }
}

// Candidate simplifications of one op, simplest first.
std::vector<Op> Simpler(const Op& op) {
  std::vector<Op> out;
  auto with = [&](auto change) {
    Op o = op;
    change(o);
    if (!(o == op)) out.push_back(o);
  };
  if (op.kind == OpKind::kSend || op.kind == OpKind::kRecv) {
    with([](Op& o) { o.a = std::min(o.a, 1); });
    with([](Op& o) { o.a /= 2; });
    with([](Op& o) { o.b = 1; });
    if (op.kind == OpKind::kSend) with([](Op& o) { o.c = 1; });
    if (op.kind == OpKind::kRecv) with([](Op& o) { o.e = 1; });
    if (op.kind == OpKind::kSend) with([](Op& o) { o.name = 0; });
    if (op.kind == OpKind::kRecv) {
      with([](Op& o) { o.c = -1; });
      with([](Op& o) { o.d = -1; });
    }
  }
  if (op.kind == OpKind::kPoll) {
    with([](Op& o) { o.dst = kNoTarget; });
    with([](Op& o) { o.fd2 = kNoTarget; });
  }
  for (int bit = 0; bit < 31; ++bit)
    if (op.flags & (1 << bit)) with([bit](Op& o) { o.flags &= ~(1 << bit); });
  if (op.kind == OpKind::kBind || op.kind == OpKind::kConnect)
    with([](Op& o) {
      o.name = MakeName(NameKindOf(o.name), NameIdOf(o.name), kFormNul);
    });
  return out;
}

}  // namespace

Sequence Shrink(Sequence seq, const DivergesFn& diverges, int max_evaluations) {
  Budget budget(diverges, max_evaluations);
  // Ops after the divergence cannot matter: drop them one at a time from
  // the end while the divergence stays (cheap, usually most of the work).
  while (seq.size() > 1) {
    Sequence cand(seq.begin(), seq.end() - 1);
    if (!budget.Holds(cand)) break;
    seq = std::move(cand);
  }
  bool changed = true;
  while (changed && !budget.Exhausted()) {
    changed = false;
    DropChunks(&seq, &budget);
    for (size_t i = 0; i < seq.size(); ++i) {
      for (const Op& simpler : Simpler(seq[i])) {
        Sequence cand = seq;
        cand[i] = simpler;
        if (budget.Holds(cand)) {
          seq = std::move(cand);
          changed = true;
          break;
        }
      }
    }
  }
  return seq;
}

}  // namespace shunt_diff
