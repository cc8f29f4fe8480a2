// `shunt bench`: kernel-vs-shunt comparison rows.
//
// Each row measures one operation twice: once on kernel AF_UNIX sockets and
// once on shunt sockets, with kernel and shunt batches alternating inside one
// run so that frequency scaling and background noise hit both sides alike.
// Adding a row means writing two BatchFns and appending one Row to the table
// in bench.cc (usually one templated function instantiated for KernelApi and
// ShuntApi).

#ifndef SHUNT_TOOLS_BENCH_H_
#define SHUNT_TOOLS_BENCH_H_

#include <string>
#include <vector>

namespace shunt_tool {

// Runs `iterations` operations (setup and teardown excluded from timing) and
// stores the mean cost of one operation in *per_op, in the row's unit.
// Returns false and sets *error on failure.
using BatchFn = bool (*)(long iterations, double* per_op, std::string* error);

struct Row {
  const char* name;  // Stable: used by --filter and in the JSON output.
  // Unit of per_op. It must be a cost (lower is better, e.g. "ns/op" or
  // "ns/KiB") so that ratio = kernel/shunt > 1 always means shunt is faster.
  const char* unit;
  long iterations;  // Operations per batch in a full run.
  BatchFn kernel;
  BatchFn shunt;
};

// The table of all rows, in display order.
const std::vector<Row>& Rows();

struct BenchOptions {
  bool quick = false;     // Fewer repetitions and shorter batches.
  std::string filter;     // POSIX ERE searched in row names; "" = all.
  std::string json_path;  // Write results here when non-empty.
};

// Runs the selected rows, prints the table to stdout. Returns the process
// exit status.
int RunBench(const BenchOptions& options);

}  // namespace shunt_tool

#endif  // SHUNT_TOOLS_BENCH_H_
