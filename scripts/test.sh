#!/usr/bin/env bash
# The project's test command (the README's, and what .ci/run calls): sets up
# whatever is missing (scripts/setup.sh: Debian packages, .venv, Caffe with our
# layers), then runs the whole suite with pytest: the layers' gtest binary
# (Caffe's GradientChecker), C++ vs Python agreement, eq. 11 in NumPy, a
# `caffe train` run, bad-input checks and the nvcc compile check.
# Extra arguments go to pytest (e.g. scripts/test.sh -k fisher).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FVVAE_WITH_TEST_DATA=1 "$ROOT/scripts/setup.sh"
cd "$ROOT"
exec "$ROOT/.venv/bin/python" -m pytest -ra "$ROOT/tests" "$@"
