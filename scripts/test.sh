#!/usr/bin/env bash
# The test command: set-up (idempotent), then formatting, lints, and every unit, CLI and
# conformance test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo fmt --all -- --check
cargo clippy --all-targets --quiet -- -D warnings
cargo test --all-targets
bash scripts/test-python.sh
