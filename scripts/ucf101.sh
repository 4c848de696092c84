#!/usr/bin/env bash
# UCF101 with the paper's protocol (sections 5.2-5.3, Tables 2-4): 25 frames
# per video (and optical flow), descriptor sets from a trunk, the six
# baselines, FV-VAE- and FV-VAE, one-vs-all SVMs, 10-crop testing, late fusion
# of the RGB and flow streams (and optionally external scores such as IDT's).
#
# usage: scripts/ucf101.sh [--root DIR] [--split 1|2|3] [--stream rgb|flow|both]
#          [--trunk vgg19_pool5|resnet152_res5c] [--weights F]
#          [--flow-trunk vgg19_flow_pool5] [--flow-weights F] [--frames N]
#          [--no-ten-crop] [--fuse-weight W] [--idt-scores NPZ] [--finetune ITERATIONS]
#          [--preprocess caffe|authors] [--gpu ID] [--out DIR] [--slurm N [--sbatch "OPTIONS"]]
#          [-- more tools/run_protocol.py options, e.g. --iterations 5000]
# --preprocess (RGB stream): caffe (default; OpenCV resize, the trunk's mean, as
# the authors' training) or authors (their extraction code: MATLAB imresize, mean 104/117/123).
# --finetune N first fine-tunes the RGB trunk on the training frames with SGD
# (Table 3's "pool5 fine-tuned"; tools/finetune_trunk.py).
# --slurm N submits each stream's protocol to Slurm as N-task job arrays
# (scripts/slurm_protocol.sh; the data preparation and --finetune run here);
# run again without --slurm when the jobs are done for the tables and fusion.
# Environment: UCF101_ROOT (holds UCF-101/ and ucfTrainTestlist/),
#   FVVAE_VGG19_WEIGHTS, FVVAE_RESNET152_WEIGHTS, FVVAE_VGG19_FLOW_WEIGHTS.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/scripts/lib_dataset.sh"
data=${UCF101_ROOT:-}; split=1; stream=rgb; trunk=vgg19_pool5; weights=""
flow_trunk=vgg19_flow_pool5; flow_weights=""; ten_crop=1; frames=25; fuse_weight=0.5; idt=""
out=""; extra=(); finetune=0; preprocess=caffe; gpu=""; slurm=""; sbatch_opts=""
while [ $# -gt 0 ]; do
  case $1 in
    --root) data=$2; shift 2 ;;           --split) split=$2; shift 2 ;;
    --stream) stream=$2; shift 2 ;;       --trunk) trunk=$2; shift 2 ;;
    --weights) weights=$2; shift 2 ;;     --flow-weights) flow_weights=$2; shift 2 ;;
    --flow-trunk) flow_trunk=$2; shift 2 ;;
    --frames) frames=$2; shift 2 ;;       --no-ten-crop) ten_crop=0; shift ;;
    --fuse-weight) fuse_weight=$2; shift 2 ;;
    --idt-scores) idt=$2; shift 2 ;;      --out) out=$2; shift 2 ;;
    --finetune) finetune=$2; shift 2 ;;   --gpu) gpu=$2; shift 2 ;;
    --preprocess) preprocess=$2; shift 2 ;;
    --slurm) slurm=$2; shift 2 ;;       --sbatch) sbatch_opts=$2; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
