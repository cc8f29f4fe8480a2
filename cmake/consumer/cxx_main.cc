// The installed C++ header: one round trip through shunt::SocketPair.
#include <cstdio>
#include <cstring>
#include <shunt/shunt.hpp>

int main() {
  auto pair = shunt::SocketPair(SOCK_STREAM | SOCK_CLOEXEC);
  if (!pair.ok()) {
    std::fprintf(stderr, "consumer_cxx: %s\n", pair.message().c_str());
    return 1;
  }
  auto& [a, b] = pair.value();
  if (auto sent = a.send("ping"); !sent.ok() || sent.value() != 4) {
    std::fprintf(stderr, "consumer_cxx: send: %s\n", sent.message().c_str());
    return 1;
  }
  std::byte buf[16];
  auto got = b.recv(buf);
  if (!got.ok() || got.value() != 4 || std::memcmp(buf, "ping", 4) != 0) {
    std::fprintf(stderr, "consumer_cxx: recv: %s\n", got.message().c_str());
    return 1;
  }
  std::printf("consumer_cxx: ok\n");
  return 0;
}
