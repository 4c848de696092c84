#!/usr/bin/env bash
# Puts cuBLAS and cuRAND (headers, and with --libs the shared libraries with
# the unversioned .so links they lack) from the pinned PyPI wheels into
# FVVAE_CACHE_DIR/cuda-libs, for machines whose CUDA toolkit has only nvcc and
# the runtime. Prints the folder (with include/ and lib/).
#
# usage: scripts/cuda_libs.sh [--libs]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${FVVAE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/fvvae}
WHEELS=("nvidia-cublas==13.10.0.20" "nvidia-curand==10.4.5.25")
dest="$CACHE/cuda-libs"
want_libs=0; [ "${1:-}" = --libs ] && want_libs=1

if [ -f "$dest/include/cublas_v2.h" ] && [ -f "$dest/include/curand.h" ] \
   && { [ $want_libs = 0 ] || [ -e "$dest/lib/libcublas.so" ]; }; then
  echo "$dest"; exit 0
fi
PY="$ROOT/.venv/bin/python"; [ -x "$PY" ] || PY=python3
mkdir -p "$CACHE/wheels" "$dest"
"$PY" -m pip download -q --no-deps -d "$CACHE/wheels" "${WHEELS[@]}" >&2
for w in "$CACHE"/wheels/nvidia_cublas-13.10.0.20-*.whl "$CACHE"/wheels/nvidia_curand-10.4.5.25-*.whl; do
  [ -f "$w" ] || { echo "cuda_libs: wheel missing: $w" >&2; exit 2; }
  patterns=('nvidia/cu13/include/*')
  [ $want_libs = 1 ] && patterns+=('nvidia/cu13/lib/*')
  "$PY" - "$w" "$dest" "${patterns[@]}" <<'PYCODE'
import fnmatch, os, sys, zipfile
wheel, dest, patterns = sys.argv[1], sys.argv[2], sys.argv[3:]
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if any(fnmatch.fnmatch(name, p) for p in patterns) and not name.endswith("/"):
            rel = name.split("nvidia/cu13/", 1)[1]
            os.makedirs(os.path.join(dest, os.path.dirname(rel)), exist_ok=True)
            with z.open(name) as src, open(os.path.join(dest, rel), "wb") as out:
                out.write(src.read())
PYCODE
done
if [ $want_libs = 1 ]; then
  for so in "$dest"/lib/lib*.so.*; do
    base=${so%%.so.*}.so; [ -e "$base" ] || ln -s "$(basename "$so")" "$base"
  done
fi
echo "$dest"
