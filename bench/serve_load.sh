#!/usr/bin/env bash
# Load benchmark of `gutjoint serve` on loopback (bounded; see bench/README.md):
# 200 small jobs submitted at once, then 20,000 status requests over 64 keep-alive connections.
# Usage: bash bench/serve_load.sh [PROFILE]   (PROFILE: release (default) or test)
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${1:-release}
if [ "$profile" = release ]; then
  cargo build --release -q -p gutjoint-cli -p gutjoint-server --example serve_load
  dir=target/release
else
  cargo build --profile test -q -p gutjoint-cli -p gutjoint-server --example serve_load
  dir=target/debug
fi
"$dir/examples/serve_load" "$dir/gutjoint" --jobs 200 --status 20000 --connections 64 --workers 2
