#!/usr/bin/env bash
# The test command: formatting, lints, then every unit, CLI and conformance test.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo clippy --all-targets --quiet -- -D warnings
cargo test --all-targets
