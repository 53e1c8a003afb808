#!/usr/bin/env bash
# Run the whole test suite (installs what it needs first). 运行全部测试。
set -euo pipefail
cd "$(dirname "$0")"
source ./setup.sh
# The PostgreSQL tests start their own throwaway server (tests/pg.py); they need its binaries.
if ! command -v initdb >/dev/null && ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    echo "安装 PostgreSQL / installing PostgreSQL for its tests" >&2
    $sudo apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
# The desk's tests drive Debian's chromium through Playwright (never a downloaded browser), and
# its screenshots need a font with Chinese glyphs.
if [ ! -x /usr/bin/chromium ] || ! compgen -G '/usr/share/fonts/opentype/noto/NotoSansCJK-*' >/dev/null; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    echo "安装 chromium 与中文字体 / installing chromium and CJK fonts for the desk's tests" >&2
    $sudo apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        chromium fonts-noto-cjk >/dev/null
fi
.venv/bin/ruff check .
.venv/bin/ruff format --check .
# The layering in docs/architecture.md (pyproject.toml [tool.importlinter]).
.venv/bin/lint-imports --no-cache
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
