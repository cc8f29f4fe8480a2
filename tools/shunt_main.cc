// The `shunt` command-line tool: help, version, bench, diff.

#include <cstdio>
#include <cstring>
#include <string>

#include "bench.h"
#include "driver.h"

#ifndef SHUNT_VERSION
#define SHUNT_VERSION "unknown"
#endif

namespace {

void PrintUsage(FILE* out) {
  std::fprintf(out,
               "usage: shunt <command> [options]\n"
               "\n"
               "commands:\n"
               "  help       show this text\n"
               "  version    print the shunt version\n"
               "  bench [--quick] [--filter REGEX] [--json FILE]\n"
               "             compare kernel AF_UNIX sockets with shunt "
               "sockets\n"
               "             --quick        fewer, shorter batches\n"
               "             --filter REGEX run rows whose name matches "
               "REGEX\n"
               "             --json FILE    also write results as JSON\n");
  shunt_diff::PrintDiffUsage(out);
  std::fprintf(out,
               "\n"
               "environment:\n"
               "  SHUNT_ARENA    shared-memory arena name (default: one per "
               "user)\n"
               "  SHUNT_SPIN_NS  default spin time before blocking calls "
               "sleep\n");
}

int Bench(int argc, char** argv) {
  shunt_tool::BenchOptions options;
  for (int i = 0; i < argc; ++i) {
    const char* arg = argv[i];
    auto value = [&](const char* name) -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "shunt bench: %s needs a value\n", name);
        return nullptr;
      }
      return argv[++i];
    };
    if (std::strcmp(arg, "--quick") == 0) {
      options.quick = true;
    } else if (std::strcmp(arg, "--filter") == 0) {
      const char* v = value(arg);
      if (v == nullptr) return 2;
      options.filter = v;
    } else if (std::strncmp(arg, "--filter=", 9) == 0) {
      options.filter = arg + 9;
    } else if (std::strcmp(arg, "--json") == 0) {
      const char* v = value(arg);
      if (v == nullptr) return 2;
      options.json_path = v;
    } else if (std::strncmp(arg, "--json=", 7) == 0) {
      options.json_path = arg + 7;
    } else if (std::strcmp(arg, "--help") == 0 || std::strcmp(arg, "-h") == 0) {
      PrintUsage(stdout);
      return 0;
    } else {
      std::fprintf(stderr, "shunt bench: unknown option '%s'\n", arg);
      PrintUsage(stderr);
      return 2;
    }
  }
  return shunt_tool::RunBench(options);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    PrintUsage(stderr);
    return 2;
  }
  std::string command = argv[1];
  if (command == "help" || command == "--help" || command == "-h") {
    PrintUsage(stdout);
    return 0;
  }
  if (command == "version" || command == "--version") {
    std::printf("shunt %s\n", SHUNT_VERSION);
    return 0;
  }
  if (command == "bench") return Bench(argc - 2, argv + 2);
  if (command == "diff") return shunt_diff::DiffMain(argc - 2, argv + 2);
  std::fprintf(stderr, "shunt: unknown command '%s'\n", command.c_str());
  PrintUsage(stderr);
  return 2;
}
