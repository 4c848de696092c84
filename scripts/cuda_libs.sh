#!/usr/bin/env bash
# Puts NVIDIA libraries from their pinned PyPI wheels into
# FVVAE_CACHE_DIR/cuda-libs (include/ and, with --libs, lib/ with the
# unversioned .so links the wheels lack), for machines whose CUDA toolkit has
# only nvcc and the runtime. Always cuBLAS and cuRAND; with the words cudnn
# and nccl also cuDNN 9 (FVVAE_CUDNN) and NCCL (FVVAE_NCCL). Prints the folder.
#
# usage: scripts/cuda_libs.sh [--libs] [cudnn] [nccl]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${FVVAE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/fvvae}
dest="$CACHE/cuda-libs"
want_libs=0
# name==version, the folder inside the wheel, a header that shows it is unpacked
components=("nvidia-cublas==13.10.0.20 nvidia/cu13 cublas_v2.h"
            "nvidia-curand==10.4.5.25 nvidia/cu13 curand.h")
for arg in "$@"; do
  case $arg in
    --libs) want_libs=1 ;;
    cudnn) components+=("nvidia-cudnn-cu13==9.24.0.43 nvidia/cudnn cudnn_version.h") ;;
    nccl) components+=("nvidia-nccl-cu13==2.30.7 nvidia/nccl nccl.h") ;;
    *) echo "cuda_libs: unknown argument $arg (usage: cuda_libs.sh [--libs] [cudnn] [nccl])" >&2
       exit 2 ;;
  esac
done
PY="$ROOT/.venv/bin/python"; [ -x "$PY" ] || PY=python3
mkdir -p "$CACHE/wheels" "$dest"
for c in "${components[@]}"; do
  read -r spec inner header <<<"$c"
  name=${spec%%==*}; version=${spec##*==}
  stamp="$dest/.${name}-${version}"; [ $want_libs = 0 ] || stamp+=-libs
  [ -f "$stamp" ] && [ -f "$dest/include/$header" ] && continue
  "$PY" -m pip download -q --no-deps -d "$CACHE/wheels" "$spec" >&2
  wheel=$(ls "$CACHE"/wheels/"${name//-/_}"-"$version"-*.whl 2>/dev/null | head -1)
  [ -n "$wheel" ] || { echo "cuda_libs: wheel missing for $spec in $CACHE/wheels" >&2; exit 2; }
  patterns=("$inner/include/*")
  [ $want_libs = 1 ] && patterns+=("$inner/lib/*")
  "$PY" - "$wheel" "$dest" "$inner/" "${patterns[@]}" <<'PYCODE'
import fnmatch, os, sys, zipfile
wheel, dest, inner, patterns = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if any(fnmatch.fnmatch(name, p) for p in patterns) and not name.endswith("/"):
            rel = name.split(inner, 1)[1]
            os.makedirs(os.path.join(dest, os.path.dirname(rel)), exist_ok=True)
            with z.open(name) as src, open(os.path.join(dest, rel), "wb") as out:
                out.write(src.read())
PYCODE
  touch "$stamp"
done
if [ $want_libs = 1 ]; then
  for so in "$dest"/lib/lib*.so.*; do
    base=${so%%.so.*}.so; [ -e "$base" ] || ln -s "$(basename "$so")" "$base"
  done
fi
echo "$dest"
