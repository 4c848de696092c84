#!/usr/bin/env bash
# The one prepared device check (issue 15): runs on a GPU node from the
# unpacked bundle of scripts/gpu_bundle.sh (it lies beside this script) and
# writes everything under OUTDIR, in at most 8 minutes on one H200:
#   - gtest on the GPU: our layers (GradientChecker, float and double, both
#     layouts) and the CPU-against-GPU agreement of every layer (ours; the
#     trunks' convolution, pooling, ReLU, softmax with Caffe's engine and
#     cuDNN); Caffe's own GPU and CuDNN* cases of those trunk layers;
#   - `caffe time` of the trunks (VGG_19 pool5 224 b128, ResNet_152 res5c
#     224 b64, VGG_19 conv5_4 448 b16) without and with cuDNN, and the same
#     trunks in PyTorch (torch_trunks.py) in the same run;
#   - the FV-VAE head at (C, T) = (512|2048, 50|784) in both layouts against
#     the SGEMM rate measured in the same run (OUTDIR/gpu_head.csv);
#   - `caffe train -gpu 0` of the paper's train net, 200 iterations on the
#     bundle's synthetic LMDB.
# gpu_report.py turns it into OUTDIR/gpu_check.md (tables, targets met or not).
#
# usage: bash fvvae-gpu/gpu_check.sh [--dry-run] OUTDIR
#   --dry-run: check the bundle's contents (files, that libcaffe has CUDA and
#   cuDNN, libraries found or left to the node) and print the plan; runs
#   nothing on a GPU, so it works on any machine.
set -uo pipefail
dry=0
if [ "${1:-}" = --dry-run ]; then dry=1; shift; fi
B=${FVVAE_GPU_BUNDLE:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
OUTDIR=${1:?usage: gpu_check.sh [--dry-run] OUTDIR}
mkdir -p "$OUTDIR"; OUTDIR=$(cd "$OUTDIR" && pwd)
PY=${PYTHON:-python3}

# CUDA's runtime, cuBLAS, cuRAND, cuDNN and NCCL: the toolkit's, or those of
# the node's Python wheels (nvidia/*/lib)
cuda_dirs=$(ls -d /usr/local/cuda/lib64 2>/dev/null; "$PY" - <<'PY' 2>/dev/null
import glob, site
for d in site.getsitepackages() + [site.getusersitepackages()]:
    for lib in sorted(set(glob.glob(d + "/nvidia/*/lib") + glob.glob(d + "/nvidia/cu*/lib"))):
        print(lib)
PY
)
export LD_LIBRARY_PATH="$B/lib:$(echo "$cuda_dirs" | paste -sd:)${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export GLOG_logtostderr=1

# ---- the bundle's contents
problems=()
need=(bin/caffe bin/test_fvvae.testbin bin/test_trunk_layers.testbin torch_trunks.py
      gpu_report.py nets/heads.csv nets/train_C512_T50.prototxt nets/train/solver.prototxt
      nets/train/train.prototxt nets/train/sets_lmdb/data.mdb)
for f in "${need[@]}"; do [ -s "$B/$f" ] || problems+=("missing $f"); done
for c in 512 2048; do for t in 50 784; do for l in columns sets; do
  [ -s "$B/nets/head_C${c}_T${t}_${l}.prototxt" ] || problems+=("missing nets/head_C${c}_T${t}_${l}.prototxt")
done; done; done
for n in vgg19_pool5_224_b128 resnet152_res5c_224_b64 vgg19_conv5_4_448_b16; do for e in caffe cudnn; do
  [ -s "$B/nets/trunk_${n}_${e}.prototxt" ] || problems+=("missing nets/trunk_${n}_${e}.prototxt")
done; done
libcaffe=$(ls "$B"/lib/libcaffe.so* 2>/dev/null | head -1)
if [ -z "$libcaffe" ]; then
  problems+=("missing lib/libcaffe.so")
else
  if grep -q "Cannot use GPU in CPU-only Caffe" "$libcaffe"; then
    problems+=("$libcaffe is a CPU-only build")
  fi
  # not `grep -q`: it stops reading at the first match, nm dies of SIGPIPE and,
  # under pipefail, a cuDNN build was reported as having none
  [ -n "$(nm -D "$libcaffe" 2>/dev/null | grep cudnnGetConvolutionForwardAlgorithm_v7)" ] \
    || problems+=("$libcaffe has no cuDNN (build with FVVAE_CUDNN=ON)")
fi
# libraries: those the node must provide (CUDA's, cuDNN, NCCL) may be absent here
missing=$(ldd "$B"/bin/* "$libcaffe" 2>/dev/null | awk '/not found/{print $1}' | sort -u)
node_libs=$(grep -E '^lib(cuda|cudart|cublas|cublasLt|curand|cudnn|nccl)[._]' <<<"$missing" | paste -sd' ')
other=$(grep -vE '^lib(cuda|cudart|cublas|cublasLt|curand|cudnn|nccl)[._]' <<<"$missing" | grep . | paste -sd' ')
[ -z "$other" ] || problems+=("libraries neither in the bundle nor the node's: $other")
if [ $dry = 0 ] && [ -n "$node_libs" ]; then
  problems+=("CUDA libraries not found on this node: $node_libs")
fi
if [ ${#problems[@]} -gt 0 ]; then
  printf 'gpu_check: %s\n' "${problems[@]}" | tee "$OUTDIR/bundle_problems.txt"
  exit 2
fi
if [ $dry = 1 ]; then
  {
    echo "gpu_check --dry-run: the bundle at $B is complete"
    echo "  $(du -sh "$B" | cut -f1) unpacked; libcaffe with CUDA and cuDNN: $(basename "$libcaffe")"
    echo "  left to the node: ${node_libs:-nothing}"
    echo "  plan (time limits, 492 s in all): gtest ours 75 s, Caffe's trunk layers 90 s;"
    echo "  caffe time: 6 trunk nets 25 s each, 8 heads + the train net 8 s each;"
    echo "  PyTorch 60 s; caffe train 45 s"
    "$PY" -c "import torch, torchvision" 2>/dev/null \
      && echo "  PyTorch: $("$PY" -c 'import torch; print(torch.__version__)')" \
      || echo "  PyTorch: not importable here (the node must have it)"
  } | tee "$OUTDIR/dry_run.txt"
  exit 0
fi

start=$(date +%s)
stamp() { echo "[gpu_check $(( $(date +%s) - start )) s] $*"; }
{
  date -u +"date: %Y-%m-%d %H:%M UTC"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  echo "CUDA (driver): $(nvidia-smi | sed -n 's/.*CUDA Version: *\([0-9.]*\).*/\1/p')"
  command -v nvcc >/dev/null && echo "nvcc: $(nvcc --version | tail -1)"
  "$PY" -c "import torch; print('torch', torch.__version__, 'CUDA', torch.version.cuda, 'cuDNN', torch.backends.cudnn.version())"
  echo "cores: $(nproc)"
  echo "libraries: $(ldd "$B/bin/caffe" | grep -E 'cudnn|cublas|cudart|nccl' | awk '{print $3}' | paste -sd' ')"
} > "$OUTDIR/machine.txt" 2>&1
cat "$OUTDIR/machine.txt"

stamp "gtest: our layers on the GPU (TestDtypesAndDevices types 2 and 3) and the agreement"
timeout 75 "$B/bin/test_fvvae.testbin" --gtest_filter='*/2.*:*/3.*:CPUGPUAgreementTest.*' \
  > "$OUTDIR/gtest_fvvae_gpu.log" 2>&1
rc_ours=$?
grep -E "^\[  (PASSED|FAILED)|^AGREEMENT" "$OUTDIR/gtest_fvvae_gpu.log"
stamp "gtest: Caffe's convolution, pooling, neuron, softmax tests, GPU and CuDNN cases"
timeout 90 "$B/bin/test_trunk_layers.testbin" --gtest_filter='*/2.*:*/3.*:CuDNN*' \
  > "$OUTDIR/gtest_trunk_gpu.log" 2>&1
rc_trunk=$?
grep -E "^\[  (PASSED|FAILED)" "$OUTDIR/gtest_trunk_gpu.log"

ms() {  # model, "Forward pass" or "Forward-Backward", log
  sed -n "s/.*Average $2: \([0-9.]*\) ms.*/\1/p" "$3" | tail -1
}
echo "net,forward_ms,forward_backward_ms" > "$OUTDIR/caffe_time.csv"
time_net() {  # prototxt, iterations, seconds allowed
  local model=$1 name log
  name=$(basename "$model" .prototxt); log="$OUTDIR/time_$name.log"
  timeout "$3" "$B/bin/caffe" time -model "$model" -iterations "$2" -gpu 0 > "$log" 2>&1
  echo "$name,$(ms "$model" "Forward pass" "$log"),$(ms "$model" "Forward-Backward" "$log")" \
    | tee -a "$OUTDIR/caffe_time.csv"
}
stamp "caffe time: trunks without and with cuDNN"
for model in "$B"/nets/trunk_*.prototxt; do time_net "$model" 5 25; done
stamp "caffe time: the FV-VAE heads and the train net"
for model in "$B"/nets/head_*.prototxt "$B/nets/train_C512_T50.prototxt"; do
  time_net "$model" 30 8
done

stamp "PyTorch: the same trunks, and the SGEMM rate"
timeout 60 "$PY" "$B/torch_trunks.py" --out "$OUTDIR/torch.csv" > "$OUTDIR/torch.log" 2>&1
cat "$OUTDIR/torch.log"

stamp "caffe train -gpu 0: the paper's net, 200 iterations, synthetic LMDB"
work=$(mktemp -d); cp -r "$B/nets/train/." "$work/"
(cd "$work" && timeout 45 "$B/bin/caffe" train -solver solver.prototxt -gpu 0) \
  > "$OUTDIR/train.log" 2>&1
grep -E "Iteration (0|200)\b.*loss|Optimization Done" "$OUTDIR/train.log"
rm -rf "$work"

stamp "report"
"$PY" "$B/gpu_report.py" "$OUTDIR" "$B/nets" > /dev/null
cat "$OUTDIR/gpu_check.md"
stamp "done"
[ $rc_ours = 0 ] && [ $rc_trunk = 0 ]
