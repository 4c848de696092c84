#!/usr/bin/env bash
# The project's test command (the README's, and what .ci/run calls): sets up
# whatever is missing (scripts/setup.sh: Debian packages, .venv, Caffe with our
# layers), then runs the whole suite with pytest: the layers' gtest binary
# (Caffe's GradientChecker), C++ vs Python agreement, eq. 11 in NumPy, a
# `caffe train` run, bad-input checks and the nvcc compile check.
# Extra arguments go to pytest (e.g. scripts/test.sh -k fisher).
#   scripts/test.sh --quick   the quick tier (pytest -m quick, at most 5 minutes
#                             on 2 cores): the layers' gtests and twins,
#                             eq. 11-13, configs and committed nets, bad inputs,
#                             one tiny end-to-end run on a folder of images
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
args=()
for a in "$@"; do
  if [ "$a" = "--quick" ]; then args+=(-m quick); else args+=("$a"); fi
done
FVVAE_WITH_TEST_DATA=1 "$ROOT/scripts/setup.sh"
cd "$ROOT"
exec "$ROOT/.venv/bin/python" -m pytest -ra "$ROOT/tests" "${args[@]}"