out=${out:-$ROOT/runs/ucf101_split$split}
case $stream in rgb|flow|both) ;; *) die "--stream must be rgb, flow or both" ;; esac
case $preprocess in caffe|authors) ;; *) die "--preprocess must be caffe or authors" ;; esac
# ---[ check what the run needs before anything heavy
[ -n "$data" ] || die "UCF101: set UCF101_ROOT (or --root) to the folder holding UCF-101/ and ucfTrainTestlist/"
need_dir "$data/UCF-101" "UCF101's videos (UCF-101/<Class>/v_<Class>_gXX_cYY.avi)"
need_file "$data/ucfTrainTestlist/classInd.txt" "UCF101's class index (ucfTrainTestlist/classInd.txt)"
need_file "$data/ucfTrainTestlist/trainlist0$split.txt" "split $split's training list"
need_file "$data/ucfTrainTestlist/testlist0$split.txt" "split $split's test list"
[ "$stream" = flow ] || weights=$(need_weights "$trunk" "$weights")
[ "$stream" = rgb ] || flow_weights=$(need_weights "$flow_trunk" "$flow_weights")
[ -z "$idt" ] || need_file "$idt" "the external (IDT) scores to fuse"
setup
need_gpu "$gpu"
mapfile -t on_gpu < <(gpu_args "$gpu")
# ---[ frames (and flow), lists, 10-crop test lists
flow_flag=(); [ "$stream" = rgb ] || flow_flag=(--flow)
"$PY" "$ROOT/tools/prepare_data.py" ucf101 --root "$data" --split "$split" "${flow_flag[@]}" --frames "$frames" --out "$out/prep"
runs=(); classes=$(wc -l < "$out/prep/classes.txt")
for s in rgb flow; do
  [ "$stream" = both ] || [ "$stream" = "$s" ] || continue
  test_list="$out/prep/split${split}_${s}_test.txt"
  if [ "$ten_crop" = 1 ]; then
    "$PY" "$ROOT/tools/ten_crop_list.py" --list "$test_list" --out "${test_list%.txt}_10crop.txt"
    test_list="${test_list%.txt}_10crop.txt"
  fi
  if [ $s = rgb ]; then t=$trunk; w=$weights; else t=$flow_trunk; w=$flow_weights; fi
  variant=""
  if [ $s = rgb ] && [ "$finetune" -gt 0 ]; then
    w=$("$PY" "$ROOT/tools/finetune_trunk.py" --trunk "$t" --weights "$w" \
        --list "$out/prep/split${split}_rgb_train.txt" --classes "$classes" \
        --iterations "$finetune" --out "$out/finetune" "${on_gpu[@]}" | tail -1)
    variant=fine-tuned
  fi
  protocol --train-list "$out/prep/split${split}_${s}_train.txt" \
    --test-list "$test_list" --trunk "$t" --weights "$w" --classes "$classes" --dataset ucf101 \
    --variant "$variant" --title "UCF101 split $split, $s stream, $t${variant:+, $variant}" \
    --out "$out/$s" "${on_gpu[@]}" --preprocess "$([ $s = rgb ] && echo "$preprocess" || echo caffe)" \
    "${extra[@]}"
  runs+=("$s")
done
if [ -n "$slurm" ]; then after_slurm; exit 0; fi
# ---[ late fusion of the streams' FV-VAE scores (Table 4), and of external scores
fuse=()
for s in "${runs[@]}"; do fuse+=(--scores "FV-VAE-$s" "$out/$s/eval/FV-VAE_scores.npz"); done
[ "${#runs[@]}" = 2 ] && fuse+=(--fuse "FV-VAE-(rgb+flow)=FV-VAE-rgb+FV-VAE-flow@$fuse_weight")
if [ -n "$idt" ]; then
  last=FV-VAE-${runs[0]}; [ "${#runs[@]}" = 2 ] && last="FV-VAE-(rgb+flow)"
  fuse+=(--scores IDT "$idt" --fuse "$last+IDT=$last+IDT@$fuse_weight")
fi
if [ "${#runs[@]}" = 2 ] || [ -n "$idt" ]; then
  "$PY" "$ROOT/tools/evaluate.py" --classes "$classes" --out "$out/fusion" "${fuse[@]}"
  echo "Late fusion ($out/fusion/results.md; the paper's Table 4: FV-VAE-pool5 83.9%,"
  echo "pool5 optical flow 89.5%, pool5 + flow 93.7%, res5c + flow 94.2%, + IDT 95.2%):"
  cat "$out/fusion/results.md"
fi
