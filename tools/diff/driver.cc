#include "driver.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <string>
#include <vector>

#include "concurrent.h"
#include "generator.h"
#include "oracle.h"
#include "rng.h"

namespace shunt_diff {
namespace {

constexpr unsigned kWatchdogSeconds = 60;

struct Options {
  uint64_t seed = 0;
  bool seed_given = false;
  long sequences = -1;  // -1: 1000, or unbounded with --seconds
  int ops = 50;
  double seconds = 0;
  int jobs = 1;
  long blocking = -1;   // blocking scenarios; -1: one per 100 sequences
  bool replay = false;  // seed is one sequence's seed
  bool replay_blocking = false;  // seed is one blocking scenario's seed
  GeneratorOptions gen;
};

struct Totals {
  long sequences = 0, operations = 0, divergences = 0, cut = 0;
  long allowed1 = 0, scenarios = 0;
};

double Now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec / 1e9;
}

// The watchdog: every sequence, shrinking step and scenario must finish
// within kWatchdogSeconds, or the process says how to replay it and dies.
volatile uint64_t g_current_seed = 0;
const char* volatile g_replay_option = "--replay";
char g_arena_file[64];   // the private arena's /dev/shm file, for OnAlarm
char g_replay_tail[96];  // the replay command's options after the seed
void OnAlarm(int) {
  if (g_arena_file[0] != '\0') unlink(g_arena_file);  // signal-safe
  char msg[320] =
      "shunt diff: watchdog: no progress for 60 s (a call blocked?); "
      "replay: shunt diff ";
  size_t n = strlen(msg);
  for (const char* p = g_replay_option; *p != '\0'; ++p) msg[n++] = *p;
  msg[n++] = ' ';
  msg[n++] = '0';
  msg[n++] = 'x';
  for (int shift = 60; shift >= 0; shift -= 4)
    msg[n++] = "0123456789abcdef"[(g_current_seed >> shift) & 0xf];
  for (const char* p = g_replay_tail; *p != '\0' && n + 2 < sizeof msg; ++p)
    msg[n++] = *p;
  msg[n++] = '\n';
  (void)!write(2, msg, n);
  _exit(3);
}

std::string ReplayCommand(const Options& o, uint64_t seq_seed) {
  char buf[160];
  snprintf(buf, sizeof buf,
           "shunt diff --replay 0x%016" PRIx64 " --ops-per-sequence %d%s%s",
           seq_seed, o.ops, o.gen.ancillary ? " --ancillary" : "",
           o.gen.oob_send ? " --oob" : "");
  return buf;
}

// One worker: sequences index = first, first + stride, ...
Totals Work(const Options& o, long first, long stride) {
  Totals t;
  char dir[] = "/tmp/shunt-diff-XXXXXX";
  if (mkdtemp(dir) == nullptr) {
    perror("shunt diff: mkdtemp");
    exit(2);
  }
  char prefix[32];
  snprintf(prefix, sizeof prefix, "shunt-diff-%08x-",
           static_cast<unsigned>(getpid()));
  const WorldConfig world{dir, prefix};
  Oracle oracle(KernelApi(), ShuntApi(), world);
  const Generator gen(o.gen);
  snprintf(g_replay_tail, sizeof g_replay_tail, " --ops-per-sequence %d%s%s",
           o.ops, o.gen.ancillary ? " --ancillary" : "",
           o.gen.oob_send ? " --oob" : "");
  signal(SIGALRM, OnAlarm);
  const double deadline = o.seconds > 0 ? Now() + o.seconds : 0;
  for (long i = first; o.sequences < 0 || i < o.sequences; i += stride) {
    if (deadline != 0 && Now() >= deadline) break;
    const uint64_t seq_seed =
        o.replay ? o.seed : SequenceSeed(o.seed, static_cast<uint64_t>(i));
    g_current_seed = seq_seed;
    g_replay_option = "--replay";
    alarm(kWatchdogSeconds);
    const Sequence seq = gen.Generate(seq_seed, o.ops);
    const Check c = oracle.Run(seq);
    ++t.sequences;
    t.operations +=
        static_cast<long>(c.verdict.cut ? c.verdict.cut_at + 1 : seq.size());
    t.cut += c.verdict.cut;
    t.allowed1 += c.verdict.allowed[1];
    if (c.verdict.diverged) {
      ++t.divergences;
      Check shrunk;
      const Sequence small = oracle.Shrink(seq, &shrunk);
      std::string report = "\n=== divergence: sequence seed 0x";
      char hex[24];
      snprintf(hex, sizeof hex, "%016" PRIx64, seq_seed);
      report += hex;
      report += " at op " + std::to_string(c.verdict.index) + " of " +
                std::to_string(seq.size()) + ": " + c.verdict.what + "\n";
      report += "shrunk to " + std::to_string(small.size()) + " ops:\n";
      report += Listing(small, shrunk);
      report += "replay: " + ReplayCommand(o, seq_seed) + "\n";
      fputs(report.c_str(), stdout);
      fflush(stdout);
    }
    alarm(0);
    if (o.replay) break;
  }
  // Blocking scenarios (threads and processes), the same share of them.
  long scenarios =
      o.replay ? 0 : (o.blocking >= 0 ? o.blocking : (o.sequences + 99) / 100);
  if (o.replay_blocking) scenarios = 1;
  for (long i = first; i < scenarios; i += stride) {
    if (deadline != 0 && Now() >= deadline) break;
    const uint64_t sc_seed =
        o.replay_blocking
            ? o.seed
            : SequenceSeed(o.seed ^ 0x5ce7a210, static_cast<uint64_t>(i));
    g_current_seed = sc_seed;
    g_replay_option = "--replay-blocking";
    alarm(kWatchdogSeconds);
    const Scenario sc = MakeScenario(sc_seed);
    const std::vector<Outcome> k = RunScenario(KernelApi(), world, sc);
    CleanDir(world.dir);
    const std::vector<Outcome> s = RunScenario(ShuntApi(), world, sc);
    CleanDir(world.dir);
    alarm(0);
    ++t.scenarios;
    t.operations += static_cast<long>(k.size());
    std::string what;
    const long at = CompareScenario(k, s, &what);
    if (at < 0) continue;
    ++t.divergences;
    char hex[24];
    snprintf(hex, sizeof hex, "%016" PRIx64, sc_seed);
    std::string report = "\n=== divergence: blocking scenario seed 0x";
    report += hex;
    report += " (" + DescribeScenario(sc) + ") at step " + std::to_string(at) +
              ": " + what + "\n";
    for (size_t j = 0; j < std::max(k.size(), s.size()); ++j) {
      report += "  step " + std::to_string(j) + ": kernel " +
                (j < k.size() ? k[j].Result() : "-") + ", shunt " +
                (j < s.size() ? s[j].Result() : "-") + "\n";
    }
    report += "replay: shunt diff --replay-blocking 0x";
    report += hex;
    report += "\n";
    fputs(report.c_str(), stdout);
    fflush(stdout);
  }
  rmdir(dir);
  return t;
}

bool ParseNumber(const char* s, uint64_t* v) {
  if (s == nullptr || *s == '\0') return false;
  char* end = nullptr;
  errno = 0;
  *v = strtoull(s, &end, 0);
  return errno == 0 && *end == '\0';
}

int ParseOptions(int argc, char** argv, Options* o) {
  for (int i = 0; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](uint64_t* v) {
      if (i + 1 >= argc || !ParseNumber(argv[i + 1], v)) {
        fprintf(stderr, "shunt diff: %s needs a number\n", arg.c_str());
        return false;
      }
      ++i;
      return true;
    };
    uint64_t v = 0;
    if (arg == "--seed" || arg == "--replay" || arg == "--replay-blocking") {
      if (!value(&v)) return 2;
      o->seed = v;
      o->seed_given = true;
      o->replay = arg == "--replay";
      o->replay_blocking = arg == "--replay-blocking";
    } else if (arg == "--sequences") {
      if (!value(&v)) return 2;
      o->sequences = static_cast<long>(v);
    } else if (arg == "--ops-per-sequence") {
      if (!value(&v) || v == 0 || v > 100000) return 2;
      o->ops = static_cast<int>(v);
    } else if (arg == "--seconds") {
      if (!value(&v)) return 2;
      o->seconds = static_cast<double>(v);
    } else if (arg == "--jobs") {
      if (!value(&v) || v == 0 || v > 64) return 2;
      o->jobs = static_cast<int>(v);
    } else if (arg == "--blocking") {
      if (!value(&v)) return 2;
      o->blocking = static_cast<long>(v);
    } else if (arg == "--ancillary") {
      o->gen.ancillary = true;
    } else if (arg == "--oob") {
      o->gen.oob_send = true;
    } else if (arg == "--help" || arg == "-h") {
      PrintDiffUsage(stdout);
      return 1;
    } else {
      fprintf(stderr, "shunt diff: unknown option '%s'\n", arg.c_str());
      PrintDiffUsage(stderr);
      return 2;
    }
  }
  if (o->sequences < 0 && o->seconds <= 0) o->sequences = 1000;
  if (o->replay || o->replay_blocking) o->jobs = 1;
  if (o->replay_blocking) o->sequences = 0;
  return 0;
}

