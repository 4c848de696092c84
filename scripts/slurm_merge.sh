#!/usr/bin/env bash
#SBATCH --job-name=fvvae-merge
#SBATCH --cpus-per-task=1
# Merges the shards of a Slurm extraction array (scripts/slurm_extract.sh)
# into OUT (and MAPS, GLOBAL), checking that every item of LIST is there;
# submitted by scripts/slurm_submit.sh with --dependency=afterok:ARRAY.
set -euo pipefail
: "${FVVAE_ROOT:?set FVVAE_ROOT to the repository}" "${LIST:?}" "${OUT:?}" "${SHARDS:?}"
for store in "$OUT" ${MAPS:-} ${GLOBAL:-}; do
  "$FVVAE_ROOT/.venv/bin/python" "$FVVAE_ROOT/tools/merge_shards.py" --kind lmdb \
    --out "$store" --shards "$SHARDS" --list "$LIST"
done
