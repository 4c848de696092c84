#!/usr/bin/env bash
# The whole streamed protocol (tools/run_protocol.py) on a Slurm cluster, in
# four submissions that depend on each other (scripts/slurm_protocol_job.sh):
#   1. a job array of N tasks over the training side's chunks (--shard i/N --side train)
#   2. the merge of their shards and the models: codebooks, FV-VAE training,
#      FIM, training FVs (--shards N --until models)
#   3. a job array of N tasks over the test side's chunks (--shard i/N --side test)
#   4. the merge of the test shards, the SVMs and REPORT.md (--shards N)
# Prints the four job ids. Every task resumes when requeued; the result is
# what one machine's `tools/run_protocol.py OPTIONS` writes.
#
# usage: scripts/slurm_protocol.sh --shards N [--logs DIR] [--sbatch "OPTIONS"] \
#          -- RUN_PROTOCOL_OPTIONS (--train-list, --test-list, --out, --trunk, --gpu ...)
#   --sbatch: options for every submission, e.g. "--partition gpu --gres gpu:1"
#   --logs:   the jobs' Slurm logs (default OUT/slurm)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
die() { echo "slurm_protocol.sh: $*" >&2; exit 2; }
shards=""; logs=""; sb=""
while [ $# -gt 0 ]; do
  case $1 in
    --shards) shards=$2; shift 2 ;;
    --logs) logs=$2; shift 2 ;;
    --sbatch) sb=$2; shift 2 ;;
    --) shift; break ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help; run_protocol.py's options go after --)" ;;
  esac
done
[[ "$shards" =~ ^[1-9][0-9]*$ ]] || die "--shards N (N >= 1) is needed"
[ $# -gt 0 ] || die "run_protocol.py's options are needed after --"
out=""; prev=""
for a in "$@"; do
  [ "$prev" = "--out" ] && out=$a
  case $a in --shard|--shards|--side|--until) die "$a is set by this script" ;; esac
  prev=$a
done
[ -n "$out" ] || die "run_protocol.py's --out is needed"
command -v sbatch >/dev/null || die "sbatch not found: this needs a Slurm cluster (Debian: slurm-client)"
[ -x "$ROOT/.venv/bin/python" ] || die "$ROOT/.venv is missing: run scripts/setup.sh first"
logs=${logs:-$out/slurm}; mkdir -p "$logs"
# shellcheck disable=SC2206
sbopts=($sb)
job=$ROOT/scripts/slurm_protocol_job.sh
# STEP DEPENDENCY ARRAY RUN_PROTOCOL_OPTIONS: the job id (the job script's own
# arguments, after its path, are run_protocol.py's options)
submit() {
  local step=$1 dep=$2 array=$3; shift 3
  local name="${step}_%j"; [ -z "$array" ] || name="${step}_%A_%a"
  sbatch --parsable ${dep:+--dependency=afterok:$dep} ${array:+--array=$array} \
    --export="ALL,FVVAE_ROOT=$ROOT,STEP=$step,SHARDS=$shards" --job-name="fvvae-$step" \
    --output="$logs/$name.log" "${sbopts[@]}" "$job" "$@" | cut -d';' -f1
}
train=$(submit train "" "0-$((shards - 1))" "$@")
models=$(submit models "$train" "" "$@")
test=$(submit test "$models" "0-$((shards - 1))" "$@")
report=$(submit report "$test" "" "$@")
echo "train $train models $models test $test report $report"
