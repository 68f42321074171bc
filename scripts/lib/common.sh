# Shared by scripts/demo and scripts/test: install what is missing, build.
# Sourced, not run.

JOBWATCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# Debian 12 packages jobwatch builds, tests and demos with.
JOBWATCH_PACKAGES=(
  g++ cmake make pkg-config python3 openssl ca-certificates
  libboost1.81-dev libboost-json1.81-dev libyaml-cpp-dev libspdlog-dev
  libssl-dev libsqlite3-dev libsystemd-dev libgtest-dev
  systemd  # systemd-analyze, for tests/integration/test_units.py
)

# Installs the packages that are not installed yet; a no-op when all are.
jobwatch_ensure_packages() {
  local missing=() pkg
  for pkg in "${JOBWATCH_PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
      missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "==> installing Debian packages: ${missing[*]}"
  local sudo=()
  [ "$(id -u)" -ne 0 ] && sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# Configures (once) and builds with -j2; extra arguments are build targets.
jobwatch_build() {
  cd "$JOBWATCH_ROOT"
  [ -f build/CMakeCache.txt ] || cmake --preset default
  if [ $# -gt 0 ]; then
    local targets=() t
    for t in "$@"; do targets+=(--target "$t"); done
    cmake --build --preset default "${targets[@]}"
  else
    cmake --build --preset default
  fi
}
