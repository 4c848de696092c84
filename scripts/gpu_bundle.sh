#!/usr/bin/env bash
# Builds Caffe with CUDA, cuDNN 9 (patch 0010) and our layers in a minimal
# configuration (libcaffe, the caffe tool, the layers' gtest binary and
# Caffe's own tests of the trunks' layers; no OpenCV, LevelDB, HDF5 or
# Python: CMake option FVVAE_MINIMAL) into build-cuda/, and packs it with the
# shared libraries it needs (less glibc, the C++ runtime and the NVIDIA
# libraries a GPU node has: CUDA's, cuDNN, NCCL), the nets of
# bench/time_nets.py (with the synthetic training LMDB) and the scripts of
# the GPU check into build-cuda/bundle/fvvae-gpu.tar.xz. Unpacked on a GPU
# node that has none of Debian's packages, bench/gpu_check.sh runs the whole
# device check from it (--dry-run checks the bundle anywhere).
#
# usage: scripts/gpu_bundle.sh        (after scripts/setup.sh; needs nvcc)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[ -x "$ROOT/.venv/bin/python" ] || { echo "gpu_bundle: run scripts/setup.sh first" >&2; exit 2; }
BUILD="$ROOT/build-cuda"
libs=$("$ROOT/scripts/cuda_libs.sh" --libs cudnn)
export CCACHE_DIR=${CCACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ccache} CCACHE_BASEDIR="$ROOT"
echo "[gpu_bundle] building Caffe with CUDA (FVVAE_MINIMAL) in $BUILD"
mkdir -p "$BUILD"
cmake -S "$ROOT" -B "$BUILD" -DFVVAE_CUDA=ON -DFVVAE_CUDNN=ON -DFVVAE_MINIMAL=ON \
  -DFVVAE_CUDA_LIBS_ROOT="$libs" ${FVVAE_JOBS:+-DFVVAE_JOBS=$FVVAE_JOBS} >"$BUILD/configure.log" 2>&1 \
  || { tail -40 "$BUILD/configure.log"; exit 1; }
cmake --build "$BUILD" >"$BUILD/build.log" 2>&1 || { tail -40 "$BUILD/build.log"; exit 1; }

stage="$BUILD/bundle/fvvae-gpu"
rm -rf "$stage"; mkdir -p "$stage/bin" "$stage/lib" "$stage/nets"
cp "$BUILD/caffe-build/tools/caffe" "$BUILD/caffe-build/test/test_fvvae.testbin" \
   "$BUILD/caffe-build/test/test_trunk_layers.testbin" "$stage/bin/"
cp -P "$BUILD"/caffe-build/lib/libcaffe.so* "$stage/lib/"
# every library the two programs load, except the system's and CUDA's
ldd "$stage"/bin/* "$BUILD"/caffe-build/lib/libcaffe.so \
  | awk '/=> \//{print $3}' | sort -u | while read -r so; do
  case "$(basename "$so")" in
    libc.so*|libm.so*|libdl.so*|librt.so*|libpthread.so*|ld-linux*|libstdc++*|libgcc_s*) ;;
    libcuda.so*|libcudart*|libcublas*|libcurand*|libcudnn*|libnccl*|libcaffe*) ;;
    *) cp -L "$so" "$stage/lib/" ;;
  esac
done
strip --strip-unneeded "$stage"/bin/* "$stage"/lib/*.so* 2>/dev/null || true
"$ROOT/.venv/bin/python" "$ROOT/bench/time_nets.py" --out "$stage/nets" >/dev/null
cp "$ROOT/bench/gpu_check.sh" "$ROOT/bench/torch_trunks.py" "$ROOT/bench/gpu_report.py" "$stage/"
tar -C "$BUILD/bundle" -cJf "$BUILD/bundle/fvvae-gpu.tar.xz" fvvae-gpu
echo "[gpu_bundle] $(du -h "$BUILD/bundle/fvvae-gpu.tar.xz" | cut -f1): $BUILD/bundle/fvvae-gpu.tar.xz"
