// Shrinker: delta debugging over a diverging Sequence. Given a predicate
// "this sequence still diverges the same way", it drops the ops after the
// divergence, then chunks of ops (ddmin), then single ops, then simplifies
// each remaining op's arguments (smaller lengths, fewer iovecs, fewer flag
// bits) while the predicate holds. Owns nothing; calls the predicate a
// bounded number of times. Promise: the result still satisfies the
// predicate, and removing any single op from it makes the predicate fail
// (1-minimal), unless the evaluation budget ran out first.
#ifndef SHUNT_TOOLS_DIFF_SHRINKER_H_
#define SHUNT_TOOLS_DIFF_SHRINKER_H_

#include <functional>

#include "op.h"

namespace shunt_diff {

using DivergesFn = std::function<bool(const Sequence&)>;

Sequence Shrink(Sequence seq, const DivergesFn& diverges,
                int max_evaluations = 4000);

}  // namespace shunt_diff

#endif  // SHUNT_TOOLS_DIFF_SHRINKER_H_
