#!/usr/bin/env bash
# Install uv if missing, then the locked workspace (all services + dev tools) into .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v uv >/dev/null 2>&1 && [ ! -x "$HOME/.local/bin/uv" ]; then
  echo "installing uv with pip ..."
  python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv
fi
UV=$(command -v uv || echo "$HOME/.local/bin/uv")
"$UV" sync --all-packages --frozen --quiet
