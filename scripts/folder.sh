#!/usr/bin/env bash
# Your own data through the whole protocol in one command: a folder of class
# folders of images (or of videos: 25 frames a video, as UCF101's), split by a
# seeded, stratified test fraction or by your own split files, every input
# checked before any work, then descriptor sets, the baselines, FV-VAE- and
# FV-VAE, one-vs-all SVMs; the report names your classes (docs/own_data.md).
#
# usage: scripts/folder.sh DIR [--videos [--flow] [--frames N]] [--test-fraction F | --split-dir D]
#          [--seed S] [--trunk open_nsfw|vgg19_pool5|resnet152_res5c] [--weights F]
#          [--title T] [--gpu ID] [--out OUT] [-- more tools/run_protocol.py options]
# DIR/<class name>/<files>; --split-dir D holds train.txt and test.txt, one file
# relative to DIR a line. Lists and classes.txt go to OUT/prep/, the run to
# OUT/TRUNK/ (REPORT.md). Default OUT: runs/folder_<name of DIR>.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/scripts/lib_dataset.sh"
data=""; videos=0; flow=0; fraction=0.3; split_dir=""; seed=0; trunk=open_nsfw; weights=""
title=""; gpu=""; out=""; extra=(); frames=25
while [ $# -gt 0 ]; do
  case $1 in
    --videos) videos=1; shift ;;          --flow) flow=1; shift ;;
    --frames) frames=$2; shift 2 ;;
    --test-fraction) fraction=$2; shift 2 ;; --split-dir) split_dir=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;           --trunk) trunk=$2; shift 2 ;;
    --weights) weights=$2; shift 2 ;;     --title) title=$2; shift 2 ;;
    --gpu) gpu=$2; shift 2 ;;             --out) out=$2; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) [ -z "$data" ] || die "one data folder, not $data and $1"; data=$1; shift ;;
  esac
done
[ -n "$data" ] || die "usage: scripts/folder.sh DIR [options] (see --help)"
need_dir "$data" "your data: a folder of class folders"
[ -z "$split_dir" ] || need_dir "$split_dir" "the split folder (train.txt, test.txt)"
data=$(cd "$data" && pwd)
name=$(basename "$data")
out=${out:-$ROOT/runs/folder_${name//[[:space:]]/_}}   # the lists cannot name files under spaces
weights=$(need_weights "$trunk" "$weights")
setup
need_gpu "$gpu"
mapfile -t on_gpu < <(gpu_args "$gpu")
# ---[ lists and classes.txt (checked: empty classes, split files naming missing files)
prep=(--root "$data" --out "$out/prep" --seed "$seed")
[ "$videos" = 1 ] && prep+=(--videos --frames "$frames")
[ "$flow" = 1 ] && prep+=(--flow)
if [ -n "$split_dir" ]; then prep+=(--split-dir "$split_dir"); else prep+=(--test-fraction "$fraction"); fi
"$PY" "$ROOT/tools/prepare_data.py" folder "${prep[@]}" || exit 2
if [ "$videos" = 1 ]; then
  lists=(--train-list "$out/prep/folder_rgb_train.txt" --test-list "$out/prep/folder_rgb_test.txt")
else   # one row an image, squashed to the trunk's 224 x 224 input
  lists=(--train-list "$out/prep/folder_train.txt" --test-list "$out/prep/folder_test.txt"
         --per-item --resize 224 224 --crop 224)
fi
# ---[ the protocol (every input checked again before any work: labels, classes, decoding)
protocol "${lists[@]}" --class-names "$out/prep/classes.txt" --trunk "$trunk" \
  --weights "$weights" --title "${title:-$name ($([ "$videos" = 1 ] && echo videos || echo images), $trunk)}" \
  --out "$out/$trunk" "${on_gpu[@]}" "${extra[@]}"
