#!/usr/bin/env bash
# The evidence: sets up whatever is missing (scripts/setup.sh), then tests the
# paper's claims (docs/evidence.md) on Fashion-MNIST aligned and in the wild
# with the demo's protocol, and writes runs/evidence/EVIDENCE.md. Resumable:
# run it again after a stop and it continues. Arguments go to
# tools/evidence.py (--help lists them; --quick is CI's miniature).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$ROOT/scripts/setup.sh"
cd "$ROOT"
exec "$ROOT/.venv/bin/python" "$ROOT/tools/evidence.py" "$@"
