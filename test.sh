#!/usr/bin/env bash
# Run the whole test suite (installs what it needs first). 运行全部测试。
set -euo pipefail
cd "$(dirname "$0")"
source ./setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
