// Comparator: decides whether two worlds' outcomes of one sequence agree.
// Everything recorded must be equal, field by field, except where
// docs/DIFFERENCES.md lists a deliberate difference; each such rule is a
// named function below that applies only to the ops and socket types the
// entry names, and only in the direction the entry explains.
#ifndef SHUNT_TOOLS_DIFF_COMPARATOR_H_
#define SHUNT_TOOLS_DIFF_COMPARATOR_H_

#include <cstddef>
#include <string>
#include <vector>

#include "op.h"
#include "outcome.h"

namespace shunt_diff {

struct Verdict {
  bool diverged = false;
  size_t index = 0;  // first diverging op
  std::string what;  // "msg_flags: kernel MSG_TRUNC, shunt 0"
  // Set when an allowed difference changed what the worlds hold (a stream
  // send the kernel refused earlier, DIFFERENCES.md #1): ops from `cut_at`
  // on are not compared.
  bool cut = false;
  size_t cut_at = 0;
  // How many times each allowed difference was applied (index = entry #).
  int allowed[8] = {};
};

Verdict Compare(const Sequence& seq, const std::vector<Outcome>& kernel,
                const std::vector<Outcome>& shunt);

}  // namespace shunt_diff

#endif  // SHUNT_TOOLS_DIFF_COMPARATOR_H_
