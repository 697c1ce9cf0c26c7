#!/usr/bin/env bash
# The main job on the bundled real data: builds gutjoint and runs `gutjoint demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo build --release --quiet
./target/release/gutjoint demo -o gutjoint-demo
