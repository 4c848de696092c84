#!/usr/bin/env bash
# Compiles every project .cu file (cuda_layers/) with nvcc for sm_90 against
# the patched, overlaid Caffe tree in build/, so that the CUDA kernels keep
# compiling on machines that have nvcc but no GPU. Needs scripts/setup.sh to
# have run (generated caffe.pb.h). Exit 3 when there is no nvcc.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NVCC=${NVCC:-$(command -v nvcc || true)}
[ -n "$NVCC" ] || { [ -x /usr/local/cuda/bin/nvcc ] && NVCC=/usr/local/cuda/bin/nvcc; }
if [ -z "$NVCC" ]; then echo "check_cuda_kernels: no nvcc on this machine" >&2; exit 3; fi
[ -f "$ROOT/build/caffe-build/include/caffe/proto/caffe.pb.h" ] || {
  echo "check_cuda_kernels: run scripts/setup.sh first (no generated caffe.pb.h)" >&2; exit 2; }
libs=$("$ROOT/scripts/cuda_libs.sh")
out="$ROOT/build/cuda-check"
mkdir -p "$out"
arch=${FVVAE_CUDA_ARCH:-90}
mapfile -t sources < <(cd "$ROOT/cuda_layers" && find src -name '*.cu' | sort)
echo "check_cuda_kernels: $("$NVCC" --version | tail -1) on ${#sources[@]} files, sm_$arch"
compile() {
  local rel=$1 obj
  obj="$out/$(basename "${rel%.cu}").o"
  "$NVCC" -c -O2 -std=c++14 -gencode "arch=compute_$arch,code=sm_$arch" -Xcompiler -fPIC \
    -I"$ROOT/build/caffe-src/include" -I"$ROOT/build/caffe-build/include" \
    -I"$ROOT/build/caffe-build" -I"$libs/include" \
    "$ROOT/build/caffe-src/$rel" -o "$obj" && echo "compiled $rel"
}
export -f compile; export NVCC ROOT out arch libs
printf '%s\n' "${sources[@]}" | xargs -P "$(nproc)" -I{} bash -c 'compile {}'