// Runs Work in this process with a private arena, unlinked afterwards.
Totals WorkWithPrivateArena(const Options& o, long first, long stride) {
  const std::string arena = "/shunt-diff-" + std::to_string(getpid());
  shm_unlink(arena.c_str());  // a dead run's, if our pid was reused
  setenv("SHUNT_ARENA", arena.c_str(), 1);
  snprintf(g_arena_file, sizeof g_arena_file, "/dev/shm%s", arena.c_str());
  const Totals t = Work(o, first, stride);
  shm_unlink(arena.c_str());
  return t;
}

}  // namespace

void PrintDiffUsage(void* file) {
  fprintf(static_cast<FILE*>(file),
          "  diff [--seed S] [--sequences N] [--ops-per-sequence N]\n"
          "       [--seconds T] [--jobs J] [--blocking N] [--replay SEQSEED]\n"
          "       [--replay-blocking SEED] [--ancillary] [--oob]\n"
          "             run seeded random socket-operation sequences on "
          "kernel and\n"
          "             shunt sockets and compare every result; shrink and "
          "print\n"
          "             each divergence; --blocking N blocking scenarios\n"
          "             (default: one per 100 sequences)\n");
}

int DiffMain(int argc, char** argv) {
  Options o;
  if (const int rc = ParseOptions(argc, argv, &o); rc != 0)
    return rc == 1 ? 0 : rc;
  if (!o.seed_given) {
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t s = static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL +
                 static_cast<uint64_t>(ts.tv_nsec) + getpid();
    o.seed = SplitMix64(&s);
  }
  printf("shunt diff: %s 0x%016" PRIx64 " (%d ops per sequence, %d jobs)\n",
         o.replay            ? "replaying sequence"
         : o.replay_blocking ? "replaying blocking scenario"
                             : "seed",
         o.seed, o.ops, o.jobs);
  fflush(stdout);
  const double start = Now();
  Totals total;
  bool worker_failed = false;
  if (o.jobs == 1) {
    total = WorkWithPrivateArena(o, 0, 1);
  } else {
    std::vector<std::pair<pid_t, int>> workers;
    for (int j = 0; j < o.jobs; ++j) {
      int p[2];
      if (pipe(p) != 0) {
        perror("shunt diff: pipe");
        return 2;
      }
      const pid_t pid = fork();
      if (pid < 0) {
        perror("shunt diff: fork");
        return 2;
      }
      if (pid == 0) {
        close(p[0]);
        const Totals t = WorkWithPrivateArena(o, j, o.jobs);
        (void)!write(p[1], &t, sizeof t);
        close(p[1]);
        exit(0);
      }
      close(p[1]);
      workers.push_back({pid, p[0]});
    }
    for (auto [pid, fd] : workers) {
      Totals t;
      const bool got = read(fd, &t, sizeof t) == sizeof t;
      close(fd);
      int status = 0;
      waitpid(pid, &status, 0);
      if (!got || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "shunt diff: worker %d failed (status 0x%x)\n", pid,
                status);
        worker_failed = true;
        ++total.divergences;
        continue;
      }
      total.sequences += t.sequences;
      total.operations += t.operations;
      total.divergences += t.divergences;
      total.cut += t.cut;
      total.allowed1 += t.allowed1;
      total.scenarios += t.scenarios;
    }
  }
  const double secs = Now() - start;
  printf(
      "allowed differences applied: DIFFERENCES.md #1 (stream send "
      "accounting) %ld times, %ld sequences compared up to a stream send "
      "Linux refused earlier\n",
      total.allowed1, total.cut);
  printf("%ld blocking scenarios (threads and processes)\n", total.scenarios);
  printf("%.1f s, %.0f operations/s (each run on both worlds)\n", secs,
         secs > 0 ? static_cast<double>(total.operations) / secs : 0.0);
  printf("%ld sequences, %ld operations, %ld divergences\n", total.sequences,
         total.operations, total.divergences);
  return total.divergences == 0 && !worker_failed ? 0 : 1;
}

}  // namespace shunt_diff
