#!/usr/bin/env bash
# The CUDA compile check, for machines that have nvcc but no GPU (CI):
#   1. every project .cu file (cuda_layers/) with nvcc for sm_90, and the
#      project's gtest files as a cuDNN build compiles them (their GPU cases,
#      the CPU-against-GPU agreement test);
#   2. Caffe's cuDNN sources (the cuDNN layers, util/cudnn.cpp and the tests
#      of the layers the trunks use, which hold Caffe's CuDNN* test cases)
#      with -DUSE_CUDNN against cuDNN 9's headers (patch 0010);
#   3. Caffe's NCCL parts (parallel.cpp, the caffe tool, pycaffe, the solver
#      tests) with -DUSE_NCCL against NCCL's headers;
# all against the patched, overlaid Caffe tree in build/ with the defines and
# include paths of the real build (its flags.make, CPU_ONLY taken out), with
# C++17 (CUDA 13's CCCL needs it). cuBLAS, cuRAND, cuDNN and NCCL headers come
# from their pinned wheels (scripts/cuda_libs.sh). Needs scripts/setup.sh to
# have run. Objects go to build/cuda-check/. Exit 3 when there is no nvcc.
#
# usage: scripts/check_cuda_kernels.sh
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NVCC=${NVCC:-$(command -v nvcc || true)}
[ -n "$NVCC" ] || { [ -x /usr/local/cuda/bin/nvcc ] && NVCC=/usr/local/cuda/bin/nvcc; }
if [ -z "$NVCC" ]; then echo "check_cuda_kernels: no nvcc on this machine" >&2; exit 3; fi
SRC="$ROOT/build/caffe-src" BLD="$ROOT/build/caffe-build"
[ -f "$BLD/include/caffe/proto/caffe.pb.h" ] || {
  echo "check_cuda_kernels: run scripts/setup.sh first (no generated caffe.pb.h)" >&2; exit 2; }
[ -f "$SRC/include/caffe/util/cudnn_algo.hpp" ] || {
  echo "check_cuda_kernels: $SRC lacks patch 0010 (run scripts/setup.sh)" >&2; exit 2; }
libs=$("$ROOT/scripts/cuda_libs.sh" cudnn nccl)
cuda_inc=$(cd "$(dirname "$(readlink -f "$NVCC")")/.." && pwd)/include
[ -f "$cuda_inc/cuda_runtime.h" ] || cuda_inc=/usr/local/cuda/include
out="$ROOT/build/cuda-check"
mkdir -p "$out/fvvae" "$out/fvvae-test" "$out/cudnn" "$out/nccl"
arch=${FVVAE_CUDA_ARCH:-90}
CXX=${CXX:-c++}
command -v ccache >/dev/null && CXX="ccache $CXX"

# the defines and include paths CMake gave a target, CPU_ONLY taken out
flags_of() {  # flags.make
  sed -n 's/^CXX_\(DEFINES\|INCLUDES\) = //p' "$BLD/$1" | tr '\n' ' ' | sed 's/-DCPU_ONLY//g'
}
lib_flags=$(flags_of src/caffe/CMakeFiles/caffe.dir/flags.make)
test_flags=$(flags_of src/caffe/test/CMakeFiles/test.testbin.dir/flags.make)
tool_flags=$(flags_of tools/CMakeFiles/caffe.bin.dir/flags.make)
py_flags=$(flags_of python/CMakeFiles/pycaffe.dir/flags.make)
common="-I$cuda_inc -I$libs/include"
# CUDA 13 moved Thrust and CUB into include/cccl (nvcc adds it, the host compiler needs it)
[ -d "$cuda_inc/cccl" ] && common+=" -I$cuda_inc/cccl"

mapfile -t fvvae_cu < <(cd "$ROOT/cuda_layers" && find src -name '*.cu' | sort)
mapfile -t fvvae_tests < <(cd "$SRC" && ls src/caffe/test/fvvae/test_*.cpp | sort)
mapfile -t cudnn_src < <(cd "$SRC" && { ls src/caffe/layers/cudnn_*.cpp src/caffe/layers/cudnn_*.cu \
  src/caffe/util/cudnn.cpp; printf 'src/caffe/test/test_%s_layer.cpp\n' convolution deconvolution \
  pooling neuron softmax lrn; } | sort)
nccl_src=(src/caffe/parallel.cpp tools/caffe.cpp python/caffe/_caffe.cpp
          src/caffe/test/test_gradient_based_solver.cpp)
echo "check_cuda_kernels: $("$NVCC" --version | tail -1), sm_$arch; ${#fvvae_cu[@]} project" \
     ".cu files, ${#fvvae_tests[@]} project tests, ${#cudnn_src[@]} cuDNN sources, ${#nccl_src[@]} NCCL sources"

jobs=()
for rel in "${fvvae_cu[@]}"; do jobs+=("fvvae $rel"); done
for rel in "${fvvae_tests[@]}"; do jobs+=("fvvae-test $rel"); done
for rel in "${cudnn_src[@]}"; do jobs+=("cudnn $rel"); done
for rel in "${nccl_src[@]}"; do jobs+=("nccl $rel"); done

compile() {
  local group=$1 rel=$2 defs flags obj
  obj="$out/$group/$(basename "$rel").o"
  case $group in
    fvvae) defs="" ;;
    fvvae-test) defs="-DUSE_CUDNN" ;;
    cudnn) defs="-DUSE_CUDNN" ;;
    nccl) defs="-DUSE_CUDNN -DUSE_NCCL" ;;
  esac
  case $rel in
    src/caffe/test/*) flags=$test_flags ;;
    tools/*) flags=$tool_flags ;;
    python/*) flags=$py_flags ;;
    *) flags=$lib_flags ;;
  esac
  if [[ $rel == *.cu ]]; then
    # shellcheck disable=SC2086
    "$NVCC" -c -O2 -std=c++17 -gencode "arch=compute_$arch,code=sm_$arch" -Xcompiler -fPIC \
      $flags $defs $common "$SRC/$rel" -o "$obj"
  else
    # shellcheck disable=SC2086
    $CXX -c -O0 -std=c++17 -fPIC -Wall -Wno-sign-compare -Wno-uninitialized \
      $flags $defs $common "$SRC/$rel" -o "$obj"
  fi && echo "compiled $group $rel"
}
export -f compile
export NVCC SRC out arch CXX lib_flags test_flags tool_flags py_flags common
printf '%s\n' "${jobs[@]}" | xargs -P "$(nproc)" -I{} bash -c 'compile {}'
