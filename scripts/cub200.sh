#!/usr/bin/env bash
# CUB-200-2011 with the paper's protocol (Table 6): VGG_19 conv5_4 + ReLU at
# 448 x 448 input, 784 L2-normalised descriptors per image, the baselines and
# FV-VAE, one-vs-all SVMs on the official split; run without and with the
# bounding-box crops (Table 6's "+box" columns).
#
# usage: scripts/cub200.sh [--root DIR] [--boxes no|yes|both] [--trunk vgg19_conv5_4]
#          [--weights F] [--finetune ITERATIONS] [--finetune-batch B] [--gpu ID] [--out DIR]
#          [--slurm N [--sbatch "OPTIONS"]] [-- more tools/run_protocol.py options]
# --finetune N first fine-tunes the trunk on the training images with SGD for N
# iterations (Table 6's "w/ ft" columns; tools/finetune_trunk.py).
# Environment: CUB_ROOT (holds CUB_200_2011/), FVVAE_VGG19_WEIGHTS.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/scripts/lib_dataset.sh"
data=${CUB_ROOT:-}; boxes=both; trunk=vgg19_conv5_4; weights=""; out=$ROOT/runs/cub200; extra=()
finetune=0; finetune_batch=32; gpu=""; slurm=""; sbatch_opts=""
while [ $# -gt 0 ]; do
  case $1 in
    --root) data=$2; shift 2 ;;     --boxes) boxes=$2; shift 2 ;;
    --trunk) trunk=$2; shift 2 ;;   --weights) weights=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;       --finetune) finetune=$2; shift 2 ;;
    --gpu) gpu=$2; shift 2 ;;       --finetune-batch) finetune_batch=$2; shift 2 ;;
    --slurm) slurm=$2; shift 2 ;;       --sbatch) sbatch_opts=$2; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
case $boxes in no|yes|both) ;; *) die "--boxes must be no, yes or both" ;; esac
[ -n "$data" ] || die "CUB-200-2011: set CUB_ROOT (or --root) to the folder holding CUB_200_2011/"
base=$data; [ -d "$data/CUB_200_2011" ] && base=$data/CUB_200_2011
for f in images.txt image_class_labels.txt train_test_split.txt bounding_boxes.txt classes.txt; do
  need_file "$base/$f" "CUB-200-2011's $f"
done
need_dir "$base/images" "CUB-200-2011's images (CUB_200_2011/images/<class>/<file>.jpg)"
weights=$(need_weights "$trunk" "$weights")
setup
need_gpu "$gpu"
mapfile -t on_gpu < <(gpu_args "$gpu")
variants=(); [ "$boxes" = yes ] || variants+=(no); [ "$boxes" = no ] || variants+=(yes)
for v in "${variants[@]}"; do
  flag=(); tag=""; variant="no box"
  if [ "$v" = yes ]; then flag=(--boxes); tag=_box; variant=box; fi
  "$PY" "$ROOT/tools/prepare_data.py" cub --root "$data" "${flag[@]}" --out "$out/prep"
  classes=$(wc -l < "$out/prep/classes.txt"); w=$weights
  if [ "$finetune" -gt 0 ]; then
    w=$("$PY" "$ROOT/tools/finetune_trunk.py" --trunk "$trunk" --weights "$weights" \
        --list "$out/prep/cub_train$tag.txt" --classes "$classes" --iterations "$finetune" --batch "$finetune_batch" \
        --out "$out/finetune$tag" "${on_gpu[@]}" | tail -1)
    tag=${tag}_ft; variant="$variant, fine-tuned"
  fi
  protocol --train-list "$out/prep/cub_train${tag%_ft}.txt" \
    --test-list "$out/prep/cub_test${tag%_ft}.txt" --trunk "$trunk" --weights "$w" \
    --classes "$classes" --per-item --chunk 500 --dataset cub \
    --variant "$variant" --title "CUB-200-2011, $variant, $trunk" --out "$out/${trunk}$tag" "${on_gpu[@]}" "${extra[@]}"
done
[ -z "$slurm" ] || after_slurm
