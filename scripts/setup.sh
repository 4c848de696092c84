#!/usr/bin/env bash
# One-command setup of FV-VAE on Caffe, from a fresh Debian 12 machine:
#   1. Debian packages Caffe's build needs (apt-get; skipped when present);
#   2. .venv/ with the pins of requirements.txt;
#   3. BVLC Caffe from verified source with our layers (CMakeLists.txt),
#      compiled through ccache so that an unchanged tree is not rebuilt;
#   4. .venv wired up: `.venv/bin/python -c "import caffe, fvvae"` works and
#      .venv/bin/caffe is the Caffe tool with our layers.
# Re-running it is cheap: every step checks what is already done.
#
# Environment: FVVAE_PYTHON (base interpreter, default python3),
# FVVAE_CAFFE_TARBALL (a local copy of Caffe's source tarball),
# FVVAE_CUDA=1 (build with CUDA), with it FVVAE_CUDNN=1 (Caffe's cuDNN layers,
# cuDNN 9 from the toolkit or the pinned wheel nvidia-cudnn-cu13) and
# FVVAE_NCCL=1 (multi-GPU training, NCCL from the toolkit or nvidia-nccl-cu13),
# FVVAE_JOBS, FVVAE_SKIP_APT=1.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
log() { printf '[setup] %s\n' "$*"; }

# ---[ 1. Debian packages
APT_PACKAGES=(build-essential cmake pkg-config patch ccache dpkg-dev xz-utils
  libboost-system-dev libboost-thread-dev libboost-filesystem-dev libboost-python-dev
  libgoogle-glog-dev libgflags-dev libprotobuf-dev protobuf-compiler libhdf5-dev
  liblmdb-dev libleveldb-dev libsnappy-dev libopenblas-dev libopencv-dev libvlfeat-dev
  dataset-fashion-mnist graphviz)
# the test suite's real video clips: the sample videos of opencv-doc (scripts/test.sh)
# and a one-node Slurm cluster that tests/test_slurm.py starts on localhost
if [ "${FVVAE_WITH_TEST_DATA:-0}" = 1 ]; then
  APT_PACKAGES+=(opencv-doc slurmctld slurmd slurm-client munge)
fi
PY=${FVVAE_PYTHON:-python3}
if ! "$PY" -c 'import venv, ensurepip' 2>/dev/null; then APT_PACKAGES+=(python3-venv); fi
if ! "$PY" -c 'import sysconfig, os, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' 2>/dev/null; then
  APT_PACKAGES+=(python3-dev)
fi
if [ "${FVVAE_SKIP_APT:-0}" != 1 ] && command -v dpkg-query >/dev/null; then
  missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
    log "installing Debian packages: ${missing[*]}"
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
fi

# ---[ 2. virtual environment
VENV="$ROOT/.venv"
if ! "$VENV/bin/python" -c 'import sys' 2>/dev/null; then
  log "creating $VENV with $("$PY" --version 2>&1)"
  rm -rf "$VENV"
  "$PY" -m venv "$VENV"
fi
req_stamp="$VENV/.fvvae-requirements.sha256"
req_sum=$(cat requirements.txt requirements-vlfeat.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$req_stamp" 2>/dev/null)" != "$req_sum" ]; then
  log "installing Python pins (requirements.txt)"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q -r requirements.txt
  # cyvlfeat compiles against Debian's VLFeat with the numpy and Cython above
  "$VENV/bin/python" -m pip install -q --no-build-isolation -r requirements-vlfeat.txt
  echo "$req_sum" > "$req_stamp"
fi

