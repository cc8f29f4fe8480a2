#!/usr/bin/env bash
# Installs the build and test dependencies that are missing, and nothing
# else. Idempotent: when everything is present it does not touch apt.
# Runs as root directly, otherwise through sudo.
set -euo pipefail

packages=(build-essential cmake libgtest-dev libgmock-dev libbenchmark-dev
          pkg-config clang-format)

if ! command -v dpkg-query >/dev/null 2>&1; then
  # Not a Debian-like system: check the tools and leave installing to the user.
  missing_tools=()
  for tool in cc c++ make cmake pkg-config clang-format; do
    command -v "$tool" >/dev/null 2>&1 || missing_tools+=("$tool")
  done
  if ((${#missing_tools[@]})); then
    echo "setup-deps: no dpkg/apt here; please install: ${missing_tools[*]}" \
         "(and GoogleTest, GoogleMock, Google Benchmark)" >&2
    exit 1
  fi
  echo "setup-deps: no dpkg/apt; assuming GoogleTest/Benchmark are installed"
  exit 0
fi

missing=()
for pkg in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ $status == "install ok installed" ]] || missing+=("$pkg")
done

if ((${#missing[@]} == 0)); then
  echo "setup-deps: all dependencies present"
  exit 0
fi

echo "setup-deps: installing ${missing[*]}"
if [[ $(id -u) -eq 0 ]]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "setup-deps: need root or sudo to install ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update
"${as_root[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
