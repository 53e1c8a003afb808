# Sourced by run.sh and test.sh: makes .venv and installs the project once (again when
# pyproject.toml changes). Needs only python3 (>= 3.11) with venv, as on a fresh machine.
if ! python3 -c 'import sys, venv; assert sys.version_info >= (3, 11)' 2>/dev/null; then
    echo "需要 Python 3.11+ / Python 3.11+ with venv is required" >&2
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
        apt-get update -qq && apt-get install -y -qq python3 python3-venv >/dev/null
    else
        exit 1
    fi
fi
stamp=".venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -f "$stamp" ]; then
    [ -x .venv/bin/python ] || python3 -m venv .venv
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e '.[dev,wechat]'
    rm -f .venv/.installed-*
    touch "$stamp"
fi
