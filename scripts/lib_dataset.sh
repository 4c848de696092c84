# Shared by the per-dataset scripts (sourced): input checks with messages that
# name what is missing and where it is expected, and the setup.
PY="$ROOT/.venv/bin/python"
die() { echo "$(basename "$0"): $*" >&2; exit 2; }
need_dir() { [ -d "$1" ] || die "missing $2: expected the folder $1"; }
need_file() { [ -f "$1" ] || die "missing $2: expected the file $1"; }
# need_weights TRUNK [PATH]: prints the caffemodel to use ("" for an embedded
# trunk), or stops naming the flag or variable. The trunk -> variable map is
# fvvae.trunks.zoo's (user_weights), read with the base interpreter
# (FVVAE_PYTHON, else python3) and the standard library only: it runs before
# the setup, so a missing file is named before 15 minutes of building.
need_weights() {
  local out err rc=0
  err=$(mktemp)
  out=$(PYTHONPATH="$ROOT" "${FVVAE_PYTHON:-python3}" -c 'import sys
from fvvae.trunks.zoo import weights_main
sys.exit(weights_main(sys.argv[1:]))' "$@" 2>"$err") || rc=$?
  if [ "$rc" != 0 ]; then
    local why; why=$(cat "$err"); rm -f "$err"
    die "${why:-need_weights $* failed (exit $rc)}"
  fi
  rm -f "$err"
  echo "$out"
}
setup() { "$ROOT/scripts/setup.sh" >/dev/null; }
# need_gpu ID: stops (one line, exit 2) unless Caffe has CUDA and device ID answers;
# an empty ID (no --gpu) is the CPU; with --slurm the submitting machine needs none. Run after setup, before any work.
need_gpu() {
  [ -n "${1:-}" ] || return 0
  [ -z "${slurm:-}" ] || return 0     # the jobs check their node's GPU themselves
  "$PY" - "$1" "$(basename "$0")" <<'PY' || exit 2
import sys
from fvvae.trunks.device import GpuUnavailable, require_gpu
try:
    require_gpu(int(sys.argv[1]), sys.argv[2])
except (GpuUnavailable, ValueError) as e:
    sys.exit(str(e))
PY
}
# gpu_args ID: the flags that pass --gpu ID on to a tool (none for the CPU)
gpu_args() { [ -z "${1:-}" ] || printf -- '--gpu\n%s\n' "$1"; }
# protocol RUN_PROTOCOL_OPTIONS: tools/run_protocol.py here, or with --slurm N
# (the variable slurm, and sbatch_opts from --sbatch) its four dependent Slurm
# submissions (scripts/slurm_protocol.sh), the rest of the script left to a
# rerun without --slurm once the jobs are done (every stage is then reused)
protocol() {
  if [ -n "${slurm:-}" ]; then
    "$ROOT/scripts/slurm_protocol.sh" --shards "$slurm" --sbatch "${sbatch_opts:-}" -- "$@"
  else
    "$PY" "$ROOT/tools/run_protocol.py" "$@"
  fi
}
# after_slurm: the line that says what comes after the submissions
after_slurm() {
  echo "submitted to Slurm (logs in each run's slurm/ folder); when the jobs are done, run"
  echo "the same command without --slurm: every stage is reused and the tables written"
}
