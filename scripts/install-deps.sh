#!/usr/bin/env bash
# Installs every build and runtime dependency of bitline from Debian packages.
# Idempotent: packages already present are left as they are. Run as root (or with sudo).
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libtorch-dev libopenblas0-openmp
  dataset-fashion-mnist
  libyaml-cpp-dev libcli11-dev libfmt-dev nlohmann-json3-dev zlib1g-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  liblemon-dev  # LEMON's weighted perfect matching (DDC-PIM filter pairing, core/ddc_pim/pairing.h)
  clang-format clang-tidy
  clang libclang-rt-14-dev  # libFuzzer and the sanitizer runtimes (scripts/fuzz.sh, docs/reliability.md)
  slurmctld slurmd slurm-client munge  # a single-node Slurm on localhost for the sweep executor's tests (scripts/local_slurm.sh)
  chromium  # headless browser for the web/ report's tests (renders file:// pages, no download by npm)
  patch  # applies the mutants of the mutation run (scripts/mutate.sh, docs/testing.md)
)

missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done

sudo_cmd=""
[[ $(id -u) -ne 0 ]] && sudo_cmd="sudo"
# apt-get and dpkg chatter (unpacking, invoke-rc.d refusing to start services without systemd) is kept
# out of the way and shown only when the install fails.
apt_install() {
  local log
  log=$(mktemp)
  if ! { $sudo_cmd apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "$@"; } >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    echo "install-deps: installing $* failed" >&2
    return 1
  fi
  rm -f "$log"
}
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  apt_install "${missing[@]}"
else
  echo "install-deps: all ${#packages[@]} packages already installed"
fi

# Node and npm for web/. A NodeSource-style `nodejs` already ships /usr/bin/npm and conflicts with
# Debian's `npm` package, so Debian's `nodejs npm` are installed only when there is no npm at all.
if ! command -v npm >/dev/null 2>&1; then
  echo "install-deps: installing nodejs npm"
  apt_install nodejs npm
fi

# LibTorch calls BLAS through the libblas.so.3 alternative. Point it (and LAPACK) at the OpenMP
# build of OpenBLAS: the reference BLAS is ~30x slower, and the pthread build oversubscribes the
# cores next to LibTorch's OpenMP threads. `bitline info` shows which library answers.
openblas_dir=/usr/lib/x86_64-linux-gnu/openblas-openmp
for alternative in libblas.so.3 liblapack.so.3 libopenblas.so.0; do
  name="${alternative}-x86_64-linux-gnu"
  target="${openblas_dir}/${alternative}"
  if [[ -e "$target" ]] && update-alternatives --query "$name" >/dev/null 2>&1; then
    current=$(update-alternatives --query "$name" | awk '/^Value:/ {print $2}')
    if [[ "$current" != "$target" ]]; then
      $sudo_cmd update-alternatives --set "$name" "$target"
    fi
  fi
done

# web/'s npm dependencies, pinned by its lock file. `npm ci` wipes and refills node_modules, so it runs
# only when the lock file changed since the last install (its hash is stamped into node_modules).
web_dir="$(cd "$(dirname "$0")/.." && pwd)/web"
if [[ -f "$web_dir/package-lock.json" ]]; then
  stamp="$web_dir/node_modules/.bitline-lock-sha256"
  lock_hash=$(sha256sum "$web_dir/package-lock.json" | cut -d' ' -f1)
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$lock_hash" ]]; then
    echo "install-deps: web/node_modules up to date"
  else
    echo "install-deps: npm ci in web/"
    (cd "$web_dir" && npm ci --no-audit --no-fund --loglevel=error)
    mkdir -p "$web_dir/node_modules"
    echo "$lock_hash" >"$stamp"
  fi
fi
