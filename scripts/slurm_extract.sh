#!/usr/bin/env bash
#SBATCH --job-name=fvvae-extract
#SBATCH --cpus-per-task=1
# One shard of descriptor extraction, as a task of a Slurm job array
# (submitted by scripts/slurm_submit.sh, which sets the variables):
#   task i of N runs tools/extract_descriptors.py --shard i/N over LIST into
#   OUT.shard-i-of-N (and the same for MAPS and GLOBAL when given).
# Variables: FVVAE_ROOT (the repository), LIST, OUT, SHARDS; optional TRUNK
# (default open_nsfw), WEIGHTS, MAPS, GLOBAL, GPU (an id: --gpu), EXTRA
# (more extract_descriptors.py options). A killed task resumes when requeued.
set -euo pipefail
: "${FVVAE_ROOT:?set FVVAE_ROOT to the repository}" "${LIST:?}" "${OUT:?}" "${SHARDS:?}"
: "${SLURM_ARRAY_TASK_ID:?run this as a job array task (sbatch --array=0-N-1)}"
args=(--trunk "${TRUNK:-open_nsfw}" --list "$LIST" --out "$OUT"
      --shard "$SLURM_ARRAY_TASK_ID/$SHARDS")
[ -z "${WEIGHTS:-}" ] || args+=(--weights "$WEIGHTS")
[ -z "${MAPS:-}" ] || args+=(--maps "$MAPS")
[ -z "${GLOBAL:-}" ] || args+=(--global "$GLOBAL")
[ -z "${GPU:-}" ] || args+=(--gpu "$GPU")
# shellcheck disable=SC2206
[ -z "${EXTRA:-}" ] || args+=($EXTRA)
exec "$FVVAE_ROOT/.venv/bin/python" "$FVVAE_ROOT/tools/extract_descriptors.py" "${args[@]}"
