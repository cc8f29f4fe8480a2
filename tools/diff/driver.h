// `shunt diff`: the command. Parses options, forks --jobs workers that each
// take every jobs-th sequence, gives each worker a private arena and world
// directory, guards each sequence with a watchdog, prints each divergence
// shrunk with a replay command, and ends with the summary line
// "N sequences, M operations, K divergences".
#ifndef SHUNT_TOOLS_DIFF_DRIVER_H_
#define SHUNT_TOOLS_DIFF_DRIVER_H_

namespace shunt_diff {

// argv holds the options after "diff". Returns the exit status: 0 only when
// no sequence diverged.
int DiffMain(int argc, char** argv);
void PrintDiffUsage(void* file);

}  // namespace shunt_diff

#endif  // SHUNT_TOOLS_DIFF_DRIVER_H_
