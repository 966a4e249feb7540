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
)

missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done

sudo_cmd=""
[[ $(id -u) -ne 0 ]] && sudo_cmd="sudo"
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all ${#packages[@]} packages already installed"
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
