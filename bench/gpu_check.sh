#!/usr/bin/env bash
# Runs on a GPU node from the unpacked bundle of scripts/gpu_bundle.sh (it
# lies beside this script): the layers' gtest cases on the GPU (Caffe's
# GradientChecker, float and double) and `caffe time` of the FV-VAE nets of
# bench/time_nets.py on the CPU and on the GPU of the same node, in one run.
# Writes OUTDIR/gpu_check.md (the table) and the logs.
#
# usage: bash fvvae-gpu/gpu_check.sh OUTDIR   (FVVAE_GPU_BUNDLE: the unpacked
#        bundle, when this script runs from elsewhere)
set -uo pipefail
B=${FVVAE_GPU_BUNDLE:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
OUTDIR=${1:?usage: gpu_check.sh OUTDIR}
mkdir -p "$OUTDIR"
# CUDA's runtime, cuBLAS and cuRAND: the toolkit's, or those of a Python install's wheels
cuda_dirs=$(ls -d /usr/local/cuda/lib64 2>/dev/null; python3 - <<'PY' 2>/dev/null
import glob, site, sys
for d in site.getsitepackages() + [site.getusersitepackages()]:
    for lib in sorted(set(glob.glob(d + "/nvidia/*/lib"))):
        print(lib)
PY
)
export LD_LIBRARY_PATH="$B/lib:$(echo "$cuda_dirs" | paste -sd:)${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export GLOG_logtostderr=1
{ nvidia-smi -L; nproc; } > "$OUTDIR/machine.txt" 2>&1
missing=$(ldd "$B/bin/caffe" "$B/bin/test_fvvae.testbin" | grep "not found" | sort -u)
[ -z "$missing" ] || { echo "gpu_check: libraries not found: $missing"; exit 2; }

echo "== gtest: every case; TestDtypesAndDevices types 2 and 3 are GPUDevice<float>, <double>"
"$B/bin/test_fvvae.testbin" > "$OUTDIR/gtest_gpu.log" 2>&1
gt=$?
echo "GPU cases passed: $(grep -cE '^\[       OK \] .*/[23]\.' "$OUTDIR/gtest_gpu.log"), failed: $(grep -cE '^\[  FAILED  \] .*/[23]\.' "$OUTDIR/gtest_gpu.log")"
grep -E "^\[  (PASSED|FAILED)" "$OUTDIR/gtest_gpu.log"; tail -3 "$OUTDIR/gtest_gpu.log"

ms() {  # model, what ("Forward pass" or "Forward-Backward"), iterations, [gpu args]
  local model=$1 what=$2 it=$3; shift 3
  "$B/bin/caffe" time -model "$model" -iterations "$it" "$@" 2>&1 \
    | tee -a "$OUTDIR/caffe_time.log" | sed -n "s/.*Average $what: \([0-9.]*\) ms.*/\1/p" | tail -1
}
{
  echo "| net | sets x T | C | CPU ms ($(nproc) cores) | GPU ms | GPU descriptors/s | speed-up |"
  echo "| --- | --- | --- | --- | --- | --- | --- |"
  for model in "$B"/nets/*.prototxt; do
    name=$(basename "$model" .prototxt)
    c=$(sed 's/.*_C\([0-9]*\)_T.*/\1/' <<<"$name"); t=${name##*_T}
    n=$(grep -m1 -A3 'dim:' "$model" | grep -m1 -o '[0-9]*')
    what="Forward pass"; [[ $name == train_* ]] && what="Forward-Backward"
    cpu=$(ms "$model" "$what" 3)
    gpu=$(ms "$model" "$what" 50 -gpu 0)
    rate=$(awk -v n="$n" -v t="$t" -v g="$gpu" 'BEGIN{ if (g > 0) printf "%.3g", n * t / (g / 1000) }')
    up=$(awk -v c="$cpu" -v g="$gpu" 'BEGIN{ if (g > 0) printf "%.1fx", c / g }')
    echo "| $name ($what) | $n x $t | $c | $cpu | $gpu | $rate | $up |"
  done
} | tee "$OUTDIR/gpu_check.md"
exit $gt
