#!/usr/bin/env bash
# Run Woodpecker: with no chat token in .env / the environment, the local demo chat.
# 运行啄木鸟：未配置聊天令牌时运行本地演示。
set -euo pipefail
cd "$(dirname "$0")"
source ./setup.sh
exec .venv/bin/woodpecker run "$@"
