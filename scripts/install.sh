#!/usr/bin/env bash
# Installs tsforecast and its development tools into the current Python environment.
#
# torch: a torch that is already installed (a CUDA build, say) is kept as it is. With none,
# the CPU build is installed first: pip would otherwise resolve `torch>=2.2` to the newest
# CUDA wheels, several GB that a machine without a GPU cannot use.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c "import torch" >/dev/null 2>&1; then
  if command -v nvidia-smi >/dev/null 2>&1; then
    "$PYTHON" -m pip install --quiet "torch>=2.2"
  else
    # A CPU wheel kept in pip's find-links (as on our CI machines) is taken without touching
    # an index; elsewhere PyTorch's CPU index serves the same release without CUDA libraries.
    # torch's own small dependencies come with the project install below.
    "$PYTHON" -m pip install --quiet --no-index --no-deps "torch==2.13.0" 2>/dev/null \
      || "$PYTHON" -m pip install --quiet "torch==2.13.0" --index-url https://download.pytorch.org/whl/cpu \
        --extra-index-url https://pypi.org/simple
  fi
fi
"$PYTHON" -m pip install --quiet -e ".[dev]"
# pyenv only sees new console scripts (`tsforecast`) after a rehash
if command -v pyenv >/dev/null 2>&1; then pyenv rehash || true; fi