# ---[ 3. Caffe with our layers
export CCACHE_DIR=${CCACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ccache}
export CCACHE_BASEDIR="$ROOT"      # clones at other paths share the cache
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}
cmake_args=(-S "$ROOT" -B "$ROOT/build" -DFVVAE_PYTHON="$VENV/bin/python")
[ -n "${FVVAE_CAFFE_TARBALL:-}" ] && cmake_args+=(-DFVVAE_CAFFE_TARBALL="$FVVAE_CAFFE_TARBALL")
[ -n "${FVVAE_JOBS:-}" ] && cmake_args+=(-DFVVAE_JOBS="$FVVAE_JOBS")
if [ "${FVVAE_CUDA:-0}" = 1 ]; then
  cmake_args+=(-DFVVAE_CUDA=ON)
  cuda_home=${CUDA_HOME:-/usr/local/cuda}
  wheels=()   # what the toolkit lacks comes from the pinned wheels (scripts/cuda_libs.sh)
  [ "${FVVAE_CUDNN:-0}" = 1 ] && { cmake_args+=(-DFVVAE_CUDNN=ON)
    [ -f "$cuda_home/include/cudnn.h" ] || wheels+=(cudnn); }
  [ "${FVVAE_NCCL:-0}" = 1 ] && { cmake_args+=(-DFVVAE_NCCL=ON)
    [ -f "$cuda_home/include/nccl.h" ] || wheels+=(nccl); }
  if [ ! -f "$cuda_home/include/cublas_v2.h" ] || [ ${#wheels[@]} -gt 0 ]; then
    cmake_args+=(-DFVVAE_CUDA_LIBS_ROOT="$("$ROOT/scripts/cuda_libs.sh" --libs "${wheels[@]}")")
  fi
elif [ "${FVVAE_CUDNN:-0}" = 1 ] || [ "${FVVAE_NCCL:-0}" = 1 ]; then
  log "FVVAE_CUDNN and FVVAE_NCCL need FVVAE_CUDA=1 (a CUDA build of Caffe)"; exit 2
fi
log "configuring (cmake) and building Caffe with the FV-VAE layers"
mkdir -p "$ROOT/build"
cmake "${cmake_args[@]}" >"$ROOT/build/configure.log" 2>&1 || { tail -40 "$ROOT/build/configure.log"; exit 1; }
start=$(date +%s)
set +e
cmake --build "$ROOT/build" 2>&1 | tee "$ROOT/build/build.log" \
  | grep --line-buffered -E "error|Error|Built target (caffe|caffe.bin|pycaffe|test_fvvae.testbin|test.testbin)$"
rc=${PIPESTATUS[0]}
set -e
if [ "$rc" != 0 ]; then log "build failed; see build/build.log"; tail -30 "$ROOT/build/build.log"; exit 1; fi
log "build done in $(( $(date +%s) - start )) s ($(command -v ccache >/dev/null && ccache -s 2>/dev/null | grep -iE '^ *hits' | head -1 | tr -s ' '))"

# ---[ 4. wire .venv
CAFFE_SRC="$ROOT/build/caffe-src"
CAFFE_BUILD="$ROOT/build/caffe-build"
SITE=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
# the project's packages (pyproject.toml: fvvae, data_prep, bench), editable;
# again only when pyproject.toml changes or the checkout moved
proj_stamp="$VENV/.fvvae-project.sha256"
proj_sum=$( (cat "$ROOT/pyproject.toml"; echo "$ROOT") | sha256sum | cut -d' ' -f1)
if [ "$(cat "$proj_stamp" 2>/dev/null)" != "$proj_sum" ] \
   || ! "$VENV/bin/python" -c 'import importlib.metadata as m; m.version("fvvae-caffe")' 2>/dev/null; then
  log "installing the project into .venv (pip install -e .)"
  "$VENV/bin/python" -m pip install -q --no-deps --no-build-isolation -e "$ROOT" \
    >"$ROOT/build/pip-install-e.log" 2>&1 || { tail -20 "$ROOT/build/pip-install-e.log"; exit 1; }
  echo "$proj_sum" > "$proj_stamp"
fi
# pycaffe and our Python layers, from the build
printf '%s\n' "$ROOT/python_layers" "$CAFFE_SRC/python" > "$SITE/fvvae_caffe.pth"
# The caffe tool embeds the base interpreter: Python layers run from it need
# the venv's site-packages and our paths on PYTHONPATH.
cat > "$VENV/bin/caffe" <<WRAP
#!/usr/bin/env bash
# Caffe's command-line tool with the FV-VAE layers (written by scripts/setup.sh).
export PYTHONPATH="$SITE:$ROOT:$ROOT/python_layers:$CAFFE_SRC/python\${PYTHONPATH:+:\$PYTHONPATH}"
exec "$CAFFE_BUILD/tools/caffe" "\$@"
WRAP
chmod +x "$VENV/bin/caffe"

"$VENV/bin/python" - <<'PY'
import caffe, fvvae
need = set(fvvae.LAYER_TYPES)
have = set(caffe.layer_type_list())
missing = need - have
if missing:
    raise SystemExit("[setup] caffe lacks the layers %s" % sorted(missing))
print("[setup] ok: caffe from %s has %s" % (caffe.__file__, ", ".join(sorted(need))))
PY
