// Oracle: runs one sequence in a reference world (the kernel) and a
// candidate world (shunt), compares, and on a divergence shrinks the
// sequence to a minimal one that still diverges at an op of the same kind.
// Owns the two executors and the world directory's contents while a check
// runs; the directory itself belongs to the caller.
#ifndef SHUNT_TOOLS_DIFF_ORACLE_H_
#define SHUNT_TOOLS_DIFF_ORACLE_H_

#include <string>
#include <vector>

#include "api.h"
#include "comparator.h"
#include "executor.h"
#include "op.h"

namespace shunt_diff {

struct Check {
  Verdict verdict;
  std::vector<Outcome> reference, candidate;
};

class Oracle {
 public:
  Oracle(const Api& reference, const Api& candidate, const WorldConfig& world);

  Check Run(const Sequence& seq);
  // seq must diverge; returns the shrunk sequence (and its check in *out).
  Sequence Shrink(const Sequence& seq, Check* out);

 private:
  Executor reference_, candidate_;
};

// A readable C-like listing of seq with both worlds' results; the diverging
// op shows every field of both sides.
std::string Listing(const Sequence& seq, const Check& check);

}  // namespace shunt_diff

#endif  // SHUNT_TOOLS_DIFF_ORACLE_H_
