#!/usr/bin/env bash
# The main job: sets up whatever is missing (the same setup as the tests:
# scripts/setup.sh, which also installs Debian's dataset-fashion-mnist), then
# runs FV-VAE, FV-VAE- and the six baselines on embedded real data and writes
# runs/demo/REPORT.md. Arguments go to tools/demo.py (--help lists them;
# --quick is a reduced run, --sweep adds accuracy against dimension).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$ROOT/scripts/setup.sh"
cd "$ROOT"
exec "$ROOT/.venv/bin/python" "$ROOT/tools/demo.py" "$@"
