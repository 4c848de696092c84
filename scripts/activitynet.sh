#!/usr/bin/env bash
# ActivityNet v1.3 with the paper's protocol (Table 5): 25 frames over each
# video's whole duration, descriptor sets from a trunk, GA and FV-VAE (and the
# other baselines), one-vs-all SVMs trained on the training subset, top-1,
# top-3 and mAP on the validation subset. Videos missing from the folder are
# listed in OUT/prep/problems.csv and skipped.
#
# usage: scripts/activitynet.sh [--annotations activity_net.v1-3.min.json] [--videos DIR]
#          [--trunk vgg19_pool5|resnet152_res5c] [--weights F] [--frames N] [--no-ten-crop] [--gpu ID] [--out DIR]
#          [--slurm N [--sbatch "OPTIONS"]]
#          [-- more tools/run_protocol.py options]
# Environment: ACTIVITYNET_JSON, ACTIVITYNET_VIDEOS, FVVAE_VGG19_WEIGHTS, FVVAE_RESNET152_WEIGHTS.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/scripts/lib_dataset.sh"
ann=${ACTIVITYNET_JSON:-}; videos=${ACTIVITYNET_VIDEOS:-}; trunk=vgg19_pool5; weights=""
ten_crop=1; frames=25; out=$ROOT/runs/activitynet; extra=(); gpu=""; slurm=""; sbatch_opts=""
while [ $# -gt 0 ]; do
  case $1 in
    --annotations) ann=$2; shift 2 ;;   --videos) videos=$2; shift 2 ;;
    --trunk) trunk=$2; shift 2 ;;       --weights) weights=$2; shift 2 ;;
    --frames) frames=$2; shift 2 ;;     --no-ten-crop) ten_crop=0; shift ;; --out) out=$2; shift 2 ;;
    --gpu) gpu=$2; shift 2 ;;
    --slurm) slurm=$2; shift 2 ;;       --sbatch) sbatch_opts=$2; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
[ -n "$ann" ] || die "ActivityNet: set ACTIVITYNET_JSON (or --annotations) to activity_net.v1-3.min.json"
need_file "$ann" "ActivityNet's annotation file (activity_net.v1-3.min.json)"
[ -n "$videos" ] || die "ActivityNet: set ACTIVITYNET_VIDEOS (or --videos) to the folder of videos named by id"
need_dir "$videos" "ActivityNet's videos (v_<id>.mp4 or <id>.<ext>)"
weights=$(need_weights "$trunk" "$weights")
setup
need_gpu "$gpu"
mapfile -t on_gpu < <(gpu_args "$gpu")
"$PY" "$ROOT/tools/prepare_data.py" activitynet --annotations "$ann" --videos "$videos" --frames "$frames" --out "$out/prep"
test_list="$out/prep/anet_rgb_validation.txt"
if [ "$ten_crop" = 1 ]; then
  "$PY" "$ROOT/tools/ten_crop_list.py" --list "$test_list" --out "${test_list%.txt}_10crop.txt"
  test_list="${test_list%.txt}_10crop.txt"
fi
classes=$(wc -l < "$out/prep/classes.txt")
protocol --train-list "$out/prep/anet_rgb_training.txt" \
  --test-list "$test_list" --trunk "$trunk" --weights "$weights" --classes "$classes" \
  --dataset activitynet --title "ActivityNet v1.3 validation, $trunk" --out "$out/$trunk" "${on_gpu[@]}" "${extra[@]}"
skipped=$(($(wc -l < "$out/prep/problems.csv") - 1))
[ "$skipped" = 0 ] || echo "($skipped videos skipped: see $out/prep/problems.csv)"
[ -z "$slurm" ] || after_slurm
