#!/usr/bin/env bash
# Descriptor extraction on a Slurm cluster: a job array of N shards
# (scripts/slurm_extract.sh) and the merge as a job that depends on it
# (scripts/slurm_merge.sh). Prints the two job ids.
#
# usage: scripts/slurm_submit.sh --list LIST --out OUT.lmdb --shards N [--trunk T]
#          [--weights F] [--maps M.lmdb] [--global G.lmdb] [--gpu ID] [--logs DIR]
#          [-- more sbatch options, e.g. --partition gpu --gres gpu:1]
# The merged OUT equals what one unsharded tools/extract_descriptors.py writes.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
die() { echo "slurm_submit.sh: $*" >&2; exit 2; }
list=""; out=""; shards=""; trunk=open_nsfw; weights=""; maps=""; global=""; gpu=""; logs=""
sb=()
while [ $# -gt 0 ]; do
  case $1 in
    --list) list=$2; shift 2 ;;     --out) out=$2; shift 2 ;;
    --shards) shards=$2; shift 2 ;; --trunk) trunk=$2; shift 2 ;;
    --weights) weights=$2; shift 2 ;; --maps) maps=$2; shift 2 ;;
    --global) global=$2; shift 2 ;; --gpu) gpu=$2; shift 2 ;;
    --logs) logs=$2; shift 2 ;;
    --) shift; sb=("$@"); break ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
[ -n "$list" ] && [ -n "$out" ] && [ -n "$shards" ] || die "--list, --out and --shards are needed"
[ -f "$list" ] || die "the list $list does not exist"
command -v sbatch >/dev/null || die "sbatch not found: this needs a Slurm cluster (Debian: slurm-client)"
abs() { [ -z "$1" ] || echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }
list=$(abs "$list"); mkdir -p "$(dirname "$out")"; out=$(abs "$out")
maps=$(abs "$maps"); global=$(abs "$global"); logs=${logs:-$(dirname "$out")}; mkdir -p "$logs"
vars="ALL,FVVAE_ROOT=$ROOT,LIST=$list,OUT=$out,SHARDS=$shards,TRUNK=$trunk,WEIGHTS=$weights"
vars="$vars,MAPS=$maps,GLOBAL=$global,GPU=$gpu"
array=$(sbatch --parsable --array="0-$((shards - 1))" --export="$vars" \
        --output="$logs/extract_%A_%a.log" "${sb[@]}" "$ROOT/scripts/slurm_extract.sh")
merge=$(sbatch --parsable --dependency="afterok:${array%%;*}" --export="$vars" \
        --output="$logs/merge_%j.log" "${sb[@]}" "$ROOT/scripts/slurm_merge.sh")
echo "array ${array%%;*} merge ${merge%%;*}"
