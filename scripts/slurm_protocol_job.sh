#!/usr/bin/env bash
#SBATCH --cpus-per-task=1
# One step of the streamed protocol on Slurm (submitted by
# scripts/slurm_protocol.sh, which sets the variables); its arguments are
# tools/run_protocol.py's options:
#   STEP=train|test  task i of a job array: --shard i/SHARDS --side STEP
#   STEP=models      --shards SHARDS --until models
#   STEP=report      --shards SHARDS
set -euo pipefail
: "${FVVAE_ROOT:?set FVVAE_ROOT to the repository}" "${STEP:?}" "${SHARDS:?}"
run=("$FVVAE_ROOT/.venv/bin/python" "$FVVAE_ROOT/tools/run_protocol.py" "$@")
case $STEP in
  train|test)
    : "${SLURM_ARRAY_TASK_ID:?run this step as a job array task (sbatch --array=0-N-1)}"
    exec "${run[@]}" --shard "$SLURM_ARRAY_TASK_ID/$SHARDS" --side "$STEP" ;;
  models) exec "${run[@]}" --shards "$SHARDS" --until models ;;
  report) exec "${run[@]}" --shards "$SHARDS" ;;
  *) echo "slurm_protocol_job.sh: STEP must be train, models, test or report, not $STEP" >&2
     exit 2 ;;
esac
