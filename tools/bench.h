// `shunt bench`: kernel-vs-shunt comparison rows.
//
// Each row measures one workload twice: once on kernel AF_UNIX sockets and
// once on shunt sockets, with kernel and shunt batches alternating inside one
// run so that frequency scaling and background noise hit both sides alike.
// The figure of a side is the median over its batches (this machine loses
// whole milliseconds to its host now and then: medians of many short batches
// shrug that off, a mean over one long loop would not).
//
// Adding a row means writing one templated batch function, instantiated for
// KernelApi and ShuntApi (bench_api.h), and appending one Row in
// bench_rows.cc.

#ifndef SHUNT_TOOLS_BENCH_H_
#define SHUNT_TOOLS_BENCH_H_

#include <string>
#include <vector>

namespace shunt_tool {

// What one batch measured.
struct Batch {
  double value = 0;  // in the row's unit
  // Latency rows: every operation's latency in ns (for p99 across batches).
  std::vector<double> latencies_ns;
};

// Runs `iterations` operations (set-up and teardown excluded from timing)
// and fills *out. Returns false and sets *error on failure.
using BatchFn = bool (*)(long iterations, Batch* out, std::string* error);

struct Row {
  const char* name;  // Stable: used by --filter and in the JSON output.
  const char* unit;
  // A rate (GB/s, msg/s): higher is better, ratio = shunt/kernel. Otherwise
  // a cost (ns/op): lower is better, ratio = kernel/shunt. Either way a
  // ratio above 1 means shunt is faster.
  bool higher_is_better;
  bool latency;     // per-operation latencies recorded: p99 is reported
  long iterations;  // operations per batch in a full run
  BatchFn kernel;
  BatchFn shunt;
};

// The table of all rows, in display order (bench_rows.cc).
const std::vector<Row>& Rows();
// The CPUs rows pin their threads to, and whether they could (bench_rows.cc).
struct Placement {
  int cpu_a, cpu_b;  // two distinct CPUs when available
  bool pinned;       // false when affinity cannot be set (or one CPU only)
};
const Placement& CpuPlacement();

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
